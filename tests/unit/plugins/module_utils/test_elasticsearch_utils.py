import json
from unittest import mock

import pytest

from ansible_collections.microops.stack.plugins.module_utils import _elasticsearch as es
from ansible_collections.microops.stack.plugins.module_utils import _http
from ansible_collections.microops.stack.plugins.module_utils._http import HttpError

ES = "https://10.0.0.5:9200"

# GET answers in the shapes Elasticsearch's API reference gives, one per kind.
ILM_GET = {"logs": {
    "version": 3, "modified_date": "2026-01-02T03:04:05.000Z",
    "policy": {"phases": {
        "hot": {"min_age": "0ms", "actions": {"rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}}},
        "delete": {"min_age": "30d", "actions": {"delete": {"delete_searchable_snapshot": True}}}}},
    "in_use_by": {"indices": [], "data_streams": ["logs-microops-production"], "composable_templates": ["logs"]}}}
ILM_DEF = {"policy": {"phases": {
    "hot": {"actions": {"rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}}},
    "delete": {"min_age": "30d", "actions": {"delete": {}}}}}}

TEMPLATE_GET = {"index_templates": [
    {"name": "logs-other", "index_template": {"index_patterns": ["x-*"], "composed_of": [], "priority": 1}},
    {"name": "logs", "index_template": {
        "index_patterns": ["logs-microops-*"],
        "template": {"settings": {"index": {"lifecycle": {"name": "logs"}, "number_of_replicas": "0", "hidden": "false"}},
                     "mappings": {"properties": {"service": {"properties": {"name": {"type": "keyword"}}}}}},
        "composed_of": [], "priority": 300, "data_stream": {"hidden": False, "allow_custom_routing": False}}}]}
TEMPLATE_DEF = {"index_patterns": ["logs-microops-*"], "data_stream": {}, "priority": 300,
                "template": {"settings": {"index.lifecycle.name": "logs", "number_of_replicas": 0, "index": {"hidden": False}},
                             "mappings": {"properties": {"service": {"properties": {"name": {"type": "keyword"}}}}}}}

COMPONENT_GET = {"component_templates": [{"name": "logs", "component_template": {
    "template": {"settings": {"index": {"number_of_shards": "1", "codec": "best_compression"}}}, "version": 2}}]}
COMPONENT_DEF = {"template": {"settings": {"number_of_shards": 1, "index.codec": "best_compression"}}, "version": 2}

PIPELINE_GET = {"logs": {"description": "d", "processors": [{"set": {"field": "a", "value": "b", "override": True}}]}}
PIPELINE_DEF = {"description": "d", "processors": [{"set": {"field": "a", "value": "b"}}]}

ROLE_GET = {"logs": {
    "cluster": ["monitor"], "indices": [{"names": ["logs-*"], "privileges": ["read"], "allow_restricted_indices": False}],
    "applications": [], "run_as": [], "metadata": {}, "transient_metadata": {"enabled": True}}}
ROLE_DEF = {"cluster": ["monitor"], "indices": [{"names": ["logs-*"], "privileges": ["read"]}]}

USER_GET = {"logs": {"username": "logs", "roles": ["reader"], "full_name": None, "email": None, "metadata": {}, "enabled": True}}
USER_DEF = {"roles": ["reader"], "full_name": None, "enabled": True}

REPO_GET = {"logs": {"type": "s3", "settings": {"bucket": "b", "client": "default", "base_path": "c", "compress": "true",
                                                "max_restore_bytes_per_sec": "40mb", "chunk_size": "1"}}}
REPO_DEF = {"type": "s3", "settings": {"bucket": "b", "client": "default", "base_path": "c", "compress": True, "chunk_size": 1}}

SLM_GET = {"logs": {
    "version": 1, "modified_date_millis": 1767225600000,
    "policy": {"schedule": "0 30 1 * * ?", "name": "<snap-{now/d}>", "repository": "logs",
               "config": {"indices": ["*"], "include_global_state": True},
               "retention": {"expire_after": "30d", "min_count": 5, "max_count": 50}},
    "stats": {"policy": "logs", "snapshots_taken": 0}, "next_execution_millis": 1767231000000}}
SLM_DEF = {"schedule": "0 30 1 * * ?", "name": "<snap-{now/d}>", "repository": "logs",
           "config": {"indices": ["*"], "include_global_state": True},
           "retention": {"expire_after": "30d", "min_count": 5, "max_count": 50}}

KINDS = [
    ("ilm_policy", ILM_GET, ILM_DEF),
    ("index_template", TEMPLATE_GET, TEMPLATE_DEF),
    ("component_template", COMPONENT_GET, COMPONENT_DEF),
    ("ingest_pipeline", PIPELINE_GET, PIPELINE_DEF),
    ("role", ROLE_GET, ROLE_DEF),
    ("user", USER_GET, USER_DEF),
    ("snapshot_repository", REPO_GET, REPO_DEF),
    ("slm_policy", SLM_GET, SLM_DEF),
]


# --- error bodies --------------------------------------------------------------------------------

OVERLAP_REASON = ("index template [logs] has index patterns [logs-microops-*] matching patterns from existing templates"
                  " [other] with patterns (other => [logs-*]) that have the same priority [300], multiple index"
                  " templates may not match during index creation, please use a different priority")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"error": {"root_cause": [{"type": "illegal_argument_exception", "reason": OVERLAP_REASON}],
                    "type": "illegal_argument_exception", "reason": OVERLAP_REASON}, "status": 400},
         "illegal_argument_exception: " + OVERLAP_REASON),
        ({"error": {"type": "x_content_parse_exception", "reason": "[1:30] [policy] failed to parse field [phases]",
                    "caused_by": {"type": "illegal_argument_exception", "reason": "phase [hoot] is not valid"}},
          "status": 400},
         "x_content_parse_exception: [1:30] [policy] failed to parse field [phases];"
         " caused by: illegal_argument_exception: phase [hoot] is not valid"),
        ({"error": "Incorrect HTTP method for uri [/_ilm/policy/x] and method [PATCH]", "status": 405},
         "Incorrect HTTP method for uri [/_ilm/policy/x] and method [PATCH]"),
        ({"statusCode": 400, "error": "Bad Request", "message": "[request body.data_view.title]: expected string"},
         "fallback"),
        ({}, "fallback"),
        ("plain text", "fallback"),
        (None, "fallback"),
    ],
)
def test_error_text(data, expected):
    assert es.error_text(data, "fallback") == expected


