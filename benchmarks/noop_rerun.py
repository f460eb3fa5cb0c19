#!/usr/bin/env python
"""How much a no-op re-run costs: converge a Molecule scenario once, then time RUNS more
converges and print the figures (wall time, tasks run per host, time per task).

Usage: .venv/bin/python benchmarks/noop_rerun.py [SCENARIO] [RUNS]   (default: docker 3)
Needs the harness (tests/harness/up). Leaves nothing behind: the scenario is destroyed.
"""
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, ANSIBLE_NOCOLOR="1", PY_COLORS="0", NO_COLOR="1",
           PATH=os.path.join(ROOT, ".venv", "bin") + os.pathsep + os.environ["PATH"])
RECAP = re.compile(r"^\S.*?(\S+)\s+: ok=(\d+)\s+changed=(\d+).*?skipped=(\d+)", re.M)


def molecule(*args):
    result = subprocess.run(["molecule", *args], cwd=ROOT, env=ENV, capture_output=True,
                            text=True, check=False, timeout=1800)
    if result.returncode != 0:
        sys.exit(f"molecule {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    return result.stdout + result.stderr


def main(scenario="docker", runs="3"):
    runs = int(runs)
    try:
        molecule("create", "-s", scenario)
        molecule("prepare", "-s", scenario)
        molecule("converge", "-s", scenario)
        seconds, recaps = [], []
        for _index in range(runs):
            start = time.monotonic()
            output = molecule("converge", "-s", scenario)
            seconds.append(time.monotonic() - start)
            recaps.append([(m[0], int(m[1]), int(m[2]), int(m[3])) for m in RECAP.findall(output)])
    finally:
        molecule("destroy", "-s", scenario)
    hosts = recaps[-1]
    changed = sum(r[2] for recap in recaps for r in recap)
    tasks = statistics.mean(r[1] + r[3] for r in hosts)
    mean = statistics.mean(seconds)
    print(f"scenario {scenario}: {len(hosts)} host(s), {runs} no-op converges")
    print(f"  wall time per converge: mean {mean:.1f} s, min {min(seconds):.1f} s, max {max(seconds):.1f} s"
          " (includes molecule's own start-up)")
    print(f"  tasks per host: {tasks:.0f} (ok + skipped), changed in all re-runs: {changed}")
    print(f"  per task: {mean / tasks * 1000:.0f} ms")


if __name__ == "__main__":
    main(*sys.argv[1:])
