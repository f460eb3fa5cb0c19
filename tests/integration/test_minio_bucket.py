# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""microops.stack.minio_bucket through ansible-playbook against two S3 servers on loopback, each
once with this venv's boto3 and once with Debian 12's boto3 1.26: moto's S3 server (accepts any
credentials) and the real SeaweedFS (checks SigV4 signatures; test_signature_* run against it
only)."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from botocore.exceptions import ClientError

from .conftest import SEAWEEDFS_ACCESS_KEY, SEAWEEDFS_SECRET_KEY, free_port, run_module, run_module_steps

MODULE = "microops.stack.minio_bucket"

RULES = [
    {"id": "expire-noncurrent", "noncurrent_expiration_days": 30},
    {"id": "logs", "prefix": "logs/", "expiration_days": 7},
]


@pytest.fixture()
def s3(s3_server):
    return boto3.client("s3", endpoint_url=s3_server["endpoint"], region_name="us-east-1",
                        aws_access_key_id=s3_server["access_key"], aws_secret_access_key=s3_server["secret_key"])


@pytest.fixture()
def bucket_name(request, target_python):
    """A bucket per test and interpreter, so tests do not depend on each other."""
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    return base[-55:].strip("-.") or "bucket"


def _connection(s3_server, name):
    return {"endpoint_url": s3_server["endpoint"], "access_key": s3_server["access_key"],
            "secret_key": s3_server["secret_key"], "name": name}


@pytest.fixture()
def run(s3_server, target_python, tmp_path):
    def call(name, check=False, diff=False, **args):
        return run_module(MODULE, dict(_connection(s3_server, name), **args), target_python, tmp_path,
                          check=check, diff=diff)
    return call


@pytest.fixture()
def run_steps(s3_server, target_python, tmp_path):
    """Several calls on one bucket in one ansible-playbook run: [args, ...] -> [result, ...]."""
    def call(name, *steps, keep_going=False):
        return run_module_steps(MODULE, [dict(_connection(s3_server, name), **args) for args in steps],
                                target_python, tmp_path, keep_going=keep_going)
    return call


def full_args():
    return dict(versioning="enabled", policy="download", lifecycle_rules=RULES, tags={"owner": "ops", "tier": 1})


def live_policy(s3, name):
    try:
        return json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    except ClientError:
        return None


def actions(statement):
    """A statement's actions as a list: SeaweedFS stores a one-element list as a string."""
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def live_tags(s3, name):
    try:
        return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}
    except ClientError:
        return {}


