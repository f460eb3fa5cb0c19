# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private helpers for the collection's S3 modules: connection, errors, and the pure rules that
decide whether a bucket's policy, lifecycle and tags already match what was asked.

The pure helpers take and return plain data so they are tested without boto3 or a server."""

from __future__ import annotations

import json
import re
import traceback

BOTO3_IMPORT_ERROR = None
try:
    import boto3
    from botocore.config import Config
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_BOTO3 = True


def s3_argument_spec():
    """Connection options of every S3 module (documented in the microops.stack.s3 fragment)."""
    return dict(
        endpoint_url=dict(type="str", required=True),
        # An access key id is an identifier, not a secret: keep it visible in logs.
        access_key=dict(type="str", no_log=False),
        secret_key=dict(type="str", no_log=True),
        region=dict(type="str", default="us-east-1"),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
    )


def s3_client(params):
    """A boto3 S3 client for the connection options in `params`.

    Path-style addressing: MinIO, Ceph RGW and Garage behind a plain host:port have no
    per-bucket DNS names. Few retries with bounded timeouts: an unreachable endpoint must fail
    in seconds, not after botocore's default minutes."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        connect_timeout=10,
        read_timeout=60,
        retries={"mode": "standard", "max_attempts": 3},
    )
    session = boto3.session.Session(
        aws_access_key_id=params.get("access_key"),
        aws_secret_access_key=params.get("secret_key"),
        region_name=params.get("region"),
    )
    verify = params.get("ca_path") or params.get("validate_certs", True)
    return session.client("s3", endpoint_url=params["endpoint_url"], verify=verify, config=config)


def error_code(exc):
    """The S3 error code of a botocore exception, or the exception's class name for errors that
    never reached a server (connection refused, no credentials, TLS)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        code = error.get("Code")
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        # HEAD requests have no body, so the code is only the HTTP status.
        if code and not str(code).isdigit():
            return str(code)
        if status or code:
            return "HTTP %s" % (status or code)
    return type(exc).__name__


def format_error(endpoint, bucket, exc, action=None):
    """One line naming the endpoint, the bucket and the S3 error code."""
    message = exc
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and (response.get("Error") or {}).get("Message"):
        message = response["Error"]["Message"]
    message = " ".join(str(message).split())
    doing = (" (%s)" % action) if action else ""
    return "S3 endpoint %s, bucket %s%s: %s: %s" % (endpoint, bucket, doing, error_code(exc), message)


# --- bucket names ---------------------------------------------------------------------------

# minio-go pkg/s3utils CheckValidBucketNameStrict (docs/upstream.md, "Bucket names").
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4_SHAPE = re.compile(r"^(\d+\.){3}\d+$")
RESERVED_BUCKET_NAMES = frozenset(("minio",))


def bucket_name_error(name):
    """Why `name` is not a valid bucket name, or None. Checked before any request because some
    servers (moto) accept names MinIO and AWS refuse."""
    if not isinstance(name, str) or not _BUCKET_NAME.match(name):
        return ("bucket name %r must be 3 to 63 characters of lowercase letters, digits, '.' and '-',"
                " starting and ending with a letter or digit" % (name,))
    for pair in ("..", ".-", "-."):
        if pair in name:
            return "bucket name %r must not contain %r" % (name, pair)
    # minio-go refuses every name shaped like an IPv4 address (ipAddress, `^(\d+\.){3}\d+$`), a
    # valid one or not (300.1.1.1), as AWS does.
    if _IPV4_SHAPE.match(name):
        return "bucket name %r must not be shaped like an IPv4 address" % (name,)
    if name in RESERVED_BUCKET_NAMES:
        return "bucket name %r is reserved by MinIO" % (name,)
    return None


# --- policies -------------------------------------------------------------------------------

POLICY_VERSION = "2012-10-17"
CANNED_POLICIES = ("private", "download", "upload", "public")

# What `mc anonymous set <perm>` writes (minio-go pkg/policy), split by resource.
_BUCKET_ACTIONS = {
    "download": ["s3:GetBucketLocation", "s3:ListBucket"],
    "upload": ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
}
_OBJECT_ACTIONS = {
    "download": ["s3:GetObject"],
    "upload": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts", "s3:PutObject"],
}


def canned_policy(bucket, name):
    """The policy document MinIO's canned permission `name` means for `bucket`; None for private."""
    if name not in CANNED_POLICIES:
        raise ValueError("unknown canned policy %r (expected one of %s)" % (name, ", ".join(CANNED_POLICIES)))
    if name == "private":
        return None
    perms = ("download", "upload") if name == "public" else (name,)
    bucket_actions = sorted(set(a for perm in perms for a in _BUCKET_ACTIONS[perm]))
    object_actions = sorted(set(a for perm in perms for a in _OBJECT_ACTIONS[perm]))
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": bucket_actions,
             "Resource": ["arn:aws:s3:::%s" % bucket], "Sid": ""},
            {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": object_actions,
             "Resource": ["arn:aws:s3:::%s/*" % bucket], "Sid": ""},
        ],
    }


