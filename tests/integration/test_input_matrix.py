# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input refused before any change, for real: the site playbook (playbooks/site.yml) runs
once over hosts that each carry malformed inputs of some roles, all on this machine (connection
local: the preflight only reads). Each malformed input is its own test: its message, naming the
variable (and the service or host name where there is one), in that host's stop. Then: the run
stopped in the preflight, and nothing the stack would make here changed (its containers, volumes
and networks, /etc/microops, /opt/microops, /etc/docker/daemon.json).

Malformed inventories that the first play refuses before any host is contacted (an unknown
stack_* group, a bad stack_env or stack_s3_server) are in test_site_inventory_checks.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.microops.stack.plugins.filter.stack import CONTAINERS, SERVICES

ROOT = Path(__file__).resolve().parents[2]

# Each host: its groups besides stack_hosts, its variables, and the messages its stop must hold.
HOSTS = {
    "in-docker": ([], {
        "docker_networks": [{"driver": "bridge"}, {"name": "stack_backend"}],
        "docker_ce_repo_url": "ftp://mirror.example.com/docker",
        "docker_ce_repo_key_url": "gopher://mirror.example.com/gpg",
    }, [
        "docker: docker_ce_repo_url must be an http(s):// or file:/// URL of Docker's repository tree, not "
        "'ftp://mirror.example.com/docker'",
        "docker_ce_repo_key_url must be empty or an http(s):// or file:/// URL of the signing key, not "
        "'gopher://mirror.example.com/gpg'",
        "docker_networks: every entry needs a name",
        "docker_networks: stack_frontend and stack_backend and stack_services are the stack's own networks",
    ]),
    "in-minio": (["stack_s3"], {
        "minio_root_user": "ab", "minio_root_password": "short", "minio_data_path": "data/minio",
        "minio_api_port": "nine",
        "minio_buckets": [{"name": "Bad_Bucket"}, {"name": "ok-bucket", "colour": "red"}, {"versioning": "enabled"}],
    }, [
        "minio: minio_api_port must be a port number (1-65535), got 'nine'",
        "minio_root_user must be at least 3 characters, got 2",
        "minio_root_password must be at least 8 characters, got 5",
        "minio_data_path must be an absolute path, got data/minio",
        "minio_buckets: every bucket needs a name",
        "minio_buckets: unknown keys colour",
        "minio_buckets: bucket name 'Bad_Bucket' must be 3 to 63 characters of lowercase letters",
    ]),
    "in-seaweedfs": (["stack_s3"], {
        "stack_s3_server": "seaweedfs", "seaweedfs_access_key": "admin", "seaweedfs_secret_key": "short",
        "seaweedfs_volume_size_limit_mb": 0, "seaweedfs_buckets": [{"name": "x"}],
    }, [
        "seaweedfs: seaweedfs_secret_key must be at least 8 characters, got 5",
        "seaweedfs_volume_size_limit_mb must be a positive number of MB, got 0",
        "seaweedfs_buckets: bucket name 'x' must be 3 to 63 characters",
    ]),
    "in-logging": (["stack_logging"], {
        "logging_elastic_password": "short", "logging_retention_days": "week", "logging_rollover_max_size": "50",
        "logging_snapshot_expire_after": "month", "logging_snapshot_schedule": "daily",
    }, [
        "logging: logging_elastic_password must be at least 12 characters, got 5",
        "logging_retention_days must be a whole number of days, got week",
        "logging_rollover_max_size must be a byte size such as 50gb, got 50",
        "logging_snapshot_expire_after must be a duration such as 30d, got month",
        "logging_snapshot_schedule must be an Elasticsearch cron expression",
    ]),
    "in-sentry": (["stack_sentry"], {
        "sentry_glitchtip_server_role": "api", "sentry_admin_email": "admin", "sentry_admin_password": "short",
        "sentry_backup_keep": 0, "sentry_projects": "web",
    }, [
        "sentry: sentry_glitchtip_server_role must be web or all_in_one, got api",
        "sentry_admin_password must be at least 12 characters, got 5",
        "sentry_admin_email must be an email address, got admin",
        "sentry_projects must be a list of {name, slug, platform}",
        "sentry_backup_keep must be a whole number of dumps (1 or more), got 0",
    ]),
    "in-monitoring": (["stack_monitoring"], {
        "monitoring_retention_time": "2 weeks", "monitoring_retention_size": "50",
        "monitoring_extra_scrape_configs": [{"static_configs": []}],
        "monitoring_grafana_env": {"GF_SECURITY_ADMIN_USER": "root"},
    }, [
        "monitoring: monitoring_extra_scrape_configs: every entry needs a job_name",
        "monitoring_retention_time must be a Prometheus duration like 7d or 30d, got 2 weeks",
        "monitoring_retention_size must be like 50GB, got 50",
        "monitoring_grafana_env may not set GF_SECURITY_ADMIN_USER or GF_SECURITY_ADMIN_PASSWORD*",
    ]),
    "in-services": (["stack_services"], {
        "services_list": [
            {"name": "Web App", "image": "example/web:1"},
            {"name": "api", "image": "example/api:1", "port": 8080, "public": True, "public_port": 9100},
            {"name": "worker", "image": "example/worker:1", "public_port": 8081, "networks": ["stack_frontnd"]},
            {"name": "b", "image": "example/b:1", "volumes": [{"name": "data", "path": "relative"}]},
            {"name": "c", "image": "example/c:1", "memory": "lots", "restart_policy": "sometimes", "colour": "red"},
        ],
    }, [
        "service Web App: name must be lower-case letters, digits, '.', '_' or '-' (a Docker container name)",
        "service api: public_port 9100 is the port of the stack's node_exporter on this host",
        "service worker: public_port is set but the service is not public",
        "service worker: network 'stack_frontnd' is not a stack network",
        "service b: volumes must be named volumes, each {name, path} with path absolute inside the container",
        "service c: unknown field(s) colour",
        "service c: memory must be a size with its unit, such as 512m or 2g, got 'lots'",
        "service c: restart_policy must be one of no, on-failure, always, unless-stopped",
    ]),
    # Alone on its host: a cycle is looked for once every service is otherwise right.
    "in-cycle": (["stack_services"], {
        "services_list": [{"name": "a", "image": "example/a:1", "depends_on": ["b"]},
                          {"name": "b", "image": "example/b:1", "depends_on": ["a"]}],
    }, ["services: depends_on makes a cycle: a -> b -> a"]),
    "in-edge": (["stack_services", "stack_edge"], {
        "services_list": [{"name": "web", "image": "example/web:1", "port": 5921, "public": True}],
        "edge_tls": "letsencrypt", "edge_acme_email": "ops", "edge_hosts": {"API.example.com": "web"},
        "edge_users": [{"name": "ops", "password_hash": "hunter2"}], "edge_metrics_port": 443,
    }, [
        "edge: edge_metrics_port 443 is the HTTP or HTTPS port",
        "stack_edge has 2 hosts: run one edge host",
        "edge_tls must be one of acme, internal, files, got 'letsencrypt'",
        "edge_acme_email must be an e-mail address, got 'ops'",
        "edge_hosts: 'API.example.com' is not a DNS host name in lower case with a dot",
        "edge_users[ops]: password_hash must be a bcrypt hash",
    ]),
    # Production: no generated secret, no route to what is not public.
    "in-production": (["stack_s3", "stack_monitoring", "stack_services", "stack_edge"], {
        "stack_env": "production",
        "services_list": [{"name": "db", "image": "example/db:1", "secrets": [{"name": "root_password"}]}],
        "edge_ops_domain": "ops.example.com", "edge_hosts": {"api.example.com": "db"},
    }, [
        "minio: minio_root_user and minio_root_password are required in production (from Ansible Vault)",
        "monitoring: monitoring_grafana_admin_password is required in production (from Ansible Vault)",
        "services: service db: secrets root_password need a value in production (from Ansible Vault)",
        "edge: edge_acme_email is required in production with edge_tls acme",
        "edge_hosts: api.example.com routes to 'db', which is no public service (public: true)",
    ]),
}
CASES = [pytest.param(host, message, id=f"{host}-{index}")
         for host, (_groups, _vars, messages) in HOSTS.items() for index, message in enumerate(messages)]

