#!/usr/bin/python
# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: minio_bucket
short_description: Manage an S3 bucket on MinIO or any S3-compatible server
version_added: 0.1.0
description:
  - Creates, updates and deletes a bucket with its versioning, anonymous access policy, lifecycle
    rules, tags and object lock, through the S3 API (boto3), so it works against MinIO, AWS S3,
    Ceph RGW and Garage.
  - Reads the bucket first and writes only what differs. Policies are compared by meaning, not
    text, because servers (MinIO among them) store them in their own form.
extends_documentation_fragment:
  - microops.stack.s3
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
  - microops.stack.attributes
attributes:
  action_group:
    membership: [microops.stack.minio]
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
  idempotent:
    support: full
options:
  name:
    description:
      - Bucket name. Checked against MinIO's naming rules before any request is made
        (3 to 63 characters of V([a-z0-9.-]), not an IPv4 address, no V(..), V(.-) or V(-.),
        not V(minio)).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the bucket, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), delete a bucket that still holds objects, deleting every object
        version, delete marker and unfinished multipart upload first.
      - Without it, deleting a non-empty bucket fails and nothing is deleted.
    type: bool
    default: false
  versioning:
    description:
      - V(enabled) or V(suspended). Unset leaves versioning as it is.
      - A bucket with object lock always has versioning enabled, so V(suspended) is refused
        together with O(object_lock=true) or on a locked bucket.
    type: str
    choices: [enabled, suspended]
  policy:
    description:
      - Anonymous access policy. One of MinIO's canned permissions, scoped to this bucket as
        C(mc anonymous set) writes them, or a full bucket policy document (a dict or JSON text).
      - V(private) means no policy at all (the bucket policy is deleted). V(download) allows
        listing and reading, V(upload) writing and multipart uploads, V(public) both.
      - Unset leaves the policy as it is.
    type: raw
  lifecycle_rules:
    description:
      - Lifecycle rules, matched with the bucket's rules by O(lifecycle_rules[].id).
      - An empty list with O(purge_lifecycle_rules=true) removes the bucket's lifecycle
        configuration. Unset leaves it as it is.
    type: list
    elements: dict
    suboptions:
      id:
        description: Rule id, unique in the bucket.
        type: str
        required: true
      prefix:
        description: Key prefix the rule applies to; empty for the whole bucket.
        type: str
        default: ''
      status:
        description: Whether the rule is applied.
        type: str
        choices: [enabled, disabled]
        default: enabled
      expiration_days:
        description:
          - Days after creation when current object versions expire.
          - Mutually exclusive with O(lifecycle_rules[].expired_object_delete_marker=true).
        type: int
      noncurrent_expiration_days:
        description: Days after an object version becomes noncurrent when it is deleted.
        type: int
      expired_object_delete_marker:
        description: Remove delete markers that no longer have any noncurrent version behind them.
        type: bool
        default: false
  purge_lifecycle_rules:
    description:
      - Remove the bucket's rules whose id is not in O(lifecycle_rules).
      - Without purge, rules not named are kept exactly as they are.
    type: bool
    default: true
  tags:
    description:
      - Bucket tags. Values are stored as strings. Unset leaves the tags as they are.
    type: dict
  purge_tags:
    description:
      - Remove the bucket's tags that are not in O(tags).
    type: bool
    default: true
  object_lock:
    description:
      - Enable S3 object lock. Only possible when the bucket is created (it also enables
        versioning); asking for a different value on an existing bucket fails.
      - Unset means V(false) for a new bucket and leaves an existing bucket as it is.
    type: bool
notes:
  - O(force=true) does not bypass object lock retention; locked versions make the deletion fail.
  - Lifecycle rules with fields this module does not manage (transitions, tag filters) are kept
    when not named and O(purge_lifecycle_rules=false), and rewritten when named.
author:
  - microops.stack developers (@microops)
"""

EXAMPLES = r"""
- name: A versioned bucket for backups, old versions expire after 30 days
  microops.stack.minio_bucket:
    endpoint_url: http://127.0.0.1:9000
    access_key: "{{ minio_root_user }}"
    secret_key: "{{ minio_root_password }}"
    name: backups
    versioning: enabled
    lifecycle_rules:
      - id: expire-noncurrent
        noncurrent_expiration_days: 30
      - id: clean-delete-markers
        expired_object_delete_marker: true
    tags:
      owner: ops

