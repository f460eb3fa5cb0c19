import json
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.microops.stack.plugins.module_utils import _http, _sentry
from ansible_collections.microops.stack.plugins.modules import sentry_project

API = "http://10.0.0.7:8000"
TOKEN = "0123456789abcdef" * 4
ORG = "/api/0/organizations/microops/"
TEAMS = ORG + "teams/"
PROJECTS = ORG + "projects/"
PROJECT = "/api/0/projects/microops/billing-api/"
KEYS = PROJECT + "keys/"
CREATE_ORG = "/api/0/organizations/"
CREATE_PROJECT = "/api/0/teams/microops/services/projects/"

# Answers in the shapes of GlitchTip's schemas (apps/*/schema.py), camelCase as the API sends them.
ORG_LIVE = {"id": "1", "slug": "microops", "name": "microops", "dateCreated": "2026-01-01T00:00:00Z",
            "isAcceptingEvents": True, "projects": [], "teams": [], "access": []}
TEAM_LIVE = {"id": "4", "slug": "services", "dateCreated": "2026-01-01T00:00:00Z", "isMember": True,
             "memberCount": 1, "projects": []}
PROJECT_LIVE = {"id": "3", "slug": "billing-api", "name": "Billing API", "platform": "python",
                "dateCreated": "2026-01-01T00:00:01.5Z", "isMember": True, "firstEvent": None,
                "teams": [{"id": "4", "slug": "services"}]}
OTHER_PROJECT = {"id": "2", "slug": "shop", "name": "Shop", "platform": None, "teams": [{"id": "4", "slug": "services"}]}


def key(public, created, active=True):
    return {"id": public, "public": public, "isActive": active, "dateCreated": created, "label": "Default",
            "dsn": {"public": "http://%s@10.0.0.7:8000/3" % public, "secret": "x", "security": "y"}}


OLD_KEY = key("00000000000000000000000000000001", "2026-01-01T00:00:02Z")
# Newest first, as GlitchTip lists them; the fraction makes the strings sort the wrong way.
KEYS_LIVE = [key("00000000000000000000000000000003", "2026-03-01T00:00:00.123456Z"),
             key("00000000000000000000000000000002", "2026-01-01T00:00:02.5Z"), OLD_KEY,
             key("00000000000000000000000000000000", "2025-12-31T23:00:00Z", active=False)]
OLD_DSN = "http://00000000000000000000000000000001@10.0.0.7:8000/3"

NOT_FOUND = (404, {"detail": "Not Found"})
ARGS = {"organization": "microops", "team": "services", "name": "Billing API", "platform": "python"}


def server(routes):
    """A fake _http.exchange (as _sentry calls it) answering (method, path with query) from `routes`: (status, body) or
    (status, body, headers); a list of answers is used in order."""
    routes = dict((route, list(answer) if isinstance(answer, list) else answer) for route, answer in routes.items())

    def send(method, url, data=None, headers=None, **options):
        assert url.startswith(API)
        path = url[len(API):]
        if (method, path) not in routes:
            raise AssertionError("unexpected request %s %s" % (method, path))
        answer = routes[(method, path)]
        if isinstance(answer, list):
            answer = answer.pop(0)
        status, body = answer[0], answer[1]
        extra = answer[2] if len(answer) > 2 else {}
        if isinstance(body, str):
            raw = body.encode()
        else:
            raw = json.dumps(body).encode() if body is not None else b""
        return status, dict((name.lower(), value) for name, value in extra.items()), raw
    return send


def existing(overrides=None):
    routes = {("GET", ORG): (200, ORG_LIVE), ("GET", TEAMS): (200, [TEAM_LIVE]),
              ("GET", PROJECTS): (200, [OTHER_PROJECT, PROJECT_LIVE]), ("GET", KEYS): (200, KEYS_LIVE)}
    routes.update(overrides or {})
    return routes


def run(args, routes, capsys, check_mode=False, diff=False):
    args = dict(dict({"api_url": API, "api_token": TOKEN}, **ARGS), **args)
    args = dict((name, value) for name, value in args.items() if value is not None)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    # AnsibleModule.warn() goes to the controller's display once controller code is imported, as
    # other unit tests do: record the warnings here.
    with mock.patch.object(_sentry, "exchange", side_effect=server(routes)) as send, patch_module_args(args), \
            mock.patch.object(sentry_project.AnsibleModule, "warn") as warn:
        with pytest.raises(SystemExit):
            sentry_project.main()
    result = json.loads(capsys.readouterr().out)
    result["warnings"] = [c.args[0] for c in warn.call_args_list]
    return result, send