# What the stack would make on this machine: its containers (the wiring table's, the roles' own,
# the inventory's services), its named volumes and networks, its directories.
STACK_CONTAINERS = ({spec["container"] for spec in SERVICES.values() if spec["container"]} | set(CONTAINERS.values())
                    | {s["name"] for _g, v, _m in HOSTS.values() for s in v.get("services_list", [])})
TREES = ("/etc/microops", "/opt/microops")
FILES = ("/etc/docker/daemon.json",)


def inventory():
    hosts, groups = {}, {}
    for index, (host, (member_of, host_vars, _messages)) in enumerate(HOSTS.items()):
        hosts[host] = {"stack_private_address": f"127.0.0.{index + 1}", **host_vars}
        for group in member_of:
            groups.setdefault(group, {"hosts": {}})["hosts"][host] = None
    return {"all": {
        "vars": {"stack_env": "development", "ansible_connection": "local", "ansible_become": False,
                 "ansible_python_interpreter": sys.executable},
        "children": {"stack_hosts": {"hosts": hosts}, **groups}}}


def docker_lines(*argv):
    result = subprocess.run(["docker", *argv], capture_output=True, text=True, check=False)
    return sorted(result.stdout.splitlines())


def machine_state():
    containers = [line for line in docker_lines("ps", "--all", "--no-trunc", "--format", "{{.Names}} {{.ID}} {{.State}}")
                  if line.split()[0] in STACK_CONTAINERS]
    # Named volumes only: anonymous ones (64 hex digits) come and go with other tests' containers.
    volumes = [v for v in docker_lines("volume", "ls", "--quiet") if not re.fullmatch(r"[0-9a-f]{64}", v)]
    networks = [n for n in docker_lines("network", "ls", "--format", "{{.Name}} {{.ID}}") if n.startswith("stack_")]
    files = []
    for top in TREES:
        for base, dirs, names in os.walk(top):
            for name in sorted(dirs + names):
                path = os.path.join(base, name)
                stat = os.lstat(path)
                files.append(f"{path} {stat.st_mode:o} {stat.st_size} {stat.st_mtime_ns}")
    for path in FILES:
        if os.path.exists(path):
            stat = os.stat(path)
            files.append(f"{path} {stat.st_mode:o} {stat.st_size} {stat.st_mtime_ns}")
    return {"containers": containers, "volumes": volumes, "networks": networks, "files": sorted(files)}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("matrix") / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory(), sort_keys=False))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"))
    before = machine_state()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(path), str(ROOT / "playbooks" / "site.yml")],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    output = result.stdout + result.stderr
    # Each host's stop, as one line: "<host>: <role>: <message>; ... | <role>: ... | images: ...".
    stops = {}
    for line in output.splitlines():
        found = re.match(r"\[ERROR\]: Task failed: Action failed: (in-[a-z]+): (.*)$", line)
        if found:
            stops[found.group(1)] = found.group(2)
    return {"rc": result.returncode, "output": output, "stops": stops, "before": before, "after": machine_state()}


@pytest.mark.parametrize(("host", "message"), CASES)
def test_bad_input_is_refused_in_the_preflight_naming_it(run, host, message):
    assert host in run["stops"], f"{host} did not stop in the preflight:\n{run['output'][-3000:]}"
    assert message in run["stops"][host], run["stops"][host]


def test_the_run_stopped_in_the_preflight_on_every_host(run):
    assert run["rc"] != 0
    assert sorted(run["stops"]) == sorted(HOSTS), run["output"][-3000:]
    assert "PLAY [Docker Engine on every stack host]" not in run["output"]


def test_nothing_changed_on_this_machine(run):
    assert run["after"] == run["before"], json.dumps({"before": run["before"], "after": run["after"]}, indent=1)
