"""The MinIO STAND-IN image (microops-test/minio-standin, tests/harness/images/minio-standin): moto's
S3 server behind SigV4 checks, MinIO's health and metrics endpoints, state on the /data volume.
These tests run against the stand-in, not MinIO: its contract that the product tests rely on,
counted as product tests (stage `images`); its image's own settings (user, entrypoint, ports)
are harness checks in tests/harness/checks. Needs the engine and images from tests/harness/up."""

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
    status, response_headers, body = http_full(url, method, headers)
    return status, response_headers.get("Content-Type"), body


def http_full(url, method="GET", headers=None):
    """(status, headers, body text) of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


def first_answer(minio, path, deadline_seconds=30):
    """Starts nothing: polls the started container's published port until `path` answers at all
    (any HTTP status) and returns (status, headers, body, time.monotonic() of the answer)."""
    port = docker("port", minio.name, f"{minio.PORT}/tcp").stdout.split(":")[-1].strip()
    minio.base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            status, headers, body = http_full(minio.base + path)
            return status, headers, body, time.monotonic()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"minio stand-in not listening within {deadline_seconds} s:\n{minio.logs()}")
        time.sleep(0.1)


class StandIn(StandInContainer):
    """One container of the MinIO stand-in, its S3 port published on loopback."""

    PRODUCT = "minio"
    IMAGE = IMAGE
    PORT = 9000
    DATA = "/data"
    # /minio/health/ready answers 200 before the object layer exists (x-minio-server-status: offline);
    # only /minio/health/cluster waits for it (cmd/healthcheck-handler.go).
    READY_PATH = "/minio/health/cluster"
    ARGS = ("server", "/data", "--console-address", ":9001")
    DEFAULT_ENV = {"MINIO_ROOT_USER": USER, "MINIO_ROOT_PASSWORD": PASSWORD}

    def client(self, access_key=USER, secret_key=PASSWORD):
        """boto3 S3 client, path style, one attempt only (botocore would retry a 503)."""
        return boto3.client("s3", endpoint_url=self.base, aws_access_key_id=access_key,
                            aws_secret_access_key=secret_key, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"mode": "standard", "total_max_attempts": 1}))


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


def test_standin_health_console_and_banner(standin):
    minio = standin()
    for path in ("/minio/health/live", "/minio/health/ready", "/minio/health/cluster", "/minio/health/cluster/read"):
        status, headers, _body = http_full(minio.base + path)
        assert status == 200
        assert headers.get("x-minio-server-status") is None  # set only while offline
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


HEALTH = ("/minio/health/live", "/minio/health/ready", "/minio/health/cluster", "/minio/health/cluster/read")


def test_standin_startup_offline_then_online(volume):
    """For MICROOPS_STANDIN_STARTUP_SECONDS after it listens, the stand-in is MinIO before
    setObjectLayer: live/ready 200 offline, cluster 503 offline, every S3 call 503
    XMinioServerNotInitialized (signed or not); then online."""
    minio = StandIn(volume, env={**StandIn.DEFAULT_ENV, "MICROOPS_STANDIN_STARTUP_SECONDS": "12"})
    try:
        minio.run(wait=False)
        _status, _headers, _body, listening = first_answer(minio, "/minio/health/live")
        for path in HEALTH:
            status, headers, body = http_full(minio.base + path)
            assert (status, headers.get("x-minio-server-status"), body) == (
                503 if "cluster" in path else 200, "offline", ""), path
            assert http_full(minio.base + path, method="HEAD")[0] == (503 if "cluster" in path else 200)
        with pytest.raises(ClientError) as offline:
            minio.client().list_buckets()
        response = offline.value.response
        assert response["Error"]["Code"] == "XMinioServerNotInitialized"
        assert response["Error"]["Message"] == "Server not initialized yet, please try again."
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "60"
        with pytest.raises(ClientError) as bad_signature:  # before authentication: 503, not 403
            minio.client(USER, "wrong-secret-1").create_bucket(Bucket="standin-bucket")
        assert bad_signature.value.response["Error"]["Code"] == "XMinioServerNotInitialized"
        status, headers, body = http_full(minio.base + "/standin-bucket/key")
        assert (status, headers.get("Content-Type")) == (503, "application/xml")
        assert "<Code>XMinioServerNotInitialized</Code>" in body and "<BucketName>standin-bucket</BucketName>" in body
        assert time.monotonic() - listening < 10, "the offline checks took too long to mean anything"
        minio.wait_ready()  # /minio/health/cluster 200
        online = time.monotonic()
        assert online - listening > 10
        for path in HEALTH:
            status, headers, _body = http_full(minio.base + path)
            assert (status, headers.get("x-minio-server-status")) == (200, None), path
        minio.client().create_bucket(Bucket="standin-bucket")
        assert [b["Name"] for b in minio.client().list_buckets()["Buckets"]] == ["standin-bucket"]
        assert "object layer initialised" in minio.logs()
    finally:
        minio.remove()


def test_standin_starts_offline_by_default(volume):
    """Without MICROOPS_STANDIN_STARTUP_SECONDS the object layer takes a few seconds (3) too."""
    minio = StandIn(volume)
    try:
        minio.run(wait=False)
        status, headers, _body, listening = first_answer(minio, "/minio/health/cluster")
        assert (status, headers.get("x-minio-server-status")) == (503, "offline")
        minio.wait_ready()
        assert time.monotonic() - listening > 1.5
        minio.client().list_buckets()
    finally:
        minio.remove()


def test_standin_refuses_bad_startup_seconds(volume):
    minio = StandIn(volume, env={**StandIn.DEFAULT_ENV, "MICROOPS_STANDIN_STARTUP_SECONDS": "soon"})
    try:
        minio.run(wait=False)
        assert docker("wait", minio.name).stdout.strip() == "1"
        assert "MICROOPS_STANDIN_STARTUP_SECONDS must be a number of seconds" in minio.logs()
    finally:
        minio.remove()


def test_standin_trims_credential_files_like_bytes_trimspace(standin, tmp_path):
    """readFromSecret trims with Go's bytes.TrimSpace: CR, LF, tabs, spaces and Unicode spaces such as
    U+00A0 at both ends go, a space inside stays."""
    (tmp_path / "user").write_bytes(b" \t" + USER.encode() + b"\r\n")
    (tmp_path / "password").write_bytes("\n inside space-1\u00a0\r\n\n".encode())
    minio = standin(
        env={"MINIO_ROOT_USER_FILE": "minio_user", "MINIO_ROOT_PASSWORD_FILE": "/secrets/password"},
        mounts=(f"{tmp_path / 'user'}:/run/secrets/minio_user:ro", f"{tmp_path / 'password'}:/secrets/password:ro"))
    minio.client(USER, "inside space-1").create_bucket(Bucket="standin-bucket")
    for secret in ("inside space-1\u00a0", " inside space-1", "insidespace-1"):
        with pytest.raises(ClientError) as error:
            minio.client(USER, secret).list_buckets()
        assert error.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
