"""The local image set's real programs: Prometheus, Alertmanager and node_exporter from Debian's
packages, laid out like the official images (tests/harness/images/*/Dockerfile cite them). These
tests check what the programs do, which the collection relies on: each serves /metrics as
Prometheus 3 requires, and the promtool and amtool the monitoring role validates configs with
accept a good config and reject a broken one. PostgreSQL 17, Valkey 8.1 and their exporters (the
sentry role's backend) initialise, authenticate, back up and restore, answer and report up as the
role relies on. They count as product tests (stage `images`).

Tests that only read back an image's settings from its own Dockerfile (user, entrypoint, ports,
volumes) are harness checks, in tests/harness/checks (stage `harness-checks`, not counted; the
split is explained there). Needs the engine and images from tests/harness/up."""

import importlib.util
import os
import subprocess
import time
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
