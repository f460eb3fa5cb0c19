#!/usr/bin/env python
"""The stack under load: converge the bench-load scenario (the whole site.yml on one host, the
docker role managing the engine with log rotation of 1m x 3, real Prometheus), then print figures:

1. log rotation: a container writes LINES lines of 200 bytes a second for SECONDS seconds; its
   json-file logs sampled every second against max-size x max-file from daemon.json, the lines
   that docker logs still returns, and the growth of the disk outside that container's logs;
2. Prometheus scraping TARGETS more node_exporters, given to it through the monitoring role's own
   monitoring_extra_scrape_configs (a re-converge): targets up, samples appended a second, scrape
   duration p50/p99, Prometheus's memory and CPU, before and after;
3. Ansible's per-task floor on the same host in the same run (a play of trivial tasks), with each
   Ansible timing as a ratio to it.

Usage: .venv/bin/python benchmarks/load.py [LINES] [SECONDS] [TARGETS]   (default: 2000 60 50)
Needs the harness (tests/harness/up). Leaves nothing behind: the scenario is destroyed.
"""
import datetime
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

from noop_rerun import CONTROLLER, ENV, FLOOR_TASKS, RECAP, ROOT, _play_seconds, converge_playbook, molecule

SCENARIO = HOST = "bench-load"
CONVERGE = converge_playbook(SCENARIO)
LINE = '{"seq":%8d,"level":"info","service":"bench-load","message":"%s"}\n'
LINE_BYTES = 200
SETTLE = 60  # seconds of scraping after every target is up: four of the role's 15 s intervals
QUERY = ("import json, sys, urllib.parse, urllib.request\n"
         "url = 'http://127.0.0.1:9090/api/v1/query?query=' + urllib.parse.quote(sys.argv[1])\n"
         "print(json.dumps(json.load(urllib.request.urlopen(url, timeout=30))['data']['result']))\n")
MIB = 1024 * 1024


def host(*argv, check=True):
    """stdout of a command on the scenario's host (its own dockerd runs the stack)."""
    result = subprocess.run(["docker", "exec", HOST, *argv], capture_output=True, text=True, check=False,
                            timeout=600)
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed on {HOST}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def playbook(env, inventory, *args):
    """(seconds, tasks on the host) of ansible-playbook of the scenario's converge."""
    start = time.monotonic()
    result = subprocess.run(["ansible-playbook", "-i", inventory, CONVERGE, *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=False, timeout=1800)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"converge failed:\n{result.stdout[-3000:]}")
    return seconds, sum(int(m[1]) + int(m[3]) for m in RECAP.findall(result.stdout) if m[0] not in CONTROLLER)


def disk(exclude=None):
    """Bytes used: df of / (the machine's disk), du of the host's root and of /var/lib/docker
    (without the directory named `exclude`)."""
    df = int(host("df", "-B1", "--output=used", "/").split()[-1])
    root = int(host("du", "-sxb", "/", check=False).split()[0])
    skip = [f"--exclude={exclude}"] if exclude else []
    docker = int(host("du", "-sxb", *skip, "/var/lib/docker", check=False).split()[0])
    return df, root, docker


def epoch(stamp):
    """Seconds of one of Docker's RFC 3339 UTC times (nanoseconds) on a common basis."""
    return datetime.datetime.fromisoformat(stamp[:19]).timestamp() + float("0" + stamp[19:].rstrip("Z"))


