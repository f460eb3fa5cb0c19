import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.microops.stack.plugins.filter.stack import (
    CONTAINERS,
    IMAGES,
    NETWORKS,
    SERVICES,
    SETTINGS,
    private_address,
    private_address_error,
    stack_endpoint,
    stack_endpoints,
    stack_group_errors,
    stack_images,
    stack_s3,
    stack_s3_credentials,
    stack_setting,
    stack_wiring,
)


@pytest.mark.parametrize(
    "groups",
    [
        {"all": ["a"], "ungrouped": [], "stack_hosts": ["a"]},
        {"stack_hosts": ["a", "b"], "stack_s3": ["a"], "stack_monitoring": ["b"], "web": ["c"]},
        {"stack_hosts": ["a"], "stack_logging": []},
    ],
)
def test_sound_inventories_have_no_errors(groups):
    assert stack_group_errors(groups) == []


def test_missing_stack_hosts_is_reported():
    assert stack_group_errors({"all": ["a"]}) == [
        "group stack_hosts is empty or missing: every stack host must be in it"
    ]


def test_hosts_outside_stack_hosts_are_named():
    errors = stack_group_errors({"stack_hosts": ["a"], "stack_s3": ["b", "a", "c"]})
    assert errors == ["group stack_s3 has hosts that are not in stack_hosts: b, c"]


def test_unknown_stack_group_is_reported_as_a_likely_typo():
    errors = stack_group_errors({"stack_hosts": ["a"], "stack_monitor": ["a"]})
    assert len(errors) == 1
    assert errors[0].startswith("group stack_monitor is not a stack group")


FACTS = {"default_ipv4": {"address": "192.0.2.10", "interface": "eth0"}}


@pytest.mark.parametrize(
    ("host_vars", "expected"),
    [
        ({"stack_private_address": "10.0.0.5", "ansible_facts": FACTS}, "10.0.0.5"),
        ({"stack_private_address": "10.0.0.5"}, "10.0.0.5"),
        ({"ansible_facts": FACTS}, "192.0.2.10"),
        ({"stack_private_address": "", "ansible_facts": FACTS}, "192.0.2.10"),
        ({"stack_private_address": None, "ansible_facts": FACTS}, "192.0.2.10"),
        ({"stack_private_address": "2001:DB8:0:0::0001"}, "2001:db8::1"),
        # What Ansible reports on an IPv6-only host: no default_ipv4, a default_ipv6.
        ({"ansible_facts": {"default_ipv4": {}, "default_ipv6": {"address": "fd00:0::a"}}}, "fd00::a"),
        ({"ansible_facts": {**FACTS, "default_ipv6": {"address": "fd00::a"}}}, "192.0.2.10"),
    ],
    ids=["own-wins", "own-without-facts", "facts", "own-empty", "own-null", "ipv6",
         "ipv6-facts", "ipv4-before-ipv6"],
)
def test_private_address(host_vars, expected):
    assert private_address({"inventory_hostname": "node1", **host_vars}) == expected


