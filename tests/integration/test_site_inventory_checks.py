# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site playbook's inventory check, run for real (ansible-playbook on playbooks/site.yml):
a broken inventory fails in the first play, naming what is wrong, before any host is touched.

The hosts below use a connection that cannot work (ssh to a reserved .invalid name): the check
play only asserts on the controller, so a run that reached any host would fail with
"unreachable" instead of the check's message, and the test would catch it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "ansible_connection: ssh, ansible_host: host.invalid"


def run_site(tmp_path, inventory):
    path = tmp_path / "hosts.yml"
    path.write_text(inventory)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"),
               ANSIBLE_HOST_KEY_CHECKING="false")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(path), str(ROOT / "playbooks" / "site.yml")],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("inventory", "message"),
    [
        pytest.param("all: {}\n", "group stack_hosts is empty or missing", id="empty-inventory"),
        pytest.param(
            f"all:\n  children:\n    stack_host:\n      hosts:\n        a: {{{UNREACHABLE}}}\n",
            "group stack_hosts is empty or missing", id="misspelt-stack-hosts"),
        pytest.param(
            f"all:\n  vars: {{stack_env: development}}\n  children:\n    stack_hosts:\n      hosts:\n"
            f"        a: {{{UNREACHABLE}}}\n    stack_monitor:\n      hosts:\n        a:\n",
            "group stack_monitor is not a stack group", id="misspelt-stack-group"),
        pytest.param(
            f"all:\n  children:\n    stack_hosts:\n      hosts:\n        a: {{{UNREACHABLE}, stack_env: prod}}\n"
            f"        b: {{{UNREACHABLE}, stack_env: production}}\n        c: {{{UNREACHABLE}}}\n",
            "stack_env must be one of local, development, production on every stack host; it is not on a, c",
            id="bad-stack-env"),
        pytest.param(
            f"all:\n  vars: {{stack_env: development, stack_s3_server: ceph}}\n  children:\n    stack_hosts:\n"
            f"      hosts:\n        a: {{{UNREACHABLE}}}\n",
            "stack_s3_server must be one of minio, seaweedfs, external; it is not on a", id="bad-stack-s3-server"),
        pytest.param(
            f"all:\n  vars: {{stack_env: development, stack_s3_server: external, stack_s3_access_key: ak}}\n"
            f"  children:\n    stack_hosts:\n      hosts:\n        a: {{{UNREACHABLE}}}\n",
            "stack_s3_server is external: set stack_s3_endpoint, stack_s3_secret_key", id="external-s3-incomplete"),
    ],
)
def test_a_broken_inventory_fails_in_the_check_naming_it(tmp_path, inventory, message):
    rc, output = run_site(tmp_path, inventory)
    assert rc != 0, output[-2000:]
    assert message in " ".join(output.split()), output[-3000:]
    assert "UNREACHABLE" not in output, "a host was contacted before the check failed"
    assert "Check every host's inputs" not in output, "the run went past the check"


def test_a_complete_external_s3_passes_the_check(tmp_path):
    inventory = (
        "all:\n  vars: {stack_env: development, stack_s3_server: external, stack_s3_endpoint: 'https://s3.example.invalid',"
        " stack_s3_access_key: ak, stack_s3_secret_key: sk}\n"
        f"  children:\n    stack_hosts:\n      hosts:\n        a: {{{UNREACHABLE}}}\n")
    _rc, output = run_site(tmp_path, inventory)
    # Past the check, the next play (every role's preflight) meets the unreachable host.
    assert "Check every host's inputs before anything changes" in output, output[-3000:]


LOCAL = f"ansible_connection: local, ansible_become: false, ansible_python_interpreter: '{sys.executable}'"


def test_every_roles_problems_are_reported_at_once_before_any_change(tmp_path):
    """The site's preflight runs each role's own checks on real hosts (this machine, connection
    local, read-only checks) and stops once with the problems of every role of every host,
    before the docker play changes anything. Two hosts: one host's failure must not keep the
    other from reporting its own."""
    inventory = (
        "all:\n  vars: {stack_env: development}\n  children:\n    stack_hosts:\n      hosts:\n"
        f"        preflight-a: {{{LOCAL}, stack_private_address: 127.0.0.1, minio_api_port: nine,"
        " services_list: [{name: web, image: 'example/web:1', networks: [stack_frontnd]}]}\n"
        f"        preflight-b: {{{LOCAL}, stack_private_address: 127.0.0.2,"
        " services_list: [{name: api, image: 'example/api:1', public_port: 8443}]}\n"
        "    stack_s3:\n      hosts:\n        preflight-a:\n"
        "    stack_services:\n      hosts:\n        preflight-a:\n        preflight-b:\n")
    rc, output = run_site(tmp_path, inventory)
    flat = " ".join(output.split())
    assert rc != 0, output[-3000:]
    assert ("preflight-a: minio: minio_api_port must be a port number (1-65535), got 'nine' | "
            "services: service web: network 'stack_frontnd' is not a stack network") in flat, output[-3000:]
    assert "preflight-b: services: service api: public_port is set but the service is not public" in flat, \
        output[-3000:]
    # Every image each host would run, with why it cannot have it (no registry answers here), in
    # the same stop: b's agents and its service, nothing of a's roles.
    start = flat.index("preflight-b: services:")
    b_images = flat[start:flat.index("Give this host registry access", start)]
    for image in ("prom/node-exporter:v1.12.1", "ghcr.io/google/cadvisor:0.60.5", "example/api:1"):
        assert f"{image}: " in b_images and "cannot be reached from this host" in b_images, output[-3000:]
    assert "example/web:1" not in b_images and "minio" not in b_images, output[-3000:]
    assert "example/web:1: docker.io cannot be reached from this host" in flat, output[-3000:]
    assert "quay.io/minio/minio:RELEASE" in flat and "Give this host registry access" in flat, output[-3000:]
    assert "Docker Engine on every stack host" not in output, "the run went past the preflight"
