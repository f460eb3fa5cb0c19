#!/usr/bin/python
# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_secret
short_description: A secret that lives on the host that owns it, generated once and read back
version_added: 0.1.0
description:
  - Keeps one secret in a root-only file on the managed host (by default under
    C(/etc/microops/)) and returns its value, so every controller gets the same value on every
    run and nothing secret needs to sit in the inventory.
  - Without O(value), the file is read when it exists, and otherwise created with a new random
    value. With O(value) (for example from Ansible Vault in production), the file is rewritten
    when its content differs, which is how a secret is rotated.
  - The returned value is the secret itself. Always set C(no_log) on the task.
  - With O(value), nothing is returned as RV(value), because Ansible masks every return value
    equal to a C(no_log) option, so it would read C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER). Use
    O(value) itself then (see the examples).
options:
  name:
    description:
      - File name of the secret, relative to O(directory). Letters, digits, C(.), C(_) and
        C(-); one C(/) may separate a sub-directory (for example C(minio/root_password)).
    type: str
    required: true
  directory:
    description: Directory of the secrets; created root-only (0700) when missing.
    type: path
    default: /etc/microops
  value:
    description: The value to keep. Omitted, the existing value is kept or a new one generated.
    type: str
  length:
    description: Length of a generated value (letters and digits).
    type: int
    default: 32
  mode:
    description:
      - C(0600) keeps the file root's alone. C(0640) lets group root read it too (and the
        directories are then C(0750)), for containers that run as a user in group 0, such as
        Grafana's (uid 472, gid 0).
    type: str
    choices: ["0600", "0640"]
    default: "0600"
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - microops.stack.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written; a value that would be generated is returned as a random placeholder.
  diff_mode:
    support: none
    details: A secret is never shown in a diff.
  platform:
    platforms: posix
  idempotent:
    support: full
    details: A second run with the same arguments reads the file and reports no change.
author:
  - microops.stack developers (@microops)
"""

EXAMPLES = r"""
- name: Read or create MinIO's root password
  microops.stack.host_secret:
    name: minio/root_password
    length: 40
  register: minio_root_password
  no_log: true

- name: Set it from Vault in production
  microops.stack.host_secret:
    name: minio/root_password
    value: "{{ vault_minio_root_password }}"
  no_log: true

- name: Either way, use the password (the supplied one, or the one the module returned)
  ansible.builtin.set_fact:
    minio_password: "{{ vault_minio_root_password | default(minio_root_password.value, true) }}"
  no_log: true
"""

RETURN = r"""
value:
  description: The secret, read or generated.
  returned: when O(value) is not set
  type: str
path:
  description: The file that holds it.
  returned: always
  type: str
  sample: /etc/microops/minio/root_password
"""

import os
import re
import secrets
import stat
import string

from ansible.module_utils.basic import AnsibleModule

_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$")
_ALPHABET = string.ascii_letters + string.digits


def _ensure_dir(module, path, mode):
    """Create a missing directory with `mode`, or set it; report whether anything changed."""
    if os.path.isdir(path) and stat.S_IMODE(os.stat(path).st_mode) == mode:
        return False
    if not module.check_mode:
        os.makedirs(path, mode=mode, exist_ok=True)
        os.chmod(path, mode)
    return True


def _write(module, path, value, mode):
    if module.check_mode:
        return
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    os.chown(tmp, 0, 0)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "directory": {"type": "path", "default": "/etc/microops"},
            "value": {"type": "str", "no_log": True},
            "length": {"type": "int", "default": 32},
            "mode": {"type": "str", "default": "0600", "choices": ["0600", "0640"]},
        },
        supports_check_mode=True,
    )
    name, directory, wanted = module.params["name"], module.params["directory"], module.params["value"]
    if not _NAME.match(name) or any(part in (".", "..") for part in name.split("/")):
        module.fail_json(msg=f"name must be letters, digits, '.', '_', '-' with at most one '/', got {name!r}")
    if wanted == "":
        module.fail_json(msg=f"value for secret {name} is empty: leave it unset to generate one")
    if module.params["length"] < 8:
        module.fail_json(msg=f"length must be at least 8, got {module.params['length']}")

    path = os.path.join(directory, name)
    file_mode = int(module.params["mode"], 8)
    dir_mode = 0o750 if file_mode & 0o040 else 0o700
    changed = False
    if not os.path.isdir(directory):  # an existing top directory keeps its own mode
        changed = _ensure_dir(module, directory, 0o700)
    if os.path.dirname(path) != directory:
        changed |= _ensure_dir(module, os.path.dirname(path), dir_mode)
    current = None
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            current = handle.read()
    value = wanted if wanted is not None else current
    if value is None:
        value = "".join(secrets.choice(_ALPHABET) for _index in range(module.params["length"]))
    if value != current:
        _write(module, path, value, file_mode)
        changed = True
    elif stat.S_IMODE(os.stat(path).st_mode) != file_mode or os.stat(path).st_uid != 0:
        if not module.check_mode:
            os.chmod(path, file_mode)
            os.chown(path, 0, 0)
        changed = True
    result = {"changed": changed, "path": path}
    if wanted is None:
        # Ansible would mask a supplied value here (it is a no_log option): the caller has it.
        result["value"] = value
    module.exit_json(**result)


if __name__ == "__main__":
    main()
