# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private helpers for the collection's Grafana modules: the connection options, and the pure
rules that decide whether a datasource already matches what was asked and what a PUT sends.

Sources relied on (grafana/grafana):
- pkg/api/datasources.go: endpoints, status codes and messages, the DTO returned by GET.
- pkg/services/datasources/service/datasource.go: the first datasource of an org is made the
  default; secure keys missing from an update are kept (fillWithSecureJSONData).
- pkg/services/datasources/service/store.go: an update writes every column from the request and
  stores version + 1, refusing a version older than the stored one.
- pkg/services/datasources/models.go: the fields of UpdateDataSourceCommand.
- pkg/util/shortid_generator.go: ValidateUID (40 characters of [a-zA-Z0-9_-])."""

from __future__ import annotations

import copy
import re

from ansible_collections.microops.stack.plugins.module_utils._http import HttpClient


def grafana_argument_spec():
    """Connection options of every Grafana module (documented in the microops.stack.grafana
    fragment). The names follow url_argument_spec(); its `url` is grafana_url here because
    `url` is the datasource's own URL."""
    return dict(
        grafana_url=dict(type="str", required=True),
        url_username=dict(type="str"),
        url_password=dict(type="str", no_log=True),
        grafana_token=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True),
        client_cert=dict(type="path"),
        # A path to a key file, not the key itself.
        client_key=dict(type="path", no_log=False),
    )


# Passed to AnsibleModule with grafana_argument_spec(): one way to authenticate, never two.
GRAFANA_MUTUALLY_EXCLUSIVE = [("url_username", "grafana_token"), ("url_password", "grafana_token")]
GRAFANA_REQUIRED_TOGETHER = [("url_username", "url_password")]
GRAFANA_REQUIRED_ONE_OF = [("url_username", "grafana_token")]


def grafana_client(params, org_id):
    """The HTTP client for the connection options in `params`, acting in organisation `org_id`.

    The organisation goes in X-Grafana-Org-Id on every request rather than through
    POST /api/user/using/:id, which would change the user's current organisation for good."""
    headers = {"X-Grafana-Org-Id": str(org_id)}
    if params.get("grafana_token"):
        headers["Authorization"] = "Bearer %s" % params["grafana_token"]
    return HttpClient(
        params["grafana_url"],
        headers=headers,
        url_username=params.get("url_username"),
        url_password=params.get("url_password"),
        validate_certs=params.get("validate_certs", True),
        client_cert=params.get("client_cert"),
        client_key=params.get("client_key"),
    )


# --- identity -------------------------------------------------------------------------------

UID_MAX_LENGTH = 40
_UID_RE = re.compile(r"^[a-zA-Z0-9_-]*$")


def uid_error(uid):
    """Why Grafana would refuse `uid` (util.ValidateUID), or None."""
    if uid is None:
        return None
    if not uid:
        return "uid must not be empty"
    if len(uid) > UID_MAX_LENGTH:
        return "uid %r is %d characters long: Grafana allows at most %d" % (uid, len(uid), UID_MAX_LENGTH)
    if not _UID_RE.match(uid):
        return "uid %r may only hold letters, digits, '-' and '_'" % (uid,)
    return None


# Plugin ids Grafana stores under another id: GET answers with the plugin's id, not the alias
# the datasource was created with (convertModelToDtos: "may be from an alias").
TYPE_ALIASES = {"postgres": "grafana-postgresql-datasource"}


def canonical_type(ds_type):
    return TYPE_ALIASES.get(ds_type, ds_type)


# --- desired state and comparison ----------------------------------------------------------

# Module option -> API field, for the fields compared only when the user set them.
OPTION_FIELDS = (
    ("name", "name"),
    ("uid", "uid"),
    ("type", "type"),
    ("url", "url"),
    ("access", "access"),
    ("is_default", "isDefault"),
    ("database", "database"),
    ("user", "user"),
    ("basic_auth", "basicAuth"),
    ("basic_auth_user", "basicAuthUser"),
    ("with_credentials", "withCredentials"),
    ("json_data", "jsonData"),
)

# What Grafana returns for a field that was never set (the DTO has no omitempty on them, but a
# stand-in or an older Grafana may leave them out: the same datasource either way).
_EMPTY = {
    "url": "", "access": "", "database": "", "user": "", "basicAuthUser": "",
    "isDefault": False, "basicAuth": False, "withCredentials": False, "jsonData": {},
}

# The body of PUT /api/datasources/uid/:uid (UpdateDataSourceCommand). Everything else in the
# GET answer (id, orgId, typeLogoUrl, readOnly, secureJsonFields, accessControl) is read-only.
UPDATE_FIELDS = ("name", "uid", "type", "access", "url", "user", "database", "basicAuth", "basicAuthUser",
                 "withCredentials", "isDefault", "jsonData", "version", "apiVersion")

