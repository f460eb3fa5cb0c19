#!/usr/bin/env python
"""How a no-op re-run of site.yml scales with the number of hosts run in parallel: start N host
containers (N the largest size), converge site.yml once over all of them, then for each size k
time RUNS no-op re-runs limited to the first k hosts (forks >= k) and print the figures: wall time,
tasks per host, the ratio to one host, and the ratio to Ansible's own floor (a play of trivial
tasks) measured on as many hosts right after each size's runs, and on one host. Prints, never asserts.

The project's target: 8 hosts within 1.5x one host's time. Each Ansible worker is a process on
the controller, so on a machine with few cores the hosts' runs queue for them: the CPU count and
the load average (start and end) are printed beside the figures.

Layout, a light "app host" each: the docker role (engine managed, Debian's packages),
node_exporter, and one public service (the harness's app image, declared as molecule/stack's
gateway without its upstream); images from the harness's archives, as on hosts without
registry access. No Molecule: the hosts are `docker run` as Molecule's docker driver runs
molecule/stack's platforms.

Usage: .venv/bin/python benchmarks/fleet.py ["SIZES"] [RUNS]   (default: "1 4 8" 2)
Needs the harness (tests/harness/up). Leaves nothing behind: containers bench-fleet-1..N and
their volumes are removed at the end, also on failure.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

from noop_rerun import CONTROLLER, ENV as BASE_ENV, FLOOR_TASKS, RECAP, ROOT, _play_seconds

ENV = dict(BASE_ENV, ANSIBLE_PIPELINING="true", ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"))
IMAGE = "microops-test/docker-host:12"
PREFIX = "bench-fleet-"
TARGET = 1.5
ARCHIVES = os.path.join(ROOT, ".cache", "harness", "archives")


def inventory(hosts):
    """molecule/stack's shared group variables (.config/molecule/config.yml) and its app host's."""
    return {"all": {
        "hosts": {name: {"ansible_connection": "community.docker.docker"} for name in hosts},
        "vars": {
            "stack_env": "development",
            "harness_archives": ARCHIVES,
            "monitoring_node_exporter_image": "microops-test/node-exporter:1.5",
            "monitoring_cadvisor_enabled": False,
        },
        "children": {
            "stack_hosts": {"hosts": dict.fromkeys(hosts), "vars": {
                "docker_manage_engine": "always",
                "docker_install_source": "distro",
                "docker_image_archives": ["{{ harness_archives }}/node-exporter-1.5.tar",
                                          "{{ harness_archives }}/app-1.tar"],
            }},
            "stack_services": {"hosts": dict.fromkeys(hosts), "vars": {"services_list": [{
                "name": "gateway",
                "image": "microops-test/app:1",
                "port": 5921,
                "public": True,
                "env": {"PORT": "5921", "SERVICE_NAME": "gateway"},
                "metrics": {"port": 5921},
                "user": "10001:10001",
                "read_only": True,
                "memory": "256m",
            }]}},
        },
    }}


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=300)


def start_hosts(count):
    """As molecule-plugins' create.yml runs a platform of molecule/stack: privileged, /sbin/init,
    tmpfs on /run, /run/lock and /tmp, hostname = name (the image's /var/lib/docker volume is anonymous)."""
    names = [f"{PREFIX}{index}" for index in range(1, count + 1)]
    for name in names:
        docker("run", "--detach", "--name", name, "--hostname", name, "--privileged",
               "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
               "--label", "owner=microops-bench-fleet", IMAGE, "/sbin/init")
    return names


def remove_hosts(count):
    for index in range(1, count + 1):
        docker("rm", "--force", "--volumes", f"{PREFIX}{index}", check=False)


def playbook(inventory_path, play, hosts, forks):
    """(seconds, output) of ansible-playbook on `play` limited to `hosts`."""
    env = dict(ENV, ANSIBLE_FORKS=str(max(forks, 10)))
    command = ["ansible-playbook", "-i", inventory_path, "--limit", ",".join(hosts), play]
    start = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=3600)
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (rc {result.returncode}):\n"
                           f"{result.stdout[-4000:]}{result.stderr[-2000:]}")
    return elapsed, result.stdout


def write_inventory(hosts, path):
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory(hosts), handle, sort_keys=False)
    return path


