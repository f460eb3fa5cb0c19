import json
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args
from botocore.exceptions import ClientError

from ansible_collections.microops.stack.plugins.module_utils._s3 import canned_policy
from ansible_collections.microops.stack.plugins.modules import minio_bucket

ENDPOINT = "http://127.0.0.1:9000"


def client_error(code, status=404):
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "op")


def fake_client(exists=True, policy=None, tags=None, rules=None, versioning=None, lock=False, objects=0):
    """A client standing for a server holding one bucket in the given state."""
    client = mock.MagicMock()
    if not exists:
        client.head_bucket.side_effect = client_error("404")
    client.get_bucket_versioning.return_value = {"Status": versioning} if versioning else {}
    if policy is None:
        client.get_bucket_policy.side_effect = client_error("NoSuchBucketPolicy")
    else:
        client.get_bucket_policy.return_value = {"Policy": json.dumps(policy)}
    if tags is None:
        client.get_bucket_tagging.side_effect = client_error("NoSuchTagSet")
    else:
        client.get_bucket_tagging.return_value = {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
    if rules is None:
        client.get_bucket_lifecycle_configuration.side_effect = client_error("NoSuchLifecycleConfiguration")
    else:
        client.get_bucket_lifecycle_configuration.return_value = {"Rules": rules}
    if lock:
        client.get_object_lock_configuration.return_value = {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}
    else:
        client.get_object_lock_configuration.side_effect = client_error("ObjectLockConfigurationNotFoundError")
    client.list_object_versions.return_value = {"Versions": [{"Key": "k", "VersionId": "v"}] * objects}
    return client


def run_main(args, client, capsys, check_mode=False):
    """main() with `client` patched in at the one seam, the client factory."""
    args = dict({"endpoint_url": ENDPOINT, "access_key": "ak", "secret_key": "sk-unit-0123", "name": "bk1"}, **args)
    if check_mode:
        args["_ansible_check_mode"] = True
    with mock.patch.object(minio_bucket, "s3_client", return_value=client) as factory, patch_module_args(args):
        with pytest.raises(SystemExit):
            minio_bucket.main()
    return json.loads(capsys.readouterr().out), factory


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "Bad_Name"}, "3 to 63 characters"),
        ({"name": "10.1.2.3"}, "IPv4"),
        ({"name": "a..b"}, "'..'"),
        ({"name": "minio"}, "reserved"),
        ({"object_lock": True, "versioning": "suspended"}, "versioning=suspended is refused"),
        ({"lifecycle_rules": [{"id": "a", "expiration_days": 1}, {"id": "a", "expiration_days": 2}]}, "unique"),
    ],
)
def test_refused_before_any_request(args, message, capsys):
    result, factory = run_main(args, fake_client(), capsys)
    assert result["failed"] is True
    assert message in result["msg"]
    assert factory.call_count == 0


def test_create_with_policy_and_tags(capsys):
    client = fake_client(exists=False)
    result, _factory = run_main({"policy": "download", "tags": {"a": 1}, "versioning": "enabled"}, client, capsys)
    assert result["changed"] is True
    assert client.create_bucket.call_count == 1
    assert client.create_bucket.call_args == mock.call(Bucket="bk1")
    assert client.put_bucket_versioning.call_args == mock.call(Bucket="bk1", VersioningConfiguration={"Status": "Enabled"})
    assert json.loads(client.put_bucket_policy.call_args.kwargs["Policy"]) == canned_policy("bk1", "download")
    assert client.put_bucket_tagging.call_args == mock.call(Bucket="bk1", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    # A new bucket has nothing to read.
    assert client.get_bucket_policy.call_count == 0
    assert result["bucket"]["tags"] == {"a": "1"}


def test_create_with_region_and_object_lock(capsys):
    client = fake_client(exists=False)
    result, _factory = run_main({"region": "eu-west-3", "object_lock": True}, client, capsys)
    assert client.create_bucket.call_count == 1
    assert client.create_bucket.call_args == mock.call(
        Bucket="bk1", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}, ObjectLockEnabledForBucket=True)
    assert result["bucket"]["versioning"] == "enabled"


