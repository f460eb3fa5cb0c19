# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the edge role: the proxy's routes, derived from the inventory (the services role's
public services and the ops UIs of the wiring table), and their problems.

Documentation: the .yml files of the same names beside this file."""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.microops.stack.plugins.filter.stack import (
    LOOPBACK, OPS_UIS, SECRETS_DIR, SERVICES, edge_ops_uis, ops_ui_host, private_address, server_port,
    ui_bind_address)

# A host name as DNS and the CA/B Forum take it for a certificate: labels of letters, digits and
# hyphens, at least two of them (an ACME CA refuses a bare name such as "localhost").
SITE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Caddy's basic_auth takes bcrypt hashes ($2a$, $2b$ or $2y$, cost, 53 characters of salt and hash),
# as `caddy hash-password` prints them.
BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")
USER = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
ROUTE_OPTIONS = {"allow", "client_ca", "auth", "directives"}
TLS_MODES = ("acme", "internal", "files")
# The user the role makes (password generated on the host) where edge_users is empty outside
# production, and where its password is kept.
GENERATED_USER = "ops"
EDGE_SECRETS = f"{SECRETS_DIR}/{SERVICES['edge_metrics']['secrets']}"


def _public_services(hostvars, groups):
    """{name: [(host, service)]} of every public service of the inventory's services hosts."""
    found = {}
    for host in groups.get("stack_services") or []:
        for service in hostvars[host].get("services_list") or []:
            if isinstance(service, dict) and service.get("public") is True and service.get("name"):
                found.setdefault(str(service["name"]), []).append((host, service))
    return found


def _service_upstream(hostvars, edge, host, service):
    # On the edge host: the container by name on the frontend network it shares with the proxy.
    # Elsewhere: the port the services role publishes on that host's private address.
    if host == edge:
        return f"{service['name']}:{int(service['port'])}"
    port = int(service.get("public_port", service["port"]))
    return f"{private_address(hostvars[host], brackets=True)}:{port}"


def _ui_upstream(hostvars, groups, edge, ui, host):
    spec = SERVICES[OPS_UIS[ui]["service"]]
    if host == edge:
        # The stack's servers of this host: by name on the backend network the proxy joins.
        return f"{spec['container']}:{spec['container_port']}"
    variable = OPS_UIS[ui]["bind_var"]
    bind = ui_bind_address(hostvars, groups, host, variable) if variable else None
    if bind in (LOOPBACK, "::1", "[::1]", "localhost"):
        raise AnsibleFilterError(
            f"edge: {ui} on {host} is published on {bind} ({variable}), which edge host {edge} cannot "
            f"reach: leave {variable} empty (the role then publishes it on the private address) or set "
            "it to that address")
    if bind in (None, "0.0.0.0", "::", "[::]"):
        bind = private_address(hostvars[host], brackets=True)
    return f"{bind}:{server_port(hostvars[host], OPS_UIS[ui]['service'], f'{host}: ')}"


def edge_routes(hostvars, groups, host):
    """The routes of edge host `host`, in a stable order (public sites by name, then the ops UIs in
    the order of OPS_UIS): each {site, kind (public or ops), name (the service or ops UI), title,
    upstreams, auth, allow, client_ca, directives}. Raises on what edge_errors reports."""
    host_vars = hostvars[host]
    options = host_vars.get("edge_route_options") or {}
    ops_auth = boolean(host_vars.get("edge_ops_auth", True), strict=False)
    public = _public_services(hostvars, groups)
    routes = []
    for site, name in sorted((host_vars.get("edge_hosts") or {}).items()):
        if str(name) not in public:
            raise AnsibleFilterError(
                f"edge_hosts: {site} routes to {name!r}, which is no public service (public: true) of "
                f"services_list on a stack_services host; public services: {', '.join(sorted(public)) or 'none'}")
        upstreams = [_service_upstream(hostvars, host, where, service) for where, service in public[str(name)]]
        routes.append({"site": str(site), "kind": "public", "name": str(name), "title": f"Service {name}",
                       "upstreams": upstreams, "default_auth": False})
    domain = str(host_vars.get("edge_ops_domain") or "")
    if domain:
        for ui in edge_ops_uis(host_vars):
            where = ops_ui_host(hostvars, groups, ui)
            if where is None:
                continue
            routes.append({"site": f"{ui}.{domain}", "kind": "ops", "name": ui, "title": ui.capitalize(),
                           "upstreams": [_ui_upstream(hostvars, groups, host, ui, where)],
                           "default_auth": ops_auth or not OPS_UIS[ui]["login"]})
    for route in routes:
        extra = options.get(route["site"]) or {}
        route["auth"] = boolean(extra.get("auth", route.pop("default_auth")), strict=True)
        route["allow"] = [str(cidr) for cidr in extra.get("allow") or []]
        route["client_ca"] = bool(extra.get("client_ca"))
        route["directives"] = [str(line) for line in extra.get("directives") or []]
    return routes


