# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private helpers for the collection's Elasticsearch and Kibana modules: connection options,
clients on top of _http.send(), Elasticsearch's error bodies as one line, and the pure rules
that decide whether a live object already holds what a definition sets.

Sources relied on (Elastic's API reference, https://www.elastic.co/docs/api/doc/elasticsearch/):
- Error bodies {"error": {"root_cause", "type", "reason", "caused_by"}, "status"}:
  https://www.elastic.co/docs/reference/elasticsearch/rest-apis/common-options (error_trace).
- The GET answer of each kind, unwrapped in KINDS below (each entry cites its operation).
- Settings come back nested, with the `index.` prefix on index settings and every value a
  string (Settings.toXContent; index templates normalise their settings with the prefix)."""

from __future__ import annotations

import copy

from ansible_collections.microops.stack.plugins.module_utils._http import (
    DEFAULT_TIMEOUT,
    HttpClient,
    HttpError,
    path_quote,
)


# --- connection -----------------------------------------------------------------------------

def _connection_spec():
    return dict(
        url_username=dict(type="str"),
        url_password=dict(type="str", no_log=True),
        api_key=dict(type="str", no_log=True),
        ca_path=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=DEFAULT_TIMEOUT),
    )


def elasticsearch_argument_spec():
    """Connection options of every Elasticsearch module (documented in the
    microops.stack.elasticsearch fragment). Basic auth is url_username/url_password, as in
    url_argument_spec(), because `password` is the managed user's own password."""
    spec = dict(url=dict(type="str", required=True))
    spec.update(_connection_spec())
    return spec


def kibana_argument_spec():
    """Connection options of the Kibana modules: the same as Elasticsearch's, with kibana_url."""
    spec = dict(kibana_url=dict(type="str", required=True))
    spec.update(_connection_spec())
    return spec


# Passed to AnsibleModule with either spec: one way to authenticate, never two.
MUTUALLY_EXCLUSIVE = [("url_username", "api_key"), ("url_password", "api_key")]
REQUIRED_TOGETHER = [("url_username", "url_password")]
REQUIRED_ONE_OF = [("url_username", "api_key")]


def error_text(data, default):
    """Elasticsearch's error body as `type: reason`, with the cause when there is one (a parse
    error's reason names the field, its cause says what is wrong with it). Other bodies (Kibana's
    {statusCode, error, message}, plain text) keep `default`, which _http.error_message made."""
    if not isinstance(data, dict):
        return default
    error = data.get("error")
    if isinstance(error, str):
        # Kibana's {statusCode, error: "Bad Request", message}: the message says more.
        return default if data.get("message") else error
    if not isinstance(error, dict):
        return default
    parts = []
    while isinstance(error, dict) and len(parts) < 4:
        text = ": ".join(str(error[key]) for key in ("type", "reason") if error.get(key))
        if text and text not in parts:
            parts.append(text)
        error = error.get("caused_by")
    return "; caused by: ".join(parts) or default


class ElasticClient(HttpClient):
    """HttpClient with a CA file and Elasticsearch's errors worded as `type: reason`."""

    def __init__(self, base_url, ca_path=None, **kwargs):
        super().__init__(base_url, **kwargs)
        if ca_path:
            self.options["ca_path"] = ca_path

    def request(self, method, path, body=None, allow=()):
        try:
            return super().request(method, path, body=body, allow=allow)
        except HttpError as exc:
            if exc.status is None:
                raise
            raise HttpError(exc.method, exc.url, exc.status, error_text(exc.data, exc.message), data=exc.data) from exc


def _client(base_url, params, headers=None, username=None, password=None):
    headers = dict(headers or {})
    if params.get("api_key") and username is None:
        # https://www.elastic.co/docs/api/doc/elasticsearch/authentication: "ApiKey <encoded>".
        headers["Authorization"] = "ApiKey %s" % params["api_key"]
    elif username is None:
        username, password = params.get("url_username"), params.get("url_password")
    return ElasticClient(
        base_url,
        ca_path=params.get("ca_path"),
        headers=headers,
        url_username=username,
        url_password=password,
        validate_certs=params.get("validate_certs", True),
        timeout=params.get("timeout") or DEFAULT_TIMEOUT,
    )


def elasticsearch_client(params):
    return _client(params["url"], params)


def user_client(params, username, password):
    """A client that authenticates as `username`: how a password is checked without its hash."""
    return _client(params["url"], params, username=username, password=password)


def kibana_client(params, space="default"):
    """A Kibana client for `space`. Kibana refuses writes without kbn-xsrf (any value), so every
    request carries it; a space other than the default one is a /s/<space> prefix.
    https://www.elastic.co/docs/api/doc/kibana/ (Spaces; kbn-xsrf header)."""
    base = params["kibana_url"].rstrip("/")
    if space and space != "default":
        base += "/s/%s" % path_quote(space)
    return _client(base, params, headers={"kbn-xsrf": "true"})


# --- comparison -----------------------------------------------------------------------------

def setting_string(value):
    """A setting value as Elasticsearch returns it: strings, booleans lower-case, lists of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [setting_string(item) for item in value]
    if value is None or isinstance(value, str):
        return value
    return str(value)


def flat_settings(settings, prefix=""):
    """Nested settings as dotted keys with string values ({"a": {"b": 1}} -> {"a.b": "1"})."""
    flat = {}
    for key, value in (settings or {}).items():
        name = "%s.%s" % (prefix, key) if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flat_settings(value, name))
        else:
            flat[name] = setting_string(value)
    return flat


def index_settings(settings):
    """Index settings as Elasticsearch stores them: flat, every key under `index.`
    (Settings.Builder.normalizePrefix), so {"number_of_replicas": 0} is {"index.number_of_replicas": "0"}."""
    return dict((key if key.startswith("index.") else "index." + key, value)
                for key, value in flat_settings(settings).items())


def _scalar_equal(desired, live):
    if isinstance(desired, bool) == isinstance(live, bool) and desired == live:
        return True
    # Elasticsearch returns some values as strings it was given as numbers or booleans.
    if isinstance(live, str) and desired is not None and not isinstance(desired, (dict, list, str)):
        return setting_string(desired) == live
    return False


def is_subset(desired, live):
    """Whether `live` holds everything `desired` sets: dicts key by key (keys `live` adds, such as
    defaults, are ignored), lists of the same length element by element, scalars equal. A key
    set to None matches a key that is missing."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(is_subset(value, live.get(key)) if key in live else value is None for key, value in desired.items())
    if isinstance(desired, (list, tuple)):
        if not isinstance(live, (list, tuple)) or len(desired) != len(live):
            return False
        return all(is_subset(want, have) for want, have in zip(desired, live))
    return _scalar_equal(desired, live)


# --- kinds ------------------------------------------------------------------------------------

def _entry(data, name):
    """{name: {...}}: the answer of most GETs by name."""
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else None


def _listed(key, inner):
    """{key: [{name, inner: {...}}]}: index and component templates."""
    def unwrap(data, name):
        items = data.get(key) if isinstance(data, dict) else None
        for item in items or []:
            if isinstance(item, dict) and item.get("name") == name:
                return item.get(inner)
        return None
    return unwrap


def _policy(data, name):
    entry = _entry(data, name)
    return None if entry is None else {"policy": entry.get("policy")}


def _slm(data, name):
    entry = _entry(data, name)
    return None if entry is None else entry.get("policy")


def _template_view(body):
    template = body.get("template")
    if isinstance(template, dict) and isinstance(template.get("settings"), dict):
        body["template"] = dict(template, settings=index_settings(template["settings"]))
    return body


def _repository_view(body):
    if isinstance(body.get("settings"), dict):
        body["settings"] = flat_settings(body["settings"])
    return body


# kind -> API path (with %s for the quoted name), how to find the object in the GET answer, and
# how to put it in the form compared. Every unwrapped object has the shape of the PUT body.
KINDS = {
    # https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-ilm-get-lifecycle
    # {P: {version, modified_date, policy: {phases, _meta}, in_use_by}}; the PUT body is {policy}.
    "ilm_policy": dict(path="_ilm/policy/%s", unwrap=_policy, view=None),
    # https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-get-index-template
    "index_template": dict(path="_index_template/%s", unwrap=_listed("index_templates", "index_template"),
                           view=_template_view),
    # https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-cluster-get-component-template
    "component_template": dict(path="_component_template/%s",
                               unwrap=_listed("component_templates", "component_template"), view=_template_view),
    # https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-ingest-get-pipeline
    "ingest_pipeline": dict(path="_ingest/pipeline/%s", unwrap=_entry, view=None),
    # https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-security-get-role
    # (404 with {} when the role does not exist)
    "role": dict(path="_security/role/%s", unwrap=_entry, view=None),
    # https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-security-get-user
    "user": dict(path="_security/user/%s", unwrap=_entry, view=None),
    # https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-snapshot-get-repository
    # {R: {type, settings}}, settings values as strings.
    "snapshot_repository": dict(path="_snapshot/%s", unwrap=_entry, view=_repository_view),
    # https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-slm-get-lifecycle
    # {P: {version, modified_date_millis, policy: {...}, stats, next_execution_millis}}.
    "slm_policy": dict(path="_slm/policy/%s", unwrap=_slm, view=None),
}


def resource_path(kind, name):
    return KINDS[kind]["path"] % path_quote(name)


def unwrap(kind, name, data):
    """The object named `name` from the GET answer, shaped like the PUT body, or None."""
    found = KINDS[kind]["unwrap"](data, name)
    return copy.deepcopy(found) if isinstance(found, dict) else None


def comparable(kind, body):
    """`body` (a definition or an unwrapped object) normalised the way Elasticsearch stores it."""
    if not body:
        return {}
    view = KINDS[kind]["view"]
    body = copy.deepcopy(body)
    return view(body) if view else body


def needs_update(kind, definition, current):
    """Whether the live object lacks something the definition sets."""
    return not is_subset(comparable(kind, definition), comparable(kind, current))
