# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the stack's inventory: its groups and how hosts reach each other.

Documentation: the .yml files of the same names beside this file."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

# The stack's groups. Prefixed so they never collide with a user's own.
STACK_GROUPS = (
    "stack_hosts",
    "stack_s3",
    "stack_monitoring",
    "stack_logging",
    "stack_sentry",
    "stack_services",
    "stack_edge",
)

# The wiring facts two or more roles share, in one place (docs/architecture.md, "Wiring"): the
# stack's Docker networks, and for each server other roles reach: the group that runs it, its
# container name (also its alias on the backend network), the port inside the container, the
# port it is reached on from other hosts (the serving role's variable as the inventory sets it,
# else that role's default: role defaults are not in hostvars, so the default is repeated here
# and tests/unit/plugins/filter/test_stack.py checks it equals the role's), its scheme, and the
# directory of its host secrets. Renaming one here renames it for every role.
SECRETS_DIR = "/etc/microops"

NETWORKS = {
    # Public side: services that publish ports, and servers that reach other hosts.
    "frontend": {"name": "stack_frontend", "internal": False},
    # No route out: the stack's servers talk to each other here (some without authentication on
    # it, such as GlitchTip's Valkey and Alertmanager's API).
    "backend": {"name": "stack_backend", "internal": True},
    # No route out: the user's services talk to each other here, apart from the stack's servers,
    # which they reach on the hosts' addresses like any client.
    "services": {"name": "stack_services", "internal": True},
}

SERVICES = {
    # Object storage: the server stack_s3_server names runs on stack_s3 (S3_SERVERS below).
    "minio": {"group": "stack_s3", "container": "minio", "container_port": 9000,
              "port_var": "minio_api_port", "port": 9000, "scheme": "http", "secrets": "minio"},
    "seaweedfs": {"group": "stack_s3", "container": "seaweedfs", "container_port": 8333,
                  "port_var": "seaweedfs_s3_port", "port": 8333, "scheme": "http", "secrets": "seaweedfs"},
    # MinIO's console, an ops UI (ui_bind_address).
    "minio_console": {"group": "stack_s3", "container": "minio", "container_port": 9001,
                      "port_var": "minio_console_port", "port": 9001, "scheme": "http"},
    "seaweedfs_metrics": {"group": "stack_s3", "container": "seaweedfs", "container_port": 9327,
                          "port_var": "seaweedfs_metrics_port", "port": 9327, "scheme": "http"},
    "prometheus": {"group": "stack_monitoring", "container": "prometheus", "container_port": 9090,
                   "port_var": "monitoring_prometheus_port", "port": 9090, "scheme": "http"},
    "alertmanager": {"group": "stack_monitoring", "container": "alertmanager", "container_port": 9093,
                     "port_var": "monitoring_alertmanager_port", "port": 9093, "scheme": "http"},
    "grafana": {"group": "stack_monitoring", "container": "grafana", "container_port": 3000,
                "port_var": "monitoring_grafana_port", "port": 3000, "scheme": "http", "secrets": "grafana"},
    # Security is on: HTTPS, with the CA the logging role keeps in its secrets directory.
    "elasticsearch": {"group": "stack_logging", "container": "elasticsearch", "container_port": 9200,
                      "port_var": "logging_elasticsearch_port", "port": 9200, "scheme": "https",
                      "secrets": "logging"},
    # Kibana is an ops UI: the logging host's loopback, or its private address for an edge proxy
    # on another host (ui_bind_address).
    "kibana": {"group": "stack_logging", "container": "kibana", "container_port": 5601,
               "port_var": "logging_kibana_port", "port": 5601, "scheme": "http"},
    "elasticsearch_exporter": {"group": "stack_logging", "container": "elasticsearch-exporter",
                               "container_port": 9114, "port_var": "logging_exporter_port", "port": 9114,
                               "scheme": "http"},
    # The error tracker (GlitchTip's web, or its all-in-one container): the stack's services send
    # events to it on the private address, so DSNs carry that address (GLITCHTIP_DOMAIN).
    "sentry": {"group": "stack_sentry", "container": "glitchtip", "container_port": 8000,
               "port_var": "sentry_port", "port": 8000, "scheme": "http", "secrets": "sentry"},
    "postgres_exporter": {"group": "stack_sentry", "container": "sentry-postgres-exporter",
                          "container_port": 9187, "port_var": "sentry_postgres_exporter_port", "port": 9187,
                          "scheme": "http"},
    "valkey_exporter": {"group": "stack_sentry", "container": "sentry-valkey-exporter", "container_port": 9121,
                        "port_var": "sentry_valkey_exporter_port", "port": 9121, "scheme": "http"},
    # Per-host agents. node_exporter shares the host's network: its port is the host's.
    "node_exporter": {"group": "stack_hosts", "container": "node-exporter", "container_port": 9100,
                      "port_var": "monitoring_node_exporter_port", "port": 9100, "scheme": "http"},
    "cadvisor": {"group": "stack_hosts", "container": "cadvisor", "container_port": 8080,
                 "port_var": "monitoring_cadvisor_port", "port": 8080, "scheme": "http"},
    # The edge proxy's Prometheus metrics (Caddy's metrics handler on a port of its own: its
    # admin API, which also serves them, stays on the container's loopback).
    "edge_metrics": {"group": "stack_edge", "container": "edge", "container_port": 2020,
                     "port_var": "edge_metrics_port", "port": 2020, "scheme": "http", "secrets": "edge"},
    # The engine's own metrics (dockerd's metrics-addr): no container.
    "docker": {"group": "stack_hosts", "container": None, "container_port": None,
               "port_var": "docker_metrics_port", "port": 9323, "scheme": "http"},
}

