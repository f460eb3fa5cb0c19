"""The MinIO STAND-IN image (microops-test/minio-standin, tests/harness/images/minio-standin): moto's
S3 server behind SigV4 checks, MinIO's health and metrics endpoints, state on the /data volume.
These tests run against the stand-in, not MinIO. Needs the engine and images from tests/harness/up."""

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from _container import StandInContainer, docker

IMAGE = "microops-test/minio-standin:RELEASE.2025-09-07T16-13-09Z"
USER, PASSWORD = "standin-admin", "standin-secret-1"
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:GetObject"],
    "Resource": ["arn:aws:s3:::standin-bucket/*"]}]}
LIFECYCLE = {"Rules": [{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                        "Expiration": {"Days": 7}}]}
TAGS = [{"Key": "env", "Value": "test"}]
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def http(url, method="GET", headers=None):
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("Content-Type"), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read().decode()


class StandIn(StandInContainer):
    """One container of the MinIO stand-in, its S3 port published on loopback."""

    PRODUCT = "minio"
    IMAGE = IMAGE
    PORT = 9000
    DATA = "/data"
    READY_PATH = "/minio/health/ready"
    ARGS = ("server", "/data", "--console-address", ":9001")
    DEFAULT_ENV = {"MINIO_ROOT_USER": USER, "MINIO_ROOT_PASSWORD": PASSWORD}

    def client(self, access_key=USER, secret_key=PASSWORD):
        return boto3.client("s3", endpoint_url=self.base, aws_access_key_id=access_key,
                            aws_secret_access_key=secret_key, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def jwt(secret, claims, alg="HS512"):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    digest = {"HS512": hashlib.sha512, "HS256": hashlib.sha256}[alg]
    sig = b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), digest).digest())
    return f"{head}.{body}.{sig}"


