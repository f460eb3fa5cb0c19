#!/usr/bin/env python
"""How many HTTP requests microops.stack.elasticsearch_resource (every kind) and
microops.stack.kibana_data_view make on a no-change call (the issue requires exactly one GET), the
create call for contrast, and how long a module call takes: against the Elasticsearch STAND-IN
(microops-test/elasticsearch-standin:9.5.6, not Elasticsearch) over TLS with the `elastic` user,
and the Kibana STAND-IN (microops-test/kibana-standin:9.5.6, not Kibana) connected to it with a
service token, both on loopback. The snapshot repository is verified against moto's S3 server from
the venv (as tests/standins/test_elasticsearch_standin.py does), its credentials in the stand-in's
keystore. Definitions: the logging role's (roles/logging/vars/main.yml `_logging_resources`,
`_logging_snapshot_resources`, `_logging_users`, tasks/kibana.yml) with stack_env `local`; the
role has no component template or ingest pipeline, so those two are small ones of this script.
Both stand-ins log every request they answer; the requests logged between two marker requests of
this script are the module's. Elasticsearch is measured before Kibana starts: the Kibana stand-in
sends its own requests to Elasticsearch (authentication, status).

A no-change call must make exactly one GET; a user with update_password=always makes one GET of
the user plus one GET /_security/_authenticate as that user (by design, see the module's docs).
Exits non-zero when any no-change call makes anything else, or reports a change.

Usage: .venv/bin/python benchmarks/elasticsearch_requests.py [RUNS]   (default 5, at most 50)
Needs Docker and the stand-in images (tests/harness/up). Leaves nothing behind: the containers,
their volumes, the network, moto's server and the temporary certificates are removed.
"""
import collections
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".venv", "bin")
STANDINS = os.path.join(ROOT, "tests", "standins")
sys.path.insert(0, STANDINS)  # the stand-in classes import `_container` as tests/standins does

# pylint: disable=wrong-import-position,import-error
from _container import docker  # noqa: E402
from test_elasticsearch_standin import ENV as ES_ENV, StandIn as ElasticsearchBase, make_certs  # noqa: E402
from test_kibana_standin import StandIn as KibanaBase, kibana_env  # noqa: E402

ELASTIC_PASSWORD = "bench-elastic-" + secrets.token_hex(8)
MARK = "benchmark-mark="
MAX_RUNS = 50
BUDGET_SECONDS = 30 * 60  # the whole measurement; every loop also has a count
REQUEST = r'"(GET|POST|PUT|DELETE|HEAD|PATCH) (\S+) HTTP/1\.[01]" (\d+)'
STACK_ENV = "local"
BUCKET = "microops-elasticsearch-snapshots"  # logging_snapshot_bucket


class Elasticsearch(ElasticsearchBase):
    """The Elasticsearch stand-in with this run's elastic password; its access log parsed."""

    REQUEST_LINE = re.compile(r"^elasticsearch-standin: \S+ " + REQUEST)

    def call(self, method, path, body=None, auth="elastic", raw=None, headers=None):
        if auth == "elastic":
            auth = ("elastic", ELASTIC_PASSWORD)
        return super().call(method, path, body, auth=auth, raw=raw, headers=headers)


class Kibana(KibanaBase):
    """The Kibana stand-in, calling with this run's elastic password; its access log parsed."""

    REQUEST_LINE = re.compile(r"^kibana-standin: \S+ " + REQUEST)

    def call(self, method, path, body=None, auth="elastic", xsrf=True):
        if auth == "elastic":
            auth = ("elastic", ELASTIC_PASSWORD)
        return super().call(method, path, body, auth=auth, xsrf=xsrf)