# ansible-core appends a chained cause (here the ipaddress error) to the message.
@pytest.mark.parametrize(
    ("host_vars", "message"),
    [
        ({"inventory_hostname": "node1", "stack_private_address": "10.0.0.300",
          "ansible_facts": FACTS},
         "node1: stack_private_address must be an IP address, got '10.0.0.300': "
         "'10.0.0.300' does not appear to be an IPv4 or IPv6 address"),
        ({"inventory_hostname": "node1", "stack_private_address": "10.0.0.0/24"},
         "node1: stack_private_address must be an IP address, got '10.0.0.0/24': "
         "'10.0.0.0/24' does not appear to be an IPv4 or IPv6 address"),
        ({"inventory_hostname": "node1",
          "ansible_facts": {"default_ipv4": {"address": "node1.example"}}},
         "node1: the address of its default route (ansible_facts.default_ipv4) must be an IP "
         "address, got 'node1.example': 'node1.example' does not appear to be an IPv4 or "
         "IPv6 address"),
        ({"inventory_hostname": "node1"},
         "node1 has no stack_private_address and no default route in its facts: set "
         "stack_private_address to the address other stack hosts reach it on, or gather "
         "network facts (gather_subset: [min, network])"),
        ({"inventory_hostname": "node1", "ansible_facts": {"default_ipv4": {}}},
         "node1 has no stack_private_address and no default route in its facts: set "
         "stack_private_address to the address other stack hosts reach it on, or gather "
         "network facts (gather_subset: [min, network])"),
        ({"inventory_hostname": "node1",
          "ansible_facts": {"default_ipv4": {}, "default_ipv6": {"address": "node1.example"}}},
         "node1: the address of its default route (ansible_facts.default_ipv6) must be an IP "
         "address, got 'node1.example': 'node1.example' does not appear to be an IPv4 or "
         "IPv6 address"),
    ],
    ids=["own-invalid", "own-cidr", "facts-invalid", "neither", "no-default-route", "ipv6-facts-invalid"],
)
def test_private_address_errors(host_vars, message):
    with pytest.raises(AnsibleFilterError) as excinfo:
        private_address(host_vars)
    assert str(excinfo.value) == message
    # Preflights collect the same message instead of raising it.
    assert private_address_error(host_vars) == message


def test_private_address_error_is_empty_for_a_sound_host():
    assert private_address_error({"inventory_hostname": "n", "ansible_facts": FACTS}) == ""


def _hostvars(**hosts):
    return {name: {"inventory_hostname": name, **host_vars} for name, host_vars in hosts.items()}


def test_endpoints_of_every_host_of_the_group_in_its_order():
    hostvars = _hostvars(
        b={"stack_private_address": "10.0.0.6"},
        a={"stack_private_address": "10.0.0.5", "logging_elasticsearch_port": 19200},
    )
    groups = {"stack_hosts": ["a", "b"], "stack_logging": ["b", "a"]}
    assert stack_endpoints(hostvars, groups, "elasticsearch") == [
        {"host": "b", "address": "10.0.0.6", "port": 9200, "authority": "10.0.0.6:9200",
         "url": "https://10.0.0.6:9200"},
        {"host": "a", "address": "10.0.0.5", "port": 19200, "authority": "10.0.0.5:19200",
         "url": "https://10.0.0.5:19200"},
    ]


def test_minio_endpoint_is_http_and_ipv6_is_bracketed():
    hostvars = _hostvars(s3={"stack_private_address": "fd00::9", "minio_api_port": "9100"})
    (endpoint,) = stack_endpoints(hostvars, {"stack_s3": ["s3"]}, "minio")
    assert endpoint["authority"] == "[fd00::9]:9100"
    assert endpoint["url"] == "http://[fd00::9]:9100"
    assert endpoint["port"] == 9100


@pytest.mark.parametrize("groups", [{}, {"stack_logging": []}], ids=["missing", "empty"])
def test_no_hosts_no_endpoints(groups):
    assert stack_endpoints({}, groups, "elasticsearch") == []


@pytest.mark.parametrize("port", [0, 70000, "http", None])
def test_a_port_that_is_no_port_is_named(port):
    hostvars = _hostvars(s3={"stack_private_address": "10.0.0.9", "minio_api_port": port})
    with pytest.raises(AnsibleFilterError) as excinfo:
        stack_endpoints(hostvars, {"stack_s3": ["s3"]}, "minio")
    assert str(excinfo.value) == f"s3: minio_api_port must be a port number (1-65535), got {port!r}"


def test_unknown_service_is_refused():
    with pytest.raises(AnsibleFilterError, match="unknown service 'jaeger' .expected one of alertmanager, cadvisor"):
        stack_endpoints({}, {}, "jaeger")
    with pytest.raises(AnsibleFilterError, match="stack_endpoint: unknown service 'jaeger'"):
        stack_endpoint({}, "a", "jaeger")


def test_endpoint_of_one_host_whatever_its_groups():
    hostvars = _hostvars(a={"stack_private_address": "fd00::5", "docker_metrics_port": 19323})
    assert stack_endpoint(hostvars, "a", "docker") == {
        "host": "a", "address": "fd00::5", "port": 19323, "authority": "[fd00::5]:19323",
        "url": "http://[fd00::5]:19323"}