# Ports stack hosts open to each other that no role reaches as a client (not in SERVICES): the
# Elasticsearch cluster's transport (roles/logging/tasks/elasticsearch.yml publishes it in a
# cluster). With SERVICES' ports, the EC2 security group's rules (plugins/filter/aws.py).
PEER_PORTS = {"elasticsearch_transport": 9300}

# What the edge proxy (role edge) publishes on every address of its hosts: HTTP (redirects and
# ACME's HTTP challenge) and HTTPS. Nothing else of the stack's listens on 0.0.0.0 there.
EDGE_PORTS = {80: "edge (HTTP)", 443: "edge (HTTPS)"}

# The operations UIs, by the name the edge proxy routes each under (<name>.<edge_ops_domain>):
# the server (SERVICES) behind it, the variable that chooses the address its port is published
# on (None: the host's private address, always), and whether it has a login of its own (without
# one, the edge always asks for a password). Served by the first host of the server's group.
OPS_UIS = {
    "grafana": {"service": "grafana", "bind_var": "monitoring_bind_address", "login": True},
    "prometheus": {"service": "prometheus", "bind_var": "monitoring_bind_address", "login": False},
    "alertmanager": {"service": "alertmanager", "bind_var": "monitoring_bind_address", "login": False},
    "kibana": {"service": "kibana", "bind_var": "logging_kibana_bind_address", "login": True},
    "errors": {"service": "sentry", "bind_var": None, "login": True},
    "minio": {"service": "minio_console", "bind_var": "minio_console_bind_address", "login": True},
}
LOOPBACK = "127.0.0.1"

# The stack's containers that no other role reaches (so not in SERVICES), by the variable of the
# role that names them: a user's service may not take their names (plugins/filter/services.py).
CONTAINERS = {
    "_logging_filebeat_container": "filebeat",
    "_sentry_postgres_container": "sentry-postgres",
    "_sentry_valkey_container": "sentry-valkey",
    "_sentry_worker_container": "glitchtip-worker",
}

