"""One container of a stand-in image with its port published on loopback and its data on a named
volume, a bounded readiness wait, the requests it logged, and cleanup. Each stand-in test module
subclasses StandInContainer (or GrafanaStandIn) and names it StandIn; the fixtures in conftest.py
use that class. tests/integration and benchmarks/ use the same classes; nothing here needs pytest."""

import base64
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
import uuid


def docker(*args, check=True, stdin=None):
    return subprocess.run(["docker", *args], input=stdin, capture_output=True, text=True, check=check, timeout=120)


def basic_auth(user, password):
    """The Authorization header value of HTTP basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class StandInContainer:
    PRODUCT = ""      # for names and messages: "minio", "grafana"
    IMAGE = ""
    PORT = 0          # the port published on loopback
    DATA = ""         # where the volume is mounted
    READY_PATH = ""   # answers 200 without credentials once the server is ready
    ARGS = ()         # arguments after the image
    DEFAULT_ENV = {}
    # One line of the access log in `docker logs`, groups (method, path, status); None: not parsed.
    # The MinIO stand-in's S3 port logs werkzeug's unprefixed lines, which requests() does not read.
    REQUEST_LINE = None

    def __init__(self, volume=None, env=None, mounts=(), network=None, host_port=None):
        """volume: a named volume the caller manages; None: one of this container's own, created by
        run() and removed by remove(). host_port: the loopback port to publish on; None: any free one."""
        self.name = f"microops-standin-{self.PRODUCT}-{uuid.uuid4().hex[:8]}"
        self.own_volume = volume is None
        self.volume = self.name if volume is None else volume
        self.env = env if env is not None else self.default_env()
        self.mounts = mounts
        self.network = network
        self.host_port = host_port
        self.base = None

    def default_env(self):
        """The environment when the caller gives none."""
        return dict(self.DEFAULT_ENV)

    def run(self, wait=True):
        if self.own_volume:
            docker("volume", "create", self.volume)
        args = ["run", "-d", "--name", self.name, "-p", f"127.0.0.1:{self.host_port or ''}:{self.PORT}",
                "-v", f"{self.volume}:{self.DATA}"]
        if self.network:
            args += ["--network", self.network]
        for key, value in self.env.items():
            args += ["-e", f"{key}={value}"]
        for mount in self.mounts:
            args += ["-v", mount]
        docker(*args, self.IMAGE, *self.ARGS)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        port = docker("port", self.name, f"{self.PORT}/tcp").stdout.split(":")[-1].strip()
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.base + self.READY_PATH, timeout=5) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.PRODUCT} stand-in not ready on {self.base} within 30 s:\n{self.logs()}")
            time.sleep(0.3)

    def restart(self):
        docker("restart", "-t", "10", self.name)
        self.wait_ready()

    def logs(self):
        result = docker("logs", self.name, check=False)
        return result.stdout + result.stderr

    def requests(self):
        """The requests the stand-in logged so far, as (method, path, status), in order."""
        if self.REQUEST_LINE is None:
            raise NotImplementedError(f"the {self.PRODUCT} stand-in's access log is not parsed (no REQUEST_LINE)")
        found = []
        for line in self.logs().splitlines():
            match = self.REQUEST_LINE.match(line)
            if match:
                found.append((match.group(1), match.group(2), int(match.group(3))))
        return found

    def remove(self):
        """The container, and the volume when it is the container's own."""
        docker("rm", "-f", self.name, check=False)
        if self.own_volume:
            docker("volume", "rm", "-f", self.volume, check=False)


class GrafanaStandIn(StandInContainer):
    """One container of the Grafana stand-in (tests/standins/grafana/README.md), port 3000 published
    on loopback, with a client of its HTTP API. Callers set ADMIN_PASSWORD in a subclass."""

    PRODUCT = "grafana"
    IMAGE = "microops-test/grafana-standin:13.2.0"
    PORT = 3000
    DATA = "/var/lib/grafana"
    READY_PATH = "/api/health"
    ADMIN_PASSWORD = "admin"  # Grafana's default; set on the first start only
    # BaseHTTPRequestHandler's access log, prefixed by the stand-in's log().
    REQUEST_LINE = re.compile(r'^grafana-standin: \S+ "(GET|POST|PUT|DELETE|HEAD|PATCH) (\S+) HTTP/1\.[01]" (\d+)')

    def __init__(self, volume=None, env=None, mounts=(), network=None):
        super().__init__(volume, env, mounts, network)
        self.auth = basic_auth("admin", self.ADMIN_PASSWORD)

    def default_env(self):
        return {"GF_SECURITY_ADMIN_PASSWORD": self.ADMIN_PASSWORD}

    def call(self, method, path, body=None, auth="default", headers=None):
        """(status, parsed JSON), or (status, (text, Content-Type)) when the body is not JSON.
        auth: an Authorization value, "default" for the admin's basic auth, None for none."""
        headers = dict(headers or {})
        if auth == "default":
            auth = self.auth
        if auth:
            headers["Authorization"] = auth
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw, status, ctype = response.read().decode(), response.status, response.headers.get("Content-Type")
        except urllib.error.HTTPError as exc:
            raw, status, ctype = exc.read().decode(), exc.code, exc.headers.get("Content-Type")
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, (raw, ctype)
