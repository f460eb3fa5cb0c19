# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the stack's inventory groups."""

from __future__ import annotations

DOCUMENTATION = r"""
name: stack_group_errors
short_description: What is wrong with the stack's inventory groups
version_added: 0.1.0
description:
  - Checks the inventory groups of the stack and returns one message per problem,
    an empty list when the inventory is sound.
  - Every host of a C(stack_*) group must also be in C(stack_hosts), where Docker and the
    per-host agents are installed; C(stack_hosts) must not be empty.
  - A group that starts with C(stack_) but is not one of the stack's groups is reported, since
    it is most likely a typo that would silently leave a component undeployed.
options:
  _input:
    description: The C(groups) magic variable.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the inventory
  ansible.builtin.assert:
    that: groups | microops.stack.stack_group_errors | length == 0
    fail_msg: "{{ groups | microops.stack.stack_group_errors | join('; ') }}"
"""

RETURN = r"""
_value:
  description: One message per problem found; empty when the groups are sound.
  type: list
  elements: str
"""

# The stack's groups. Prefixed so they never collide with a user's own.
STACK_GROUPS = (
    "stack_hosts",
    "stack_minio",
    "stack_monitoring",
    "stack_logging",
    "stack_sentry",
    "stack_services",
)


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


class FilterModule:
    def filters(self):
        return {"stack_group_errors": stack_group_errors}
