# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Servers and interpreters for module integration tests: everything on loopback, started and
stopped by the session, every wait bounded."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# The stand-in containers (tests/standins/_container.py) import as `_container`, as in tests/standins.
STANDINS = str(ROOT / "tests" / "standins")
if STANDINS not in sys.path:
    sys.path.insert(0, STANDINS)

# Debian 12's python3-boto3 / python3-botocore: the oldest boto3 the S3 modules meet on a target.
DEBIAN12_BOTO = ("boto3==1.26.27", "botocore==1.29.27")
BOTO126_VENV = ROOT / ".cache" / "boto3-1.26"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_s3():
    """moto's S3 server on 127.0.0.1; yields its endpoint URL. A stand-in for MinIO's S3 API that
    accepts any credentials and more bucket names than MinIO."""
    server = shutil.which("moto_server", path=str(VENV_BIN)) or shutil.which("moto_server")
    if not server:
        pytest.skip("moto_server not installed (pip install 'moto[server]')")
    port = free_port()
    endpoint = "http://127.0.0.1:%d" % port
    proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not answer on %s within 30 s" % endpoint) from None
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# The real SeaweedFS server from the harness image (tests/harness/images/seaweedfs), one per session.
SEAWEEDFS_IMAGE = "microops-test/seaweedfs:4.48"
SEAWEEDFS_ACCESS_KEY = "seaweedfs-admin"
# Not a substring of anything in the results: Ansible masks no_log values wherever they appear.
SEAWEEDFS_SECRET_KEY = "seaweedfs-secret-0123456789"


def _docker(*args, check=True, timeout=120):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


@pytest.fixture(scope="session")
def seaweedfs_s3(tmp_path_factory):
    """SeaweedFS (`weed server -s3`, the real server) in a container, S3 published on
    127.0.0.1 only; one admin identity given through an identities file (-s3.config), as the
    seaweedfs role does. Yields its endpoint URL once a signed ListBuckets succeeds."""
    if not shutil.which("docker") or _docker("image", "inspect", SEAWEEDFS_IMAGE, check=False).returncode:
        pytest.fail("%s is missing: run tests/harness/up" % SEAWEEDFS_IMAGE)
    config = tmp_path_factory.mktemp("seaweedfs")
    (config / "s3.json").write_text(json.dumps({"identities": [{
        "name": "admin",
        "credentials": [{"accessKey": SEAWEEDFS_ACCESS_KEY, "secretKey": SEAWEEDFS_SECRET_KEY}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }]}))
    name = "microops-it-seaweedfs-%d" % os.getpid()
    _docker("rm", "-f", name, check=False)
    # Small volumes: each bucket is a collection, and tests create many.
    _docker("run", "-d", "--name", name, "-p", "127.0.0.1::8333",
            "--mount", "type=bind,source=%s,target=/etc/seaweedfs/s3,readonly" % config,
            SEAWEEDFS_IMAGE, "server", "-s3", "-s3.config=/etc/seaweedfs/s3/s3.json",
            "-master.volumeSizeLimitMB=64")
    try:
        port = _docker("port", name, "8333/tcp").stdout.split()[0].rsplit(":", 1)[1]
        endpoint = "http://127.0.0.1:%s" % port
        import boto3  # pylint: disable=import-outside-toplevel
        from botocore.config import Config  # pylint: disable=import-outside-toplevel
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=SEAWEEDFS_ACCESS_KEY, aws_secret_access_key=SEAWEEDFS_SECRET_KEY,
                              config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5))
        deadline = time.monotonic() + 60
        while True:
            try:
                client.list_buckets()
                break
            except Exception:  # pylint: disable=broad-except
                if time.monotonic() > deadline:
                    logs = _docker("logs", "--tail", "30", name, check=False)
                    raise RuntimeError("SeaweedFS did not answer a signed ListBuckets on %s within 60 s:\n%s%s"
                                       % (endpoint, logs.stdout, logs.stderr)) from None
                time.sleep(0.5)
        yield endpoint
    finally:
        _docker("rm", "-f", "-v", name, check=False)


# Each S3 server the S3 modules are tested against: fixture, credentials, whether it checks
# request signatures (moto accepts any credentials).
S3_SERVERS = {
    "moto": ("moto_s3", "test", "moto-secret-0123456789", False),
    "seaweedfs": ("seaweedfs_s3", SEAWEEDFS_ACCESS_KEY, SEAWEEDFS_SECRET_KEY, True),
}