# Settings of one role that another reads from the serving host's variables (as the inventory
# sets them, else the serving role's default, repeated here and checked against it by
# tests/unit/plugins/filter/test_stack.py): the services role creates its projects in the
# tracker's organisation and team.
SETTINGS = {
    "sentry_backend": {"group": "stack_sentry", "default": "glitchtip"},
    "sentry_organization": {"group": "stack_sentry", "default": "microops"},
    "sentry_team": {"group": "stack_sentry", "default": "ops"},
    # The services role writes its Prometheus targets into each monitoring host's file_sd.
    "monitoring_config_dir": {"group": "stack_monitoring", "default": "/opt/microops/monitoring"},
    # Who logs in to the ops UIs: the site's summary (stack_summary).
    "monitoring_grafana_admin_user": {"group": "stack_monitoring", "default": "admin"},
    "sentry_admin_email": {"group": "stack_sentry", "default": "admin@microops.local"},
}


# The images the stack's roles run, each by the role variable that names it and that variable's
# default (role defaults are not in hostvars: unit tests check these against the roles'), where
# it runs, and the variable that turns it off (stack_images). `where`: a group; "first" of a
# group, its first host only; "server" of stack_s3, only where stack_s3_server names it;
# "glitchtip", only with sentry_backend glitchtip; "logging agent", every stack host once the
# inventory has a logging host. The self-hosted Sentry's installer brings its own images.
IMAGES = (
    ("minio_image", "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
     "@sha256:14cea493d9a34af32f524e538b8346cf79f3321eff8e708c1e2960462bd8936e", "server", None),
    ("seaweedfs_image", "chrislusf/seaweedfs:4.48", "server", None),
    ("logging_elasticsearch_image", "docker.elastic.co/elasticsearch/elasticsearch:9.5.6", "stack_logging", None),
    ("logging_kibana_image", "docker.elastic.co/kibana/kibana:9.5.6", "first", "logging_kibana_enabled"),
    ("logging_exporter_image", "quay.io/prometheuscommunity/elasticsearch-exporter:v1.9.0", "first",
     "logging_exporter_enabled"),
    ("logging_filebeat_image", "docker.elastic.co/beats/filebeat:9.5.6", "logging agent", None),
    ("monitoring_prometheus_image", "prom/prometheus:v3.14.0", "stack_monitoring", None),
    ("monitoring_alertmanager_image", "prom/alertmanager:v0.34.0", "stack_monitoring", None),
    ("monitoring_grafana_image", "grafana/grafana:13.2.0", "stack_monitoring", None),
    ("monitoring_node_exporter_image", "prom/node-exporter:v1.12.1", "stack_hosts", None),
    ("monitoring_cadvisor_image", "ghcr.io/google/cadvisor:0.60.5", "stack_hosts", "monitoring_cadvisor_enabled"),
    ("sentry_glitchtip_image", "glitchtip/glitchtip:6.1.6", "glitchtip", None),
    ("sentry_postgres_image", "postgres:17.6-trixie", "glitchtip", None),
    ("sentry_valkey_image", "valkey/valkey:8.1.3", "glitchtip", None),
    ("sentry_postgres_exporter_image", "quay.io/prometheuscommunity/postgres-exporter:v0.17.1", "glitchtip",
     "sentry_exporters_enabled"),
    ("sentry_valkey_exporter_image", "oliver006/redis_exporter:v1.69.0", "glitchtip", "sentry_exporters_enabled"),
    ("edge_image", "caddy:2.11.7", "stack_edge", None),
)
# The group of each role's images, by the variable's prefix.
IMAGE_GROUPS = {"minio": "stack_s3", "seaweedfs": "stack_s3", "logging": "stack_logging",
                "monitoring": "stack_monitoring", "sentry": "stack_sentry",
                "edge": "stack_edge"}

