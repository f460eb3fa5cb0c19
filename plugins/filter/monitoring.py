# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the monitoring role. Documentation: the .yml files of the same names beside this file."""

from __future__ import annotations


def monitoring_static_target(endpoint):
    """A static_configs entry for one endpoint of microops.stack.stack_endpoints, labelled
    instance=<inventory hostname> (the address is no name for a person)."""
    return {"targets": [endpoint["authority"]], "labels": {"instance": endpoint["host"]}}


def monitoring_engine_targets(hostvars, groups):
    """One static_configs entry per stack host whose Docker engine serves metrics, at the
    address its daemon.json gives (the docker role's local fact microops_docker.metrics_addr).
    A host without the fact (an engine the role does not manage, or metrics off) has none."""
    targets = []
    for host in groups.get("stack_hosts") or []:
        facts = hostvars[host].get("ansible_local") or {}
        address = (facts.get("microops_docker") or {}).get("metrics_addr")
        if address:
            targets.append({"targets": [address], "labels": {"instance": host}})
    return targets


def monitoring_metric(text, name):
    """The value of an unlabelled sample `name` in a Prometheus text exposition, as a float,
    or None when there is no such sample."""
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == name:
            try:
                return float(parts[1])
            except ValueError:
                return None
    return None


def monitoring_s3_jobs(endpoints, server, token_file):
    """The scrape job of the S3 server that stack_s3_server names, over its metrics endpoints
    (microops.stack.stack_endpoints): MinIO's cluster metrics behind the bearer token in
    token_file, SeaweedFS's -metricsPort without authentication, nothing for an external S3 or
    when no host serves it."""
    targets = [monitoring_static_target(endpoint) for endpoint in endpoints or []]
    if not targets or server not in ("minio", "seaweedfs"):
        return []
    if server == "minio":
        return [{"job_name": "minio", "metrics_path": "/minio/v2/metrics/cluster",
                 "authorization": {"credentials_file": token_file}, "static_configs": targets}]
    return [{"job_name": "seaweedfs", "static_configs": targets}]


class FilterModule:
    def filters(self):
        return {
            "monitoring_engine_targets": monitoring_engine_targets,
            "monitoring_metric": monitoring_metric,
            "monitoring_static_target": monitoring_static_target,
            "monitoring_s3_jobs": monitoring_s3_jobs,
        }
