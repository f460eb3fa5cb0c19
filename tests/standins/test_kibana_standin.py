"""The Kibana STAND-IN image (microops-test/kibana-standin:9.5.6, tests/harness/images/kibana-standin):
settings from the environment as kibana-docker maps them, the `elastic` user refused, the connection
to Elasticsearch over TLS with the CA and a service token, /api/status, kbn-xsrf, data views, state
across restarts. These tests run against the stand-in (and the Elasticsearch stand-in), not Kibana.
Needs the engine and images from tests/harness/up."""

import json
import os
import time
import urllib.error
import urllib.request
import uuid

import pytest

from _container import StandInContainer, basic_auth, docker
from test_elasticsearch_standin import ELASTIC_PW, StandIn as ElasticsearchStandIn, make_certs

IMAGE = "microops-test/kibana-standin:9.5.6"
KEY = "k" * 32
VIEW = {"data_view": {"id": "microops-logs", "title": "logs-microops-*", "name": "Stack logs",
                      "timeFieldName": "@timestamp"}}


class StandIn(StandInContainer):
    PRODUCT = "kibana"
    IMAGE = IMAGE
    PORT = 5601
    DATA = "/usr/share/kibana/data"
    CA = None

    def __init__(self, volume=None, env=None, mounts=(), network=None):
        super().__init__(volume, env, mounts or (f"{self.CA}:/usr/share/kibana/config/certs/ca.crt:ro",), network)

    def wait_ready(self, status=200):
        port = docker("port", self.name, f"{self.PORT}/tcp").stdout.split(":")[-1].strip()
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.call("GET", "/api/status")[0] == status:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"kibana stand-in not at {status} on {self.base}:\n{self.logs()}")
            time.sleep(0.5)

    def call(self, method, path, body=None, auth=("elastic", ELASTIC_PW), xsrf=True):
        headers = {"kbn-xsrf": "true"} if xsrf else {}
        if auth:
            headers["Authorization"] = basic_auth(*auth)
        data = json.dumps(body).encode() if body is not None else None
        if data:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                text, status = response.read().decode(), response.status
        except urllib.error.HTTPError as exc:
            text, status = exc.read().decode(), exc.code
        return status, json.loads(text) if text else ""


@pytest.fixture(name="pair", scope="module")
def pair_fixture(tmp_path_factory):
    """An Elasticsearch stand-in with a kibana service token, on a network of its own."""
    certs = make_certs(str(tmp_path_factory.mktemp("kibana-certs")))
    ElasticsearchStandIn.CERTS = certs
    StandIn.CA = os.path.join(certs, "ca.crt")
    network = f"microops-standin-net-{uuid.uuid4().hex[:8]}"
    docker("network", "create", network)
    es = ElasticsearchStandIn(network=network)
    try:
        es.run()
        token = es.call("POST", "/_security/service/elastic/kibana/credential/token/microops-kibana")[1]["token"]
        yield es, network, token["value"]
    finally:
        es.remove()
        docker("network", "rm", network, check=False)


def kibana_env(token, **extra):
    return {"ELASTICSEARCH_HOSTS": '["https://elasticsearch:9200"]', "ELASTICSEARCH_SERVICEACCOUNTTOKEN": token,
            "ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES": "/usr/share/kibana/config/certs/ca.crt",
            "SERVER_HOST": "0.0.0.0", "SERVER_NAME": "kibana", "SERVER_PUBLICBASEURL": "http://127.0.0.1:5601",
            "XPACK_SECURITY_ENCRYPTIONKEY": KEY, "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY": KEY,
            "XPACK_REPORTING_ENCRYPTIONKEY": KEY, **extra}


@pytest.mark.parametrize("extra,message", [
    ({"ELASTICSEARCH_SERVICEACCOUNTTOKEN": "", "ELASTICSEARCH_USERNAME": "elastic", "ELASTICSEARCH_PASSWORD": "x"},
     '[config validation of [elasticsearch].username]: value of "elastic" is forbidden. This is a superuser account'),
    ({"XPACK_SECURITY_ENCRYPTIONKEY": "short"},
     "[config validation of [xpack.security].encryptionKey]: value has length [5] but it must have a minimum length "
     "of [32]."),
])
def test_standin_fatal_settings(pair, extra, message):
    dummy, network, token = pair
    kibana = StandIn(env=kibana_env(token, **extra), network=network)
    try:
        kibana.run(wait=False)
        assert docker("wait", kibana.name).stdout.strip() == "64"
        assert "FATAL  Error: " + message in kibana.logs()
    finally:
        kibana.remove()


