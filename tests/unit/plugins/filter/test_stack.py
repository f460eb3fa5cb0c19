import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.microops.stack.plugins.filter.stack import (
    private_address,
    stack_group_errors,
)


@pytest.mark.parametrize(
    "groups",
    [
        {"all": ["a"], "ungrouped": [], "stack_hosts": ["a"]},
        {"stack_hosts": ["a", "b"], "stack_minio": ["a"], "stack_monitoring": ["b"], "web": ["c"]},
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
    errors = stack_group_errors({"stack_hosts": ["a"], "stack_minio": ["b", "a", "c"]})
    assert errors == ["group stack_minio has hosts that are not in stack_hosts: b, c"]


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
        ({"ansible_facts": {"default_ipv4": {"address": "fd00:0::a"}}}, "fd00::a"),
    ],
    ids=["own-wins", "own-without-facts", "facts", "own-empty", "own-null", "ipv6",
         "ipv6-facts"],
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
    ],
    ids=["own-invalid", "own-cidr", "facts-invalid", "neither", "no-default-route"],
)
def test_private_address_errors(host_vars, message):
    with pytest.raises(AnsibleFilterError) as excinfo:
        private_address(host_vars)
    assert str(excinfo.value) == message
