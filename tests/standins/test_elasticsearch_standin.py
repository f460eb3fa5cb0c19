"""The Elasticsearch STAND-IN image (microops-test/elasticsearch-standin:9.5.6,
tests/harness/images/elasticsearch-standin): TLS, authentication and privileges, the security API,
ILM, templates, data streams, search, keystore reloads, S3 snapshots (to moto's real S3 server from
the venv) and state across restarts. These tests run against the stand-in, not Elasticsearch; the
exporter test runs the REAL exporter (microops-test/elasticsearch-exporter:1.9, Debian's build)
against it. Needs the engine and images from tests/harness/up."""

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from _container import StandInContainer, basic_auth, docker

IMAGE = "microops-test/elasticsearch-standin:9.5.6"
EXPORTER = "microops-test/elasticsearch-exporter:1.9"
ELASTIC_PW = "elastic-standin-pw"
WRITER = {"cluster": ["monitor", "read_ilm", "read_pipeline"],
          "indices": [{"names": ["logs-microops-*"], "privileges": ["create_doc", "auto_configure"]}]}
READER = {"cluster": ["monitor"], "indices": [{"names": ["logs-*"], "privileges": ["read", "view_index_metadata"]}]}
EXPORTER_ROLE = {"cluster": ["monitor"], "indices": [{"names": ["*"], "privileges": ["monitor"]}]}
POLICY = {"policy": {"phases": {"hot": {"actions": {"rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}}},
                                "delete": {"min_age": "7d", "actions": {"delete": {}}}}}}
TEMPLATE = {"index_patterns": ["logs-microops-*"], "data_stream": {}, "priority": 300, "composed_of": [],
            "template": {"settings": {"index.lifecycle.name": "microops-logs-local", "index.number_of_replicas": 0},
                         "mappings": {"properties": {"service": {"type": "keyword"}}}}}
ENV = {"discovery.type": "single-node", "cluster.name": "microops", "node.name": "log1", "network.host": "0.0.0.0",
       "ES_JAVA_OPTS": "-Xms256m -Xmx256m", "ELASTIC_PASSWORD": ELASTIC_PW, "xpack.security.enabled": "true",
       "xpack.security.http.ssl.enabled": "true", "xpack.security.http.ssl.key": "certs/http.key",
       "xpack.security.http.ssl.certificate": "certs/http.crt",
       "xpack.security.http.ssl.certificate_authorities": "certs/ca.crt",
       "xpack.security.transport.ssl.enabled": "true", "xpack.security.transport.ssl.verification_mode": "certificate",
       "xpack.security.transport.ssl.key": "certs/http.key", "xpack.security.transport.ssl.certificate": "certs/http.crt",
       "xpack.security.transport.ssl.certificate_authorities": "certs/ca.crt",
       "s3.client.default.path_style_access": "true", "s3.client.default.region": "us-east-1"}


def make_certs(directory):
    """A CA and a server certificate for elasticsearch/localhost/127.0.0.1, as the role generates them."""
    def run(*args):
        return subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=microops test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "http.key", "-out", "http.csr", "-subj", "/CN=elasticsearch")
    with open(os.path.join(directory, "ext.cnf"), "w", encoding="ascii") as handle:
        handle.write("subjectAltName=DNS:elasticsearch,DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "http.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "http.crt",
        "-days", "2", "-extfile", "ext.cnf")
    for name in os.listdir(directory):
        os.chmod(os.path.join(directory, name), 0o644)
    os.chmod(directory, 0o755)
    return directory


class StandIn(StandInContainer):
    """One container of the Elasticsearch stand-in, HTTPS port published on loopback."""

    PRODUCT = "elasticsearch"
    IMAGE = IMAGE
    PORT = 9200
    DATA = "/usr/share/elasticsearch/data"
    CERTS = None  # set by the fixture
    ALIAS = None

    def __init__(self, volume=None, env=None, mounts=(), network=None):
        super().__init__(volume, dict(ENV) if env is None else env,
                         mounts or (f"{self.CERTS}:/usr/share/elasticsearch/config/certs:ro",), network)

    def run(self, wait=True):
        if self.own_volume:
            docker("volume", "create", self.volume)
        args = ["run", "-d", "--name", self.name, "-p", f"127.0.0.1::{self.PORT}", "-v", f"{self.volume}:{self.DATA}"]
        if self.network:
            args += ["--network", self.network, "--network-alias", "elasticsearch"]
        for key, value in self.env.items():
            args += ["-e", f"{key}={value}"]
        for mount in self.mounts:
            args += ["-v", mount]
        docker(*args, self.IMAGE)
        if wait:
            self.wait_ready()
        return self

    def remove_container_only(self):
        docker("rm", "-f", self.name, check=False)

    def context(self):
        return ssl.create_default_context(cafile=os.path.join(self.CERTS, "ca.crt"))

    def wait_ready(self):
        port = docker("port", self.name, f"{self.PORT}/tcp").stdout.split(":")[-1].strip()
        self.base = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                self.call("GET", "/", auth=None)
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"elasticsearch stand-in not ready on {self.base}:\n{self.logs()}")
            time.sleep(0.3)

    def call(self, method, path, body=None, auth=("elastic", ELASTIC_PW), raw=None, headers=None):
        """(status, parsed JSON or text); auth: (user, password), a header value, or None."""
        headers = dict(headers or {})
        if isinstance(auth, tuple):
            headers["Authorization"] = basic_auth(*auth)
        elif auth:
            headers["Authorization"] = auth
        data = raw.encode() if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/x-ndjson" if raw is not None else "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60, context=self.context()) as response:
                text, status, self.last_headers = response.read().decode(), response.status, response.headers
        except urllib.error.HTTPError as exc:
            text, status, self.last_headers = exc.read().decode(), exc.code, exc.headers
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text


