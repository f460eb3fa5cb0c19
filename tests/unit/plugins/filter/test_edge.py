"""The edge role's filters: the routes derived from the inventory (public services from the
services role, ops UIs from the wiring table), the upstream each reaches on this host or another,
and every refusal of the preflight."""

import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.microops.stack.plugins.filter.aws import aws_public_ports
from ansible_collections.microops.stack.plugins.filter.edge import (
    edge_errors, edge_files, edge_login, edge_routes, edge_ui_url)
from ansible_collections.microops.stack.plugins.filter.services import services_containers, services_errors
from ansible_collections.microops.stack.plugins.filter.stack import OPS_UIS, stack_summary, ui_bind_address

ROLE = pathlib.Path(__file__).parents[4] / "roles" / "edge"
HASH = "$2a$14$" + "a" * 53
GATEWAY = {"name": "gateway", "image": "example/gateway:1", "port": 5921, "public": True}
GROUPS = {
    "stack_hosts": ["app1", "app2", "ops"],
    "stack_services": ["app1", "app2"],
    "stack_monitoring": ["ops"],
    "stack_logging": ["ops"],
    "stack_sentry": ["ops"],
    "stack_s3": ["ops"],
    "stack_edge": ["app1"],
}


def hostvars(**edge):
    return {
        "app1": {"inventory_hostname": "app1", "stack_private_address": "10.0.0.1", "stack_env": "development",
                 "services_list": [GATEWAY], "edge_hosts": {"api.example.com": "gateway"}, **edge},
        "app2": {"inventory_hostname": "app2", "stack_private_address": "10.0.0.2", "stack_env": "development",
                 "services_list": [{**GATEWAY, "public_port": 8080}]},
        "ops": {"inventory_hostname": "ops", "stack_private_address": "10.0.0.3", "stack_env": "development"},
    }


def test_a_public_service_is_balanced_over_every_host_that_runs_it():
    routes = edge_routes(hostvars(), GROUPS, "app1")
    assert routes == [{
        "site": "api.example.com", "kind": "public", "name": "gateway", "title": "Service gateway",
        # By name on the frontend network here; on the other host's private address and public port.
        "upstreams": ["gateway:5921", "10.0.0.2:8080"],
        "auth": False, "allow": [], "client_ca": False, "directives": []}]


def test_ops_uis_on_another_host_are_reached_on_its_private_address():
    routes = edge_routes(hostvars(edge_ops_domain="ops.example.com"), GROUPS, "app1")
    ops = {r["site"]: (r["upstreams"], r["auth"]) for r in routes if r["kind"] == "ops"}
    # MinIO is the default S3 server, GlitchTip the default tracker: every ops UI runs on "ops".
    assert ops == {
        "grafana.ops.example.com": (["10.0.0.3:3000"], True),
        "prometheus.ops.example.com": (["10.0.0.3:9090"], True),
        "alertmanager.ops.example.com": (["10.0.0.3:9093"], True),
        "kibana.ops.example.com": (["10.0.0.3:5601"], True),
        "errors.ops.example.com": (["10.0.0.3:8000"], True),
        "minio.ops.example.com": (["10.0.0.3:9001"], True),
    }


def test_ops_uis_on_the_edge_host_are_reached_by_container_name_on_the_backend():
    groups = {**GROUPS, "stack_edge": ["ops"]}
    hv = hostvars()
    hv["ops"].update(edge_ops_domain="ops.example.com", edge_ops_uis=["grafana", "minio"],
                     edge_hosts={"api.example.com": "gateway"})
    routes = edge_routes(hv, groups, "ops")
    assert [(r["site"], r["upstreams"]) for r in routes] == [
        ("api.example.com", ["10.0.0.1:5921", "10.0.0.2:8080"]),
        ("grafana.ops.example.com", ["grafana:3000"]),
        ("minio.ops.example.com", ["minio:9001"]),
    ]


def test_ui_bind_address_follows_the_edge():
    hv = hostvars(edge_ops_domain="ops.example.com")
    # An edge elsewhere routing ops UIs: the private address, so that it reaches them.
    assert ui_bind_address(hv, GROUPS, "ops", "monitoring_bind_address") == "10.0.0.3"
    # Without ops routes, or with the edge on this host: loopback.
    assert ui_bind_address(hostvars(), GROUPS, "ops", "monitoring_bind_address") == "127.0.0.1"
    assert ui_bind_address(hv, {**GROUPS, "stack_edge": ["ops"]}, "ops", "monitoring_bind_address") == "127.0.0.1"
    # The inventory's own choice wins.
    hv["ops"]["monitoring_bind_address"] = "0.0.0.0"
    assert ui_bind_address(hv, GROUPS, "ops", "monitoring_bind_address") == "0.0.0.0"


