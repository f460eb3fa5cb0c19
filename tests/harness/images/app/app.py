#!/usr/bin/env python
"""microops-test app: a small real service of our own (not a stand-in), standing in for a user's
microservice: the seed system's gateway and backend are this one image, their roles chosen by the
environment. Standard library HTTP server; errors to Sentry with the real sentry-sdk; objects to S3
with boto3; Prometheus metrics; one JSON object per log line on stdout. Writes nothing to disk.

Environment (all optional):
  PORT (8080)              HTTP port, on 0.0.0.0
  METRICS_PORT             a second listener serving only /metrics (when set and not PORT)
  SERVICE_NAME (app)       in every log line, in the answer of / and in the metrics' labels
  SENTRY_DSN, SENTRY_ENVIRONMENT
  S3_ENDPOINT, S3_BUCKET, S3_REGION (us-east-1), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the
                           files named by AWS_ACCESS_KEY_ID_FILE / AWS_SECRET_ACCESS_KEY_FILE
  UPSTREAM_URL             called by GET /upstream
Secrets (the *_FILE contents, the credentials, the DSN) are never logged.

Endpoints: GET / /healthz /metrics /error /upstream, GET and PUT /s3/<key>; JSON answers.
"""
import datetime
import http.client
import json
import os
import signal
import socketserver
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = os.environ.get("SERVICE_NAME") or "app"
JSON_TYPE = "application/json"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_BODY = 64 * 1024 * 1024
UPSTREAM_TIMEOUT = 5

LOG_LOCK = threading.Lock()


class ConfigError(Exception):
    """A setting the app cannot start with."""


def log(level, message, **fields):
    """One JSON object on one line of stdout, flushed."""
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    record = {"@timestamp": stamp.replace("+00:00", "Z"), "log.level": level, "message": message,
              "service": SERVICE}
    record.update(fields)
    line = json.dumps(record) + "\n"
    with LOG_LOCK:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


def port_setting(name, default=None):
    value = os.environ.get(name) or default
    if value is None:
        return None
    try:
        port = int(value)
    except ValueError:
        raise ConfigError(f"{name} is not a port number") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{name} is not a port number")
    return port