def _string_set(value):
    """A single string or a list of strings, as a sorted list without duplicates."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return sorted(set(str(v) for v in value))
    return [str(value)]


_LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")


def _normalize_principal(principal):
    if principal == "*":
        return {"AWS": ["*"]}
    if isinstance(principal, dict):
        return dict((key, _string_set(value)) for key, value in principal.items())
    return principal


def _normalize_statement(statement):
    result = {}
    for key, value in statement.items():
        if key == "Sid" and not value:
            continue  # MinIO writes Sid "", AWS omits it: the same statement
        if key in _LIST_KEYS:
            value = _string_set(value)
        elif key in ("Principal", "NotPrincipal"):
            value = _normalize_principal(value)
        elif key == "Condition" and isinstance(value, dict):
            value = dict(
                (operator, dict((ckey, _string_set(cvalue)) for ckey, cvalue in (block or {}).items()))
                for operator, block in value.items()
            )
        result[key] = value
    return result


def normalize_policy(policy):
    """A canonical form of a policy document (dict or JSON text): statements in a stable order,
    single strings as lists, "*" principals spelled one way, default Version, empty Sids dropped.
    None and an empty document mean "no policy"."""
    if policy is None or policy == "":
        return None
    if isinstance(policy, str):
        policy = json.loads(policy)
    if not policy:
        return None
    result = dict(policy)
    result["Version"] = result.get("Version") or POLICY_VERSION
    statements = result.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    unique = dict((json.dumps(s, sort_keys=True), s) for s in (_normalize_statement(s) for s in statements))
    result["Statement"] = [unique[key] for key in sorted(unique)]
    return result


def policies_equal(left, right):
    return normalize_policy(left) == normalize_policy(right)


# --- lifecycle ------------------------------------------------------------------------------

def lifecycle_rule_errors(rule):
    """Problems in one user rule that S3 servers would refuse, found before any request."""
    errors = []
    ident = rule.get("id")
    if rule.get("expiration_days") is not None and rule.get("expired_object_delete_marker"):
        # S3's Expiration holds Days or ExpiredObjectDeleteMarker, never both.
        errors.append("lifecycle rule %r: expiration_days and expired_object_delete_marker are mutually exclusive" % ident)
    if rule.get("expiration_days") is None and rule.get("noncurrent_expiration_days") is None \
            and not rule.get("expired_object_delete_marker"):
        errors.append("lifecycle rule %r has no action: set expiration_days, noncurrent_expiration_days"
                      " or expired_object_delete_marker" % ident)
    for key in ("expiration_days", "noncurrent_expiration_days"):
        if rule.get(key) is not None and rule[key] < 1:
            errors.append("lifecycle rule %r: %s must be at least 1" % (ident, key))
    return errors


def normalize_lifecycle_rule(rule):
    """A user rule (module options) in the form rules are compared and returned in."""
    return {
        "id": rule["id"],
        "prefix": rule.get("prefix") or "",
        "status": (rule.get("status") or "enabled").lower(),
        "expiration_days": rule.get("expiration_days"),
        "noncurrent_expiration_days": rule.get("noncurrent_expiration_days"),
        "expired_object_delete_marker": bool(rule.get("expired_object_delete_marker")),
    }


def _rule_prefix(api_rule):
    rule_filter = api_rule.get("Filter")
    if isinstance(rule_filter, dict):
        if "Prefix" in rule_filter:
            return rule_filter["Prefix"] or ""
        if isinstance(rule_filter.get("And"), dict):
            return rule_filter["And"].get("Prefix") or ""
    # The deprecated top-level Prefix, which some servers still return.
    return api_rule.get("Prefix") or ""


def lifecycle_rule_from_api(api_rule):
    """A rule as get_bucket_lifecycle_configuration returns it, in the module's form."""
    expiration = api_rule.get("Expiration") or {}
    noncurrent = api_rule.get("NoncurrentVersionExpiration") or {}
    return {
        "id": api_rule.get("ID") or "",
        "prefix": _rule_prefix(api_rule),
        "status": (api_rule.get("Status") or "Enabled").lower(),
        "expiration_days": expiration.get("Days"),
        "noncurrent_expiration_days": noncurrent.get("NoncurrentDays"),
        "expired_object_delete_marker": bool(expiration.get("ExpiredObjectDeleteMarker")),
    }


