"""The Grafana STAND-IN image (microops-test/grafana-standin, tests/harness/images/grafana-standin):
Grafana's datasource and service-account HTTP API, first-start admin password, provisioning and
/metrics, state in the /var/lib/grafana volume. These tests run against the stand-in, not Grafana;
the datasource health test queries a real Prometheus (microops-test/prometheus, Debian's build).
The stand-in's contract that the product tests rely on: counted as product tests (stage
`images`); its image's own settings (user, entrypoint, ports) are harness checks in
tests/harness/checks. Needs the engine and images from tests/harness/up."""

import json
import time
import uuid

import pytest

from _container import GrafanaStandIn, basic_auth, docker

PROMETHEUS = "microops-test/prometheus:2.42"
PASSWORD = "standin-admin-pw-1"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PROM = {"name": "Prometheus", "type": "prometheus", "access": "proxy", "url": "http://prometheus:9090",
        "uid": "prom-1", "user": "u", "database": "d", "jsonData": {"httpMethod": "POST"},
        "secureJsonData": {"basicAuthPassword": "hidden-secret"}}


class StandIn(GrafanaStandIn):
    """One container of the Grafana stand-in with this module's admin password."""

    ADMIN_PASSWORD = PASSWORD


IMAGE = StandIn.IMAGE
# As the collection runs it (roles/monitoring/tasks/grafana.yml), after `docker exec -i <container>`.
RESET = ("grafana", "cli", "--homepath", "/usr/share/grafana", "--config", "/etc/grafana/grafana.ini",
         "admin", "reset-admin-password", "--password-from-stdin")


def reset_admin_password(grafana, text, *args):
    """`docker exec -i <container> grafana cli ... reset-admin-password --password-from-stdin [args]`."""
    return docker("exec", "-i", grafana.name, *RESET, *args, stdin=text, check=False)


def signed_in_user(grafana, password):
    return grafana.call("GET", "/api/user", auth=basic_auth("admin", password))


def test_standin_health_banner_and_401(standin):
    grafana = standin()
    assert grafana.call("GET", "/api/health", auth=None) == (
        200, {"commit": "microops-standin", "database": "ok", "version": "13.2.0"})
    assert grafana.call("GET", "/api/datasources", auth=None) == (401, {"message": "Unauthorized"})
    status, body = grafana.call("GET", "/api/datasources", auth=basic_auth("admin", "wrong"))
    assert status == 401 and body["message"] == "Invalid username or password"
    assert "microops-test Grafana STAND-IN, not Grafana" in grafana.logs()


def test_standin_metrics_content_type(standin):
    grafana = standin()
    grafana.call("POST", "/api/datasources", dict(PROM))
    status, (text, ctype) = grafana.call("GET", "/metrics", auth=None)
    assert status == 200 and ctype == METRICS_TYPE
    assert 'grafana_build_info{' in text and 'version="13.2.0"' in text
    assert 'grafana_stat_totals_datasource{dstype="prometheus"} 1' in text