@pytest.fixture(name="certs", scope="module")
def certs_fixture(tmp_path_factory):
    directory = make_certs(str(tmp_path_factory.mktemp("es-certs")))
    StandIn.CERTS = directory
    return directory


@pytest.fixture(name="es", scope="module")
def es_fixture(certs):
    """One shared node for the API tests (few containers on this machine)."""
    node = StandIn()
    try:
        node.run()
        yield node
    finally:
        node.remove()


def bulk_lines(*pairs):
    return "".join(json.dumps(line) + "\n" for pair in pairs for line in pair)


def doc(service="api"):
    return {"@timestamp": "2026-12-03T10:00:00Z", "service": service, "message": "hello"}


def setup_identities(es):
    for name, role in (("microops_logs_writer", WRITER), ("microops_logs_reader", READER),
                       ("microops_exporter", EXPORTER_ROLE)):
        assert es.call("PUT", f"/_security/role/{name}", role)[0] == 200
    for user, role in (("microops_filebeat", "microops_logs_writer"), ("microops_grafana", "microops_logs_reader"),
                       ("microops_exporter", "microops_exporter")):
        assert es.call("PUT", f"/_security/user/{user}", {"password": user + "-pw", "roles": [role]}) == (
            200, {"created": True})
    assert es.call("PUT", "/_ilm/policy/microops-logs-local", POLICY) == (200, {"acknowledged": True})
    assert es.call("PUT", "/_index_template/microops-logs", TEMPLATE) == (200, {"acknowledged": True})


