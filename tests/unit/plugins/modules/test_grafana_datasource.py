import json
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.microops.stack.plugins.module_utils import _http
from ansible_collections.microops.stack.plugins.modules import grafana_datasource

GRAFANA = "http://127.0.0.1:3000"
NOT_FOUND = (404, {"message": "Data source not found"})

LIVE = {
    "id": 3, "uid": "prom", "orgId": 1, "name": "Prometheus", "type": "prometheus",
    "typeLogoUrl": "public/plugins/prometheus/img/prometheus_logo.svg", "access": "proxy",
    "url": "http://prometheus:9090", "user": "", "database": "", "basicAuth": False, "basicAuthUser": "",
    "withCredentials": False, "isDefault": True, "jsonData": {"httpMethod": "POST", "timeInterval": "15s"},
    "secureJsonFields": {}, "version": 2, "readOnly": False,
}


def grafana(routes):
    """A stand-in for send(): answers (method, path) from `routes` as Grafana would, as JSON."""
    def send(method, url, data=None, headers=None, **options):
        path = url[len(GRAFANA):]
        if (method, path) not in routes:
            raise AssertionError("unexpected request %s %s" % (method, path))
        status, body = routes[(method, path)]
        return status, json.dumps(body).encode() if body is not None else b""
    return send


def run(args, routes, capsys, check_mode=False, diff=False):
    """main() with send() patched: the one seam, where every request leaves the collection."""
    args = dict({"grafana_url": GRAFANA, "url_username": "admin", "url_password": "pw-unit-0123",
                 "name": "Prometheus", "uid": "prom", "type": "prometheus"}, **args)
    # None means "not given": AnsibleModule counts a key passed as None as set (mutually_exclusive).
    args = dict((key, value) for key, value in args.items() if value is not None)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with mock.patch.object(_http, "send", side_effect=grafana(routes)) as send, patch_module_args(args):
        with pytest.raises(SystemExit):
            grafana_datasource.main()
    return json.loads(capsys.readouterr().out), send


def requests(send):
    """Every request as (method, path, body)."""
    return [(c.args[0], c.args[1][len(GRAFANA):], json.loads(c.kwargs["data"]) if c.kwargs["data"] else None)
            for c in send.call_args_list]


def test_create_posts_the_users_fields(capsys):
    created = dict(LIVE, version=1, jsonData={"httpMethod": "POST"}, secureJsonFields={"basicAuthPassword": True})
    result, send = run(
        {"url": "http://prometheus:9090", "json_data": {"httpMethod": "POST"}, "basic_auth": True,
         "basic_auth_user": "reader", "secure_json_data": {"basicAuthPassword": "s3cret-unit"}},
        {("GET", "/api/datasources/uid/prom"): NOT_FOUND,
         ("POST", "/api/datasources"): (200, {"id": 3, "message": "Datasource added", "name": "Prometheus", "datasource": created})},
        capsys)
    assert result["changed"] is True
    assert requests(send) == [
        ("GET", "/api/datasources/uid/prom", None),
        ("POST", "/api/datasources", {
            "name": "Prometheus", "uid": "prom", "type": "prometheus", "url": "http://prometheus:9090", "access": "proxy",
            "basicAuth": True, "basicAuthUser": "reader", "jsonData": {"httpMethod": "POST"},
            "secureJsonData": {"basicAuthPassword": "s3cret-unit"}}),
    ]
    assert result["datasource"] == created
    assert "s3cret-unit" not in json.dumps(result)


def test_every_request_carries_org_header_and_basic_auth_up_front(capsys):
    result, send = run({"org_id": 4}, {("GET", "/api/datasources/uid/prom"): (200, dict(LIVE, orgId=4))}, capsys)
    assert result["changed"] is False
    assert send.call_count == 1
    kwargs = send.call_args.kwargs
    assert kwargs["headers"]["X-Grafana-Org-Id"] == "4"
    assert "Authorization" not in kwargs["headers"]
    assert (kwargs["url_username"], kwargs["url_password"], kwargs["force_basic_auth"]) == ("admin", "pw-unit-0123", True)


def test_bearer_token_instead_of_basic_auth(capsys):
    args = {"url_username": None, "url_password": None, "grafana_token": "glsa_unit_token"}
    result, send = run(args, {("GET", "/api/datasources/uid/prom"): (200, LIVE)}, capsys)
    assert result["changed"] is False
    kwargs = send.call_args.kwargs
    assert kwargs["headers"]["Authorization"] == "Bearer glsa_unit_token"
    assert kwargs["headers"]["X-Grafana-Org-Id"] == "1"
    assert "force_basic_auth" not in kwargs and "url_username" not in kwargs


def test_token_and_basic_auth_are_mutually_exclusive(capsys):
    result, send = run({"grafana_token": "glsa_unit_token"}, {}, capsys)
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"]
    assert send.call_count == 0


