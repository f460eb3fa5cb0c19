import pytest

from ansible_collections.microops.stack.plugins.filter.stack_groups import stack_group_errors


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
