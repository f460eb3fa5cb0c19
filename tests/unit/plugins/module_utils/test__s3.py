import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ansible_collections.microops.stack.plugins.module_utils._s3 import (
    bucket_name_error,
    canned_policy,
    format_error,
    lifecycle_rule_errors,
    lifecycle_rule_from_api,
    lifecycle_rule_to_api,
    merge_lifecycle_rules,
    merge_tags,
    normalize_policy,
    policies_equal,
)

# --- bucket names ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["abc", "my-bucket", "my.bucket.01", "0abc", "a" * 63, "1.2.3.4.5", "abc-1"])
def test_valid_bucket_names(name):
    assert bucket_name_error(name) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("Bad_Name", "3 to 63"),
        ("UPPER", "3 to 63"),
        ("-abc", "3 to 63"),
        ("abc-", "3 to 63"),
        (".abc", "3 to 63"),
        ("a b", "3 to 63"),
        ("", "3 to 63"),
        (None, "3 to 63"),
        ("a..b", "'..'"),
        ("a.-b", "'.-'"),
        ("a-.b", "'-.'"),
        ("192.168.1.1", "IPv4"),
        ("10.0.0.255", "IPv4"),
        ("300.1.1.1", "IPv4"),
        ("minio", "reserved"),
    ],
)
def test_invalid_bucket_names(name, why):
    assert why in bucket_name_error(name)


# --- canned policies: exactly the table in docs/upstream.md, "Canned anonymous policies" ----

BUCKET_ARN, OBJECT_ARN = "arn:aws:s3:::b1", "arn:aws:s3:::b1/*"


@pytest.mark.parametrize(
    ("perm", "bucket_actions", "object_actions"),
    [
        ("download", ["s3:GetBucketLocation", "s3:ListBucket"], ["s3:GetObject"]),
        ("upload", ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
         ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts", "s3:PutObject"]),
        ("public", ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
         ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"]),
    ],
)
def test_canned_policy(perm, bucket_actions, object_actions):
    stmt = {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Sid": ""}
    assert canned_policy("b1", perm) == {
        "Version": "2012-10-17",
        "Statement": [
            dict(stmt, Action=bucket_actions, Resource=[BUCKET_ARN]),
            dict(stmt, Action=object_actions, Resource=[OBJECT_ARN]),
        ],
    }


def test_canned_private_is_no_policy():
    assert canned_policy("b1", "private") is None


def test_canned_unknown():
    with pytest.raises(ValueError):
        canned_policy("b1", "readwrite")


# --- policy normalisation -------------------------------------------------------------------

DOWNLOAD = canned_policy("b1", "download")


@pytest.mark.parametrize(
    "other",
    [
        # Principal spellings, single strings, no Sid, no Version, statements reordered.
        {"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": OBJECT_ARN},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
             "Resource": BUCKET_ARN},
        ]},
        # As JSON text, with a duplicate statement (no meaning of its own).
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action":'
        ' ["s3:GetObject"], "Resource": ["arn:aws:s3:::b1/*"]}, {"Effect": "Allow", "Principal": {"AWS": ["*"]},'
        ' "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b1/*"], "Sid": ""}, {"Effect": "Allow",'
        ' "Principal": "*", "Action": ["s3:GetBucketLocation", "s3:ListBucket"], "Resource": "arn:aws:s3:::b1"}]}',
    ],
)
def test_equal_policies(other):
    assert policies_equal(DOWNLOAD, other)


@pytest.mark.parametrize(
    "other",
    [
        None,
        canned_policy("b1", "public"),
        canned_policy("b2", "download"),
        dict(DOWNLOAD, Statement=[dict(DOWNLOAD["Statement"][0], Effect="Deny"), DOWNLOAD["Statement"][1]]),
        dict(DOWNLOAD, Statement=[dict(DOWNLOAD["Statement"][0], Sid="named"), DOWNLOAD["Statement"][1]]),
        dict(DOWNLOAD, Version="2008-10-17"),
    ],
)
def test_different_policies(other):
    assert not policies_equal(DOWNLOAD, other)


@pytest.mark.parametrize("empty", [None, "", {}, "{}"])
def test_empty_policy_is_none(empty):
    assert normalize_policy(empty) is None


def test_condition_values_normalised():
    one = {"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": BUCKET_ARN,
                         "Condition": {"StringLike": {"s3:prefix": "P*"}}}}
    two = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:ListBucket"],
                          "Resource": [BUCKET_ARN], "Condition": {"StringLike": {"s3:prefix": ["P*"]}}}]}
    assert policies_equal(one, two)


# --- lifecycle ------------------------------------------------------------------------------

NORMALISED = {"id": "r", "prefix": "logs/", "status": "enabled", "expiration_days": 7,
              "noncurrent_expiration_days": None, "expired_object_delete_marker": False}


