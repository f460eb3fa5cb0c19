"""The local image set's real programs: Prometheus, Alertmanager and node_exporter from Debian's
packages, laid out like the official images (tests/harness/images/*/Dockerfile cite them). These
tests check what the programs do, which the collection relies on: each serves /metrics as
Prometheus 3 requires, and the promtool and amtool the monitoring role validates configs with
accept a good config and reject a broken one. They count as product tests (stage `images`).

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