def test_wiring_of_a_server_names_its_container_port_and_secrets():
    wiring = stack_wiring("minio")
    assert wiring["container"] == "minio"
    assert wiring["container_port"] == 9000
    assert wiring["secrets_dir"] == "/etc/microops/minio"
    assert stack_wiring("prometheus")["secrets_dir"] is None


def test_wiring_of_the_networks():
    assert stack_wiring("networks") == {
        "frontend": {"name": "stack_frontend", "internal": False},
        "backend": {"name": "stack_backend", "internal": True},
        "services": {"name": "stack_services", "internal": True},
    }
    # A copy: a caller cannot change the table.
    stack_wiring("networks")["backend"]["name"] = "x"
    assert NETWORKS["backend"]["name"] == "stack_backend"


def test_unknown_wiring_is_refused():
    with pytest.raises(AnsibleFilterError, match="stack_wiring: unknown name 'jaeger'"):
        stack_wiring("jaeger")


ROLES = pathlib.Path(__file__).resolve().parents[4] / "roles"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_default_ports_equal_the_serving_roles_defaults(service):
    """Role defaults are not in hostvars: the filter repeats them, and must agree. A role that
    does not exist yet (logging) cannot disagree; the day it does, this test reads it."""
    spec = SERVICES[service]
    role = spec["port_var"].split("_", 1)[0]
    defaults_file = ROLES / role / "defaults" / "main.yml"
    if not defaults_file.exists():
        assert not (ROLES / role).exists(), f"role {role} has no defaults/main.yml"
        return
    defaults = yaml.safe_load(defaults_file.read_text())
    assert defaults[spec["port_var"]] == spec["port"]


def test_the_identities_file_is_the_seaweedfs_roles():
    from ansible_collections.microops.stack.plugins.filter.stack import S3_IDENTITIES_FILE
    seaweedfs_vars = yaml.safe_load((ROLES / "seaweedfs" / "vars" / "main.yml").read_text())
    assert seaweedfs_vars["_seaweedfs_identities_file"].endswith("/" + S3_IDENTITIES_FILE["seaweedfs"])


@pytest.mark.parametrize("variable", sorted(CONTAINERS))
def test_container_names_equal_the_roles_own(variable):
    role = variable.split("_")[1]
    assert yaml.safe_load((ROLES / role / "vars" / "main.yml").read_text())[variable] == CONTAINERS[variable]


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_setting_defaults_equal_the_serving_roles_defaults(name):
    role = name.split("_", 1)[0]
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
    assert defaults[name] == SETTINGS[name]["default"]


def test_setting_is_the_serving_hosts_variable_else_the_default():
    groups = {"stack_sentry": ["t"]}
    assert stack_setting({"t": {"sentry_team": "platform"}}, groups, "sentry_team") == "platform"
    assert stack_setting({"t": {}}, groups, "sentry_organization") == "microops"
    assert stack_setting({}, {"stack_sentry": []}, "sentry_team") is None
    with pytest.raises(AnsibleFilterError, match="unknown setting 'sentry_dsn'"):
        stack_setting({}, groups, "sentry_dsn")


@pytest.mark.parametrize(
    ("address", "expected"),
    [("10.0.0.5", "10.0.0.5"), ("fd00:0::5", "[fd00::5]")],
    ids=["ipv4-as-is", "ipv6-in-brackets"],
)
def test_private_address_in_brackets_for_urls_and_listen_addresses(address, expected):
    assert private_address({"inventory_hostname": "n", "stack_private_address": address}, brackets=True) == expected


@pytest.mark.parametrize(
    ("value", "valid"),
    [(9000, True), ("9000", True), (1, True), (65535, True), (0, False), (65536, False), ("http", False),
     (None, False), (True, False), ("", False), (-1, False)],
)
def test_port_errors_name_the_variable(value, valid):
    from ansible_collections.microops.stack.plugins.filter.stack import stack_port_errors

    errors = stack_port_errors({"minio_api_port": value})
    assert errors == ([] if valid else [f"minio_api_port must be a port number (1-65535), got {value!r}"])


