import json
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.microops.stack.plugins.module_utils import _http
from ansible_collections.microops.stack.plugins.modules import kibana_data_view

KIBANA = "http://127.0.0.1:5601"
VIEW = "/api/data_views/data_view/microops-logs"
COLLECTION = "/api/data_views/data_view"
NOT_FOUND = (404, {"statusCode": 404, "error": "Not Found",
                   "message": "Saved object [index-pattern/microops-logs] not found"})

LIVE = {
    "id": "microops-logs", "version": "WzEwLDFd", "title": "logs-microops-*", "name": "Stack logs",
    "timeFieldName": "@timestamp", "sourceFilters": [], "typeMeta": {}, "fieldFormats": {}, "fieldAttrs": {},
    "runtimeFieldMap": {}, "allowNoIndex": False, "namespaces": ["default"],
    "fields": {"@timestamp": {"name": "@timestamp", "type": "date"}},
}
ARGS = {"id": "microops-logs", "name": "Stack logs", "title": "logs-microops-*", "time_field": "@timestamp"}


def kibana(routes):
    def send(method, url, data=None, headers=None, **options):
        assert url.startswith(KIBANA)
        path = url[len(KIBANA):]
        if (method, path) not in routes:
            raise AssertionError("unexpected request %s %s" % (method, path))
        status, body = routes[(method, path)]
        return status, json.dumps(body).encode() if body is not None else b""
    return send


def run(args, routes, capsys, check_mode=False, diff=False):
    args = dict(dict({"kibana_url": KIBANA, "url_username": "admin", "url_password": "pw-unit-0123"}, **ARGS), **args)
    args = dict((key, value) for key, value in args.items() if value is not None)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with mock.patch.object(_http, "send", side_effect=kibana(routes)) as send, patch_module_args(args):
        with pytest.raises(SystemExit):
            kibana_data_view.main()
    return json.loads(capsys.readouterr().out), send


def requests(send):
    return [(c.args[0], c.args[1][len(KIBANA):], json.loads(c.kwargs["data"]) if c.kwargs.get("data") else None)
            for c in send.call_args_list]


def assert_xsrf_on_every_request(send):
    assert send.call_count >= 1
    for call in send.call_args_list:
        assert call.kwargs["headers"]["kbn-xsrf"] == "true"


def test_no_change_is_one_get(capsys):
    result, send = run({}, {("GET", VIEW): (200, {"data_view": LIVE})}, capsys)
    assert result["changed"] is False
    assert requests(send) == [("GET", VIEW, None)]
    assert_xsrf_on_every_request(send)
    assert "fields" not in result["data_view"]
    assert result["data_view"]["timeFieldName"] == "@timestamp"


def test_create_posts_the_fields_set(capsys):
    created = dict(LIVE, fields={})
    result, send = run({}, {("GET", VIEW): NOT_FOUND, ("POST", COLLECTION): (200, {"data_view": created})}, capsys)
    assert result["changed"] is True
    assert requests(send) == [("GET", VIEW, None), ("POST", COLLECTION, {"data_view": {
        "id": "microops-logs", "name": "Stack logs", "title": "logs-microops-*", "timeFieldName": "@timestamp"}})]
    assert_xsrf_on_every_request(send)
    assert send.call_args.kwargs["url_username"] == "admin"
    assert result["data_view"]["id"] == "microops-logs"


def test_create_without_name_or_time_field_sends_neither(capsys):
    result, send = run({"name": None, "time_field": None},
                       {("GET", VIEW): NOT_FOUND, ("POST", COLLECTION): (200, {"data_view": LIVE})}, capsys)
    assert requests(send)[1][2] == {"data_view": {"id": "microops-logs", "title": "logs-microops-*"}}


def test_create_needs_a_title(capsys):
    result, send = run({"title": None}, {("GET", VIEW): NOT_FOUND}, capsys)
    assert result["failed"] is True
    assert "title is required" in result["msg"]
    assert send.call_count == 1