def test_standin_admin_password_from_file_and_first_start_only(standin, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("from-a-file-pw\n", encoding="utf-8")
    secret.chmod(0o644)
    grafana = standin(env={"GF_SECURITY_ADMIN_USER": "boss", "GF_SECURITY_ADMIN_PASSWORD__FILE": "/run/secrets/pw"},
                      mounts=(f"{secret}:/run/secrets/pw:ro",))
    assert grafana.call("GET", "/api/datasources", auth=basic_auth("boss", "from-a-file-pw"))[0] == 200
    assert grafana.call("GET", "/api/datasources", auth=basic_auth("admin", "admin"))[0] == 401
    grafana.remove()
    # Same volume, another password: not applied (the database exists already).
    again = standin(env={"GF_SECURITY_ADMIN_USER": "boss", "GF_SECURITY_ADMIN_PASSWORD": "a-new-password"})
    assert again.call("GET", "/api/datasources", auth=basic_auth("boss", "from-a-file-pw"))[0] == 200
    assert again.call("GET", "/api/datasources", auth=basic_auth("boss", "a-new-password"))[0] == 401


def test_standin_password_env_and_file_are_exclusive(volume, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("x", encoding="utf-8")
    both = {"GF_SECURITY_ADMIN_PASSWORD": "a", "GF_SECURITY_ADMIN_PASSWORD__FILE": "/run/secrets/pw"}
    grafana = StandIn(volume, env=both, mounts=(f"{secret}:/run/secrets/pw:ro",))
    try:
        grafana.run(wait=False)
        assert docker("wait", grafana.name).stdout.strip() == "1"
        assert "are exclusive" in docker("logs", grafana.name).stderr
    finally:
        grafana.remove()


def test_standin_datasource_crud_semantics(standin):
    grafana = standin()
    status, body = grafana.call("POST", "/api/datasources", dict(PROM))
    assert status == 200 and body["message"] == "Datasource added"
    first = body["datasource"]
    assert first["isDefault"] is True  # first datasource of the org
    assert first["version"] == 1 and first["uid"] == "prom-1"
    assert first["secureJsonFields"] == {"basicAuthPassword": True}
    assert "secureJsonData" not in first and "hidden-secret" not in json.dumps(body)
    # Duplicate name, bad uids, missing type.
    assert grafana.call("POST", "/api/datasources", dict(PROM, uid="other")) == (
        409, {"message": "data source with the same name already exists"})
    for bad in ("x" * 41, "bad uid", "bad/uid"):
        status, body = grafana.call("POST", "/api/datasources", dict(PROM, name="n-" + bad[:5], uid=bad))
        assert status == 400 and body["messageId"] == "datasource.uidInvalid"
    assert grafana.call("POST", "/api/datasources", {"name": "no-type", "access": "proxy"})[0] == 400
    # No uid: one is generated; second datasource is not the default; alias stored canonically.
    status, body = grafana.call("POST", "/api/datasources", {"name": "PG", "type": "postgres", "access": "proxy",
                                                             "url": "db:5432"})
    assert status == 200
    pg_ds = body["datasource"]
    assert pg_ds["uid"] and pg_ds["isDefault"] is False and pg_ds["type"] == "grafana-postgresql-datasource"
    assert grafana.call("GET", "/api/datasources/name/PG")[1]["type"] == "grafana-postgresql-datasource"
    # PUT replaces the whole object; secure fields kept when not sent; version increments.
    replacement = {"name": "Prometheus", "type": "prometheus", "access": "proxy", "url": "http://p2:9090", "version": 1}
    status, body = grafana.call("PUT", "/api/datasources/uid/prom-1", replacement)
    assert status == 200 and body["message"] == "Datasource updated"
    updated = body["datasource"]
    assert updated["version"] == 2 and updated["url"] == "http://p2:9090"
    assert updated["user"] == "" and updated["database"] == "" and updated["jsonData"] == {}
    assert updated["isDefault"] is False
    assert updated["secureJsonFields"] == {"basicAuthPassword": True}
    # Stale version: 409 with Grafana's text.
    assert grafana.call("PUT", "/api/datasources/uid/prom-1", dict(PROM, version=1)) == (
        409, {"message": "Datasource has already been updated by someone else. Please reload and try again"})
    # Renaming onto an existing name.
    assert grafana.call("PUT", "/api/datasources/uid/prom-1", dict(PROM, name="PG", version=2))[0] == 409
    # Secure field replaced when sent.
    status, body = grafana.call("PUT", "/api/datasources/uid/prom-1",
                                dict(PROM, version=2, secureJsonData={"httpHeaderValue1": "v"}))
    assert body["datasource"]["secureJsonFields"] == {"basicAuthPassword": True, "httpHeaderValue1": True}
    names = [d["name"] for d in grafana.call("GET", "/api/datasources")[1]]
    assert names == ["PG", "Prometheus"]
    # Delete, then 404.
    pg_id = pg_ds["id"]
    assert grafana.call("DELETE", f"/api/datasources/uid/{pg_ds['uid']}") == (
        200, {"message": "Data source deleted", "id": pg_id})
    assert grafana.call("GET", f"/api/datasources/uid/{pg_ds['uid']}") == (404, {"message": "Data source not found"})
    assert grafana.call("DELETE", f"/api/datasources/uid/{pg_ds['uid']}") == (404, {"message": "Data source not found"})


def test_standin_provisioned_datasource_is_read_only(standin, tmp_path):
    prov = tmp_path / "datasources"
    prov.mkdir()
    (prov / "ds.yaml").write_text(
        "apiVersion: 1\ndatasources:\n  - name: Provisioned\n    type: prometheus\n    uid: provisioned\n"
        "    url: http://prometheus:9090\n    jsonData:\n      timeInterval: $INTERVAL\n", encoding="utf-8")
    prov.chmod(0o755)
    (prov / "ds.yaml").chmod(0o644)
    grafana = standin(env={"GF_SECURITY_ADMIN_PASSWORD": PASSWORD, "INTERVAL": "15s"},
                      mounts=(f"{prov}:/etc/grafana/provisioning/datasources:ro",))
    status, body = grafana.call("GET", "/api/datasources/uid/provisioned")
    assert status == 200 and body["readOnly"] is True and body["isDefault"] is True
    assert body["jsonData"] == {"timeInterval": "15s"}
    assert grafana.call("PUT", "/api/datasources/uid/provisioned", dict(PROM, name="Provisioned")) == (
        403, {"message": "Cannot update read-only data source"})
    assert grafana.call("DELETE", "/api/datasources/uid/provisioned") == (
        403, {"message": "Cannot delete read-only data source"})


def test_standin_service_account_token_bound_to_org(standin):
    grafana = standin()
    status, account = grafana.call("POST", "/api/serviceaccounts", {"name": "ansible", "role": "Admin"})
    assert status == 201 and account["role"] == "Admin"
    assert grafana.call("POST", "/api/serviceaccounts", {"name": "ansible", "role": "Admin"})[0] == 409
    status, token = grafana.call("POST", f"/api/serviceaccounts/{account['id']}/tokens", {"name": "t1"})
    assert status == 200 and token["key"].startswith("glsa_")
    bearer = "Bearer " + token["key"]
    assert grafana.call("POST", "/api/datasources", dict(PROM), auth=bearer)[0] == 200
    assert grafana.call("GET", "/api/datasources", auth=bearer, headers={"X-Grafana-Org-Id": "1"})[0] == 200
    status, body = grafana.call("GET", "/api/datasources", auth=bearer, headers={"X-Grafana-Org-Id": "2"})
    assert status == 401 and body["messageId"] == "api-key.organization-mismatch"
    assert grafana.call("GET", "/api/datasources", auth="Bearer glsa_nope_00000000")[0] == 401
    status, viewer = grafana.call("POST", "/api/serviceaccounts", {"name": "viewer", "role": "Viewer"})
    key = grafana.call("POST", f"/api/serviceaccounts/{viewer['id']}/tokens", {"name": "t2"})[1]["key"]
    assert grafana.call("POST", "/api/datasources", dict(PROM, name="x", uid="x"), auth="Bearer " + key)[0] == 403


def test_standin_state_survives_restart_and_recreate(standin):
    grafana = standin()
    grafana.call("POST", "/api/datasources", dict(PROM))
    account = grafana.call("POST", "/api/serviceaccounts", {"name": "ansible", "role": "Admin"})[1]
    key = grafana.call("POST", f"/api/serviceaccounts/{account['id']}/tokens", {"name": "t1"})[1]["key"]
    grafana.restart()
    assert grafana.call("GET", "/api/datasources/uid/prom-1")[1]["secureJsonFields"] == {"basicAuthPassword": True}
    grafana.remove()
    again = standin(env={"GF_SECURITY_ADMIN_PASSWORD": "ignored-now"})
    status, body = again.call("GET", "/api/datasources/uid/prom-1")
    assert status == 200 and body["version"] == 1 and body["isDefault"] is True
    assert again.call("GET", "/api/datasources", auth="Bearer " + key)[0] == 200


def test_standin_datasource_health_against_real_prometheus(volume):
    network = f"microops-standin-grafana-{uuid.uuid4().hex[:8]}"
    docker("network", "create", network)
    prometheus = f"{network}-prom"
    grafana = StandIn(volume, network=network)
    try:
        docker("run", "-d", "--name", prometheus, "--network", network, "--network-alias", "prometheus", PROMETHEUS)
        grafana.run()
        grafana.call("POST", "/api/datasources", {"name": "P", "type": "prometheus", "access": "proxy",
                                                  "url": "http://prometheus:9090", "uid": "p"})
        grafana.call("POST", "/api/datasources", {"name": "Down", "type": "prometheus", "access": "proxy",
                                                  "url": "http://nothing-here:9090", "uid": "down"})
        grafana.call("POST", "/api/datasources", {"name": "ES", "type": "elasticsearch", "access": "proxy",
                                                  "url": "http://es:9200", "uid": "es"})
        deadline = time.monotonic() + 30
        while True:
            status, body = grafana.call("GET", "/api/datasources/uid/p/health")
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert (status, body) == (200, {"status": "OK", "message": "Successfully queried the Prometheus API."})
        status, body = grafana.call("GET", "/api/datasources/uid/down/health")
        assert status == 400 and body["status"] == "ERROR"
        # Nothing answers at es:9200: the Elasticsearch check's request fails (healthcheck.go "Failed to Do request").
        status, body = grafana.call("GET", "/api/datasources/uid/es/health")
        assert status == 500 and body["messageId"] == "plugin.healthCheckFailed"
    finally:
        grafana.remove()
        docker("rm", "-f", prometheus, check=False)
        docker("network", "rm", network, check=False)


def test_standin_elasticsearch_datasource_health_against_es_standin(volume, tmp_path):
    """pkg/tsdb/elasticsearch/healthcheck.go against the Elasticsearch STAND-IN: basic auth and the CA."""
    from test_elasticsearch_standin import StandIn as EsStandIn, make_certs, setup_identities  # pylint: disable=import-outside-toplevel
    certs = make_certs(str(tmp_path))
    EsStandIn.CERTS = certs
    network = f"microops-standin-grafana-{uuid.uuid4().hex[:8]}"
    docker("network", "create", network)
    es = EsStandIn(network=network)
    grafana = StandIn(volume, network=network)
    try:
        es.run()
        setup_identities(es)
        grafana.run()
        with open(f"{certs}/ca.crt", encoding="ascii") as handle:
            ca = handle.read()
        base = {"type": "elasticsearch", "access": "proxy", "url": "https://elasticsearch:9200", "basicAuth": True,
                "basicAuthUser": "microops_grafana", "jsonData": {"index": "logs-microops-*", "timeField": "@timestamp"}}
        grafana.call("POST", "/api/datasources", dict(base, name="ES", uid="es", jsonData=dict(
            base["jsonData"], tlsAuthWithCACert=True), secureJsonData={"basicAuthPassword": "microops_grafana-pw",
                                                                       "tlsCACert": ca}))
        grafana.call("POST", "/api/datasources", dict(base, name="ES no CA", uid="es-no-ca", secureJsonData={
            "basicAuthPassword": "microops_grafana-pw"}))
        assert grafana.call("GET", "/api/datasources/uid/es/health") == (
            200, {"status": "OK", "message": "Elasticsearch cluster is healthy"})
        status, body = grafana.call("GET", "/api/datasources/uid/es-no-ca/health")
        assert status == 500 and body["messageId"] == "plugin.healthCheckFailed"
        assert ("GET", "/_cluster/health?wait_for_status=yellow") in [
            (line.split('"')[1].split()[0], line.split('"')[1].split()[1]) for line in es.logs().splitlines()
            if '"GET /_cluster/health' in line]
    finally:
        grafana.remove()
        es.remove()
        docker("network", "rm", network, check=False)


def write_dashboard_provisioning(tmp_path, provider_yaml, dashboards):
    """A provisioning/dashboards directory with one provider file and a directory of dashboard JSONs,
    world-readable for the stand-in's user 472."""
    prov = tmp_path / "prov-dashboards"
    dash = tmp_path / "dashboards"
    prov.mkdir()
    dash.mkdir()
    (prov / "provider.yaml").write_text(provider_yaml, encoding="utf-8")
    for name, content in dashboards.items():
        (dash / name).write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        (dash / name).chmod(0o644)
    for path in (prov, dash):
        path.chmod(0o755)
    (prov / "provider.yaml").chmod(0o644)
    return (f"{prov}:/etc/grafana/provisioning/dashboards:ro", f"{dash}:/var/lib/microops-dashboards:ro")


PROVIDER = ("apiVersion: 1\nproviders:\n  - name: microops\n    orgId: 1\n    folder: Monitoring\n"
            "    folderUid: microops-monitoring\n    type: file\n    disableDeletion: true\n"
            "    updateIntervalSeconds: 30\n    allowUiUpdates: false\n"
            "    options:\n      path: /var/lib/microops-dashboards\n      foldersFromFilesStructure: false\n")


def test_standin_provisioned_dashboards_search_get_and_folder(standin, tmp_path):
    mounts = write_dashboard_provisioning(tmp_path, PROVIDER, {
        "node.json": {"uid": "node-exporter", "title": "Node Exporter", "tags": ["linux"], "id": 7, "panels": []},
        "noid.json": {"title": "Without Uid", "panels": []},
        "broken.json": "{not json",
        "untitled.json": {"uid": "untitled", "panels": []},
    })
    grafana = standin(mounts=mounts)
    status, hits = grafana.call("GET", "/api/search?type=dash-db")
    assert status == 200
    assert [h["title"] for h in hits] == ["Node Exporter", "Without Uid"]  # broken and untitled skipped
    node, noid = hits
    assert node["uid"] == "node-exporter" and node["type"] == "dash-db" and node["tags"] == ["linux"]
    assert node["folderUid"] == "microops-monitoring" and node["folderTitle"] == "Monitoring"
    assert node["url"] == "/d/node-exporter/node-exporter" and node["uri"] == "db/node-exporter"
    assert node["isStarred"] is False
    assert noid["uid"] and noid["uid"] != "node-exporter"  # generated
    assert grafana.call("GET", "/api/search?type=dash-db&folderUIDs=microops-monitoring")[1] == hits
    assert grafana.call("GET", "/api/search?type=dash-db&folderUIDs=elsewhere") == (200, [])
    status, body = grafana.call("GET", "/api/dashboards/uid/node-exporter")
    assert status == 200
    assert body["dashboard"]["uid"] == "node-exporter" and body["dashboard"]["title"] == "Node Exporter"
    assert body["dashboard"]["version"] == 1 and body["dashboard"]["id"] != 7
    meta = body["meta"]
    assert meta["provisioned"] is True and meta["provisionedExternalId"] == "node.json"
    assert meta["folderUid"] == "microops-monitoring" and meta["folderTitle"] == "Monitoring"
    assert meta["type"] == "db" and meta["slug"] == "node-exporter"
    assert grafana.call("GET", f"/api/dashboards/uid/{noid['uid']}")[1]["dashboard"]["title"] == "Without Uid"
    status, folder = grafana.call("GET", "/api/folders/microops-monitoring")
    assert status == 200 and folder["uid"] == "microops-monitoring" and folder["title"] == "Monitoring"
    assert grafana.call("GET", "/api/dashboards/uid/nope") == (404, {"message": "Dashboard not found"})
    assert grafana.call("GET", "/api/folders/nope") == (404, {"status": "not-found", "message": "folder not found"})
    assert grafana.call("GET", "/api/dashboards/uid/node-exporter", auth=None) == (401, {"message": "Unauthorized"})
    assert grafana.call("GET", "/api/search?type=dash-db", auth=None)[0] == 401
    assert "failed to load dashboard from" in grafana.logs()
    # Same files after a restart: same generated uid, same version.
    grafana.restart()
    status, again = grafana.call("GET", "/api/search?type=dash-db")
    assert [h["uid"] for h in again] == ["node-exporter", noid["uid"]]
    assert grafana.call("GET", "/api/dashboards/uid/node-exporter")[1]["dashboard"]["version"] == 1


@pytest.mark.parametrize("provider, error", [
    ("apiVersion: 2\nproviders:\n  - name: p\n    type: file\n    options:\n      path: /var/lib/microops-dashboards\n",
     "only apiVersion 1"),
    ("apiVersion: 1\nproviders:\n  - name: p\n    type: s3\n    options:\n      path: /var/lib/microops-dashboards\n",
     "type s3 is not supported"),
    ("apiVersion: 1\nproviders:\n  - name: p\n    type: file\n    options: {}\n",
     "path param is not a string"),
    ("apiVersion: 1\nproviders: [\n", "could not parse provisioning config file"),
])
def test_standin_broken_dashboard_provider_stops_start(volume, tmp_path, provider, error):
    mounts = write_dashboard_provisioning(tmp_path, provider, {"a.json": {"uid": "a", "title": "A"}})
    grafana = StandIn(volume, env={}, mounts=mounts)  # no admin password, as `docker run IMAGE`
    try:
        grafana.run(wait=False)
        assert docker("wait", grafana.name).stdout.strip() == "1"
        stderr = docker("logs", grafana.name).stderr
        assert "Failed to provision dashboard" in stderr and error in stderr
    finally:
        grafana.remove()


def test_standin_cli_reset_admin_password_from_stdin_while_server_runs(standin):
    grafana = standin()
    started = docker("inspect", "--format", "{{.State.StartedAt}}", grafana.name).stdout
    status, user = signed_in_user(grafana, PASSWORD)
    assert status == 200
    assert user["id"] == 1 and user["login"] == "admin" and user["isGrafanaAdmin"] is True and user["orgId"] == 1
    assert user["email"] == "admin@localhost" and user["authLabels"] == [] and user["isDisabled"] is False
    assert grafana.call("GET", "/api/user", auth=None) == (401, {"message": "Unauthorized"})
    result = reset_admin_password(grafana, "rotated-admin-pw-2\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "New Password: " in result.stdout and "Admin password changed successfully ✔" in result.stdout
    assert "rotated-admin-pw-2" not in result.stdout + result.stderr
    # The running server takes it at once (no cache, no restart); the old password is refused.
    assert signed_in_user(grafana, "rotated-admin-pw-2")[0] == 200
    status, body = signed_in_user(grafana, PASSWORD)
    assert status == 401 and body["message"] == "Invalid username or password"
    assert grafana.call("GET", "/api/datasources", auth=basic_auth("admin", "rotated-admin-pw-2"))[0] == 200
    assert docker("inspect", "--format", "{{.State.StartedAt}}", grafana.name).stdout == started
    # Kept across a restart (it is in the database on the volume).
    grafana.restart()
    assert signed_in_user(grafana, "rotated-admin-pw-2")[0] == 200


def test_standin_cli_reset_admin_password_too_short_or_no_line(standin):
    grafana = standin()
    for text in ("abc\n", "\n"):
        result = reset_admin_password(grafana, text)
        assert result.returncode != 0
        assert "Error: ✗ the new password doesn't meet the password policy criteria" in result.stdout
    result = reset_admin_password(grafana, "")
    assert result.returncode != 0 and "can't read password from stdin" in result.stdout
    assert signed_in_user(grafana, PASSWORD)[0] == 200
    assert signed_in_user(grafana, "abc")[0] == 401


def test_standin_cli_reset_admin_password_unknown_user_id(standin):
    grafana = standin()
    for args in (("--user-id", "42"), ("--user-id=42",)):
        result = reset_admin_password(grafana, "another-admin-pw\n", *args)
        assert result.returncode != 0  # stricter than Grafana, which exits 0 here
        assert "Admin user cannot be found" in result.stdout and "Username: admin ID: 1" in result.stdout
    result = reset_admin_password(grafana, "another-admin-pw\n", "--user-id", "one")
    assert result.returncode != 0 and 'invalid value "one" for flag -user-id' in result.stdout
    assert signed_in_user(grafana, PASSWORD)[0] == 200
    assert signed_in_user(grafana, "another-admin-pw")[0] == 401


@pytest.mark.parametrize("args, error", [
    (("grafana", "cli", "admin", "reset-password", "x-pw-1234"), "'reset-password' is not a grafana cli admin command"),
    (("grafana", "cli", "plugins", "ls"), "'plugins' is not a grafana cli command"),
    (("grafana", "cli", "admin"), "is not a grafana cli admin command"),
    (("grafana", "cli", "--debug", "admin", "reset-admin-password", "x-pw-1234"), "flag provided but not defined: -debug"),
    (RESET + ("--force",), "flag provided but not defined: -force"),
    (RESET + ("x-pw-1234",), "unexpected arguments with --password-from-stdin"),
    (("grafana", "ctl"), "the stand-in implements only these"),
])
def test_standin_cli_reset_admin_password_unknown_sub_command(standin, args, error):
    grafana = standin()
    result = docker("exec", "-i", grafana.name, *args, stdin="x-pw-1234\n", check=False)
    assert result.returncode != 0
    assert error in result.stdout + result.stderr
    assert signed_in_user(grafana, PASSWORD)[0] == 200


def test_standin_cli_reset_admin_password_without_database():
    """No server has started on this (anonymous, empty) volume: no grafana.db, a clear error, none created.
    Also the --flag=value forms and a cfg: override after the password."""
    result = docker("run", "--rm", "-i", "--entrypoint", "sh", IMAGE, "-c",
                    "grafana cli --homepath=/usr/share/grafana --config=/etc/grafana/grafana.ini admin "
                    "reset-admin-password a-new-admin-pw cfg:paths.data=/tmp/data; rc=$?; "
                    "ls /tmp/data /var/lib/grafana; exit $rc", stdin="", check=False)
    assert result.returncode != 0
    assert "could not read user from database" in result.stdout and "/tmp/data/grafana.db does not exist" in result.stdout
    assert "grafana.db" not in result.stdout.replace("/tmp/data/grafana.db", "")


FAILED_LOGIN = {"message": "Invalid username or password", "messageId": "password-auth.failed",
                "statusCode": 401, "traceID": ""}


def test_standin_locks_a_user_after_five_failed_logins(standin):
    """pkg/services/authn/clients/password.go + loginattempt: five failures within the window lock the
    login (lower-cased) and the right password gets the same 401 as a wrong one; refused requests are
    not counted; the lock survives a restart and `grafana cli ... reset-admin-password`; tokens are not
    affected. The window is shortened to 30 s (Grafana: 5 minutes) by the test-only variable."""
    grafana = standin(env={"GF_SECURITY_ADMIN_PASSWORD": PASSWORD, "MICROOPS_STANDIN_LOGIN_ATTEMPTS_WINDOW_SECONDS": "30"})
    account = grafana.call("POST", "/api/serviceaccounts", {"name": "ansible", "role": "Admin"})[1]
    key = grafana.call("POST", f"/api/serviceaccounts/{account['id']}/tokens", {"name": "t1"})[1]["key"]
    assert signed_in_user(grafana, PASSWORD)[0] == 200  # a success does not protect against what follows
    first_failure = time.monotonic()
    for attempt in range(5):
        assert signed_in_user(grafana, f"wrong-{attempt}") == (401, FAILED_LOGIN)
    last_failure = time.monotonic()
    assert signed_in_user(grafana, PASSWORD) == (401, FAILED_LOGIN)
    assert grafana.call("GET", "/api/datasources", auth=basic_auth("ADMIN", PASSWORD)) == (401, FAILED_LOGIN)
    assert grafana.call("GET", "/api/datasources", auth="Bearer " + key)[0] == 200
    assert "too many consecutive incorrect login attempts for user" in grafana.logs()
    grafana.restart()
    assert signed_in_user(grafana, PASSWORD) == (401, FAILED_LOGIN)
    result = reset_admin_password(grafana, "rotated-admin-pw-3\n")
    assert result.returncode == 0, result.stdout + result.stderr
    time.sleep(max(0.0, 12 - (time.monotonic() - first_failure)))
    for _attempt in range(5):  # refused while locked: not recorded (else locked until about 43 s)
        assert signed_in_user(grafana, "rotated-admin-pw-3") == (401, FAILED_LOGIN)
    locked_until = None
    while time.monotonic() - first_failure < 75:
        if signed_in_user(grafana, "rotated-admin-pw-3")[0] == 200:
            locked_until = time.monotonic()
            break
        time.sleep(1)
    assert locked_until is not None, "still locked 75 s after the failures (window 30 s)"
    assert 28 < locked_until - first_failure < 38  # the first failure's second + 30 s, then the next poll
    # The lock lifts when the first failure leaves the window; on a slow machine the other four may
    # still be in it, and one more failure would lock again. Wait until all have left it.
    time.sleep(max(0.0, 31 - (time.monotonic() - last_failure)))
    assert signed_in_user(grafana, PASSWORD)[0] == 401  # the old password, once: a plain failure
    assert signed_in_user(grafana, "rotated-admin-pw-3")[0] == 200


def test_standin_empty_password_is_not_a_counted_attempt(standin):
    grafana = standin()
    for _attempt in range(6):
        assert grafana.call("GET", "/api/user", auth=basic_auth("admin", "")) == (401, FAILED_LOGIN)
    assert signed_in_user(grafana, PASSWORD)[0] == 200


@pytest.mark.parametrize("name, value", [
    ("GF_SECURITY_DISABLE_BRUTE_FORCE_LOGIN_PROTECTION", "true"),
    ("GF_SECURITY_BRUTE_FORCE_LOGIN_PROTECTION_MAX_ATTEMPTS", "10"),
    ("MICROOPS_STANDIN_LOGIN_ATTEMPTS_WINDOW_SECONDS", "301"),
])
def test_standin_refuses_login_protection_settings_it_does_not_implement(volume, name, value):
    grafana = StandIn(volume, env={"GF_SECURITY_ADMIN_PASSWORD": PASSWORD, name: value})
    try:
        grafana.run(wait=False)
        assert docker("wait", grafana.name).stdout.strip() == "1"
        assert name in docker("logs", grafana.name).stderr
    finally:
        grafana.remove()


def test_standin_health_of_a_datasource_whose_plugin_is_not_registered(standin):
    """MICROOPS_STANDIN_UNREGISTERED_PLUGINS: the health check of those types answers as Grafana does
    for plugins.ErrPluginNotRegistered (grafana/grafana#132528); the datasource itself is still there."""
    grafana = standin(env={"GF_SECURITY_ADMIN_PASSWORD": PASSWORD,
                           "MICROOPS_STANDIN_UNREGISTERED_PLUGINS": "elasticsearch, prometheus"})
    for name, ds_type in (("ES", "elasticsearch"), ("P", "prometheus"), ("L", "loki")):
        status, _body = grafana.call("POST", "/api/datasources", {"name": name, "type": ds_type, "access": "proxy",
                                                                  "url": "http://nowhere:1", "uid": name.lower()})
        assert status == 200
    not_registered = {"message": "Plugin not registered", "messageId": "plugin.notRegistered",
                      "statusCode": 404, "traceID": ""}
    assert grafana.call("GET", "/api/datasources/uid/es/health") == (404, not_registered)
    assert grafana.call("GET", "/api/datasources/uid/p/health") == (404, not_registered)
    status, body = grafana.call("GET", "/api/datasources/uid/l/health")
    assert status == 404 and body["messageId"] == "plugin.notImplemented"
    assert grafana.call("GET", "/api/datasources/uid/es")[1]["type"] == "elasticsearch"
    assert "Plugin not registered pluginId=elasticsearch" in grafana.logs()