def log_rotation(lines, seconds):
    daemon = json.loads(host("cat", "/etc/docker/daemon.json"))
    opts = daemon.get("log-opts", {})
    size = opts.get("max-size", "0").lower()
    max_size = int(size.rstrip("kmg")) * {"k": 1024, "m": MIB, "g": 1024 * MIB}.get(size[-1:], 1)
    max_file = int(opts.get("max-file", "1"))
    fixed = len(LINE % (0, ""))
    script = (f"pad=$(printf '%*s' {LINE_BYTES - fixed} '' | tr ' ' x); i=0; start=${{EPOCHREALTIME/./}}\n"
              f"for ((s = 1; s <= {seconds}; s++)); do\n"
              f"  for ((j = 0; j < {lines}; j++)); do printf '{LINE.strip()}\\n' $((i++)) \"$pad\"; done\n"
              "  wait=$((start + s * 1000000 - ${EPOCHREALTIME/./}))\n"
              "  if ((wait > 0)); then printf -v frac %06d $((wait % 1000000)); sleep $((wait / 1000000)).$frac; fi\n"
              "done\n")
    before = disk()
    cid = host("docker", "run", "-d", "--name", "bench-log-writer", "microops-test/probe:current", "bash", "-c",
               script).strip()
    logs = f"/var/lib/docker/containers/{cid}"
    samples = []
    while True:
        out = host("sh", "-c", f"stat -c %s {logs}/{cid}-json.log*; docker inspect -f '{{{{.State.Running}}}}' {cid}",
                   check=False).split()
        samples.append((sum(int(size) for size in out[:-1]), len(out) - 1))
        if out[-1:] != ["true"]:
            break
        time.sleep(1)
    after = disk(cid)
    state = json.loads(host("docker", "inspect", "-f", "{{json .State}}", cid))
    elapsed = epoch(state["FinishedAt"]) - epoch(state["StartedAt"])
    kept = int(host("sh", "-c", f"cat {logs}/{cid}-json.log* | wc -l"))
    returned = host("sh", "-c", f"docker logs {cid} 2>&1 | wc -l; docker logs {cid} 2>&1 | sed -n '1p;$p'").split("\n")
    first_seq, last_seq = (json.loads(line)["seq"] for line in returned[1:3])
    written = lines * seconds
    largest = max(size for size, dummy in samples)
    print(f"log rotation: daemon.json log-driver {daemon.get('log-driver')}, log-opts {opts};"
          f" the writer's LogConfig {host('docker', 'inspect', '-f', '{{json .HostConfig.LogConfig}}', cid).strip()}")
    print(f"  written: {written} lines, {written * LINE_BYTES / MIB:.1f} MiB ({LINE_BYTES} B a line) in"
          f" {elapsed:.1f} s (asked: {lines}/s for {seconds} s), exit code {state['ExitCode']}")
    print(f"  json logs, sampled {len(samples)} times: largest total {largest / MIB:.2f} MiB vs max-size x max-file"
          f" {max_size * max_file / MIB:.2f} MiB ({largest / (max_size * max_file):.2f} of it),"
          f" files at most {max(count for dummy, count in samples)}, at the end {samples[-1][1]}")
    print(f"  kept in the files: {kept} lines ({samples[-1][0] / max(kept, 1):.0f} B a line as json-file stores it);"
          f" docker logs returns {returned[0]} lines, seq {first_seq}..{last_seq}"
          f" ({last_seq - first_seq + 1} in that range; the last written was {written - 1})")
    print(f"  growth during the run: df / {(after[0] - before[0]) / MIB:+.1f} MiB (the machine's disk, shared),"
          f" du of the host's root {(after[1] - before[1]) / MIB:+.1f} MiB, du of /var/lib/docker without the"
          f" writer's log dir {(after[2] - before[2]) / MIB:+.1f} MiB")


def prom(query):
    result = json.loads(host("python3", "-c", QUERY, query))
    return float(result[0]["value"][1]) if result else float("nan")