def test_update_posts_only_the_changed_fields(capsys):
    updated = dict(LIVE, timeFieldName="event.created")
    result, send = run({"time_field": "event.created"},
                       {("GET", VIEW): (200, {"data_view": LIVE}), ("POST", VIEW): (200, {"data_view": updated})},
                       capsys, diff=True)
    assert result["changed"] is True
    assert requests(send) == [("GET", VIEW, None), ("POST", VIEW, {"data_view": {"timeFieldName": "event.created"}})]
    assert_xsrf_on_every_request(send)
    assert result["diff"]["before"]["timeFieldName"] == "@timestamp"
    assert result["diff"]["after"]["timeFieldName"] == "event.created"
    assert result["data_view"]["timeFieldName"] == "event.created"


def test_check_mode_update_makes_no_write(capsys):
    result, send = run({"name": "Logs"}, {("GET", VIEW): (200, {"data_view": LIVE})}, capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert send.call_count == 1
    assert result["data_view"]["name"] == "Logs"
    assert result["diff"] == {
        "before": {"id": "microops-logs", "name": "Stack logs", "title": "logs-microops-*", "timeFieldName": "@timestamp"},
        "after": {"id": "microops-logs", "name": "Logs", "title": "logs-microops-*", "timeFieldName": "@timestamp"}}


def test_check_mode_create_makes_no_write(capsys):
    result, send = run({}, {("GET", VIEW): NOT_FOUND}, capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert send.call_count == 1
    assert result["diff"]["before"] == {}
    assert result["data_view"] == {"id": "microops-logs", "name": "Stack logs", "title": "logs-microops-*",
                                   "timeFieldName": "@timestamp"}


def test_space_prefix_on_every_request(capsys):
    routes = {("GET", "/s/ops" + VIEW): NOT_FOUND, ("POST", "/s/ops" + COLLECTION): (200, {"data_view": LIVE})}
    result, send = run({"space": "ops"}, routes, capsys)
    assert result["changed"] is True
    assert [path for dummy, path, body in requests(send)] == ["/s/ops" + VIEW, "/s/ops" + COLLECTION]
    assert_xsrf_on_every_request(send)


@pytest.mark.parametrize("space", ["Ops", "a b", "x/y"])
def test_invalid_space_fails_before_any_request(capsys, space):
    result, send = run({"space": space}, {}, capsys)
    assert result["failed"] is True
    assert "space" in result["msg"]
    assert send.call_count == 0


def test_absent_deletes(capsys):
    result, send = run({"state": "absent"}, {("GET", VIEW): (200, {"data_view": LIVE}), ("DELETE", VIEW): (200, None)},
                       capsys, diff=True)
    assert result["changed"] is True
    assert requests(send) == [("GET", VIEW, None), ("DELETE", VIEW, None)]
    assert_xsrf_on_every_request(send)
    assert result["data_view"] == {}
    assert result["diff"]["after"] == {}


def test_absent_when_missing_is_one_get(capsys):
    result, send = run({"state": "absent"}, {("GET", VIEW): NOT_FOUND}, capsys)
    assert result["changed"] is False
    assert send.call_count == 1


def test_absent_check_mode_does_not_delete(capsys):
    result, send = run({"state": "absent"}, {("GET", VIEW): (200, {"data_view": LIVE})}, capsys, check_mode=True)
    assert result["changed"] is True
    assert send.call_count == 1


def test_kibana_error_reaches_the_user_with_status_and_message(capsys):
    error = (400, {"statusCode": 400, "error": "Bad Request",
                   "message": "[request body.data_view.title]: expected value of type [string] but got [undefined]"})
    result, send = run({}, {("GET", VIEW): NOT_FOUND, ("POST", COLLECTION): error}, capsys)
    assert result["failed"] is True
    assert result["msg"] == ("data view 'microops-logs' in space 'default': POST %s%s: HTTP 400: [request body.data_view.title]:"
                             " expected value of type [string] but got [undefined]" % (KIBANA, COLLECTION))


def test_api_key_instead_of_basic_auth(capsys):
    result, send = run({"url_username": None, "url_password": None, "api_key": "aWQ6a2V5", "ca_path": "/etc/ca.crt"},
                       {("GET", VIEW): (200, {"data_view": LIVE})}, capsys)
    assert result["changed"] is False
    kwargs = send.call_args.kwargs
    assert kwargs["headers"]["Authorization"] == "ApiKey aWQ6a2V5"
    assert kwargs["headers"]["kbn-xsrf"] == "true"
    assert kwargs["ca_path"] == "/etc/ca.crt"
    assert "url_username" not in kwargs