def lifecycle_rule_to_api(rule):
    """A rule in the module's form as put_bucket_lifecycle_configuration takes it."""
    rule = normalize_lifecycle_rule(rule)
    api_rule = {"ID": rule["id"], "Filter": {"Prefix": rule["prefix"]}, "Status": rule["status"].capitalize()}
    if rule["expiration_days"] is not None:
        api_rule["Expiration"] = {"Days": rule["expiration_days"]}
    elif rule["expired_object_delete_marker"]:
        api_rule["Expiration"] = {"ExpiredObjectDeleteMarker": True}
    if rule["noncurrent_expiration_days"] is not None:
        api_rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["noncurrent_expiration_days"]}
    return api_rule


def merge_lifecycle_rules(current_api_rules, desired_rules, purge):
    """The rules to store, as (api_rules, rules in the module's form, changed).

    Rules are matched by id. Without purge, live rules the user did not name are kept exactly as
    the server returned them (even with fields this module does not manage)."""
    desired = dict((r["id"], normalize_lifecycle_rule(r)) for r in desired_rules)
    current = dict((r.get("ID") or "", r) for r in current_api_rules or [])
    api_rules = [lifecycle_rule_to_api(desired[ident]) for ident in sorted(desired)]
    if not purge:
        api_rules.extend(current[ident] for ident in sorted(current) if ident not in desired)
    after = sorted((lifecycle_rule_from_api(r) for r in api_rules), key=lambda r: r["id"])
    before = sorted((lifecycle_rule_from_api(r) for r in current.values()), key=lambda r: r["id"])
    # A live rule with fields this module cannot express (transitions, tag filters) differs from
    # the user's rule of the same id even when the managed fields match.
    unmanaged = [ident for ident in desired if ident in current and _has_unmanaged_fields(current[ident])]
    return api_rules, after, before != after or bool(unmanaged)


_MANAGED_RULE_KEYS = frozenset(("ID", "Filter", "Prefix", "Status", "Expiration", "NoncurrentVersionExpiration"))


def _has_unmanaged_fields(api_rule):
    if set(api_rule) - _MANAGED_RULE_KEYS:
        return True
    rule_filter = api_rule.get("Filter") or {}
    if set(rule_filter) - {"Prefix"}:
        return True
    if set(api_rule.get("Expiration") or {}) - {"Days", "ExpiredObjectDeleteMarker"}:
        return True
    return bool(set(api_rule.get("NoncurrentVersionExpiration") or {}) - {"NoncurrentDays"})


# --- tags -----------------------------------------------------------------------------------

def tags_from_api(tag_set):
    return dict((t["Key"], t["Value"]) for t in tag_set or [])


def tags_to_api(tags):
    return [{"Key": key, "Value": tags[key]} for key in sorted(tags)]


def merge_tags(current, desired, purge):
    """The tag set to store, as (tags, changed). Values are strings on every S3 server, so
    desired values are compared as strings: `1` and `"1"` are the same tag."""
    current = dict(current or {})
    wanted = dict((str(key), "" if value is None else str(value)) for key, value in (desired or {}).items())
    result = wanted if purge else dict(current, **wanted)
    return result, result != current
