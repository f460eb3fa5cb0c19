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
    playbook = tmp_path / "play.yml"
    # JSON is YAML: the arguments reach the module exactly as given, types included.
    playbook.write_text(json.dumps([{
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [{"name": "module under test", module: args}],
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
        return report["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible-playbook rc %d\nstdout:\n%s\nstderr:\n%s"
                             % (out.returncode, out.stdout, out.stderr)) from None