def requests(send):
    return [(c.args[0], c.args[1][len(API):], json.loads(c.kwargs["data"]) if c.kwargs.get("data") else None)
            for c in send.call_args_list]


def test_no_change_is_four_gets(capsys):
    result, send = run({}, existing(), capsys)
    assert result["changed"] is False
    assert requests(send) == [("GET", ORG, None), ("GET", TEAMS, None), ("GET", PROJECTS, None), ("GET", KEYS, None)]
    for call in send.call_args_list:
        assert call.kwargs["headers"]["Authorization"] == "Bearer " + TOKEN
        assert "url_username" not in call.kwargs
    assert result["dsn"] == OLD_DSN
    assert result["project"] == {"id": "3", "slug": "billing-api", "name": "Billing API", "platform": "python",
                                 "team": "services", "teams": ["services"], "organization": "microops"}
    assert result["warnings"] == []


def test_no_change_without_platform_ignores_the_live_platform(capsys):
    result, send = run({"platform": None}, existing(), capsys)
    assert result["changed"] is False
    assert [method for method, dummy, dummy_body in requests(send)] == ["GET"] * 4


def test_creates_organization_team_and_project_after_looking_them_up(capsys):
    routes = {
        ("GET", ORG): NOT_FOUND,
        ("POST", CREATE_ORG): (201, ORG_LIVE),
        ("GET", TEAMS): (200, []),
        ("GET", PROJECTS): (200, []),
        ("POST", TEAMS): (201, TEAM_LIVE),
        ("POST", CREATE_PROJECT): (201, dict(PROJECT_LIVE, teams=None)),
        ("GET", KEYS): (200, [OLD_KEY]),
    }
    result, send = run({}, routes, capsys, diff=True)
    assert result["changed"] is True
    assert requests(send) == [
        ("GET", ORG, None),
        ("POST", CREATE_ORG, {"name": "microops", "slug": "microops"}),
        ("GET", TEAMS, None),
        ("GET", PROJECTS, None),
        ("POST", TEAMS, {"slug": "services"}),
        ("POST", CREATE_PROJECT, {"name": "Billing API", "slug": "billing-api", "platform": "python"}),
        ("GET", KEYS, None),
    ]
    assert result["dsn"] == OLD_DSN
    assert result["project"]["teams"] == ["services"]
    assert result["diff"] == {
        "before": {"organization": None, "team": None, "project": None},
        "after": {"organization": "microops", "team": "services",
                  "project": {"slug": "billing-api", "name": "Billing API", "platform": "python"}}}


def test_existing_team_is_not_created_again(capsys):
    # GlitchTip answers 500 to a team slug that exists: the list is read first.
    routes = existing({("GET", PROJECTS): (200, [OTHER_PROJECT]),
                       ("POST", CREATE_PROJECT): (201, PROJECT_LIVE)})
    result, send = run({}, routes, capsys)
    assert result["changed"] is True
    assert [(m, p) for m, p, dummy in requests(send)] == [
        ("GET", ORG), ("GET", TEAMS), ("GET", PROJECTS), ("POST", CREATE_PROJECT), ("GET", KEYS)]


def test_create_without_platform_sends_none(capsys):
    routes = existing({("GET", PROJECTS): (200, []), ("POST", CREATE_PROJECT): (201, PROJECT_LIVE)})
    result, send = run({"platform": None}, routes, capsys)
    assert requests(send)[3][2] == {"name": "Billing API", "slug": "billing-api"}


def test_slug_option_is_looked_up_and_sent(capsys):
    live = dict(PROJECT_LIVE, slug="billing")
    routes = existing({("GET", PROJECTS): (200, [live]),
                       ("GET", "/api/0/projects/microops/billing/keys/"): (200, [OLD_KEY])})
    result, send = run({"slug": "billing"}, routes, capsys)
    assert result["changed"] is False
    assert result["project"]["slug"] == "billing"
    assert requests(send)[-1][1] == "/api/0/projects/microops/billing/keys/"


