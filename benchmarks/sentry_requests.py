#!/usr/bin/env python
"""How many HTTP requests microops.stack.sentry_project makes: on a call that changes nothing (the
module's documentation says 4 GETs: the organisation, its teams, its projects and the project's
keys, plus one per further page of a long list, and nothing else), on the call that creates a
project, in check mode, and for state=absent; and how long a module call takes.

Measured against a running GlitchTip (or Sentry) API given on the command line: the GlitchTip
STAND-IN (microops-test/glitchtip-standin:6.0, not GlitchTip) or a real server. The module is
pointed at a counting proxy on loopback, which forwards every request to the server unchanged
and records method, path and status: the requests counted are exactly the module's, whatever
else the server answers meanwhile.

The token needs the scopes the module documents (org:read, team:read/write, project:read/write/
admin, and org:write when the organisation does not exist yet). It is read from a file or the
environment, never put on a command line of its own: the module gets it through the environment.

Usage: .venv/bin/python benchmarks/sentry_requests.py API_URL TOKEN_FILE [RUNS] [ORGANIZATION] [TEAM]
  API_URL       for example http://127.0.0.1:8000
  TOKEN_FILE    a file holding the API token, or `-` to read it from $SENTRY_API_TOKEN
  RUNS          no-change calls to measure (default 5, at most 50)
  ORGANIZATION  slug of the organisation (default microops-bench; created if missing, which on
                GlitchTip needs a superuser's token or ENABLE_ORGANIZATION_CREATION)
  TEAM          slug of the team (default bench)
Creates one project named `bench-<random>` and deletes it at the end (state=absent); the team and
the organisation stay, since the module never deletes them. Exits non-zero when a no-change call
makes anything but GETs, or reports a change.
"""
import collections
import http.client
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".venv", "bin")
MODULE = "microops.stack.sentry_project"
MAX_RUNS = 50
BUDGET_SECONDS = 15 * 60
NO_CHANGE_GETS = 4  # organisation, teams, projects, keys (one page each)
TOKEN_ENV = "MICROOPS_BENCH_SENTRY_TOKEN"  # how the token reaches the module


class Recorder:
    """The requests the proxy forwarded, in order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = []

    def add(self, method, path, status):
        with self.lock:
            self.seen.append((method, path, status))

    def since(self, position):
        with self.lock:
            return list(self.seen[position:])

    def position(self):
        with self.lock:
            return len(self.seen)


def proxy_handler(upstream, recorder):
    target = urllib.parse.urlsplit(upstream)
    base_path = target.path.rstrip("/")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # the recorder is the log
            pass

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = dict((name, value) for name, value in self.headers.items()
                           if name.lower() not in ("host", "connection", "accept-encoding"))
            if target.scheme == "https":
                connection = http.client.HTTPSConnection(target.netloc, timeout=60,
                                                         context=ssl.create_default_context())
            else:
                connection = http.client.HTTPConnection(target.netloc, timeout=60)
            try:
                connection.request(self.command, base_path + self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                status = answer.status
                answer_headers = [(name, value) for name, value in answer.getheaders()
                                  if name.lower() not in ("transfer-encoding", "connection", "content-length")]
            except OSError as exc:
                status, data, answer_headers = 502, str(exc).encode(), [("Content-Type", "text/plain")]
            finally:
                connection.close()
            recorder.add(self.command, self.path, status)
            self.send_response(status)
            for name, value in answer_headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward

    return Handler


def module_call(proxy_url, args, check=False):
    """(result, seconds) of one module call through `ansible localhost -m`."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    args = dict(args, api_url=proxy_url, api_token="{{ lookup('ansible.builtin.env', '%s') }}" % TOKEN_ENV)
    command = [os.path.join(BIN, "ansible"), "localhost", "-m", MODULE, "-a", json.dumps(args),
               "-e", "ansible_python_interpreter=%s" % os.path.join(BIN, "python")]
    if check:
        command.append("--check")
    start = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
    seconds = time.monotonic() - start
    try:
        outcome = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        sys.exit("ansible rc %s\nstdout:\n%s\nstderr:\n%s" % (result.returncode, result.stdout, result.stderr))
    if outcome.get("failed"):
        sys.exit("%s failed: %s" % (MODULE, outcome.get("msg")))
    return outcome, seconds


