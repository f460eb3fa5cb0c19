"""microops-test MinIO STAND-IN (moto S3 + signature checks), not MinIO.

Runs as `minio server DIR [--address :9000] [--console-address :9001]` inside the image
microops-test/minio-standin (tests/harness/images/minio-standin/Dockerfile). What it implements,
and the MinIO source each part follows (github.com/minio/minio, read at 7aac2a2c, 2026-02-12):
- root credentials: cmd/common-main.go loadEnvVarsFromFiles/readFromSecret (the *_FILE variables
  name a file under /run/secrets/ or a path), loadRootCredentials (minimum lengths, fatal
  message from internal/config/errors.go ErrInvalidRootUserCredentials), cmd/server-main.go
  (neither variable set: auth.DefaultCredentials minioadmin:minioadmin, internal/auth/credentials.go);
- S3 API: moto's S3 server behind a SigV4 check of every request against the root credentials
  (cmd/signature-v4.go, cmd/streaming-signature-v4.go), errors as in cmd/api-errors.go; unsigned
  requests are refused with AccessDenied (stricter than MinIO, which evaluates bucket policies
  for anonymous requests); bucket names checked like MinIO's PutBucketHandler
  (minio-go pkg/s3utils CheckValidBucketNameStrict);
- health: cmd/healthcheck-router.go, GET/HEAD /minio/health/{live,ready,cluster,cluster/read};
- startup: cmd/server-main.go serverMain starts the HTTP server (configureServer) before
  newObjectLayer/setObjectLayer; until then cmd/healthcheck-handler.go LivenessCheckHandler and
  ReadinessCheckHandler answer 200 with `x-minio-server-status: offline`, checkHealth makes
  ClusterCheckHandler and ClusterReadCheckHandler answer 503 with the same header, and every S3
  handler checks `api.ObjectAPI() == nil` before authentication (cmd/bucket-handlers.go
  ListBucketsHandler, PutBucketHandler...) and answers ErrServerNotInitialized (cmd/api-errors.go:
  XMinioServerNotInitialized, "Server not initialized yet, please try again.", 503) through
  cmd/api-response.go writeErrorResponse (Retry-After: 60 on 503). The stand-in is in that state
  for MICROOPS_STANDIN_STARTUP_SECONDS (a test-only variable, not MinIO's; default 3) after it
  starts listening; metric groups that depend on the object layer are empty meanwhile
  (cmd/metrics-v2.go MetricsGroupV2.RegisterRead, dependGlobalObjectAPI);
- metrics: cmd/metrics-router.go (MINIO_PROMETHEUS_AUTH_TYPE jwt|public), cmd/metrics.go
  AuthMiddleware + cmd/jwt.go metricsRequestAuthenticate (Bearer JWT, iss "prometheus"),
  metric names from cmd/metrics-v2.go, Content-Type from prometheus/common expfmt.Negotiate;
- persistence: moto's backend is pickled to DIR/.standin/state.pickle after every successful
  change and loaded at start, so the volume keeps buckets, their settings and objects;
- console: with --console-address, a minimal page answering 200 (MinIO's console is a web UI).
"""
import base64
import hashlib
import hmac
import io
import json
import os
import pickle
import re
import signal
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, unquote
from xml.sax.saxutils import escape

BANNER = "microops-test MinIO STAND-IN (moto S3 + signature checks), not MinIO"
ACCOUNT = "123456789012"  # moto's default account
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW = 15 * 60  # cmd/signature-v4-utils.go globalMaxSkewTime
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IPV4_RE = re.compile(r"^(\d+\.){3}\d+$")
AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)$")
MUTATING = {"PUT", "POST", "DELETE"}

