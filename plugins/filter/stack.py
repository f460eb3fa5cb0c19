# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the stack's inventory: its groups and how hosts reach each other.

Documentation: the .yml files of the same names beside this file."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

# The stack's groups. Prefixed so they never collide with a user's own.
STACK_GROUPS = (
    "stack_hosts",
    "stack_minio",
    "stack_monitoring",
    "stack_logging",
    "stack_sentry",
    "stack_services",
)

# Endpoints served by the hosts of one group and reached by other roles. The port is the serving
# role's variable as the inventory sets it, else that role's default: role defaults are not in
# hostvars, so the default is repeated here and tests/unit/plugins/filter/test_stack.py checks
# that it equals the role's. Elasticsearch has security on (DESIGN.md): HTTPS.
ENDPOINTS = {
    "minio": {"group": "stack_minio", "port_var": "minio_api_port", "port": 9000, "scheme": "http"},
    "elasticsearch": {
        "group": "stack_logging", "port_var": "logging_elasticsearch_port", "port": 9200, "scheme": "https",
    },
}


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
    address of its default route (from facts). brackets=True puts an IPv6 address in brackets,
    as a URL, a listen address or a published port needs it (RFC 3986)."""
    name = host_vars.get("inventory_hostname", "this host")
    address = host_vars.get("stack_private_address")
    origin = "stack_private_address"
    if not address:
        address = ((host_vars.get("ansible_facts") or {}).get("default_ipv4") or {}).get("address")
        origin = "the address of its default route (ansible_facts.default_ipv4)"
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


def authority(address, port):
    """host:port, with an IPv6 address in brackets (RFC 3986)."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def stack_endpoints(hostvars, groups, service):
    """Where each host of the group serving `service` is reached: one dict per host, in the
    group's order, with host (inventory name), address, port, authority and url."""
    if service not in ENDPOINTS:
        raise AnsibleFilterError(
            f"stack_endpoints: unknown service {service!r} (expected one of {', '.join(sorted(ENDPOINTS))})")
    spec = ENDPOINTS[service]
    endpoints = []
    for host in groups.get(spec["group"]) or []:
        host_vars = hostvars[host]
        port = host_vars.get(spec["port_var"], spec["port"])
        try:
            port = int(port)
        except (TypeError, ValueError):
            port = 0
        if not 0 < port < 65536:
            raise AnsibleFilterError(
                f"{host}: {spec['port_var']} must be a port number (1-65535), got {host_vars.get(spec['port_var'])!r}")
        address = private_address(host_vars)
        endpoints.append({
            "host": host,
            "address": address,
            "port": port,
            "authority": authority(address, port),
            "url": f"{spec['scheme']}://{authority(address, port)}",
        })
    return endpoints


class FilterModule:
    def filters(self):
        return {
            "stack_group_errors": stack_group_errors,
            "private_address": private_address,
            "stack_endpoints": stack_endpoints,
        }