def answer(status, body):
    return status, json.dumps(body).encode()


def test_client_maps_elasticsearch_errors_to_one_line():
    client = es.elasticsearch_client({"url": ES, "url_username": "elastic", "url_password": "pw-unit-1234"})
    body = {"error": {"root_cause": [], "type": "illegal_argument_exception", "reason": OVERLAP_REASON}, "status": 400}
    with mock.patch.object(_http, "send", return_value=answer(400, body)):
        with pytest.raises(HttpError) as info:
            client.request("PUT", "_index_template/logs", body={"priority": 300})
    assert str(info.value) == "PUT %s/_index_template/logs: HTTP 400: illegal_argument_exception: %s" % (ES, OVERLAP_REASON)
    assert info.value.status == 400


def test_client_keeps_connection_failures():
    client = es.elasticsearch_client({"url": ES, "api_key": "a2V5"})
    with mock.patch.object(_http, "send", side_effect=HttpError("GET", ES + "/x", None, "refused")):
        with pytest.raises(HttpError) as info:
            client.request("GET", "x")
    assert str(info.value) == "GET %s/x failed: refused" % ES


def test_client_options_basic_auth_ca_and_timeout():
    client = es.elasticsearch_client({"url": ES + "/", "url_username": "elastic", "url_password": "pw-unit-1234",
                                      "ca_path": "/etc/ca.crt", "validate_certs": True, "timeout": 7})
    with mock.patch.object(_http, "send", return_value=answer(200, {})) as send:
        client.request("GET", "_cluster/health")
    assert send.call_count == 1
    assert send.call_args.args == ("GET", ES + "/_cluster/health")
    kwargs = send.call_args.kwargs
    assert (kwargs["url_username"], kwargs["url_password"], kwargs["force_basic_auth"]) == ("elastic", "pw-unit-1234", True)
    assert (kwargs["ca_path"], kwargs["timeout"], kwargs["validate_certs"]) == ("/etc/ca.crt", 7, True)
    assert "Authorization" not in kwargs["headers"]


