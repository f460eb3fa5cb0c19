#!/usr/bin/env python
"""How much a no-op re-run costs: converge a Molecule scenario once, then time RUNS more
converges and print the figures: wall time, tasks run per host, time per task, and the ratio to
Ansible's own per-task floor measured on the same host in the same run (a play of trivial
tasks), so that figures compare across machines.

Usage: .venv/bin/python benchmarks/noop_rerun.py [SCENARIO] [RUNS]   (default: bench-site 3)
SCENARIO is one of molecule/ (make test's) or benchmarks/molecule/ (bench-site: the whole stack
on one host, but the edge proxy; bench-docker: the docker role alone on one host). It also times
the first converge, from a fresh host with the images as archives.
Needs the harness (tests/harness/up). Leaves nothing behind: the scenario is destroyed.
"""
import glob
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, ANSIBLE_NOCOLOR="1", PY_COLORS="0", NO_COLOR="1",
           PATH=os.path.join(ROOT, ".venv", "bin") + os.pathsep + os.environ["PATH"])
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+).*?skipped=(\d+)", re.M)
FLOOR_TASKS = 20
# Benchmark scenarios layered on a test scenario's molecule.yml (passed to Molecule as a base
# config under the scenario's own), so that they share its settings rather than copy them.
LAYERED = {"bench-site": "molecule/stack/molecule.yml"}
# site.yml's first play checks the inventory on the controller too: not a host of the figures.
CONTROLLER = ("localhost",)


def molecule(*args, env=None):
    scenario = args[args.index("-s") + 1] if "-s" in args else None
    bases = []
    if scenario in LAYERED:
        # -c replaces Molecule's default base config: name the project's shared one first.
        for base in (".config/molecule/config.yml", LAYERED[scenario]):
            bases += ["-c", os.path.join(ROOT, base)]
    result = subprocess.run(["molecule", *bases, *args], cwd=ROOT, env=env or ENV, capture_output=True,
                            text=True, check=False, timeout=1800)
    if result.returncode != 0:
        sys.exit(f"molecule {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    return result.stdout + result.stderr


def _play_seconds(env, inventory, tasks):
    with tempfile.TemporaryDirectory() as tmp:
        play = os.path.join(tmp, "floor.yml")
        with open(play, "w", encoding="utf-8") as handle:
            handle.write("- name: Floor\n  hosts: all\n  gather_facts: false\n  tasks:")
            handle.write(" []\n" if tasks == 0 else "\n")
            for index in range(tasks):
                handle.write(f"    - name: Trivial task {index}\n      ansible.builtin.ping:\n")
        start = time.monotonic()
        result = subprocess.run(["ansible-playbook", "-i", inventory, play], cwd=ROOT, env=env,
                                capture_output=True, text=True, check=False, timeout=600)
        elapsed = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"floor play failed:\n{result.stdout[-2000:]}")
    return elapsed


def floor(env, scenario):
    """(start-up seconds, seconds per trivial task): ansible-playbook with no task, and with
    FLOOR_TASKS of ansible.builtin.ping (no facts), on the scenario's hosts with the converge's
    settings (pipelining, docker connection)."""
    inventories = glob.glob(os.path.expanduser(f"~/.ansible/tmp/molecule.*.{scenario}/inventory"))
    if not inventories:
        return None
    floor_env = dict(env, ANSIBLE_PIPELINING="true", ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"))
    empty = min(_play_seconds(floor_env, inventories[0], 0) for dummy in range(2))
    full = min(_play_seconds(floor_env, inventories[0], FLOOR_TASKS) for dummy in range(2))
    return empty, (full - empty) / FLOOR_TASKS


def converge_playbook(scenario):
    """The playbook the scenario converges with: its molecule.yml's provisioner.playbooks.converge
    (relative to the scenario), else its converge.yml."""
    for base in ("molecule", os.path.join("benchmarks", "molecule")):
        directory = os.path.join(ROOT, base, scenario)
        if os.path.exists(os.path.join(directory, "molecule.yml")):
            with open(os.path.join(directory, "molecule.yml"), encoding="utf-8") as handle:
                config = yaml.safe_load(handle) or {}
            playbook = config.get("provisioner", {}).get("playbooks", {}).get("converge", "converge.yml")
            return os.path.normpath(os.path.join(directory, playbook))
    sys.exit(f"no scenario {scenario} in molecule/ or benchmarks/molecule/")


def main(scenario="bench-site", runs="3"):
    runs = int(runs)
    env = dict(ENV)
    if os.path.exists(os.path.join(ROOT, "benchmarks", "molecule", scenario, "molecule.yml")):
        env["MOLECULE_GLOB"] = "benchmarks/molecule/*/molecule.yml"
    try:
        molecule("create", "-s", scenario, env=env)
        molecule("prepare", "-s", scenario, env=env)  # e.g. the docker scenario's local repository
        start = time.monotonic()
        first_output = molecule("converge", "-s", scenario, env=env)
        first = time.monotonic() - start
        first_tasks = statistics.mean(int(m[1]) + int(m[3]) for m in RECAP.findall(first_output)
                                      if m[0] not in CONTROLLER)
        # Timed as a user runs it: ansible-playbook on Molecule's inventory, without Molecule.
        inventory = glob.glob(os.path.expanduser(f"~/.ansible/tmp/molecule.*.{scenario}/inventory"))[0]
        converge = converge_playbook(scenario)
        play_env = dict(env, ANSIBLE_PIPELINING="true", ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"))
        seconds, recaps = [], []
        for _index in range(runs):
            start = time.monotonic()
            result = subprocess.run(["ansible-playbook", "-i", inventory, converge], cwd=ROOT, env=play_env,
                                    capture_output=True, text=True, check=False, timeout=1800)
            seconds.append(time.monotonic() - start)
            if result.returncode != 0:
                sys.exit(f"re-run failed:\n{result.stdout[-3000:]}")
            recaps.append([(m[0], int(m[1]), int(m[2]), int(m[3])) for m in RECAP.findall(result.stdout)
                           if m[0] not in CONTROLLER])
        measured_floor = floor(env, scenario)
    finally:
        molecule("destroy", "-s", scenario, env=env)
    hosts = recaps[-1]
    changed = sum(r[2] for recap in recaps for r in recap)
    tasks = statistics.mean(r[1] + r[3] for r in hosts)
    mean = statistics.mean(seconds)
    print(f"scenario {scenario}: {len(hosts)} host(s), {runs} no-op converges")
    print(f"  first converge (molecule converge, fresh host, images from archives): {first:.1f} s,"
          f" {first_tasks:.0f} tasks per host")
    print(f"  wall time per converge: mean {mean:.1f} s, min {min(seconds):.1f} s, max {max(seconds):.1f} s"
          " (ansible-playbook, start-up included)")
    print(f"  tasks per host: {tasks:.0f} (ok + skipped), changed in all re-runs: {changed}")
    print(f"  per task: {mean / tasks * 1000:.0f} ms")
    if measured_floor:
        startup, per_task = measured_floor
        print(f"  floor on the same host: ansible-playbook start-up {startup:.1f} s, a trivial task"
              f" (ansible.builtin.ping) {per_task * 1000:.0f} ms")
        print(f"  converge / (start-up + tasks x floor): {mean / (startup + tasks * per_task):.2f}"
              " (a lower bound: a skipped task never reaches the host, yet counts here as a ping);"
              f" first converge: {first / (startup + first_tasks * per_task):.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