@pytest.fixture(scope="session", params=sorted(S3_SERVERS))
def s3_server(request):
    """One S3 server: {name, endpoint, access_key, secret_key, checks_signatures}."""
    fixture, access_key, secret_key, checks = S3_SERVERS[request.param]
    return {"name": request.param, "endpoint": request.getfixturevalue(fixture),
            "access_key": access_key, "secret_key": secret_key, "checks_signatures": checks}


# Tests whose module calls fail before reaching any server: run against moto only.
SERVERLESS_TESTS = {"test_refused_before_any_request", "test_unreachable_endpoint_is_one_line"}


def pytest_collection_modifyitems(config, items):
    """Debian 12's boto3 is a client concern, covered against moto: against SeaweedFS the tests
    run with the current boto3 only (the signature tests, which are quick, with both), to keep
    the integration stage short."""
    dropped = [item for item in items if "[seaweedfs-boto3-1.26" in item.nodeid
               or ("[seaweedfs-" in item.nodeid and item.originalname in SERVERLESS_TESTS)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def _boto_version(python):
    out = subprocess.run([str(python), "-c", "import boto3, botocore; print(boto3.__version__, botocore.__version__)"],
                         capture_output=True, text=True, timeout=60, check=False)
    return out.stdout.split() if out.returncode == 0 else None


def _boto126_python():
    """The Python of a venv with Debian 12's boto3, built once under .cache/ when missing."""
    python = BOTO126_VENV / "bin" / "python"
    wanted = [spec.split("==")[1] for spec in DEBIAN12_BOTO]
    if python.exists() and _boto_version(python) == wanted:
        return python
    shutil.rmtree(BOTO126_VENV, ignore_errors=True)
    base = shutil.which("python3") or sys.executable
    subprocess.run([base, "-m", "venv", str(BOTO126_VENV)], check=True, timeout=120)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *DEBIAN12_BOTO],
                   check=True, timeout=600)
    version = _boto_version(python)
    if version != wanted:
        raise RuntimeError("%s has boto3/botocore %s, expected %s" % (python, version, wanted))
    return python


INTERPRETERS = {
    "boto3-current": lambda: Path(sys.executable),
    "boto3-1.26": _boto126_python,
}


@pytest.fixture(scope="session", params=sorted(INTERPRETERS))
def target_python(request):
    """The module's interpreter: this venv (current boto3) or Debian 12's boto3 1.26."""
    return str(INTERPRETERS[request.param]())


def run_module(module, args, python, tmp_path, check=False, diff=False, timeout=120):
    """Run one task the way Ansible does (ansible-playbook, local connection) and return its
    result dict as the json callback reports it."""
    return run_module_steps(module, [args], python, tmp_path, check=check, diff=diff, timeout=timeout)[0]


def run_module_steps(module, steps, python, tmp_path, check=False, diff=False, timeout=120, keep_going=False):
    """Run one task per item of steps (the module's arguments), in order, in ONE ansible-playbook
    run, and return their result dicts: the steps of a test that checks the server only at the
    end, without paying Ansible's start-up (about 2 s) for each. A failed step ends the play, so
    the list is shorter than steps and its last result is the failure; with keep_going, every
    step runs (ignore_errors) and each failure is in its own result."""
    playbook = tmp_path / "play.yml"
    # JSON is YAML: the arguments reach the module exactly as given, types included.
    playbook.write_text(json.dumps([{
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [{"name": "module under test, step %d" % index, module: args, "ignore_errors": keep_going}
                  for index, args in enumerate(steps)],
    }]))
    config = tmp_path / "ansible.cfg"
    config.write_text("")
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"),
        ANSIBLE_STDOUT_CALLBACK="json",
        # An empty config: the developer's or the repository's ansible.cfg must not change results.
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
    )
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % python, str(playbook)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=timeout, check=False)
    try:
        report = json.loads(out.stdout)
        results = [task["hosts"]["localhost"] for task in report["plays"][0]["tasks"]]
        if not results:
            raise IndexError
        return results
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible-playbook rc %d\nstdout:\n%s\nstderr:\n%s"
                             % (out.returncode, out.stdout, out.stderr)) from None
