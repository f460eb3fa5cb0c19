"""The GlitchTip STAND-IN image (microops-test/glitchtip-standin:6.0, tests/harness/images/glitchtip-standin)
against a REAL PostgreSQL (microops-test/postgres:17): migrations, the first superuser, an API token from
`manage.py shell`, the errors a client can run into (401, 403 "CSRF check Failed", 301 without the trailing
slash, 403 scope), duplicates (project "<name>-2", team 500), keys newest first and the DSN built from
GLITCHTIP_DOMAIN, an event sent with the real sentry-sdk and listed, registration closed, data kept in
PostgreSQL across restarts, and refusal without a database. These tests run against the stand-in, not
GlitchTip. Needs the engine and images from tests/harness/up."""

import json
import os
import pathlib
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

from _container import StandInContainer, docker

IMAGE = "microops-test/glitchtip-standin:6.0"
# The real PostgreSQL image built by the harness; GLITCHTIP_STANDIN_POSTGRES_IMAGE overrides it (any image
# with the official postgres image's environment: POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD).
POSTGRES_IMAGE = os.environ.get("GLITCHTIP_STANDIN_POSTGRES_IMAGE", "microops-test/postgres:17")
PG_PASSWORD = "pg-" + uuid.uuid4().hex[:12]
SUPERUSER = "admin@example.com"
# The program the sentry role runs in GlitchTip's shell to make its API token: the role's own file.
TOKEN_PROGRAM = (pathlib.Path(__file__).resolve().parents[2] / "roles" / "sentry" / "files"
                 / "glitchtip_api_token.py").read_text()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StandIn(StandInContainer):
    PRODUCT = "glitchtip"
    IMAGE = IMAGE
    PORT = 8000
    DATA = "/code/uploads"
    READY_PATH = "/_health/"
    REQUEST_LINE = re.compile(r'^glitchtip-standin: \S+ "(GET|POST|PUT|DELETE|HEAD|PATCH) (\S+) HTTP/1\.[01]" (\d+)')

    def __init__(self, volume=None, env=None, mounts=(), network=None, host_port=None, args=()):
        super().__init__(volume, env, mounts, network, host_port=host_port)
        self.ARGS = args  # pylint: disable=invalid-name

    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        """(status, parsed JSON or text, response headers); redirects are not followed."""
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=20) as response:
                text, status, got = response.read().decode(), response.status, response.headers
        except urllib.error.HTTPError as exc:
            text, status, got = exc.read().decode(), exc.code, exc.headers
        try:
            return status, json.loads(text), got
        except ValueError:
            return status, text, got


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def run_once(network, env, *command, stdin=None):
    """`docker run --rm` of the stand-in image (run-migrate.sh, manage.py ...): (exit code, output)."""
    args = ["run", "--rm", "-i", "--network", network]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    result = subprocess.run(["docker", *args, IMAGE, *command], input=stdin, capture_output=True, text=True,
                            timeout=120, check=False)
    return result.returncode, result.stdout + result.stderr


def exec_in(container, *command, env=None, stdin=""):
    args = ["exec", "-i"]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    result = subprocess.run(["docker", *args, container, *command], input=stdin, capture_output=True, text=True,
                            timeout=120, check=False)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture(name="postgres", scope="module")