def test_standin_tls_banner_and_anonymous_refused(es):
    status, body = es.call("GET", "/")
    assert status == 200 and body["version"]["number"] == "9.5.6" and body["cluster_name"] == "microops"
    assert "microops-test Elasticsearch STAND-IN, not Elasticsearch" in es.logs()
    # The server certificate is trusted only through the generated CA.
    with pytest.raises(urllib.error.URLError) as info:
        urllib.request.urlopen(es.base + "/", timeout=10, context=ssl.create_default_context())
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)
    status, body = es.call("GET", "/_cluster/health", auth=None)
    reason = "missing authentication credentials for REST request [/_cluster/health]"
    assert status == 401 and body["error"]["type"] == "security_exception" and body["error"]["reason"] == reason
    assert body["error"]["root_cause"][0]["reason"] == reason and body["status"] == 401
    assert 'Basic realm="security", charset="UTF-8"' in es.last_headers.get_all("WWW-Authenticate")
    status, body = es.call("GET", "/", auth=("elastic", "wrong-password"))
    assert status == 401 and body["error"]["reason"] == "unable to authenticate user [elastic] for REST request [/]"
    status, body = es.call("GET", "/_security/_authenticate")
    assert body["username"] == "elastic" and body["roles"] == ["superuser"]
    assert body["authentication_realm"] == {"name": "reserved", "type": "reserved"}


def test_standin_identities_and_data_stream(es):
    setup_identities(es)
    writer, reader = ("microops_filebeat", "microops_filebeat-pw"), ("microops_grafana", "microops_grafana-pw")
    # Writer: create-only bulk into its data stream, auto-created from the template.
    status, body = es.call("POST", "/_bulk", raw=bulk_lines(({"create": {"_index": "logs-microops-local"}}, doc())),
                           auth=writer)
    assert status == 200 and body["errors"] is False, body
    item = body["items"][0]["create"]
    assert item["status"] == 201 and item["_index"].startswith(".ds-logs-microops-local-")
    assert item["_index"].endswith("-000001")
    # `index` on a data stream (even as elastic); for the writer, `index` is not create_doc (403 first).
    status, body = es.call("POST", "/logs-microops-local/_bulk", raw=bulk_lines(({"index": {}}, doc())))
    assert body["items"][0]["index"]["status"] == 400 and body["items"][0]["index"]["error"]["reason"] == (
        "only write ops with an op_type of create are allowed in data streams")
    # A document without @timestamp, another data stream, `index`: item errors.
    status, body = es.call("POST", "/logs-microops-local/_bulk", auth=writer, raw=bulk_lines(
        ({"index": {}}, doc()), ({"create": {}}, {"message": "no timestamp"}),
        ({"create": {"_index": "logs-other-local"}}, doc())))
    assert status == 200 and body["errors"] is True
    first, second, third = (next(iter(i.values())) for i in body["items"])
    assert first["status"] == 403 and first["error"]["type"] == "security_exception"
    assert second["status"] == 400 and "[@timestamp] is missing" in second["error"]["reason"]
    assert third["status"] == 403 and third["error"]["type"] == "security_exception"
    # Writer cannot read.
    status, body = es.call("GET", "/logs-microops-local/_search", auth=writer)
    assert status == 403 and body["error"]["reason"] == (
        "action [indices:data/read/search] is unauthorized for user [microops_filebeat] with effective roles "
        "[microops_logs_writer] on indices [logs-microops-local], this action is granted by the index privileges "
        "[read,all]")
    # Reader reads (term on a keyword), cannot write, cannot manage.
    status, body = es.call("POST", "/logs-*/_search", {"query": {"term": {"service": "api"}}, "size": 5}, auth=reader)
    assert status == 200 and body["hits"]["total"] == {"value": 1, "relation": "eq"}
    assert body["hits"]["hits"][0]["_source"]["message"] == "hello"
    assert es.call("GET", "/logs-microops-local/_count", auth=reader)[1]["count"] == 1
    status, body = es.call("POST", "/_bulk", auth=reader,
                           raw=bulk_lines(({"create": {"_index": "logs-microops-local"}}, doc())))
    assert body["errors"] is True and body["items"][0]["create"]["status"] == 403
    status, body = es.call("PUT", "/_ilm/policy/x", POLICY, auth=reader)
    assert status == 403 and "this action is granted by the cluster privileges [manage_ilm,manage,all]" in (
        body["error"]["reason"])
    # The data stream shows its template and ILM policy; the backing index is managed by it.
    status, body = es.call("GET", "/_data_stream/logs-microops-local", auth=reader)
    stream = body["data_streams"][0]
    assert stream["template"] == "microops-logs" and stream["ilm_policy"] == "microops-logs-local"
    assert stream["status"] == "GREEN"
    status, body = es.call("GET", "/logs-microops-local/_ilm/explain")
    (explained,) = body["indices"].values()
    assert explained["managed"] is True and explained["policy"] == "microops-logs-local"
    assert es.call("GET", "/_cluster/health", auth=("microops_exporter", "microops_exporter-pw"))[1]["status"] == "green"


