"""The local image set's real programs: Prometheus, Alertmanager and node_exporter from Debian's
packages, laid out like the official images (tests/harness/images/*/Dockerfile cite them). These
tests check what the programs do, which the collection relies on: each serves /metrics as
Prometheus 3 requires, and the promtool and amtool the monitoring role validates configs with
accept a good config and reject a broken one. PostgreSQL 17, Valkey 8.1 and their exporters (the
sentry role's backend) initialise, authenticate, back up and restore, answer and report up as the
role relies on. The app image (microops-test/app:1), a small real service of our own standing in
for a user's microservice, runs hardened and answers, counts, logs, writes to the real SeaweedFS,
calls another app container and reports an error through the real sentry-sdk. They count as
product tests (stage `images`).

Tests that only read back an image's settings from its own Dockerfile (user, entrypoint, ports,
volumes) are harness checks, in tests/harness/checks (stage `harness-checks`, not counted; the
split is explained there). Needs the engine and images from tests/harness/up."""

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest

_spec = importlib.util.spec_from_file_location(
    "harness_images", os.path.join(os.path.dirname(os.path.abspath(__file__)), "images.py"))
harness_images = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness_images)

ALERTMANAGER_CONFIG = "route:\n  receiver: none\nreceivers:\n  - name: none\n"

# name: port inside the container, readiness path
IMAGES = {
    "prometheus": ("9090/tcp", "/-/ready"),
    "alertmanager": ("9093/tcp", "/-/ready"),
    "node-exporter": ("9100/tcp", "/metrics"),
}


def tag(name):
    """The full tag of a harness image, from the image list tests/harness/images.py builds."""
    (found,) = [image.tag for image in harness_images.IMAGES
                if image.tag.split("/", 1)[1].split(":", 1)[0] == name]
    return found


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check,
                          timeout=120)


def get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.headers.get("Content-Type"), response.read().decode()


@pytest.fixture(name="running")
def running_fixture(request):
    """Start an image with its port published on loopback; yield its base URL."""
    name = request.param
    port, ready = IMAGES[name]
    image = tag(name)
    container = f"microops-harness-test-{name}"
    docker("rm", "-f", container, check=False)
    args = ["run", "-d", "--name", container, "-p", f"127.0.0.1::{port.split('/')[0]}"]
    if name == "alertmanager":  # like the official image, it ships no configuration
        args += ["-e", "CONFIG=" + ALERTMANAGER_CONFIG, "--entrypoint", "/bin/sh", image, "-c",
                 'printf %s "$CONFIG" > /etc/alertmanager/alertmanager.yml && exec /bin/alertmanager '
                 "--config.file=/etc/alertmanager/alertmanager.yml --storage.path=/alertmanager"]
    else:
        args.append(image)
    docker(*args)
    try:
        host_port = docker("port", container, port).stdout.split(":")[-1].strip()
        base = f"http://127.0.0.1:{host_port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(base + ready)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                logs = docker("logs", container, check=False)
                pytest.fail(f"{image} not ready within 30 s:\n{logs.stdout}{logs.stderr}")
            time.sleep(0.5)
        yield container, base
    finally:
        docker("rm", "-f", container, check=False)


@pytest.mark.parametrize("running", sorted(IMAGES), indirect=True)
def test_image_serves_metrics_as_prometheus_3_requires(running):
    container, base = running
    status, content_type, body = get(base + "/metrics")
    assert status == 200
    # Prometheus 3 refuses a scrape without a valid exposition Content-Type.
    assert content_type.startswith("text/plain; version=0.0.4")
    assert "process_start_time_seconds" in body


