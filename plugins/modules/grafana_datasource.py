#!/usr/bin/python
# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: grafana_datasource
short_description: Manage a Grafana datasource
version_added: 0.1.0
description:
  - Creates, updates and deletes a datasource in one Grafana organisation through Grafana's
    HTTP API (C(/api/datasources)).
  - Reads the datasource first and writes only when a field the user set differs. Fields not
    set are neither compared nor changed; an update sends the current datasource with the
    user's fields on top, because Grafana replaces the whole datasource on update.
  - Finds the datasource by O(uid) when it is set, else by O(name). A uid is recommended
    because it is a stable identity that dashboards refer to and that survives a rename.
extends_documentation_fragment:
  - microops.stack.grafana
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
  - microops.stack.attributes
attributes:
  action_group:
    membership: [microops.stack.grafana]
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
  idempotent:
    support: partial
    details:
      - Not with O(update_secure_json_data=always), which reports a change on every run
        because Grafana never returns secret values to compare.
options:
  name:
    description:
      - Datasource name, unique in the organisation.
      - With O(uid) set, a datasource found by uid under another name is renamed.
    type: str
    required: true
  uid:
    description:
      - Stable identifier of the datasource, at most 40 characters of V([a-zA-Z0-9_-]),
        checked before any request is made.
      - Unset, Grafana generates one when the datasource is created and the datasource is
        found by O(name).
    type: str
  state:
    description:
      - V(present) creates or updates the datasource, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - Datasource plugin id, for example V(prometheus), V(elasticsearch), V(loki),
        V(alertmanager), or the id of an installed plugin. Not checked against a list.
      - Required to create a datasource.
      - V(postgres) is stored by Grafana as V(grafana-postgresql-datasource); the two are
        treated as equal.
    type: str
  url:
    description:
      - URL Grafana reaches the datasource on.
    type: str
  access:
    description:
      - V(proxy) makes Grafana's server send the queries. V(direct) makes the browser send
        them; Grafana documents it as deprecated and no longer working for most datasources.
    type: str
    choices: [proxy, direct]
    default: proxy
  is_default:
    description:
      - Whether this is the organisation's default datasource.
      - Unset is neither compared nor sent. Grafana makes the first datasource of an
        organisation the default whatever is asked, so V(false) on that one reports a
        change on every run.
    type: bool
  database:
    description:
      - Database name, for datasources that have one at the top level (most plugins now read
        it from O(json_data)).
    type: str
  user:
    description:
      - User name for datasources that log in with one (SQL databases, InfluxDB).
      - The password goes in O(secure_json_data) as V(password).
    type: str
  basic_auth:
    description:
      - Whether Grafana uses HTTP basic authentication towards the datasource.
      - The password goes in O(secure_json_data) as V(basicAuthPassword).
    type: bool
  basic_auth_user:
    description:
      - User name for O(basic_auth).
    type: str
  with_credentials:
    description:
      - Whether the browser sends cookies and credentials with O(access=direct) requests.
    type: bool
  json_data:
    description:
      - Plugin settings, for example C(httpMethod) and C(timeInterval) for Prometheus.
      - Compared key by key at the top level; see O(purge_json_data).
    type: dict
  purge_json_data:
    description:
      - With V(true), O(json_data) becomes the whole of the datasource's settings and keys not
        in it are removed.
      - With V(false), keys not in O(json_data) are kept as they are, so settings made in
        Grafana's UI or by the plugin survive.
    type: bool
    default: false
  secure_json_data:
    description:
      - Secret settings, for example V(password), V(basicAuthPassword),
        V(httpHeaderValue1) or V(tlsClientKey). Grafana encrypts them and never returns them.
      - Values cannot be compared. Grafana only tells which keys hold a value
        (C(secureJsonFields)), see O(update_secure_json_data).
    type: dict
  update_secure_json_data:
    description:
      - V(on_create) sends a secret only when Grafana holds no value for its key, that is on
        creation and for any key missing from C(secureJsonFields). A changed value of a key that is
        already set is B(not) detected.
      - V(always) sends every secret on every run, so a changed value is applied; the module
        then reports a change on every run, since it cannot tell whether the value differed.
    type: str
    choices: [on_create, always]
    default: on_create
  org_id:
    description:
      - Id of the organisation the datasource belongs to.
      - Sent as the C(X-Grafana-Org-Id) header, so the user's current organisation is not changed.
    type: int
    default: 1
  health_check:
    description:
      - After a change, run Grafana's health check of the datasource
        (C(GET /api/datasources/uid/:uid/health)) and fail with Grafana's message when the
        datasource does not work. The change is kept and reported.
    type: bool
    default: false