# Who fulfils the S3 contract (stack_s3_server, site-wide): a server the stack runs on the
# stack_s3 host(s), or an external S3 given by stack_s3_endpoint.
S3_SERVERS = ("minio", "seaweedfs", "external")
# Where each server's role keeps the credentials it serves S3 with, in its secrets directory on
# the stack_s3 host: access key file, secret key file. An external server's come from the
# inventory (stack_s3_access_key, stack_s3_secret_key).
S3_CREDENTIAL_FILES = {"minio": ("root_user", "root_password"), "seaweedfs": ("access_key", "secret_key")}
# SeaweedFS's identities (weed -s3.config), in its secrets directory: the services role checks its
# services' own identities are there before it hands their credentials to the containers.
S3_IDENTITIES_FILE = {"seaweedfs": "identities.json"}
S3_SERVER_DEFAULT = "minio"
# Where the official self-hosted Sentry answers (sentry_backend: self_hosted): its .env's SENTRY_BIND.
SELF_HOSTED_SENTRY_PORT = 9000
S3_REGION_DEFAULT = "us-east-1"


def stack_wiring(name):
    """The wiring of one server (SERVICES) with its secrets directory as a path, or, for
    'networks', the stack's networks by role ({frontend: {name, internal}, backend: ...})."""
    if name == "networks":
        return {key: dict(spec) for key, spec in NETWORKS.items()}
    if name not in SERVICES:
        raise AnsibleFilterError(
            f"stack_wiring: unknown name {name!r} (expected networks or one of {', '.join(sorted(SERVICES))})")
    spec = dict(SERVICES[name])
    spec["secrets_dir"] = f"{SECRETS_DIR}/{spec['secrets']}" if spec.get("secrets") else None
    return spec


def stack_group_errors(groups):
    errors = []
    hosts = set(groups.get("stack_hosts") or [])
    if not hosts:
        errors.append("group stack_hosts is empty or missing: every stack host must be in it")
    for name in sorted(groups):
        if not name.startswith("stack_") or name == "stack_hosts":
            continue
        if name not in STACK_GROUPS:
            errors.append(
                f"group {name} is not a stack group (expected one of {', '.join(STACK_GROUPS)})"
            )
            continue
        outside = sorted(set(groups[name]) - hosts)
        if outside:
            errors.append(f"group {name} has hosts that are not in stack_hosts: {', '.join(outside)}")
    return errors


def private_address(host_vars, brackets=False):
    """The address other stack hosts reach this host on: stack_private_address, else the
    address of its default route (from facts: IPv4, else IPv6 on an IPv6-only host).
    brackets=True puts an IPv6 address in brackets, as a URL, a listen address or a published
    port needs it (RFC 3986)."""
    name = host_vars.get("inventory_hostname", "this host")
    address = host_vars.get("stack_private_address")
    origin = "stack_private_address"
    facts = host_vars.get("ansible_facts") or {}
    for family in ("default_ipv4", "default_ipv6"):
        if address:
            break
        address = (facts.get(family) or {}).get("address")
        origin = f"the address of its default route (ansible_facts.{family})"
    if not address:
        raise AnsibleFilterError(
            f"{name} has no stack_private_address and no default route in its facts: set "
            "stack_private_address to the address other stack hosts reach it on, or gather "
            "network facts (gather_subset: [min, network])")
    try:
        address = ipaddress.ip_address(str(address))
    except ValueError as exc:
        raise AnsibleFilterError(
            f"{name}: {origin} must be an IP address, got {address!r}") from exc
    return f"[{address}]" if brackets and address.version == 6 else str(address)


def private_address_error(host_vars):
    """The message private_address would fail with, else an empty string: for preflight
    checks, which collect every error before they fail."""
    try:
        private_address(host_vars)
    except AnsibleFilterError as exc:
        return exc.message
    return ""


def stack_port_errors(ports):
    """One message per variable of `ports` ({variable: value}) whose value is not a port number."""
    errors = []
    for name, value in ports.items():
        try:
            valid = not isinstance(value, bool) and 0 < int(str(value)) < 65536
        except ValueError:
            valid = False
        if not valid:
            errors.append(f"{name} must be a port number (1-65535), got {value!r}")
    return errors


