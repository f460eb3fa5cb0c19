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