# cmd/api-errors.go: code, description, HTTP status
ERRORS = {
    "AccessDenied": ("AccessDenied", "Access Denied.", 403),
    "InvalidAccessKeyId": ("InvalidAccessKeyId", "The Access Key Id you provided does not exist in our records.", 403),
    "SignatureDoesNotMatch": (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.", 403),
    "RequestTimeTooSkewed": (
        "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large.", 403),
    "MissingDateHeader": ("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 400),
    "AuthorizationHeaderMalformed": (
        "AuthorizationHeaderMalformed", "The authorization header is malformed; the region is wrong; expecting 'us-east-1'.", 400),
    "XAmzContentSHA256Mismatch": (
        "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", 400),
    "InvalidBucketName": ("InvalidBucketName", "The specified bucket is not valid.", 400),
    "NotImplemented": ("NotImplemented", "A header you provided implies functionality that is not implemented (MinIO stand-in)", 501),
    "ServerNotInitialized": ("XMinioServerNotInitialized", "Server not initialized yet, please try again.", 503),
}
STARTUP_SECONDS = 3.0  # default of the test-only MICROOPS_STANDIN_STARTUP_SECONDS
# Go's unicode.IsSpace, which bytes.TrimSpace uses: ASCII \t \n \v \f \r space, U+0085, U+00A0 and
# the other Unicode White_Space characters (Python's str.strip() also strips \x1c-\x1f).
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
           "\u2028\u2029\u202f\u205f\u3000"


def log(message):
    print(f"minio-standin: {message}", file=sys.stderr, flush=True)


def fatal(intro, msg, action, hint):
    """Print like MinIO's logger.Fatal with config.FmtError (internal/config/errors-utils.go), exit 1."""
    log(BANNER)
    print(f"FATAL {intro}: {msg}\n> {action}\nHINT:\n  {hint}", file=sys.stderr, flush=True)
    sys.exit(1)


def go_trim_space(data):
    """Go's bytes.TrimSpace: leading and trailing unicode.IsSpace characters removed (invalid
    UTF-8 is kept as it is: surrogateescape)."""
    return data.decode("utf-8", "surrogateescape").strip(GO_SPACE)


def read_from_secret(name):
    """cmd/common-main.go readFromSecret: a name under /run/secrets/ if that file exists, else a
    path; a missing file gives "" (ignored); the content is trimmed with bytes.TrimSpace, so a
    file written with a trailing newline gives the credential without it."""
    candidate = os.path.join("/run/secrets/", name)
    path = candidate if os.path.isfile(candidate) else name
    try:
        with open(path, "rb") as handle:
            return go_trim_space(handle.read())
    except FileNotFoundError:
        return ""
    except OSError as exc:
        fatal("Unable to validate credentials inherited from the secret file(s)", "Invalid credentials",
              "Please provide correct credentials",
              f"Access key length should be at least 3, and secret key length at least 8 characters ({exc})")
    return ""


def root_credentials(environ):
    """Root user and password as MinIO derives them from the environment (see module doc)."""
    for file_var, target in (("MINIO_ACCESS_KEY_FILE", "MINIO_ROOT_USER"), ("MINIO_SECRET_KEY_FILE", "MINIO_ROOT_PASSWORD"),
                             ("MINIO_ROOT_USER_FILE", "MINIO_ROOT_USER"), ("MINIO_ROOT_PASSWORD_FILE", "MINIO_ROOT_PASSWORD")):
        if file_var in environ:
            value = read_from_secret(environ[file_var])
            if value:
                environ[target] = value
    user_set, password_set = "MINIO_ROOT_USER" in environ, "MINIO_ROOT_PASSWORD" in environ
    if password_set and not user_set:
        fatal("Unable to start MinIO", "Missing credential environment variable, \"MINIO_ROOT_USER\"",
              "Environment variable \"MINIO_ROOT_USER\" is missing", "Root user name (access key) and root password (secret key) are expected")
    if user_set and not password_set:
        fatal("Unable to start MinIO", "Missing credential environment variable, \"MINIO_ROOT_PASSWORD\"",
              "Environment variable \"MINIO_ROOT_PASSWORD\" is missing", "Root user name (access key) and root password (secret key) are expected")
    user, password = environ.get("MINIO_ROOT_USER", ""), environ.get("MINIO_ROOT_PASSWORD", "")
    if not user or not password:
        log("no root credentials set: using MinIO's default minioadmin:minioadmin")
        return "minioadmin", "minioadmin"
    if len(user) < 3 or len(password) < 8:
        fatal("Unable to validate credentials inherited from the shell environment", "Invalid credentials",
              "Please provide correct credentials",
              "MINIO_ROOT_USER length should be at least 3, and MINIO_ROOT_PASSWORD length at least 8 characters")
    return user, password


def valid_bucket_name(name):
    """minio-go pkg/s3utils CheckValidBucketNameStrict, plus MinIO's reserved bucket `minio`."""
    return (bool(BUCKET_RE.match(name)) and not IPV4_RE.match(name) and name != "minio"
            and ".." not in name and ".-" not in name and "-." not in name)


def error_response(start_response, name, environ, extra_headers=()):
    """cmd/api-response.go writeErrorResponse: APIErrorResponse (cmd/api-errors.go) as XML, Key and
    BucketName omitted when empty (omitempty), Retry-After: 60 on 503."""
    code, message, status = ERRORS[name]
    path = unquote(environ.get("PATH_INFO", "/"))
    bucket, _sep, key = path.lstrip("/").partition("/")
    request_id = uuid.uuid4().hex[:16].upper()
    key_xml = f"<Key>{escape(key)}</Key>" if key else ""
    bucket_xml = f"<BucketName>{escape(bucket)}</BucketName>" if bucket else ""
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{key_xml}{bucket_xml}"
            f"<Resource>{escape(path)}</Resource>"
            f"<RequestId>{request_id}</RequestId><HostId>minio-standin</HostId></Error>").encode()
    headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(body))),
               ("x-amz-request-id", request_id)]
    if status == 503:
        headers.append(("Retry-After", "60"))
    start_response(f"{status} {http_reason(status)}", [*headers, *extra_headers])
    return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def http_reason(status):
    return {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 501: "Not Implemented",
            503: "Service Unavailable"}.get(status, "")


