#!/usr/bin/env python
"""How many HTTP requests microops.stack.grafana_datasource makes on a no-change run, and how long
a module call takes: against the Grafana STAND-IN (microops-test/grafana-standin:13.2.0, not a
real Grafana) on loopback, with the three datasources the monitoring role manages (Prometheus,
Alertmanager, Elasticsearch with basic auth and a secret). The stand-in logs every request it
answers; the requests logged during a call are the module's.

Usage: .venv/bin/python benchmarks/grafana_datasource_requests.py [RUNS]   (default 5)
Needs Docker and the stand-in image (tests/harness/up). Leaves nothing behind: the container and
its volume are removed.
"""
import collections
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".venv", "bin")
sys.path.insert(0, ROOT)

# pylint: disable=wrong-import-position
from tests.standins._container import GrafanaStandIn  # noqa: E402

MODULE = "microops.stack.grafana_datasource"
ADMIN_PASSWORD = "bench-admin-" + secrets.token_hex(8)
MARK_PATH = "/api/health?benchmark-mark="

# As roles/monitoring creates them: vars/main.yml _monitoring_datasources, tasks/elasticsearch.yml.
DATASOURCES = [
    {"name": "Prometheus", "uid": "microops-prometheus", "type": "prometheus", "url": "http://prometheus:9090",
     "is_default": True, "json_data": {"httpMethod": "POST"}},
    {"name": "Alertmanager", "uid": "microops-alertmanager", "type": "alertmanager",
     "url": "http://alertmanager:9093", "json_data": {"implementation": "prometheus"}},
    {"name": "Elasticsearch", "uid": "microops-elasticsearch", "type": "elasticsearch",
     "url": "https://10.0.0.5:9200", "basic_auth": True, "basic_auth_user": "microops_grafana",
     "json_data": {"index": "logs-*", "timeField": "@timestamp", "logMessageField": "message",
                   "logLevelField": "log.level", "tlsAuthWithCACert": False},
     "secure_json_data": {"basicAuthPassword": secrets.token_urlsafe(24)}},
]


class StandIn(GrafanaStandIn):
    """The Grafana stand-in with this run's admin password, on a volume of its own."""

    ADMIN_PASSWORD = ADMIN_PASSWORD


def mark(standin, number):
    """A request of our own that is not the module's, then wait until the stand-in logged it:
    every request answered before it is in the log too. Returns the log position after it."""
    path = f"{MARK_PATH}{number}"
    with urllib.request.urlopen(standin.base + path, timeout=5):  # the readiness path: no auth
        pass
    deadline = time.monotonic() + 10
    while True:
        found = [(method, logged) for method, logged, _status in standin.requests()]
        if ("GET", path) in found:
            return found.index(("GET", path)) + 1, found
        if time.monotonic() > deadline:
            sys.exit(f"the stand-in did not log {path} within 10 s")
        time.sleep(0.05)


def module_call(base, datasource):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="json")
    args = json.dumps(dict(datasource, grafana_url=base, url_username="admin", url_password=ADMIN_PASSWORD))
    start = time.monotonic()
    result = subprocess.run(
        [os.path.join(BIN, "ansible"), "localhost", "-m", MODULE, "-a", args,
         "-e", f"ansible_python_interpreter={os.path.join(BIN, 'python')}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
    seconds = time.monotonic() - start
    try:
        outcome = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        sys.exit(f"ansible rc {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    if outcome.get("failed"):
        sys.exit(f"module failed for {datasource['uid']}: {outcome.get('msg')}")
    return outcome["changed"], seconds


def main(runs="5"):
    runs = int(runs)
    standin = StandIn()
    figures = {}
    try:
        standin.run()
        for datasource in DATASOURCES:
            changed, _seconds = module_call(standin.base, datasource)
            assert changed, f"the first call must create {datasource['uid']}"
        number = 0
        for datasource in DATASOURCES:
            counts, times, seen = [], [], collections.Counter()
            for _index in range(runs):
                number += 1
                before, _found = mark(standin, f"{number}a")
                changed, seconds = module_call(standin.base, datasource)
                assert not changed, f"a no-change call of {datasource['uid']} reported a change"
                after, found = mark(standin, f"{number}b")
                during = found[before:after - 1]
                counts.append(len(during))
                times.append(seconds)
                seen.update(f"{method} {path}" for method, path in during)
            figures[datasource["uid"]] = (counts, times, seen)
    finally:
        standin.remove()
    print(f"grafana_datasource no-change call, the monitoring role's datasources, {runs} runs each"
          " against the Grafana stand-in on loopback:")
    for uid, (counts, times, seen) in figures.items():
        print(f"  {uid}:")
        print(f"    HTTP requests per call: {min(counts)}..{max(counts)}")
        for request, total in sorted(seen.items()):
            print(f"      {request}  ({total / runs:g} per call)")
        print(f"    wall time per call (ansible ad-hoc, incl. start-up): mean {sum(times) / len(times):.2f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
