#!/usr/bin/python
# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: elasticsearch_resource
short_description: Manage an Elasticsearch object defined by its API body
version_added: 0.2.0
description:
  - Creates, updates and deletes one Elasticsearch object of the kind O(kind), defined by the
    body of the object's PUT request exactly as Elasticsearch's API reference writes it.
  - Reads the object first (one GET) and writes only when the live object lacks something the
    definition sets. Keys the definition does not set are neither compared nor kept on update,
    since every PUT of these APIs replaces the whole object.
  - Compares after unwrapping each kind's GET answer (an ILM policy comes back with its version
    and dates, an index template inside a list) and after normalising what Elasticsearch
    rewrites. Index settings of templates are compared flat, under the C(index.) prefix and as
    strings, so C(number_of_replicas) set to V(0) matches the C(index.number_of_replicas) of
    V("0") that Elasticsearch returns. Snapshot repository settings are compared flat and as
    strings.
extends_documentation_fragment:
  - microops.stack.elasticsearch
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
  - microops.stack.attributes
attributes:
  action_group:
    membership: [microops.stack.elasticsearch]
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
  idempotent:
    support: full
options:
  kind:
    description:
      - What the object is, and so which API manages it.
      - V(ilm_policy) C(_ilm/policy), V(index_template) C(_index_template),
        V(component_template) C(_component_template), V(ingest_pipeline) C(_ingest/pipeline),
        V(role) C(_security/role), V(user) C(_security/user) (native realm),
        V(snapshot_repository) C(_snapshot), V(slm_policy) C(_slm/policy).
    type: str
    required: true
    choices:
      - ilm_policy
      - index_template
      - component_template
      - ingest_pipeline
      - role
      - user
      - snapshot_repository
      - slm_policy
  name:
    description:
      - Name of the object. Wildcards and commas are refused, because GET would read them as
        patterns.
    type: str
    required: true
  definition:
    description:
      - The body of the PUT request of that kind, as Elasticsearch documents it. For example
        C(policy) with its C(phases) for an ILM policy; C(index_patterns), C(template) and
        C(priority) for an index template; C(cluster) and C(indices) for a role; C(type) and
        C(settings) for a snapshot repository; C(schedule), C(name), C(repository), C(config)
        and C(retention) for an SLM policy. See EXAMPLES.
      - For O(kind=user) the user's fields (V(roles), V(full_name), V(email), V(metadata),
        V(enabled)); the password goes in O(password), never here.
      - Required with O(state=present).
    type: dict
  state:
    description:
      - V(present) creates or updates the object, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  password:
    description:
      - Password of the user, with O(kind=user). Required to create a user.
      - Checked by authenticating as the user (C(GET /_security/_authenticate)), never by
        comparing hashes, see O(update_password).
    type: str
  update_password:
    description:
      - With O(kind=user), V(on_create) sets O(password) only when the user is created.
      - V(always) also makes the password of an existing user O(password). When the user's
        fields match, that costs one more request (authenticating as the user), and the
        password is changed only when that is refused. A disabled user cannot authenticate, so
        its password is set on every run.
    type: str
    choices: [on_create, always]
    default: on_create
notes:
  - Built-in users (V(elastic), V(kibana_system) and the others Elasticsearch reserves) and
    reserved roles are refused with O(kind=user) and O(kind=role), before any write;
    Elasticsearch itself refuses to change them through these APIs.
  - Elasticsearch's own refusals reach the user with its error type and reason, for example an
    index template whose patterns overlap another one's with the same priority.
  - Needs the cluster privileges of the kind's API, for example C(manage_ilm),
    C(manage_index_templates), C(manage_pipeline), C(manage_security), C(manage_slm) or
    C(manage) for snapshot repositories.
author:
  - microops.stack developers (@microops)