def edge_errors(hostvars, groups, host):
    """Every problem of edge host `host`'s inputs, one message each naming the variable (and the
    site); empty when they are right. Checked before any change."""
    host_vars = hostvars[host]
    errors = []
    env = host_vars.get("stack_env")
    tls = host_vars.get("edge_tls", "acme")
    if tls not in TLS_MODES:
        errors.append(f"edge_tls must be one of {', '.join(TLS_MODES)}, got {tls!r}")
    email = str(host_vars.get("edge_acme_email") or "")
    if tls == "acme" and env == "production" and not email:
        errors.append("edge_acme_email is required in production with edge_tls acme: the ACME CA's contact "
                      "for expiry and revocation notices")
    # No braces, quotes or blanks: the Caddyfile would read them as placeholders or tokens.
    if email and not re.match(r"^[^@\s{}\"']+@[^@\s{}\"']+\.[^@\s{}\"']+$", email):
        errors.append(f"edge_acme_email must be an e-mail address, got {email!r}")
    if tls == "internal" and env == "production":
        errors.append("edge_tls internal is for local and development: browsers do not trust its CA; use acme "
                      "or files in production")
    ca = str(host_vars.get("edge_acme_ca") or "")
    if ca and not re.match(r"^https://[^\s{}\"']+$", ca):
        errors.append(f"edge_acme_ca must be an ACME directory URL (https://...), got {ca!r}")
    if len(groups.get("stack_edge") or []) > 1:
        errors.append(f"stack_edge has {len(groups['stack_edge'])} hosts: run one edge host (each would keep its own "
                      "certificates and ACME challenges, which a name resolving to several hosts fails)")
    # The inputs the routes are made of, checked first: the routes are built only when they are right.
    before_routes = len(errors)
    sites = host_vars.get("edge_hosts") or {}
    if not isinstance(sites, dict):
        return errors + [f"edge_hosts must be a mapping of host name to public service, got {type(sites).__name__}"]
    domain = str(host_vars.get("edge_ops_domain") or "")
    if domain and not SITE.match(domain):
        errors.append(f"edge_ops_domain must be a DNS name in lower case (such as ops.example.com), got {domain!r}")
    for site in sites:
        if not SITE.match(str(site)):
            errors.append(f"edge_hosts: {site!r} is not a DNS host name in lower case with a dot (such as "
                          "api.example.com)")
    uis = host_vars.get("edge_ops_uis")
    if uis is not None and (not isinstance(uis, list) or set(map(str, uis)) - set(OPS_UIS)):
        errors.append(f"edge_ops_uis must be a list of {', '.join(OPS_UIS)}, got {uis!r}")
    options = host_vars.get("edge_route_options") or {}
    if not isinstance(options, dict):
        return errors + ["edge_route_options must be a mapping of host name to options"]
    for site, extra in options.items():
        where = f"edge_route_options[{site}]"
        if not SITE.match(str(site)):
            errors.append(f"{where}: not a DNS host name in lower case with a dot")
        if not isinstance(extra, dict):
            errors.append(f"{where} must be a mapping of {', '.join(sorted(ROUTE_OPTIONS))}")
            continue
        for key in ("allow", "directives"):
            if key in extra and not (isinstance(extra[key], list) and all(isinstance(v, str) for v in extra[key])):
                errors.append(f"{where}.{key} must be a list of strings")
        if "auth" in extra:
            try:
                boolean(extra["auth"], strict=True)
            except TypeError:
                errors.append(f"{where}.auth must be true or false, got {extra['auth']!r}")
    routes, routed = [], False
    if len(errors) == before_routes:
        try:
            routes, routed = edge_routes(hostvars, groups, host), True
        except AnsibleFilterError as exc:
            errors.append(exc.message)
    known = {route["site"]: route for route in routes}
    duplicates = sorted({r["site"] for r in routes if [x["site"] for x in routes].count(r["site"]) > 1})
    if duplicates:
        errors.append(f"edge_hosts: {', '.join(duplicates)} is also an ops UI's host name under edge_ops_domain")
    for site, extra in options.items():
        where = f"edge_route_options[{site}]"
        if routed and site not in known:
            errors.append(f"{where}: no route has this host name (routes: {', '.join(sorted(known)) or 'none'})")
        if not isinstance(extra, dict):
            continue
        unknown = sorted(set(extra) - ROUTE_OPTIONS)
        if unknown:
            errors.append(f"{where}: unknown options {', '.join(unknown)} (known: {', '.join(sorted(ROUTE_OPTIONS))})")
        for cidr in extra.get("allow") or []:
            try:
                ipaddress.ip_network(str(cidr), strict=False)
            except ValueError:
                errors.append(f"{where}.allow: {cidr!r} is not an address or CIDR range")
        if "-----BEGIN CERTIFICATE-----" not in str(extra.get("client_ca") or "-----BEGIN CERTIFICATE-----"):
            errors.append(f"{where}.client_ca must be the PEM of the CA that signs the client certificates")
        route = known.get(site)
        if route and route["kind"] == "ops" and not route["auth"] and not OPS_UIS[route["name"]]["login"] \
                and not extra.get("client_ca"):
            errors.append(f"{where}.auth: {route['name']} has no login of its own; it keeps the password unless "
                          "client_ca requires a client certificate instead")
    users = host_vars.get("edge_users") or []
    if not isinstance(users, list):
        return errors + ["edge_users must be a list of {name, password_hash}"]
    for index, user in enumerate(users):
        name = user.get("name") if isinstance(user, dict) else None
        where = f"edge_users[{index}]" if not name else f"edge_users[{name}]"
        if not isinstance(name, str) or not USER.match(name):
            errors.append(f"{where}: name must be letters, digits and . _ @ - (up to 64)")
        if not isinstance(user, dict) or not BCRYPT.match(str(user.get("password_hash") or "")):
            errors.append(f"{where}: password_hash must be a bcrypt hash, as `caddy hash-password` prints it")
    if not users and env == "production" and any(route["auth"] for route in routes):
        errors.append("edge_users is required in production (bcrypt hashes from Ansible Vault): routes "
                      f"{', '.join(r['site'] for r in routes if r['auth'])} ask for a password; a user is generated "
                      "on the host only in local and development")
    certificates = host_vars.get("edge_certificates") or {}
    if not isinstance(certificates, dict):
        return errors + ["edge_certificates must be a mapping of host name to {certificate, key}"]
    for site in certificates:
        # The names become file names beside the Caddyfile (edge_files).
        if not SITE.match(str(site)) or (routed and site not in known):
            errors.append(f"edge_certificates[{site}]: no route has this host name (routes: "
                          f"{', '.join(sorted(known)) or 'none'})")
    if tls == "files":
        for route in routes:
            pair = certificates.get(route["site"])
            if not isinstance(pair, dict) or "BEGIN CERTIFICATE" not in str(pair.get("certificate") or "") \
                    or "PRIVATE KEY" not in str(pair.get("key") or ""):
                errors.append(f"edge_certificates[{route['site']}] must have certificate and key (PEM) with edge_tls "
                              "files")
    return errors


