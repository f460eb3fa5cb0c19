# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the monitoring role. Documentation: the .yml files of the same names beside this file."""

from __future__ import annotations

from ansible_collections.microops.stack.plugins.filter.stack import authority


def monitoring_static_target(endpoint):
    """A static_configs entry for one endpoint of microops.stack.stack_endpoints, labelled
    instance=<inventory hostname> (the address is no name for a person)."""
    return {"targets": [endpoint["authority"]], "labels": {"instance": endpoint["host"]}}


def monitoring_agent_job(job, targets):
    """A scrape_configs entry for one per-host agent: one target per (address, host) pair."""
    return {
        "job_name": job["job"],
        "static_configs": [
            monitoring_static_target({"authority": authority(address, job["port"]), "host": host})
            for address, host in targets
        ],
    }


class FilterModule:
    def filters(self):
        return {
            "monitoring_agent_job": monitoring_agent_job,
            "monitoring_static_target": monitoring_static_target,
        }