def test_standin_templates(es):
    status, body = es.call("GET", "/_index_template/logs")
    builtin = body["index_templates"][0]["index_template"]
    assert builtin["index_patterns"] == ["logs-*-*"] and builtin["priority"] == 100 and "data_stream" in builtin
    status, body = es.call("PUT", "/_index_template/clash", {"index_patterns": ["logs-micro*"], "priority": 100})
    assert status == 400 and body["error"]["type"] == "illegal_argument_exception"
    assert body["error"]["reason"] == (
        "index template [clash] has index patterns [logs-micro*] matching patterns from existing templates [logs] "
        "with patterns (logs => [logs-*-*]) that have the same priority [100], multiple index templates may not "
        "match during index creation, please use a different priority")
    status, body = es.call("GET", "/_index_template/nothing")
    assert status == 404 and body["error"]["reason"] == "index template matching [nothing] not found"


def test_standin_ilm_validation(es):
    def put(phases):
        return es.call("PUT", "/_ilm/policy/bad", {"policy": {"phases": phases}})
    status, body = put({"hot": {"actions": {"explode": {}}}})
    assert status == 400 and body["error"]["type"] == "x_content_parse_exception"
    inner = body["error"]["caused_by"]["caused_by"]["caused_by"]
    assert inner["type"] == "named_object_not_found_exception" and inner["reason"].endswith("unknown field [explode]")
    status, body = put({"delete": {"actions": {"rollover": {"max_age": "1d"}}}})
    assert status == 400 and body["error"]["reason"] == "invalid action [rollover] defined in phase [delete]"
    status, body = put({"delete": {"min_age": "7x", "actions": {"delete": {}}}})
    assert status == 400 and "failed to parse setting [min_age] with value [7x] as a time value" in json.dumps(body)
    status, body = put({"hot": {"actions": {"rollover": {}}}})
    assert status == 400 and body["error"]["reason"] == "At least one max_* rollover condition must be set."
    assert es.call("GET", "/_ilm/policy/bad")[0] == 404


def test_standin_service_token(es):
    status, body = es.call("POST", "/_security/service/elastic/kibana/credential/token/microops-kibana")
    assert status == 200 and body["created"] is True
    token = body["token"]["value"]
    status, who = es.call("GET", "/_security/_authenticate", auth="Bearer " + token)
    assert status == 200 and who["username"] == "elastic/kibana" and who["token"]["name"] == "microops-kibana"
    assert es.call("POST", "/_security/service/elastic/kibana/credential/token/microops-kibana")[0] == 409
    status, body = es.call("GET", "/_security/service/elastic/kibana/credential")
    assert body["count"] == 1 and "microops-kibana" in body["tokens"]
    assert es.call("GET", "/", auth="Bearer " + token[:-2] + "xx")[0] == 401


@pytest.mark.parametrize("change,message", [
    ({"foo.bar": "1"}, "unknown setting [foo.bar] please check that any required plugins are installed"),
    ({"ES_JAVA_OPTS": "-Xms256m -Xmx512m"}, "initial heap size [256m] not equal to maximum heap size [512m]"),
    ({"xpack.security.http.ssl.key": "/etc/ssl/private/http.key"}, "access to read the file is blocked"),
    ({"xpack.security.http.ssl.certificate": "certs/missing.crt"}, "because the file does not exist"),
    ({"s3.client.default.access_key": "x"}, "is a secure setting and must be stored inside the Elasticsearch keystore"),
])
def test_standin_refuses_bad_settings(certs, change, message):
    node = StandIn(env={**ENV, **change})
    try:
        node.run(wait=False)
        assert docker("wait", node.name).stdout.strip() == "1"
        assert message in node.logs()
    finally:
        node.remove()


