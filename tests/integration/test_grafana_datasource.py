# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""microops.stack.grafana_datasource through ansible-playbook against the Grafana STAND-IN
(microops-test/grafana-standin:13.2.0, tests/standins/grafana/README.md), not a real Grafana:
one stand-in container per module (tests/standins/_container.py) on a loopback port, plus a second
one with a provisioning file for the read-only test. Every datasource lives in the stand-in's
sqlite store and is read back through its HTTP API with basic auth. Needs the engine and the image
from tests/harness/up."""

from __future__ import annotations

import json
import re
import sys

import pytest
from _container import GrafanaStandIn  # tests/standins/_container.py, on sys.path through conftest.py

from .conftest import free_port, run_module

MODULE = "microops.stack.grafana_datasource"
# Not a substring of anything in the results: Ansible masks no_log values wherever they appear.
PASSWORD = "standin-admin-Pw-7q3x"
SECRET = "standin-secret-Zk81v"


class StandIn(GrafanaStandIn):
    """One Grafana stand-in container with this module's admin password and its own named volume,
    port 3000 published on 127.0.0.1."""

    ADMIN_PASSWORD = PASSWORD

    def datasource(self, uid):
        """The datasource as the stand-in's API returns it, or None."""
        status, body = self.call("GET", "/api/datasources/uid/%s" % uid)
        if status == 404:
            return None
        assert status == 200, (status, body)
        return body


@pytest.fixture(scope="module", name="grafana")
def grafana_standin():
    """ONE Grafana stand-in container for this module; container and volume removed afterwards."""
    standin = StandIn()
    try:
        yield standin.run()
    finally:
        standin.remove()


@pytest.fixture(name="uid")
def uid_fixture(request):
    """A datasource uid (and name) per test, so tests do not depend on each other."""
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    return base[-40:].strip("-")


@pytest.fixture(name="run")
def run_fixture(grafana, tmp_path):
    def call(check=False, diff=False, auth=None, standin=None, **args):
        target = standin or grafana
        connection = auth if auth is not None else {"url_username": "admin", "url_password": PASSWORD}
        args = dict({"grafana_url": target.base}, **connection, **args)
        return run_module(MODULE, args, sys.executable, tmp_path, check=check, diff=diff)
    return call


def prometheus(uid, **extra):
    args = dict(name=uid, uid=uid, type="prometheus", url="http://prometheus:9090",
                json_data={"httpMethod": "POST", "timeInterval": "15s"})
    args.update(extra)
    return args


def test_standin_create_then_unchanged_with_one_get(run, grafana, uid):
    result = run(**prometheus(uid))
    assert result["changed"] is True, result
    live = grafana.datasource(uid)
    assert live["uid"] == uid and live["name"] == uid
    assert live["type"] == "prometheus"
    assert live["url"] == "http://prometheus:9090"
    assert live["access"] == "proxy"
    assert live["jsonData"] == {"httpMethod": "POST", "timeInterval": "15s"}
    assert result["datasource"]["uid"] == uid
    assert result["datasource"]["jsonData"] == live["jsonData"]

    before = len(grafana.requests())
    again = run(**prometheus(uid))
    during = grafana.requests()[before:]
    assert again["changed"] is False, again
    assert again["datasource"] == live
    # The stand-in logs every request (BaseHTTPRequestHandler.log_message to docker logs).
    assert during == [("GET", "/api/datasources/uid/%s" % uid, 200)], during
    assert grafana.datasource(uid) == live


def test_standin_update_one_field_keeps_others(run, grafana, uid):
    assert run(**prometheus(uid, user="reader", database="metrics"))["changed"] is True
    old = grafana.datasource(uid)

    result = run(name=uid, uid=uid, url="http://prometheus-2:9090")
    assert result["changed"] is True, result
    live = grafana.datasource(uid)
    assert live["url"] == "http://prometheus-2:9090"
    assert live["version"] > old["version"]
    for field in ("name", "type", "access", "user", "database", "jsonData", "isDefault", "basicAuth", "id"):
        assert live[field] == old[field], field
    assert run(name=uid, uid=uid, url="http://prometheus-2:9090")["changed"] is False