def secret(name):
    """The value of NAME, or the stripped content of the file named by NAME_FILE when that is set."""
    path = os.environ.get(name + "_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as error:
            raise ConfigError(f"{name}_FILE cannot be read: {error.strerror}") from None
    return os.environ.get(name) or None


class Metrics:
    """app_requests_total by route, and app_up."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}

    def count(self, route):
        with self.lock:
            self.requests[route] = self.requests.get(route, 0) + 1

    def render(self):
        with self.lock:
            counts = sorted(self.requests.items())
        lines = ["# HELP app_up Whether the app is serving (always 1 when scraped).", "# TYPE app_up gauge",
                 "app_up 1",
                 "# HELP app_requests_total HTTP requests received, by route.",
                 "# TYPE app_requests_total counter"]
        service = label(SERVICE)
        lines += [f'app_requests_total{{service="{service}",path="{label(route)}"}} {count}' for route, count in counts]
        return ("\n".join(lines) + "\n").encode()


def label(value):
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


METRICS = Metrics()


class App:
    """What the environment turned on: Sentry, S3, the upstream."""

    def __init__(self):
        self.sentry = None
        self.s3 = None
        self.bucket = os.environ.get("S3_BUCKET") or None
        self.s3_errors = ()
        self.upstream = os.environ.get("UPSTREAM_URL") or None

    def configure(self):
        dsn = os.environ.get("SENTRY_DSN")
        if dsn:
            import sentry_sdk  # pylint: disable=import-outside-toplevel
            try:
                sentry_sdk.init(dsn=dsn, environment=os.environ.get("SENTRY_ENVIRONMENT") or None)
            except Exception as error:  # pylint: disable=broad-except
                raise ConfigError(f"SENTRY_DSN is not usable: {type(error).__name__}") from None
            self.sentry = sentry_sdk
        if self.bucket:
            # Imported only when used: boto3 takes a while to import.
            import boto3  # pylint: disable=import-outside-toplevel
            from botocore.config import Config  # pylint: disable=import-outside-toplevel
            from botocore.exceptions import BotoCoreError, ClientError  # pylint: disable=import-outside-toplevel
            self.s3 = boto3.client(
                "s3", endpoint_url=os.environ.get("S3_ENDPOINT") or None,
                region_name=os.environ.get("S3_REGION") or "us-east-1",
                aws_access_key_id=secret("AWS_ACCESS_KEY_ID"), aws_secret_access_key=secret("AWS_SECRET_ACCESS_KEY"),
                config=Config(s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=30,
                              retries={"mode": "standard", "max_attempts": 3}))
            self.s3_errors = (ClientError, BotoCoreError)

    def describe(self):
        parts = [f"S3 bucket {self.bucket}" if self.s3 else "no S3", "Sentry on" if self.sentry else "no Sentry",
                 "upstream set" if self.upstream else "no upstream"]
        return ", ".join(parts)


APP = App()


def s3_error(error):
    """'<code>: <message>' of an S3 error answer, or the client's own message (connection, ...)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        return f"{response['Error'].get('Code', 'Unknown')}: {response['Error'].get('Message', '')}"
    return str(error)


def route_of(path):
    """The metrics label of a path: the route, so that keys and unknown paths make no new series."""
    if path.startswith("/s3/"):
        return "/s3/{key}"
    return path if path in ("/", "/healthz", "/metrics", "/error", "/upstream") else "/{unknown}"


class Handler(BaseHTTPRequestHandler):
    server_version = "microops-app/1"
    timeout = 30       # a client that sends nothing for this long is dropped
    routes = {}        # route: {method: handler name}, per listener (see serve())

    def __init__(self, *args, **kwargs):
        self.url_path = None
        self.body = None
        self.close_connection = True  # HTTP/1.0: one request per connection
        super().__init__(*args, **kwargs)

    def do_GET(self):  # pylint: disable=invalid-name
        self.dispatch()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_GET

    def dispatch(self):
        self.url_path = urllib.parse.urlsplit(self.path).path
        route = route_of(self.url_path)
        METRICS.count(route)
        length = self.headers.get("Content-Length")
        if length is not None:
            if not length.isdigit() or int(length) > MAX_BODY:
                self.close_connection = True
                return self.reply(413 if length.isdigit() else 400, {"error": "bad Content-Length"})
            self.body = self.rfile.read(int(length))
        elif self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return self.reply(411, {"error": "Content-Length is required"})
        methods = self.routes.get(route)
        if methods is None:
            return self.reply(404, {"error": f"no such path: {self.url_path}"})
        name = methods.get(self.command)
        if name is None:
            return self.reply(405, {"error": f"{self.command} is not allowed on {route}"},
                              headers=[("Allow", ", ".join(sorted(methods)))])
        try:
            return getattr(self, name)()
        except Exception as error:  # pylint: disable=broad-except
            if APP.sentry:
                APP.sentry.capture_exception(error)
            log("error", f"{self.command} {self.url_path}: {type(error).__name__}: {error}")
            return self.reply(500, {"error": "internal error"})

    def reply(self, status, payload, content_type=JSON_TYPE, headers=()):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code, message=None, explain=None):
        """The base class's errors (malformed request, unknown method) as JSON too."""
        self.close_connection = True
        short = self.responses.get(code, ("error",))[0]
        self.reply(code, {"error": message or short}, headers=[("Connection", "close")])

    def log_request(self, code="-", size="-"):
        try:
            status = int(code)
        except (TypeError, ValueError):
            status = None
        path = self.url_path
        if path is None and getattr(self, "path", None):
            path = urllib.parse.urlsplit(self.path).path
        log("error" if status and status >= 500 else "info", f"{self.command or '-'} {path or '-'} {status}",
            **{"http.request.method": self.command, "url.path": path, "http.response.status_code": status})

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        log("error", format % args, **{"http.request.method": getattr(self, "command", None)})

    # Endpoints

    def get_root(self):
        self.reply(200, {"service": SERVICE, "ok": True})

    def get_healthz(self):
        self.reply(200, {"ok": True})

    def get_metrics(self):
        self.reply(200, METRICS.render(), content_type=METRICS_TYPE)

    def get_error(self):
        if not APP.sentry:
            return self.reply(503, {"error": "SENTRY_DSN is not set"})
        try:
            raise RuntimeError(f"{SERVICE}: GET /error raises this on purpose")
        except RuntimeError as error:
            event_id = APP.sentry.capture_exception(error)
            APP.sentry.flush(timeout=10)
            return self.reply(500, {"event_id": event_id})

    def get_upstream(self):
        if not APP.upstream:
            return self.reply(503, {"error": "UPSTREAM_URL is not set"})
        try:
            try:
                with urllib.request.urlopen(APP.upstream, timeout=UPSTREAM_TIMEOUT) as response:
                    status, raw = response.status, response.read()
            except urllib.error.HTTPError as error:  # an answer all the same
                status, raw = error.code, error.read()
        except (OSError, http.client.HTTPException, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            return self.reply(502, {"error": f"upstream unreachable: {reason}"})
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        return self.reply(200, {"upstream": status, "body": body})

    def s3_key(self):
        return urllib.parse.unquote(self.url_path[len("/s3/"):])

    def put_s3(self):
        if not APP.s3:
            return self.reply(503, {"error": "S3_BUCKET is not set"})
        key = self.s3_key()
        if not key:
            return self.reply(400, {"error": "no key in the path"})
        if self.body is None:
            return self.reply(411, {"error": "Content-Length is required"})
        extra = {"ContentType": self.headers["Content-Type"]} if self.headers.get("Content-Type") else {}
        try:
            answer = APP.s3.put_object(Bucket=APP.bucket, Key=key, Body=self.body, **extra)
        except APP.s3_errors as error:
            return self.reply(502, {"error": s3_error(error)})
        return self.reply(200, {"bucket": APP.bucket, "key": key, "etag": answer.get("ETag", "").strip('"')})

    def get_s3(self):
        if not APP.s3:
            return self.reply(503, {"error": "S3_BUCKET is not set"})
        key = self.s3_key()
        if not key:
            return self.reply(400, {"error": "no key in the path"})
        try:
            answer = APP.s3.get_object(Bucket=APP.bucket, Key=key)
            data = answer["Body"].read()
        except APP.s3_errors as error:
            return self.reply(502, {"error": s3_error(error)})
        return self.reply(200, data, content_type=answer.get("ContentType") or "application/octet-stream")


ROUTES = {
    "/": {"GET": "get_root"},
    "/healthz": {"GET": "get_healthz"},
    "/metrics": {"GET": "get_metrics"},
    "/error": {"GET": "get_error"},
    "/upstream": {"GET": "get_upstream"},
    "/s3/{key}": {"GET": "get_s3", "PUT": "put_s3"},
}
METRICS_ROUTES = {"/metrics": ROUTES["/metrics"]}


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # HTTPServer's own looks its address up in DNS (getfqdn), which may hang; no name is needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        log("error", f"connection from {client_address[0]}: {type(error).__name__}: {error}")


def serve(port, routes):
    handler = type("RoutedHandler", (Handler,), {"routes": routes})
    return Server(("0.0.0.0", port), handler)


def main():
    stop = threading.Event()

    def on_signal(signum, frame):  # pylint: disable=unused-argument
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        port = port_setting("PORT", "8080")
        metrics_port = port_setting("METRICS_PORT")
        APP.configure()
        servers = [serve(port, ROUTES)]
        if metrics_port and metrics_port != port:
            servers.append(serve(metrics_port, METRICS_ROUTES))
    except (ConfigError, OSError) as error:
        log("error", f"not started: {error}")
        return 1
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    also = f", /metrics also on 0.0.0.0:{metrics_port}" if len(servers) > 1 else ""
    log("info", f"listening on 0.0.0.0:{port}{also} ({APP.describe()})")
    stop.wait()
    log("info", "stopping on a signal")
    for server in servers:
        server.shutdown()
        server.server_close()
    if APP.sentry:
        APP.sentry.flush(timeout=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