S3_HOSTVARS = {"s3": {"inventory_hostname": "s3", "stack_private_address": "10.0.0.5"},
               "web": {"inventory_hostname": "web", "stack_private_address": "10.0.0.6"}}


@pytest.mark.parametrize("server, url", [(None, "http://10.0.0.5:9000"), ("minio", "http://10.0.0.5:9000"),
                                         ("seaweedfs", "http://10.0.0.5:8333")])
def test_s3_contract_follows_stack_s3_server(server, url):
    hostvars = {name: dict(v) for name, v in S3_HOSTVARS.items()}
    if server:
        hostvars["web"]["stack_s3_server"] = server
    files = {"minio": ["root_user", "root_password"], "seaweedfs": ["access_key", "secret_key"]}[server or "minio"]
    assert stack_s3(hostvars, {"stack_s3": ["s3"]}, "web") == {
        "server": server or "minio", "endpoint": url, "region": "us-east-1", "host": "s3",
        "credential_files": [f"/etc/microops/{server or 'minio'}/{name}" for name in files],
        "identities_file": "/etc/microops/seaweedfs/identities.json" if server == "seaweedfs" else None}


def test_s3_contract_port_variable_of_the_server():
    hostvars = {name: dict(v) for name, v in S3_HOSTVARS.items()}
    hostvars["s3"]["seaweedfs_s3_port"] = 18333
    hostvars["web"].update(stack_s3_server="seaweedfs", stack_s3_region="eu-west-1")
    assert stack_s3(hostvars, {"stack_s3": ["s3"]}, "web") == {
        "server": "seaweedfs", "endpoint": "http://10.0.0.5:18333", "region": "eu-west-1", "host": "s3",
        "credential_files": ["/etc/microops/seaweedfs/access_key", "/etc/microops/seaweedfs/secret_key"],
        "identities_file": "/etc/microops/seaweedfs/identities.json"}


def test_s3_contract_external_needs_an_endpoint_and_no_host():
    hostvars = {"web": dict(S3_HOSTVARS["web"], stack_s3_server="external",
                            stack_s3_endpoint="https://s3.eu-west-1.amazonaws.com", stack_s3_region="eu-west-1")}
    assert stack_s3(hostvars, {}, "web") == {
        "server": "external", "endpoint": "https://s3.eu-west-1.amazonaws.com", "region": "eu-west-1",
        "host": None, "credential_files": [], "identities_file": None}
    del hostvars["web"]["stack_s3_endpoint"]
    with pytest.raises(AnsibleFilterError, match="stack_s3_server is external: set stack_s3_endpoint"):
        stack_s3(hostvars, {}, "web")


@pytest.mark.parametrize("hostvars_update, groups, message", [
    ({"stack_s3_server": "ceph"}, {"stack_s3": ["s3"]}, "stack_s3_server must be one of minio, seaweedfs, external"),
    ({"stack_s3_server": "seaweedfs"}, {"stack_s3": []}, "group stack_s3 has no host"),
])
def test_s3_contract_errors_name_the_variable(hostvars_update, groups, message):
    hostvars = {name: dict(v) for name, v in S3_HOSTVARS.items()}
    hostvars["web"].update(hostvars_update)
    with pytest.raises(AnsibleFilterError, match=message):
        stack_s3(hostvars, groups, "web")


def test_object_storage_servers_share_the_stack_s3_group():
    assert {SERVICES[name]["group"] for name in ("minio", "seaweedfs", "seaweedfs_metrics")} == {"stack_s3"}
    assert stack_wiring("seaweedfs")["secrets_dir"] == "/etc/microops/seaweedfs"
    assert stack_wiring("seaweedfs")["port_var"] == "seaweedfs_s3_port"
    assert stack_group_errors({"stack_hosts": ["a"], "stack_minio": ["a"]}) == [
        "group stack_minio is not a stack group (expected one of stack_hosts, stack_s3, stack_monitoring, "
        "stack_logging, stack_sentry, stack_services, stack_edge)"]


