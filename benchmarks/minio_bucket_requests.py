#!/usr/bin/env python
"""How many S3 requests microops.stack.minio_bucket makes on a no-change run, and how long a
module call takes: against moto's S3 server on loopback, with every option set.

Usage: .venv/bin/python benchmarks/minio_bucket_requests.py [RUNS]   (default 5)
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".venv", "bin")
ARGS = {
    "name": "bench", "versioning": "enabled", "policy": "download",
    "tags": {"team": "web"},
    "lifecycle_rules": [{"id": "tmp", "prefix": "tmp/", "status": "enabled", "expiration_days": 7}],
    "access_key": "benchmark", "secret_key": "benchmark-secret", "region": "us-east-1",
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def module_call(endpoint):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="json")
    args = json.dumps(dict(ARGS, endpoint_url=endpoint))
    start = time.monotonic()
    result = subprocess.run(
        [os.path.join(BIN, "ansible"), "localhost", "-m", "microops.stack.minio_bucket", "-a", args,
         "-e", f"ansible_python_interpreter={os.path.join(BIN, 'python')}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
    seconds = time.monotonic() - start
    outcome = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    if outcome.get("failed"):
        sys.exit(f"module failed: {outcome.get('msg')}")
    return outcome["changed"], seconds


def main(runs="5"):
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen([os.path.join(BIN, "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            endpoint = f"http://127.0.0.1:{port}"
            for _attempt in range(100):
                try:
                    urllib.request.urlopen(endpoint, timeout=1)  # pylint: disable=consider-using-with
                    break
                except OSError:
                    time.sleep(0.1)
            changed, _seconds = module_call(endpoint)
            assert changed, "the first call must create the bucket"
            counts, times = [], []
            for _index in range(int(runs)):
                log.seek(0, os.SEEK_END)
                mark = log.tell()
                changed, seconds = module_call(endpoint)
                assert not changed, "a no-change call reported a change"
                time.sleep(0.2)  # let the server flush its access log
                log.seek(mark)
                counts.append(sum(1 for line in log if '" 200 ' in line or '" 404 ' in line))
                times.append(seconds)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"minio_bucket no-change call, every option set, {runs} runs against moto on loopback:")
    print(f"  S3 requests per call: {min(counts)}..{max(counts)}")
    print(f"  wall time per call (ansible ad-hoc, incl. start-up): mean {sum(times) / len(times):.2f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
