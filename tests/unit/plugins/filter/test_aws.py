"""The aws role's filters: security group rules derived from the roles' port table, and the
layout's refusals."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.microops.stack.plugins.filter.aws import (
    aws_layout_errors,
    aws_public_rules,
    aws_security_rules,
    aws_stack_ports,
)
from ansible_collections.microops.stack.plugins.filter.stack import PEER_PORTS, SERVICES


def test_stack_ports_are_the_tables_with_the_inventorys_port_variables():
    ports = aws_stack_ports({})
    assert set(ports) == {spec["port"] for spec in SERVICES.values()} | set(PEER_PORTS.values())
    assert ports[9300] == ["elasticsearch_transport"]
    # One port shared by two servers (SeaweedFS and MinIO never run together) is one rule.
    moved = aws_stack_ports({"monitoring_prometheus_port": "19090"})
    assert 19090 in moved and 9090 not in moved
    with pytest.raises(AnsibleFilterError, match="monitoring_grafana_port must be a port number"):
        aws_stack_ports({"monitoring_grafana_port": "grafana"})


def test_rules_ssh_from_the_admins_and_every_stack_port_from_the_group_itself():
    rules = aws_security_rules({}, "microops-stack", "198.51.100.0/24")
    assert rules[0] == {"proto": "tcp", "ports": [22], "cidr_ip": "198.51.100.0/24", "rule_desc": "SSH from the admins"}
    assert all(rule.get("group_name") == "microops-stack" and "cidr_ip" not in rule for rule in rules[1:])
    assert [rule["ports"][0] for rule in rules[1:]] == sorted(aws_stack_ports({}))


def test_public_rules_each_port_once_from_anywhere():
    assert aws_public_rules([443, "80", 443]) == [
        {"proto": "tcp", "ports": [80], "cidr_ip": "0.0.0.0/0", "cidr_ipv6": "::/0", "rule_desc": "public port 80"},
        {"proto": "tcp", "ports": [443], "cidr_ip": "0.0.0.0/0", "cidr_ipv6": "::/0", "rule_desc": "public port 443"}]


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ([], "aws_instances must be a non-empty list"),
        ([{"groups": ["s3"]}], "aws_instances[0]: name is required"),
        ([{"name": "a", "groups": "s3"}], "instance a: groups must be a list"),
        ([{"name": "a", "groups": ["minio"]}], "instance a: group 'minio' is not one of"),
        ([{"name": "a", "groups": ["s3"]}, {"name": "b", "groups": ["s3"]}],
         "instance b: group s3 is already on instance a (one host only)"),
        ([{"name": "a", "groups": ["services"]}, {"name": "a", "groups": ["services"]}], "instance a: name is used twice"),
    ],
)
def test_bad_layouts_are_refused_naming_the_instance(instances, message):
    assert any(error.startswith(message) for error in aws_layout_errors(instances)), aws_layout_errors(instances)


def test_services_and_logging_may_be_on_several_instances():
    assert aws_layout_errors([{"name": "a", "groups": ["services", "logging"]},
                              {"name": "b", "groups": ["services", "logging"]}]) == []