def test_s3_credentials_of_a_server_the_stack_runs_are_the_files_read_on_its_host_trimmed():
    s3 = {"server": "seaweedfs", "credential_files": ["/etc/microops/seaweedfs/access_key",
                                                      "/etc/microops/seaweedfs/secret_key"]}
    state = {"content": {"/etc/microops/seaweedfs/access_key": "AK\n", "/etc/microops/seaweedfs/secret_key": " SK\n"}}
    found = stack_s3_credentials(s3, {"stack_s3_access_key": "ignored"}, state)
    assert found == {"access_key": "AK", "secret_key": "SK"}


def test_s3_credentials_of_an_external_server_come_from_the_inventory():
    s3 = {"server": "external", "credential_files": []}
    host_vars = {"stack_s3_access_key": "AK", "stack_s3_secret_key": "SK"}
    skipped = {"skipped": True, "changed": False}
    assert stack_s3_credentials(s3, host_vars, skipped) == {"access_key": "AK", "secret_key": "SK"}
    assert stack_s3_credentials(s3, {}) == {"access_key": "", "secret_key": ""}


def test_summary_lists_every_endpoint_with_its_way_in_and_password_file():
    from ansible_collections.microops.stack.plugins.filter.stack import stack_summary
    hostvars = {
        "a": {"stack_private_address": "10.0.0.1", "ansible_host": "203.0.113.1", "ansible_user": "admin"},
        "b": {"stack_private_address": "10.0.0.2", "stack_s3_server": "seaweedfs"},
        "c": {"stack_private_address": "10.0.0.3", "ansible_host": "203.0.113.3",
              "services_list": [{"name": "gateway", "image": "g:1", "port": 5921, "public": True},
                                {"name": "backend", "image": "b:1", "port": 3847}]},
    }
    groups = {"stack_hosts": ["a", "b", "c"], "stack_monitoring": ["a"], "stack_sentry": ["a"],
              "stack_logging": ["b"], "stack_s3": ["b"], "stack_services": ["c"]}
    found = {e["name"]: e for e in stack_summary(hostvars, groups)}
    assert sorted(found) == ["Alertmanager", "Error tracker (GlitchTip)", "Grafana", "Kibana", "Prometheus",
                             "S3 API (seaweedfs)", "Service gateway"]
    assert found["Grafana"] == {
        "name": "Grafana", "host": "a", "user": "admin", "password_file": "/etc/microops/grafana/admin_password",
        "url": "http://localhost:3000", "listens": "127.0.0.1:3000",
        "tunnel": "ssh -N -L 3000:127.0.0.1:3000 admin@203.0.113.1"}
    assert found["Error tracker (GlitchTip)"]["tunnel"] == "ssh -N -L 8000:10.0.0.1:8000 admin@203.0.113.1"
    assert found["Error tracker (GlitchTip)"]["user"] == "admin@microops.local"
    assert found["Kibana"]["tunnel"] == "ssh -N -L 5601:127.0.0.1:5601 b"
    assert found["Service gateway"]["url"] == "http://203.0.113.3:5921"
    assert found["Service gateway"]["tunnel"] is None
    assert "secret" not in repr(found).replace("secret_key", "")


def test_summary_as_lines_for_people():
    from ansible_collections.microops.stack.plugins.filter.stack import stack_summary
    hostvars = {"a": {"stack_private_address": "10.0.0.1"}}
    lines = stack_summary(hostvars, {"stack_hosts": ["a"], "stack_sentry": ["a"]}, as_lines=True)
    assert lines == ["Error tracker (GlitchTip) on a: http://localhost:8000",
                     "  listens on 10.0.0.1:8000; open a tunnel first: ssh -N -L 8000:10.0.0.1:8000 a",
                     "  user admin@microops.local, password in /etc/microops/sentry/admin_password on a"]