def test_standin_check_mode_writes_nothing(run, grafana, uid):
    result = run(check=True, diff=True, **prometheus(uid))
    assert result["changed"] is True, result
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["url"] == "http://prometheus:9090"
    assert grafana.datasource(uid) is None

    assert run(**prometheus(uid))["changed"] is True
    stored = grafana.datasource(uid)
    result = run(check=True, **prometheus(uid, url="http://elsewhere:9090", json_data={"httpMethod": "GET"}))
    assert result["changed"] is True, result
    assert result["datasource"]["url"] == "http://elsewhere:9090"
    assert grafana.datasource(uid) == stored

    result = run(check=True, name=uid, uid=uid, state="absent")
    assert result["changed"] is True, result
    assert grafana.datasource(uid) == stored


def test_standin_diff_before_after(run, grafana, uid):
    created = run(diff=True, **prometheus(uid))
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"]["uid"] == uid
    assert created["diff"]["after"]["jsonData"] == {"httpMethod": "POST", "timeInterval": "15s"}

    result = run(diff=True, **prometheus(uid, json_data={"httpMethod": "GET"}))
    assert result["changed"] is True, result
    assert result["diff"]["before"]["jsonData"] == {"httpMethod": "POST", "timeInterval": "15s"}
    assert result["diff"]["after"]["jsonData"] == {"httpMethod": "GET", "timeInterval": "15s"}
    assert result["diff"]["before"]["url"] == result["diff"]["after"]["url"] == "http://prometheus:9090"
    assert grafana.datasource(uid)["jsonData"] == {"httpMethod": "GET", "timeInterval": "15s"}

    deleted = run(diff=True, name=uid, uid=uid, state="absent")
    assert deleted["diff"]["before"]["uid"] == uid
    assert deleted["diff"]["after"] == {}


def test_standin_purge_json_data(run, grafana, uid):
    assert run(**prometheus(uid))["changed"] is True
    live = grafana.datasource(uid)
    body = {key: live[key] for key in ("name", "uid", "type", "access", "url", "version")}
    body["jsonData"] = dict(live["jsonData"], manualKey="set-in-ui")
    assert grafana.call("PUT", "/api/datasources/uid/%s" % uid, body)[0] == 200

    kept = run(**prometheus(uid, json_data={"httpMethod": "GET"}))
    assert kept["changed"] is True, kept
    assert grafana.datasource(uid)["jsonData"] == {"httpMethod": "GET", "timeInterval": "15s", "manualKey": "set-in-ui"}
    assert run(**prometheus(uid, json_data={"httpMethod": "GET"}))["changed"] is False

    purged = run(purge_json_data=True, **prometheus(uid, json_data={"httpMethod": "GET"}))
    assert purged["changed"] is True, purged
    assert grafana.datasource(uid)["jsonData"] == {"httpMethod": "GET"}
    assert run(purge_json_data=True, **prometheus(uid, json_data={"httpMethod": "GET"}))["changed"] is False


def test_standin_secure_json_data_on_create(run, grafana, uid):
    args = prometheus(uid, basic_auth=True, basic_auth_user="reader", secure_json_data={"basicAuthPassword": SECRET})
    result = run(**args)
    assert result["changed"] is True, result
    assert SECRET not in json.dumps(result)
    live = grafana.datasource(uid)
    assert live["secureJsonFields"] == {"basicAuthPassword": True}
    assert "secureJsonData" not in live

    again = run(**args)
    assert again["changed"] is False, again
    assert again["datasource"]["secureJsonFields"] == {"basicAuthPassword": True}
    assert grafana.datasource(uid)["version"] == live["version"]

    # A new value of a key already set is not detected with on_create.
    assert run(**dict(args, secure_json_data={"basicAuthPassword": SECRET + "-new"}))["changed"] is False


def test_standin_secure_json_data_always(run, grafana, uid):
    args = prometheus(uid, secure_json_data={"httpHeaderValue1": SECRET}, update_secure_json_data="always",
                      json_data={"httpHeaderName1": "X-Scope"})
    assert run(**args)["changed"] is True
    first = grafana.datasource(uid)
    for dummy in range(2):
        result = run(**args)
        assert result["changed"] is True, result
        assert SECRET not in json.dumps(result)
    live = grafana.datasource(uid)
    assert live["secureJsonFields"] == {"httpHeaderValue1": True}
    assert live["version"] > first["version"]