- name: Public downloads, as `mc anonymous set download` does
  microops.stack.minio_bucket:
    endpoint_url: http://127.0.0.1:9000
    access_key: "{{ minio_root_user }}"
    secret_key: "{{ minio_root_password }}"
    name: assets
    policy: download

- name: A bucket with a policy document
  microops.stack.minio_bucket:
    endpoint_url: https://s3.example.org
    ca_path: /etc/ssl/certs/example-ca.pem
    access_key: "{{ s3_access_key }}"
    secret_key: "{{ s3_secret_key }}"
    name: reports
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: "*"
          Action: s3:GetObject
          Resource: arn:aws:s3:::reports/public/*

- name: An immutable audit bucket
  microops.stack.minio_bucket:
    endpoint_url: http://127.0.0.1:9000
    access_key: "{{ minio_root_user }}"
    secret_key: "{{ minio_root_password }}"
    name: audit
    object_lock: true
    versioning: enabled

- name: Delete a bucket with everything in it
  microops.stack.minio_bucket:
    endpoint_url: http://127.0.0.1:9000
    access_key: "{{ minio_root_user }}"
    secret_key: "{{ minio_root_password }}"
    name: scratch
    state: absent
    force: true
"""

RETURN = r"""
bucket:
  description:
    - The bucket after the task (as it would be, in check mode). Empty when it is absent.
  returned: always
  type: dict
  contains:
    name:
      description: Bucket name.
      type: str
      sample: backups
    versioning:
      description: V(enabled), V(suspended), or V(disabled) when versioning was never enabled.
      type: str
      sample: enabled
    policy:
      description: Bucket policy document, as the server returns it; null when there is none.
      type: dict
      sample:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: ["*"]}
            Action: ["s3:GetObject"]
            Resource: ["arn:aws:s3:::assets/*"]
    lifecycle_rules:
      description: Lifecycle rules, in the form of O(lifecycle_rules), sorted by id.
      type: list
      elements: dict
      sample:
        - id: expire-noncurrent
          prefix: ''
          status: enabled
          expiration_days: null
          noncurrent_expiration_days: 30
          expired_object_delete_marker: false
    tags:
      description: Bucket tags.
      type: dict
      sample: {owner: ops}
    object_lock:
      description: Whether object lock is enabled.
      type: bool
      sample: false
"""

import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.microops.stack.plugins.module_utils._s3 import (
    BOTO3_IMPORT_ERROR,
    CANNED_POLICIES,
    HAS_BOTO3,
    bucket_name_error,
    canned_policy,
    error_code,
    format_error,
    lifecycle_rule_errors,
    lifecycle_rule_from_api,
    merge_lifecycle_rules,
    merge_tags,
    policies_equal,
    s3_argument_spec,
    s3_client,
    tags_from_api,
    tags_to_api,
)

# Error codes that mean "this bucket has none of it", per read.
_NO_POLICY = ("NoSuchBucketPolicy",)
_NO_LIFECYCLE = ("NoSuchLifecycleConfiguration",)
_NO_TAGS = ("NoSuchTagSet", "NoSuchTagSetError")
_NO_LOCK = ("ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound")


class BucketError(Exception):
    """A failed request, already formatted as one line."""


def desired_policy(module):
    """The policy asked for: a normalisable document, None for private, or the sentinel ... for
    "leave as is"."""
    policy = module.params["policy"]
    if policy is None:
        return ...
    if isinstance(policy, str) and policy in CANNED_POLICIES:
        return canned_policy(module.params["name"], policy)
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            module.fail_json(msg="policy must be one of %s or a policy document, got %r"
                             % (", ".join(CANNED_POLICIES), policy))
    if not isinstance(policy, dict):
        module.fail_json(msg="policy must be one of %s or a policy document (a dict)" % ", ".join(CANNED_POLICIES))
    return policy or None


def input_errors(params):
    """Everything wrong with the options that no server needs to be asked about."""
    errors = []
    name_error = bucket_name_error(params["name"])
    if name_error:
        errors.append(name_error)
    if params["state"] == "present":
        if params["object_lock"] and params["versioning"] == "suspended":
            errors.append("object_lock needs versioning enabled: versioning=suspended is refused with object_lock=true")
        ids = [rule["id"] for rule in params["lifecycle_rules"] or []]
        if len(ids) != len(set(ids)):
            errors.append("lifecycle_rules ids must be unique")
        for rule in params["lifecycle_rules"] or []:
            errors.extend(lifecycle_rule_errors(rule))
    return errors


class Bucket:
    """One bucket on one endpoint. Every request goes through call(), the one place errors are
    turned into a line naming the endpoint, the bucket and the S3 error code."""

    def __init__(self, client, endpoint, name):
        self.client = client
        self.endpoint = endpoint
        self.name = name

    def call(self, method, absent_codes=(), **kwargs):
        """Call a client method on this bucket; None when it fails with one of absent_codes."""
        try:
            return getattr(self.client, method)(Bucket=self.name, **kwargs)
        except Exception as exc:  # botocore errors; kept broad so no botocore import is needed here
            if error_code(exc) in absent_codes:
                return None
            raise BucketError(format_error(self.endpoint, self.name, exc, action=method)) from exc

    def exists(self):
        # HEAD has no body: a missing bucket is only a 404.
        try:
            return self.call("head_bucket", absent_codes=("HTTP 404", "NoSuchBucket", "NotFound")) is not None
        except BucketError as exc:
            if error_code(exc.__cause__) != "HTTP 403":
                raise
            # A refused HEAD says only 403: the same question as a GET names the reason
            # (SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied), and its error is raised.
            self.call("get_bucket_location")
            raise

    def read(self):
        status = (self.call("get_bucket_versioning") or {}).get("Status")
        policy = self.call("get_bucket_policy", absent_codes=_NO_POLICY)
        lifecycle = self.call("get_bucket_lifecycle_configuration", absent_codes=_NO_LIFECYCLE)
        tagging = self.call("get_bucket_tagging", absent_codes=_NO_TAGS)
        lock = self.call("get_object_lock_configuration", absent_codes=_NO_LOCK)
        lock_config = (lock or {}).get("ObjectLockConfiguration") or {}
        return {
            "name": self.name,
            "versioning": (status or "disabled").lower(),
            "policy": json.loads(policy["Policy"]) if policy and policy.get("Policy") else None,
            "lifecycle_rules_api": (lifecycle or {}).get("Rules") or [],
            "tags": tags_from_api((tagging or {}).get("TagSet")),
            "object_lock": lock_config.get("ObjectLockEnabled") == "Enabled",
        }

    def is_empty(self):
        versions = self.call("list_object_versions", MaxKeys=1)
        return not (versions.get("Versions") or versions.get("DeleteMarkers"))

    def empty(self):
        """Delete every object version, delete marker and unfinished upload. Each page is at most
        1000 keys (one delete_objects request); the number of pages is the server's to bound."""
        while True:
            page = self.call("list_object_versions", MaxKeys=1000)
            keys = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])]
            if not keys:
                break
            result = self.call("delete_objects", Delete={"Objects": keys, "Quiet": True})
            if result.get("Errors"):
                first = result["Errors"][0]
                raise BucketError("S3 endpoint %s, bucket %s (delete_objects): %s: %s (%d objects not deleted)"
                                  % (self.endpoint, self.name, first.get("Code"), first.get("Message"),
                                     len(result["Errors"])))
        uploads = self.call("list_multipart_uploads") or {}
        for upload in uploads.get("Uploads") or []:
            self.call("abort_multipart_upload", Key=upload["Key"], UploadId=upload["UploadId"])


def public_view(state):
    """The bucket as returned to the user: lifecycle rules in the module's form."""
    if not state:
        return {}
    view = dict((key, value) for key, value in state.items() if key != "lifecycle_rules_api")
    view["lifecycle_rules"] = sorted((lifecycle_rule_from_api(r) for r in state["lifecycle_rules_api"]),
                                     key=lambda r: r["id"])
    return view


def ensure_absent(module, bucket):
    if not bucket.exists():
        return False, {}, {}
    before = bucket.read()
    if not bucket.is_empty():
        if not module.params["force"]:
            module.fail_json(msg="bucket %s on %s is not empty: set force=true to delete it with all its objects"
                             % (bucket.name, bucket.endpoint))
        if not module.check_mode:
            bucket.empty()
    if not module.check_mode:
        bucket.call("delete_bucket")
    return True, before, {}


def ensure_present(module, bucket):
    params = module.params
    exists = bucket.exists()
    if exists:
        before = bucket.read()
        if params["object_lock"] is not None and params["object_lock"] != before["object_lock"]:
            module.fail_json(msg="bucket %s on %s has object_lock=%s: object lock can only be set when a bucket is created"
                             % (bucket.name, bucket.endpoint, before["object_lock"]))
        if before["object_lock"] and params["versioning"] == "suspended":
            module.fail_json(msg="bucket %s on %s has object lock, which needs versioning enabled: versioning=suspended is refused"
                             % (bucket.name, bucket.endpoint))
    else:
        before = None
    # What a bucket is right after creation; S3 enables versioning with object lock.
    current = before or {
        "name": bucket.name,
        "versioning": "enabled" if params["object_lock"] else "disabled",
        "policy": None,
        "lifecycle_rules_api": [],
        "tags": {},
        "object_lock": bool(params["object_lock"]),
    }
    after = dict(current)
    writes = []  # (method, kwargs), applied in this order

    if not exists:
        create = {}
        if params["region"] and params["region"] != "us-east-1":
            # us-east-1 is S3's default location and must not be named (AWS refuses it).
            create["CreateBucketConfiguration"] = {"LocationConstraint": params["region"]}
        if params["object_lock"]:
            create["ObjectLockEnabledForBucket"] = True
        writes.append(("create_bucket", create))

    if params["versioning"] and params["versioning"] != current["versioning"]:
        after["versioning"] = params["versioning"]
        writes.append(("put_bucket_versioning", {"VersioningConfiguration": {"Status": params["versioning"].capitalize()}}))

    policy = desired_policy(module)
    if policy is not ... and not policies_equal(policy, current["policy"]):
        after["policy"] = policy
        if policy is None:
            writes.append(("delete_bucket_policy", {}))
        else:
            writes.append(("put_bucket_policy", {"Policy": json.dumps(policy)}))

    if params["lifecycle_rules"] is not None:
        api_rules, rules, changed = merge_lifecycle_rules(
            current["lifecycle_rules_api"], params["lifecycle_rules"], params["purge_lifecycle_rules"])
        if changed:
            after["lifecycle_rules_api"] = api_rules
            if api_rules:
                writes.append(("put_bucket_lifecycle_configuration", {"LifecycleConfiguration": {"Rules": api_rules}}))
            else:
                writes.append(("delete_bucket_lifecycle", {}))

    if params["tags"] is not None:
        tags, changed = merge_tags(current["tags"], params["tags"], params["purge_tags"])
        if changed:
            after["tags"] = tags
            if tags:
                writes.append(("put_bucket_tagging", {"Tagging": {"TagSet": tags_to_api(tags)}}))
            else:
                writes.append(("delete_bucket_tagging", {}))

    if not module.check_mode:
        for method, kwargs in writes:
            bucket.call(method, **kwargs)
    return bool(writes), before or {}, after


def main():
    argument_spec = s3_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        force=dict(type="bool", default=False),
        versioning=dict(type="str", choices=["enabled", "suspended"]),
        policy=dict(type="raw"),
        lifecycle_rules=dict(
            type="list",
            elements="dict",
            options=dict(
                id=dict(type="str", required=True),
                prefix=dict(type="str", default=""),
                status=dict(type="str", choices=["enabled", "disabled"], default="enabled"),
                expiration_days=dict(type="int"),
                noncurrent_expiration_days=dict(type="int"),
                expired_object_delete_marker=dict(type="bool", default=False),
            ),
        ),
        purge_lifecycle_rules=dict(type="bool", default=True),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        object_lock=dict(type="bool"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    errors = input_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=BOTO3_IMPORT_ERROR)

    try:
        client = s3_client(module.params)
    except ValueError as exc:  # botocore's "Invalid endpoint", before any request
        module.fail_json(msg=format_error(module.params["endpoint_url"], module.params["name"], exc))
    bucket = Bucket(client, module.params["endpoint_url"], module.params["name"])
    try:
        if module.params["state"] == "absent":
            changed, before, after = ensure_absent(module, bucket)
        else:
            changed, before, after = ensure_present(module, bucket)
    except BucketError as exc:
        module.fail_json(msg=str(exc))

    result = dict(changed=changed, bucket=public_view(after))
    if module._diff:
        result["diff"] = dict(before=public_view(before), after=public_view(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