def authority(address, port):
    """host:port, with an IPv6 address in brackets (RFC 3986)."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def server_port(host_vars, service, where=""):
    """The port other hosts reach `service` on: its port variable in `host_vars`, else its
    default; a bad value fails naming the variable (after `where`, such as the host)."""
    spec = SERVICES[service]
    raw = host_vars.get(spec["port_var"], spec["port"])
    try:
        port = int(raw)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise AnsibleFilterError(f"{where}{spec['port_var']} must be a port number (1-65535), got {raw!r}")
    return port


def _endpoint(host, host_vars, service):
    port = server_port(host_vars, service, f"{host}: ")
    address = private_address(host_vars)
    return {
        "host": host,
        "address": address,
        "port": port,
        "authority": authority(address, port),
        "url": f"{SERVICES[service]['scheme']}://{authority(address, port)}",
    }


def _check_service(filter_name, service):
    if service not in SERVICES:
        raise AnsibleFilterError(
            f"{filter_name}: unknown service {service!r} (expected one of {', '.join(sorted(SERVICES))})")


def stack_endpoints(hostvars, groups, service):
    """Where each host of the group serving `service` is reached: one dict per host, in the
    group's order, with host (inventory name), address, port, authority and url."""
    _check_service("stack_endpoints", service)
    return [_endpoint(host, hostvars[host], service)
            for host in groups.get(SERVICES[service]["group"]) or []]


def stack_endpoint(hostvars, host, service):
    """Where `service` on one host is reached (the same dict as stack_endpoints), whatever the
    host's groups: what a role binds to on the host it runs on."""
    _check_service("stack_endpoint", service)
    return _endpoint(host, hostvars[host], service)


def stack_s3(hostvars, groups, host):
    """The S3 contract as `host` sees it: {server, endpoint, region, host, credential_files,
    identities_file}.
    The server is stack_s3_server (minio, seaweedfs or external); the endpoint is the first
    stack_s3 host's S3 endpoint of that server, or stack_s3_endpoint for external (which is
    required there and may override the computed one otherwise). host is that stack_s3 host and
    credential_files the paths there of the access key and the secret key (None and [] for
    external, whose credentials are stack_s3_access_key and stack_s3_secret_key); identities_file
    the path there of the server's identities, for a server that keeps them in one (SeaweedFS),
    else None."""
    host_vars = hostvars[host]
    server = host_vars.get("stack_s3_server", S3_SERVER_DEFAULT)
    if server not in S3_SERVERS:
        raise AnsibleFilterError(
            f"stack_s3_server must be one of {', '.join(S3_SERVERS)}, got {server!r}")
    endpoint = host_vars.get("stack_s3_endpoint") or ""
    if server == "external" and not endpoint:
        raise AnsibleFilterError("stack_s3_server is external: set stack_s3_endpoint to its URL")
    if not endpoint and server != "external":
        hosts = groups.get(SERVICES[server]["group"]) or []
        if not hosts:
            raise AnsibleFilterError(
                f"stack_s3_server is {server} but group {SERVICES[server]['group']} has no host: "
                "add one, or set stack_s3_server: external and stack_s3_endpoint")
        endpoint = _endpoint(hosts[0], hostvars[hosts[0]], server)["url"]
    s3_host, files, identities = None, [], None
    if server != "external":
        s3_host = (groups.get(SERVICES[server]["group"]) or [None])[0]
        files = [f"{SECRETS_DIR}/{SERVICES[server]['secrets']}/{name}" for name in S3_CREDENTIAL_FILES[server]]
        if server in S3_IDENTITIES_FILE:
            identities = f"{SECRETS_DIR}/{SERVICES[server]['secrets']}/{S3_IDENTITIES_FILE[server]}"
    return {"server": server, "endpoint": endpoint,
            "region": host_vars.get("stack_s3_region") or S3_REGION_DEFAULT,
            "host": s3_host, "credential_files": files, "identities_file": identities}


