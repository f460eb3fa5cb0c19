"""The local image set: real Prometheus-family software from Debian packages, laid out like the
official images (tests/harness/images/*/Dockerfile cite them), so roles tested here behave as
with the official images. Needs the engine and images from tests/harness/up."""

import json
import subprocess
import time
import urllib.request

import pytest

ALERTMANAGER_CONFIG = "route:\n  receiver: none\nreceivers:\n  - name: none\n"

# tag, official conventions (user, entrypoint, cmd, port, volumes), readiness path
IMAGES = {
    "prometheus": (
        "microops-test/prometheus:2.42", "65534:65534", ["/bin/prometheus"],
        ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
        "9090/tcp", ["/prometheus"], "/-/ready",
    ),
    "alertmanager": (
        "microops-test/alertmanager:0.25", "65534:65534", ["/bin/alertmanager"],
        ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
        "9093/tcp", ["/alertmanager"], "/-/ready",
    ),
    "node-exporter": (
        "microops-test/node-exporter:1.5", "65534:65534", ["/bin/node_exporter"], None,
        "9100/tcp", None, "/metrics",
    ),
}


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
    tag, _user, _entrypoint, _cmd, port, _volumes, ready = IMAGES[name]
    container = f"microops-harness-test-{name}"
    docker("rm", "-f", container, check=False)
    args = ["run", "-d", "--name", container, "-p", f"127.0.0.1::{port.split('/')[0]}"]
    if name == "alertmanager":  # like the official image, it ships no configuration
        args += ["-e", "CONFIG=" + ALERTMANAGER_CONFIG, "--entrypoint", "/bin/sh", tag, "-c",
                 'printf %s "$CONFIG" > /etc/alertmanager/alertmanager.yml && exec /bin/alertmanager '
                 "--config.file=/etc/alertmanager/alertmanager.yml --storage.path=/alertmanager"]
    else:
        args.append(tag)
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
                pytest.fail(f"{tag} not ready within 30 s:\n{logs.stdout}{logs.stderr}")
            time.sleep(0.5)
        yield container, base
    finally:
        docker("rm", "-f", container, check=False)


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_follows_official_conventions(name):
    tag, user, entrypoint, cmd, port, volumes, _ready = IMAGES[name]
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", tag).stdout)
    assert config["User"] == user  # the official images say `nobody`: uid and gid 65534
    assert config["Entrypoint"] == entrypoint
    assert config.get("Cmd") == cmd
    assert list(config["ExposedPorts"]) == [port]
    assert sorted(config.get("Volumes") or {}) == sorted(volumes or [])


@pytest.mark.parametrize("running", sorted(IMAGES), indirect=True)
def test_image_serves_metrics_as_prometheus_3_requires(running):
    container, base = running
    status, content_type, body = get(base + "/metrics")
    assert status == 200
    # Prometheus 3 refuses a scrape without a valid exposition Content-Type.
    assert content_type.startswith("text/plain; version=0.0.4")
    assert "process_start_time_seconds" in body
    assert docker("exec", container, "id", "-u").stdout.strip() == "65534"


def test_promtool_of_the_image_rejects_a_broken_config():
    tag = IMAGES["prometheus"][0]
    ok = docker("run", "--rm", "--entrypoint", "/bin/promtool", tag,
                "check", "config", "/etc/prometheus/prometheus.yml", check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = docker("run", "--rm", "--entrypoint", "/bin/sh", tag, "-c",
                    "printf 'scrape_configs:\\n  - job_name: x\\n    bogus_key: 1\\n' > /tmp/p.yml"
                    " && /bin/promtool check config /tmp/p.yml", check=False)
    assert broken.returncode == 1
    assert "bogus_key" in broken.stdout + broken.stderr


def test_amtool_of_the_image_checks_configs():
    tag = IMAGES["alertmanager"][0]
    result = docker("run", "--rm", "--entrypoint", "/bin/sh", tag, "-c",
                    "printf 'route:\\n  receiver: nowhere\\n' > /tmp/a.yml && amtool check-config /tmp/a.yml",
                    check=False)
    assert result.returncode != 0
    assert "nowhere" in result.stdout + result.stderr