def test_no_change_sends_no_write(capsys):
    result, send = run({"url": "http://prometheus:9090", "json_data": {"httpMethod": "POST"}, "is_default": True},
                       {("GET", "/api/datasources/uid/prom"): (200, LIVE)}, capsys)
    assert result["changed"] is False
    assert send.call_count == 1
    assert result["datasource"] == LIVE


def test_update_puts_the_current_datasource_merged_with_version(capsys):
    updated = dict(LIVE, url="http://new:9090", version=3)
    result, send = run({"url": "http://new:9090", "json_data": {"timeInterval": "30s"}},
                       {("GET", "/api/datasources/uid/prom"): (200, LIVE),
                        ("PUT", "/api/datasources/uid/prom"): (200, {"id": 3, "message": "Datasource updated", "datasource": updated})},
                       capsys)
    assert result["changed"] is True
    assert send.call_count == 2
    assert requests(send)[1] == ("PUT", "/api/datasources/uid/prom", {
        "name": "Prometheus", "uid": "prom", "type": "prometheus", "access": "proxy", "url": "http://new:9090",
        "user": "", "database": "", "basicAuth": False, "basicAuthUser": "", "withCredentials": False,
        "isDefault": True, "jsonData": {"httpMethod": "POST", "timeInterval": "30s"}, "version": 2})
    assert result["datasource"] == updated


def test_update_with_purge_json_data_replaces_it(capsys):
    result, send = run({"json_data": {"httpMethod": "POST"}, "purge_json_data": True},
                       {("GET", "/api/datasources/uid/prom"): (200, LIVE),
                        ("PUT", "/api/datasources/uid/prom"): (200, {"datasource": LIVE})}, capsys)
    assert result["changed"] is True
    assert requests(send)[1][2]["jsonData"] == {"httpMethod": "POST"}