def test_check_mode_writes_nothing(capsys):
    client = fake_client(exists=False)
    result, _factory = run_main({"policy": "public", "tags": {"a": "b"}, "versioning": "enabled"}, client, capsys, check_mode=True)
    assert result["changed"] is True
    written = [name for name, _args, _kwargs in client.method_calls if not name.startswith(("get_", "head_", "list_"))]
    assert written == []


def test_equal_policy_in_minio_form_not_rewritten(capsys):
    # MinIO stores a policy in its own form; a user's AWS-style document with the same meaning.
    stored = canned_policy("bk1", "download")
    document = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bk1/*"},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
         "Resource": "arn:aws:s3:::bk1"},
    ]}
    client = fake_client(policy=stored)
    result, _factory = run_main({"policy": document}, client, capsys)
    assert result["changed"] is False
    assert client.put_bucket_policy.call_count == 0


def test_private_deletes_policy(capsys):
    client = fake_client(policy=canned_policy("bk1", "public"))
    result, _factory = run_main({"policy": "private"}, client, capsys)
    assert result["changed"] is True
    assert client.delete_bucket_policy.call_count == 1
    assert result["bucket"]["policy"] is None


def test_lifecycle_from_filter_prefix_is_unchanged(capsys):
    rules = [{"ID": "r", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 7}}]
    client = fake_client(rules=rules, versioning="Enabled")
    args = {"lifecycle_rules": [{"id": "r", "prefix": "logs/", "expiration_days": 7}], "versioning": "enabled"}
    result, _factory = run_main(args, client, capsys)
    assert result["changed"] is False
    assert client.put_bucket_lifecycle_configuration.call_count == 0


def test_object_lock_change_refused(capsys):
    client = fake_client(lock=True, versioning="Enabled")
    result, _factory = run_main({"object_lock": False}, client, capsys)
    assert result["failed"] is True
    assert "only be set when a bucket is created" in result["msg"]
    assert client.method_calls and all(name.startswith(("get_", "head_")) for name, _a, _k in client.method_calls)


def test_non_empty_bucket_needs_force(capsys):
    client = fake_client(objects=1)
    result, _factory = run_main({"state": "absent"}, client, capsys)
    assert result["failed"] is True
    assert "force=true" in result["msg"]
    assert client.delete_bucket.call_count == 0


def test_error_is_one_line_with_endpoint_bucket_code(capsys):
    client = fake_client()
    client.head_bucket.side_effect = client_error("403", status=403)
    result, _factory = run_main({}, client, capsys)
    assert result["failed"] is True
    assert result["msg"] == "S3 endpoint %s, bucket bk1 (head_bucket): HTTP 403: 403" % ENDPOINT


def test_refused_head_is_asked_again_with_a_get_that_names_the_reason(capsys):
    client = fake_client()
    client.head_bucket.side_effect = client_error("403", status=403)
    client.get_bucket_location.side_effect = client_error("SignatureDoesNotMatch", status=403)
    result, _factory = run_main({}, client, capsys)
    assert result["failed"] is True
    assert client.get_bucket_location.call_count == 1
    assert result["msg"].startswith("S3 endpoint %s, bucket bk1 (get_bucket_location): SignatureDoesNotMatch" % ENDPOINT)


def test_invalid_endpoint_fails_cleanly(capsys):
    args = {"endpoint_url": "not a url", "access_key": "ak", "secret_key": "sk-unit-0123", "name": "bk1"}
    with mock.patch.object(minio_bucket, "s3_client", side_effect=ValueError("Invalid endpoint: not a url")), \
            patch_module_args(args), pytest.raises(SystemExit):
        minio_bucket.main()
    result = json.loads(capsys.readouterr().out)
    assert result["msg"] == "S3 endpoint not a url, bucket bk1: ValueError: Invalid endpoint: not a url"