def edge_ui_url(hostvars, groups, ui):
    """The URL people open the ops UI `ui` at through the first edge host that routes it
    (https://<ui>.<edge_ops_domain>), else an empty string: what the UI must know to build its
    own links and redirects (Grafana's root_url, Kibana's publicBaseUrl, MinIO's console redirect)."""
    for edge in groups.get("stack_edge") or []:
        host_vars = hostvars[edge]
        if ui in edge_ops_uis(host_vars):
            return f"https://{ui}.{host_vars['edge_ops_domain']}"
    return ""


def edge_login(host_vars):
    """Who the routes that ask for a password let in, for people: the users of edge_users, or the
    generated user and the file on the edge host that holds its password."""
    users = host_vars.get("edge_users") or []
    if users:
        return {"user": ", ".join(str(u.get("name")) for u in users if isinstance(u, dict)), "password_file": None}
    return {"user": GENERATED_USER, "password_file": f"{EDGE_SECRETS}/{GENERATED_USER}_password"}


def edge_files(certificates, route_options):
    """The files beside the Caddyfile that edge_certificates and edge_route_options give, as
    [{path (under the configuration directory), content, mode}]: each site's certificate
    (certs/<site>.crt) and key (certs/<site>.key, root-only), each route's client CA
    (client-ca/<site>.pem)."""
    files = []
    for site, pair in sorted((certificates or {}).items()):
        files.append({"path": f"certs/{site}.crt", "content": str(pair["certificate"]).strip() + "\n", "mode": "0644"})
        files.append({"path": f"certs/{site}.key", "content": str(pair["key"]).strip() + "\n", "mode": "0600"})
    for site, extra in sorted((route_options or {}).items()):
        if isinstance(extra, dict) and extra.get("client_ca"):
            files.append({"path": f"client-ca/{site}.pem", "content": str(extra["client_ca"]).strip() + "\n",
                          "mode": "0644"})
    return files


class FilterModule:
    def filters(self):
        return {
            "edge_routes": edge_routes,
            "edge_errors": edge_errors,
            "edge_login": edge_login,
            "edge_files": edge_files,
            "edge_ui_url": edge_ui_url,
        }
