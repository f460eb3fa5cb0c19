"""Read (and optionally write) S3 state with boto3, from outside the MinIO host, for verify.yml.

Usage: s3_state.py ENDPOINT [put BUCKET KEY BODY]; credentials in AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY. Prints JSON: every bucket with versioning, policy, tags, lifecycle,
object lock and its objects' contents.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError


def optional(call, key, **kwargs):
    try:
        return call(**kwargs).get(key)
    except ClientError:
        return None


def main(endpoint, *action):
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    if action[:1] == ("put",):
        s3.put_object(Bucket=action[1], Key=action[2], Body=action[3].encode())
    state = {}
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        objects = s3.list_objects_v2(Bucket=name).get("Contents", [])
        state[name] = {
            "versioning": s3.get_bucket_versioning(Bucket=name).get("Status"),
            "policy": json.loads(optional(s3.get_bucket_policy, "Policy", Bucket=name) or "null"),
            "tags": {t["Key"]: t["Value"]
                     for t in optional(s3.get_bucket_tagging, "TagSet", Bucket=name) or []},
            "lifecycle": optional(s3.get_bucket_lifecycle_configuration, "Rules", Bucket=name) or [],
            "object_lock": (optional(s3.get_object_lock_configuration, "ObjectLockConfiguration",
                                     Bucket=name) or {}).get("ObjectLockEnabled"),
            "objects": {o["Key"]: s3.get_object(Bucket=name, Key=o["Key"])["Body"].read().decode()
                        for o in objects},
        }
    print(json.dumps(state, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:])