def prometheus_figures(label, per_task, bench):
    cpu, memory = host("docker", "stats", "--no-stream", "--format", "{{.CPUPerc}}|{{.MemUsage}}",
                       "prometheus").strip().split("|")
    up, total = prom("sum(up)"), prom("count(up)")
    appended = prom("rate(prometheus_tsdb_head_samples_appended_total[1m])")
    print(f"  {label}: targets up {up:.0f}/{total:.0f}, samples appended {appended:.0f}/s,"
          f" head series {prom('prometheus_tsdb_head_series'):.0f},"
          f" samples a scrape in all jobs {prom('sum(scrape_samples_scraped)'):.0f}")
    if bench:
        up, total = prom('sum(up{job="bench"})'), prom('count(up{job="bench"})')
        p50, p99 = (prom(f"quantile({q}, scrape_duration_seconds{{job='bench'}})") for q in (0.5, 0.99))
        print(f"    bench job: up {up:.0f}/{total:.0f}, scrape duration (latest scrape of each target)"
              f" p50 {p50 * 1000:.1f} ms ({p50 / per_task:.2f} x a trivial task), p99 {p99 * 1000:.1f} ms"
              f" ({p99 / per_task:.2f} x)")
    cpu_rate = prom("rate(process_cpu_seconds_total{job='prometheus'}[1m])")
    rss = prom("process_resident_memory_bytes{job='prometheus'}")
    print(f"    Prometheus: {cpu_rate * 100:.1f}% of a CPU (rate over 1m), RSS {rss / MIB:.0f} MiB;"
          f" docker stats: CPU {cpu}, memory {memory}")


def scraping(env, inventory, targets, floor_of):
    per_task = floor_of[1]
    print(f"Prometheus, {targets} more node_exporter targets (scrape interval of the role's default):")
    prometheus_figures("before", per_task, False)
    names = [f"bench-target-{index}" for index in range(targets)]
    for name in names:
        host("docker", "run", "-d", "--name", name, "--network", "stack_backend", "microops-test/node-exporter:1.5")
    with tempfile.TemporaryDirectory() as tmp:
        extra = os.path.join(tmp, "extra.json")
        with open(extra, "w", encoding="utf-8") as handle:
            json.dump({"monitoring_extra_scrape_configs": [
                {"job_name": "bench", "static_configs": [{"targets": [f"{name}:9100" for name in names]}]}]}, handle)
        seconds, tasks = playbook(env, inventory, "-e", f"@{extra}")
    print(f"  re-converge with the bench job: {seconds:.1f} s, {tasks} tasks"
          f" ({seconds / (floor_of[0] + tasks * per_task):.2f} x start-up + tasks x floor)")
    deadline = time.monotonic() + 300
    while prom('sum(up{job="bench"})') < targets and time.monotonic() < deadline:
        time.sleep(5)
    time.sleep(SETTLE)
    prometheus_figures(f"after {SETTLE} s more", per_task, True)


def main(lines="2000", seconds="60", targets="50"):
    env = dict(ENV, MOLECULE_GLOB="benchmarks/molecule/*/molecule.yml")
    play_env = dict(env, ANSIBLE_PIPELINING="true", ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"))
    begin = time.monotonic()
    try:
        molecule("create", "-s", SCENARIO, env=env)
        start = time.monotonic()
        output = molecule("converge", "-s", SCENARIO, env=env)
        first = time.monotonic() - start
        first_tasks = sum(int(m[1]) + int(m[3]) for m in RECAP.findall(output) if m[0] not in CONTROLLER)
        inventory = max(glob.glob(os.path.expanduser(f"~/.ansible/tmp/molecule.*.{SCENARIO}/inventory")),
                        key=os.path.getmtime)
        empty = min(_play_seconds(play_env, inventory, 0) for dummy in range(2))
        full = min(_play_seconds(play_env, inventory, FLOOR_TASKS) for dummy in range(2))
        floor_of = (empty, (full - empty) / FLOOR_TASKS)
        print(f"scenario {SCENARIO}: 1 host; floor on it: ansible-playbook start-up {empty:.1f} s,"
              f" a trivial task (ansible.builtin.ping) {floor_of[1] * 1000:.0f} ms")
        print(f"  first converge (molecule): {first:.1f} s, {first_tasks} tasks"
              f" ({first / (empty + first_tasks * floor_of[1]):.2f} x start-up + tasks x floor)")
        log_rotation(int(lines), int(seconds))
        scraping(play_env, inventory, int(targets), floor_of)
    finally:
        molecule("destroy", "-s", SCENARIO, env=env)
        print(f"total: {time.monotonic() - begin:.0f} s, scenario destroyed")


if __name__ == "__main__":
    main(*sys.argv[1:])