def read_body(environ):
    stream = environ.get("wsgi.input")
    length = environ.get("CONTENT_LENGTH") or ""
    if stream is None:
        return b""
    if length.isdigit():
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


class SignatureError(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


class Verifier:
    """SigV4 verification with botocore's own canonicalisation (botocore.auth.S3SigV4Auth)."""

    def __init__(self, access_key, secret_key):
        # Imported here so that `--help` style failures do not need botocore.
        from botocore.auth import S3SigV4Auth  # pylint: disable=import-outside-toplevel
        from botocore.awsrequest import AWSRequest  # pylint: disable=import-outside-toplevel
        from botocore.compat import HTTPHeaders  # pylint: disable=import-outside-toplevel
        from botocore.credentials import Credentials  # pylint: disable=import-outside-toplevel

        class SignedHeadersAuth(S3SigV4Auth):
            """Signs exactly the headers the client listed in SignedHeaders."""

            def __init__(self, credentials, service, region, signed):
                super().__init__(credentials, service, region)
                self.signed = signed

            def headers_to_sign(self, request):
                headers = HTTPHeaders()
                for name in self.signed:
                    for value in request.headers.get_all(name) or []:
                        headers[name] = value
                return headers

        self.access_key = access_key
        self.credentials = Credentials(access_key, secret_key)
        self.auth_class = SignedHeadersAuth
        self.request_class = AWSRequest
        self.secret_key = secret_key

    def verify(self, environ, body):
        """Raise SignatureError, or return the body to hand to moto (chunks decoded)."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        query = environ.get("QUERY_STRING", "")
        if not header:
            # Presigned URLs (X-Amz-Signature) and anonymous requests: not supported, refused.
            raise SignatureError("AccessDenied")
        match = AUTH_RE.match(header.strip())
        if not match:
            if header.startswith("AWS "):  # signature V2: MinIO accepts it, the stand-in does not
                raise SignatureError("NotImplemented")
            raise SignatureError("AuthorizationHeaderMalformed")
        credential, signed_headers, signature = match.groups()
        parts = credential.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            raise SignatureError("AuthorizationHeaderMalformed")
        access_key, scope_date, region, service = parts[:4]
        if not hmac.compare_digest(access_key.encode(), self.access_key.encode()):
            raise SignatureError("InvalidAccessKeyId")
        timestamp = environ.get("HTTP_X_AMZ_DATE", "")
        try:
            when = datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError as exc:
            raise SignatureError("MissingDateHeader") from exc
        if abs(time.time() - when.timestamp()) > MAX_SKEW:
            raise SignatureError("RequestTimeTooSkewed")
        if scope_date != timestamp[:8]:
            raise SignatureError("SignatureDoesNotMatch")
        signed = signed_headers.split(";")
        if "host" not in signed:
            raise SignatureError("SignatureDoesNotMatch")
        payload_hash = environ.get("HTTP_X_AMZ_CONTENT_SHA256", EMPTY_SHA256)
        headers = {}
        for name in signed:
            if name == "host":
                headers["host"] = environ.get("HTTP_HOST", "")
            elif name == "content-type":
                headers[name] = environ.get("CONTENT_TYPE", "")
            elif name == "content-length":
                headers[name] = environ.get("CONTENT_LENGTH", "")
            else:
                headers[name] = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
        raw_path = raw_path.split("?", 1)[0]
        path = quote(unquote(raw_path), safe="/~")
        params = dict(parse_qsl(query, keep_blank_values=True))
        request = self.request_class(method=environ["REQUEST_METHOD"], url="http://" + headers["host"] + path,
                                     headers=headers, params=params)
        request.context["timestamp"] = timestamp
        auth = self.auth_class(self.credentials, service, region, signed)
        string_to_sign = auth.string_to_sign(request, auth.canonical_request(request))
        expected = auth.signature(string_to_sign, request)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise SignatureError("SignatureDoesNotMatch")
        if payload_hash == "UNSIGNED-PAYLOAD":
            return body
        if payload_hash == "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
            return body  # moto decodes aws-chunked bodies and their trailing checksum
        if payload_hash == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
            return self.decode_chunks(body, signature, timestamp, auth.scope(request), auth, request)
        if payload_hash.startswith("STREAMING-"):
            raise SignatureError("NotImplemented")
        if not hmac.compare_digest(hashlib.sha256(body).hexdigest(), payload_hash.lower()):
            raise SignatureError("XAmzContentSHA256Mismatch")
        return body

    @staticmethod
    def decode_chunks(body, seed_signature, timestamp, scope, auth, request):
        """cmd/streaming-signature-v4.go: every chunk signed, chained from the seed signature."""
        out, previous, pos = [], seed_signature, 0
        while True:
            end = body.find(b"\r\n", pos)
            if end < 0:
                raise SignatureError("SignatureDoesNotMatch")
            size_part, _sep, sig_part = body[pos:end].decode("ascii", "replace").partition(";chunk-signature=")
            try:
                size = int(size_part, 16)
            except ValueError as exc:
                raise SignatureError("SignatureDoesNotMatch") from exc
            data = body[end + 2:end + 2 + size]
            string_to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", timestamp, scope, previous, EMPTY_SHA256,
                                        hashlib.sha256(data).hexdigest()])
            expected = auth.signature(string_to_sign, request)
            if not hmac.compare_digest(expected.encode(), sig_part.encode()):
                raise SignatureError("SignatureDoesNotMatch")
            out.append(data)
            previous = expected
            pos = end + 2 + size + 2
            if size == 0:
                return b"".join(out)


def decode_jwt(token, secret):
    """HS256/384/512 JWT check by hand, as MinIO's internal/jwt ParseWithClaims does; claims or None."""
    try:
        head_b64, payload_b64, sig_b64 = token.split(".")

        def unb64(text):
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        header = json.loads(unb64(head_b64))
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[header.get("alg")]
        expected = hmac.new(secret.encode(), f"{head_b64}.{payload_b64}".encode(), digest).digest()
        if not hmac.compare_digest(expected, unb64(sig_b64)):
            return None
        return json.loads(unb64(payload_b64))
    except (ValueError, KeyError, TypeError):
        return None


class StandIn:
    """The WSGI application on the S3 port."""

    def __init__(self, user, password, data_dir, auth_type, address):
        from moto.moto_server.werkzeug_app import create_backend_app  # pylint: disable=import-outside-toplevel
        from moto.s3.models import s3_backends  # pylint: disable=import-outside-toplevel
        self.user, self.password = user, password
        self.auth_type = auth_type
        self.address = address
        self.verifier = Verifier(user, password)
        self.moto = create_backend_app("s3")  # the S3 service alone, as a WSGI app
        self.backends = s3_backends
        self.lock = threading.Lock()
        self.state_dir = os.path.join(data_dir, ".standin")
        self.state_file = os.path.join(self.state_dir, "state.pickle")
        os.makedirs(self.state_dir, exist_ok=True)
        self.load()
        self.ready_at = None  # time.monotonic() at which the object layer is "set"; see start()

    def start(self, delay):
        """The HTTP server listens from now on; the object layer is ready `delay` seconds later
        (cmd/server-main.go serverMain: configureServer, then newObjectLayer)."""
        self.ready_at = time.monotonic() + delay
        log(f"object layer not initialised for {delay:g} s (MICROOPS_STANDIN_STARTUP_SECONDS)")
        timer = threading.Timer(delay, lambda: log("object layer initialised: S3 API online"))
        timer.daemon = True
        timer.start()

    def online(self):
        """newObjectLayerFn() != nil."""
        return self.ready_at is not None and time.monotonic() >= self.ready_at

    def backend(self):
        return self.backends[ACCOUNT]["aws"]

    def load(self):
        if not os.path.exists(self.state_file):
            log(f"no saved state in {self.state_file}: starting empty")
            return
        with open(self.state_file, "rb") as handle:
            backend = pickle.load(handle)  # written by this program only, on its own volume
        self.backends[ACCOUNT]["aws"] = backend
        log(f"state loaded from {self.state_file}: {len(backend.buckets)} bucket(s)")

    def save(self):
        part = self.state_file + ".part"
        with open(part, "wb") as handle:
            pickle.dump(self.backend(), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, self.state_file)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        method = environ["REQUEST_METHOD"]
        if path == "/minio" or path.startswith("/minio/"):
            return self.reserved(environ, start_response, path, method)
        if not self.online():
            # The handlers test ObjectAPI() == nil before authenticating: signed or not, 503.
            read_body(environ)
            return error_response(start_response, "ServerNotInitialized", environ)
        body = read_body(environ)
        try:
            body = self.verifier.verify(environ, body)
        except SignatureError as exc:
            return error_response(start_response, exc.name, environ)
        bucket = unquote(path).lstrip("/").split("/", 1)[0]
        if method == "PUT" and bucket and "/" not in unquote(path).strip("/") and not environ.get("QUERY_STRING") \
                and not valid_bucket_name(bucket):
            return error_response(start_response, "InvalidBucketName", environ)
        environ = dict(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        if environ.get("HTTP_X_AMZ_CONTENT_SHA256") == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
            environ["HTTP_X_AMZ_CONTENT_SHA256"] = "UNSIGNED-PAYLOAD"
            environ.pop("HTTP_X_AMZ_DECODED_CONTENT_LENGTH", None)
            encodings = [e for e in environ.get("HTTP_CONTENT_ENCODING", "").split(",") if e.strip() and e.strip() != "aws-chunked"]
            if encodings:
                environ["HTTP_CONTENT_ENCODING"] = ",".join(encodings)
            else:
                environ.pop("HTTP_CONTENT_ENCODING", None)
        with self.lock:
            status, headers, data = self.call_moto(environ)
            if method in MUTATING and status.startswith("2"):
                self.save()
        start_response(status, headers)
        return [data]

    def call_moto(self, environ):
        captured = {}

        def capture(status, headers, exc_info=None):  # pylint: disable=unused-argument
            captured["status"], captured["headers"] = status, headers
            return lambda chunk: None
        result = self.moto(environ, capture)
        try:
            data = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return captured["status"], captured["headers"], data

    def reserved(self, environ, start_response, path, method):
        """MinIO's reserved /minio/ prefix: health and metrics, without S3 signatures."""
        if path in ("/minio/health/live", "/minio/health/ready", "/minio/health/cluster", "/minio/health/cluster/read"):
            if method not in ("GET", "HEAD"):
                return error_response(start_response, "NotImplemented", environ)
            # cmd/healthcheck-handler.go: the header is set only while offline (const unavailable);
            # live and ready still answer 200 then, cluster and cluster/read (checkHealth) 503.
            headers = [("Content-Length", "0")]
            status = "200 OK"
            if not self.online():
                headers.append(("x-minio-server-status", "offline"))
                if path.startswith("/minio/health/cluster"):
                    status = "503 Service Unavailable"
            start_response(status, headers)
            return [b""]
        if re.match(r"^/minio/v2/metrics/(cluster|bucket|node|resource)$", path) and method == "GET":
            if self.auth_type != "public" and not self.metrics_token_ok(environ):
                body = json.dumps({"Code": "AccessDenied", "Message": "Access Denied.", "Resource": path,
                                   "RequestId": uuid.uuid4().hex[:16].upper(), "HostId": "minio-standin"}).encode()
                start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
            body = self.metrics().encode()
            start_response("200 OK", [("Content-Type", metrics_content_type(environ.get("HTTP_ACCEPT", ""))),
                                      ("Content-Length", str(len(body)))])
            return [body]
        return error_response(start_response, "NotImplemented", environ)

    def metrics_token_ok(self, environ):
        header = environ.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            return False
        claims = decode_jwt(header[len("Bearer "):].strip(), self.password)
        if not isinstance(claims, dict):
            return False
        access_key = claims.get("accessKey") or claims.get("sub")
        exp = claims.get("exp")
        # Stricter than MinIO on one point: exp is required (mc always sets it).
        return (access_key == self.user and claims.get("iss") == "prometheus"
                and isinstance(exp, (int, float)) and exp > time.time())

    def metrics(self):
        """A few of MinIO's v2 metrics (cmd/metrics-v2.go), computed from moto's state."""
        server = self.address
        lines = []

        def gauge(name, help_text, samples):
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} gauge")
            for labels, value in samples:
                rendered = ",".join(f'{k}="{v}"' for k, v in labels.items())
                lines.append(f"{name}{{{rendered}}} {value}")
        with self.lock:
            buckets = dict(self.backend().buckets)
            usage = {}
            for name, bucket in buckets.items():
                keys = [k for k in bucket.keys.values() if hasattr(k, "size")]
                usage[name] = (len(keys), sum(k.size for k in keys))
        gauge("minio_cluster_nodes_online_total", "Total number of MinIO nodes online", [({"server": server}, 1)])
        gauge("minio_cluster_nodes_offline_total", "Total number of MinIO nodes offline", [({"server": server}, 0)])
        if not self.online():  # getClusterUsageMetrics, getBucketUsageMetrics: dependGlobalObjectAPI
            return "\n".join(lines) + "\n"
        gauge("minio_cluster_bucket_total", "Total number of buckets in the cluster", [({"server": server}, len(buckets))])
        gauge("minio_bucket_usage_object_total", "Total number of objects",
              [({"bucket": b, "server": server}, usage[b][0]) for b in sorted(usage)])
        gauge("minio_bucket_usage_total_bytes", "Total bucket size in bytes",
              [({"bucket": b, "server": server}, usage[b][1]) for b in sorted(usage)])
        return "\n".join(lines) + "\n"


def metrics_content_type(accept):
    """prometheus/common v0.63 expfmt.Negotiate (MinIO's go.mod): text format plus the escaping
    scheme, `underscores` unless the Accept header asks for another known one."""
    escaping = "underscores"
    found = re.search(r"escaping=(allow-utf-8|underscores|dots|values)", accept)
    if found:
        escaping = found.group(1)
    return f"text/plain; version=0.0.4; charset=utf-8; escaping={escaping}"


def console_app(environ, start_response):  # pylint: disable=unused-argument
    body = f"<!doctype html><title>MinIO Console STAND-IN</title><p>{BANNER}: console placeholder</p>\n".encode()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def parse_args(argv):
    """`minio server DIR [--address ADDR] [--console-address ADDR]` (other flags refused)."""
    if not argv or argv[0] != "server":
        log(BANNER)
        sys.exit("minio-standin: only `minio server DIR [--address :9000] [--console-address :9001]` is supported")
    opts = {"--address": ":9000", "--console-address": None}
    dirs = []
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        name, sep, value = arg.partition("=")
        if name in opts:
            if not sep:
                if not args:
                    sys.exit(f"minio-standin: {name} needs a value")
                value = args.pop(0)
            opts[name] = value
        elif arg.startswith("-"):
            sys.exit(f"minio-standin: option {arg} is not supported by the stand-in")
        else:
            dirs.append(arg)
    if len(dirs) != 1 or "{" in dirs[0] or "://" in dirs[0]:
        sys.exit("minio-standin: exactly one local data directory is supported (no distributed mode)")
    return dirs[0], opts["--address"], opts["--console-address"]


def startup_seconds(environ):
    """MICROOPS_STANDIN_STARTUP_SECONDS: how long the object layer stays uninitialised (tests only)."""
    raw = environ.get("MICROOPS_STANDIN_STARTUP_SECONDS", "")
    if raw == "":
        return STARTUP_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 600:
        log(BANNER)
        sys.exit(f"minio-standin: MICROOPS_STANDIN_STARTUP_SECONDS must be a number of seconds from 0 to 600, got {raw!r}")
    return value


def split_address(address):
    host, _sep, port = address.rpartition(":")
    return host or "0.0.0.0", int(port)


def main(argv):
    from werkzeug.serving import make_server  # pylint: disable=import-outside-toplevel
    # PID 1 in the container: without a handler SIGTERM is ignored and `docker stop` waits 10 s.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    data_dir, address, console = parse_args(argv)
    os.environ["S3_IGNORE_SUBDOMAIN_BUCKETNAME"] = "true"  # MinIO without MINIO_DOMAIN: path-style only
    user, password = root_credentials(os.environ)
    auth_type = os.environ.get("MINIO_PROMETHEUS_AUTH_TYPE", "jwt").lower()
    delay = startup_seconds(os.environ)
    log(BANNER)
    os.makedirs(data_dir, exist_ok=True)
    app = StandIn(user, password, data_dir, auth_type, address)
    host, port = split_address(address)
    servers = [make_server(host, port, app, threaded=True)]
    log(f"S3 API: http://{host}:{port} (data {data_dir}, metrics auth {auth_type})")
    if console:
        chost, cport = split_address(console)
        servers.append(make_server(chost, cport, console_app, threaded=True))
        log(f"Console: http://{chost}:{cport} (placeholder page only)")
    app.start(delay)
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
