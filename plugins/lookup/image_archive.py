# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: image_archive
short_description: What an image archive from C(docker save) holds, without loading it
version_added: 0.1.0
description:
  - Reads the C(manifest.json) and image config blobs of uncompressed C(docker save) archives on
    the controller and returns, per archive, its images' tags and identity.
  - The identity is a digest of the layers' diff-ids and of the config that decides what a
    container runs (user, environment, entrypoint, command, working dir, labels, stop signal,
    exposed ports, volumes). It is the same for the image once loaded, in Docker's classic and
    containerd image stores alike, where the image ID means different digests. The
    C(microops.stack.docker) role loads an archive only when an image it holds is missing or
    has another identity under the same tag.
  - Only the tar index, C(manifest.json) and the config blobs are read; layers are skipped, so
    the cost does not grow with the size of the layers.
options:
  _terms:
    description: Paths of archives on the controller.
    type: list
    elements: path
    required: true
"""

EXAMPLES = r"""
- name: Show what an archive holds
  ansible.builtin.debug:
    msg: "{{ query('microops.stack.image_archive', 'images/prometheus.tar') }}"
"""

RETURN = r"""
_raw:
  description: One entry per archive.
  type: list
  elements: dict
  contains:
    path:
      description: The archive's path on the controller.
      type: str
    images:
      description: The images in the archive.
      type: list
      elements: dict
      contains:
        tags:
          description: The repository tags the archive gives the image.
          type: list
          elements: str
        identity:
          description: C(sha256:) digest of diff-ids and runtime config.
          type: str
"""

import json
import tarfile

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.microops.stack.plugins.module_utils._docker import image_identity


def read_archive(path):
    try:
        with tarfile.open(path, mode="r:") as archive:
            manifest = json.load(archive.extractfile("manifest.json"))
            images = []
            for entry in manifest:
                blob = json.load(archive.extractfile(entry["Config"]))
                images.append({
                    "tags": entry.get("RepoTags") or [],
                    "identity": image_identity(blob.get("config"),
                                               (blob.get("rootfs") or {}).get("diff_ids")),
                })
    except (AttributeError, OSError, KeyError, TypeError, ValueError, tarfile.TarError) as exc:
        raise AnsibleLookupError(
            f"{path} is not a readable uncompressed `docker save` archive: {exc}") from exc
    return {"path": path, "images": images}


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        results = []
        for term in terms:
            path = self.find_file_in_search_path(variables, "files", term, ignore_missing=True)
            if not path:
                raise AnsibleLookupError(f"image archive {term} not found on the controller")
            results.append(read_archive(path))
        return results