def test_project_created_with_another_slug_fails_naming_both(capsys):
    # A project named "Billing API" exists under another slug, so GlitchTip makes billing-api-2.
    routes = existing({("GET", PROJECTS): (200, [OTHER_PROJECT]),
                       ("POST", CREATE_PROJECT): (201, dict(PROJECT_LIVE, slug="billing-api-2"))})
    result, send = run({}, routes, capsys)
    assert result["failed"] is True
    assert "'billing-api-2' instead of 'billing-api'" in result["msg"]
    assert result["msg"].startswith("project 'billing-api' in organization 'microops': created")
    assert send.call_count == 4


def test_organization_created_with_another_slug_fails_naming_both(capsys):
    routes = {("GET", ORG): NOT_FOUND, ("POST", CREATE_ORG): (201, dict(ORG_LIVE, slug="microops-x7"))}
    result, send = run({}, routes, capsys)
    assert result["failed"] is True
    assert "organization 'microops': created, but the server gave the new organization the slug 'microops-x7'" \
        " instead of 'microops'" in result["msg"]
    assert send.call_count == 2


def test_platform_drift_is_updated_with_put(capsys):
    routes = existing({("PUT", PROJECT): (200, dict(PROJECT_LIVE, platform="python-django", teams=None))})
    result, send = run({"platform": "python-django"}, routes, capsys, diff=True)
    assert result["changed"] is True
    assert requests(send)[3] == ("PUT", PROJECT, {"name": "Billing API", "platform": "python-django"})
    assert result["project"]["platform"] == "python-django"
    assert result["diff"]["before"]["project"]["platform"] == "python"
    assert result["diff"]["after"]["project"]["platform"] == "python-django"
    assert result["dsn"] == OLD_DSN


def test_name_drift_is_updated_and_keeps_the_slug(capsys):
    routes = existing({("PUT", PROJECT): (200, dict(PROJECT_LIVE, name="Billing"))})
    result, send = run({"name": "Billing", "slug": "billing-api"}, routes, capsys)
    assert requests(send)[3] == ("PUT", PROJECT, {"name": "Billing"})
    assert result["project"]["slug"] == "billing-api"


def test_project_in_another_team_is_left_there_with_a_warning(capsys):
    routes = existing({("GET", PROJECTS): (200, [dict(PROJECT_LIVE, teams=[{"id": "9", "slug": "web"}])])})
    result, send = run({}, routes, capsys)
    assert result["changed"] is False
    assert any("belongs to the teams web, not to 'services'" in warning for warning in result["warnings"])


def test_no_active_key_gives_an_empty_dsn_and_a_warning(capsys):
    routes = existing({("GET", KEYS): (200, [key("00", "2026-01-01T00:00:00Z", active=False)])})
    result, send = run({}, routes, capsys)
    assert result["dsn"] == ""
    assert any("no active key" in warning for warning in result["warnings"])


# --- pagination -------------------------------------------------------------------------------

def glitchtip_link(base, cursor):
    # pagination.py sets the header to a Python set; Django writes its str().
    return ("{'<%s>; rel=\"previous\"; results=\"false\", <%s?cursor=%s>; rel=\"next\"; results=\"true\";"
            " cursor=\"%s\"'}" % (base, base, cursor, cursor))


def test_projects_on_a_second_page_are_found(capsys):
    first = [dict(OTHER_PROJECT, slug="p%02d" % number, id=str(100 + number)) for number in range(50)]
    link = glitchtip_link("http://glitchtip.internal:8000" + PROJECTS, "cD0yMDI2")
    routes = existing({("GET", PROJECTS): (200, first, {"Link": link}),
                       ("GET", PROJECTS + "?cursor=cD0yMDI2"): (200, [PROJECT_LIVE], {"Link": "<x>; rel=\"next\"; results=\"false\""})})
    result, send = run({}, routes, capsys)
    assert result["changed"] is False
    # The cursor is asked for on api_url, not on the host the server put in the link.
    assert [p for dummy, p, dummy_body in requests(send)] == [ORG, TEAMS, PROJECTS, PROJECTS + "?cursor=cD0yMDI2", KEYS]