ILM_POLICY = f"microops-logs-{STACK_ENV}"
USER_PASSWORDS = {"microops_filebeat": secrets.token_urlsafe(24), "microops_grafana": secrets.token_urlsafe(24)}
# (label, module arguments without the connection); Elasticsearch's in the role's order.
ES_CALLS = [
    ("ilm_policy", {"kind": "ilm_policy", "name": ILM_POLICY, "definition": {"policy": {"phases": {
        "hot": {"actions": {"rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}}},
        "delete": {"min_age": "7d", "actions": {"delete": {}}}}}}}),
    ("index_template", {"kind": "index_template", "name": "microops-logs", "definition": {
        "index_patterns": ["logs-microops-*"], "data_stream": {}, "priority": 300,
        "template": {
            "settings": {"index.lifecycle.name": ILM_POLICY, "index.number_of_replicas": 0},
            "mappings": {"properties": {
                "@timestamp": {"type": "date"}, "message": {"type": "text"},
                "service": {"properties": {"name": {"type": "keyword"}}},
                "container": {"properties": {"name": {"type": "keyword"}, "id": {"type": "keyword"},
                                             "image": {"properties": {"name": {"type": "keyword"}}}}},
                "host": {"properties": {"name": {"type": "keyword"}}},
                "labels": {"properties": {"environment": {"type": "keyword"}}},
                "log": {"properties": {"level": {"type": "keyword"}}},
                "stream": {"type": "keyword"}}}}}}),
    # Not the role's: it has no component template or ingest pipeline.
    ("component_template", {"kind": "component_template", "name": "microops-benchmark-settings",
                            "definition": {"template": {"settings": {"number_of_shards": 1}}}}),
    ("ingest_pipeline", {"kind": "ingest_pipeline", "name": "microops-benchmark-tag", "definition": {
        "description": "tag the environment",
        "processors": [{"set": {"field": "labels.environment", "value": STACK_ENV}}]}}),
    ("role", {"kind": "role", "name": "microops_logs_writer", "definition": {
        "cluster": ["monitor", "read_ilm", "read_pipeline"],
        "indices": [{"names": ["logs-microops-*"], "privileges": ["create_doc", "auto_configure"]}]}}),
    ("role", {"kind": "role", "name": "microops_logs_reader", "definition": {
        "cluster": ["monitor"], "indices": [{"names": ["logs-*"], "privileges": ["read", "view_index_metadata"]}]}}),
    ("role", {"kind": "role", "name": "microops_exporter", "definition": {
        "cluster": ["monitor"], "indices": [{"names": ["*"], "privileges": ["monitor"]}]}}),
    ("user, update_password=on_create", {
        "kind": "user", "name": "microops_filebeat", "definition": {"roles": ["microops_logs_writer"], "enabled": True},
        "password": USER_PASSWORDS["microops_filebeat"], "update_password": "on_create"}),
    ("user, update_password=always", {
        "kind": "user", "name": "microops_grafana", "definition": {"roles": ["microops_logs_reader"], "enabled": True},
        "password": USER_PASSWORDS["microops_grafana"], "update_password": "always"}),
    ("snapshot_repository", {"kind": "snapshot_repository", "name": "microops-s3", "definition": {
        "type": "s3", "settings": {"bucket": BUCKET, "client": "default", "base_path": f"microops-{STACK_ENV}"}}}),
    ("slm_policy", {"kind": "slm_policy", "name": "microops-nightly", "definition": {
        "schedule": "0 30 1 * * ?", "name": "<microops-{now/d}>", "repository": "microops-s3",
        "config": {"indices": ["*"], "include_global_state": True},
        "retention": {"expire_after": "30d", "min_count": 5, "max_count": 50}}}),
]
DATA_VIEW = {"id": "microops-logs", "name": "Stack logs", "title": "logs-microops-*", "time_field": "@timestamp"}


class Budget:
    """The whole run's time bound, checked in every loop."""

    def __init__(self, seconds):
        self.deadline = time.monotonic() + seconds

    def check(self, what):
        if time.monotonic() > self.deadline:
            sys.exit(f"time budget of {BUDGET_SECONDS} s spent ({what})")


def expected_no_change(args):
    """The requests a no-change call may make, as a Counter of methods, and a description."""
    if args.get("kind") == "user" and args.get("update_password") == "always":
        return collections.Counter(GET=2), "one GET of the user + one GET /_security/_authenticate (by design)"
    return collections.Counter(GET=1), "exactly one GET"


def no_change_ok(args, during):
    want, _text = expected_no_change(args)
    if collections.Counter(method for method, _path, _status in during) != want:
        return False
    if want["GET"] == 2:  # the second one is the user authenticating, nothing else
        return sum(1 for _m, path, _s in during if path.split("?")[0] == "/_security/_authenticate") == 1
    return True


def mark(standin, path, number):
    """A request of our own that is not the module's, then wait until the stand-in logged it:
    every request answered before it is in the log too. Returns the log position after it."""
    marked = f"{path}?{MARK}{number}"
    status, _body = standin.call("GET", marked)
    if status != 200:
        sys.exit(f"marker {marked} answered {status}")
    deadline = time.monotonic() + 10
    while True:
        found = standin.requests()
        for index, (method, logged, _status) in enumerate(found):
            if method == "GET" and logged == marked:
                return index + 1, found
        if time.monotonic() > deadline:
            sys.exit(f"the {standin.PRODUCT} stand-in did not log {marked} within 10 s")
        time.sleep(0.05)


def module_call(module, args):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    start = time.monotonic()
    result = subprocess.run(
        [os.path.join(BIN, "ansible"), "localhost", "-m", module, "-a", json.dumps(args),
         "-e", f"ansible_python_interpreter={os.path.join(BIN, 'python')}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
    seconds = time.monotonic() - start
    try:
        outcome = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        sys.exit(f"ansible rc {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    if outcome.get("failed"):
        what = f"{args.get('kind', '')} {args.get('name') or args.get('id')}"
        sys.exit(f"{module} failed for {what}: {outcome.get('msg')}")
    return outcome["changed"], seconds


class Measure:
    """Module calls between markers of one stand-in."""

    def __init__(self, standin, mark_path, budget):
        self.standin, self.mark_path, self.budget = standin, mark_path, budget
        self.number = 0

    def call(self, module, args):
        """(changed, seconds, the requests the stand-in answered during the call)."""
        self.budget.check(f"{module} {args.get('name') or args.get('id')}")
        self.number += 1
        before, _found = mark(self.standin, self.mark_path, f"{self.number}a")
        changed, seconds = module_call(module, args)
        after, found = mark(self.standin, self.mark_path, f"{self.number}b")
        return changed, seconds, found[before:after - 1]

    def resource(self, module, args, runs):
        changed, _seconds, created = self.call(module, args)
        if not changed:
            sys.exit(f"the first call must create {args.get('name') or args.get('id')}")
        counts, times, seen, bad = [], [], collections.Counter(), []
        for _index in range(runs):
            changed, seconds, during = self.call(module, args)
            if changed:
                sys.exit(f"a no-change call of {args.get('name') or args.get('id')} reported a change")
            counts.append(collections.Counter(method for method, _path, _status in during))
            times.append(seconds)
            seen.update(f"{method} {path.split('?')[0]} -> {status}" for method, path, status in during)
            if not no_change_ok(args, during):
                bad.append(during)
        return {"created": created, "counts": counts, "times": times, "seen": seen, "bad": bad}


def methods(counter):
    return ", ".join(f"{method} {count}" for method, count in sorted(counter.items())) or "none"


def free_port(address):
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def gateway_of(network):
    """The host's address on the network, which its containers reach it by."""
    config = json.loads(docker("network", "inspect", network, "--format", "{{json .IPAM.Config}}").stdout)[0]
    # No Gateway field when the engine picked it itself: the subnet's first address.
    return config.get("Gateway") or config["Subnet"].split("/")[0].rsplit(".", 1)[0] + ".1"


def start_moto(address):
    """moto's S3 server on the network's gateway address (reachable by the containers, not beyond
    the host), with the bucket; returns (process, endpoint)."""
    port = free_port(address)
    endpoint = f"http://{address}:{port}"
    server = subprocess.Popen([os.path.join(BIN, "moto_server"), "-H", address, "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2):
                break
        except (urllib.error.URLError, OSError):
            if server.poll() is not None or time.monotonic() > deadline:
                server.terminate()
                server.wait(timeout=10)
                sys.exit(f"moto_server did not answer on {endpoint} within 30 s")
            time.sleep(0.2)
    import boto3  # pylint: disable=import-outside-toplevel
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench", aws_secret_access_key="bench",
                 region_name="us-east-1").create_bucket(Bucket=BUCKET)
    return server, endpoint


def keystore_add(node, name, value):
    result = docker("exec", "-i", node.name, "bin/elasticsearch-keystore", "add", "--stdin", "--force", name,
                    stdin=value + "\n", check=False)
    if result.returncode != 0:
        sys.exit(f"elasticsearch-keystore add {name}: {result.stderr}")


def report(title, label, figures, runs):
    print(f"  {label}  ({title}):")
    created = figures["created"]
    print(f"    create call: {len(created)} requests ({methods(collections.Counter(m for m, _p, _s in created))})")
    for method, path, status in created:
        print(f"      {method} {path.split('?')[0]} -> {status}")
    totals = [sum(counter.values()) for counter in figures["counts"]]
    want, text = expected_no_change(figures["args"])
    verdict = "OK" if not figures["bad"] else f"NOT OK in {len(figures['bad'])} of {runs} runs"
    print(f"    no-change call: {min(totals)}..{max(totals)} requests per call, required {text}: {verdict}")
    merged = collections.Counter()
    for counter in figures["counts"]:
        merged.update(counter)
    print(f"      by method, per call: {', '.join(f'{m} {n / runs:g}' for m, n in sorted(merged.items()))}"
          f" (required: {methods(want)})")
    for request, total in sorted(figures["seen"].items()):
        print(f"      {request}  ({total / runs:g} per call)")
    times = figures["times"]
    print(f"    wall time per no-change call (ansible ad-hoc, incl. start-up): mean {sum(times) / len(times):.2f} s"
          f" (min {min(times):.2f}, max {max(times):.2f})")


def main(runs="5"):
    runs = int(runs)
    if not 1 <= runs <= MAX_RUNS:
        sys.exit(f"RUNS must be 1..{MAX_RUNS}")
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))  # so that the cleanup below runs
    budget = Budget(BUDGET_SECONDS)
    certs = tempfile.mkdtemp(prefix="microops-bench-es-certs-")
    network = f"microops-bench-net-{uuid.uuid4().hex[:8]}"
    es = kibana = moto = None
    results = []
    try:
        make_certs(certs)
        Elasticsearch.CERTS = certs
        Kibana.CA = os.path.join(certs, "ca.crt")
        docker("network", "create", network)
        moto, endpoint = start_moto(gateway_of(network))
        es = Elasticsearch(env={**ES_ENV, "ELASTIC_PASSWORD": ELASTIC_PASSWORD, "s3.client.default.endpoint": endpoint},
                           network=network)
        es.run()
        keystore_add(es, "s3.client.default.access_key", "bench-" + secrets.token_hex(8))
        keystore_add(es, "s3.client.default.secret_key", secrets.token_urlsafe(24))
        status, body = es.call("POST", "/_nodes/reload_secure_settings")
        if status != 200:
            sys.exit(f"reload_secure_settings: {status} {body}")
        connection = {"url": es.base, "url_username": "elastic", "url_password": ELASTIC_PASSWORD,
                      "ca_path": os.path.join(certs, "ca.crt")}
        measure = Measure(es, "/", budget)
        for label, args in ES_CALLS:
            figures = measure.resource("microops.stack.elasticsearch_resource", {**args, **connection}, runs)
            figures["args"] = args
            results.append((f"elasticsearch_resource {args['kind']} {args['name']}", label, figures))
        # Kibana after Elasticsearch: it sends requests of its own to Elasticsearch.
        status, body = es.call("POST", "/_security/service/elastic/kibana/credential/token/microops-kibana")
        if status != 200:
            sys.exit(f"service token: {status} {body}")
        keys = {name: secrets.token_hex(16) for name in ("XPACK_SECURITY_ENCRYPTIONKEY",
                                                         "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY",
                                                         "XPACK_REPORTING_ENCRYPTIONKEY")}
        kibana = Kibana(env=kibana_env(body["token"]["value"], **keys), network=network)
        kibana.run()
        measure = Measure(kibana, "/api/status", budget)
        args = {**DATA_VIEW, "kibana_url": kibana.base, "url_username": "elastic", "url_password": ELASTIC_PASSWORD}
        figures = measure.resource("microops.stack.kibana_data_view", args, runs)
        figures["args"] = DATA_VIEW
        results.append((f"kibana_data_view {DATA_VIEW['id']}", "data view", figures))
    finally:
        for standin in (kibana, es):
            if standin is not None:
                standin.remove()
        docker("network", "rm", network, check=False)
        if moto is not None:
            moto.terminate()
            try:
                moto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                moto.kill()
                moto.wait(timeout=10)
        shutil.rmtree(certs, ignore_errors=True)
    print(f"HTTP requests per module call, measured against STAND-INS on loopback (not Elasticsearch or Kibana):"
          f" {ElasticsearchBase.IMAGE} over TLS and {KibanaBase.IMAGE}; snapshots to moto's S3 server;"
          f" the logging role's definitions; {runs} no-change runs each after one create call:")
    for title, label, figures in results:
        report(title, label, figures, runs)
    failed = [title for title, _label, figures in results if figures["bad"]]
    if failed:
        print("FAILED: no-change calls that made other requests than required: " + "; ".join(failed))
        sys.exit(1)
    print("All no-change calls made exactly the required requests (one GET; the user with"
          " update_password=always one GET plus one authenticate).")


if __name__ == "__main__":
    main(*sys.argv[1:])