@pytest.mark.parametrize(
    ("api_rule", "expected"),
    [
        ({"ID": "r", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 7}}, NORMALISED),
        # Deprecated top-level Prefix (older servers), and Filter.And.
        ({"ID": "r", "Prefix": "logs/", "Status": "Enabled", "Expiration": {"Days": 7}}, NORMALISED),
        ({"ID": "r", "Filter": {"And": {"Prefix": "logs/", "Tags": []}}, "Status": "Enabled",
          "Expiration": {"Days": 7}}, NORMALISED),
        ({"ID": "n", "Filter": {}, "Status": "Disabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}},
         dict(NORMALISED, id="n", prefix="", status="disabled", expiration_days=None, noncurrent_expiration_days=30)),
        ({"ID": "m", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"ExpiredObjectDeleteMarker": True}},
         dict(NORMALISED, id="m", prefix="", expiration_days=None, expired_object_delete_marker=True)),
    ],
)
def test_lifecycle_rule_from_api(api_rule, expected):
    assert lifecycle_rule_from_api(api_rule) == expected


@pytest.mark.parametrize(
    ("rule", "api_rule"),
    [
        ({"id": "r", "prefix": "logs/", "expiration_days": 7},
         {"ID": "r", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 7}}),
        ({"id": "n", "status": "disabled", "noncurrent_expiration_days": 30, "expired_object_delete_marker": True},
         {"ID": "n", "Filter": {"Prefix": ""}, "Status": "Disabled", "Expiration": {"ExpiredObjectDeleteMarker": True},
          "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}),
    ],
)
def test_lifecycle_rule_to_api_round_trip(rule, api_rule):
    assert lifecycle_rule_to_api(rule) == api_rule
    assert lifecycle_rule_from_api(api_rule)["id"] == rule["id"]


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"id": "x", "expiration_days": 1, "expired_object_delete_marker": True}, "mutually exclusive"),
        ({"id": "x"}, "no action"),
        ({"id": "x", "expiration_days": 0}, "at least 1"),
    ],
)
def test_lifecycle_rule_errors(rule, error):
    assert any(error in e for e in lifecycle_rule_errors(rule))


LIVE = [
    {"ID": "a", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}},
    {"ID": "t", "Filter": {"Prefix": ""}, "Status": "Enabled", "Transitions": [{"Days": 1, "StorageClass": "X"}]},
]


@pytest.mark.parametrize(
    ("desired", "purge", "ids", "changed"),
    [
        ([{"id": "a", "expiration_days": 1}], False, ["a", "t"], False),
        ([{"id": "a", "expiration_days": 1}], True, ["a"], True),
        ([{"id": "a", "expiration_days": 2}], False, ["a", "t"], True),
        ([{"id": "b", "expiration_days": 1}], False, ["a", "b", "t"], True),
        ([], False, ["a", "t"], False),
        ([], True, [], True),
        # Named, a rule with fields this module cannot express is rewritten.
        ([{"id": "a", "expiration_days": 1}, {"id": "t", "expiration_days": None,
                                              "noncurrent_expiration_days": None}], True, ["a", "t"], True),
    ],
)
def test_merge_lifecycle_rules(desired, purge, ids, changed):
    api_rules, rules, was_changed = merge_lifecycle_rules(LIVE, desired, purge)
    assert [r["id"] for r in rules] == ids
    assert sorted(r["ID"] for r in api_rules) == ids
    assert was_changed is changed


def test_merge_lifecycle_keeps_unnamed_rules_verbatim():
    api_rules, _rules, _changed = merge_lifecycle_rules(LIVE, [{"id": "b", "expiration_days": 1}], False)
    assert LIVE[1] in api_rules


# --- tags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "desired", "purge", "expected", "changed"),
    [
        ({}, {}, True, {}, False),
        ({"a": "1"}, {"a": 1}, True, {"a": "1"}, False),
        ({"a": "1", "b": "2"}, {"a": "1"}, True, {"a": "1"}, True),
        ({"a": "1", "b": "2"}, {"a": "1"}, False, {"a": "1", "b": "2"}, False),
        ({"a": "1", "b": "2"}, {"a": "3"}, False, {"a": "3", "b": "2"}, True),
        ({"a": "1"}, {}, True, {}, True),
        ({"a": "1"}, {}, False, {"a": "1"}, False),
        ({}, {"a": None}, True, {"a": ""}, True),
    ],
)
def test_merge_tags(current, desired, purge, expected, changed):
    assert merge_tags(current, desired, purge) == (expected, changed)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied.\nReally."},
                      "ResponseMetadata": {"HTTPStatusCode": 403}}, "PutBucketPolicy"), "AccessDenied"),
        (ClientError({"Error": {"Code": "InvalidAccessKeyId", "Message": "The key does not exist"},
                      "ResponseMetadata": {"HTTPStatusCode": 403}}, "ListBuckets"), "InvalidAccessKeyId"),
        (ClientError({"Error": {"Code": "403", "Message": "Forbidden"},
                      "ResponseMetadata": {"HTTPStatusCode": 403}}, "HeadBucket"), "HTTP 403"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1/b1"), "EndpointConnectionError"),
        (ValueError("plain"), "ValueError"),
    ],
)
def test_format_error(exc, code):
    line = format_error("http://127.0.0.1:1", "b1", exc, action="head_bucket")
    assert "\n" not in line
    assert line.startswith("S3 endpoint http://127.0.0.1:1, bucket b1 (head_bucket): %s: " % code)