def test_keys_on_two_pages_choose_the_oldest_active_one(capsys):
    link = '<%s%s?&cursor=100:1:0>; rel="previous"; results="false"; cursor="100:-1:1", ' \
           '<%s%s?&cursor=100:1:0>; rel="next"; results="true"; cursor="100:1:0"' % (API, KEYS, API, KEYS)
    routes = existing({("GET", KEYS): (200, KEYS_LIVE[:2], {"Link": link}),
                       ("GET", KEYS + "?cursor=100%3A1%3A0"): (200, KEYS_LIVE[2:])})
    result, send = run({}, routes, capsys)
    assert result["dsn"] == OLD_DSN
    assert send.call_count == 5


def test_a_cursor_that_repeats_fails(capsys):
    link = '<x>; rel="next"; results="true"; cursor="c1"'
    routes = existing({("GET", TEAMS): (200, [], {"Link": link}),
                       ("GET", TEAMS + "?cursor=c1"): (200, [], {"Link": link})})
    result, send = run({}, routes, capsys)
    assert result["failed"] is True
    assert "repeats" in result["msg"]


# --- errors -----------------------------------------------------------------------------------

def test_401_names_the_organization_and_the_detail(capsys):
    result, send = run({}, {("GET", ORG): (401, {"detail": "Unauthorized"})}, capsys)
    assert result["failed"] is True
    assert result["msg"] == ("organization 'microops': GET %s%s: HTTP 401: Unauthorized (the API token was not"
                             " accepted: wrong or deleted, or its user is inactive)" % (API, ORG))


def test_sentry_401_detail(capsys):
    result, send = run({}, {("GET", ORG): (401, {"detail": "Invalid token"})}, capsys)
    assert "HTTP 401: Invalid token (the API token was not accepted" in result["msg"]


