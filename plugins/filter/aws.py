# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the aws role: the EC2 security groups' rules, derived from the port table the
roles use (plugins/filter/stack.py), never a copy kept by hand.

Documentation: the .yml files of the same names beside this file."""

from __future__ import annotations

from ansible_collections.microops.stack.plugins.filter.stack import EDGE_PORTS, PEER_PORTS, SERVICES, server_port

# The names `microops:groups` takes (inventories/production/aws_ec2.yml maps them to stack_*).
GROUP_TAGS = ("s3", "monitoring", "logging", "sentry", "services", "edge")


def aws_stack_ports(host_vars):
    """{port: [servers]} of every port stack hosts reach each other on: each server's port
    variable as `host_vars` sets it (the inventory's group_vars/all), else its default."""
    ports = {}
    for server in sorted(SERVICES):
        ports.setdefault(server_port(host_vars, server), []).append(server)
    for name, port in PEER_PORTS.items():
        ports.setdefault(port, []).append(name)
    return dict(sorted(ports.items()))


def aws_security_rules(host_vars, group_name, admin_cidr, behind_edge=()):
    """The stack security group's ingress rules (amazon.aws.ec2_security_group): SSH from the
    admin CIDR only; every stack port from members of the group itself, and the public services'
    ports `behind_edge` (the edge proxy's upstreams on other instances), nothing else."""
    rules = [{"proto": "tcp", "ports": [22], "cidr_ip": admin_cidr, "rule_desc": "SSH from the admins"}]
    ports = aws_stack_ports(host_vars)
    for port in behind_edge:
        ports.setdefault(int(port), []).append("public service behind the edge")
    for port, servers in sorted(ports.items()):
        rules.append({"proto": "tcp", "ports": [port], "group_name": group_name,
                      "rule_desc": f"{', '.join(servers)} from stack hosts"})
    return rules


def aws_public_rules(public_ports):
    """The public security group's rules: each public port from anywhere, IPv4 and IPv6."""
    return [{"proto": "tcp", "ports": [int(port)], "cidr_ip": "0.0.0.0/0", "cidr_ipv6": "::/0",
             "rule_desc": f"public port {int(port)}"} for port in sorted({int(p) for p in public_ports})]


def aws_public_ports(instances, public_ports):
    """What the public security group opens and which instances it is attached to, as
    {ports, group, behind_edge}: with an edge instance in the layout, the edge proxy's ports (80,
    443) on the edge instances only, and `public_ports` (aws_public_ports) as behind_edge: the
    public services publish them on private addresses, for the proxy (opened between stack
    instances only); else `public_ports` on the services instances."""
    edge = any("edge" in (i.get("groups") or []) for i in instances if isinstance(i, dict))
    ports = sorted({int(p) for p in public_ports})
    if edge:
        return {"ports": sorted(EDGE_PORTS), "group": "edge", "behind_edge": ports}
    return {"ports": ports, "group": "services", "behind_edge": []}


def aws_layout_errors(instances, groups_tags=GROUP_TAGS):
    """Problems of aws_instances, each naming the instance: every group on exactly one instance
    except services (any number), names unique, groups known."""
    errors, seen, owner = [], set(), {}
    if not isinstance(instances, list) or not instances:
        return ["aws_instances must be a non-empty list of {name, groups, ...}"]
    for index, instance in enumerate(instances):
        name = instance.get("name") if isinstance(instance, dict) else None
        label = f"aws_instances[{index}]" if not isinstance(name, str) else f"instance {name}"
        if not isinstance(name, str) or not name:
            errors.append(f"{label}: name is required")
        elif name in seen:
            errors.append(f"{label}: name is used twice")
        seen.add(name)
        groups = instance.get("groups") if isinstance(instance, dict) else None
        if not isinstance(groups, list):
            errors.append(f"{label}: groups must be a list of {', '.join(groups_tags)}")
            continue
        for group in groups:
            if group not in groups_tags:
                errors.append(f"{label}: group {group!r} is not one of {', '.join(groups_tags)}")
            elif group in ("s3", "sentry") and group in owner:
                errors.append(f"{label}: group {group} is already on instance {owner[group]} (one host only)")
            owner.setdefault(group, name)
    return errors


def aws_instance_line(instance):
    """One instance for people: name, stack groups, private and public address, id."""
    tags = instance.get("tags") or {}
    return (f"{tags.get('Name')}: groups {tags.get('microops:groups')}, private {instance.get('private_ip_address')}, "
            f"public {instance.get('public_ip_address') or 'none'} ({instance.get('instance_id')})")


class FilterModule:
    def filters(self):
        return {
            "aws_stack_ports": aws_stack_ports,
            "aws_security_rules": aws_security_rules,
            "aws_public_rules": aws_public_rules,
            "aws_public_ports": aws_public_ports,
            "aws_layout_errors": aws_layout_errors,
            "aws_instance_line": aws_instance_line,
        }
