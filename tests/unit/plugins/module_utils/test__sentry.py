import pytest

from ansible_collections.microops.stack.plugins.module_utils import _sentry


@pytest.mark.parametrize("name, slug", [
    ("Billing API", "billing-api"),
    ("api.v2", "apiv2"),            # punctuation is removed, not replaced
    ("my_app", "my_app"),           # '_' is a word character
    ("my_app_", "my_app"),          # '-' and '_' stripped at both ends
    ("  --Shop  -- Front-- ", "shop-front"),
    ("Ünïcödé Näme", "unicode-name"),
    ("Café ☕", "cafe"),
    ("new", "new-1"),               # GlitchTip's reserved project slug
    ("New ", "new-1"),
    ("news", "news"),
    ("x" * 60, "x" * 50),
    ("a" * 49 + " b", "a" * 49),    # cut at 50, then the '-' left at the end stripped
    ("!!!", ""),
])
def test_slug_of_name_follows_glitchtip(name, slug):
    assert _sentry.slug_of_name(name) == slug


@pytest.mark.parametrize("value, slug", [
    ("Hello World", "hello-world"), ("a - b", "a-b"), ("a\tb\nc", "a-b-c"), ("__x__", "x"), ("-_-", ""),
    ("C'est déjà l'été", "cest-deja-lete"), ("10% off", "10-off"),
])
def test_slugify_is_djangos(value, slug):
    assert _sentry.slugify(value) == slug


@pytest.mark.parametrize("slug, error", [
    ("microops", None), ("micro-ops_1", None), ("Microops", "use 'microops'"), ("micro ops", "use 'micro-ops'"),
    ("", "must not be empty"), ("-x", "use 'x'"),
])
def test_organization_slug_error(slug, error):
    found = _sentry.organization_slug_error(slug)
    assert (found is None) if error is None else (error in found)


def test_team_and_project_slug_rules():
    assert _sentry.team_slug_error("Backend_1-a") is None  # GlitchTip's SlugStr allows upper case
    assert _sentry.team_slug_error("a" * 51)
    assert _sentry.team_slug_error("a.b")
    assert _sentry.project_slug_error("billing-api") is None
    assert _sentry.project_slug_error("Billing")
    assert _sentry.project_slug_error("")


@pytest.mark.parametrize("link, cursor", [
    # GlitchTip: the str() of a Python set, no cursor parameter on a link without results.
    ("{'<http://g/api/0/x/>; rel=\"previous\"; results=\"false\", <http://g/api/0/x/?cursor=cD0x>; rel=\"next\";"
     " results=\"true\"; cursor=\"cD0x\"'}", "cD0x"),
    ("{'<http://g/api/0/x/?cursor=cj0x>; rel=\"previous\"; results=\"true\"; cursor=\"cj0x\","
     " <http://g/api/0/x/>; rel=\"next\"; results=\"false\"'}", None),
    # Sentry: both links carry a cursor.
    ('<https://s/api/0/x/?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", '
     '<https://s/api/0/x/?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"', "0:100:0"),
    ('<https://s/api/0/x/?&cursor=0:100:0>; rel="next"; results="false"; cursor="0:100:0"', None),
    ('<https://s/api/0/x/?a=1&cursor=abc%3D>; rel="next"; results="true"', "abc="),
    ("", None),
    (None, None),
])
def test_next_cursor(link, cursor):
    assert _sentry.next_cursor(link) == cursor


def test_date_key_orders_times_the_strings_would_not():
    assert _sentry.date_key("2026-01-01T00:00:00.5Z") > _sentry.date_key("2026-01-01T00:00:00Z")
    assert _sentry.date_key("2026-01-01T01:00:00+01:00") == _sentry.date_key("2026-01-01T00:00:00Z")
    assert _sentry.date_key("2025-12-31T23:59:59.999999Z") < _sentry.date_key("2026-01-01T00:00:00Z")
    assert _sentry.date_key("2024-03-01T00:00:00Z")[0] - _sentry.date_key("2024-02-28T00:00:00Z")[0] == 2 * 86400
    assert _sentry.date_key("1970-01-01T00:00:00Z") == (0, 0)
    assert _sentry.date_key("yesterday") is None


def key(name, created, active=True):
    return {"id": name, "isActive": active, "dateCreated": created, "dsn": {"public": "dsn-" + name}}


def test_oldest_active_key_is_chosen_by_date_not_position():
    keys = [key("newest", "2026-03-01T00:00:00.1Z"), key("older", "2026-01-01T00:00:00.5Z"),
            key("oldest", "2026-01-01T00:00:00Z"), key("inactive", "2025-01-01T00:00:00Z", active=False)]
    assert _sentry.oldest_active_key(keys)["id"] == "oldest"
    assert _sentry.oldest_active_key(list(reversed(keys)))["id"] == "oldest"


def test_oldest_active_key_ties_and_undated():
    same = "2026-01-01T00:00:00Z"
    assert _sentry.oldest_active_key([key("b", same), key("a", same)])["id"] == "a"
    # Undated keys come after dated ones, the last listed (the oldest in GlitchTip's order) first.
    assert _sentry.oldest_active_key([key("x", None), key("y", None), key("d", same)])["id"] == "d"
    assert _sentry.oldest_active_key([key("x", None), key("y", "")])["id"] == "y"
    assert _sentry.oldest_active_key([key("off", same, active=False)]) is None
    assert _sentry.oldest_active_key([]) is None
    assert _sentry.key_dsn(None) == ""
    assert _sentry.key_dsn({"dsn": {"public": "http://k@h/1"}}) == "http://k@h/1"


@pytest.mark.parametrize("data, message", [
    ({"detail": "Permission denied"}, "Permission denied"),
    ({"detail": [{"loc": ["body", "payload", "slug"], "msg": "String should match pattern"}]},
     "body.payload.slug: String should match pattern"),
    ({"message": "Please retry later"}, "Please retry later"),
    ({"detail": {"code": "x"}}, '{"code": "x"}'),
    ("<html><head><title>Server Error (500)</title></head></html>", "Server Error (500)"),
    ("<h1>Bad Request (400)</h1>", "Bad Request (400)"),
    ({}, "default"),
    (None, "default"),
])
def test_detail(data, message):
    assert _sentry.detail(data, "default") == message


@pytest.mark.parametrize("method, status, message, words", [
    ("GET", 401, "Unauthorized", "token was not accepted"),
    ("POST", 403, "CSRF check Failed", "no valid API token"),
    ("POST", 403, "Permission denied", "lacks the scope"),
    ("POST", 404, "Not Found", "admin or owner"),
    ("GET", 404, "Not Found", ""),
    ("GET", 500, "x", ""),
])
def test_explanation(method, status, message, words):
    found = _sentry.explanation(method, status, message)
    assert (words in found) if words else found == ""


def test_argument_spec_hides_the_token():
    spec = _sentry.sentry_argument_spec()
    assert spec["api_token"]["no_log"] is True
    assert spec["api_url"]["required"] is True
    assert set(spec) == {"api_url", "api_token", "validate_certs", "ca_path", "timeout"}


def test_client_sends_ca_path_and_bearer():
    client = _sentry.sentry_client({"api_url": "https://s/", "api_token": "t", "ca_path": "/ca.pem",
                                    "validate_certs": False, "timeout": 5})
    assert client.headers == {"Authorization": "Bearer t"}
    assert client.options["ca_path"] == "/ca.pem"
    assert client.options["validate_certs"] is False
    assert client.options["timeout"] == 5
    assert client.url("api/0/organizations/") == "https://s/api/0/organizations/"
