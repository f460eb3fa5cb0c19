import json
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.microops.stack.plugins.module_utils import _http
from ansible_collections.microops.stack.plugins.modules import elasticsearch_resource

ES = "https://10.0.0.5:9200"
ADMIN = ("elastic", "pw-admin-0123")


def missing(kind_type="resource_not_found_exception"):
    return 404, {"error": {"root_cause": [{"type": kind_type, "reason": "not found"}], "type": kind_type,
                           "reason": "not found"}, "status": 404}


ACK = (200, {"acknowledged": True})

ILM_LIVE = {"logs": {
    "version": 1, "modified_date": "2026-01-02T03:04:05.000Z",
    "policy": {"phases": {
        "hot": {"min_age": "0ms", "actions": {"rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}}},
        "delete": {"min_age": "30d", "actions": {"delete": {"delete_searchable_snapshot": True}}}}},
    "in_use_by": {"indices": [], "data_streams": [], "composable_templates": []}}}
ILM_DEF = {"policy": {"phases": {
    "hot": {"actions": {"rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}}},
    "delete": {"min_age": "30d", "actions": {"delete": {}}}}}}

TEMPLATE_LIVE = {"index_templates": [{"name": "logs", "index_template": {
    "index_patterns": ["logs-microops-*"],
    "template": {"settings": {"index": {"lifecycle": {"name": "logs"}, "number_of_replicas": "0"}},
                 "mappings": {"properties": {"host": {"properties": {"name": {"type": "keyword"}}}}}},
    "composed_of": [], "priority": 300, "data_stream": {"hidden": False, "allow_custom_routing": False}}}]}
TEMPLATE_DEF = {"index_patterns": ["logs-microops-*"], "data_stream": {}, "priority": 300, "composed_of": [],
                "template": {"settings": {"index.lifecycle.name": "logs", "number_of_replicas": 0},
                             "mappings": {"properties": {"host": {"properties": {"name": {"type": "keyword"}}}}}}}

COMPONENT_LIVE = {"component_templates": [{"name": "logs", "component_template": {
    "template": {"settings": {"index": {"number_of_shards": "1"}}}}}]}
COMPONENT_DEF = {"template": {"settings": {"number_of_shards": 1}}}

PIPELINE_LIVE = {"logs": {"description": "tag", "processors": [{"set": {"field": "labels.env", "value": "dev"}}]}}
PIPELINE_DEF = {"description": "tag", "processors": [{"set": {"field": "labels.env", "value": "dev"}}]}

ROLE_LIVE = {"logs": {
    "cluster": ["monitor"], "indices": [{"names": ["logs-*"], "privileges": ["read"], "allow_restricted_indices": False}],
    "applications": [], "run_as": [], "metadata": {}, "transient_metadata": {"enabled": True}}}
ROLE_DEF = {"cluster": ["monitor"], "indices": [{"names": ["logs-*"], "privileges": ["read"]}]}

USER_LIVE = {"logs": {"username": "logs", "roles": ["reader"], "full_name": "Reader", "email": None, "metadata": {},
                      "enabled": True}}
USER_DEF = {"roles": ["reader"], "full_name": "Reader"}

REPO_LIVE = {"logs": {"type": "s3", "settings": {"bucket": "snaps", "client": "default", "base_path": "c", "compress": "true"}}}
REPO_DEF = {"type": "s3", "settings": {"bucket": "snaps", "client": "default", "base_path": "c", "compress": True}}

SLM_LIVE = {"logs": {
    "version": 1, "modified_date_millis": 1767225600000,
    "policy": {"schedule": "0 30 1 * * ?", "name": "<snap-{now/d}>", "repository": "logs",
               "config": {"indices": ["*"], "include_global_state": True},
               "retention": {"expire_after": "30d", "min_count": 5, "max_count": 50}},
    "stats": {"policy": "logs"}, "next_execution_millis": 1767231000000}}
SLM_DEF = {"schedule": "0 30 1 * * ?", "name": "<snap-{now/d}>", "repository": "logs",
           "config": {"indices": ["*"], "include_global_state": True},
           "retention": {"expire_after": "30d", "min_count": 5, "max_count": 50}}

# kind, path, GET answer when it exists, the definition it matches, GET answer when missing
KINDS = [
    ("ilm_policy", "/_ilm/policy/logs", ILM_LIVE, ILM_DEF, missing()),
    ("index_template", "/_index_template/logs", TEMPLATE_LIVE, TEMPLATE_DEF, missing()),
    ("component_template", "/_component_template/logs", COMPONENT_LIVE, COMPONENT_DEF, missing()),
    ("ingest_pipeline", "/_ingest/pipeline/logs", PIPELINE_LIVE, PIPELINE_DEF, (404, {})),
    ("role", "/_security/role/logs", ROLE_LIVE, ROLE_DEF, (404, {})),
    ("user", "/_security/user/logs", USER_LIVE, USER_DEF, (404, {})),
    ("snapshot_repository", "/_snapshot/logs", REPO_LIVE, REPO_DEF, missing("repository_missing_exception")),
    ("slm_policy", "/_slm/policy/logs", SLM_LIVE, SLM_DEF, missing()),
]


def elasticsearch(routes):
    """A stand-in for send(): answers (method, path) from `routes`. A route's value is one answer,
    or a list of answers given in turn (a GET before and after a write)."""
    routes = dict((key, list(value) if isinstance(value, list) else [value]) for key, value in routes.items())

    def send(method, url, data=None, headers=None, **options):
        path = url[len(ES):]
        if (method, path) not in routes:
            raise AssertionError("unexpected request %s %s" % (method, path))
        answers = routes[(method, path)]
        status, body = answers.pop(0) if len(answers) > 1 else answers[0]
        return status, json.dumps(body).encode() if body is not None else b""
    return send


def run(args, routes, capsys, check_mode=False, diff=False):
    args = dict({"url": ES, "url_username": ADMIN[0], "url_password": ADMIN[1], "name": "logs"}, **args)
    args = dict((key, value) for key, value in args.items() if value is not None)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with mock.patch.object(_http, "send", side_effect=elasticsearch(routes)) as send, patch_module_args(args):
        with pytest.raises(SystemExit):
            elasticsearch_resource.main()
    return json.loads(capsys.readouterr().out), send


def requests(send):
    """Every request as (method, path, body)."""
    return [(c.args[0], c.args[1][len(ES):], json.loads(c.kwargs["data"]) if c.kwargs.get("data") else None)
            for c in send.call_args_list]


def auth(call):
    return call.kwargs.get("url_username"), call.kwargs.get("url_password")


@pytest.mark.parametrize(("kind", "path", "live", "definition", "absent"), KINDS)
def test_no_change_is_one_get(capsys, kind, path, live, definition, absent):
    result, send = run({"kind": kind, "definition": definition}, {("GET", path): (200, live)}, capsys)
    assert result["changed"] is False, result
    assert requests(send) == [("GET", path, None)]
    assert result["resource"]
    assert "password_changed" not in result or result["password_changed"] is False


@pytest.mark.parametrize(("kind", "path", "live", "definition", "absent"), KINDS)
def test_create_puts_the_definition_and_reads_it_back(capsys, kind, path, live, definition, absent):
    args = {"kind": kind, "definition": definition}
    if kind == "user":
        args["password"] = "pw-user-0123"
    result, send = run(args, {("GET", path): [absent, (200, live)], ("PUT", path): ACK}, capsys)
    assert result["changed"] is True
    body = dict(definition, password="pw-user-0123") if kind == "user" else definition
    assert requests(send) == [("GET", path, None), ("PUT", path, body), ("GET", path, None)]
    assert all(auth(call) == ADMIN for call in send.call_args_list)
    assert result["resource"]
    assert "pw-user-0123" not in json.dumps(result)


@pytest.mark.parametrize(("kind", "path", "live", "definition", "absent"), KINDS)
def test_check_mode_create_makes_no_write(capsys, kind, path, live, definition, absent):
    args = {"kind": kind, "definition": definition, "password": "pw-user-0123" if kind == "user" else None}
    result, send = run(args, {("GET", path): absent}, capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert requests(send) == [("GET", path, None)]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]
    assert result["resource"] == definition


@pytest.mark.parametrize(("kind", "path", "live", "definition", "absent"), KINDS)
def test_absent_deletes(capsys, kind, path, live, definition, absent):
    result, send = run({"kind": kind, "state": "absent"}, {("GET", path): (200, live), ("DELETE", path): ACK}, capsys,
                       diff=True)
    assert result["changed"] is True
    assert requests(send) == [("GET", path, None), ("DELETE", path, None)]
    assert result["resource"] == {}
    assert result["diff"]["after"] == {} and result["diff"]["before"]


@pytest.mark.parametrize(("kind", "path", "live", "definition", "absent"), KINDS)
def test_absent_when_missing_is_one_get(capsys, kind, path, live, definition, absent):
    result, send = run({"kind": kind, "state": "absent"}, {("GET", path): absent}, capsys)
    assert result["changed"] is False
    assert send.call_count == 1


def test_absent_check_mode_does_not_delete(capsys):
    result, send = run({"kind": "role", "state": "absent"}, {("GET", "/_security/role/logs"): (200, ROLE_LIVE)}, capsys,
                       check_mode=True)
    assert result["changed"] is True
    assert send.call_count == 1


def test_role_answering_200_without_the_role_is_absent(capsys):
    result, send = run({"kind": "role", "definition": ROLE_DEF}, {
        ("GET", "/_security/role/logs"): [(200, {}), (200, ROLE_LIVE)], ("PUT", "/_security/role/logs"): ACK}, capsys)
    assert result["changed"] is True
    assert [r[0] for r in requests(send)] == ["GET", "PUT", "GET"]


def test_update_replaces_with_the_definition_and_diff_shows_normalised_settings(capsys):
    definition = dict(TEMPLATE_DEF, template={"settings": {"index.lifecycle.name": "logs", "number_of_replicas": 1}})
    after = {"index_templates": [{"name": "logs", "index_template": dict(
        TEMPLATE_LIVE["index_templates"][0]["index_template"],
        template={"settings": {"index": {"lifecycle": {"name": "logs"}, "number_of_replicas": "1"}}})}]}
    result, send = run({"kind": "index_template", "definition": definition}, {
        ("GET", "/_index_template/logs"): [(200, TEMPLATE_LIVE), (200, after)],
        ("PUT", "/_index_template/logs"): ACK}, capsys, diff=True)
    assert result["changed"] is True
    assert requests(send)[1] == ("PUT", "/_index_template/logs", definition)
    assert result["diff"]["before"]["template"]["settings"] == {"index.lifecycle.name": "logs", "index.number_of_replicas": "0"}
    assert result["diff"]["after"]["template"]["settings"] == {"index.lifecycle.name": "logs", "index.number_of_replicas": "1"}
    assert result["resource"] == after["index_templates"][0]["index_template"]


def test_check_mode_update_makes_no_write_and_diffs(capsys):
    definition = {"policy": {"phases": {"delete": {"min_age": "7d", "actions": {"delete": {}}}}}}
    result, send = run({"kind": "ilm_policy", "definition": definition},
                       {("GET", "/_ilm/policy/logs"): (200, ILM_LIVE)}, capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert send.call_count == 1
    assert result["diff"]["before"] == {"policy": ILM_LIVE["logs"]["policy"]}
    assert result["diff"]["after"] == definition
    assert result["resource"] == definition


def test_ilm_defaults_added_by_elasticsearch_are_no_change(capsys):
    # GET adds min_age 0ms and delete_searchable_snapshot; the definition sets neither.
    result, send = run({"kind": "ilm_policy", "definition": ILM_DEF}, {("GET", "/_ilm/policy/logs"): (200, ILM_LIVE)},
                       capsys)
    assert result["changed"] is False
    assert result["resource"] == {"policy": ILM_LIVE["logs"]["policy"]}


def test_overlapping_template_error_names_both_templates(capsys):
    reason = ("index template [logs] has index patterns [logs-microops-*] matching patterns from existing templates"
              " [other] with patterns (other => [logs-*]) that have the same priority [300], multiple index templates"
              " may not match during index creation, please use a different priority")
    error = {"error": {"root_cause": [{"type": "illegal_argument_exception", "reason": reason}],
                       "type": "illegal_argument_exception", "reason": reason}, "status": 400}
    result, send = run({"kind": "index_template", "definition": TEMPLATE_DEF}, {
        ("GET", "/_index_template/logs"): missing(), ("PUT", "/_index_template/logs"): (400, error)}, capsys)
    assert result["failed"] is True
    assert result["msg"] == ("index_template 'logs': PUT %s/_index_template/logs: HTTP 400: illegal_argument_exception: %s"
                             % (ES, reason))
    assert send.call_count == 2


def test_authentication_failure_on_get(capsys):
    error = {"error": {"type": "security_exception", "reason": "unable to authenticate user [elastic] for REST request"},
             "status": 401}
    result, send = run({"kind": "role", "definition": ROLE_DEF}, {("GET", "/_security/role/logs"): (401, error)}, capsys)
    assert result["failed"] is True
    assert "HTTP 401: security_exception: unable to authenticate user [elastic]" in result["msg"]


def test_api_key_is_sent_instead_of_basic_auth(capsys):
    result, send = run({"kind": "role", "definition": ROLE_DEF, "url_username": None, "url_password": None,
                        "api_key": "aWQ6a2V5", "ca_path": "/etc/microops/logging/ca.crt"},
                       {("GET", "/_security/role/logs"): (200, ROLE_LIVE)}, capsys)
    assert result["changed"] is False
    kwargs = send.call_args.kwargs
    assert kwargs["headers"]["Authorization"] == "ApiKey aWQ6a2V5"
    assert kwargs["ca_path"] == "/etc/microops/logging/ca.crt"
    assert "url_username" not in kwargs


# --- users and passwords ---------------------------------------------------------------------------

USER = "/_security/user/logs"
AUTHENTICATE = "/_security/_authenticate"


def test_user_on_create_existing_user_makes_no_password_check(capsys):
    result, send = run({"kind": "user", "definition": USER_DEF, "password": "pw-user-0123"},
                       {("GET", USER): (200, USER_LIVE)}, capsys)
    assert result["changed"] is False
    assert result["password_changed"] is False
    assert send.call_count == 1


def test_user_always_same_password_authenticates_as_the_user(capsys):
    result, send = run({"kind": "user", "definition": USER_DEF, "password": "pw-user-0123", "update_password": "always"},
                       {("GET", USER): (200, USER_LIVE), ("GET", AUTHENTICATE): (200, {"username": "logs"})}, capsys)
    assert result["changed"] is False
    assert result["password_changed"] is False
    assert requests(send) == [("GET", USER, None), ("GET", AUTHENTICATE, None)]
    assert auth(send.call_args_list[0]) == ADMIN
    assert auth(send.call_args_list[1]) == ("logs", "pw-user-0123")


def test_user_always_other_password_is_changed(capsys):
    refused = {"error": {"type": "security_exception", "reason": "unable to authenticate user [logs]"}, "status": 401}
    result, send = run({"kind": "user", "definition": USER_DEF, "password": "pw-user-0123", "update_password": "always"},
                       {("GET", USER): (200, USER_LIVE), ("GET", AUTHENTICATE): (401, refused),
                        ("POST", USER + "/_password"): (200, {})}, capsys, diff=True)
    assert result["changed"] is True
    assert result["password_changed"] is True
    assert requests(send) == [("GET", USER, None), ("GET", AUTHENTICATE, None),
                              ("POST", USER + "/_password", {"password": "pw-user-0123"})]
    assert auth(send.call_args_list[2]) == ADMIN
    assert "password changed" in result["diff"]["after_header"]
    assert "pw-user-0123" not in json.dumps(result)


def test_user_always_check_mode_does_not_change_the_password(capsys):
    result, send = run({"kind": "user", "definition": USER_DEF, "password": "pw-user-0123", "update_password": "always"},
                       {("GET", USER): (200, USER_LIVE), ("GET", AUTHENTICATE): (401, {})}, capsys, check_mode=True)
    assert result["changed"] is True
    assert result["password_changed"] is True
    assert send.call_count == 2


def test_user_update_with_always_sends_the_password_in_the_put(capsys):
    result, send = run({"kind": "user", "definition": dict(USER_DEF, roles=["writer"]), "password": "pw-user-0123",
                        "update_password": "always"},
                       {("GET", USER): [(200, USER_LIVE), (200, USER_LIVE)], ("PUT", USER): (200, {"created": False})},
                       capsys)
    assert result["changed"] is True
    assert requests(send)[1] == ("PUT", USER, {"roles": ["writer"], "full_name": "Reader", "password": "pw-user-0123"})
    assert send.call_count == 3


def test_user_update_on_create_leaves_the_password_out(capsys):
    result, send = run({"kind": "user", "definition": dict(USER_DEF, enabled=False), "password": "pw-user-0123"},
                       {("GET", USER): [(200, USER_LIVE), (200, USER_LIVE)], ("PUT", USER): (200, {"created": False})},
                       capsys)
    assert result["changed"] is True
    assert result["password_changed"] is False
    assert requests(send)[1] == ("PUT", USER, {"roles": ["reader"], "full_name": "Reader", "enabled": False})


def test_user_create_needs_a_password(capsys):
    result, send = run({"kind": "user", "definition": USER_DEF}, {("GET", USER): (404, {})}, capsys)
    assert result["failed"] is True
    assert "password is required" in result["msg"]
    assert send.call_count == 1


@pytest.mark.parametrize("name", ["elastic", "kibana_system"])
def test_reserved_users_are_refused_before_any_request(capsys, name):
    result, send = run({"kind": "user", "name": name, "definition": USER_DEF, "password": "pw-user-0123"}, {}, capsys)
    assert result["failed"] is True
    assert "built-in user" in result["msg"]
    assert send.call_count == 0


def test_reserved_role_is_refused_before_writing(capsys):
    live = {"logs": dict(ROLE_LIVE["logs"], metadata={"_reserved": True})}
    result, send = run({"kind": "role", "definition": {"cluster": ["all"]}}, {("GET", "/_security/role/logs"): (200, live)},
                       capsys)
    assert result["failed"] is True
    assert "reserved" in result["msg"]
    assert send.call_count == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"kind": "user", "definition": dict(USER_DEF, password="x")}, "definition must not hold password"),
        ({"kind": "role", "definition": ROLE_DEF, "password": "pw-user-0123"}, "only used with kind=user"),
        ({"kind": "role"}, "definition is required"),
        ({"kind": "role", "name": "logs-*", "definition": ROLE_DEF}, "must not hold"),
        ({"kind": "role", "definition": ROLE_DEF, "api_key": "aWQ6a2V5"}, "mutually exclusive"),
    ],
)
def test_invalid_input_fails_before_any_request(capsys, args, message):
    result, send = run(args, {}, capsys)
    assert result["failed"] is True
    assert message in result["msg"]
    assert send.call_count == 0