def floor(hosts, tmp):
    """(start-up seconds, seconds per trivial task) on `hosts`, as noop_rerun.py measures it:
    ansible-playbook with no task and with FLOOR_TASKS of ansible.builtin.ping (no facts)."""
    path = write_inventory(hosts, os.path.join(tmp, f"floor-{len(hosts)}.yml"))
    env = dict(ENV, ANSIBLE_FORKS=str(max(len(hosts), 10)))
    empty = min(_play_seconds(env, path, 0) for dummy in range(2))
    full = min(_play_seconds(env, path, FLOOR_TASKS) for dummy in range(2))
    return empty, (full - empty) / FLOOR_TASKS


def load():
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(sizes="1 4 8", runs="2"):
    sizes = sorted({int(size) for size in sizes.split()})
    runs = int(runs)
    cpus = os.cpu_count()
    site = os.path.join(ROOT, "site.yml")
    began = time.monotonic()
    print(f"fleet no-op re-run of site.yml: sizes {sizes}, {runs} run(s) each, {cpus} CPU(s) on this machine,"
          f" load average at start {load()} (1, 5, 15 min)", flush=True)
    remove_hosts(max(sizes))  # left over by an interrupted run
    try:
        with tempfile.TemporaryDirectory(prefix="bench-fleet.") as tmp:
            hosts = start_hosts(max(sizes))
            inventory_path = write_inventory(hosts, os.path.join(tmp, "hosts.yml"))
            seconds, _output = playbook(inventory_path, site, hosts, len(hosts))
            print(f"first converge over {len(hosts)} hosts: {seconds:.1f} s", flush=True)
            results, floors = {}, {}
            for size in sizes:
                times, tasks = [], []
                for _index in range(runs):
                    seconds, output = playbook(inventory_path, site, hosts[:size], size)
                    recap = [(m[0], int(m[1]), int(m[2]), int(m[3])) for m in RECAP.findall(output)
                             if m[0] not in CONTROLLER]
                    changed = [f"{name} changed={count}" for name, _ok, count, _skipped in recap if count]
                    if changed:
                        print(f"WARNING: the re-run over {size} host(s) was not a no-op: {', '.join(changed)}")
                    times.append(seconds)
                    tasks.append(statistics.mean(ok + skipped for _name, ok, _changed, skipped in recap))
                results[size] = (statistics.median(times), statistics.mean(tasks))
                # Right after the runs it is compared with, under the same load.
                floors[size] = floor(hosts[:size], tmp)
                print(f"  {size} host(s): {', '.join(f'{t:.1f}' for t in times)} s; floor: start-up"
                      f" {floors[size][0]:.1f} s, a trivial task {floors[size][1] * 1000:.0f} ms", flush=True)
            if 1 not in floors:
                floors[1] = floor(hosts[:1], tmp)
    finally:
        remove_hosts(max(sizes))
    base = results[sizes[0]][0]
    print("\nfloor: ansible-playbook start-up + tasks per host x a trivial task (ansible.builtin.ping, no facts)"
          " on as many hosts, measured right after each size's runs")
    print(f"{'hosts':>5} {'median s':>9} {'tasks/host':>10} {'ms/task':>8} {f'x {sizes[0]} host(s)':>12}"
          f" {'floor s':>8} {'x floor':>8} {'x 1-host floor':>15}")
    for size, (median, tasks) in results.items():
        own, one = (floors[key][0] + tasks * floors[key][1] for key in (size, 1))
        print(f"{size:>5} {median:>9.1f} {tasks:>10.0f} {median / tasks * 1000:>8.0f} {median / base:>12.2f}"
              f" {own:>8.1f} {median / own:>8.2f} {median / one:>15.2f}")
    if 1 in results and len(hosts) in results and len(hosts) > 1:
        ratio = results[len(hosts)][0] / results[1][0]
        verdict = "meets" if ratio <= TARGET else "misses"
        print(f"\n{len(hosts)} hosts / 1 host: {ratio:.2f} (target <= {TARGET}): {verdict} the target,"
              f" with {cpus} CPU(s) for {len(hosts)} Ansible workers")
        floor_ratio = ((floors[len(hosts)][0] + FLOOR_TASKS * floors[len(hosts)][1])
                       / (floors[1][0] + FLOOR_TASKS * floors[1][1]))
        print(f"Ansible's own floor, {len(hosts)} hosts / 1 host, same machine: {floor_ratio:.2f}"
              f" for a play of {FLOOR_TASKS} trivial tasks")
        if verdict == "misses" and cpus < len(hosts):
            print(f"On {cpus} CPU(s) the workers of {len(hosts)} hosts share the cores (and this machine's load):"
                  " a miss is expected here; the target assumes a controller with a core per fork.")
    print(f"load average at end {load()}; total {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    try:
        main(*sys.argv[1:])
    except RuntimeError as exc:
        sys.exit(str(exc))
