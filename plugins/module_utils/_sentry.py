# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private helpers for the collection's Sentry modules, which speak the `/api/0/` API that
GlitchTip and Sentry share: connection options, a client that follows their cursor pagination,
their error bodies worded for the user, and the slug rules GlitchTip applies.

Sources relied on (GlitchTip backend, gitlab.com/glitchtip/glitchtip-backend, Dec 2025):
- glitchtip/api/api.py: NinjaAPI(auth=[TokenAuth(), SessionAuth()]). A request without a valid
  bearer token falls through to the session cookie check, whose CSRF check refuses every write
  with 403 {"detail": "CSRF check Failed"}; a read is refused with 401 {"detail": "Unauthorized"}.
- glitchtip/api/permissions.py: a token without one of an endpoint's scopes gets
  403 {"detail": "Permission denied"}. Errors are {"detail": str} (django-ninja's HttpError), or
  {"detail": [{"loc", "msg", "type"}]} for a body that fails validation (422).
- glitchtip/api/pagination.py: lists are cut into pages of 50 (settings.NINJA_PAGINATION_PER_PAGE)
  and say so in a Link header `<url>; rel="next"; results="true"; cursor="..."`, as Sentry's do
  (https://docs.sentry.io/api/pagination/). GlitchTip writes that header as the text of a Python
  set (`{'<...>; rel="previous"; results="false", <...>; rel="next"; ...'}`), so it is searched
  for its parts rather than parsed as a list.
- apps/projects/models.py, django_extensions AutoSlugField, django.utils.text.slugify: how a
  project's slug is made from its name (slug_of_name)."""

from __future__ import annotations

import json
import re
import unicodedata
from urllib.parse import quote, unquote

from ansible_collections.microops.stack.plugins.module_utils._http import (DEFAULT_TIMEOUT, HttpClient, HttpError,
                                                                           decode, exchange)

# Pages of one list followed at most (50 items each on GlitchTip, 100 on Sentry).
MAX_PAGES = 100


def sentry_argument_spec():
    """Connection options of every Sentry module (documented in the microops.stack.sentry fragment)."""
    return dict(
        api_url=dict(type="str", required=True),
        api_token=dict(type="str", required=True, no_log=True),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="int", default=DEFAULT_TIMEOUT),
    )


# --- slugs ----------------------------------------------------------------------------------

PROJECT_SLUG_MAX = 50  # Project.slug max_length; Sentry's limit too
# GlitchTip's SlugStr (apps/shared/schema/fields.py), which TeamIn.slug must match.
_TEAM_SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")
# What slugify can make, and what Sentry accepts as a project slug.
_PROJECT_SLUG_RE = re.compile(r"^[a-z0-9_-]{1,50}$")


def slugify(value):
    """django.utils.text.slugify(value) (allow_unicode=False): accents dropped to ASCII, characters
    other than letters, digits, '_', '-' and spaces removed, lower case, runs of spaces and '-'
    made one '-', '-' and '_' stripped from both ends. "My App.v2" -> "my-appv2"."""
    value = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value.lower())
    return re.sub(r"[-\s]+", "-", value).strip("-_")


def slug_of_name(name):
    """The slug GlitchTip gives a new project called `name` when no project of the organisation
    holds it yet: Project.slugify_function (slugify, and "new" is reserved: "new-1"), joined with
    the empty slug of organization_id by '-', cut to 50 characters, '-' runs made one and stripped
    at both ends (AutoSlugField.create_slug and _slug_strip)."""
    slug = slugify(name)
    if slug == "new":
        slug += "-1"
    slug = (slug + "-")[:PROJECT_SLUG_MAX]
    slug = re.sub("-+", "-", slug)
    return re.sub(r"^-+|-+$", "", slug)


def organization_slug_error(slug):
    """Why `slug` cannot be an organisation's slug, or None. GlitchTip makes an organisation's slug
    from its name with slugify, so only a name that is its own slug gives the slug asked for."""
    if not slug:
        return "organization must not be empty"
    if slugify(slug) != slug:
        return ("organization %r is not a slug: use %r (lower-case letters, digits, '_' and '-', as GlitchTip"
                " makes slugs from names)" % (slug, slugify(slug)))
    return None


def team_slug_error(slug):
    if not slug or not _TEAM_SLUG_RE.match(slug):
        return "team %r is not a team slug (1 to 50 letters, digits, '_' and '-')" % (slug,)
    return None


def project_slug_error(slug):
    if not _PROJECT_SLUG_RE.match(slug or ""):
        return "slug %r is not a project slug (1 to 50 lower-case letters, digits, '_' and '-')" % (slug,)
    return None


# --- keys -----------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


def date_key(text):
    """A sortable form of an ISO 8601 time as the APIs write it (2025-01-02T03:04:05.123456Z; the
    fraction may be missing or of any length, so the strings themselves do not sort), in UTC
    seconds and microseconds; None when it cannot be read."""
    match = _DATE_RE.match(str(text or ""))
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    days = _days_from_civil(int(year), int(month), int(day))
    seconds = ((days * 24 + int(hour)) * 60 + int(minute)) * 60 + int(second)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds, int((fraction or "0").ljust(6, "0")[:6])