def describe(requests):
    counts = collections.Counter(method for method, _path, _status in requests)
    return "%d requests (%s)" % (len(requests), ", ".join("%s %d" % item for item in sorted(counts.items())) or "none")


def print_requests(requests):
    for method, path, status in requests:
        print("      %s %s -> %s" % (method, path, status))


def main(api_url, token_file, runs="5", organization="microops-bench", team="bench"):
    runs = int(runs)
    if not 1 <= runs <= MAX_RUNS:
        sys.exit("RUNS must be 1..%d" % MAX_RUNS)
    if token_file == "-":
        token = os.environ.get("SENTRY_API_TOKEN", "")
    else:
        with open(token_file, encoding="utf-8") as handle:
            token = handle.read().strip()
    if not token:
        sys.exit("no API token (TOKEN_FILE empty, or $SENTRY_API_TOKEN unset with `-`)")
    os.environ[TOKEN_ENV] = token
    deadline = time.monotonic() + BUDGET_SECONDS

    recorder = Recorder()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), proxy_handler(api_url, recorder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy_url = "http://127.0.0.1:%d" % server.server_address[1]
    name = "bench-" + secrets.token_hex(4)
    args = {"organization": organization, "team": team, "name": name, "platform": "python"}
    created = False
    bad = []
    try:
        def measured(call_args, check=False):
            if time.monotonic() > deadline:
                sys.exit("time budget of %d s spent" % BUDGET_SECONDS)
            position = recorder.position()
            outcome, seconds = module_call(proxy_url, call_args, check=check)
            return outcome, seconds, recorder.since(position)

        print("HTTP requests per %s call, through a counting proxy to %s (organisation %r, team %r,"
              " project %r):" % (MODULE, api_url, organization, team, name))
        outcome, _seconds, requests = measured(args, check=True)
        print("  check mode, project missing: changed=%s, %s, dsn %r"
              % (outcome["changed"], describe(requests), outcome.get("dsn")))
        print_requests(requests)

        outcome, seconds, requests = measured(args)
        created = outcome["changed"]
        if not created:
            sys.exit("the first call must create project %r" % name)
        print("  create call: %s, %.2f s, dsn %s" % (describe(requests), seconds, "set" if outcome["dsn"] else "EMPTY"))
        print_requests(requests)
        dsn = outcome["dsn"]

        totals, times, seen = [], [], collections.Counter()
        for _index in range(runs):
            outcome, seconds, requests = measured(args)
            totals.append(len(requests))
            times.append(seconds)
            seen.update("%s %s -> %s" % (method, path.split("?")[0], status) for method, path, status in requests)
            if outcome["changed"] or any(method != "GET" for method, _p, _s in requests) or outcome["dsn"] != dsn:
                bad.append(requests)
        verdict = "OK" if not bad else "NOT OK in %d of %d runs" % (len(bad), runs)
        print("  no-change call: %d..%d requests per call, only GETs and the same DSN required: %s"
              % (min(totals), max(totals), verdict))
        for request, total in sorted(seen.items()):
            print("      %s  (%g per call)" % (request, total / runs))
        if max(totals) != NO_CHANGE_GETS:
            print("      (more than %d: a list longer than one page)" % NO_CHANGE_GETS)
        print("    wall time per no-change call (ansible ad-hoc, incl. start-up): mean %.2f s (min %.2f, max %.2f)"
              % (sum(times) / len(times), min(times), max(times)))

        outcome, _seconds, requests = measured(dict(args, platform="go"), check=True)
        print("  check mode, platform differs: changed=%s, %s" % (outcome["changed"], describe(requests)))
    finally:
        if created:
            absent = {"organization": organization, "name": name, "state": "absent"}
            outcome, _seconds, requests = measured(absent)
            print("  state=absent (deletes the project): changed=%s, %s" % (outcome["changed"], describe(requests)))
            print_requests(requests)
            outcome, _seconds, requests = measured(absent)
            print("  state=absent again: changed=%s, %s" % (outcome["changed"], describe(requests)))
        server.shutdown()
    if bad:
        print("FAILED: no-change calls that changed something or made other requests than GETs:")
        for requests in bad:
            print_requests(requests)
        sys.exit(1)
    print("All no-change calls made only GETs (%d each when every list fits in one page)." % NO_CHANGE_GETS)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