def live_rules(s3, name):
    try:
        return sorted(r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"])
    except ClientError:
        return []


def exists(s3, name):
    try:
        s3.head_bucket(Bucket=name)
    except ClientError:
        return False
    return True


def test_create_with_all_options_then_unchanged(run, s3, bucket_name):
    result = run(bucket_name, diff=True, **full_args())
    assert result["changed"] is True, result
    assert result["diff"]["before"] == {}
    assert s3.get_bucket_versioning(Bucket=bucket_name)["Status"] == "Enabled"
    assert live_tags(s3, bucket_name) == {"owner": "ops", "tier": "1"}
    assert live_rules(s3, bucket_name) == ["expire-noncurrent", "logs"]
    policy = live_policy(s3, bucket_name)
    assert [actions(s) for s in policy["Statement"]] == [["s3:GetBucketLocation", "s3:ListBucket"], ["s3:GetObject"]]
    assert result["bucket"]["versioning"] == "enabled"
    assert result["bucket"]["object_lock"] is False

    again = run(bucket_name, diff=True, **full_args())
    assert again["changed"] is False, again
    assert again["diff"]["before"] == again["diff"]["after"] == again["bucket"]
    assert again["bucket"]["tags"] == {"owner": "ops", "tier": "1"}
    assert [r["id"] for r in again["bucket"]["lifecycle_rules"]] == ["expire-noncurrent", "logs"]


# Each option changed alone from full_args(): (changes, check of the server afterwards).
CHANGES = {
    "versioning-suspended": ({"versioning": "suspended"},
                             lambda s3, b: s3.get_bucket_versioning(Bucket=b)["Status"] == "Suspended"),
    "policy-public": ({"policy": "public"},
                      lambda s3, b: "s3:PutObject" in actions(live_policy(s3, b)["Statement"][1])),
    "policy-private": ({"policy": "private"}, lambda s3, b: live_policy(s3, b) is None),
    "lifecycle-changed": ({"lifecycle_rules": [dict(RULES[0], noncurrent_expiration_days=60), RULES[1]]},
                          lambda s3, b: s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"] is not None),
    "lifecycle-purged": ({"lifecycle_rules": [RULES[1]]}, lambda s3, b: live_rules(s3, b) == ["logs"]),
    "lifecycle-added-no-purge": ({"lifecycle_rules": [{"id": "markers", "expired_object_delete_marker": True}],
                                  "purge_lifecycle_rules": False},
                                 lambda s3, b: live_rules(s3, b) == ["expire-noncurrent", "logs", "markers"]),
    "lifecycle-removed": ({"lifecycle_rules": []}, lambda s3, b: live_rules(s3, b) == []),
    "tags-purged": ({"tags": {"owner": "dev"}}, lambda s3, b: live_tags(s3, b) == {"owner": "dev"}),
    "tags-no-purge": ({"tags": {"owner": "dev"}, "purge_tags": False},
                      lambda s3, b: live_tags(s3, b) == {"owner": "dev", "tier": "1"}),
    "tags-removed": ({"tags": {}}, lambda s3, b: live_tags(s3, b) == {}),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_option_changed_alone(run_steps, s3, bucket_name, change):
    updates, server_check = CHANGES[change]
    args = dict(full_args(), **updates)
    # Create, change, re-run: the server is checked after the re-run, which changed nothing.
    results = run_steps(bucket_name, full_args(), args, args)
    assert [result.get("changed") for result in results] == [True, True, False], results
    assert server_check(s3, bucket_name)


def test_equal_policy_in_another_form_is_not_rewritten(run, s3, bucket_name):
    assert run(bucket_name, policy="download")["changed"] is True
    # The same policy as AWS users write it: "*" principal, single strings, no Sid, no Version.
    document = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket_name},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
         "Resource": "arn:aws:s3:::%s" % bucket_name},
    ]}
    stored = s3.get_bucket_policy(Bucket=bucket_name)["Policy"]
    assert run(bucket_name, policy=document)["changed"] is False
    assert s3.get_bucket_policy(Bucket=bucket_name)["Policy"] == stored
    # And a document stored verbatim compares equal to the canned name (with a Version, which
    # SeaweedFS requires: test_policy_without_version).
    s3.put_bucket_policy(Bucket=bucket_name, Policy=json.dumps(dict(document, Version="2012-10-17")))
    assert run(bucket_name, policy="download")["changed"] is False


def test_policy_without_version(run, s3, s3_server, bucket_name):
    """moto stores a policy with no Version; SeaweedFS refuses it, and the module fails with one
    line naming the server's error code."""
    document = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:GetObject"],
                               "Resource": ["arn:aws:s3:::%s/*" % bucket_name]}]}
    result = run(bucket_name, policy=document)
    if s3_server["name"] == "seaweedfs":
        assert result.get("failed") is True, result
        assert "(put_bucket_policy): InvalidPolicyDocument" in result["msg"] and "\n" not in result["msg"], result
        assert live_policy(s3, bucket_name) is None
    else:
        assert result["changed"] is True, result
        assert actions(live_policy(s3, bucket_name)["Statement"][0]) == ["s3:GetObject"]


def test_check_mode_writes_nothing(run, s3, bucket_name):
    result = run(bucket_name, check=True, diff=True, **full_args())
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["versioning"] == "enabled"
    assert not exists(s3, bucket_name)

    assert run(bucket_name, **full_args())["changed"] is True
    before = (live_policy(s3, bucket_name), live_tags(s3, bucket_name), live_rules(s3, bucket_name),
              s3.get_bucket_versioning(Bucket=bucket_name)["Status"])
    changed = dict(versioning="suspended", policy="public", lifecycle_rules=[], tags={"x": "y"})
    result = run(bucket_name, check=True, diff=True, **changed)
    assert result["changed"] is True
    assert result["diff"]["after"]["tags"] == {"x": "y"}
    assert result["diff"]["after"]["lifecycle_rules"] == []
    assert result["diff"]["before"]["versioning"] == "enabled"
    assert (live_policy(s3, bucket_name), live_tags(s3, bucket_name), live_rules(s3, bucket_name),
            s3.get_bucket_versioning(Bucket=bucket_name)["Status"]) == before

    result = run(bucket_name, check=True, state="absent", force=True)
    assert result["changed"] is True
    assert exists(s3, bucket_name)


