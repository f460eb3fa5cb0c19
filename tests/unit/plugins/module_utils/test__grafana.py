import pytest

from ansible_collections.microops.stack.plugins.module_utils import _grafana as g

CURRENT = {
    "id": 7, "uid": "prom", "orgId": 1, "name": "Prometheus", "type": "prometheus", "typeLogoUrl": "x.svg",
    "access": "proxy", "url": "http://prometheus:9090", "user": "", "database": "", "basicAuth": False,
    "basicAuthUser": "", "withCredentials": False, "isDefault": True,
    "jsonData": {"httpMethod": "POST", "timeInterval": "15s"}, "secureJsonFields": {"basicAuthPassword": True},
    "version": 4, "readOnly": False, "accessControl": {"datasources:write": True},
}


def params(**kwargs):
    base = dict((option, None) for option, field in g.OPTION_FIELDS)
    base.update(kwargs)
    return base


@pytest.mark.parametrize(
    ("uid", "error"),
    [
        (None, None),
        ("prometheus", None),
        ("a-B_9", None),
        ("x" * 40, None),
        ("x" * 41, "at most 40"),
        ("", "must not be empty"),
        ("has space", "letters, digits"),
        ("dot.ted", "letters, digits"),
        ("slash/es", "letters, digits"),
    ],
)
def test_uid_error(uid, error):
    result = g.uid_error(uid)
    if error is None:
        assert result is None
    else:
        assert error in result


@pytest.mark.parametrize(
    ("given", "expected"),
    [("postgres", "grafana-postgresql-datasource"), ("grafana-postgresql-datasource", "grafana-postgresql-datasource"),
     ("prometheus", "prometheus"), ("my-org-plugin-datasource", "my-org-plugin-datasource")],
)
def test_canonical_type(given, expected):
    assert g.canonical_type(given) == expected


def test_desired_datasource_holds_only_the_options_set():
    desired = g.desired_datasource(params(name="P", type="prometheus", access="proxy", basic_auth=False, json_data={"a": 1}))
    assert desired == {"name": "P", "type": "prometheus", "access": "proxy", "basicAuth": False, "jsonData": {"a": 1}}


def test_normalize_datasource_keeps_managed_fields_and_secret_names():
    view = g.normalize_datasource(dict(CURRENT, type="postgres", secureJsonFields={"password": True, "old": False}))
    assert view["type"] == "grafana-postgresql-datasource"
    assert view["secureJsonFields"] == ["password"]
    for ignored in ("id", "orgId", "version", "readOnly", "typeLogoUrl", "accessControl"):
        assert ignored not in view


def test_normalize_fills_grafana_empty_values():
    view = g.normalize_datasource({"name": "n", "type": "loki", "uid": "u"})
    assert view["url"] == "" and view["basicAuth"] is False and view["jsonData"] == {} and view["secureJsonFields"] == []
    assert g.normalize_datasource(None) == {}


@pytest.mark.parametrize(
    ("desired", "purge", "expected"),
    [
        ({}, False, []),
        ({"name": "Prometheus", "url": "http://prometheus:9090"}, False, []),
        ({"url": "http://other:9090"}, False, ["url"]),
        ({"isDefault": False}, False, ["isDefault"]),
        ({"jsonData": {"httpMethod": "POST"}}, False, []),
        ({"jsonData": {"httpMethod": "POST"}}, True, ["jsonData"]),
        ({"jsonData": {"httpMethod": "POST", "timeInterval": "15s"}}, True, []),
        ({"jsonData": {"httpMethod": "GET"}}, False, ["jsonData"]),
        ({"jsonData": {}}, True, ["jsonData"]),
        ({"basicAuth": False, "user": "", "database": ""}, False, []),
        ({"type": "prometheus", "name": "New"}, False, ["name"]),
        ({"uid": "other"}, False, ["uid"]),
    ],
)
def test_differences_compare_only_fields_set(desired, purge, expected):
    assert g.differences(CURRENT, desired, purge) == expected


@pytest.mark.parametrize(
    ("live", "wanted", "changed"),
    [("grafana-postgresql-datasource", "postgres", []), ("postgres", "grafana-postgresql-datasource", []),
     ("mysql", "postgres", ["type"])],
)
def test_differences_type_alias(live, wanted, changed):
    assert g.differences({"type": live}, {"type": wanted}, False) == changed


def test_differences_missing_fields_equal_empty_values():
    assert g.differences({"name": "n"}, {"user": "", "basicAuth": False, "jsonData": {}}, True) == []


