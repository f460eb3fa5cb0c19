#!/usr/bin/python
# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: kibana_data_view
short_description: Manage a Kibana data view
version_added: 0.2.0
description:
  - Creates, updates and deletes a data view (formerly an index pattern) in one Kibana space
    through Kibana's data views API (C(/api/data_views/data_view)).
  - Reads the data view first (one GET) and writes only when a field the user set differs;
    an update sends only the fields that changed. Fields not set are neither compared nor
    changed.
  - Every request carries the C(kbn-xsrf) header Kibana requires.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - microops.stack.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
  idempotent:
    support: full
options:
  id:
    description:
      - Identifier of the data view. Keep it stable, because dashboards and saved searches
        refer to it.
    type: str
    required: true
  name:
    description:
      - Name shown in Kibana, for example V(Stack logs).
    type: str
  title:
    description:
      - The index pattern the data view reads, for example V(logs-microops-*).
      - Required to create a data view.
    type: str
  time_field:
    description:
      - Field holding each document's time, for example V(@timestamp) (C(timeFieldName)).
    type: str
  space:
    description:
      - Id of the Kibana space the data view belongs to. Requests for a space other than
        V(default) go to C(/s/<space>/api/...).
    type: str
    default: default
  state:
    description:
      - V(present) creates or updates the data view, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  kibana_url:
    description:
      - Base URL of Kibana, for example V(http://127.0.0.1:5601), with its base path when
        Kibana is served under one.
    type: str
    required: true
  url_username:
    description:
      - Kibana user for HTTP basic authentication (a user of Elasticsearch's security realm).
      - Mutually exclusive with O(api_key).
    type: str
  url_password:
    description:
      - Password of O(url_username).
    type: str
  api_key:
    description:
      - Elasticsearch API key, the base64 encoded C(id:api_key), sent as C(ApiKey <key>).
      - Mutually exclusive with O(url_username) and O(url_password).
    type: str
  ca_path:
    description:
      - PEM file with the CA certificate that signed Kibana's TLS certificate.
    type: path
  validate_certs:
    description:
      - Whether to verify Kibana's TLS certificate.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each answer.
    type: int
    default: 30
notes:
  - One of O(url_username) (with O(url_password)) or O(api_key) is required.
  - Needs the C(indexPatterns) management privilege in the space (the Data View Management
    feature).
  - Kibana's own refusals reach the user with their HTTP status and message.
author:
  - microops.stack developers (@microops)
"""

EXAMPLES = r"""
- name: Data view of the stack's logs
  microops.stack.kibana_data_view:
    kibana_url: http://127.0.0.1:5601
    url_username: elastic
    url_password: "{{ elastic_password }}"
    id: microops-logs
    name: Stack logs
    title: logs-microops-*
    time_field: "@timestamp"

- name: The same in the ops space, with an API key
  microops.stack.kibana_data_view:
    kibana_url: http://127.0.0.1:5601
    api_key: "{{ kibana_api_key }}"
    space: ops
    id: microops-logs
    title: logs-microops-*
    time_field: "@timestamp"

- name: Remove a data view
  microops.stack.kibana_data_view:
    kibana_url: http://127.0.0.1:5601
    url_username: elastic
    url_password: "{{ elastic_password }}"
    id: old-logs
    state: absent
"""

RETURN = r"""
data_view:
  description:
    - The data view after the task, as Kibana returns it without its C(fields) (the field
      list Kibana reads from the indices, which can be very long). In check mode, the data
      view as it would be.
    - Empty when the data view is absent.
  returned: always
  type: dict
  sample:
    id: microops-logs
    name: Stack logs
    title: logs-microops-*
    timeFieldName: "@timestamp"
    version: WzEwLDFd
    namespaces: [default]
    allowNoIndex: false
    sourceFilters: []
    fieldFormats: {}
    fieldAttrs: {}
    runtimeFieldMap: {}
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.microops.stack.plugins.module_utils._elasticsearch import (
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    REQUIRED_TOGETHER,
    kibana_argument_spec,
    kibana_client,
)
from ansible_collections.microops.stack.plugins.module_utils._http import HttpError, path_quote

# Module option -> field of the data view.
OPTION_FIELDS = (("name", "name"), ("title", "title"), ("time_field", "timeFieldName"))
VIEW_FIELDS = ("id",) + tuple(field for dummy, field in OPTION_FIELDS)

# Kibana's space ids: lower-case letters, digits, '_' and '-' (the Spaces API).
_SPACE_RE = re.compile(r"^[a-z0-9_-]+$")


class DataViewError(Exception):
    """A failure already worded for the user."""


def desired_fields(params):
    return dict((field, params[option]) for option, field in OPTION_FIELDS if params.get(option) is not None)


def changed_fields(current, desired):
    return dict((field, value) for field, value in desired.items() if current.get(field) != value)


def public(data_view):
    return dict((key, value) for key, value in (data_view or {}).items() if key != "fields")


def view(data_view):
    """The data view as diffs show it: the fields this module manages."""
    if not data_view:
        return {}
    return dict((field, data_view.get(field)) for field in VIEW_FIELDS)


class DataViews:
    """Kibana's data views API in one space.
    https://www.elastic.co/docs/api/doc/kibana/group/endpoint-data-views"""

    def __init__(self, client, params):
        self.client = client
        self.id = params["id"]
        self.path = "api/data_views/data_view/%s" % path_quote(self.id)
        self.label = "data view %r in space %r" % (self.id, params["space"])

    def call(self, method, path, body=None, allow=()):
        try:
            return self.client.request(method, path, body=body, allow=allow)
        except HttpError as exc:
            raise DataViewError("%s: %s" % (self.label, exc)) from exc

    def get(self):
        # 200 {"data_view": {...}}; 404 when there is none with that id.
        status, data = self.call("GET", self.path, allow=(404,))
        return None if status == 404 else (data or {}).get("data_view")

    def create(self, fields):
        dummy, data = self.call("POST", "api/data_views/data_view", body={"data_view": dict(fields, id=self.id)})
        return (data or {}).get("data_view")

    def update(self, fields):
        # Only the fields sent change; the others stay as they are.
        dummy, data = self.call("POST", self.path, body={"data_view": fields})
        return (data or {}).get("data_view")

    def delete(self):
        self.call("DELETE", self.path)


def ensure_absent(module, data_views):
    current = data_views.get()
    if current is None:
        return False, None, None
    if not module.check_mode:
        data_views.delete()
    return True, current, None


def ensure_present(module, data_views):
    desired = desired_fields(module.params)
    current = data_views.get()
    if current is None:
        if not module.params["title"]:
            raise DataViewError("%s does not exist: title is required to create it" % data_views.label)
        predicted = dict(desired, id=data_views.id)
        after = predicted if module.check_mode else (data_views.create(desired) or predicted)
        return True, None, after
    changes = changed_fields(current, desired)
    if not changes:
        return False, current, current
    predicted = dict(current, **changes)
    after = predicted if module.check_mode else (data_views.update(changes) or predicted)
    return True, current, after


def main():
    argument_spec = kibana_argument_spec()
    argument_spec.update(
        id=dict(type="str", required=True),
        name=dict(type="str"),
        title=dict(type="str"),
        time_field=dict(type="str"),
        space=dict(type="str", default="default"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_together=REQUIRED_TOGETHER,
        required_one_of=REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    params = module.params
    errors = []
    if not params["id"]:
        errors.append("id must not be empty")
    if not _SPACE_RE.match(params["space"] or ""):
        errors.append("space %r is not a Kibana space id (lower-case letters, digits, '_' and '-')" % params["space"])
    if errors:
        module.fail_json(msg="; ".join(errors))

    data_views = DataViews(kibana_client(params, params["space"]), params)
    try:
        if params["state"] == "absent":
            changed, before, after = ensure_absent(module, data_views)
        else:
            changed, before, after = ensure_present(module, data_views)
    except DataViewError as exc:
        module.fail_json(msg=str(exc))

    result = dict(changed=changed, data_view=public(after))
    if module._diff:
        result["diff"] = dict(before=view(before), after=view(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