def test_api_key_header_and_user_client_ignores_it():
    params = {"url": ES, "api_key": "aWQ6a2V5"}
    with mock.patch.object(_http, "send", return_value=answer(200, {})) as send:
        es.elasticsearch_client(params).request("GET", "x")
        es.user_client(params, "bob", "pw-bob-1234").request("GET", "_security/_authenticate")
    first, second = send.call_args_list
    assert first.kwargs["headers"]["Authorization"] == "ApiKey aWQ6a2V5"
    assert "url_username" not in first.kwargs and "ca_path" not in first.kwargs
    assert "Authorization" not in second.kwargs["headers"]
    assert (second.kwargs["url_username"], second.kwargs["url_password"]) == ("bob", "pw-bob-1234")


@pytest.mark.parametrize(("space", "base"), [("default", "http://k:5601"), ("ops", "http://k:5601/s/ops")])
def test_kibana_client_space_prefix_and_xsrf(space, base):
    client = es.kibana_client({"kibana_url": "http://k:5601/", "url_username": "u", "url_password": "p"}, space)
    with mock.patch.object(_http, "send", return_value=answer(200, {})) as send:
        client.request("GET", "api/data_views/data_view/x")
    assert send.call_args.args[1] == base + "/api/data_views/data_view/x"
    assert send.call_args.kwargs["headers"]["kbn-xsrf"] == "true"


# --- normalisation and comparison ----------------------------------------------------------------

def test_flat_settings_stringifies():
    assert es.flat_settings({"a": {"b": 1, "c": True, "d": [1, "x", False]}, "e.f": 0.5, "g": None}) == {
        "a.b": "1", "a.c": "true", "a.d": ["1", "x", "false"], "e.f": "0.5", "g": None}


def test_index_settings_adds_the_prefix_where_missing():
    given = {"index.lifecycle.name": "x", "number_of_replicas": 0, "index": {"refresh_interval": "5s"}}
    returned = {"index": {"lifecycle": {"name": "x"}, "number_of_replicas": "0", "refresh_interval": "5s"}}
    assert es.index_settings(given) == es.index_settings(returned) == {
        "index.lifecycle.name": "x", "index.number_of_replicas": "0", "index.refresh_interval": "5s"}


@pytest.mark.parametrize(
    ("desired", "live", "expected"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, True),
        ({"a": {"b": {}}}, {"a": {"b": {"default": True}}}, True),
        ({"a": {}}, {}, False),
        ({"a": 1}, {"a": 2}, False),
        ({"a": None}, {}, True),
        ({"a": None}, {"a": "x"}, False),
        ({"a": [1, 2]}, {"a": [1, 2]}, True),
        ({"a": [1, 2]}, {"a": [2, 1]}, False),
        ({"a": [1]}, {"a": [1, 2]}, False),
        ({"a": [{"n": 1}]}, {"a": [{"n": 1, "extra": True}]}, True),
        ({"a": [{"n": 1}]}, {"a": [{"n": 2}]}, False),
        ({"a": True}, {"a": 1}, False),
        ({"a": 1}, {"a": True}, False),
        ({"a": True}, {"a": "true"}, True),
        ({"a": 5}, {"a": "5"}, True),
        ({"a": "5"}, {"a": 5}, False),
        ({"a": {"b": 1}}, {"a": "x"}, False),
        ({"a": [1]}, {"a": {"0": 1}}, False),
    ],
)
def test_is_subset(desired, live, expected):
    assert es.is_subset(desired, live) is expected