def postgres_fixture():
    """A real PostgreSQL on a network of its own: (network, container name)."""
    if docker("image", "inspect", POSTGRES_IMAGE, check=False).returncode != 0:
        pytest.skip(f"{POSTGRES_IMAGE} is not built (tests/harness/up)")
    suffix = uuid.uuid4().hex[:8]
    network, name = f"h11-standin-net-{suffix}", f"h11-standin-pg-{suffix}"
    docker("network", "create", network)
    try:
        docker("run", "-d", "--name", name, "--network", network, "-e", "POSTGRES_USER=glitchtip",
               "-e", "POSTGRES_DB=glitchtip", "-e", f"POSTGRES_PASSWORD={PG_PASSWORD}", POSTGRES_IMAGE)
        deadline = time.monotonic() + 60
        while docker("exec", name, "pg_isready", "-U", "glitchtip", "-d", "glitchtip", "-h", "127.0.0.1",
                     check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL not ready:\n" + docker("logs", name, check=False).stderr)
            time.sleep(0.5)
        for database in ("aio", "empty"):
            docker("exec", name, "psql", "-U", "glitchtip", "-d", "glitchtip", "-c", f"CREATE DATABASE {database}")
        yield network, name
    finally:
        docker("rm", "-f", name, check=False)
        docker("network", "rm", network, check=False)


def glitchtip_env(pg_host, port=8000, database="glitchtip", **extra):
    return {"SECRET_KEY": "k" * 50, "DATABASE_URL": f"postgres://glitchtip:{PG_PASSWORD}@{pg_host}:5432/{database}",
            "VALKEY_URL": "", "GLITCHTIP_DOMAIN": f"http://127.0.0.1:{port}", "DEFAULT_FROM_EMAIL": "gt@example.com",
            "EMAIL_URL": "consolemail://", "ENABLE_USER_REGISTRATION": "false",
            "ENABLE_ORGANIZATION_CREATION": "false", "PORT": "8000", **extra}


@pytest.fixture(name="tracker", scope="module")
def tracker_fixture(postgres):
    """Migrated database, web and worker containers, the superuser and the collection's API token."""
    network, pg_host = postgres
    port = free_port()
    env = glitchtip_env(pg_host, port)
    code, output = run_once(network, env, "./bin/run-migrate.sh")
    assert code == 0, output
    web = StandIn(env=env, network=network, host_port=port)
    worker = StandIn(env=env, network=network, args=("./bin/run-worker.sh",))
    try:
        web.run()
        # Before any user exists, GlitchTip keeps registration open (apps/users/utils.py).
        assert web.call("GET", "/api/settings/")[1]["enableUserRegistration"] is True
        code, out, err = exec_in(web.name, "./manage.py", "createsuperuser", "--noinput",
                                 env={"DJANGO_SUPERUSER_EMAIL": SUPERUSER, "DJANGO_SUPERUSER_PASSWORD": "pw-" + "x" * 20})
        assert (code, out.strip()) == (0, "Superuser created successfully."), err
        code, out, err = exec_in(web.name, "./manage.py", "shell", env={"SENTRY_TOKEN_EMAIL": SUPERUSER},
                                 stdin=TOKEN_PROGRAM)
        assert code == 0, err
        worker.run(wait=False)
        yield {"web": web, "worker": worker, "token": out.strip(), "env": env, "network": network, "port": port,
               "migrate_output": output}
    finally:
        web.remove()
        worker.remove()


def test_standin_migrate_superuser_and_token(tracker):
    assert "Applying users." in tracker["migrate_output"]
    assert re.fullmatch(r"[0-9a-f]{64}", tracker["token"])
    code, output = run_once(tracker["network"], tracker["env"], "./bin/run-migrate.sh")
    assert code == 0 and "No migrations to apply." in output
    web = tracker["web"]
    # Django's createsuperuser on an existing email (USERNAME_FIELD email, case-insensitive collation).
    code, out, err = exec_in(web.name, "./manage.py", "createsuperuser", "--noinput",
                             env={"DJANGO_SUPERUSER_EMAIL": SUPERUSER.upper(), "DJANGO_SUPERUSER_PASSWORD": "x"})
    assert code == 1 and err.strip() == "CommandError: Error: That email is already taken."
    code, out, err = exec_in(web.name, "./manage.py", "createsuperuser", "--noinput")
    assert code == 1 and "You must use --email with --noinput." in err
    # The shell's doubles are strict: only the token program's names exist.
    code, out, err = exec_in(web.name, "./manage.py", "shell", "-c", "from django.db import models")
    assert code == 1 and "ModuleNotFoundError" in err
    code, out, err = exec_in(web.name, "./manage.py", "shell", env={"SENTRY_TOKEN_EMAIL": "nobody@example.com"},
                             stdin=TOKEN_PROGRAM)
    assert code == 1 and "User matching query does not exist." in err
    code, out, err = exec_in(web.name, "./manage.py", "shell", "-c",
                             "from apps.api_tokens.models import APIToken\n"
                             "from django.contrib.auth import get_user_model\n"
                             f"t = APIToken.objects.create(user=get_user_model().objects.get(email='{SUPERUSER}'))\n"
                             "t.add_permissions(['org:fly'])")
    assert code == 1 and "ValueError" in err


def test_standin_registration_closed(tracker):
    web = tracker["web"]
    status, body, dummy = web.call("GET", "/api/settings/")
    assert status == 200
    assert (body["enableUserRegistration"], body["enableOrganizationCreation"]) == (False, False)
    assert body["version"] == "6.0" and body["socialApps"] == []
    status, body, headers = web.call("GET", "/_allauth/browser/v1/auth/session")
    assert status == 401 and body["data"]["flows"] == [{"id": "login"}]
    cookie = headers["Set-Cookie"].split(";")[0]
    signup = {"email": "new@example.com", "password": "a-long-password-1"}
    status, body, dummy = web.call("POST", "/_allauth/browser/v1/auth/signup", signup)
    assert status == 403 and "CSRF verification failed" in body
    status, body, dummy = web.call("POST", "/_allauth/browser/v1/auth/signup", signup,
                                   headers={"Cookie": cookie, "X-CSRFToken": cookie.split("=", 1)[1]})
    assert (status, body) == (403, {"status": 403})


def test_standin_auth_errors_and_trailing_slash(tracker):
    web, token = tracker["web"], tracker["token"]
    assert web.call("GET", "/api/0/organizations/")[:2] == (401, {"detail": "Unauthorized"})
    assert web.call("GET", "/api/0/organizations/", token="0" * 64)[:2] == (401, {"detail": "Unauthorized"})
    for method in ("POST", "PUT", "DELETE"):
        path = "/api/0/organizations/" if method == "POST" else "/api/0/projects/o/p/"
        assert web.call(method, path, {"name": "x"}, token="0" * 64)[:2] == (403, {"detail": "CSRF check Failed"})
    status, dummy, headers = web.call("POST", "/api/0/organizations", {"name": "x"}, token=token)
    assert status == 301 and headers["Location"] == "/api/0/organizations/"
    status, dummy, headers = web.call("GET", "/api/0/organizations/o/teams", token=token)
    assert status == 301 and headers["Location"] == "/api/0/organizations/o/teams/"
    assert web.call("GET", "/api/0/organizations/nowhere/", token=token)[:2] == (404, {"detail": "Not Found"})
    # A token without the view's scope: 403 "Permission denied" (glitchtip/api/permissions.py).
    code, out, err = exec_in(web.name, "./manage.py", "shell", "-c",
                             "from apps.api_tokens.models import APIToken\n"
                             "from django.contrib.auth import get_user_model\n"
                             f"t = APIToken.objects.create(user=get_user_model().objects.get(email='{SUPERUSER}'))\n"
                             "t.add_permissions(['event:read'])\nprint(t.token)")
    assert code == 0, err
    assert web.call("GET", "/api/0/organizations/", token=out.strip())[:2] == (403, {"detail": "Permission denied"})


def test_standin_organization_team_project_keys(tracker):
    web, token = tracker["web"], tracker["token"]
    status, org, dummy = web.call("POST", "/api/0/organizations/", {"name": "Micro Ops"}, token=token)
    assert status == 201 and org["slug"] == "micro-ops" and isinstance(org["id"], str)
    assert org["teams"] == [] and org["projects"] == [] and "org:admin" in org["access"]
    # The superuser may create more organisations; a taken slug gets a random suffix.
    status, other, dummy = web.call("POST", "/api/0/organizations/", {"name": "Micro Ops"}, token=token)
    assert status == 201 and re.fullmatch(r"micro-ops-[a-z0-9]{2,}", other["slug"])
    assert [o["slug"] for o in web.call("GET", "/api/0/organizations/", token=token)[1]][0] in (
        "micro-ops", other["slug"])
    status, team, dummy = web.call("POST", "/api/0/organizations/micro-ops/teams/", {"slug": "stack"}, token=token)
    assert status == 201 and team["slug"] == "stack" and team["isMember"] is True and team["memberCount"] == 1
    status, body, dummy = web.call("POST", "/api/0/organizations/micro-ops/teams/", {"slug": "stack"}, token=token)
    assert status == 500  # duplicate team slug: unhandled IntegrityError in GlitchTip
    assert web.call("POST", "/api/0/organizations/micro-ops/teams/", {"slug": "a b"}, token=token)[0] == 422
    assert [t["slug"] for t in web.call("GET", "/api/0/organizations/micro-ops/teams/", token=token)[1]] == ["stack"]
    status, project, dummy = web.call("POST", "/api/0/teams/micro-ops/stack/projects/",
                                      {"name": "web", "slug": "ignored", "platform": "python"}, token=token)
    assert status == 201 and (project["slug"], project["name"], project["platform"]) == ("web", "web", "python")
    assert isinstance(project["id"], str) and project["isMember"] is True and project["dateCreated"].endswith("Z")
    status, second, dummy = web.call("POST", "/api/0/teams/micro-ops/stack/projects/", {"name": "web"}, token=token)
    assert status == 201 and second["slug"] == "web-2"
    assert web.call("POST", "/api/0/teams/micro-ops/nope/projects/", {"name": "x"}, token=token)[0] == 404
    listed = web.call("GET", "/api/0/organizations/micro-ops/projects/", token=token)[1]
    assert [(p["slug"], [t["slug"] for t in p["teams"]]) for p in listed] == [("web", ["stack"]), ("web-2", ["stack"])]
    status, keys, headers = web.call("GET", "/api/0/projects/micro-ops/web/keys/", token=token)
    assert status == 200 and len(keys) == 1 and headers["X-Hits"] == "1"
    first = keys[0]
    assert first["dsn"]["public"] == f"http://{uuid.UUID(first['public']).hex}@127.0.0.1:{tracker['port']}/{project['id']}"
    assert first["projectID"] == int(project["id"]) and first["label"] == ""
    status, newer, dummy = web.call("POST", "/api/0/projects/micro-ops/web/keys/", {"name": "second"}, token=token)
    assert status == 201
    keys = web.call("GET", "/api/0/projects/micro-ops/web/keys/", token=token)[1]
    assert [k["id"] for k in keys] == [newer["id"], first["id"]]  # newest first
    assert web.call("GET", "/api/0/projects/micro-ops/nothing/keys/", token=token)[:2] == (200, [])
    status, body, dummy = web.call("GET", "/api/0/projects/micro-ops/web/", token=token)
    assert status == 200 and body["organization"]["slug"] == "micro-ops"
    assert web.call("DELETE", "/api/0/projects/micro-ops/web-2/", token=token)[0] == 204
    assert web.call("GET", "/api/0/projects/micro-ops/web-2/", token=token)[:2] == (404, {"detail": "Not Found"})
    status, org, dummy = web.call("GET", "/api/0/organizations/micro-ops/", token=token)
    assert status == 200 and [t["slug"] for t in org["teams"]] == ["stack"]


def wait_for(predicate, what, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def test_standin_event_from_sentry_sdk_is_listed(tracker):
    import sentry_sdk  # pylint: disable=import-outside-toplevel
    web, token = tracker["web"], tracker["token"]
    web.call("POST", "/api/0/organizations/", {"name": "ingest"}, token=token)
    web.call("POST", "/api/0/organizations/ingest/teams/", {"slug": "t"}, token=token)
    web.call("POST", "/api/0/teams/ingest/t/projects/", {"name": "svc", "platform": "python"}, token=token)
    dsn = web.call("GET", "/api/0/projects/ingest/svc/keys/", token=token)[1][0]["dsn"]["public"]
    client = sentry_sdk.Client(dsn, default_integrations=False)
    event_id = None
    try:
        with sentry_sdk.new_scope() as scope:
            scope.set_client(client)
            try:
                raise RuntimeError("stand-in ingest check")
            except RuntimeError as exc:
                event_id = scope.capture_exception(exc)
        client.flush(timeout=10)
    finally:
        client.close()
    assert ("POST", f"/api/{dsn.rsplit('/', 1)[1]}/envelope/", 200) in web.requests()
    issues = wait_for(lambda: web.call("GET", "/api/0/projects/ingest/svc/issues/", token=token)[1], "the issue")
    assert issues[0]["title"] == "RuntimeError: stand-in ingest check" and issues[0]["count"] == "1"
    assert issues[0]["shortId"] == "SVC-1" and issues[0]["type"] == "error"
    events = web.call("GET", "/api/0/projects/ingest/svc/events/", token=token)[1]
    assert [e["eventID"] for e in events] == [event_id]
    # Wrong keys: the envelope view answers 403, the store endpoint 401 (apps/event_ingest).
    project_id = dsn.rsplit("/", 1)[1]
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={uuid.uuid4().hex}, sentry_version=7"}
    assert web.call("POST", f"/api/{project_id}/envelope/", raw=b"{}\n", headers=auth)[:2] == (
        403, {"detail": "Denied"})
    assert web.call("POST", f"/api/{project_id}/store/", {"message": "x"}, headers=auth)[:2] == (
        401, {"detail": "Invalid DSN"})
    key = dsn.split("//", 1)[1].split("@", 1)[0]
    status, body, dummy = web.call("POST", f"/api/{project_id}/store/?sentry_key={key}", {"message": "hello"})
    assert status == 200 and re.fullmatch(r"[0-9a-f]{32}", body["event_id"])
    wait_for(lambda: len(web.call("GET", "/api/0/projects/ingest/svc/issues/", token=token)[1]) == 2, "2 issues")


def test_standin_data_survives_restart_and_new_container(tracker):
    web, token = tracker["web"], tracker["token"]
    web.call("POST", "/api/0/organizations/", {"name": "persist"}, token=token)
    web.restart()
    assert web.call("GET", "/api/0/organizations/persist/", token=token)[0] == 200
    # A new container on a new volume finds everything: the data is in PostgreSQL.
    other = StandIn(env=tracker["env"], network=tracker["network"])
    try:
        other.run()
        assert other.call("GET", "/api/0/organizations/persist/", token=token)[0] == 200
    finally:
        other.remove()


def test_standin_refuses_without_database_or_settings(postgres):
    network, pg_host = postgres
    code, output = run_once(network, glitchtip_env("nowhere"), "./bin/run-migrate.sh")
    assert code == 1 and "django.db.utils.OperationalError" in output
    code, output = run_once(network, glitchtip_env(pg_host, SECRET_KEY=""), "./manage.py", "migrate")
    assert code == 1 and "ImproperlyConfigured: The SECRET_KEY setting must not be empty." in output
    # Web without a database, on a database not migrated, and with Valkey unreachable: not healthy.
    for env in (glitchtip_env("nowhere"), glitchtip_env(pg_host, database="empty"),
                glitchtip_env(pg_host, VALKEY_URL="redis://nowhere:6379/0")):
        web = StandIn(env=env, network=network)
        try:
            web.run(wait=False)
            port = docker("port", web.name, "8000/tcp").stdout.split(":")[-1].strip()
            web.base = f"http://127.0.0.1:{port}"
            status = wait_for(lambda: _status(web, "/_health/"), "an answer")
            assert status == 500, web.logs()
        finally:
            web.remove()


def _status(web, path):
    try:
        return web.call("GET", path)[0]
    except OSError:
        return None


def test_standin_secrets_from_files_and_all_in_one(postgres, tmp_path):
    """DATABASE_HOST components and *_FILE variables (django-environ FileAwareEnv reads the file verbatim: a
    trailing newline is part of the password), SERVER_ROLE=all_in_one migrating by itself."""
    network, pg_host = postgres
    for name, content in (("pw", PG_PASSWORD), ("pw-newline", PG_PASSWORD + "\n"), ("key", "s" * 50)):
        (tmp_path / name).write_text(content)
        os.chmod(tmp_path / name, 0o444)
    env = {"SECRET_KEY_FILE": "/run/secrets/secret_key", "DATABASE_HOST": pg_host, "DATABASE_PORT": "5432",
           "DATABASE_NAME": "aio", "DATABASE_USER": "glitchtip", "DATABASE_PASSWORD_FILE": "/run/secrets/db",
           "VALKEY_URL": "", "GLITCHTIP_DOMAIN": "http://127.0.0.1:8000", "SERVER_ROLE": "all_in_one"}
    bad = StandIn(env=env, network=network, mounts=(f"{tmp_path}/key:/run/secrets/secret_key:ro",
                                                    f"{tmp_path}/pw-newline:/run/secrets/db:ro"))
    try:
        bad.run(wait=False)
        assert docker("wait", bad.name).stdout.strip() == "1"
        assert "password authentication failed" in bad.logs()
    finally:
        bad.remove()
    good = StandIn(env=env, network=network, mounts=(f"{tmp_path}/key:/run/secrets/secret_key:ro",
                                                     f"{tmp_path}/pw:/run/secrets/db:ro"))
    try:
        good.run()
        assert "Applying users." in good.logs()
        assert good.call("GET", "/api/settings/")[1]["enableUserRegistration"] is True  # no user yet
    finally:
        good.remove()