def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (no datetime: any year the text holds)."""
    if month <= 2:
        year -= 1
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def oldest_active_key(keys):
    """The key whose DSN stays the same from run to run: the oldest active one by dateCreated (then
    by id), never by position, since GlitchTip lists the newest first. Keys with isActive false are
    skipped. Keys without a readable date come after the dated ones, the last listed first. None
    when there is no active key."""
    active = [(index, key) for index, key in enumerate(keys or [])
              if isinstance(key, dict) and key.get("isActive", True) is not False]
    if not active:
        return None

    def order(item):
        index, key = item
        created = date_key(key.get("dateCreated"))
        if created is None:
            return (1, (0, 0), -index, "")
        return (0, created, 0, str(key.get("id") or ""))

    return sorted(active, key=order)[0][1]


def key_dsn(key):
    dsn = (key or {}).get("dsn")
    if isinstance(dsn, dict):
        return dsn.get("public") or ""
    return ""


# --- errors ---------------------------------------------------------------------------------

def detail(data, default):
    """The server's message: `detail` (a string, or the validation errors of a 422), else
    `message`, else the <title> of an HTML error page (Django's 500), else `default`."""
    if isinstance(data, dict):
        value = data.get("detail", data.get("message"))
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value:
            parts = []
            for item in value:
                if isinstance(item, dict):
                    loc = ".".join(str(part) for part in item.get("loc") or [])
                    parts.append("%s: %s" % (loc, item.get("msg")) if loc else str(item.get("msg")))
                else:
                    parts.append(str(item))
            return "; ".join(parts)
        if value:
            return json.dumps(value, sort_keys=True)
    if isinstance(data, str):
        match = re.search(r"<(title|h1)[^>]*>(.*?)</\1>", data, re.IGNORECASE | re.DOTALL)
        if match:
            return re.sub(r"\s+", " ", match.group(2)).strip()
    return default


def explanation(method, status, message):
    """What a refusal means for a user of the module, or ""."""
    if status == 401:
        return "the API token was not accepted: wrong or deleted, or its user is inactive"
    if status == 403 and "csrf" in (message or "").lower():
        return ("GlitchTip answers a write this way when no valid API token came with it (it then treats the"
                " request as a browser session without a CSRF token): the API token was not accepted")
    if status == 403 and message == "Organization creation is not open":
        return ("only a superuser may create an organisation while ENABLE_ORGANIZATION_CREATION is off: create"
                " it with a superuser's token or in the UI")
    if status == 403:
        return "the API token lacks the scope for this request, or its user the role in the organisation"
    if status == 404 and method != "GET":
        return ("not found, or the token's user is not an admin or owner of the organisation, which GlitchTip"
                " requires for this write")
    return ""


class SentryError(Exception):
    """A failure already worded for the user."""


class SentryClient(HttpClient):
    """HttpClient with a bearer token and a CA file, whose answers carry their headers (the Link
    header of paginated lists), and whose errors are worded with the server's `detail`."""

    def __init__(self, base_url, token, ca_path=None, **kwargs):
        super().__init__(base_url, headers={"Authorization": "Bearer %s" % token}, **kwargs)
        if ca_path:
            self.options["ca_path"] = ca_path

    def request(self, method, path, body=None, allow=()):
        """(status, decoded JSON or text or None, headers with lower-case names). Statuses >= 400
        raise HttpError (message: the server's detail and what it means) unless in `allow`."""
        url, headers, data = self.prepare(path, body)
        status, answer_headers, raw = exchange(method, url, data=data, headers=headers, **self.options)
        decoded = decode(raw)
        if status >= 400 and status not in allow:
            message = detail(decoded, "no message")
            why = explanation(method, status, message)
            raise HttpError(method, url, status, "%s (%s)" % (message, why) if why else message, data=decoded)
        return status, decoded, answer_headers

    def get_all(self, path):
        """Every item of a paginated list: the first page, then each page the Link header's
        rel="next" with results="true" points to, asked for by its cursor on our own base URL
        (the server builds the link from the Host it was sent, which a proxy may have changed)."""
        items, cursor, seen = [], None, set()
        for dummy in range(MAX_PAGES):
            page_path = path if cursor is None else "%s?cursor=%s" % (path, quote(cursor, safe=""))
            dummy_status, data, headers = self.request("GET", page_path)
            if not isinstance(data, list):
                raise HttpError("GET", self.url(page_path), 200, "expected a list, got %s" % type(data).__name__)
            items.extend(data)
            cursor = next_cursor(headers.get("link"))
            if cursor is None:
                return items
            if cursor in seen:
                raise HttpError("GET", self.url(page_path), 200, "the next page's cursor %r repeats" % cursor)
            seen.add(cursor)
        raise HttpError("GET", self.url(path), 200, "more than %d pages" % MAX_PAGES)


_LINK_RE = re.compile(r"<([^>]*)>((?:\s*;\s*[a-zA-Z_]+=\"[^\"]*\")+)")
_PARAM_RE = re.compile(r"([a-zA-Z_]+)=\"([^\"]*)\"")


def next_cursor(link):
    """The cursor of the next page from a Link header, or None when there is none with results."""
    for match in _LINK_RE.finditer(link or ""):
        params = dict(_PARAM_RE.findall(match.group(2)))
        if params.get("rel") == "next" and params.get("results") == "true":
            cursor = params.get("cursor")
            if not cursor:
                # A link without a cursor parameter: the cursor from its query.
                found = re.search(r"[?&]cursor=([^&]*)", match.group(1))
                cursor = found and unquote(found.group(1))
            return cursor or None
    return None


def sentry_client(params):
    return SentryClient(
        params["api_url"],
        params["api_token"],
        ca_path=params.get("ca_path"),
        validate_certs=params.get("validate_certs", True),
        timeout=params.get("timeout") or DEFAULT_TIMEOUT,
    )