def test_summary_of_the_self_hosted_sentry_names_its_own_port_and_no_password_file():
    from ansible_collections.microops.stack.plugins.filter.stack import stack_summary
    hostvars = {"a": {"stack_private_address": "10.0.0.1", "ansible_host": "203.0.113.7",
                      "sentry_backend": "self_hosted"}}
    lines = stack_summary(hostvars, {"stack_hosts": ["a"], "stack_sentry": ["a"]}, as_lines=True)
    assert lines == ["Error tracker (self-hosted Sentry) on a: http://203.0.113.7:9000",
                     "  user (created in its UI)"]


@pytest.mark.parametrize("entry", IMAGES, ids=[entry[0] for entry in IMAGES])
def test_image_defaults_and_toggles_equal_the_roles_defaults(entry):
    variable, default, dummy, toggle = entry
    defaults = yaml.safe_load((ROLES / variable.split("_", 1)[0] / "defaults" / "main.yml").read_text())
    assert defaults[variable] == default
    # stack_images takes a toggle for on unless the host says otherwise.
    assert toggle is None or defaults[toggle] is True


def test_every_image_variable_of_the_roles_is_in_the_table():
    listed = {entry[0] for entry in IMAGES}
    for role in ("minio", "seaweedfs", "logging", "monitoring", "sentry"):
        defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
        assert {v for v in defaults if v.endswith("_image")} <= listed, role


def _images(groups, hostvars, host):
    hostvars = {name: {"inventory_hostname": name, **values} for name, values in hostvars.items()}
    return [image.split("/")[-1].split(":")[0] for image in stack_images(hostvars, groups, host)]


def test_images_of_a_split_site_by_host():
    groups = {"stack_hosts": ["a", "b", "c"], "stack_monitoring": ["a"], "stack_sentry": ["a"],
              "stack_logging": ["b"], "stack_s3": ["b"], "stack_services": ["c"]}
    hostvars = {"a": {}, "b": {"stack_s3_server": "seaweedfs"},
                "c": {"services_list": [{"name": "gateway", "image": "example/app:1"},
                                        {"name": "backend", "image": "example/app:1"}, "bad entry"]}}
    agents = ["node-exporter", "cadvisor", "filebeat"]
    assert _images(groups, hostvars, "a") == [
        "filebeat", "prometheus", "alertmanager", "grafana", "node-exporter", "cadvisor",
        "glitchtip", "postgres", "valkey", "postgres-exporter", "redis_exporter"]
    assert sorted(_images(groups, hostvars, "b")) == sorted(
        ["seaweedfs", "elasticsearch", "kibana", "elasticsearch-exporter"] + agents)
    # Each image once.
    assert sorted(_images(groups, hostvars, "c")) == sorted(agents + ["app"])


def test_images_follow_the_hosts_variables_and_toggles():
    groups = {"stack_hosts": ["a"], "stack_monitoring": ["a"], "stack_sentry": ["a"], "stack_s3": ["a"]}
    hostvars = {"a": {"monitoring_cadvisor_enabled": "false", "sentry_backend": "self_hosted",
                      "monitoring_grafana_image": "mirror.example/grafana:13.2.0"}}
    found = stack_images({"a": {"inventory_hostname": "a", **hostvars["a"]}}, groups, "a")
    assert "mirror.example/grafana:13.2.0" in found
    # MinIO by default on stack_s3; no logging host, no Filebeat; no cAdvisor; the self-hosted
    # Sentry's installer brings its own.
    assert _images(groups, hostvars, "a") == ["minio", "prometheus", "alertmanager", "grafana", "node-exporter"]


def test_images_of_the_whole_inventory_each_once():
    groups = {"stack_hosts": ["a", "b"], "stack_monitoring": ["a"], "stack_services": ["b"]}
    hostvars = {"a": {"inventory_hostname": "a"},
                "b": {"inventory_hostname": "b", "services_list": [{"name": "web", "image": "example/web:1"}]}}
    assert [i.split("/")[-1] for i in stack_images(hostvars, groups)] == [
        "prometheus:v3.14.0", "alertmanager:v0.34.0", "grafana:13.2.0", "node-exporter:v1.12.1",
        "cadvisor:0.60.5", "web:1"]
