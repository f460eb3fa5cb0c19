"""The monitoring role's dashboards: valid JSON bound to the Prometheus datasource's uid, and
every query accepted by the real PromQL parser (promtool of the harness's Prometheus image)."""

import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARDS = os.path.join(ROOT, "roles", "monitoring", "files", "dashboards")
FILES = sorted(f for f in os.listdir(DASHBOARDS) if f.endswith(".json"))


def queries(dashboard):
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield panel, target


@pytest.mark.parametrize("name", FILES)
def test_dashboard_uses_the_provisioned_datasource(name):
    with open(os.path.join(DASHBOARDS, name), encoding="utf-8") as handle:
        dashboard = json.load(handle)
    assert dashboard["uid"].startswith("microops-") and dashboard["title"]
    for panel, target in queries(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": "microops-prometheus"}
        assert target["datasource"]["uid"] == "microops-prometheus"


def test_every_query_parses(tmp_path):
    # promtool has no "check expression": recording rules make it parse each one.
    rules = []
    for name in FILES:
        with open(os.path.join(DASHBOARDS, name), encoding="utf-8") as handle:
            for index, (_panel, target) in enumerate(queries(json.load(handle))):
                expr = target["expr"].replace("$instance", ".*").replace("$service", ".*")
                rules.append({"record": f"check:{name[:-5]}:{index}", "expr": expr})
    (tmp_path / "rules.yml").write_text(json.dumps({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--user", "0", "--volume", f"{tmp_path}:/check:ro",
         "--entrypoint", "/bin/promtool", "microops-test/prometheus:2.42", "check", "rules", "/check/rules.yml"],
        capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