def test_promtool_of_the_image_rejects_a_broken_config():
    image = tag("prometheus")
    ok = docker("run", "--rm", "--entrypoint", "/bin/promtool", image,
                "check", "config", "/etc/prometheus/prometheus.yml", check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = docker("run", "--rm", "--entrypoint", "/bin/sh", image, "-c",
                    "printf 'scrape_configs:\\n  - job_name: x\\n    bogus_key: 1\\n' > /tmp/p.yml"
                    " && /bin/promtool check config /tmp/p.yml", check=False)
    assert broken.returncode == 1
    assert "bogus_key" in broken.stdout + broken.stderr


def test_amtool_of_the_image_checks_configs():
    result = docker("run", "--rm", "--entrypoint", "/bin/sh", tag("alertmanager"), "-c",
                    "printf 'route:\\n  receiver: nowhere\\n' > /tmp/a.yml && amtool check-config /tmp/a.yml",
                    check=False)
    assert result.returncode != 0
    assert "nowhere" in result.stdout + result.stderr


# PostgreSQL 17, Valkey 8.1 and their exporters (issue 11, role sentry): the real programs from
# Debian 13's packages, laid out like postgres:17, valkey/valkey:8.1,
# quay.io/prometheuscommunity/postgres-exporter and oliver006/redis_exporter. Containers and the
# network are named with this prefix (set MICROOPS_HARNESS_PREFIX to keep parallel runs apart).
PREFIX = os.environ.get("MICROOPS_HARNESS_PREFIX", "microops-harness-test-")
# Quotes and URL delimiters, but no space: postgres_exporter 0.17.1 splits the DSN it builds at
# spaces (cmd/postgres_exporter/util.go parseFingerprint: "malformed dsn", pg_up stays 0).
PG_PASSWORD = "s3cret'\"@:/%#?&=x"


def wait_until(what, check, container, timeout=60):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            logs = docker("logs", container, check=False)
            pytest.fail(f"{what} not within {timeout} s:\n{logs.stdout}{logs.stderr}")
        time.sleep(0.5)


def published(container, port):
    return "http://127.0.0.1:" + docker("port", container, port).stdout.split(":")[-1].strip()


@pytest.fixture(name="backend")
def backend_fixture(tmp_path):
    """A docker network with PostgreSQL (initialised from a password file, as the role starts it:
    owner not postgres, mode 0400, read-only) and Valkey (`--save 60 1`); yields their names."""
    network, postgres, valkey = PREFIX + "backend", PREFIX + "postgres", PREFIX + "valkey"
    secret = tmp_path / "postgres_password"
    secret.write_text(PG_PASSWORD + "\n")  # file_env's $(< file) drops the trailing newline
    secret.chmod(0o400)
    containers = [postgres, valkey]
    for name in containers:
        docker("rm", "-f", name, check=False)
    docker("network", "rm", network, check=False)
    docker("network", "create", network)
    try:
        docker("run", "-d", "--name", postgres, "--network", network,
               "-e", "POSTGRES_USER=glitchtip", "-e", "POSTGRES_DB=glitchtip",
               "-e", "POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password",
               "-v", f"{secret}:/run/secrets/postgres_password:ro", tag("postgres"))
        docker("run", "-d", "--name", valkey, "--network", network, tag("valkey"), "--save", "60", "1")
        # Over TCP: the server that initialises listens on the socket only (listen_addresses='').
        wait_until("PostgreSQL ready on TCP", lambda: docker(
            "exec", postgres, "pg_isready", "-h", "127.0.0.1", "-U", "glitchtip", "-d", "glitchtip",
            check=False).returncode == 0, postgres)
        wait_until("Valkey answering", lambda: docker(
            "exec", valkey, "valkey-cli", "ping", check=False).stdout.strip() == "PONG", valkey)
        yield network, postgres, valkey
    finally:
        for name in containers:
            docker("rm", "-f", "-v", name, check=False)
        docker("network", "rm", network, check=False)


def psql_over_network(network, host, password, sql):
    """psql from a second container of the image, over TCP, as the backend's clients connect."""
    return docker("run", "--rm", "--name", PREFIX + "psql", "--network", network,
                  "-e", "PGPASSWORD=" + password, "--entrypoint", "psql", tag("postgres"),
                  "-h", host, "-U", "glitchtip", "-d", "glitchtip", "-tAc", sql, check=False)


def test_postgres_image_initialises_from_a_password_file_and_takes_scram_logins(backend):
    network, postgres, dummy = backend
    ok = psql_over_network(network, postgres, PG_PASSWORD,
                           "SELECT current_user, current_database(),"
                           " (SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = current_user)")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "glitchtip|glitchtip|t"
    wrong = psql_over_network(network, postgres, "wrong", "SELECT 1")
    assert wrong.returncode != 0
    assert 'password authentication failed for user "glitchtip"' in wrong.stderr
    hba = docker("exec", postgres, "sh", "-c", 'grep -v "^#" "$PGDATA/pg_hba.conf" | grep .').stdout
    assert hba.splitlines()[-1] == "host all all all scram-sha-256"
    # The server runs as postgres (999), as the official image's entrypoint steps down with gosu.
    status = docker("exec", postgres, "cat", "/proc/1/status").stdout
    assert "\nUid:\t999\t" in status
    assert docker("exec", postgres, "cat", "/proc/1/cmdline").stdout.split("\0")[0] == "postgres"


def test_postgres_image_backup_round_trip_with_pg_dump_and_pg_restore(backend):
    """The role's backup: `pg_dump -Fc` through docker exec, restored with pg_restore --clean --if-exists."""
    dummy, postgres, dummy2 = backend
    sql = ["exec", postgres, "psql", "-U", "glitchtip", "-d", "glitchtip", "-tAc"]
    docker(*sql, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before')")
    dump = subprocess.run(["docker", "exec", postgres, "pg_dump", "-U", "glitchtip", "-Fc", "glitchtip"],
                          capture_output=True, check=True, timeout=120).stdout
    assert dump.startswith(b"PGDMP")
    docker(*sql, "UPDATE kept SET v = 'after'; CREATE TABLE dropped (v int)")
    restore = subprocess.run(["docker", "exec", "-i", postgres, "pg_restore", "-U", "glitchtip",
                              "-d", "glitchtip", "--clean", "--if-exists"],
                             input=dump, capture_output=True, check=False, timeout=120)
    assert restore.returncode == 0, restore.stderr
    assert docker(*sql, "SELECT v FROM kept").stdout.strip() == "before"
    # --clean drops only what the dump has: a table made after the dump stays.
    assert docker(*sql, "SELECT count(*) FROM dropped").stdout.strip() == "0"


def test_postgres_image_refuses_to_initialise_without_a_password():
    result = docker("run", "--rm", "--name", PREFIX + "postgres-nopw", tag("postgres"), check=False)
    assert result.returncode == 1
    assert "superuser password is not specified" in result.stderr


def test_valkey_image_answers_ping_across_the_network(backend):
    network, dummy, valkey = backend
    remote = docker("run", "--rm", "--name", PREFIX + "valkey-cli", "--network", network,
                    "--entrypoint", "valkey-cli", tag("valkey"),
                    "-h", valkey, "ping", check=False)
    # Answered from another container: no protected mode, as in the official image.
    assert remote.stdout.strip() == "PONG", remote.stdout + remote.stderr
    assert docker("exec", valkey, "valkey-cli", "config", "get", "save").stdout.split() == ["save", "60", "1"]
    assert docker("exec", valkey, "valkey-cli", "config", "get", "dir").stdout.split() == ["dir", "/data"]
    assert "\nUid:\t999\t" in docker("exec", valkey, "cat", "/proc/1/status").stdout


@pytest.fixture(name="exporters")
def exporters_fixture(backend, tmp_path):
    """Both exporters on the backend network, their ports published on loopback."""
    network, postgres, valkey = backend
    secret = tmp_path / "exporter_password"
    secret.write_text(PG_PASSWORD + "\n")  # read as nobody; datasource.go trims the contents
    secret.chmod(0o444)
    pg_exporter, redis_exporter = PREFIX + "postgres-exporter", PREFIX + "redis-exporter"
    for name in (pg_exporter, redis_exporter):
        docker("rm", "-f", name, check=False)
    try:
        docker("run", "-d", "--name", pg_exporter, "--network", network, "-p", "127.0.0.1::9187",
               "-e", f"DATA_SOURCE_URI={postgres}:5432/glitchtip?sslmode=disable",
               "-e", "DATA_SOURCE_USER=glitchtip", "-e", "DATA_SOURCE_PASS_FILE=/run/secrets/pw",
               "-v", f"{secret}:/run/secrets/pw:ro", tag("postgres-exporter"))
        docker("run", "-d", "--name", redis_exporter, "--network", network, "-p", "127.0.0.1::9121",
               "-e", f"REDIS_ADDR=redis://{valkey}:6379", tag("redis-exporter"))
        yield {"postgres": (pg_exporter, published(pg_exporter, "9187/tcp")),
               "redis": (redis_exporter, published(redis_exporter, "9121/tcp"))}
    finally:
        for name in (pg_exporter, redis_exporter):
            docker("rm", "-f", name, check=False)


@pytest.mark.parametrize("name,up", [("postgres", "pg_up 1"), ("redis", "redis_up 1")])
def test_exporter_images_reach_their_server(exporters, name, up):
    container, base = exporters[name]

    def scraped():
        try:
            return up in get(base + "/metrics")[2].splitlines()
        except OSError:
            return False

    wait_until(f"{up} from {container}", scraped, container, timeout=30)
    status, content_type, dummy = get(base + "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")


# The app image (microops-test/app:1): not a stand-in but a small real service of our own, standing
# in for a user's microservice (the seed system's gateway and backend). Run as a hardened service
# would be, against the real SeaweedFS, another app container and a listener that records what the
# real sentry-sdk sends. Containers and the network are named with PREFIX + "app-".
APP_NETWORK = PREFIX + "app"
APP_SEAWEEDFS = PREFIX + "app-seaweedfs"
APP_S3_ACCESS_KEY = "app-test-admin"
APP_S3_SECRET_KEY = "app-test-secret-0123456789"
APP_BUCKET = "app-test"
HARDENED = ("--read-only", "--cap-drop", "ALL")
# A DSN's public key and project id, and a listener in a container of the app image itself that
# prints each request it gets as a JSON line (bodies gunzipped: sentry-sdk compresses envelopes).
SENTRY_KEY = "0123456789abcdef0123456789abcdef"
SENTRY_PROJECT = "42"
SENTRY_LISTENER = """
import gzip, json
from http.server import BaseHTTPRequestHandler, HTTPServer
class Recorder(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        print(json.dumps({"method": self.command, "path": self.path, "auth": self.headers.get("X-Sentry-Auth"),
                          "body": body.decode("utf-8", "replace")}), flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *args):
        pass
server = HTTPServer(("0.0.0.0", 9000), Recorder)
print(json.dumps({"ready": True}), flush=True)
server.serve_forever()
"""


def http_request(url, method="GET", data=None, timeout=15):
    """Status, Content-Type and body of any answer, errors included."""
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


def json_answer(url, method="GET", data=None):
    status, content_type, body = http_request(url, method, data)
    assert content_type == "application/json", (status, content_type, body)
    return status, json.loads(body)


def answers(url):
    try:
        return get(url)[0] == 200
    except OSError:
        return False


def answering(container, base):
    """Whether base/healthz answers 200; fails the test at once when the container has exited."""
    if answers(base + "/healthz"):
        return True
    if docker("inspect", "--format", "{{.State.Running}}", container).stdout.strip() != "true":
        logs = docker("logs", container, check=False)
        pytest.fail(f"{container} exited:\n{logs.stdout}{logs.stderr}")
    return False


def log_records(container):
    """The container's stdout as JSON objects (each line must be one) and its stderr."""
    logs = docker("logs", container)
    return [json.loads(line) for line in logs.stdout.splitlines()], logs.stderr


def remove_containers(names):
    for name in names:
        docker("rm", "-f", "-v", name, check=False)


@pytest.fixture(name="app_network", scope="module")
def app_network_fixture():
    """A user network; containers a previous run left on it are removed first."""
    left = docker("network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", APP_NETWORK,
                  check=False)
    remove_containers(left.stdout.split())
    docker("network", "rm", APP_NETWORK, check=False)
    docker("network", "create", APP_NETWORK)
    try:
        yield APP_NETWORK
    finally:
        docker("network", "rm", APP_NETWORK, check=False)


class AppContainers:
    """Containers of the app image a test starts, on the app network; all removed at its end."""

    def __init__(self, network):
        self.network = network
        self.names = []

    def start(self, role, env=(), options=HARDENED, command=None):
        """Start PREFIX + app-<role> with port 8080 published on loopback; wait (30 s at most) until
        /healthz answers, unless a command (arguments after the image) runs instead of the app.
        Returns its name and base URL."""
        name = f"{PREFIX}app-{role}"
        docker("rm", "-f", name, check=False)
        self.names.append(name)
        args = ["run", "-d", "--name", name, "--network", self.network, "-p", "127.0.0.1::8080", *options]
        for key, value in dict(env).items():
            args += ["-e", f"{key}={value}"]
        docker(*args, tag("app"), *(command or ()))
        base = published(name, "8080/tcp")
        if command is None:
            wait_until(f"{name} answering /healthz", lambda: answering(name, base), name, timeout=30)
        return name, base


@pytest.fixture(name="apps")
def apps_fixture(app_network):
    containers = AppContainers(app_network)
    try:
        yield containers
    finally:
        remove_containers(containers.names)


@pytest.fixture(name="hardened_app", scope="module")
def hardened_app_fixture():
    """One app as a hardened service runs: uid 10001 (the image's USER), read-only root filesystem,
    no capabilities; /metrics also on METRICS_PORT; health checked every second (the image's own
    HEALTHCHECK command, the interval shortened so that the test needs no 30 s)."""
    name = PREFIX + "app-hardened"
    docker("rm", "-f", name, check=False)
    try:
        docker("run", "-d", "--name", name, *HARDENED, "--health-interval", "1s",
               "-e", "SERVICE_NAME=gateway", "-e", "METRICS_PORT=9100",
               "-p", "127.0.0.1::8080", "-p", "127.0.0.1::9100", tag("app"))
        base = published(name, "8080/tcp")
        wait_until(f"{name} answering /healthz", lambda: answering(name, base), name, timeout=30)
        yield name, base, published(name, "9100/tcp")
    finally:
        docker("rm", "-f", name, check=False)


def test_app_image_runs_as_10001_read_only_without_capabilities_and_turns_healthy(hardened_app):
    name, base, dummy = hardened_app
    assert json_answer(base + "/") == (200, {"service": "gateway", "ok": True})
    assert json_answer(base + "/healthz") == (200, {"ok": True})
    status, body = json_answer(base + "/no/such/path")
    assert status == 404 and "/no/such/path" in body["error"]
    proc = docker("exec", name, "cat", "/proc/1/status").stdout
    assert "\nUid:\t10001\t10001\t10001\t10001\n" in proc
    assert "\nGid:\t10001\t10001\t10001\t10001\n" in proc
    assert "\nCapEff:\t0000000000000000\n" in proc
    assert docker("exec", name, "cat", "/proc/1/cmdline").stdout.split("\0")[:2] == ["python3", "/app/app.py"]

    def health():
        return json.loads(docker("inspect", "--format", "{{json .State.Health}}", name).stdout)

    wait_until("health status healthy", lambda: health()["Status"] == "healthy", name, timeout=20)
    assert health()["Log"][-1]["ExitCode"] == 0
    # Nothing was written: the root filesystem is read-only and no volume was given.
    assert docker("diff", name).stdout == ""


def requests_total(base, path):
    """The value of app_requests_total{service="gateway",path=...} in the scrape of base."""
    status, content_type, body = http_request(base + "/metrics")
    assert status == 200
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    lines = body.decode().splitlines()
    assert "# TYPE app_requests_total counter" in lines
    assert any(line.startswith("# HELP app_requests_total ") for line in lines)
    assert "app_up 1" in lines
    sample = f'app_requests_total{{service="gateway",path="{path}"}} '
    values = [line[len(sample):] for line in lines if line.startswith(sample)]
    return float(values[0]) if values else 0.0


def test_app_image_serves_metrics_with_the_exposition_content_type(hardened_app):
    dummy, base, metrics_base = hardened_app
    before = requests_total(base, "/")
    for dummy in range(3):
        assert get(base + "/")[0] == 200
    assert requests_total(base, "/") == before + 3
    # The second listener serves the same counters, and only /metrics.
    assert requests_total(metrics_base, "/") == before + 3
    assert http_request(metrics_base + "/")[0] == 404
    # One series per route, not per key or unknown path.
    for path in ("/s3/a", "/s3/b", "/x", "/y"):
        http_request(base + path)
    assert requests_total(base, "/s3/{key}") >= 2 and requests_total(base, "/{unknown}") >= 2


ISO8601_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_app_image_logs_one_json_object_per_line(hardened_app):
    name, base, dummy = hardened_app
    assert get(base + "/healthz?from=test")[0] == 200
    assert json_answer(base + "/error")[0] == 503  # SENTRY_DSN is not set

    def logged(path, status):
        return [record for record in log_records(name)[0]
                if record.get("url.path") == path and record.get("http.response.status_code") == status]

    wait_until("request lines for /healthz and /error", lambda: logged("/healthz", 200) and logged("/error", 503),
               name, timeout=10)
    records, stderr = log_records(name)
    assert stderr == ""
    for record in records:
        assert ISO8601_UTC.match(record["@timestamp"]), record
        assert record["service"] == "gateway" and record["log.level"] in ("info", "error") and record["message"]
    assert records[0]["message"].startswith("listening on 0.0.0.0:8080, /metrics also on 0.0.0.0:9100")
    line = logged("/healthz", 200)[-1]  # url.path without the query
    assert line["http.request.method"] == "GET" and line["log.level"] == "info"
    assert logged("/error", 503)[-1]["log.level"] == "error"


def test_app_image_exits_0_promptly_on_sigterm(apps):
    name, dummy = apps.start("sigterm")
    start = time.monotonic()
    docker("stop", "--time", "10", name)  # SIGTERM, then SIGKILL after 10 s
    assert time.monotonic() - start < 5
    assert docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "0"
    assert log_records(name)[0][-1]["message"] == "stopping on a signal"


@pytest.fixture(name="app_seaweedfs", scope="module")
def app_seaweedfs_fixture(app_network, tmp_path_factory):
    """The real SeaweedFS (`weed server -s3`, one identity from an -s3.config file, as the seaweedfs
    role runs it) on the app network, S3 published on loopback; the bucket made with boto3 from here.
    Yields its container name and a boto3 client."""
    import boto3  # pylint: disable=import-outside-toplevel
    from botocore.config import Config  # pylint: disable=import-outside-toplevel
    config = tmp_path_factory.mktemp("app-seaweedfs")
    (config / "s3.json").write_text(json.dumps({"identities": [{
        "name": "admin", "credentials": [{"accessKey": APP_S3_ACCESS_KEY, "secretKey": APP_S3_SECRET_KEY}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}))
    docker("rm", "-f", APP_SEAWEEDFS, check=False)
    try:
        docker("run", "-d", "--name", APP_SEAWEEDFS, "--network", app_network, "-p", "127.0.0.1::8333",
               "--mount", f"type=bind,source={config},target=/etc/seaweedfs/s3,readonly",
               tag("seaweedfs"), "server", "-s3", "-s3.config=/etc/seaweedfs/s3/s3.json",
               "-master.volumeSizeLimitMB=64")
        client = boto3.client("s3", endpoint_url=published(APP_SEAWEEDFS, "8333/tcp"), region_name="us-east-1",
                              aws_access_key_id=APP_S3_ACCESS_KEY, aws_secret_access_key=APP_S3_SECRET_KEY,
                              config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10))

        def succeeds(call, **kwargs):
            try:
                call(**kwargs)
                return True
            except Exception:  # pylint: disable=broad-except
                return False  # not up yet

        wait_until("SeaweedFS taking a signed CreateBucket",
                   lambda: succeeds(client.create_bucket, Bucket=APP_BUCKET), APP_SEAWEEDFS, timeout=60)
        # The first write waits for the bucket's volumes, which right after start-up can take
        # seconds: made here, so the app's requests do not wait for the server's start-up.
        wait_until("SeaweedFS taking a first object", lambda: succeeds(
            client.put_object, Bucket=APP_BUCKET, Key="warm-up", Body=b"1"), APP_SEAWEEDFS, timeout=60)
        yield APP_SEAWEEDFS, client
    finally:
        docker("rm", "-f", "-v", APP_SEAWEEDFS, check=False)


def test_app_image_writes_objects_to_seaweedfs_and_reads_them_back(app_seaweedfs, apps, tmp_path):
    server, client = app_seaweedfs
    # Credentials from files, as mounted secrets are: read by uid 10001, trailing newline stripped.
    mounts = []
    for file_name, content in (("access_key", APP_S3_ACCESS_KEY), ("secret_key", APP_S3_SECRET_KEY)):
        (tmp_path / file_name).write_text(content + "\n")
        (tmp_path / file_name).chmod(0o444)
        mounts += ["-v", f"{tmp_path / file_name}:/run/secrets/{file_name}:ro"]
    name, base = apps.start("s3", env={
        "S3_ENDPOINT": f"http://{server}:8333", "S3_BUCKET": APP_BUCKET, "S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID_FILE": "/run/secrets/access_key", "AWS_SECRET_ACCESS_KEY_FILE": "/run/secrets/secret_key",
    }, options=(*HARDENED, *mounts))
    body = bytes(range(256)) * 64 + "é\n".encode()
    assert json_answer(base + "/s3/reports/2025/a%20b.bin", "PUT", body) == (200, {
        "bucket": APP_BUCKET, "key": "reports/2025/a b.bin", "etag": hashlib.md5(body).hexdigest()})
    # In the server, under the decoded key, as written.
    assert client.get_object(Bucket=APP_BUCKET, Key="reports/2025/a b.bin")["Body"].read() == body
    assert http_request(base + "/s3/reports/2025/a%20b.bin")[::2] == (200, body)
    status, answer = json_answer(base + "/s3/reports/none")
    assert status == 502 and answer["error"].startswith("NoSuchKey: "), answer
    logs = docker("logs", name)
    assert APP_S3_SECRET_KEY not in logs.stdout + logs.stderr


@pytest.mark.parametrize("credentials,code", [
    ((APP_S3_ACCESS_KEY, "not-the-secret-0123456789"), "SignatureDoesNotMatch"),
    (("nobody-knows-me", APP_S3_SECRET_KEY), "InvalidAccessKeyId"),
], ids=["wrong-secret", "unknown-key"])
def test_app_image_answers_502_when_seaweedfs_refuses_its_credentials(app_seaweedfs, apps, credentials, code):
    server, client = app_seaweedfs
    dummy, base = apps.start("s3-refused", env={
        "S3_ENDPOINT": f"http://{server}:8333", "S3_BUCKET": APP_BUCKET,
        "AWS_ACCESS_KEY_ID": credentials[0], "AWS_SECRET_ACCESS_KEY": credentials[1]})
    status, answer = json_answer(base + "/s3/refused", "PUT", b"not stored")
    assert status == 502 and answer["error"].startswith(code + ": "), answer
    assert client.list_objects_v2(Bucket=APP_BUCKET, Prefix="refused").get("KeyCount") == 0


def test_app_image_calls_its_upstream_by_container_name(apps):
    backend, dummy = apps.start("backend", env={"SERVICE_NAME": "backend"})
    gateway, base = apps.start("gateway", env={"SERVICE_NAME": "gateway", "UPSTREAM_URL": f"http://{backend}:8080/"})
    assert json_answer(base + "/upstream") == (200, {"upstream": 200, "body": {"service": "backend", "ok": True}})
    assert any(record.get("url.path") == "/" for record in log_records(backend)[0])
    docker("stop", backend)
    status, answer = json_answer(base + "/upstream")
    assert status == 502 and answer["error"].startswith("upstream unreachable: "), answer
    logs = docker("logs", gateway).stdout
    assert "upstream set" in log_records(gateway)[0][0]["message"] and f"http://{backend}" not in logs


def test_app_image_sends_an_error_event_to_the_sentry_dsn(apps):
    listener, dummy = apps.start("sentry-listener", options=(*HARDENED, "--entrypoint", "python3"),
                                 command=("-c", SENTRY_LISTENER))
    wait_until("the listener ready", lambda: {"ready": True} in log_records(listener)[0], listener, timeout=15)
    dummy, base = apps.start("sentry", env={"SENTRY_DSN": f"http://{SENTRY_KEY}@{listener}:9000/{SENTRY_PROJECT}",
                                            "SENTRY_ENVIRONMENT": "harness", "SERVICE_NAME": "backend"})
    status, answer = json_answer(base + "/error")
    assert status == 500 and re.fullmatch(r"[0-9a-f]{32}", answer["event_id"]), answer

    def envelopes():
        found = []
        for record in log_records(listener)[0]:
            if "body" in record:
                header, *items = record["body"].splitlines()
                if json.loads(header).get("event_id") == answer["event_id"]:
                    found.append((record, items))
        return found

    # flush() ran before /error answered; the wait only covers `docker logs` catching up.
    wait_until("the event at the listener", envelopes, listener, timeout=10)
    found = envelopes()
    assert len(found) == 1, found
    record, items = found[0]
    assert (record["method"], record["path"]) == ("POST", f"/api/{SENTRY_PROJECT}/envelope/")
    assert f"sentry_key={SENTRY_KEY}" in record["auth"]
    assert json.loads(items[0])["type"] == "event"
    event = json.loads(items[1])
    assert event["environment"] == "harness"
    assert event["sdk"]["name"] == "sentry.python" and event["sdk"]["version"] == "2.75.0"
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError" and "backend: GET /error" in exception["value"]