notes:
  - Provisioned datasources (from Grafana's provisioning files) are read-only through the API;
    the module fails with a message saying so instead of changing or deleting them.
  - Needs a user or service account allowed to write datasources in the organisation
    (the Admin role, or the C(datasources:write), C(datasources:create) and
    C(datasources:delete) permissions).
author:
  - microops.stack developers (@microops)
"""

EXAMPLES = r"""
- name: Prometheus, the organisation's default datasource
  microops.stack.grafana_datasource:
    grafana_url: http://127.0.0.1:3000
    url_username: admin
    url_password: "{{ grafana_admin_password }}"
    name: Prometheus
    uid: prometheus
    type: prometheus
    url: http://prometheus:9090
    is_default: true
    json_data:
      httpMethod: POST
      timeInterval: 15s
    health_check: true

- name: Elasticsearch logs, with a service account token set once for every Grafana task
  module_defaults:
    group/microops.stack.grafana:
      grafana_url: https://grafana.example.org
      grafana_token: "{{ grafana_sa_token }}"
  block:
    - name: Logs datasource
      microops.stack.grafana_datasource:
        name: Logs
        uid: logs
        type: elasticsearch
        url: https://elasticsearch:9200
        basic_auth: true
        basic_auth_user: grafana_reader
        secure_json_data:
          basicAuthPassword: "{{ es_grafana_reader_password }}"
        json_data:
          index: logs-*
          timeField: "@timestamp"

- name: Rotate a password (sent on every run)
  microops.stack.grafana_datasource:
    grafana_url: http://127.0.0.1:3000
    grafana_token: "{{ grafana_sa_token }}"
    name: Errors DB
    uid: errors-db
    type: postgres
    url: postgres:5432
    user: grafana
    json_data:
      database: glitchtip
      sslmode: disable
    secure_json_data:
      password: "{{ glitchtip_db_grafana_password }}"
    update_secure_json_data: always

- name: Remove a datasource from organisation 2
  microops.stack.grafana_datasource:
    grafana_url: http://127.0.0.1:3000
    url_username: admin
    url_password: "{{ grafana_admin_password }}"
    org_id: 2
    name: Old Prometheus
    state: absent
"""

RETURN = r"""
datasource:
  description:
    - The datasource after the task, as Grafana returns it (as it would be, in check mode).
      Never holds secret values; C(secureJsonFields) names the secrets that are set.
    - Empty when the datasource is absent.
  returned: always
  type: dict
  sample:
    id: 3
    uid: prometheus
    orgId: 1
    name: Prometheus
    type: prometheus
    typeLogoUrl: public/plugins/prometheus/img/prometheus_logo.svg
    access: proxy
    url: http://prometheus:9090
    user: ""
    database: ""
    basicAuth: false
    basicAuthUser: ""
    withCredentials: false
    isDefault: true
    jsonData:
      httpMethod: POST
      timeInterval: 15s
    secureJsonFields: {}
    version: 2
    readOnly: false
health:
  description:
    - Grafana's answer to the health check, with its C(status) and C(message).
  returned: when O(health_check=true) and the datasource was changed, outside check mode
  type: dict
  sample:
    status: OK
    message: Successfully queried the Prometheus API.
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.microops.stack.plugins.module_utils._grafana import (
    GRAFANA_MUTUALLY_EXCLUSIVE,
    GRAFANA_REQUIRED_ONE_OF,
    GRAFANA_REQUIRED_TOGETHER,
    create_body,
    desired_datasource,
    differences,
    grafana_argument_spec,
    grafana_client,
    normalize_datasource,
    predicted,
    secure_keys_to_send,
    uid_error,
    update_body,
    without_secrets,
)
from ansible_collections.microops.stack.plugins.module_utils._http import HttpError, path_quote


class DatasourceError(Exception):
    """A failure already worded for the user."""


def explain(exc, params, label):
    """The HttpError as one line, with what it means for this module where Grafana's own
    message leaves the user guessing."""
    message = "%s: %s" % (label, exc)
    if exc.status == 403 and "read-only" in (exc.message or ""):
        # pkg/api/datasources.go: "Cannot update read-only data source" / "Cannot delete ...".
        message += ("; it is provisioned from a file in Grafana's provisioning directory: change or remove it"
                    " there, or remove it from provisioning to manage it with this module")
    elif exc.status == 401 and params.get("grafana_token"):
        # pkg/services/authn/clients/api_key.go: a token of another organisation than the one in
        # X-Grafana-Org-Id is refused with 401 "API key does not belong to the requested organization".
        message += ("; the token was refused for organisation %d (sent as X-Grafana-Org-Id): a service account"
                    " token works only in the organisation it was created in, so use a token of organisation %d"
                    " or set org_id to the token's organisation" % (params["org_id"], params["org_id"]))
    elif exc.status == 401:
        message += "; check url_username and url_password"
    elif exc.status == 409 and "same name" in (exc.message or ""):
        message += ("; a datasource named %r already exists in organisation %d under another uid: set uid to"
                    " its uid, or rename or delete one of them" % (params["name"], params["org_id"]))
    return message


class Datasources:
    """Grafana's datasource API in one organisation. Every request goes through call(), the one
    place errors are worded."""

    def __init__(self, client, params):
        self.client = client
        self.params = params
        self.label = "datasource %r (%s) in organisation %d" % (
            params["name"], "uid %s" % params["uid"] if params.get("uid") else "no uid", params["org_id"])

    def call(self, method, path, body=None, allow=()):
        try:
            return self.client.request(method, path, body=body, allow=allow)
        except HttpError as exc:
            raise DatasourceError(explain(exc, self.params, self.label)) from exc

    def get(self):
        """The live datasource, or None. By uid when known; GET .../name/:name (deprecated but
        still served) otherwise. Both answer 404 "Data source not found"."""
        if self.params.get("uid"):
            path = "api/datasources/uid/%s" % path_quote(self.params["uid"])
        else:
            path = "api/datasources/name/%s" % path_quote(self.params["name"])
        status, data = self.call("GET", path, allow=(404,))
        return None if status == 404 else data

    def create(self, body):
        # Answers 200 {id, name, message, datasource} (201 accepted too) and 409 on a taken name or uid.
        dummy, data = self.call("POST", "api/datasources", body=body)
        return (data or {}).get("datasource") or predicted(None, body)

    def update(self, uid, body):
        dummy, data = self.call("PUT", "api/datasources/uid/%s" % path_quote(uid), body=body)
        return (data or {}).get("datasource") or predicted(None, body)

    def delete(self, uid):
        self.call("DELETE", "api/datasources/uid/%s" % path_quote(uid))

    def health(self, uid):
        # 200 {status: OK, message} when it works, 400 {status: ERROR, message, details} when not.
        dummy, data = self.call("GET", "api/datasources/uid/%s/health" % path_quote(uid), allow=(400,))
        return data if isinstance(data, dict) else {"status": "ERROR", "message": str(data)}


def refuse_read_only(datasources, current, action):
    """Fail before writing: Grafana answers 403 for a provisioned datasource anyway, and check
    mode would otherwise predict a change that can never be made."""
    if current.get("readOnly"):
        raise DatasourceError("%s is provisioned (read-only) and cannot be %s through the API: change or remove it in"
                              " Grafana's provisioning files, or remove it from provisioning to manage it with this module"
                              % (datasources.label, action))


def ensure_absent(module, datasources):
    current = datasources.get()
    if current is None:
        return False, None, None
    refuse_read_only(datasources, current, "deleted")
    if not module.check_mode:
        datasources.delete(current["uid"])
    return True, current, None


def ensure_present(module, datasources):
    params = module.params
    desired = desired_datasource(params)
    secrets = params["secure_json_data"]
    current = datasources.get()

    if current is None:
        if not params["type"]:
            raise DatasourceError("%s does not exist: type is required to create it" % datasources.label)
        body = create_body(desired, secrets)
        after = predicted(None, body) if module.check_mode else datasources.create(body)
        return True, None, after

    secure_keys = secure_keys_to_send(secrets, current.get("secureJsonFields"), params["update_secure_json_data"])
    if not differences(current, desired, params["purge_json_data"]) and not secure_keys:
        return False, current, current
    refuse_read_only(datasources, current, "changed")
    body = update_body(current, desired, params["purge_json_data"], secrets, secure_keys)
    after = predicted(current, body) if module.check_mode else datasources.update(current["uid"], body)
    return True, current, after


def main():
    argument_spec = grafana_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        uid=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        type=dict(type="str"),
        url=dict(type="str"),
        access=dict(type="str", choices=["proxy", "direct"], default="proxy"),
        is_default=dict(type="bool"),
        database=dict(type="str"),
        user=dict(type="str"),
        basic_auth=dict(type="bool"),
        basic_auth_user=dict(type="str"),
        with_credentials=dict(type="bool"),
        json_data=dict(type="dict"),
        purge_json_data=dict(type="bool", default=False),
        secure_json_data=dict(type="dict", no_log=True),
        update_secure_json_data=dict(type="str", choices=["on_create", "always"], default="on_create"),
        org_id=dict(type="int", default=1),
        health_check=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=GRAFANA_MUTUALLY_EXCLUSIVE,
        required_together=GRAFANA_REQUIRED_TOGETHER,
        required_one_of=GRAFANA_REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    params = module.params

    errors = [error for error in (uid_error(params["uid"]),) if error]
    if not params["name"]:
        errors.append("name must not be empty")
    if params["org_id"] < 1:
        errors.append("org_id must be at least 1, got %d" % params["org_id"])
    if errors:
        module.fail_json(msg="; ".join(errors))

    datasources = Datasources(grafana_client(params, params["org_id"]), params)
    result = {}
    try:
        if params["state"] == "absent":
            changed, before, after = ensure_absent(module, datasources)
        else:
            changed, before, after = ensure_present(module, datasources)
        if changed and params["state"] == "present" and params["health_check"] and not module.check_mode:
            result["health"] = datasources.health(after.get("uid") or params["uid"])
    except DatasourceError as exc:
        module.fail_json(msg=str(exc))

    result.update(changed=changed, datasource=without_secrets(after))
    if module._diff:
        result["diff"] = dict(before=normalize_datasource(before), after=normalize_datasource(after))
    health = result.get("health")
    if health is not None and health.get("status") != "OK":
        # The change is made: say so, with Grafana's own words on why the datasource fails.
        module.fail_json(msg="%s was saved but does not work: Grafana's health check says: %s"
                         % (datasources.label, health.get("message") or health.get("status")), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