def stack_s3_credentials(s3, host_vars, state=None):
    """The S3 contract's credentials as {access_key, secret_key}: an external server's from the
    inventory (stack_s3_access_key, stack_s3_secret_key in `host_vars`), else the content of the
    two credential files `s3` (stack_s3's answer) names, from `state`: the registered result of
    host_state reading them on the S3 host. Values are trimmed, as the servers trim them."""
    if s3["server"] == "external":
        return {"access_key": str(host_vars.get("stack_s3_access_key") or ""),
                "secret_key": str(host_vars.get("stack_s3_secret_key") or "")}
    content = (state or {}).get("content") or {}
    access, secret = (str(content.get(path) or "").strip() for path in s3["credential_files"])
    return {"access_key": access, "secret_key": secret}


def stack_setting(hostvars, groups, name, host=None):
    """A setting of `host`, else of the first host of the group that serves it (SETTINGS): its
    variable, else the serving role's default; None when the group has no host."""
    if name not in SETTINGS:
        raise AnsibleFilterError(
            f"stack_setting: unknown setting {name!r} (expected one of {', '.join(sorted(SETTINGS))})")
    hosts = [host] if host else groups.get(SETTINGS[name]["group"]) or []
    if not hosts:
        return None
    return hostvars[hosts[0]].get(name, SETTINGS[name]["default"])


def ops_ui_host(hostvars, groups, ui):
    """The host that serves the ops UI `ui` (OPS_UIS), or None when the inventory runs none: the
    MinIO console only where MinIO is the S3 server and minio_browser is on, the tracker only with
    GlitchTip (the self-hosted Sentry publishes its own port), Kibana unless
    logging_kibana_enabled is off."""
    hosts = groups.get(SERVICES[OPS_UIS[ui]["service"]]["group"]) or []
    if not hosts:
        return None
    host_vars = hostvars[hosts[0]]
    runs = {
        "minio": host_vars.get("stack_s3_server", S3_SERVER_DEFAULT) == "minio"
        and boolean(host_vars.get("minio_browser", True), strict=False),
        "errors": host_vars.get("sentry_backend", SETTINGS["sentry_backend"]["default"]) == "glitchtip",
        "kibana": boolean(host_vars.get("logging_kibana_enabled", True), strict=False),
    }.get(ui, True)
    return hosts[0] if runs else None


def edge_ops_uis(host_vars):
    """The ops UIs an edge host routes: edge_ops_uis (all of OPS_UIS when unset), none without
    edge_ops_domain."""
    if not host_vars.get("edge_ops_domain"):
        return []
    wanted = host_vars.get("edge_ops_uis")
    return [ui for ui in OPS_UIS if wanted is None or ui in wanted]


def ui_bind_address(hostvars, groups, host, variable):
    """The address the ops UIs of `host` publish their ports on: `variable` as the inventory sets
    it (an IPv6 address in brackets); else the host's private address when an edge host other than
    this one routes one of the UIs `variable` places on this host, so that it reaches them; else
    loopback (an SSH tunnel reaches them). A UI no edge routes never leaves loopback."""
    value = hostvars[host].get(variable)
    if value:
        value = str(value).strip("[]")
        return f"[{value}]" if ":" in value else value
    uis = [ui for ui, spec in OPS_UIS.items() if spec["bind_var"] == variable]
    for edge in groups.get("stack_edge") or []:
        routed = [ui for ui in edge_ops_uis(hostvars[edge]) if ui in uis]
        if edge != host and any(ops_ui_host(hostvars, groups, ui) == host for ui in routed):
            return private_address(hostvars[host], brackets=True)
    return LOOPBACK