def test_check_mode_sends_no_write_and_diff_shows_before_and_after(capsys):
    result, send = run({"url": "http://new:9090"}, {("GET", "/api/datasources/uid/prom"): (200, LIVE)},
                       capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert send.call_count == 1
    assert result["datasource"]["url"] == "http://new:9090"
    assert result["diff"]["before"]["url"] == "http://prometheus:9090"
    assert result["diff"]["after"]["url"] == "http://new:9090"
    assert "version" not in result["diff"]["before"] and "id" not in result["diff"]["after"]


def test_check_mode_create(capsys):
    result, send = run({"secure_json_data": {"password": "s3cret-unit"}}, {("GET", "/api/datasources/uid/prom"): NOT_FOUND},
                       capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert send.call_count == 1
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["secureJsonFields"] == ["password"]
    assert "s3cret-unit" not in json.dumps(result)


@pytest.mark.parametrize(
    ("fields", "mode", "put"),
    [({"password": True}, "on_create", False), ({}, "on_create", True), ({"password": True}, "always", True)],
)
def test_secrets_on_create_and_always(capsys, fields, mode, put):
    routes = {("GET", "/api/datasources/uid/prom"): (200, dict(LIVE, secureJsonFields=fields)),
              ("PUT", "/api/datasources/uid/prom"): (200, {"datasource": dict(LIVE, secureJsonFields={"password": True})})}
    result, send = run({"secure_json_data": {"password": "s3cret-unit"}, "update_secure_json_data": mode}, routes, capsys)
    assert result["changed"] is put
    if put:
        assert requests(send)[1][2]["secureJsonData"] == {"password": "s3cret-unit"}
    else:
        assert send.call_count == 1


def test_lookup_by_name_without_uid(capsys):
    result, send = run({"uid": None, "name": "My Prom/1"}, {
        ("GET", "/api/datasources/name/My%20Prom%2F1"): (200, dict(LIVE, name="My Prom/1"))}, capsys)
    assert result["changed"] is False
    assert send.call_count == 1


def test_create_needs_a_type(capsys):
    result, send = run({"type": None}, {("GET", "/api/datasources/uid/prom"): NOT_FOUND}, capsys)
    assert result["failed"] is True
    assert "type is required" in result["msg"]
    assert send.call_count == 1


def test_type_alias_is_no_change(capsys):
    result, send = run({"type": "postgres"}, {("GET", "/api/datasources/uid/prom"): (200, dict(LIVE, type="grafana-postgresql-datasource"))},
                       capsys)
    assert result["changed"] is False
    assert send.call_count == 1


@pytest.mark.parametrize("uid", ["x" * 41, "has space", "dot.ted"])
def test_invalid_uid_fails_before_any_request(capsys, uid):
    result, send = run({"uid": uid}, {}, capsys)
    assert result["failed"] is True
    assert "uid" in result["msg"]
    assert send.call_count == 0


def test_absent_deletes(capsys):
    result, send = run({"state": "absent"}, {
        ("GET", "/api/datasources/uid/prom"): (200, LIVE),
        ("DELETE", "/api/datasources/uid/prom"): (200, {"id": 3, "message": "Data source deleted"})}, capsys, diff=True)
    assert result["changed"] is True
    assert requests(send) == [("GET", "/api/datasources/uid/prom", None), ("DELETE", "/api/datasources/uid/prom", None)]
    assert result["datasource"] == {}
    assert result["diff"]["after"] == {}


def test_absent_when_missing_is_only_a_lookup(capsys):
    result, send = run({"state": "absent"}, {("GET", "/api/datasources/uid/prom"): NOT_FOUND}, capsys)
    assert result["changed"] is False
    assert send.call_count == 1


def test_absent_check_mode_does_not_delete(capsys):
    result, send = run({"state": "absent"}, {("GET", "/api/datasources/uid/prom"): (200, LIVE)}, capsys, check_mode=True)
    assert result["changed"] is True
    assert send.call_count == 1


def test_absent_by_name_deletes_the_found_uid(capsys):
    result, send = run({"state": "absent", "uid": None}, {
        ("GET", "/api/datasources/name/Prometheus"): (200, LIVE),
        ("DELETE", "/api/datasources/uid/prom"): (200, {"message": "Data source deleted"})}, capsys)
    assert result["changed"] is True
    assert send.call_count == 2


@pytest.mark.parametrize("state", ["present", "absent"])
def test_provisioned_datasource_is_refused_before_writing(capsys, state):
    result, send = run({"state": state, "url": "http://new:9090"},
                       {("GET", "/api/datasources/uid/prom"): (200, dict(LIVE, readOnly=True))}, capsys)
    assert result["failed"] is True
    assert "provisioned (read-only)" in result["msg"]
    assert send.call_count == 1


def test_read_only_403_from_grafana_is_explained(capsys):
    result, send = run({"url": "http://new:9090"}, {
        ("GET", "/api/datasources/uid/prom"): (200, LIVE),
        ("PUT", "/api/datasources/uid/prom"): (403, {"message": "Cannot update read-only data source"})}, capsys)
    assert result["failed"] is True
    assert ("PUT %s/api/datasources/uid/prom: HTTP 403: Cannot update read-only data source" % GRAFANA) in result["msg"]
    assert "provisioning" in result["msg"]
    assert send.call_count == 2


def test_token_of_another_organisation_is_explained(capsys):
    result, send = run({"url_username": None, "url_password": None, "grafana_token": "glsa_unit_token", "org_id": 2}, {
        ("GET", "/api/datasources/uid/prom"): (401, {"message": "API key does not belong to the requested organization"})},
        capsys)
    assert result["failed"] is True
    assert "HTTP 401: API key does not belong to the requested organization" in result["msg"]
    assert "organisation 2" in result["msg"] and "X-Grafana-Org-Id" in result["msg"]
    assert send.call_count == 1


def test_duplicate_name_409_is_explained(capsys):
    result, send = run({}, {
        ("GET", "/api/datasources/uid/prom"): NOT_FOUND,
        ("POST", "/api/datasources"): (409, {"message": "data source with the same name already exists"})}, capsys)
    assert result["failed"] is True
    assert "HTTP 409: data source with the same name already exists" in result["msg"]
    assert "under another uid" in result["msg"]


def test_health_check_after_change(capsys):
    routes = {("GET", "/api/datasources/uid/prom"): NOT_FOUND,
              ("POST", "/api/datasources"): (200, {"datasource": LIVE}),
              ("GET", "/api/datasources/uid/prom/health"): (200, {"status": "OK", "message": "Successfully queried the Prometheus API."})}
    result, send = run({"health_check": True}, routes, capsys)
    assert result["changed"] is True
    assert result["health"]["status"] == "OK"
    assert requests(send)[-1] == ("GET", "/api/datasources/uid/prom/health", None)


def test_health_check_failure_fails_with_graphanas_message(capsys):
    routes = {("GET", "/api/datasources/uid/prom"): (200, LIVE),
              ("PUT", "/api/datasources/uid/prom"): (200, {"datasource": dict(LIVE, url="http://nowhere:9090")}),
              ("GET", "/api/datasources/uid/prom/health"): (400, {
                  "status": "ERROR", "message": "Post \"http://nowhere:9090/api/v1/query\": dial tcp: lookup nowhere: no such host"})}
    result, send = run({"url": "http://nowhere:9090", "health_check": True}, routes, capsys)
    assert result["failed"] is True
    assert result["changed"] is True
    assert "does not work" in result["msg"] and "lookup nowhere: no such host" in result["msg"]
    assert send.call_count == 3


def test_health_check_skipped_without_change(capsys):
    result, send = run({"health_check": True}, {("GET", "/api/datasources/uid/prom"): (200, LIVE)}, capsys)
    assert result["changed"] is False
    assert "health" not in result
    assert send.call_count == 1