def test_an_ops_ui_kept_on_loopback_elsewhere_is_refused_naming_the_variable():
    hv = hostvars(edge_ops_domain="ops.example.com")
    hv["ops"]["logging_kibana_bind_address"] = "127.0.0.1"
    assert edge_errors(hv, GROUPS, "app1") == [
        "edge: kibana on ops is published on 127.0.0.1 (logging_kibana_bind_address), which edge host app1 cannot "
        "reach: leave logging_kibana_bind_address empty (the role then publishes it on the private address) or set "
        "it to that address"]


def test_uis_the_inventory_does_not_run_get_no_route():
    hv = hostvars(edge_ops_domain="ops.example.com")
    hv["ops"].update(stack_s3_server="seaweedfs", sentry_backend="self_hosted", logging_kibana_enabled=False)
    sites = [r["site"] for r in edge_routes(hv, GROUPS, "app1")]
    assert sites == ["api.example.com", "grafana.ops.example.com", "prometheus.ops.example.com",
                     "alertmanager.ops.example.com"]


def test_route_options_and_the_password_defaults():
    hv = hostvars(edge_ops_domain="ops.example.com", edge_ops_auth=False, edge_ops_uis=["grafana", "prometheus"],
                  edge_route_options={"api.example.com": {"auth": True, "directives": ["encode zstd gzip"]},
                                      "grafana.ops.example.com": {"allow": ["203.0.113.0/24"]}})
    routes = {r["site"]: r for r in edge_routes(hv, GROUPS, "app1")}
    assert routes["api.example.com"]["auth"] and routes["api.example.com"]["directives"] == ["encode zstd gzip"]
    # Grafana has its own login: no password with edge_ops_auth off; Prometheus has none: it keeps one.
    assert not routes["grafana.ops.example.com"]["auth"]
    assert routes["grafana.ops.example.com"]["allow"] == ["203.0.113.0/24"]
    assert routes["prometheus.ops.example.com"]["auth"]


@pytest.mark.parametrize("edge, message", [
    ({"edge_tls": "letsencrypt"}, "edge_tls must be one of acme, internal, files, got 'letsencrypt'"),
    ({"edge_acme_email": "ops"}, "edge_acme_email must be an e-mail address, got 'ops'"),
    ({"edge_acme_ca": "http://ca.example.com/dir"},
     "edge_acme_ca must be an ACME directory URL (https://...), got 'http://ca.example.com/dir'"),
    ({"edge_hosts": {"API.example.com": "gateway"}},
     "edge_hosts: 'API.example.com' is not a DNS host name in lower case with a dot (such as api.example.com)"),
    ({"edge_hosts": {"localhost": "gateway"}},
     "edge_hosts: 'localhost' is not a DNS host name in lower case with a dot (such as api.example.com)"),
    ({"edge_hosts": {"api.example.com": "backend"}},
     "edge_hosts: api.example.com routes to 'backend', which is no public service (public: true) of services_list "
     "on a stack_services host; public services: gateway"),
    ({"edge_hosts": ["api.example.com"]}, "edge_hosts must be a mapping of host name to public service, got list"),
    ({"edge_ops_domain": "ops example"},
     "edge_ops_domain must be a DNS name in lower case (such as ops.example.com), got 'ops example'"),
    ({"edge_ops_uis": ["grafana", "jaeger"]},
     "edge_ops_uis must be a list of grafana, prometheus, alertmanager, kibana, errors, minio, got ['grafana', "
     "'jaeger']"),
    ({"edge_route_options": {"www.example.com": {"auth": True}}},
     "edge_route_options[www.example.com]: no route has this host name (routes: api.example.com)"),
    ({"edge_route_options": {"api.example.com": {"allow": ["10.0.0.300/8"], "deny": []}}},
     "edge_route_options[api.example.com]: unknown options deny (known: allow, auth, client_ca, directives)"),
    ({"edge_route_options": {"api.example.com": {"client_ca": "not a pem"}}},
     "edge_route_options[api.example.com].client_ca must be the PEM of the CA that signs the client certificates"),
    ({"edge_users": [{"name": "ops", "password_hash": "hunter2"}]},
     "edge_users[ops]: password_hash must be a bcrypt hash, as `caddy hash-password` prints it"),
    ({"edge_users": [{"name": "o p", "password_hash": HASH}]},
     "edge_users[o p]: name must be letters, digits and . _ @ - (up to 64)"),
    ({"edge_tls": "files"},
     "edge_certificates[api.example.com] must have certificate and key (PEM) with edge_tls files"),
    # Read as a placeholder by the Caddyfile, or split into tokens.
    ({"edge_acme_email": "{$EMAIL}@example.com"}, "edge_acme_email must be an e-mail address, got '{$EMAIL}@example.com'"),
    ({"edge_acme_ca": "https://ca.example.com/dir extra"},
     "edge_acme_ca must be an ACME directory URL (https://...), got 'https://ca.example.com/dir extra'"),
    # A typo must not drop a password.
    ({"edge_route_options": {"api.example.com": {"auth": "ture"}}},
     "edge_route_options[api.example.com].auth must be true or false, got 'ture'"),
    ({"edge_route_options": {"api.example.com": {"allow": "10.0.0.0/8"}}},
     "edge_route_options[api.example.com].allow must be a list of strings"),
    ({"edge_route_options": ["api.example.com"]}, "edge_route_options must be a mapping of host name to options"),
    ({"edge_route_options": {"api.example.com": "allow all"}},
     "edge_route_options[api.example.com] must be a mapping of allow, auth, client_ca, directives"),
    # Names become file names: nothing but a route's host name.
    ({"edge_tls": "files", "edge_certificates": {"../../etc/cron.d/x": {"certificate": "", "key": ""}}},
     "edge_certificates[../../etc/cron.d/x]: no route has this host name (routes: api.example.com)"),
    ({"edge_ops_domain": "example.com", "edge_hosts": {"api.example.com": "gateway", "grafana.example.com": "gateway"}},
     "edge_hosts: grafana.example.com is also an ops UI's host name under edge_ops_domain"),
])
def test_bad_input_is_refused_naming_the_variable(edge, message):
    assert message in edge_errors(hostvars(**edge), GROUPS, "app1")


