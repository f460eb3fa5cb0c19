# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the logging role: Elasticsearch's heap from the host's memory.

Documentation: the .yml files of the same names beside this file."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Memory (MB) the other stack servers of a host take, by the stack group that runs them: what
# is left for Elasticsearch on a shared host. Their roles' default limits, rounded up.
RESERVED_MB = {
    "stack_s3": 1024,          # MinIO or SeaweedFS (minio_memory_limit, seaweedfs_memory_limit: 1g)
    "stack_monitoring": 2048,  # Prometheus, Alertmanager, Grafana
    "stack_sentry": 2048,      # GlitchTip web and worker, PostgreSQL, Valkey
    "stack_services": 1024,    # the user's own containers: at least this much
}
# Kibana, the exporter, Filebeat and the operating system beside Elasticsearch.
LOGGING_OVERHEAD_MB = 1536
# Elastic's guidance: heap at most half of the memory Elasticsearch has (the rest is file-system
# cache and off-heap), at least 512m here, and below ~32g so that object pointers stay compressed
# ("Set the JVM heap size", elastic.co/docs/reference/elasticsearch/jvm-settings).
HEAP_MIN_MB = 512
HEAP_MAX_MB = 31 * 1024
HEAP_RE = re.compile(r"^([1-9][0-9]*)([mMgG])$")


def logging_reserved_mb(group_names):
    """Memory the other stack servers on a host in these groups take, plus Kibana and the OS."""
    return LOGGING_OVERHEAD_MB + sum(RESERVED_MB.get(group, 0) for group in group_names or [])


def logging_heap_error(heap, memtotal_mb, reserved_mb):
    """Why the heap cannot be set on this host ('' when it can): for preflight checks."""
    try:
        logging_heap_mb(heap, memtotal_mb, reserved_mb)
    except AnsibleFilterError as exc:
        return exc.message
    return ""


def logging_heap_mb(heap, memtotal_mb, reserved_mb):
    """The heap in MB: `heap` (e.g. 2g, 1536m) when set, else half of what is left on the host
    after `reserved_mb`, rounded down to 256 MB, between HEAP_MIN_MB and HEAP_MAX_MB. Fails,
    naming the memory found and needed, when the host cannot give the heap twice over."""
    memtotal_mb, reserved_mb = int(memtotal_mb), int(reserved_mb)
    available = memtotal_mb - reserved_mb
    if heap:
        match = HEAP_RE.match(str(heap).strip())
        if not match:
            raise AnsibleFilterError(
                f"logging_elasticsearch_heap must be a size in m or g, such as 2g or 1536m, got {heap!r}")
        size = int(match.group(1)) * (1024 if match.group(2).lower() == "g" else 1)
        if not HEAP_MIN_MB <= size <= HEAP_MAX_MB:
            raise AnsibleFilterError(
                f"logging_elasticsearch_heap must be between 512m and 31g, got {heap}")
    else:
        size = min(HEAP_MAX_MB, max(HEAP_MIN_MB, available // 2 // 256 * 256))
    if available < 2 * size:
        raise AnsibleFilterError(
            f"this host has {memtotal_mb} MB of memory; Elasticsearch with a {size} MB heap needs "
            f"{2 * size} MB beside the {reserved_mb} MB taken by the other stack servers it runs, "
            f"Kibana and the system: {reserved_mb + 2 * size} MB in all")
    return size


class FilterModule:
    def filters(self):
        return {
            "logging_heap_mb": logging_heap_mb,
            "logging_heap_error": logging_heap_error,
            "logging_reserved_mb": logging_reserved_mb,
        }