@pytest.mark.parametrize(("kind", "data", "definition"), KINDS)
def test_unwrapped_live_object_matches_its_definition(kind, data, definition):
    current = es.unwrap(kind, "logs", data)
    assert current is not None
    assert es.needs_update(kind, definition, current) is False


@pytest.mark.parametrize(("kind", "data", "definition"), KINDS)
def test_unwrap_of_another_name_is_none(kind, data, definition):
    assert es.unwrap(kind, "missing", data) is None
    assert es.unwrap(kind, "logs", {}) is None


def test_unwrap_shapes_are_put_bodies():
    assert es.unwrap("ilm_policy", "logs", ILM_GET) == {"policy": ILM_GET["logs"]["policy"]}
    assert es.unwrap("index_template", "logs", TEMPLATE_GET) == TEMPLATE_GET["index_templates"][1]["index_template"]
    assert es.unwrap("component_template", "logs", COMPONENT_GET) == COMPONENT_GET["component_templates"][0]["component_template"]
    assert es.unwrap("slm_policy", "logs", SLM_GET) == SLM_GET["logs"]["policy"]
    assert es.unwrap("snapshot_repository", "logs", REPO_GET) == REPO_GET["logs"]


@pytest.mark.parametrize(
    ("kind", "data", "definition"),
    [
        ("ilm_policy", ILM_GET, {"policy": {"phases": {"delete": {"min_age": "7d", "actions": {"delete": {}}}}}}),
        ("ilm_policy", ILM_GET, {"policy": {"phases": {"warm": {"actions": {}}}}}),
        ("index_template", TEMPLATE_GET, dict(TEMPLATE_DEF, priority=301)),
        ("index_template", TEMPLATE_GET, dict(TEMPLATE_DEF, template={"settings": {"number_of_replicas": 1}})),
        ("index_template", TEMPLATE_GET, dict(TEMPLATE_DEF, template={"settings": {"index.lifecycle.name": "other"}})),
        ("index_template", TEMPLATE_GET, dict(TEMPLATE_DEF, index_patterns=["logs-microops-*", "logs-x-*"])),
        ("component_template", COMPONENT_GET, {"template": {"settings": {"number_of_shards": 2}}}),
        ("ingest_pipeline", PIPELINE_GET, {"processors": [{"set": {"field": "a", "value": "c"}}]}),
        ("role", ROLE_GET, {"cluster": ["monitor", "read_ilm"]}),
        ("role", ROLE_GET, {"indices": [{"names": ["logs-*"], "privileges": ["read", "view_index_metadata"]}]}),
        ("user", USER_GET, {"roles": ["writer"]}),
        ("user", USER_GET, {"full_name": "Log reader"}),
        ("snapshot_repository", REPO_GET, {"type": "fs"}),
        ("snapshot_repository", REPO_GET, {"settings": {"compress": False}}),
        ("slm_policy", SLM_GET, {"retention": {"max_count": 10}}),
    ],
)
def test_a_difference_in_what_the_definition_sets_needs_an_update(kind, data, definition):
    assert es.needs_update(kind, definition, es.unwrap(kind, "logs", data)) is True


def test_comparable_normalises_template_and_repository_settings():
    assert es.comparable("index_template", TEMPLATE_DEF)["template"]["settings"] == {
        "index.lifecycle.name": "logs", "index.number_of_replicas": "0", "index.hidden": "false"}
    assert es.comparable("snapshot_repository", {"type": "s3", "settings": {"a": {"b": 1}}}) == {
        "type": "s3", "settings": {"a.b": "1"}}
    assert es.comparable("role", None) == {}
    # the definition itself is left untouched
    assert TEMPLATE_DEF["template"]["settings"]["number_of_replicas"] == 0


def test_resource_path_quotes_the_name():
    assert es.resource_path("user", "a b/c") == "_security/user/a%20b%2Fc"
    assert es.resource_path("snapshot_repository", "microops-s3") == "_snapshot/microops-s3"