def configure_bucket(s3):
    s3.create_bucket(Bucket="standin-bucket")
    s3.put_bucket_versioning(Bucket="standin-bucket", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_policy(Bucket="standin-bucket", Policy=json.dumps(POLICY))
    s3.put_bucket_lifecycle_configuration(Bucket="standin-bucket", LifecycleConfiguration=LIFECYCLE)
    s3.put_bucket_tagging(Bucket="standin-bucket", Tagging={"TagSet": TAGS})
    return s3.put_object(Bucket="standin-bucket", Key="dir/hello.txt", Body=b"hello standin")["VersionId"]


def assert_bucket_state(s3, version_id):
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["standin-bucket"]
    assert s3.get_bucket_versioning(Bucket="standin-bucket")["Status"] == "Enabled"
    assert json.loads(s3.get_bucket_policy(Bucket="standin-bucket")["Policy"]) == POLICY
    rules = s3.get_bucket_lifecycle_configuration(Bucket="standin-bucket")["Rules"]
    assert [(r["ID"], r["Expiration"]["Days"]) for r in rules] == [("expire", 7)]
    assert s3.get_bucket_tagging(Bucket="standin-bucket")["TagSet"] == TAGS
    obj = s3.get_object(Bucket="standin-bucket", Key="dir/hello.txt")
    assert obj["Body"].read() == b"hello standin"
    assert obj["VersionId"] == version_id


def test_standin_image_follows_minio_conventions():
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", IMAGE).stdout)
    assert config.get("User", "") in ("", "root")  # Dockerfile.release: no USER, root
    assert config["Entrypoint"] == ["/usr/bin/docker-entrypoint.sh"]
    assert config["Cmd"] == ["minio"]
    assert list(config["ExposedPorts"]) == ["9000/tcp"]
    assert list(config["Volumes"]) == ["/data"]
    assert "MINIO_ROOT_USER_FILE=access_key" in config["Env"]
    assert config["Labels"]["org.microops.standin"] == "minio"
    assert docker("run", "--rm", "--entrypoint", "curl", IMAGE, "--version").returncode == 0


def test_standin_health_console_and_banner(standin):
    minio = standin()
    for path in ("/minio/health/live", "/minio/health/ready", "/minio/health/cluster"):
        assert http(minio.base + path)[0] == 200
        assert http(minio.base + path, method="HEAD")[0] == 200
    console = docker("exec", minio.name, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                     "http://127.0.0.1:9001/").stdout
    assert console == "200"
    assert "MinIO STAND-IN" in minio.logs()


def test_standin_s3_with_right_credentials(standin):
    minio = standin()
    s3 = minio.client()
    version_id = configure_bucket(s3)
    assert_bucket_state(s3, version_id)
    with pytest.raises(ClientError) as bad_name:
        s3.create_bucket(Bucket="Bad_Name")  # moto alone accepts it; MinIO does not
    assert bad_name.value.response["Error"]["Code"] == "InvalidBucketName"


@pytest.mark.parametrize("access_key,secret_key,code", [
    (USER, "wrong-secret-1", "SignatureDoesNotMatch"),
    ("unknown-user", PASSWORD, "InvalidAccessKeyId"),
])
def test_standin_rejects_bad_signatures(standin, access_key, secret_key, code):
    minio = standin()
    minio.client().create_bucket(Bucket="standin-bucket")
    with pytest.raises(ClientError) as error:
        minio.client(access_key, secret_key).list_objects_v2(Bucket="standin-bucket")
    assert error.value.response["Error"]["Code"] == code
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_standin_rejects_unsigned_requests(standin):
    minio = standin()
    minio.client().create_bucket(Bucket="standin-bucket")
    for path in ("/", "/standin-bucket", "/standin-bucket/some-key"):
        status, content_type, body = http(minio.base + path)
        assert status == 403
        assert content_type == "application/xml"
        assert "<Code>AccessDenied</Code>" in body


def test_standin_refuses_short_password(volume):
    minio = StandIn(volume, env={"MINIO_ROOT_USER": USER, "MINIO_ROOT_PASSWORD": "short"})
    try:
        minio.run(wait=False)
        result = docker("wait", minio.name)
        assert result.stdout.strip() == "1"
        assert ("MINIO_ROOT_USER length should be at least 3, and MINIO_ROOT_PASSWORD length at least 8 characters"
                in minio.logs())
    finally:
        minio.remove()


def test_standin_reads_credentials_from_files(standin, tmp_path):
    (tmp_path / "user").write_text(USER + "\n", encoding="utf-8")
    (tmp_path / "password").write_text("from-a-file-123\n", encoding="utf-8")
    minio = standin(
        env={"MINIO_ROOT_USER_FILE": "minio_user", "MINIO_ROOT_PASSWORD_FILE": "/secrets/password"},
        mounts=(f"{tmp_path / 'user'}:/run/secrets/minio_user:ro", f"{tmp_path / 'password'}:/secrets/password:ro"))
    minio.client(USER, "from-a-file-123").create_bucket(Bucket="standin-bucket")
    with pytest.raises(ClientError):
        minio.client(USER, PASSWORD).list_buckets()


def test_standin_metrics_public(standin):
    minio = standin(env={"MINIO_ROOT_USER": USER, "MINIO_ROOT_PASSWORD": PASSWORD,
                         "MINIO_PROMETHEUS_AUTH_TYPE": "public"})
    minio.client().create_bucket(Bucket="standin-bucket")
    status, content_type, body = http(minio.base + "/minio/v2/metrics/cluster")
    assert status == 200
    assert content_type.startswith(METRICS_TYPE)
    assert "minio_cluster_nodes_online_total" in body
    assert 'minio_bucket_usage_object_total{bucket="standin-bucket"' in body


def test_standin_metrics_jwt(standin):
    minio = standin()
    url = minio.base + "/minio/v2/metrics/cluster"
    assert http(url)[0] == 403
    claims = {"exp": int(time.time()) + 3600, "sub": USER, "iss": "prometheus"}
    status, content_type, body = http(url, headers={"Authorization": "Bearer " + jwt(PASSWORD, claims)})
    assert status == 200
    assert content_type.startswith(METRICS_TYPE)
    assert "minio_cluster_nodes_online_total" in body
    for token in (jwt("not-the-secret", claims), jwt(PASSWORD, {**claims, "iss": "other"}),
                  jwt(PASSWORD, {**claims, "exp": int(time.time()) - 10}), "garbage"):
        assert http(url, headers={"Authorization": "Bearer " + token})[0] == 403


def test_standin_state_survives_restart_and_recreate(standin):
    minio = standin()
    version_id = configure_bucket(minio.client())
    docker("restart", minio.name)
    minio.wait_ready()
    assert_bucket_state(minio.client(), version_id)
    minio.remove()
    again = standin()
    assert_bucket_state(again.client(), version_id)