def test_an_allow_entry_that_is_no_address_is_refused():
    hv = hostvars(edge_route_options={"api.example.com": {"allow": ["10.0.0.300/8"]}})
    assert edge_errors(hv, GROUPS, "app1") == [
        "edge_route_options[api.example.com].allow: '10.0.0.300/8' is not an address or CIDR range"]


def test_production_requires_the_contact_users_and_real_certificates():
    hv = hostvars(edge_ops_domain="ops.example.com", edge_ops_uis=["prometheus"])
    hv["app1"]["stack_env"] = "production"
    errors = edge_errors(hv, GROUPS, "app1")
    assert errors[0].startswith("edge_acme_email is required in production")
    assert errors[1].startswith("edge_users is required in production (bcrypt hashes from Ansible Vault): routes "
                                "prometheus.ops.example.com ask for a password")
    hv["app1"].update(edge_tls="internal")
    assert any(e.startswith("edge_tls internal is for local and development") for e in edge_errors(hv, GROUPS, "app1"))


def test_prometheus_keeps_its_password_unless_a_client_certificate_replaces_it():
    options = {"prometheus.ops.example.com": {"auth": False}}
    hv = hostvars(edge_ops_domain="ops.example.com", edge_ops_uis=["prometheus"], edge_route_options=options)
    assert edge_errors(hv, GROUPS, "app1") == [
        "edge_route_options[prometheus.ops.example.com].auth: prometheus has no login of its own; it keeps the "
        "password unless client_ca requires a client certificate instead"]
    options["prometheus.ops.example.com"]["client_ca"] = "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----"
    assert edge_errors(hv, GROUPS, "app1") == []


def test_a_good_inventory_has_no_errors_and_files_land_beside_the_caddyfile():
    pem = "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----"
    certificates = {"api.example.com": {"certificate": pem, "key": key}}
    options = {"api.example.com": {"client_ca": pem}}
    hv = hostvars(edge_tls="files", edge_certificates=certificates, edge_route_options=options,
                  edge_users=[{"name": "ops", "password_hash": HASH}])
    assert edge_errors(hv, GROUPS, "app1") == []
    assert [(f["path"], f["mode"]) for f in edge_files(certificates, options)] == [
        ("certs/api.example.com.crt", "0644"), ("certs/api.example.com.key", "0600"),
        ("client-ca/api.example.com.pem", "0644")]
    assert edge_login(hv["app1"]) == {"user": "ops", "password_file": None}
    assert edge_login({}) == {"user": "ops", "password_file": "/etc/microops/edge/ops_password"}