def test_standin_reads_secret_settings_from_a_mounted_kibana_yml(pair, tmp_path):
    """The logging role's way: the token and the keys in a kibana.yml mounted over the image's
    (owned by Kibana's uid 1000, mode 0400), the rest from the environment; a key too short
    there is refused as it is from the environment."""
    dummy, network, token = pair
    secret_env = ("ELASTICSEARCH_SERVICEACCOUNTTOKEN", "XPACK_SECURITY_ENCRYPTIONKEY",
                  "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY", "XPACK_REPORTING_ENCRYPTIONKEY")
    env = {name: value for name, value in kibana_env(token).items() if name not in secret_env}
    for key, expected in ((KEY, "available"), ("short", "fatal")):
        settings = tmp_path / f"kibana-{expected}.yml"
        settings.write_text(f'server.host: "0.0.0.0"\nelasticsearch.serviceAccountToken: {json.dumps(token)}\n'
                            + "".join(f"{name}: {json.dumps(key)}\n" for name in (
                                "xpack.security.encryptionKey", "xpack.encryptedSavedObjects.encryptionKey",
                                "xpack.reporting.encryptionKey")), encoding="utf-8")
        os.chown(settings, 1000, 0)
        os.chmod(settings, 0o400)
        kibana = StandIn(env=env, network=network, mounts=(
            f"{StandIn.CA}:/usr/share/kibana/config/certs/ca.crt:ro",
            f"{settings}:/usr/share/kibana/config/kibana.yml:ro"))
        try:
            if expected == "fatal":
                kibana.run(wait=False)
                assert docker("wait", kibana.name).stdout.strip() == "64"
                assert "[config validation of [xpack.security].encryptionKey]: value has length [5]" in kibana.logs()
            else:
                kibana.run()
                status, body = kibana.call("GET", "/api/status")
                assert status == 200 and body["status"]["overall"]["level"] == "available"
                inspect = docker("inspect", kibana.name).stdout
                assert token not in inspect and KEY not in inspect
        finally:
            kibana.remove()


def test_standin_untrusted_certificate_stays_unavailable(pair, tmp_path):
    dummy, network, token = pair
    other = make_certs(str(tmp_path))  # another CA: the server's certificate is not trusted
    kibana = StandIn(env=kibana_env(token), network=network, mounts=(f"{other}/ca.crt:/usr/share/kibana/config/certs/"
                                                                     "ca.crt:ro",))
    try:
        kibana.run(wait=False)
        kibana.wait_ready(status=503)
        time.sleep(3)
        status, body = kibana.call("GET", "/api/status", auth=None)
        assert status == 503 and body["status"]["overall"]["level"] == "unavailable"
        assert "CERTIFICATE_VERIFY_FAILED" in kibana.logs()
    finally:
        kibana.remove()


def test_standin_status_xsrf_data_views_and_restart(pair):
    dummy, network, token = pair
    kibana = StandIn(env=kibana_env(token), network=network)
    try:
        kibana.run()
        status, body = kibana.call("GET", "/api/status")
        assert status == 200 and body["status"]["overall"]["level"] == "available"
        assert body["version"]["number"] == "9.5.6"
        assert kibana.call("GET", "/api/status", auth=None) == (
            401, {"statusCode": 401, "error": "Unauthorized", "message": "Unauthorized"})
        assert kibana.call("GET", "/api/status", auth=("elastic", "wrong"))[0] == 401
        assert kibana.call("POST", "/api/data_views/data_view", VIEW, xsrf=False) == (
            400, {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."})
        status, body = kibana.call("POST", "/api/data_views/data_view", VIEW)
        assert status == 200 and body["data_view"]["id"] == "microops-logs"
        assert body["data_view"]["timeFieldName"] == "@timestamp" and body["data_view"]["name"] == "Stack logs"
        status, body = kibana.call("POST", "/api/data_views/data_view", VIEW)
        assert status == 409 and body["message"] == "Saved object [index-pattern/microops-logs] conflict"
        assert kibana.call("GET", "/s/default/api/data_views/data_view/microops-logs")[0] == 200
        assert kibana.call("GET", "/api/data_views/data_view/nothing")[0] == 404
        kibana.restart()
        assert kibana.call("GET", "/api/data_views/data_view/microops-logs")[1]["data_view"]["title"] == (
            "logs-microops-*")
        assert kibana.call("DELETE", "/api/data_views/data_view/microops-logs")[0] == 200
        assert kibana.call("GET", "/api/data_views")[1] == {"data_view": []}
    finally:
        kibana.remove()