"""

EXAMPLES = r"""
- name: Elasticsearch objects of the stack, with the connection set once
  module_defaults:
    group/microops.stack.elasticsearch:
      url: https://10.0.0.5:9200
      url_username: elastic
      url_password: "{{ elastic_password }}"
      ca_path: /etc/microops/logging/ca.crt
  block:
    - name: Lifecycle of the production logs
      microops.stack.elasticsearch_resource:
        kind: ilm_policy
        name: microops-logs-production
        definition:
          policy:
            phases:
              hot:
                actions:
                  rollover:
                    max_age: 1d
                    max_primary_shard_size: 50gb
              delete:
                min_age: 30d
                actions:
                  delete: {}

    - name: Index template of the stack's data streams, above the built-in logs template
      microops.stack.elasticsearch_resource:
        kind: index_template
        name: microops-logs
        definition:
          index_patterns: [logs-microops-*]
          data_stream: {}
          priority: 300
          template:
            settings:
              index.lifecycle.name: microops-logs-production
            mappings:
              properties:
                service:
                  properties:
                    name: {type: keyword}

    - name: Role that may only write the stack's logs
      microops.stack.elasticsearch_resource:
        kind: role
        name: microops_logs_writer
        definition:
          cluster: [monitor, read_ilm, read_pipeline]
          indices:
            - names: [logs-microops-*]
              privileges: [create_doc, auto_configure]

    - name: The shipper's user, its password kept in line on every run
      microops.stack.elasticsearch_resource:
        kind: user
        name: microops_filebeat
        definition:
          roles: [microops_logs_writer]
          full_name: Filebeat
        password: "{{ filebeat_password }}"
        update_password: always

    - name: Snapshot repository on S3
      microops.stack.elasticsearch_resource:
        kind: snapshot_repository
        name: microops-s3
        definition:
          type: s3
          settings:
            bucket: microops-elasticsearch-snapshots
            client: default
            base_path: microops

    - name: Nightly snapshots
      microops.stack.elasticsearch_resource:
        kind: slm_policy
        name: microops-nightly
        definition:
          schedule: "0 30 1 * * ?"
          name: "<microops-snap-{now/d}>"
          repository: microops-s3
          config:
            indices: ["*"]
            include_global_state: true
          retention:
            expire_after: 30d
            min_count: 5
            max_count: 50

- name: Remove an ingest pipeline, with an API key
  microops.stack.elasticsearch_resource:
    url: https://10.0.0.5:9200
    api_key: "{{ es_api_key }}"
    ca_path: /etc/microops/logging/ca.crt
    kind: ingest_pipeline
    name: old-pipeline
    state: absent
"""

RETURN = r"""
resource:
  description:
    - The object after the task, shaped like the PUT body of its kind (the GET answer
      unwrapped, for example the C(policy) of an ILM policy without its version and dates, the
      C(index_template) of an index template). Read back from Elasticsearch after a write, so
      it holds the defaults Elasticsearch added; in check mode, the definition that would be
      written.
    - For O(kind=user) never holds a password.
    - Empty when the object is absent.
  returned: always
  type: dict
  sample:
    policy:
      phases:
        hot:
          min_age: 0ms
          actions:
            rollover:
              max_age: 1d
              max_primary_shard_size: 50gb
        delete:
          min_age: 30d
          actions:
            delete:
              delete_searchable_snapshot: true
password_changed:
  description:
    - Whether the user's password was set (or would be, in check mode).
  returned: with O(kind=user) and O(state=present)
  type: bool
  sample: false
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.microops.stack.plugins.module_utils._elasticsearch import (
    KINDS,
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    REQUIRED_TOGETHER,
    comparable,
    elasticsearch_argument_spec,
    elasticsearch_client,
    needs_update,
    resource_path,
    unwrap,
    user_client,
)
from ansible_collections.microops.stack.plugins.module_utils._http import HttpError, path_quote

# Built-in users of the reserved realm: their fields cannot be changed through the user API.
# https://www.elastic.co/docs/deploy-manage/users-roles/cluster-or-deployment-auth/built-in-users
RESERVED_USERS = ("elastic", "kibana", "kibana_system", "logstash_system", "beats_system", "apm_system",
                  "remote_monitoring_user")


class ResourceError(Exception):
    """A failure already worded for the user."""


class Resources:
    """One object of one kind. Every request goes through call(), the one place errors are worded."""

    def __init__(self, client, params):
        self.client = client
        self.params = params
        self.kind = params["kind"]
        self.name = params["name"]
        self.path = resource_path(self.kind, self.name)
        self.label = "%s %r" % (self.kind, self.name)

    def call(self, method, path, body=None, allow=(), client=None):
        try:
            return (client or self.client).request(method, path, body=body, allow=allow)
        except HttpError as exc:
            raise ResourceError("%s: %s" % (self.label, exc)) from exc

    def get(self):
        """The live object shaped like its PUT body, or None. Every kind answers 404 when the
        object is missing (the role and user APIs with an empty body)."""
        status, data = self.call("GET", self.path, allow=(404,))
        return None if status == 404 else unwrap(self.kind, self.name, data)

    def put(self, body):
        self.call("PUT", self.path, body=body)

    def delete(self):
        self.call("DELETE", self.path)

    def password_works(self, password):
        """Whether the user can authenticate with `password`: 200 yes, 401 no.
        https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-security-authenticate"""
        client = user_client(self.params, self.name, password)
        status, dummy = self.call("GET", "_security/_authenticate", allow=(401,), client=client)
        return status != 401

    def set_password(self, password):
        # https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-security-change-password
        self.call("POST", "_security/user/%s/_password" % path_quote(self.name), body={"password": password})