def test_behind_an_edge_public_services_publish_on_the_private_address_only():
    hv = hostvars()
    containers = services_containers([GATEWAY], hv, GROUPS, "app1")
    assert containers[0]["published_ports"] == ["10.0.0.1:5921:5921"]
    without = {k: v for k, v in GROUPS.items() if k != "stack_edge"}
    assert services_containers([GATEWAY], hv, without, "app1")[0]["published_ports"] == ["0.0.0.0:5921:5921"]
    # The proxy's ports are taken on the edge host.
    assert services_errors([{**GATEWAY, "public_port": 443}], hv, GROUPS, "app1") == [
        "service gateway: public_port 443 is the port of the stack's edge (HTTPS) on this host"]


def test_the_summary_lists_the_routes_with_who_logs_in():
    hv = hostvars(edge_ops_domain="ops.example.com", edge_ops_uis=["prometheus"])
    lines = stack_summary(hv, GROUPS, as_lines=True)
    assert "Service gateway through the edge proxy on app1: https://api.example.com" in lines
    assert "Prometheus through the edge proxy on app1: https://prometheus.ops.example.com" in lines
    assert "  user ops, password in /etc/microops/edge/ops_password on app1" in lines
    # No public service on 0.0.0.0 any more.
    assert not [line for line in lines if line.startswith("Service gateway on")]


def test_the_public_security_group_moves_to_the_edge_instances():
    layout = [{"name": "app", "groups": ["services", "edge"]}, {"name": "ops", "groups": ["monitoring"]}]
    assert aws_public_ports(layout, [5921]) == {"ports": [80, 443], "group": "edge", "behind_edge": [5921]}
    assert aws_public_ports(layout[1:], [5921]) == {"ports": [5921], "group": "services", "behind_edge": []}


def test_the_filters_defaults_equal_the_roles():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    # edge_routes and edge_errors read hostvars, where role defaults are not: theirs must match.
    assert defaults["edge_ops_uis"] == list(OPS_UIS)
    assert defaults["edge_ops_auth"] is True and defaults["edge_tls"] == "acme"


def test_an_unknown_public_service_fails_the_routes_too():
    with pytest.raises(AnsibleFilterError, match="edge_hosts: api.example.com routes to 'nope'"):
        edge_routes(hostvars(edge_hosts={"api.example.com": "nope"}), GROUPS, "app1")


def test_the_uis_learn_the_address_people_use_through_the_edge():
    hv = hostvars(edge_ops_domain="ops.example.com", edge_ops_uis=["grafana", "kibana"])
    assert edge_ui_url(hv, GROUPS, "grafana") == "https://grafana.ops.example.com"
    assert edge_ui_url(hv, GROUPS, "minio") == ""
    assert edge_ui_url(hostvars(), GROUPS, "grafana") == ""


def test_one_edge_host_only():
    groups = {**GROUPS, "stack_edge": ["app1", "app2"]}
    assert edge_errors(hostvars(), groups, "app1")[0].startswith("stack_edge has 2 hosts: run one edge host")


def test_an_empty_list_of_ops_uis_routes_none_and_moves_none():
    hv = hostvars(edge_ops_domain="ops.example.com", edge_ops_uis=[])
    assert [r["site"] for r in edge_routes(hv, GROUPS, "app1")] == ["api.example.com"]
    assert ui_bind_address(hv, GROUPS, "ops", "monitoring_bind_address") == "127.0.0.1"


def test_only_the_uis_the_edge_routes_leave_loopback():
    hv = hostvars(edge_ops_domain="ops.example.com", edge_ops_uis=["grafana"])
    assert ui_bind_address(hv, GROUPS, "ops", "monitoring_bind_address") == "10.0.0.3"
    assert ui_bind_address(hv, GROUPS, "ops", "logging_kibana_bind_address") == "127.0.0.1"
    assert ui_bind_address(hv, GROUPS, "ops", "minio_console_bind_address") == "127.0.0.1"
    # A second monitoring host's UIs are not routed (the first host's are): they stay on loopback.
    groups = {**GROUPS, "stack_monitoring": ["ops", "app2"]}
    assert ui_bind_address(hv, groups, "app2", "monitoring_bind_address") == "127.0.0.1"


def test_a_console_turned_off_gets_no_route_and_an_ipv6_bind_is_bracketed():
    hv = hostvars(edge_ops_domain="ops.example.com", edge_ops_uis=["minio", "grafana"])
    hv["ops"].update(minio_browser=False, monitoring_bind_address="fd00::5")
    assert [r["site"] for r in edge_routes(hv, GROUPS, "app1")] == ["api.example.com", "grafana.ops.example.com"]
    assert edge_routes(hv, GROUPS, "app1")[1]["upstreams"] == ["[fd00::5]:3000"]
