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


class FilterModule:
    def filters(self):
        return {
            "monitoring_engine_targets": monitoring_engine_targets,
            "monitoring_metric": monitoring_metric,
            "monitoring_static_target": monitoring_static_target,
        }