def test_object_lock_only_at_creation(run, s3, bucket_name):
    result = run(bucket_name, object_lock=True)
    assert result["changed"] is True, result
    assert result["bucket"]["object_lock"] is True
    assert s3.get_bucket_versioning(Bucket=bucket_name)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=bucket_name)["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
    assert run(bucket_name, object_lock=True, versioning="enabled")["changed"] is False

    refused = run(bucket_name, object_lock=False)
    assert refused.get("failed") is True
    assert "object lock can only be set when a bucket is created" in refused["msg"]
    refused = run(bucket_name, versioning="suspended")
    assert refused.get("failed") is True
    assert "needs versioning enabled" in refused["msg"]
    assert s3.get_bucket_versioning(Bucket=bucket_name)["Status"] == "Enabled"


def test_refused_before_any_request(s3_server, target_python, tmp_path, s3):
    # A closed port: any request would fail with a connection error instead of these messages.
    dead = "http://127.0.0.1:%d" % free_port()
    cases = {
        "Bad_Name": ({}, "must be 3 to 63 characters"),
        "192.168.1.1": ({}, "must not be shaped like an IPv4 address"),
        "minio": ({}, "reserved"),
        "locked-suspended": ({"object_lock": True, "versioning": "suspended"}, "versioning=suspended is refused"),
        "both-expirations": ({"lifecycle_rules": [{"id": "x", "expiration_days": 1, "expired_object_delete_marker": True}]},
                             "mutually exclusive"),
    }
    steps = [dict(_connection(s3_server, name), endpoint_url=dead, **args) for name, (args, _message) in cases.items()]
    results = run_module_steps(MODULE, steps, target_python, tmp_path, keep_going=True)
    assert len(results) == len(cases), results
    for (name, (_args, message)), result in zip(cases.items(), results):
        assert result.get("failed") is True, (name, result)
        assert message in result["msg"], (name, result["msg"])
    assert not exists(s3, "Bad_Name")


def test_unreachable_endpoint_is_one_line(run, bucket_name):
    dead = "http://127.0.0.1:%d" % free_port()
    result = run(bucket_name, endpoint_url=dead)
    assert result.get("failed") is True
    assert "\n" not in result["msg"]
    assert dead in result["msg"] and bucket_name in result["msg"] and "EndpointConnectionError" in result["msg"]


def test_delete(run, s3, bucket_name):
    assert run(bucket_name, state="absent")["changed"] is False
    assert run(bucket_name, versioning="enabled")["changed"] is True
    s3.put_object(Bucket=bucket_name, Key="a.txt", Body=b"one")
    s3.put_object(Bucket=bucket_name, Key="a.txt", Body=b"two")
    s3.delete_object(Bucket=bucket_name, Key="a.txt")  # only a delete marker and old versions left

    refused = run(bucket_name, state="absent")
    assert refused.get("failed") is True
    assert "not empty" in refused["msg"] and "force=true" in refused["msg"]
    assert exists(s3, bucket_name)

    result = run(bucket_name, state="absent", force=True, diff=True)
    assert result["changed"] is True, result
    assert result["diff"]["before"]["versioning"] == "enabled"
    assert result["diff"]["after"] == {}
    assert not exists(s3, bucket_name)
    assert run(bucket_name, state="absent", force=True)["changed"] is False


def test_delete_empty(run_steps, s3, bucket_name):
    results = run_steps(bucket_name, {}, {}, {"state": "absent"}, {"state": "absent"})
    assert [result.get("changed") for result in results] == [True, False, True, False], results
    assert not exists(s3, bucket_name)


def test_signature_wrong_secret_is_refused_by_seaweedfs(seaweedfs_s3, target_python, tmp_path):
    """The real server checks SigV4: a wrong secret is named in one line, and nothing is created."""
    result = run_module(MODULE, {"endpoint_url": seaweedfs_s3, "access_key": SEAWEEDFS_ACCESS_KEY,
                                 "secret_key": "not-the-secret-0123456789", "name": "signature-check"},
                        target_python, tmp_path)
    assert result.get("failed") is True, result
    assert "SignatureDoesNotMatch" in result["msg"] and "\n" not in result["msg"], result["msg"]
    s3 = boto3.client("s3", endpoint_url=seaweedfs_s3, region_name="us-east-1",
                      aws_access_key_id=SEAWEEDFS_ACCESS_KEY, aws_secret_access_key=SEAWEEDFS_SECRET_KEY)
    assert not exists(s3, "signature-check")


def test_signature_unknown_access_key_is_refused_by_seaweedfs(seaweedfs_s3, target_python, tmp_path):
    result = run_module(MODULE, {"endpoint_url": seaweedfs_s3, "access_key": "nobody-knows-me",
                                 "secret_key": SEAWEEDFS_SECRET_KEY, "name": "signature-check"},
                        target_python, tmp_path)
    assert result.get("failed") is True, result
    assert "InvalidAccessKeyId" in result["msg"], result["msg"]
