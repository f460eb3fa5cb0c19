# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the docker role: daemon.json rules and which image archives to load."""

from __future__ import annotations

import datetime

from ansible.errors import AnsibleFilterError

from ansible_collections.microops.stack.plugins.module_utils._docker import (
    daemon_action,
    daemon_errors,
    image_identity,
    tagged,
)


def docker_archives_to_load(archives, images):
    """Paths of the archives (from the image_archive lookup) holding an image that is missing
    under one of its tags, or present there with another identity.

    `images` is the `images` list of community.docker.docker_image_info for those tags.
    """
    present = {}
    for image in images or []:
        identity = image_identity(image.get("Config"), (image.get("RootFS") or {}).get("Layers"))
        for tag in image.get("RepoTags") or []:
            present[tag] = identity
    return [
        archive["path"]
        for archive in archives
        if any(present.get(tag) != image["identity"]
               for image in archive["images"] for tag in image["tags"])
    ]


def docker_bundle(references, images, archives, directory):
    """One archive per image for hosts without registry access: for each reference, its archive
    in `directory`, whether it must be written (missing, or holding another identity under the
    tag), and what the manifest records (reference, tag, image id, repository digest, size).

    `images`: docker_image_info's list for the references (pulled); `archives`: the
    image_archive lookup's answer for the archives already in `directory`."""
    by_tag = {}
    for image in images or []:
        for tag in image.get("RepoTags") or []:
            by_tag[tag] = image
    held = {archive["path"]: {tag: entry["identity"] for entry in archive["images"] for tag in entry["tags"]}
            for archive in archives or []}
    plan = []
    for reference in references:
        digest = reference.partition("@")[2]
        tag = tagged(reference)
        image = by_tag.get(tag)
        if image is None:
            raise AnsibleFilterError(f"docker_bundle: {reference} is not on this engine under {tag} (pull it first)")
        identity = image_identity(image.get("Config"), (image.get("RootFS") or {}).get("Layers"))
        # One file per image, named after its tag (/ and : as _).
        path = f"{directory.rstrip('/')}/{tag.replace('/', '_').replace(':', '_')}.tar"
        repo_digests = [d for d in image.get("RepoDigests") or [] if d.partition("@")[0] == tag.rpartition(":")[0]]
        if digest and f"{tag.rpartition(':')[0]}@{digest}" not in repo_digests:
            raise AnsibleFilterError(f"docker_bundle: the image under {tag} is not {reference}'s digest")
        plan.append({"reference": reference, "tag": tag, "archive": path,
                     "write": held.get(path, {}).get(tag) != identity,
                     "id": image.get("Id"), "digest": repo_digests[0].partition("@")[2] if repo_digests else None,
                     "size": image.get("Size")})
    return plan


def docker_archive_tags(archives):
    """Every tag the archives give their images."""
    return sorted({tag for archive in archives for image in archive["images"]
                   for tag in image["tags"]})


def _reference_forms(reference):
    """The forms under which Docker lists an image pulled as `reference`: name:tag in RepoTags,
    name@digest in RepoDigests (a reference may carry both: name:tag@digest)."""
    digest = reference.partition("@")[2]
    forms = {tagged(reference)}
    if digest:
        forms.add(f"{tagged(reference).rsplit(':', 1)[0]}@{digest}")
    return forms


def docker_images_missing(references, images):
    """The references (as a role gives them) that none of `images` (the `images` list of
    community.docker.docker_image_info for them) carries. With a digest, the digest must match."""
    present = set()
    for image in images or []:
        present.update(image.get("RepoTags") or [])
        present.update(image.get("RepoDigests") or [])
    missing = []
    for reference in references:
        forms = _reference_forms(reference)
        needed = {form for form in forms if "@" in form} or forms
        if not needed & present:
            missing.append(reference)
    return missing


# Network options the engine reports back (microops.stack.host_state); with any other option
# (ipam_config, labels, ...) the network is always handed to community.docker.docker_network,
# which compares everything.
_NETWORK_COMPARED = {"name": None, "driver": "bridge", "internal": False, "attachable": False, "enable_ipv6": False}


def docker_networks_stale(networks, state):
    """The networks of `networks` (community.docker.docker_network options) that do not exist
    as asked, by the `networks` answer of microops.stack.host_state."""
    stale = []
    for network in networks:
        found = (state or {}).get(network["name"]) or {}
        settled = found.get("exists") and set(network) <= set(_NETWORK_COMPARED) and all(
            found.get(key) == network.get(key, default)
            for key, default in _NETWORK_COMPARED.items() if key != "name")
        if not settled:
            stale.append(network)
    return stale


# How long after its start a stack server counts as maybe still starting: the roles' readiness
# waits give it minutes then, and a few tries later (a hung server then fails the run soon).
STARTING_SECONDS = 120


def docker_started_within(result, seconds=STARTING_SECONDS):
    """Whether the container of a community.docker.docker_container `result` was (re)started by
    that task, or by anything else (the engine at boot, its restart policy) less than `seconds`
    ago: a server that may still be starting. Unknown (no container, no start time): True."""
    if not isinstance(result, dict) or result.get("changed"):
        return True
    started = ((result.get("container") or {}).get("State") or {}).get("StartedAt") or ""
    try:
        at = datetime.datetime.strptime(started[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return True
    return (datetime.datetime.now(datetime.timezone.utc) - at).total_seconds() < float(seconds)


class FilterModule:
    def filters(self):
        return {
            "docker_daemon_action": daemon_action,
            "docker_daemon_errors": daemon_errors,
            "docker_archives_to_load": docker_archives_to_load,
            "docker_archive_tags": docker_archive_tags,
            "docker_bundle": docker_bundle,
            "docker_images_missing": docker_images_missing,
            "docker_networks_stale": docker_networks_stale,
            "docker_started_within": docker_started_within,
        }
