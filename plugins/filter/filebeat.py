# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipper's configuration: Filebeat 9 reading every container's JSON log on a stack host.

Documentation: filebeat_config.yml beside this file. Each setting follows Elastic's Filebeat 9
reference (https://www.elastic.co/docs/reference/beats/filebeat/), page named where it is used."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError

# Where the official image (docker.elastic.co/beats/filebeat) finds what the agent mounts.
CONTAINERS_GLOB = "/var/lib/docker/containers/*/*-json.log"
DOCKER_HOST = "unix:///var/run/docker.sock"
INPUT_ID = "microops-containers"

# The fields the index template maps as keywords (ECS names where ECS has one).
FIELDS = {
    "service": "service.name",
    "container": "container.name",
    "host": "host.name",
    "environment": "labels.environment",
}

DEFAULTS = {"service_label": "com.microops.service", "own_container": "filebeat"}
REQUIRED = ("hosts", "username", "password", "ca_path", "data_stream", "environment", "host_name",
            "queue_max_size")

# Elastic's data stream naming scheme <type>-<dataset>-<namespace>: lowercase, no hyphen inside
# dataset or namespace.
DATA_STREAM = re.compile(r"^logs-([a-z0-9_.]+)-([a-z0-9_.]+)$")
# A size as Filebeat's disk queue parses it (go-humanize ParseBytes): 1GB, 512MiB, 100 MB.
SIZE = re.compile(r"^([0-9]+(?:\.[0-9]+)?) ?([KMGT]i?B|B)$", re.IGNORECASE)


def _text(options, name):
    value = options.get(name)
    if not isinstance(value, str) or not value.strip():
        raise AnsibleFilterError(f"filebeat_config: {name} must be a non-empty string")
    return value


def _hosts(options):
    hosts = options.get("hosts")
    if isinstance(hosts, str) or not isinstance(hosts, (list, tuple)) or not hosts:
        raise AnsibleFilterError("filebeat_config: hosts must be a non-empty list of https:// URLs "
                                 f"of Elasticsearch, got {hosts!r}")
    for host in hosts:
        parts = urlsplit(host) if isinstance(host, str) else None
        if parts is None or parts.scheme != "https" or not parts.hostname:
            raise AnsibleFilterError("filebeat_config: every entry of hosts must be an https:// URL "
                                     f"(security is on, the CA is checked), got {host!r}")
    return list(hosts)


def _queue_size(options):
    size = options.get("queue_max_size")
    text = str(size).strip() if isinstance(size, (str, int)) and not isinstance(size, bool) else ""
    match = SIZE.match(text)
    number = float(match.group(1)) if match else (float(text) if text.isdigit() else None)
    # 0 means "no limit" to Filebeat: the queue could fill the host's disk.
    if not number:
        raise AnsibleFilterError("filebeat_config: queue_max_size must be a size above zero such as "
                                 f"'1GB' or '512MiB' (queue.disk.max_size), got {size!r}")
    return text


def _options(options):
    if not isinstance(options, dict):
        raise AnsibleFilterError(f"filebeat_config: expects a dict of options, got {type(options).__name__}")
    unknown = sorted(set(options) - set(REQUIRED) - set(DEFAULTS))
    if unknown:
        raise AnsibleFilterError(f"filebeat_config: unknown option(s) {', '.join(unknown)}; "
                                 f"known: {', '.join(sorted(REQUIRED + tuple(DEFAULTS)))}")
    missing = [name for name in REQUIRED if options.get(name) in (None, "")]
    if missing:
        raise AnsibleFilterError(f"filebeat_config: missing option(s) {', '.join(missing)}")
    merged = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    for name in ("username", "password", "environment", "host_name", "service_label", "own_container"):
        _text(merged, name)
    if not isinstance(merged["ca_path"], str) or not merged["ca_path"].startswith("/"):
        raise AnsibleFilterError("filebeat_config: ca_path must be an absolute path inside the "
                                 f"Filebeat container, got {merged['ca_path']!r}")
    stream = DATA_STREAM.match(merged["data_stream"]) if isinstance(merged["data_stream"], str) else None
    if not stream:
        raise AnsibleFilterError("filebeat_config: data_stream must be named logs-<dataset>-<namespace> "
                                 f"(lowercase, no '-' inside either part), got {merged['data_stream']!r}")
    if stream.group(2) != merged["environment"]:
        raise AnsibleFilterError(f"filebeat_config: data_stream {merged['data_stream']!r} must end with the "
                                 f"environment {merged['environment']!r} (its namespace)")
    if re.search(r"\s", merged["service_label"]):
        raise AnsibleFilterError(f"filebeat_config: service_label must be a Docker label key, got "
                                 f"{merged['service_label']!r}")
    merged["hosts"] = _hosts(merged)
    merged["queue_max_size"] = _queue_size(merged)
    return merged, stream.group(1), stream.group(2)


def filebeat_config(options):
    """The content of filebeat.yml as a dict, for to_nice_yaml."""
    opts, dataset, namespace = _options(options)
    # add_docker_metadata writes labels under container.labels with dots replaced by '_'
    # (labels.dedot defaults to true; add-docker-metadata.md).
    label_field = "container.labels." + opts["service_label"].replace(".", "_")
    return {
        # agent.name; host.name is set below (the builtin one is the container's hostname).
        "name": opts["host_name"],
        "filebeat": {
            "inputs": [{
                # filebeat-input-filestream.md: every filestream input needs a unique id; the
                # container parser replaces the container/log inputs disabled in 9.0.
                "type": "filestream",
                "id": INPUT_ID,
                "paths": [CONTAINERS_GLOB],
                "parsers": [{"container": {"stream": "all", "format": "docker"}}],
                # The default identity (fingerprint) waits until a file holds 1024 bytes, so a
                # container that prints one error line and dies would never ship. The host's
                # bind-mounted directory keeps inodes stable, and clean_removed (default) drops
                # the state of a removed container's file.
                "file_identity": {"native": None},
                "prospector": {"scanner": {"fingerprint": {"enabled": False}}},
            }],
        },
        # Global processors run after the builtin fields (host.name, agent.*) are added, so
        # add_fields here overwrites them (libbeat publisher/processing/default.go).
        "processors": [
            # Matches the container id in log.file.path (/var/lib/docker/containers/<id>/...).
            {"add_docker_metadata": {"host": DOCKER_HOST, "match_source": True, "match_source_index": 4,
                                     "labels": {"dedot": True}}},
            # Filebeat's own stderr is a container log too: shipping it would loop.
            {"drop_event": {"when": {"equals": {FIELDS["container"]: opts["own_container"]}}}},
            {"copy_fields": {"fields": [{"from": label_field, "to": FIELDS["service"]}],
                             "fail_on_error": False, "ignore_missing": True}},
            {"copy_fields": {"fields": [{"from": FIELDS["container"], "to": FIELDS["service"]}],
                             "fail_on_error": False, "ignore_missing": True,
                             "when": {"not": {"has_fields": [FIELDS["service"]]}}}},
            {"add_fields": {"target": "", "fields": {
                "host": {"name": opts["host_name"]},
                "labels": {"environment": opts["environment"]},
                "data_stream": {"type": "logs", "dataset": dataset, "namespace": namespace},
            }}},
        ],
        "output": {
            "elasticsearch": {
                "hosts": opts["hosts"],
                "username": opts["username"],
                "password": opts["password"],
                "ssl": {"certificate_authorities": [opts["ca_path"]], "verification_mode": "full"},
                # A data stream: Filebeat sends `create` bulk actions to it (elasticsearch-output.md).
                "index": opts["data_stream"],
            },
        },
        # queue.disk.max_size is required for the disk queue (configuring-internal-queue.md);
        # its default path is ${path.data}/diskqueue, on the data volume.
        "queue": {"disk": {"max_size": opts["queue_max_size"]}},
        # The role owns the template, ILM policy and data view: the writer may not manage them.
        "setup": {
            "template": {"enabled": False},
            "ilm": {"enabled": False, "check_exists": False},
            "dashboards": {"enabled": False},
        },
        "logging": {"to_stderr": True, "to_files": False, "level": "info"},
        "http": {"enabled": False},
        "monitoring": {"enabled": False},
    }


class FilterModule:
    def filters(self):
        return {"filebeat_config": filebeat_config}