@pytest.mark.parametrize(
    ("secrets", "fields", "mode", "expected"),
    [
        (None, {}, "on_create", []),
        ({}, {}, "always", []),
        ({"password": "x"}, {}, "on_create", ["password"]),
        ({"password": "x"}, {"password": True}, "on_create", []),
        ({"password": "x"}, {"password": False}, "on_create", ["password"]),
        ({"password": "x", "tlsCACert": "c"}, {"password": True}, "on_create", ["tlsCACert"]),
        ({"password": "x"}, {"password": True}, "always", ["password"]),
        ({"b": "1", "a": "2"}, None, "always", ["a", "b"]),
    ],
)
def test_secure_keys_to_send(secrets, fields, mode, expected):
    assert g.secure_keys_to_send(secrets, fields, mode) == expected


@pytest.mark.parametrize(
    ("purge", "expected"),
    [(False, {"httpMethod": "GET", "timeInterval": "15s", "new": 1}), (True, {"httpMethod": "GET", "new": 1})],
)
def test_merged_json_data(purge, expected):
    assert g.merged_json_data(CURRENT["jsonData"], {"httpMethod": "GET", "new": 1}, purge) == expected
    assert CURRENT["jsonData"] == {"httpMethod": "POST", "timeInterval": "15s"}  # not modified in place


def test_update_body_is_the_current_datasource_with_the_users_fields_and_version():
    body = g.update_body(CURRENT, {"name": "Prometheus", "url": "http://new:9090", "jsonData": {"httpMethod": "GET"}}, False)
    assert body == {
        "name": "Prometheus", "uid": "prom", "type": "prometheus", "access": "proxy", "url": "http://new:9090",
        "user": "", "database": "", "basicAuth": False, "basicAuthUser": "", "withCredentials": False,
        "isDefault": True, "jsonData": {"httpMethod": "GET", "timeInterval": "15s"}, "version": 4,
    }


def test_update_body_with_purge_replaces_json_data():
    body = g.update_body(CURRENT, {"jsonData": {"httpMethod": "GET"}}, True)
    assert body["jsonData"] == {"httpMethod": "GET"}
    assert body["version"] == 4


def test_update_body_keeps_the_stored_type_for_an_alias_and_sends_only_chosen_secrets():
    current = dict(CURRENT, type="grafana-postgresql-datasource")
    body = g.update_body(current, {"type": "postgres"}, False, {"password": 5, "other": "o"}, ["password"])
    assert body["type"] == "grafana-postgresql-datasource"
    assert body["secureJsonData"] == {"password": "5"}


def test_create_body_sends_every_secret_and_no_is_default_unless_set():
    body = g.create_body({"name": "P", "type": "prometheus", "access": "proxy"}, {"password": "x"})
    assert body == {"name": "P", "type": "prometheus", "access": "proxy", "secureJsonData": {"password": "x"}}


def test_predicted_drops_secret_values_and_marks_their_keys():
    after = g.predicted(CURRENT, {"url": "http://n", "secureJsonData": {"password": "x"}})
    assert after["url"] == "http://n"
    assert after["secureJsonFields"] == {"basicAuthPassword": True, "password": True}
    assert "secureJsonData" not in after
    assert g.without_secrets({"a": 1, "secureJsonData": {"p": "x"}}) == {"a": 1}


@pytest.mark.parametrize(
    ("given", "headers", "auth"),
    [
        ({"grafana_token": "glsa_t"}, {"X-Grafana-Org-Id": "3", "Authorization": "Bearer glsa_t"}, {}),
        ({"url_username": "admin", "url_password": "pw"}, {"X-Grafana-Org-Id": "3"},
         {"url_username": "admin", "url_password": "pw", "force_basic_auth": True}),
    ],
)
def test_grafana_client_headers_and_auth(given, headers, auth):
    client = g.grafana_client(dict({"grafana_url": "http://g:3000/", "validate_certs": True}, **given), 3)
    assert client.base_url == "http://g:3000"
    assert client.headers == headers
    for key, value in auth.items():
        assert client.options[key] == value
    if not auth:
        assert "force_basic_auth" not in client.options


def test_argument_spec_marks_secrets_no_log():
    spec = g.grafana_argument_spec()
    assert spec["url_password"]["no_log"] is True
    assert spec["grafana_token"]["no_log"] is True
    assert spec["grafana_url"]["required"] is True