def stack_images(hostvars, groups, host=None):
    """Every image `host` runs in a site run, as its role variables name them (else the roles'
    defaults), in the order of IMAGES, then its services' (services_list); each once. Without
    a host, those of every stack host (microops.stack.bundle_images)."""
    if host is None:
        every = [image for member in groups.get("stack_hosts") or [] for image in stack_images(hostvars, groups, member)]
        return list(dict.fromkeys(every))
    host_vars = hostvars[host]
    mine = set(host_vars.get("group_names") or [g for g, members in groups.items() if host in (members or [])])
    images = []
    for variable, default, where, toggle in IMAGES:
        role = variable.split("_", 1)[0]
        group = IMAGE_GROUPS.get(role, "stack_hosts")
        if where == "server":
            runs = "stack_s3" in mine and host_vars.get("stack_s3_server", S3_SERVER_DEFAULT) == role
        elif where == "first":
            runs = (groups.get(group) or [None])[0] == host
        elif where == "glitchtip":
            runs = group in mine and host_vars.get("sentry_backend", SETTINGS["sentry_backend"]["default"]) == "glitchtip"
        elif where == "logging agent":
            runs = "stack_hosts" in mine and bool(groups.get("stack_logging"))
        else:
            runs = where in mine
        # A switch as Ansible reads it (yes, on, 1, and a string from -e too).
        if runs and (toggle is None or boolean(host_vars.get(toggle, True), strict=False)):
            images.append(str(host_vars.get(variable, default)))
    if "stack_services" in mine:
        images += [str(s["image"]) for s in host_vars.get("services_list") or []
                   if isinstance(s, dict) and s.get("image")]
    return list(dict.fromkeys(images))


def _ssh_target(host_vars, host):
    user = host_vars.get("ansible_user")
    target = host_vars.get("ansible_host") or host
    return f"{user}@{target}" if user else str(target)


def _summary_entry(hostvars, name, host, bind, port, scheme="http", user=None, password_file=None):
    """One endpoint of the summary: reached directly when it listens on every address, else
    through an SSH tunnel to the host it listens on (loopback or private address)."""
    host_vars = hostvars[host]
    entry = {"name": name, "host": host, "user": user, "password_file": password_file}
    if bind in ("0.0.0.0", "::", "[::]"):
        public = host_vars.get("stack_public_address") or host_vars.get("ansible_host") or host
        entry.update(url=f"{scheme}://{authority(str(public), port)}", tunnel=None)
    else:
        entry.update(
            url=f"{scheme}://{authority('localhost', port)}",
            tunnel=f"ssh -N -L {port}:{authority(bind, port)} {_ssh_target(host_vars, host)}")
        entry["listens"] = authority(bind, port)
    return entry


def stack_summary(hostvars, groups, as_lines=False):
    """Every UI and API of the stack with how to reach it: its URL (through the SSH tunnel
    command given for what listens on loopback or a private address), the user name and the
    file on the host that holds its password (never the password). as_lines=True: the same as
    lines of text, for people."""
    entries = _summary_entries(hostvars, groups)
    if not as_lines:
        return entries
    lines = []
    for entry in entries:
        lines.append(f"{entry['name']} on {entry['host']}: {entry['url']}")
        if entry["tunnel"]:
            lines.append(f"  listens on {entry['listens']}; open a tunnel first: {entry['tunnel']}")
        if entry["password_file"]:
            lines.append(f"  user {entry['user']}, password in {entry['password_file']} on {entry['host']}")
        elif entry["user"]:
            lines.append(f"  user {entry['user']}")
    return lines


