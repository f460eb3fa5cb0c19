# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the monitoring role. Documentation: the .yml files of the same names beside this file."""

from __future__ import annotations


def _host_port(address, port):
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def monitoring_static_target(target, port):
    """A static_configs entry for one (address, inventory hostname) pair, labelled
    instance=<inventory hostname> (the address is no name for a person)."""
    address, host = target
    return {"targets": [_host_port(address, port)], "labels": {"instance": host}}


def monitoring_agent_job(job, targets):
    """A scrape_configs entry for one per-host agent: one target per stack host."""
    return {
        "job_name": job["job"],
        "static_configs": [monitoring_static_target(target, job["port"]) for target in targets],
    }


class FilterModule:
    def filters(self):
        return {
            "monitoring_agent_job": monitoring_agent_job,
            "monitoring_static_target": monitoring_static_target,
        }
