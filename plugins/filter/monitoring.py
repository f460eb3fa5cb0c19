# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the monitoring role. Documentation: monitoring_agent_job.yml beside this file."""

from __future__ import annotations


def _host_port(address, port):
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def monitoring_agent_job(job, targets):
    """A scrape_configs entry for one per-host agent: one target per stack host, on its private
    address, labelled instance=<inventory hostname> (the address is no name for a person)."""
    return {
        "job_name": job["job"],
        "static_configs": [
            {"targets": [_host_port(address, job["port"])], "labels": {"instance": host}}
            for address, host in targets
        ],
    }


class FilterModule:
    def filters(self):
        return {"monitoring_agent_job": monitoring_agent_job}