# Fields shown in diffs: what this module manages, plus which secrets are set.
VIEW_FIELDS = tuple(field for _option, field in OPTION_FIELDS) + ("secureJsonFields",)


def desired_datasource(params):
    """The API fields the user set, and only those: unset options are never compared or sent."""
    desired = {}
    for option, field in OPTION_FIELDS:
        value = params.get(option)
        if value is not None:
            desired[field] = copy.deepcopy(value)
    return desired


def _field(datasource, field):
    value = datasource.get(field)
    if value is None:
        return copy.deepcopy(_EMPTY.get(field))
    return value


def normalize_datasource(datasource):
    """A datasource as diffs show it: managed fields with Grafana's empty values filled in, the
    type under its canonical id, and the names of the secrets that are set (never their values)."""
    if not datasource:
        return {}
    view = dict((field, _field(datasource, field)) for field in VIEW_FIELDS if field != "secureJsonFields")
    view["type"] = canonical_type(view["type"])
    view["secureJsonFields"] = sorted(key for key, is_set in (datasource.get("secureJsonFields") or {}).items() if is_set)
    return view


def merged_json_data(current, desired, purge):
    """The jsonData to store: with purge exactly `desired`, without it the current keys with the
    desired ones on top (top-level keys; a nested value is replaced as a whole)."""
    if purge:
        return copy.deepcopy(desired)
    merged = copy.deepcopy(current or {})
    merged.update(copy.deepcopy(desired))
    return merged


def differences(current, desired, purge_json_data):
    """Names of the fields the user set that differ from the live datasource, sorted."""
    changed = []
    for field, value in desired.items():
        live = _field(current, field)
        if field == "type":
            if canonical_type(value) != canonical_type(live):
                changed.append(field)
        elif field == "jsonData":
            if merged_json_data(live, value, purge_json_data) != live:
                changed.append(field)
        elif value != live:
            changed.append(field)
    return sorted(changed)


def secure_keys_to_send(secure_json_data, secure_json_fields, update):
    """The secureJsonData keys to send, sorted.

    Grafana never returns secret values, only secureJsonFields (which keys hold one), so a value
    cannot be compared. With update=on_create a key is sent only when Grafana has none for it:
    a missing key is a difference Grafana does show. With update=always every key is sent, and
    the module reports a change every run because it cannot know whether the value differed."""
    if not secure_json_data:
        return []
    if update == "always":
        return sorted(secure_json_data)
    present = secure_json_fields or {}
    return sorted(key for key in secure_json_data if not present.get(key))


def secrets_body(secure_json_data, keys):
    # Grafana binds secureJsonData to map[string]string: numbers would fail the request.
    return dict((key, "" if secure_json_data[key] is None else str(secure_json_data[key])) for key in keys)


def create_body(desired, secure_json_data):
    """The body of POST /api/datasources. isDefault is left out unless set: Grafana makes the
    first datasource of an organisation the default itself."""
    body = copy.deepcopy(desired)
    if secure_json_data:
        body["secureJsonData"] = secrets_body(secure_json_data, sorted(secure_json_data))
    return body


def update_body(current, desired, purge_json_data, secure_json_data=None, secure_keys=()):
    """The body of PUT /api/datasources/uid/:uid: the CURRENT datasource with the user's fields
    on top, version included.

    Grafana's update replaces every column from the request, so a field left out is erased
    (user, database, jsonData, isDefault) and a missing version resets the stored one. Secrets
    left out are kept by Grafana, so only the keys to change are sent."""
    body = dict((field, copy.deepcopy(current[field])) for field in UPDATE_FIELDS if field in current)
    for field, value in desired.items():
        if field == "jsonData":
            body[field] = merged_json_data(current.get("jsonData"), value, purge_json_data)
        elif field == "type" and canonical_type(value) == canonical_type(current.get("type")):
            continue  # the stored id, not the alias: nothing to change
        else:
            body[field] = copy.deepcopy(value)
    if secure_keys:
        body["secureJsonData"] = secrets_body(secure_json_data, secure_keys)
    return body


def predicted(current, body):
    """The datasource Grafana would hold after writing `body` on `current` (None when creating):
    what check mode returns. Secret values are dropped; their keys join secureJsonFields."""
    after = copy.deepcopy(current or {})
    after.update(dict((key, copy.deepcopy(value)) for key, value in body.items() if key != "secureJsonData"))
    if body.get("secureJsonData"):
        fields = dict(after.get("secureJsonFields") or {})
        fields.update(dict((key, True) for key in body["secureJsonData"]))
        after["secureJsonFields"] = fields
    return after


def without_secrets(datasource):
    """The datasource as returned to the user; secureJsonData never leaves the module."""
    if not datasource:
        return {}
    return dict((key, value) for key, value in datasource.items() if key != "secureJsonData")
