# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private helpers for the docker role's plugins: daemon.json rules and image identity."""

from __future__ import annotations

import hashlib
import ipaddress
import json

# Options dockerd applies on SIGHUP (moby daemon/reload.go and daemon/reload_unix.go). A reload
# only applies a key that is set in the new file: removing one of these still needs a restart.
RELOADABLE_OPTIONS = frozenset((
    "debug",
    "labels",
    "live-restore",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "shutdown-timeout",
    "features",
    "insecure-registries",
    "registry-mirrors",
    "allow-nondistributable-artifacts",
    "network-diagnostic-port",
    "runtimes",
    "default-runtime",
    "default-shm-size",
    "default-cgroupns-mode",
    "default-ipc-mode",
))

# The part of an image's config that changes what a container runs. Present in both the config
# blob of an archive ("config") and `docker image inspect` (.Config), with the same names.
_RUNTIME_CONFIG_KEYS = ("User", "Env", "Entrypoint", "Cmd", "WorkingDir", "Labels", "StopSignal")
_RUNTIME_CONFIG_SETS = ("ExposedPorts", "Volumes")


def daemon_action(current, desired):
    """What applying `desired` over the running `current` daemon.json needs.

    'none' when equal; 'reload' when every difference is a reloadable key set in `desired`;
    'restart' otherwise.
    """
    current, desired = current or {}, desired or {}
    changed = {key for key in set(current) | set(desired) if current.get(key) != desired.get(key)}
    if not changed:
        return "none"
    if all(key in RELOADABLE_OPTIONS and key in desired for key in changed):
        return "reload"
    return "restart"


def _address_port(value):
    """ADDRESS:PORT as Go's net.SplitHostPort takes it: an IPv6 address needs brackets."""
    host, sep, port = str(value).rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return False
    bracketed = host.startswith("[") and host.endswith("]")
    try:
        address = ipaddress.ip_address(host[1:-1] if bracketed else host)
    except ValueError:
        return False
    return bracketed == (address.version == 6)


def daemon_errors(options, name="docker_daemon_options"):
    """Messages for daemon options dockerd would refuse or that break the stack; [] when sound."""
    if not isinstance(options, dict):
        return [f"{name} must be a dict of daemon.json options, got {type(options).__name__}"]
    errors = []
    if "hosts" in options:
        errors.append(
            f"{name}.hosts is refused: it clashes with the service unit's -H fd:// and dockerd "
            "would not start; use a systemd drop-in to change where dockerd listens"
        )
    log_opts = options.get("log-opts", {})
    if not isinstance(log_opts, dict):
        errors.append(f"{name}.log-opts must be a dict, got {type(log_opts).__name__}")
    else:
        for key, value in sorted(log_opts.items()):
            if not isinstance(value, str):
                errors.append(
                    f"{name}.log-opts.{key} must be a string (dockerd refuses other types), "
                    f"got {value!r}: quote it"
                )
    if "live-restore" in options and not isinstance(options["live-restore"], bool):
        errors.append(f"{name}.live-restore must be true or false, got {options['live-restore']!r}")
    if "metrics-addr" in options and not _address_port(options["metrics-addr"]):
        errors.append(
            f"{name}.metrics-addr must be ADDRESS:PORT with an IP address, "
            f"got {options['metrics-addr']!r}"
        )
    pools = options.get("default-address-pools", [])
    if not isinstance(pools, list):
        errors.append(f"{name}.default-address-pools must be a list of {{base, size}}")
        pools = []
    for index, pool in enumerate(pools):
        where = f"{name}.default-address-pools[{index}]"
        if not isinstance(pool, dict) or set(pool) != {"base", "size"}:
            errors.append(f"{where} must be a dict with exactly the keys base and size, got {pool!r}")
            continue
        try:
            if "/" not in str(pool["base"]):
                raise ValueError("no prefix length")
            network = ipaddress.ip_network(str(pool["base"]))
        except ValueError:
            errors.append(f"{where}.base must be a network in CIDR form, got {pool['base']!r}")
            continue
        size = pool["size"]
        if not isinstance(size, int) or isinstance(size, bool) or not (
            network.prefixlen <= size <= network.max_prefixlen
        ):
            errors.append(
                f"{where}.size must be a prefix length from {network.prefixlen} to "
                f"{network.max_prefixlen} (the size of each network carved out of {network}), "
                f"got {size!r}"
            )
    return errors


def image_identity(config, diff_ids):
    """A digest of what makes two images the same, equal in Docker's classic and containerd
    image stores: the layers' diff-ids and the config that decides what a container runs.

    `config` is the "config" object of an image config blob, or .Config of `docker image
    inspect`; `diff_ids` is rootfs.diff_ids, or .RootFS.Layers of the inspect output.
    """
    config = config or {}
    subset = {key: config.get(key) or None for key in _RUNTIME_CONFIG_KEYS}
    for key in _RUNTIME_CONFIG_SETS:
        subset[key] = sorted(config.get(key) or {})
    document = json.dumps({"config": subset, "layers": list(diff_ids or [])}, sort_keys=True)
    return "sha256:" + hashlib.sha256(document.encode()).hexdigest()


def tagged(reference):
    """The name:tag form under which Docker lists an image pulled as `reference` (RepoTags):
    without its digest, with :latest when it has no tag."""
    name = str(reference).partition("@")[0]
    return name if ":" in name.rsplit("/", 1)[-1] else name + ":latest"