def free_port():
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return sock.getsockname()[1]


@pytest.fixture(name="s3", scope="module")
def s3_fixture():
    """moto's S3 server (the venv's moto_server: a real S3 API server), reached from containers through the
    default bridge's gateway."""
    port = free_port()
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "0.0.0.0", "-p",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config = json.loads(docker("network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}").stdout)[0]
    # No Gateway field when the engine picked it itself: the subnet's first address.
    gateway = config.get("Gateway") or config["Subnet"].split("/")[0].rsplit(".", 1)[0] + ".1"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    import boto3  # pylint: disable=import-outside-toplevel
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="k",
                          aws_secret_access_key="s", region_name="us-east-1")
    client.create_bucket(Bucket="microops-elasticsearch-snapshots")
    yield f"http://{gateway}:{port}", client
    server.terminate()
    server.wait()


def keystore_add(node, name, value):
    result = docker("exec", "-i", node.name, "bin/elasticsearch-keystore", "add", "--stdin", "--force", name,
                    stdin=value + "\n")
    assert result.returncode == 0, result.stderr


def test_standin_keystore_reload_snapshot_restore_and_restart(certs, s3):
    endpoint, client = s3
    repo = {"type": "s3", "settings": {"bucket": "microops-elasticsearch-snapshots", "client": "default",
                                       "base_path": "microops"}}
    node = StandIn(env={**ENV, "s3.client.default.endpoint": endpoint})
    try:
        node.run()
        listed = docker("exec", node.name, "bin/elasticsearch-keystore", "list").stdout.split()
        assert listed == ["bootstrap.password", "keystore.seed"]
        setup_identities(node)
        node.call("POST", "/_bulk", raw=bulk_lines(({"create": {"_index": "logs-microops-local"}}, doc("db"))),
                  auth=("microops_filebeat", "microops_filebeat-pw"))
        # No credentials yet: the repository cannot be verified.
        status, body = node.call("PUT", "/_snapshot/microops-s3", repo)
        assert status == 500 and body["error"]["type"] == "repository_verification_exception"
        # In the keystore but not reloaded: still not seen.
        keystore_add(node, "s3.client.default.access_key", "standin-access")
        keystore_add(node, "s3.client.default.secret_key", "standin-secret")
        assert node.call("PUT", "/_snapshot/microops-s3", repo)[0] == 500
        status, body = node.call("POST", "/_nodes/reload_secure_settings")
        assert status == 200 and body["_nodes"]["successful"] == 1
        status, body = node.call("PUT", "/_snapshot/microops-s3", repo)
        assert (status, body) == (200, {"acknowledged": True}), body
        assert node.call("POST", "/_snapshot/microops-s3/_verify")[0] == 200
        assert node.call("PUT", "/_slm/policy/microops-nightly", {
            "schedule": "0 30 1 * * ?", "name": "<microops-snap-{now/d}>", "repository": "microops-s3",
            "config": {"indices": ["*"], "include_global_state": True},
            "retention": {"expire_after": "30d", "min_count": 5, "max_count": 50}}) == (200, {"acknowledged": True})
        status, body = node.call("PUT", "/_snapshot/microops-s3/snap-1?wait_for_completion=true",
                                 {"indices": "logs-microops-*", "include_global_state": True})
        assert status == 200 and body["snapshot"]["state"] == "SUCCESS"
        assert body["snapshot"]["data_streams"] == ["logs-microops-local"]
        keys = [o["Key"] for o in client.list_objects_v2(Bucket="microops-elasticsearch-snapshots")["Contents"]]
        assert "microops/index.latest" in keys and not any("tests-" in k for k in keys)
        # Restore refused while the data stream exists; restored once deleted.
        status, body = node.call("POST", "/_snapshot/microops-s3/snap-1/_restore?wait_for_completion=true",
                                 {"indices": "logs-microops-local"})
        assert status == 500 and body["error"]["type"] == "snapshot_restore_exception"
        assert node.call("DELETE", "/_data_stream/logs-microops-local") == (200, {"acknowledged": True})
        assert node.call("POST", "/_snapshot/microops-s3/snap-1/_restore?wait_for_completion=true",
                         {"indices": "logs-microops-local"})[0] == 200
        assert node.call("GET", "/logs-microops-local/_count")[1]["count"] == 1
        status, body = node.call("POST", "/_slm/policy/microops-nightly/_execute")
        assert status == 200 and body["snapshot_name"].startswith("microops-snap-")
        assert node.call("GET", "/_snapshot/microops-s3/_all")[1]["total"] == 2
        # A document written after the last full save is kept in the journal only.
        node.call("POST", "/_bulk", raw=bulk_lines(({"create": {"_index": "logs-microops-local"}}, doc("web"))),
                  auth=("microops_filebeat", "microops_filebeat-pw"))
        # Restart: state kept (the journal replayed), keystore credentials read again at start.
        node.restart()
        assert node.call("GET", "/logs-microops-local/_count")[1]["count"] == 2
        assert node.call("GET", "/_security/user/microops_grafana")[0] == 200
        assert node.call("POST", "/_snapshot/microops-s3/_verify")[0] == 200
        node.remove_container_only()
        # A new container on the same volume with another ELASTIC_PASSWORD: first-start only, not applied.
        again = StandIn(volume=node.volume, env={**ENV, "ELASTIC_PASSWORD": "another-password"})
        again.own_volume = False
        try:
            again.run()
            assert again.call("GET", "/")[0] == 200
            assert again.call("GET", "/", auth=("elastic", "another-password"))[0] == 401
            assert again.call("GET", "/_ilm/policy/microops-logs-local")[0] == 200
        finally:
            again.remove()
    finally:
        node.remove()


