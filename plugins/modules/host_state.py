#!/usr/bin/python
# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state
short_description: What a role manages on a host, read in one call
version_added: 0.2.0
description:
  - Reads, in one module call, the state of the files, directories, containers and images that a
    role manages on a host, so that the role runs a task only where the host differs from what
    it wants. On a host where nothing changed, a role then costs one task instead of one per
    file, directory and container, and Ansible's own cost per task dominates a no-op run.
  - Never changes anything.
  - Never returns a file's content unless the path is in O(read); do not list secrets there.
options:
  paths:
    description:
      - Files and directories to stat. Each answer has C(exists), C(isdir), C(mode) (four octal
        digits), C(uid), C(gid) and, for a regular file, C(checksum) (SHA-1 of its content, as
        Ansible's C(hash('sha1')) filter computes it from the same text).
    type: list
    elements: path
    default: []
  read:
    description: Small text files whose content is returned as C(content) (none when missing).
    type: list
    elements: path
    default: []
  containers:
    description:
      - Docker containers to inspect. Each answer has C(exists), C(running), C(health) (the
        health check's status, or none), C(image) (the id of the image it runs) and C(labels).
    type: list
    elements: str
    default: []
  images:
    description: Image references; each answer is the image's id on the host, or none when missing.
    type: list
    elements: str
    default: []
  networks:
    description:
      - Docker networks to inspect. Each answer has C(exists), C(driver), C(internal), C(attachable)
        and C(enable_ipv6).
    type: list
    elements: str
    default: []
  engine:
    description:
      - Also return C(engine), with the Docker engine's C(docker info) (empty when none answers),
        C(error) (why it did not answer), and C(dockerd_version) (the output of C(dockerd --version),
        empty when dockerd is not installed).
    type: bool
    default: false
  python_modules:
    description: Python modules to try to import with the module's interpreter; the answer says which import.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - microops.stack.attributes
attributes:
  check_mode:
    support: full
    details: It only reads, in check mode as in a normal run.
  diff_mode:
    support: none
  platform:
    platforms: posix
  idempotent:
    support: full
notes:
  - Containers and images are read with the C(docker) command line (C(docker inspect)), so the
    host needs no Python library for Docker.
author:
  - microops.stack developers (@microops)
"""

EXAMPLES = r"""
- name: Read what the role manages
  microops.stack.host_state:
    paths: [/opt/microops/monitoring/prometheus/prometheus.yml]
    containers: [prometheus]
    images: ["prom/prometheus:v3.14.0"]
  register: state

- name: Write prometheus.yml only where it differs
  ansible.builtin.copy:
    dest: /opt/microops/monitoring/prometheus/prometheus.yml
    content: "{{ config }}"
    mode: "0644"
  when: state.paths['/opt/microops/monitoring/prometheus/prometheus.yml'].checksum != config | hash('sha1')
"""

RETURN = r"""
paths:
  description: One entry per path of O(paths).
  returned: always
  type: dict
  sample: {"/etc/docker/daemon.json": {"exists": true, "isdir": false, "mode": "0644", "uid": 0, "gid": 0,
           "checksum": "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"}}
content:
  description: The content of each file of O(read), or none when it is missing.
  returned: always
  type: dict
containers:
  description: One entry per container of O(containers).
  returned: always
  type: dict
  sample: {"prometheus": {"exists": true, "running": true, "health": "healthy", "image": "sha256:1f2e...",
           "labels": {}}}
images:
  description: The id of each image of O(images), or none.
  returned: always
  type: dict
networks:
  description: One entry per network of O(networks).
  returned: always
  type: dict
  sample: {"stack_backend": {"exists": true, "driver": "bridge", "internal": true, "attachable": false,
           "enable_ipv6": false}}
engine:
  description: The engine's C(docker info), C(error) and C(dockerd_version).
  returned: when O(engine=true)
  type: dict
python_modules:
  description: For each module of O(python_modules), whether it imports.
  returned: always
  type: dict
"""

import hashlib
import importlib
import json
import os
import stat

from ansible.module_utils.basic import AnsibleModule


def path_state(path):
    try:
        info = os.stat(path)
    except OSError:
        return {"exists": False, "isdir": False, "mode": None, "uid": None, "gid": None, "checksum": None}
    checksum = None
    if stat.S_ISREG(info.st_mode):
        digest = hashlib.sha1()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(65536), b""):
                digest.update(block)
        checksum = digest.hexdigest()
    return {
        "exists": True,
        "isdir": stat.S_ISDIR(info.st_mode),
        "mode": "%04o" % stat.S_IMODE(info.st_mode),
        "uid": info.st_uid,
        "gid": info.st_gid,
        "checksum": checksum,
    }


def read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def inspect(module, docker, kind, names):
    """`docker <kind> inspect` of every name at once; missing names are simply absent."""
    if not names or not docker:
        return []
    dummy, out, dummy = module.run_command([docker, kind, "inspect", "--"] + list(names))
    try:
        return json.loads(out or "[]") or []
    except ValueError:
        return []


def containers_state(module, docker, names):
    found = {}
    for entry in inspect(module, docker, "container", names):
        state = entry.get("State") or {}
        found[(entry.get("Name") or "").lstrip("/")] = {
            "exists": True,
            "running": bool(state.get("Running")),
            "health": (state.get("Health") or {}).get("Status"),
            "image": entry.get("Image"),
            "labels": (entry.get("Config") or {}).get("Labels") or {},
        }
    missing = {"exists": False, "running": False, "health": None, "image": None, "labels": {}}
    return dict((name, found.get(name, dict(missing))) for name in names)


def images_state(module, docker, references):
    # One call each: `docker image inspect a b` fails as a whole when one is missing, and its
    # answer does not say which reference each entry answers.
    found = {}
    for reference in references:
        entries = inspect(module, docker, "image", [reference])
        found[reference] = entries[0].get("Id") if entries else None
    return found


def networks_state(module, docker, names):
    found = {}
    for entry in inspect(module, docker, "network", names):
        found[entry.get("Name")] = {
            "exists": True,
            "driver": entry.get("Driver"),
            "internal": bool(entry.get("Internal")),
            "attachable": bool(entry.get("Attachable")),
            "enable_ipv6": bool(entry.get("EnableIPv6")),
        }
    missing = {"exists": False, "driver": None, "internal": None, "attachable": None, "enable_ipv6": None}
    return dict((name, found.get(name, dict(missing))) for name in names)


def engine_state(module, docker):
    info, error = {}, ""
    if docker:
        rc, out, err = module.run_command([docker, "info", "--format", "{{json .}}"])
        try:
            info = json.loads(out) if rc == 0 else {}
        except ValueError:
            info = {}
        error = err.strip()
    else:
        error = "docker: command not found"
    if not info.get("ServerVersion"):
        info = {}
    dockerd = module.get_bin_path("dockerd")
    version = ""
    if dockerd:
        rc, out, dummy = module.run_command([dockerd, "--version"])
        version = out.strip() if rc == 0 else ""
    return {"info": info, "error": error, "dockerd_version": version}


def importable(name):
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", default=[]),
            read=dict(type="list", elements="path", default=[]),
            containers=dict(type="list", elements="str", default=[]),
            images=dict(type="list", elements="str", default=[]),
            networks=dict(type="list", elements="str", default=[]),
            engine=dict(type="bool", default=False),
            python_modules=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    docker = module.get_bin_path("docker")
    result = dict(
        changed=False,
        paths=dict((path, path_state(path)) for path in params["paths"]),
        content=dict((path, read_text(path)) for path in params["read"]),
        containers=containers_state(module, docker, params["containers"]),
        images=images_state(module, docker, params["images"]),
        networks=networks_state(module, docker, params["networks"]),
        python_modules=dict((name, importable(name)) for name in params["python_modules"]),
    )
    if params["engine"]:
        result["engine"] = engine_state(module, docker)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
