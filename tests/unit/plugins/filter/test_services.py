"""The services role's filters: every refusal of the preflight, and the wiring computed from
the inventory (networks, ports, environment, secrets, Prometheus targets)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.microops.stack.plugins.filter.services import (
    services_containers,
    services_errors,
    services_file_sd,
    services_order,
    services_secret_files,
)

GROUPS = {
    "stack_hosts": ["a", "b", "c"],
    "stack_monitoring": ["a"],
    "stack_sentry": ["a"],
    "stack_s3": ["b"],
    "stack_logging": ["b"],
    "stack_services": ["c"],
}
HOSTVARS = {
    "a": {"inventory_hostname": "a", "stack_private_address": "10.0.0.1", "stack_env": "development"},
    "b": {"inventory_hostname": "b", "stack_private_address": "10.0.0.2", "stack_env": "development",
          "stack_s3_server": "seaweedfs"},
    "c": {"inventory_hostname": "c", "stack_private_address": "10.0.0.3", "stack_env": "development",
          "stack_s3_server": "seaweedfs"},
}

# The seed system, as inventories/development declares it.
GATEWAY = {"name": "gateway", "image": "example/gateway:1.4.2", "port": 5921, "public": True,
           "depends_on": ["backend"], "env": {"BACKEND_URL": "http://backend:3847"}}
BACKEND = {"name": "backend", "image": "example/backend:2.0.1", "port": 3847, "depends_on": ["mongodb"],
           "metrics": {"port": 9464}, "sentry": True,
           "bucket": {"name": "backend-uploads", "versioning": "enabled",
                      "credentials": {"access_key": "backend", "secret_key": "s3cr3t-backend-key"}},
           "user": "10001:10001", "read_only": True, "secrets": [{"name": "session_key"}]}
MONGODB = {"name": "mongodb", "image": "mongo:8.0.4", "port": 27017,
           "volumes": [{"name": "mongodb_data", "path": "/data/db"}]}
SEED = [GATEWAY, BACKEND, MONGODB]


def errors(services, host="c", hostvars=None, groups=None):
    return services_errors(services, hostvars or HOSTVARS, groups or GROUPS, host)


def test_the_seed_system_is_accepted():
    assert errors(SEED) == []


def test_not_a_list_is_refused():
    assert errors({"gateway": GATEWAY}) == ["services_list must be a list of services, got dict"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Backend"}, "service Backend: name must be lower-case"),
        ({"name": 7}, "services_list[1]: name must be lower-case"),
        ({"name": "prometheus"}, "service prometheus: name is a container of the stack itself"),
        ({"image": ""}, "service backend: image is required"),
        ({"public": "yes"}, "service backend: public must be true or false, got 'yes'"),
        ({"sentry": 1}, "service backend: sentry must be true or false"),
        ({"env": ["A=1"]}, "service backend: env must be a dict"),
        ({"env": {"A": {"b": 1}}}, "service backend: env values must be strings or numbers: A"),
        ({"port": 70000}, "service backend: port must be a port number (1-65535), got 70000"),
        ({"public_port": 8080}, "service backend: public_port is set but the service is not public"),
        ({"networks": ["stack_backnd"]}, "service backend: network 'stack_backnd' is not a stack network"),
        ({"depends_on": ["mongo"]}, "service backend: depends_on names 'mongo', which is not a service"),
        ({"depends_on": ["backend"]}, "service backend: depends_on names the service itself"),
        ({"volumes": ["/srv/data:/data"]}, "service backend: volumes must be named volumes"),
        ({"volumes": [{"name": "data", "path": "data"}]}, "service backend: volumes must be named volumes"),
        ({"tmpfs": ["tmp"]}, "service backend: tmpfs must be a list of absolute paths"),
        ({"healthcheck": {"interval": "5s"}}, "service backend: healthcheck must be a dict with test"),
        ({"healthcheck": {"test": ["CMD", "true"], "every": "5s"}}, "healthcheck has unknown key(s) every"),
        ({"memory": "lots"}, "service backend: memory must be a size with its unit, such as 512m"),
        ({"memory": 512}, "service backend: memory must be a size with its unit, such as 512m"),
        ({"restart_policy": False}, "service backend: restart_policy must be one of no, on-failure, always"),
        ({"restart_policy": "unless_stopped"}, "service backend: restart_policy must be one of"),
        ({"secrets": [{"name": "k", "length": 4}]}, "service backend: secret k: length must be a whole number"),
        ({"secrets": [{"name": "k", "length": "abc"}]}, "service backend: secret k: length must be a whole number"),
        ({"cpus": 0}, "service backend: cpus must be a positive number"),
        ({"user": "app user"}, "service backend: user must be user[:group]"),
        ({"secrets": [{"name": "a b"}]}, "service backend: each secret must be {name"),
        ({"secrets": [{"name": "k"}, {"name": "k"}]}, "service backend: secret name k is used twice"),
        ({"metrics": {"port": 3847}}, "service backend: metrics.port 3847 is the service's own port"),
        ({"metrics": {"port": 9100}}, "service backend: metrics.port 9100 is taken on this host by node_exporter"),
        ({"metrics": {"port": 9464, "path": "metrics"}}, "service backend: metrics.path must start with /"),
        ({"metrics": {"path": "/metrics"}}, "service backend: metrics must be {port, path"),
        ({"bucket": {"name": "Backend_Uploads"}}, "service backend: bucket.name: bucket name 'Backend_Uploads'"),
        ({"bucket": {"name": "uploads", "versioned": True}}, "service backend: bucket has unknown key(s) versioned"),
        ({"bucket": {"name": "uploads", "versioning": True}},
         "service backend: bucket.versioning must be enabled or suspended, got True"),
        ({"bucket": {"name": "uploads", "credentials": {"access_key": "k"}}},
         "service backend: bucket.credentials must be {access_key, secret_key}"),
        ({"colour": "blue"}, "service backend: unknown field(s) colour"),
    ],
)
def test_each_bad_field_is_refused_naming_the_service(change, message):
    services = [GATEWAY, {**BACKEND, **change}, MONGODB]
    found = errors(services)
    assert any(message in error for error in found), found


def test_two_services_with_one_name_are_refused():
    assert "service mongodb: name is used by more than one service" in errors(SEED + [MONGODB])


def test_two_services_on_one_public_port_are_refused_naming_both():
    other = {"name": "admin", "image": "example/admin:1", "port": 80, "public": True, "public_port": 5921}
    assert errors(SEED + [other]) == ["service admin: public_port 5921 is also published by service gateway"]


def test_a_public_port_of_the_stack_on_this_host_is_refused():
    found = errors([{**GATEWAY, "public_port": 8080, "depends_on": []}])
    assert found == ["service gateway: public_port 8080 is the port of the stack's cadvisor on this host"]


def test_a_public_service_needs_its_port():
    assert "service gateway: a public service needs its port (inside the container)" in errors(
        [{**GATEWAY, "port": None, "depends_on": []}])


def test_production_refuses_generated_secrets():
    hostvars = {**HOSTVARS, "c": {**HOSTVARS["c"], "stack_env": "production"}}
    found = errors(SEED, hostvars=hostvars)
    assert found == ["service backend: secrets session_key need a value in production (from Ansible Vault); "
                     "they are generated on the host only in local and development"]


def test_wiring_to_servers_the_inventory_lacks_is_refused():
    groups = {**GROUPS, "stack_sentry": [], "stack_s3": []}
    found = errors(SEED, groups=groups)
    assert "service backend: sentry is true but the inventory has no stack_sentry host" in found
    assert "service backend: bucket needs object storage: add a host to stack_s3, or set stack_s3_server: external" \
        in found


def test_sentry_wiring_needs_glitchtip():
    hostvars = {**HOSTVARS, "a": {**HOSTVARS["a"], "sentry_backend": "self_hosted"}}
    assert any("the error tracker is the self-hosted Sentry" in e for e in errors(SEED, hostvars=hostvars))


def test_a_dependency_cycle_is_refused():
    services = [{**GATEWAY, "depends_on": ["backend"]}, {**BACKEND, "depends_on": ["gateway"]}]
    assert errors(services) == ["depends_on makes a cycle: gateway -> backend -> gateway"]


def test_start_order_puts_dependencies_first():
    assert [s["name"] for s in services_order(SEED)] == ["mongodb", "backend", "gateway"]
    with pytest.raises(AnsibleFilterError, match="cycle"):
        services_order([{"name": "x", "depends_on": ["x"]}])


def containers(services=None, dsns=None):
    return {c["name"]: c for c in services_containers(services or SEED, HOSTVARS, GROUPS, "c", dsns)}


def test_only_public_services_publish_on_all_addresses():
    found = containers(dsns={"backend": "http://k@10.0.0.1:8000/1"})
    assert found["gateway"]["published_ports"] == ["0.0.0.0:5921:5921"]
    # The backend's metrics on the private address only; its own port nowhere.
    assert found["backend"]["published_ports"] == ["10.0.0.3:9464:9464"]
    assert found["mongodb"]["published_ports"] == []


def test_networks_services_own_network_public_and_wired_get_a_route_out_never_the_stacks_backend():
    found = containers()
    names = {name: [n["name"] for n in c["networks"]] for name, c in found.items()}
    # stack_backend, where the stack's servers answer (some without authentication), is not theirs.
    assert names == {"gateway": ["stack_frontend", "stack_services"],
                     "backend": ["stack_frontend", "stack_services"],
                     "mongodb": ["stack_services"]}
    # Peers reach each other by service name.
    assert found["mongodb"]["networks"][0]["aliases"] == ["mongodb"]


def test_the_stacks_backend_network_only_when_asked():
    found = containers([{**MONGODB, "networks": ["stack_backend"]}])
    assert [n["name"] for n in found["mongodb"]["networks"]] == ["stack_services", "stack_backend"]
    assert errors([{**MONGODB, "networks": ["stack_backends"]}]) == [
        "service mongodb: network 'stack_backends' is not a stack network "
        "(expected stack_frontend or stack_backend or stack_services)"]


def test_a_user_name_is_refused_when_secret_copies_need_numeric_ids():
    named = {**BACKEND, "user": "node"}
    assert errors([GATEWAY, named, MONGODB]) == [
        "service backend: user 'node' is a name, and the copies of session_key, aws_credentials are owned by "
        "numeric ids the container reads them as: give user as uid:gid (as the image's `id` prints it), "
        "or an owner on each secret"]
    # Without secrets a name is fine, and an owner on each secret answers it.
    assert errors([{**MONGODB, "user": "mongodb"}]) == []
    owned = {**named, "bucket": {"name": "backend-uploads"}, "secrets": [{"name": "session_key", "owner": "1000"}]}
    assert errors([GATEWAY, owned, MONGODB]) == []


def test_one_access_key_for_two_services_is_refused_on_one_host_and_across_hosts():
    other = {"name": "worker", "image": "example/worker:1", "bucket": {
        "name": "worker-files", "credentials": {"access_key": "backend", "secret_key": "another-secret"}}}
    assert errors(SEED + [other]) == [
        "service worker: bucket.credentials.access_key is also service backend's: each service needs an "
        "identity of its own"]
    groups = {**GROUPS, "stack_hosts": ["a", "b", "c", "d"], "stack_services": ["c", "d"]}
    hostvars = {**HOSTVARS, "d": {**HOSTVARS["c"], "inventory_hostname": "d", "services_list": SEED}}
    assert errors([other], hostvars=hostvars, groups=groups) == [
        "service worker: bucket.credentials.access_key is also service backend's: each service needs an "
        "identity of its own"]
    # The same service on two hosts is one identity.
    assert errors(SEED, hostvars=hostvars, groups=groups) == []


def test_wiring_environment_from_the_inventory():
    backend = containers(dsns={"backend": "http://k@10.0.0.1:8000/1"})["backend"]
    assert backend["env"] == {
        "SENTRY_DSN": "http://k@10.0.0.1:8000/1",
        "SENTRY_ENVIRONMENT": "development",
        "S3_ENDPOINT": "http://10.0.0.2:8333",
        "S3_BUCKET": "backend-uploads",
        "S3_REGION": "us-east-1",
        "AWS_SHARED_CREDENTIALS_FILE": "/run/secrets/aws_credentials",
    }
    # Credentials reach the container as files only.
    assert "s3cr3t-backend-key" not in repr(backend)
    assert {m["target"] for m in backend["mounts"]} == {"/run/secrets/session_key", "/run/secrets/aws_credentials"}
    assert all(m["read_only"] for m in backend["mounts"])


def test_every_container_carries_the_service_label_and_the_secure_defaults():
    for name, container in containers().items():
        assert container["labels"]["com.microops.service"] == name
        assert container["restart_policy"] == "unless-stopped"
    backend = containers()["backend"]
    assert (backend["user"], backend["read_only"]) == ("10001:10001", True)
    assert containers()["mongodb"]["mounts"] == [{"type": "volume", "source": "mongodb_data", "target": "/data/db"}]


def test_secret_files_are_owned_by_the_containers_user():
    files = services_secret_files(SEED)
    assert [(f["run"], f["owner"], f["group"], f["kind"]) for f in files] == [
        ("/etc/microops/services/run/backend/session_key", 10001, 10001, "secret"),
        ("/etc/microops/services/run/backend/aws_credentials", 10001, 10001, "s3"),
    ]
    assert files[1]["value"] == ("[default]\naws_access_key_id = backend\n"
                                 "aws_secret_access_key = s3cr3t-backend-key\n")
    named_user = services_secret_files([{**BACKEND, "user": "app"}])
    assert (named_user[0]["owner"], named_user[0]["group"]) == (0, 0)


def test_file_sd_targets_with_service_instance_and_env_labels():
    public_metrics = {**GATEWAY, "metrics": {"port": 5921, "path": "/stats"}, "public_port": 80}
    assert services_file_sd([public_metrics, BACKEND, MONGODB], HOSTVARS, "c") == [
        {"targets": ["10.0.0.3:9464"], "labels": {"service": "backend", "instance": "c", "env": "development"}},
        {"targets": ["10.0.0.3:80"],
         "labels": {"service": "gateway", "instance": "c", "env": "development", "__metrics_path__": "/stats"}},
    ]


def test_services_with_their_own_s3_credentials_get_a_bucket_scoped_identity():
    from ansible_collections.microops.stack.plugins.filter.services import services_s3_identities
    hostvars = {**HOSTVARS, "c": {**HOSTVARS["c"], "services_list": SEED}}
    assert services_s3_identities(hostvars, GROUPS) == [{
        "name": "service-backend",
        "credentials": [{"accessKey": "backend", "secretKey": "s3cr3t-backend-key"}],
        "actions": ["Read:backend-uploads", "Write:backend-uploads", "List:backend-uploads",
                    "Tagging:backend-uploads"],
    }]
    assert services_s3_identities(HOSTVARS, {"stack_services": []}) == []


def test_a_secret_shared_from_another_service_is_its_file_and_comes_after_it():
    mongodb = {**MONGODB, "secrets": [{"name": "root_password"}]}
    backend = {**BACKEND, "secrets": [{"name": "mongodb_password", "from": "mongodb/root_password"}]}
    assert errors([GATEWAY, backend, mongodb]) == []
    files = services_secret_files([GATEWAY, backend, mongodb])
    assert [(f["service"], f["path"]) for f in files if f["kind"] == "secret"] == [
        ("mongodb", "mongodb/root_password"), ("backend", "mongodb/root_password")]


@pytest.mark.parametrize(
    ("secret", "message"),
    [({"name": "pw", "from": "mongodb/nothing"}, "from must name another service's secret as service/secret"),
     ({"name": "pw", "from": "mongodb/root_password", "value": "x"}, "from and value exclude each other")],
)
def test_a_bad_shared_secret_is_refused(secret, message):
    mongodb = {**MONGODB, "secrets": [{"name": "root_password"}]}
    found = errors([GATEWAY, {**BACKEND, "secrets": [secret]}, mongodb])
    assert any(message in e for e in found), found


def test_a_secret_may_be_owned_by_the_user_the_entrypoint_drops_to():
    mongodb = {**MONGODB, "secrets": [{"name": "root_password", "owner": "999:999"}]}
    assert errors([GATEWAY, BACKEND, mongodb]) == []
    files = services_secret_files([mongodb])
    assert (files[0]["owner"], files[0]["group"]) == (999, 999)
    bad = {**MONGODB, "secrets": [{"name": "root_password", "owner": "mongodb"}]}
    assert any("owner must be numeric uid[:gid]" in e for e in errors([GATEWAY, BACKEND, bad]))


def test_a_removed_option_changes_the_definition_label():
    """community.docker does not compare an option it is not given: the digest label does."""
    with_user = containers()["backend"]["labels"]["com.microops.definition"]
    without = containers([GATEWAY, {k: v for k, v in BACKEND.items() if k != "user"}, MONGODB])
    assert len(with_user) == 64
    assert without["backend"]["labels"]["com.microops.definition"] != with_user
    assert containers()["backend"]["labels"]["com.microops.definition"] == with_user
    assert without["gateway"]["labels"] == containers()["gateway"]["labels"]


def test_a_metrics_port_is_checked_against_public_ports_listed_after_it():
    early = {**BACKEND, "metrics": {"port": 8443}}
    late = {"name": "admin", "image": "example/admin:1", "port": 443, "public": True, "public_port": 8443}
    assert errors([GATEWAY, early, MONGODB, late]) == [
        "service backend: metrics.port 8443 is taken on this host by service admin"]


@pytest.mark.parametrize("name", ["filebeat", "sentry-valkey", "glitchtip-worker", "prometheus"])
def test_a_container_name_of_the_stack_is_refused(name):
    assert errors([{**MONGODB, "name": name}]) == [
        f"service {name}: name is a container of the stack itself; choose another"]


def test_the_minio_console_port_is_taken_on_the_s3_host():
    groups = {**GROUPS, "stack_services": ["b"]}
    public = {**GATEWAY, "depends_on": [], "port": 9001}
    minio = {**HOSTVARS, "b": {**HOSTVARS["b"], "stack_s3_server": "minio"}}
    assert errors([public], host="b", hostvars=minio, groups=groups) == [
        "service gateway: public_port 9001 is the port of the stack's minio_console on this host"]
    # SeaweedFS has no console there.
    assert errors([public], host="b", groups=groups) == []


def test_a_service_whose_identity_seaweedfs_lacks_is_named():
    import json
    from ansible_collections.microops.stack.plugins.filter.services import (
        services_s3_identities, services_s3_identities_missing)
    hostvars = {**HOSTVARS, "c": {**HOSTVARS["c"], "services_list": SEED}}
    admin = {"name": "admin", "credentials": [{"accessKey": "a", "secretKey": "b"}], "actions": ["Admin"]}
    written = json.dumps({"identities": [admin] + services_s3_identities(hostvars, GROUPS)}, indent=2)
    assert services_s3_identities_missing(SEED, written) == []
    # Not written yet (a run limited to the services hosts), or the secret key changed since.
    assert services_s3_identities_missing(SEED, json.dumps({"identities": [admin]})) == ["backend"]
    assert services_s3_identities_missing(SEED, "") == ["backend"]
    credentials = {"access_key": "backend", "secret_key": "rotated-key"}
    rotated = {**BACKEND, "bucket": {**BACKEND["bucket"], "credentials": credentials}}
    assert services_s3_identities_missing([GATEWAY, rotated, MONGODB], written) == ["backend"]


def test_a_service_restarts_while_its_copies_differ_from_the_ones_it_started_with():
    from ansible_collections.microops.stack.plugins.filter.services import services_started
    files = services_secret_files(SEED)
    record = "/etc/microops/services/run/backend/.started"
    # Before the copies are read: nothing to restart.
    assert services_started(files, {}) == {"backend": {"file": record, "digest": services_started(files, {})[
        "backend"]["digest"], "restart": False}}
    runs = [f["run"] for f in files]
    state = {"paths": {run: {"exists": True, "checksum": "a" * 40} for run in runs}, "content": {record: None}}
    first = services_started(files, state)["backend"]
    # No record yet (a service started before records existed, or a run that failed before it).
    assert first["restart"] is True
    state["content"][record] = first["digest"] + "\n"
    assert services_started(files, state)["backend"]["restart"] is False
    # A rotated copy: another checksum, another digest.
    state["paths"][runs[0]]["checksum"] = "b" * 40
    assert services_started(files, state)["backend"]["restart"] is True