def test_403_csrf_on_a_write_says_the_token_was_not_accepted(capsys):
    routes = {("GET", ORG): NOT_FOUND, ("POST", CREATE_ORG): (403, {"detail": "CSRF check Failed"})}
    result, send = run({}, routes, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("organization 'microops': POST %s%s: HTTP 403: CSRF check Failed" % (API, CREATE_ORG))
    assert "the API token was not accepted" in result["msg"]


def test_403_permission_names_the_team(capsys):
    routes = existing({("GET", TEAMS): (200, []), ("POST", TEAMS): (403, {"detail": "Permission denied"})})
    result, send = run({}, routes, capsys)
    assert result["msg"].startswith("team 'services' in organization 'microops': POST %s%s: HTTP 403:"
                                    " Permission denied (the API token lacks the scope" % (API, TEAMS))


def test_403_organization_creation_closed(capsys):
    routes = {("GET", ORG): NOT_FOUND,
              ("POST", CREATE_ORG): (403, {"detail": "Organization creation is not open"})}
    result, send = run({}, routes, capsys)
    assert "ENABLE_ORGANIZATION_CREATION" in result["msg"]


def test_404_on_a_write_names_the_project_and_the_role(capsys):
    routes = existing({("GET", PROJECTS): (200, []), ("POST", CREATE_PROJECT): NOT_FOUND})
    result, send = run({}, routes, capsys)
    assert result["msg"].startswith("project 'billing-api' in organization 'microops': POST %s%s: HTTP 404:"
                                    " Not Found (not found, or the token's user is not an admin" % (API, CREATE_PROJECT))


def test_500_on_a_team_that_exists(capsys):
    page = "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body></body></html>"
    routes = existing({("GET", TEAMS): (200, []), ("POST", TEAMS): (500, page)})
    result, send = run({}, routes, capsys)
    assert result["msg"].startswith("team 'services' in organization 'microops': POST %s%s: HTTP 500:"
                                    " Server Error (500) (GlitchTip answers 500 when a team with that slug exists" % (API, TEAMS))


def test_validation_error_detail_list(capsys):
    detail = [{"type": "string_too_long", "loc": ["body", "payload", "name"], "msg": "String should have at most 64 characters"}]
    routes = existing({("GET", PROJECTS): (200, []), ("POST", CREATE_PROJECT): (422, {"detail": detail})})
    result, send = run({}, routes, capsys)
    assert result["msg"].endswith("HTTP 422: body.payload.name: String should have at most 64 characters")


def test_connection_failure(capsys):
    with mock.patch.object(_http, "open_url", side_effect=OSError("Connection refused")), \
            patch_module_args(dict(ARGS, api_url=API, api_token=TOKEN)):
        with pytest.raises(SystemExit):
            sentry_project.main()
    result = json.loads(capsys.readouterr().out)
    assert result["msg"] == "organization 'microops': GET %s%s failed: Connection refused" % (API, ORG)


@pytest.mark.parametrize("args, words", [
    ({"organization": "Micro Ops"}, "organization 'Micro Ops' is not a slug: use 'micro-ops'"),
    ({"team": "back end"}, "team 'back end' is not a team slug"),
    ({"slug": "Billing"}, "slug 'Billing' is not a project slug"),
    ({"name": "!!!"}, "name '!!!' gives an empty slug"),
    ({"name": " "}, "name must not be empty"),
])
def test_invalid_input_fails_before_any_request(capsys, args, words):
    result, send = run(args, {}, capsys)
    assert result["failed"] is True
    assert words in result["msg"]
    assert send.call_count == 0


# --- check mode -------------------------------------------------------------------------------

def test_check_mode_without_organization_makes_one_get(capsys):
    result, send = run({}, {("GET", ORG): NOT_FOUND}, capsys, check_mode=True, diff=True)
    assert result["changed"] is True
    assert requests(send) == [("GET", ORG, None)]
    assert result["dsn"] == ""
    assert result["project"] == {"id": None, "slug": "billing-api", "name": "Billing API", "platform": "python",
                                 "team": "services", "teams": ["services"], "organization": "microops"}
    assert result["diff"]["before"] == {"organization": None, "team": None, "project": None}
    assert result["diff"]["after"]["project"] == {"slug": "billing-api", "name": "Billing API", "platform": "python"}


def test_check_mode_new_project_makes_only_gets(capsys):
    routes = existing({("GET", TEAMS): (200, []), ("GET", PROJECTS): (200, [OTHER_PROJECT])})
    result, send = run({}, routes, capsys, check_mode=True)
    assert result["changed"] is True
    assert requests(send) == [("GET", ORG, None), ("GET", TEAMS, None), ("GET", PROJECTS, None)]
    assert result["dsn"] == ""


def test_check_mode_platform_change_makes_no_write(capsys):
    result, send = run({"platform": "go"}, existing(), capsys, check_mode=True)
    assert result["changed"] is True
    assert [m for m, dummy, dummy_body in requests(send)] == ["GET"] * 4
    assert result["project"]["platform"] == "go"
    assert result["dsn"] == OLD_DSN


# --- absent -----------------------------------------------------------------------------------

def test_absent_deletes_the_project_only(capsys):
    routes = {("GET", ORG): (200, ORG_LIVE), ("GET", PROJECTS): (200, [PROJECT_LIVE]), ("DELETE", PROJECT): (204, None)}
    result, send = run({"state": "absent", "team": None, "platform": None}, routes, capsys, diff=True)
    assert result["changed"] is True
    assert requests(send) == [("GET", ORG, None), ("GET", PROJECTS, None), ("DELETE", PROJECT, None)]
    assert result["project"] == {} and result["dsn"] == ""
    assert result["diff"]["after"] == {"organization": "microops", "project": None}


def test_absent_by_slug(capsys):
    routes = {("GET", ORG): (200, ORG_LIVE), ("GET", PROJECTS): (200, [PROJECT_LIVE]), ("DELETE", PROJECT): (204, None)}
    result, send = run({"state": "absent", "team": None, "name": None, "slug": "billing-api"}, routes, capsys)
    assert result["changed"] is True


def test_absent_when_missing_is_two_gets(capsys):
    routes = {("GET", ORG): (200, ORG_LIVE), ("GET", PROJECTS): (200, [OTHER_PROJECT])}
    result, send = run({"state": "absent"}, routes, capsys)
    assert result["changed"] is False
    assert send.call_count == 2


def test_absent_without_organization_is_one_get(capsys):
    result, send = run({"state": "absent"}, {("GET", ORG): NOT_FOUND}, capsys)
    assert result["changed"] is False
    assert send.call_count == 1


def test_absent_check_mode_does_not_delete(capsys):
    routes = {("GET", ORG): (200, ORG_LIVE), ("GET", PROJECTS): (200, [PROJECT_LIVE])}
    result, send = run({"state": "absent"}, routes, capsys, check_mode=True)
    assert result["changed"] is True
    assert send.call_count == 2


def test_absent_needs_name_or_slug(capsys):
    result, send = run({"state": "absent", "name": None}, {}, capsys)
    assert result["failed"] is True
    assert send.call_count == 0
