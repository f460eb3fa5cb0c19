"""The Filebeat STAND-IN image (microops-test/filebeat-standin, tests/harness/images/filebeat-standin)
running the configuration microops.stack.filebeat_config writes, against real containers' logs and a
small HTTPS bulk receiver written here (it checks what Elasticsearch checks of a data stream write:
basic auth, `create` actions only, the data stream as _index, gzip bodies). These tests run against
the stand-in, not Filebeat (tests/standins/filebeat/README.md). Needs the engine and the images
microops-test/debian:12 and microops-test/filebeat-standin:9.5.6."""

import base64
import datetime
import gzip
import http.server
import json
import os
import ssl
import threading
import time
import uuid

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from _container import docker
from ansible_collections.microops.stack.plugins.filter.filebeat import filebeat_config

IMAGE = "microops-test/filebeat-standin:9.5.6"
PRODUCER_IMAGE = "microops-test/debian:12"
HOST = "host.docker.internal"  # the engine's host-gateway, where the receiver listens
USER, PASSWORD = "microops_filebeat", "writer-pw-1"
STREAM = "logs-microops-development"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="filebeat.yml must be root's, as the role writes it")


def _certificates(directory):
    """A CA and a server certificate for HOST, as the logging role's CA signs Elasticsearch's."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "microops-test CA")])
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    end = start + datetime.timedelta(days=1)
    ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
              .issuer_name(name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(start).not_valid_after(end)
              .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
              .sign(key, hashes.SHA256()))
    paths = {n: os.path.join(directory, n) for n in ("ca.crt", "http.crt", "http.key")}
    with open(paths["ca.crt"], "wb") as handle:
        handle.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["http.crt"], "wb") as handle:
        handle.write(server.public_bytes(serialization.Encoding.PEM))
    with open(paths["http.key"], "wb") as handle:
        handle.write(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    os.chmod(paths["ca.crt"], 0o644)
    return paths


class Receiver(http.server.ThreadingHTTPServer):
    """GET / and POST /_bulk as Elasticsearch answers them for a data stream writer."""

    def __init__(self, certs):
        super().__init__(("0.0.0.0", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certs["http.crt"], certs["http.key"])
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.available = False
        self.docs = []
        self.refused = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorised(self):
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.reply(401, {"error": {"type": "security_exception", "reason": "unable to authenticate"},
                             "status": 401})
            return False
        if not self.server.available:
            with self.server.lock:
                self.server.refused += 1
            self.reply(503, {"error": {"type": "unavailable"}, "status": 503})
            return False
        return True

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.authorised() and self.path == "/":
            self.reply(200, {"name": "receiver", "version": {"number": "9.5.6"}, "tagline": "You Know, for Search"})

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not self.authorised():
            return
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        lines = body.decode().splitlines()
        items = []
        for action_line, doc_line in zip(lines[0::2], lines[1::2]):
            action, meta = next(iter(json.loads(action_line).items()))
            if action != "create" or meta.get("_index") != STREAM:
                items.append({action: {"status": 400, "error": {
                    "type": "illegal_argument_exception",
                    "reason": "only write ops with an op_type of create are allowed in data streams"}}})
                continue
            with self.server.lock:
                self.server.docs.append(json.loads(doc_line))
            items.append({"create": {"_index": ".ds-" + STREAM, "status": 201, "result": "created"}})
        self.reply(200, {"errors": any(i[next(iter(i))]["status"] >= 300 for i in items), "took": 1, "items": items})


@pytest.fixture(name="setup")
def setup_fixture(tmp_path):
    certs = _certificates(str(tmp_path))
    receiver = Receiver(certs)
    names = []
    volume = f"microops-standin-filebeat-{uuid.uuid4().hex[:8]}"
    docker("volume", "create", volume)
    yield {"tmp": tmp_path, "certs": certs, "receiver": receiver, "names": names, "volume": volume}
    for name in names:
        docker("rm", "-f", name, check=False)
    docker("volume", "rm", "-f", volume, check=False)
    receiver.shutdown()


def _write_config(setup, own, mode=0o600, changes=None):
    options = {"hosts": [f"https://{HOST}:{setup['receiver'].server_address[1]}"], "username": USER,
               "password": PASSWORD, "ca_path": "/usr/share/filebeat/certs/ca.crt", "data_stream": STREAM,
               "environment": "development", "host_name": "web-1", "queue_max_size": "64MB",
               "own_container": own}
    config = filebeat_config(options)
    config.update(changes or {})
    path = setup["tmp"] / f"filebeat-{own}.yml"
    path.write_text(yaml.safe_dump(config, default_flow_style=False), encoding="utf-8")
    path.chmod(mode)
    return str(path)


def _filebeat_args(setup, name, config):
    return ["--name", name, "--user", "root", "--add-host", f"{HOST}:host-gateway",
            "-v", "/var/lib/docker/containers:/var/lib/docker/containers:ro",
            "-v", "/var/run/docker.sock:/var/run/docker.sock:ro",
            "-v", f"{config}:/usr/share/filebeat/filebeat.yml:ro",
            "-v", f"{setup['certs']['ca.crt']}:/usr/share/filebeat/certs/ca.crt:ro",
            "-v", f"{setup['volume']}:/usr/share/filebeat/data", IMAGE]


def _produce(setup, text, label=None):
    name = f"microops-fb-producer-{uuid.uuid4().hex[:8]}"
    setup["names"].append(name)
    args = ["run", "-d", "--name", name]
    if label:
        args += ["--label", f"com.microops.service={label}"]
    docker(*args, PRODUCER_IMAGE, "sh", "-c", f"echo {text}; echo {text}-err >&2")
    return name


def _docs_of(receiver, name):
    with receiver.lock:
        return [doc for doc in receiver.docs if (doc.get("container") or {}).get("name") == name]


def _wait(predicate, what, timeout=90):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"STAND-IN filebeat: {what} within {timeout} s")
        time.sleep(0.5)


def test_standin_ships_container_logs_with_service_host_environment(setup):
    receiver = setup["receiver"]
    fb = f"microops-fb-{uuid.uuid4().hex[:8]}"
    labelled = _produce(setup, "hello-from-webshop", label="webshop")
    plain = _produce(setup, "hello-plain")
    setup["names"].append(fb)
    docker("run", "-d", *_filebeat_args(setup, fb, _write_config(setup, fb)))

    # Elasticsearch unreachable at first: the events wait in the disk queue, Filebeat retries.
    _wait(lambda: receiver.refused >= 1, "retrying while Elasticsearch answers 503")
    assert receiver.docs == []
    queued = docker("exec", fb, "sh", "-c", "wc -c < /usr/share/filebeat/data/diskqueue/standin-queue.ndjson").stdout
    assert int(queued) > 0
    receiver.available = True

    _wait(lambda: len(_docs_of(receiver, labelled)) == 2 and len(_docs_of(receiver, plain)) == 2,
          "both producers' stdout and stderr lines arrive")
    docs = {doc["message"]: doc for doc in _docs_of(receiver, labelled) + _docs_of(receiver, plain)}
    assert set(docs) == {"hello-from-webshop", "hello-from-webshop-err", "hello-plain", "hello-plain-err"}
    web, other = docs["hello-from-webshop"], docs["hello-plain-err"]
    assert web["service"]["name"] == "webshop" and web["stream"] == "stdout"
    assert other["service"]["name"] == plain and other["stream"] == "stderr"  # no label: the container name
    for doc in docs.values():
        assert doc["host"]["name"] == "web-1"
        assert doc["labels"]["environment"] == "development"
        assert doc["data_stream"] == {"type": "logs", "dataset": "microops", "namespace": "development"}
        assert doc["agent"]["name"] == "web-1" and doc["input"]["type"] == "filestream"
        assert doc["log"]["file"]["path"].startswith("/var/lib/docker/containers/")
    assert web["container"]["labels"]["com_microops_service"] == "webshop"
    # Filebeat's own stderr is a container log too: never shipped.
    assert "filebeat start running" in docker("logs", fb).stderr
    assert _docs_of(receiver, fb) == []

    # A restart resends nothing (registry), and new lines still arrive.
    docker("restart", "-t", "10", fb)
    late = _produce(setup, "after-restart")
    _wait(lambda: len(_docs_of(receiver, late)) == 2, "a line written after the restart arrives")
    time.sleep(3)
    assert len(_docs_of(receiver, labelled)) == 2 and len(_docs_of(receiver, plain)) == 2
    assert _docs_of(receiver, fb) == []


@pytest.mark.parametrize("case, message", [
    ("group-writable", 'can only be writable by the owner but the permissions are "-rw-rw-r--"'),
    ("container-input", "Found container input configuration: Container input is deprecated"),
    ("no-id", "filestream inputs validation error: input without ID"),
    ("template", "setup.template.name and setup.template.pattern have to be set if index name is modified"),
])
def test_standin_refuses_what_filebeat_refuses(setup, case, message):
    fb = f"microops-fb-{uuid.uuid4().hex[:8]}"
    changes = {}
    config = filebeat_config({"hosts": ["https://x:9200"], "username": "u", "password": "p", "ca_path": "/c",
                              "data_stream": STREAM, "environment": "development", "host_name": "h",
                              "queue_max_size": "1GB"})
    if case == "container-input":
        changes["filebeat"] = {"inputs": [dict(config["filebeat"]["inputs"][0], type="container")]}
    if case == "no-id":
        changes["filebeat"] = {"inputs": [{k: v for k, v in config["filebeat"]["inputs"][0].items() if k != "id"}]}
    if case == "template":
        changes["setup"] = {"ilm": {"enabled": False}}
    path = _write_config(setup, fb, mode=0o664 if case == "group-writable" else 0o600, changes=changes)
    setup["names"].append(fb)
    result = docker("run", *_filebeat_args(setup, fb, path), check=False)
    assert result.returncode == 1
    assert message in result.stderr
    assert "microops-test Filebeat STAND-IN 9.5.6, not Filebeat" in result.stderr