def _summary_entries(hostvars, groups):
    def setting(name, host=None):
        return stack_setting(hostvars, groups, name, host)

    entries = []
    for host in groups.get("stack_monitoring") or []:
        bind = ui_bind_address(hostvars, groups, host, "monitoring_bind_address")
        for server, user, password in (
                ("grafana", setting("monitoring_grafana_admin_user", host), f"{SECRETS_DIR}/grafana/admin_password"),
                ("prometheus", None, None), ("alertmanager", None, None)):
            port = int(hostvars[host].get(SERVICES[server]["port_var"], SERVICES[server]["port"]))
            entries.append(_summary_entry(hostvars, server.capitalize(), host, bind, port, user=user,
                                          password_file=password))
    for host in (groups.get("stack_logging") or [])[:1]:
        port = int(hostvars[host].get(SERVICES["kibana"]["port_var"], SERVICES["kibana"]["port"]))
        entries.append(_summary_entry(hostvars, "Kibana", host,
                                      ui_bind_address(hostvars, groups, host, "logging_kibana_bind_address"),
                                      port, user="elastic",
                                      password_file=f"{SECRETS_DIR}/logging/elastic_password"))
    for host in (groups.get("stack_sentry") or [])[:1]:
        if setting("sentry_backend", host) == "self_hosted":
            # Its installer's nginx publishes SENTRY_BIND (9000 in getsentry/self-hosted's .env) on
            # every address; its users are created in its own UI.
            entries.append(_summary_entry(hostvars, "Error tracker (self-hosted Sentry)", host, "0.0.0.0",
                                          SELF_HOSTED_SENTRY_PORT, user="(created in its UI)"))
            continue
        endpoint = _endpoint(host, hostvars[host], "sentry")
        entries.append(_summary_entry(hostvars, "Error tracker (GlitchTip)", host, endpoint["address"],
                                      endpoint["port"], user=setting("sentry_admin_email", host),
                                      password_file=f"{SECRETS_DIR}/sentry/admin_password"))
    s3_hosts = groups.get("stack_s3") or []
    server = hostvars[s3_hosts[0]].get("stack_s3_server", S3_SERVER_DEFAULT) if s3_hosts else None
    if server in ("minio", "seaweedfs"):
        host = s3_hosts[0]
        files = [f"{SECRETS_DIR}/{SERVICES[server]['secrets']}/{f}" for f in S3_CREDENTIAL_FILES[server]]
        if server == "minio":
            entries.append(_summary_entry(
                hostvars, "MinIO console", host, ui_bind_address(hostvars, groups, host, "minio_console_bind_address"),
                server_port(hostvars[host], "minio_console"), user=f"(in {files[0]})", password_file=files[1]))
        endpoint = _endpoint(host, hostvars[host], server)
        entries.append(_summary_entry(hostvars, f"S3 API ({server})", host, endpoint["address"], endpoint["port"],
                                      user=f"(access key in {files[0]})", password_file=files[1]))
    # Behind an edge proxy, public services publish on the private address only (services role).
    for host in groups.get("stack_services") or [] if not groups.get("stack_edge") else []:
        for service in hostvars[host].get("services_list") or []:
            if isinstance(service, dict) and service.get("public") is True:
                port = int(service.get("public_port", service.get("port")))
                entries.append(_summary_entry(hostvars, f"Service {service.get('name')}", host, "0.0.0.0", port))
    # pylint: disable-next=import-outside-toplevel,cyclic-import
    from ansible_collections.microops.stack.plugins.filter.edge import edge_login, edge_routes
    for host in groups.get("stack_edge") or []:
        login = edge_login(hostvars[host])
        for route in edge_routes(hostvars, groups, host):
            entries.append({"name": f"{route['title']} through the edge proxy", "host": host,
                            "url": f"https://{route['site']}", "tunnel": None,
                            "user": login["user"] if route["auth"] else None,
                            "password_file": login["password_file"] if route["auth"] else None})
    return entries


class FilterModule:
    def filters(self):
        return {
            "stack_group_errors": stack_group_errors,
            "private_address": private_address,
            "stack_endpoints": stack_endpoints,
            "stack_endpoint": stack_endpoint,
            "stack_wiring": stack_wiring,
            "stack_images": stack_images,
            "private_address_error": private_address_error,
            "stack_port_errors": stack_port_errors,
            "stack_s3": stack_s3,
            "stack_s3_credentials": stack_s3_credentials,
            "stack_setting": stack_setting,
            "stack_summary": stack_summary,
            "ui_bind_address": ui_bind_address,
        }
