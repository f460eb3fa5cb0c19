#!/usr/bin/python
# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: images_available
short_description: Whether a host can have each image it is to run, without changing anything
version_added: 0.2.0
description:
  - For each image of O(images), where the host would get it from - C(present) (the Docker engine on the host
    already has it), C(archive) (O(archived) lists it, so an archive of C(docker_image_archives) holds it), or
    C(registry) (its registry serves it to this host) - or why it cannot, in RV(missing).
  - The registry is asked from the host, with the registry HTTP API (a C(HEAD) of the image's manifest, the way
    C(docker pull) starts), anonymously or with the credentials C(docker login) left in O(docker_config). Nothing
    is pulled, and the host need not have Docker yet.
  - An image pinned by digest (C(name:tag@sha256:...)) is not taken from an archive, since a loaded archive
    cannot prove its digest (the C(microops.stack.docker) role's C(images_present) refuses it too).
  - The site playbook's preflight runs it on every host before the first change, and fails once with every
    missing image of every host.
options:
  images:
    description: Image references, such as C(prom/prometheus:v3.14.0) or C(quay.io/org/name:tag@sha256:...).
    type: list
    elements: str
    required: true
  archived:
    description: The C(name:tag) references that the archives to be loaded on the host hold.
    type: list
    elements: str
    default: []
  registry:
    description: Ask the registry about images neither present nor archived. Off, they are missing.
    type: bool
    default: true
  docker_config:
    description: The Docker client configuration with the host's registry credentials (its C(auths)).
    type: path
    default: /root/.docker/config.json
  daemon_config:
    description:
      - The engine's configuration. Docker Hub's images are asked of its C(registry-mirrors) first, as the
        engine pulls them.
    type: path
    default: /etc/docker/daemon.json
  timeout:
    description: Seconds to wait for each registry answer. A registry that does not answer is asked once per run.
    type: int
    default: 10
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
    details: It never changes anything.
author:
  - microops.stack developers (@microops)
"""

EXAMPLES = r"""
- name: Check every image before the first change
  microops.stack.images_available:
    images: "{{ hostvars | microops.stack.stack_images(groups, inventory_hostname) }}"
  register: found

- name: Stop naming what is missing
  ansible.builtin.assert:
    that: found.missing | length == 0
    fail_msg: "{{ found.missing | map(attribute='image') | join(', ') }}"
"""

RETURN = r"""
images:
  description: Each image and where the host gets it.
  returned: always
  type: list
  elements: dict
  contains:
    image:
      description: The reference.
      type: str
    source:
      description: C(present), C(archive), C(registry), or C(missing).
      type: str
    reason:
      description: Why it is missing (none otherwise).
      type: str
  sample: [{"image": "prom/prometheus:v3.14.0", "source": "registry", "reason": null}]
missing:
  description: The entries of RV(images) whose source is C(missing), with their reasons.
  returned: always
  type: list
  elements: dict
  sample: [{"image": "grafana/grafana:13.2.0", "source": "missing",
            "reason": "docker.io cannot be reached from this host (timed out)"}]
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.microops.stack.plugins.module_utils._docker import tagged
from ansible_collections.microops.stack.plugins.module_utils._registry import HttpError, available, parse_reference


def _present(module, docker, image):
    if not docker:
        return False
    rc, dummy, dummy = module.run_command([docker, "image", "inspect", "--format", "{{.Id}}", "--", image])
    return rc == 0


def _archived(image, archived):
    # Pinned by digest: a loaded archive cannot prove it.
    return "@" not in image and tagged(image) in archived


def _config(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def main():
    module = AnsibleModule(
        argument_spec={
            "images": {"type": "list", "elements": "str", "required": True},
            "archived": {"type": "list", "elements": "str", "default": []},
            "registry": {"type": "bool", "default": True},
            "docker_config": {"type": "path", "default": "/root/.docker/config.json"},
            "daemon_config": {"type": "path", "default": "/etc/docker/daemon.json"},
            "timeout": {"type": "int", "default": 10},
        },
        supports_check_mode=True,
    )
    docker = module.get_bin_path("docker")
    # The daemon must answer too: an installed but stopped engine has no image to offer.
    if docker and module.run_command([docker, "version", "--format", "{{.Server.Version}}"])[0] != 0:
        docker = None
    archived = set(module.params["archived"])
    config = _config(module.params["docker_config"])
    mirrors = _config(module.params["daemon_config"]).get("registry-mirrors") or []
    unreachable = {}
    found = []
    for image in dict.fromkeys(module.params["images"]):
        entry = {"image": image, "source": "missing", "reason": None}
        if _present(module, docker, image):
            entry["source"] = "present"
        elif _archived(image, archived):
            entry["source"] = "archive"
        elif not module.params["registry"]:
            entry["reason"] = "not on the host and in no archive"
        else:
            registry = parse_reference(image)[0]
            if registry in unreachable:
                entry["reason"] = unreachable[registry]
            else:
                try:
                    ok, why = available(image, config, module.params["timeout"], mirrors)
                except HttpError as exc:
                    ok, why = False, f"{registry} cannot be reached from this host ({exc.message})"
                    unreachable[registry] = why
                if ok:
                    entry["source"] = "registry"
                else:
                    entry["reason"] = why
        found.append(entry)
    module.exit_json(changed=False, images=found, missing=[entry for entry in found if entry["source"] == "missing"])


if __name__ == "__main__":
    main()