def input_errors(params):
    errors = []
    name, kind, definition = params["name"], params["kind"], params["definition"]
    if not name:
        errors.append("name must not be empty")
    elif "*" in name or "," in name:
        errors.append("name %r must not hold '*' or ','" % name)
    if params["state"] == "present" and definition is None:
        errors.append("definition is required with state=present")
    if kind == "user":
        if name in RESERVED_USERS:
            errors.append("user %r is a built-in user of Elasticsearch's reserved realm, which this module does not"
                          " change: set its password with Elasticsearch's tools" % name)
        for key in ("password", "password_hash"):
            if key in (definition or {}):
                errors.append("definition must not hold %s: set the module's password option" % key)
    elif params["password"] is not None:
        errors.append("password is only used with kind=user")
    return errors


def refuse_reserved(resources, current):
    if resources.kind in ("role", "user") and (current.get("metadata") or {}).get("_reserved"):
        raise ResourceError("%s is reserved by Elasticsearch (metadata._reserved) and cannot be changed or deleted"
                            % resources.label)


def read_back(module, resources, predicted):
    """The object after a write: read again, because PUT answers only {"acknowledged": true}."""
    if module.check_mode:
        return predicted
    return resources.get() or predicted


def ensure_absent(module, resources):
    current = resources.get()
    if current is None:
        return False, None, None
    refuse_reserved(resources, current)
    if not module.check_mode:
        resources.delete()
    return True, current, None


def ensure_present(module, resources):
    params = module.params
    definition = params["definition"]
    is_user = resources.kind == "user"
    password = params["password"]
    current = resources.get()

    if current is None:
        body = copy.deepcopy(definition)
        if is_user:
            if not password:
                raise ResourceError("%s does not exist: password is required to create it" % resources.label)
            body["password"] = password
        if not module.check_mode:
            resources.put(body)
        return True, None, read_back(module, resources, copy.deepcopy(definition)), is_user

    refuse_reserved(resources, current)
    always = is_user and password is not None and params["update_password"] == "always"
    if needs_update(resources.kind, definition, current):
        body = copy.deepcopy(definition)
        if always:
            # PUT with a password sets it: no need to authenticate first.
            body["password"] = password
        if not module.check_mode:
            resources.put(body)
        return True, current, read_back(module, resources, copy.deepcopy(definition)), always

    if always and not resources.password_works(password):
        if not module.check_mode:
            resources.set_password(password)
        return True, current, current, True
    return False, current, current, False


def main():
    argument_spec = elasticsearch_argument_spec()
    argument_spec.update(
        kind=dict(type="str", required=True, choices=list(KINDS)),
        name=dict(type="str", required=True),
        definition=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        password=dict(type="str", no_log=True),
        update_password=dict(type="str", choices=["on_create", "always"], default="on_create", no_log=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_together=REQUIRED_TOGETHER,
        required_one_of=REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    params = module.params
    errors = input_errors(params)
    if errors:
        module.fail_json(msg="; ".join(errors))

    resources = Resources(elasticsearch_client(params), params)
    result = {}
    try:
        if params["state"] == "absent":
            changed, before, after = ensure_absent(module, resources)
        else:
            changed, before, after, password_changed = ensure_present(module, resources)
            if resources.kind == "user":
                result["password_changed"] = password_changed
    except ResourceError as exc:
        module.fail_json(msg=str(exc))

    result.update(changed=changed, resource=after or {})
    if module._diff:
        result["diff"] = dict(before=comparable(params["kind"], before), after=comparable(params["kind"], after))
        if result.get("password_changed"):
            result["diff"]["after_header"] = "%s (password changed)" % resources.label
    module.exit_json(**result)


if __name__ == "__main__":
    main()