def test_standin_is_default_unset_never_compared(run, grafana, uid):
    assert run(**prometheus(uid, is_default=True))["changed"] is True
    assert grafana.datasource(uid)["isDefault"] is True

    # is_default left out: not compared, and an update of another field keeps the flag.
    assert run(**prometheus(uid))["changed"] is False
    assert run(**prometheus(uid, url="http://prometheus-3:9090"))["changed"] is True
    live = grafana.datasource(uid)
    assert live["isDefault"] is True
    assert live["url"] == "http://prometheus-3:9090"

    other = uid[:30] + "-other"
    assert run(**prometheus(other))["changed"] is True
    assert grafana.datasource(other)["isDefault"] is False
    assert run(**prometheus(other))["changed"] is False
    assert grafana.datasource(uid)["isDefault"] is True


def test_standin_state_absent(run, grafana, uid):
    assert run(name=uid, uid=uid, state="absent")["changed"] is False
    assert run(**prometheus(uid))["changed"] is True
    result = run(name=uid, uid=uid, state="absent")
    assert result["changed"] is True, result
    assert result["datasource"] == {}
    assert grafana.datasource(uid) is None
    assert run(name=uid, uid=uid, state="absent")["changed"] is False


def test_standin_provisioned_read_only(run, tmp_path):
    provisioning = tmp_path / "x.yaml"
    provisioning.write_text("apiVersion: 1\ndatasources:\n  - name: Provisioned\n    type: prometheus\n"
                            "    uid: provisioned\n    url: http://prometheus:9090\n    access: proxy\n")
    provisioning.chmod(0o644)
    standin = StandIn(mounts=("%s:/etc/grafana/provisioning/datasources/x.yaml:ro" % provisioning,))
    try:
        standin.run()
        stored = standin.datasource("provisioned")
        assert stored["readOnly"] is True

        for args, action in (({"url": "http://other:9090"}, "changed"), ({"state": "absent"}, "deleted")):
            result = run(standin=standin, name="Provisioned", uid="provisioned", **args)
            assert result.get("failed") is True, result
            assert "is provisioned (read-only) and cannot be %s" % action in result["msg"], result["msg"]
            assert "provisioning files" in result["msg"]
        # Unchanged is not an error, and nothing was written.
        unchanged = run(standin=standin, name="Provisioned", uid="provisioned", url="http://prometheus:9090")
        assert unchanged["changed"] is False, unchanged
        assert standin.datasource("provisioned") == stored
        assert not [r for r in standin.requests() if r[0] in ("PUT", "DELETE", "POST")]
    finally:
        standin.remove()


@pytest.fixture(name="token")
def token_fixture(grafana, uid):
    status, account = grafana.call("POST", "/api/serviceaccounts", {"name": "ansible-%s" % uid, "role": "Admin"})
    assert status == 201, account
    status, token = grafana.call("POST", "/api/serviceaccounts/%d/tokens" % account["id"], {"name": "t-%s" % uid})
    assert status == 200, token
    return token["key"]


def test_standin_bearer_token(run, grafana, uid, token):
    auth = {"grafana_token": token}
    result = run(auth=auth, **prometheus(uid))
    assert result["changed"] is True, result
    assert token not in json.dumps(result)
    assert grafana.datasource(uid)["url"] == "http://prometheus:9090"
    assert run(auth=auth, **prometheus(uid))["changed"] is False
    assert run(auth=auth, name=uid, uid=uid, state="absent")["changed"] is True
    assert grafana.datasource(uid) is None


def test_standin_token_org_mismatch(run, grafana, uid, token):
    result = run(auth={"grafana_token": token}, org_id=2, **prometheus(uid))
    assert result.get("failed") is True, result
    assert "API key does not belong to the requested organization" in result["msg"], result["msg"]
    assert "token was refused for organisation 2" in result["msg"], result["msg"]
    assert "\n" not in result["msg"]
    assert grafana.datasource(uid) is None


def test_standin_health_check_fails_with_grafana_message(run, grafana, uid):
    dead = "http://127.0.0.1:%d" % free_port()  # inside the container: nothing listens there
    result = run(health_check=True, **prometheus(uid, url=dead))
    assert result.get("failed") is True, result
    assert result["changed"] is True
    assert "was saved but does not work: Grafana's health check says:" in result["msg"], result["msg"]
    assert "There was an error returned querying the Prometheus API." in result["msg"], result["msg"]
    assert result["health"]["status"] == "ERROR"
    assert result["health"]["message"] in result["msg"]
    # The change is kept.
    assert grafana.datasource(uid)["url"] == dead
    # Unchanged: no health check is run, so no failure.
    again = run(health_check=True, **prometheus(uid, url=dead))
    assert again["changed"] is False and not again.get("failed"), again
    assert "health" not in again