def test_standin_real_exporter_reports_health(certs):
    network = f"microops-standin-net-{uuid.uuid4().hex[:8]}"
    docker("network", "create", network)
    node = StandIn(network=network)
    exporter = f"microops-standin-exporter-{uuid.uuid4().hex[:8]}"
    try:
        node.run()
        setup_identities(node)
        docker("run", "-d", "--name", exporter, "--network", network, "-p", "127.0.0.1::9114",
               "-v", f"{StandIn.CERTS}/ca.crt:/certs/ca.crt:ro", "-e", "ES_USERNAME=microops_exporter",
               "-e", "ES_PASSWORD=microops_exporter-pw", EXPORTER, "--es.uri=https://elasticsearch:9200",
               "--es.ca=/certs/ca.crt", "--web.listen-address=:9114")
        port = docker("port", exporter, "9114/tcp").stdout.split(":")[-1].strip()
        deadline, text = time.monotonic() + 30, ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
                    text = response.read().decode()
                if 'elasticsearch_cluster_health_status{cluster="microops",color="green"} 1' in text:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert 'elasticsearch_cluster_health_status{cluster="microops",color="green"} 1' in text, (
            text[-2000:] + docker("logs", exporter, check=False).stdout)
        assert re.search(r"^elasticsearch_clusterinfo_up\{[^}]*\} 1$", text, re.M), text[-2000:]
        # Exporter 1.9 has no elasticsearch_cluster_health_up (removed in 1.7): see the README.
        assert "elasticsearch_cluster_health_up" not in text
        logs = docker("logs", exporter, check=False)
        assert "failed to fetch and decode" not in logs.stdout + logs.stderr
    finally:
        docker("rm", "-f", exporter, check=False)
        node.remove()
        docker("network", "rm", network, check=False)
