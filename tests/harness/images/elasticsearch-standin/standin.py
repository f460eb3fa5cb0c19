#!/usr/bin/env python
"""microops-test Elasticsearch STAND-IN (REST API subset), not Elasticsearch.

Runs as `bin/elasticsearch -E...` (docker-entrypoint.sh) and `bin/elasticsearch-keystore ...`
inside microops-test/elasticsearch-standin:9.5.6, standing in for
docker.elastic.co/elasticsearch/elasticsearch:9.5.6. Only what the collection uses, each part
following the Elastic documentation (elastic.co/docs/reference/elasticsearch, .../api-reference)
or the source (github.com/elastic/elasticsearch) named here:
- settings: -E options from the entrypoint over config/elasticsearch.yml (docs: "Configuring
  Elasticsearch", "Important settings"); unknown ones stop the node as
  common/settings/AbstractScopedSettings.java validate does ("unknown setting [x] please check that
  any required plugins are installed, or check the breaking changes documentation for removed
  settings", exit 1); secure settings outside the keystore refused as SecureSetting does; see KNOWN.
- ES_JAVA_OPTS: the heap bootstrap check (bootstrap/BootstrapChecks.java HeapSizeCheck "initial
  heap size [..] not equal to maximum heap size [..]; this can cause resize pauses"), enforced
  always (see README: stricter).
- TLS: xpack.security.http.ssl.* (docs: security-settings, "Transport/HTTP TLS/SSL settings");
  PEM files resolved against config/ and readable only there (libs/ssl-config
  SslFileUtil "access to read the file is blocked; SSL resources should be placed in the [..]
  directory"), missing files refused at start.
- keystore (docs: elasticsearch-keystore; cli/keystore/*Command.java): config/elasticsearch.keystore,
  list/add/remove/create; s3.client.*.access_key|secret_key read at start and on
  POST /_nodes/reload_secure_settings only (docs: "Secure settings", "Reloadable secure settings").
- bootstrap password (x-pack security ReservedRealm, docs "Built-in users"): bootstrap.password from
  the keystore sets elastic's password only while the security index holds none (first start).
- authentication (docs: "User authentication", "Service accounts"): basic auth against the reserved
  and native realms, Bearer service-account tokens (elastic/kibana); failures 401 security_exception
  with WWW-Authenticate (x-pack DefaultAuthenticationFailureHandler).
- authorization (docs: "Security privileges"; x-pack core ClusterPrivilegeResolver,
  IndexPrivilege): see CLUSTER_ACTIONS and INDEX_ACTIONS; denial 403 as
  AuthorizationService.denialException words it.
- APIs, each in its handler's docstring: /, _cluster/health, _cluster/stats, _nodes/stats,
  _nodes/reload_secure_settings, _cat/health, _cat/indices, _security/*, _ilm/*, _index_template,
  _component_template, _ingest/pipeline, _bulk, _doc, _search, _count, _data_stream, _settings,
  _ilm/explain, _snapshot/*, _slm/*.
State: JSON files under data/standin/ (the volume), so everything survives a restart.
"""
import base64
import copy
import datetime
import fnmatch
import gzip
import hashlib
import hmac
import json
import os
import re
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOME = "/usr/share/elasticsearch"
CONFIG = os.path.join(HOME, "config")
DATA = os.path.join(HOME, "data")
KEYSTORE = os.path.join(CONFIG, "elasticsearch.keystore")
VERSION = "9.5.6"
LUCENE = "10.3.2"
BUILD_HASH = "microops-standin"
BANNER = "microops-test Elasticsearch STAND-IN, not Elasticsearch"
LOCK = threading.RLock()
BOOL = ("true", "false")

# The settings this stand-in knows (the collection's, plus a few that often come with them).
KNOWN = {
    "cluster.name", "node.name", "network.host", "http.port", "discovery.type", "discovery.seed_hosts",
    "cluster.initial_master_nodes", "bootstrap.memory_lock", "xpack.security.enabled",
    "xpack.security.enrollment.enabled", "xpack.license.self_generated.type",
    "ingest.geoip.downloader.enabled", "action.destructive_requires_name",
    "xpack.security.http.ssl.enabled", "xpack.security.http.ssl.key", "xpack.security.http.ssl.certificate",
    "xpack.security.http.ssl.certificate_authorities", "xpack.security.http.ssl.verification_mode",
    "xpack.security.transport.ssl.enabled", "xpack.security.transport.ssl.key",
    "xpack.security.transport.ssl.certificate", "xpack.security.transport.ssl.certificate_authorities",
    "xpack.security.transport.ssl.verification_mode",
}
# s3.client.CLIENT.* (docs: repository-s3, "Client settings").
S3_CLIENT_SETTINGS = {"endpoint", "path_style_access", "region", "read_timeout", "max_retries",
                      "disable_chunked_encoding"}
S3_SECURE = {"access_key", "secret_key", "session_token"}
BOOLEAN_SETTINGS = {"bootstrap.memory_lock", "xpack.security.enabled", "xpack.security.enrollment.enabled",
                    "ingest.geoip.downloader.enabled", "action.destructive_requires_name",
                    "xpack.security.http.ssl.enabled", "xpack.security.transport.ssl.enabled"}
RESERVED_USERS = ("elastic", "kibana", "kibana_system", "logstash_system", "beats_system", "apm_system",
                  "remote_monitoring_user")

# Built-in roles the collection meets (docs: "Built-in roles").
BUILTIN_ROLES = {
    "superuser": {"cluster": ["all"], "indices": [{"names": ["*"], "privileges": ["all"],
                                                  "allow_restricted_indices": True}]},
    "kibana_system": {"cluster": ["monitor", "manage_index_templates", "manage_ilm", "manage_pipeline",
                                  "manage_security"],
                      "indices": [{"names": [".kibana*"], "privileges": ["all"]}]},
}
# x-pack core ServiceAccountService / ElasticServiceAccounts: elastic/kibana.
SERVICE_ACCOUNTS = {"elastic/kibana": BUILTIN_ROLES["kibana_system"]}

CLUSTER_PRIVILEGES = ("all", "monitor", "manage", "manage_ilm", "manage_index_templates", "manage_pipeline",
                      "manage_security", "manage_slm", "read_ilm", "read_pipeline", "read_slm",
                      "manage_service_account", "create_snapshot", "monitor_snapshot", "manage_ingest_pipelines",
                      "none")
INDEX_PRIVILEGES = ("all", "create", "create_doc", "create_index", "auto_configure", "delete", "delete_index",
                    "index", "manage", "manage_ilm", "monitor", "read", "view_index_metadata", "write",
                    "maintenance", "none")
# action -> the privileges granting it (ClusterPrivilegeResolver / IndexPrivilege), in ES's order.
CLUSTER_ACTIONS = {
    "cluster:monitor/main": ("monitor", "manage", "all"),
    "cluster:monitor/health": ("monitor", "manage", "all"),
    "cluster:monitor/stats": ("monitor", "manage", "all"),
    "cluster:monitor/nodes/stats": ("monitor", "manage", "all"),
    "cluster:admin/nodes/reload_secure_settings": ("manage", "all"),
    "cluster:admin/xpack/security/role/put": ("manage_security", "all"),
    "cluster:admin/xpack/security/role/get": ("manage_security", "all"),
    "cluster:admin/xpack/security/role/delete": ("manage_security", "all"),
    "cluster:admin/xpack/security/user/put": ("manage_security", "all"),
    "cluster:admin/xpack/security/user/get": ("manage_security", "all"),
    "cluster:admin/xpack/security/user/delete": ("manage_security", "all"),
    "cluster:admin/xpack/security/user/change_password": ("manage_security", "all"),
    "cluster:admin/xpack/security/service_account/token/create": ("manage_service_account", "manage_security", "all"),
    "cluster:admin/xpack/security/service_account/token/delete": ("manage_service_account", "manage_security", "all"),
    "cluster:admin/xpack/security/service_account/credential/get": ("manage_service_account", "manage_security", "all"),
    "cluster:admin/ilm/put": ("manage_ilm", "manage", "all"),
    "cluster:admin/ilm/get": ("read_ilm", "manage_ilm", "manage", "all"),
    "cluster:admin/ilm/delete": ("manage_ilm", "manage", "all"),
    "indices:admin/index_template/put": ("manage_index_templates", "manage", "all"),
    "indices:admin/index_template/get": ("manage_index_templates", "manage", "all"),
    "indices:admin/index_template/delete": ("manage_index_templates", "manage", "all"),
    "cluster:admin/component_template/put": ("manage_index_templates", "manage", "all"),
    "cluster:admin/component_template/get": ("manage_index_templates", "manage", "all"),
    "cluster:admin/component_template/delete": ("manage_index_templates", "manage", "all"),
    "cluster:admin/ingest/pipeline/put": ("manage_pipeline", "manage_ingest_pipelines", "manage", "all"),
    "cluster:admin/ingest/pipeline/get": ("read_pipeline", "manage_pipeline", "manage_ingest_pipelines", "manage", "all"),
    "cluster:admin/ingest/pipeline/delete": ("manage_pipeline", "manage_ingest_pipelines", "manage", "all"),
    "cluster:admin/repository/put": ("manage", "all"),
    "cluster:admin/repository/get": ("monitor_snapshot", "create_snapshot", "manage_slm", "manage", "all"),
    "cluster:admin/repository/verify": ("manage", "all"),
    "cluster:admin/snapshot/create": ("create_snapshot", "manage_slm", "manage", "all"),
    "cluster:admin/snapshot/get": ("monitor_snapshot", "create_snapshot", "manage_slm", "manage", "all"),
    "cluster:admin/snapshot/restore": ("manage", "all"),
    "cluster:admin/slm/put": ("manage_slm", "manage", "all"),
    "cluster:admin/slm/get": ("read_slm", "manage_slm", "manage", "all"),
    "cluster:admin/slm/delete": ("manage_slm", "manage", "all"),
    "cluster:admin/slm/execute": ("manage_slm", "manage", "all"),
}
INDEX_ACTIONS = {
    "indices:data/read/search": ("read", "all"),
    "indices:data/write/index:op_type/create": ("create_doc", "create", "index", "write", "all"),
    "indices:data/write/index:op_type/index": ("create", "index", "write", "all"),
    "indices:admin/auto_create": ("auto_configure", "create_index", "manage", "all"),
    "indices:admin/data_stream/get": ("view_index_metadata", "manage", "all"),
    "indices:admin/data_stream/delete": ("delete_index", "manage", "all"),
    "indices:monitor/settings/get": ("view_index_metadata", "monitor", "manage", "all"),
    "indices:admin/ilm/explain": ("view_index_metadata", "manage_ilm", "manage", "all"),
    "indices:monitor/stats": ("monitor", "manage", "all"),
}
ILM_PHASES = ("hot", "warm", "cold", "frozen", "delete")
# x-pack core ilm/TimeseriesLifecycleType.java: VALID_HOT_ACTIONS ... VALID_DELETE_ACTIONS.
ILM_ACTIONS = {
    "hot": ("set_priority", "unfollow", "rollover", "readonly", "downsample", "shrink", "forcemerge",
            "searchable_snapshot"),
    "warm": ("set_priority", "unfollow", "readonly", "downsample", "allocate", "migrate", "shrink", "forcemerge"),
    "cold": ("set_priority", "unfollow", "readonly", "downsample", "searchable_snapshot", "allocate", "migrate"),
    "frozen": ("unfollow", "searchable_snapshot"),
    "delete": ("wait_for_snapshot", "delete"),
}
ALL_ILM_ACTIONS = sorted({a for acts in ILM_ACTIONS.values() for a in acts})
ROLLOVER_MAX = ("max_age", "max_docs", "max_size", "max_primary_shard_size", "max_primary_shard_docs")
ROLLOVER_MIN = ("min_age", "min_docs", "min_size", "min_primary_shard_size", "min_primary_shard_docs")
S3_REPO_SETTINGS = {"bucket", "client", "base_path", "compress", "chunk_size", "server_side_encryption",
                    "buffer_size", "canned_acl", "storage_class", "readonly", "max_restore_bytes_per_sec",
                    "max_snapshot_bytes_per_sec"}
WWW_AUTHENTICATE = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey"]


def log(message):
    print(f"elasticsearch-standin: {message}", file=sys.stderr, flush=True)


def now_ms():
    return int(time.time() * 1000)


class EsError(Exception):
    """An error answered as ES's ElasticsearchException body:
    {"error": {"root_cause": [...], "type", "reason", ...}, "status"}."""

    def __init__(self, status, etype, reason, extra=None, caused_by=None, headers=None, root=None):
        super().__init__(reason)
        self.status, self.etype, self.reason = status, etype, reason
        self.extra = extra or {}
        self.caused_by = caused_by
        self.headers = headers or {}
        self.root = root

    def obj(self):
        out = {"type": self.etype, "reason": self.reason, **self.extra}
        if self.caused_by:
            out["caused_by"] = self.caused_by
        return out

    def body(self):
        inner = self.obj()
        root = self.root or {"type": self.etype, "reason": self.reason, **self.extra}
        return {"error": {"root_cause": [root], **inner}, "status": self.status}


def bad_request(reason, etype="illegal_argument_exception"):
    return EsError(400, etype, reason)


def validation(*messages):
    """ActionRequestValidationException: "Validation Failed: 1: a;2: b;"."""
    text = "".join(f"{i}: {m};" for i, m in enumerate(messages, 1))
    return EsError(400, "action_request_validation_exception", "Validation Failed: " + text)


def index_not_found(name):
    return EsError(404, "index_not_found_exception", f"no such index [{name}]",
                   {"resource.type": "index_or_alias", "resource.id": name, "index_uuid": "_na_", "index": name})


# ---------------------------------------------------------------- settings and startup

def fail_start(message):
    """How the launcher reports a fatal startup exception, then exit 1."""
    print("ERROR: Elasticsearch did not exit normally - check the logs at "
          f"{HOME}/logs/docker-cluster.log", file=sys.stderr)
    print(message, file=sys.stderr, flush=True)
    log(message)
    sys.exit(1)


def flatten(prefix, value, out):
    if isinstance(value, dict):
        for key, sub in value.items():
            flatten(f"{prefix}.{key}" if prefix else str(key), sub, out)
    elif isinstance(value, list):
        out[prefix] = ",".join(str(v) for v in value)
    else:
        out[prefix] = "true" if value is True else "false" if value is False else str(value)


def read_settings(args):
    import yaml  # Debian's python3-yaml
    settings = {}
    path = os.path.join(CONFIG, "elasticsearch.yml")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            flatten("", yaml.safe_load(handle) or {}, settings)
    for arg in args:
        if not arg.startswith("-E") or "=" not in arg:
            fail_start(f"java.lang.IllegalArgumentException: unrecognized argument [{arg}]")
        key, value = arg[2:].split("=", 1)
        settings[key] = value
    return settings


def unknown_setting(key):
    return (f"java.lang.IllegalArgumentException: unknown setting [{key}] please check that any required plugins "
            "are installed, or check the breaking changes documentation for removed settings")


def validate_settings(settings):
    for key, value in sorted(settings.items()):
        match = re.fullmatch(r"s3\.client\.([a-z0-9_-]+)\.([a-z_]+)", key)
        if match and match.group(2) in S3_SECURE:
            fail_start(f"java.lang.IllegalArgumentException: Setting [{key}] is a secure setting and must be stored "
                       "inside the Elasticsearch keystore, but was found inside elasticsearch.yml")
        if (match and match.group(2) not in S3_CLIENT_SETTINGS) or (not match and key not in KNOWN):
            fail_start(unknown_setting(key))
        if key in BOOLEAN_SETTINGS or (match and match.group(2) in ("path_style_access", "disable_chunked_encoding")):
            if value not in BOOL:
                fail_start(f"java.lang.IllegalArgumentException: Failed to parse value [{value}] as only [true] or "
                           f"[false] are allowed.")
    dtype = settings.get("discovery.type", "multi-node")
    if dtype not in ("single-node", "multi-node"):
        fail_start(f"java.lang.IllegalArgumentException: Unknown discovery type [{dtype}]")
    if dtype == "single-node" and "cluster.initial_master_nodes" in settings:
        fail_start("java.lang.IllegalArgumentException: setting [cluster.initial_master_nodes] is not allowed when "
                   "[discovery.type] is set to [single-node]")
    if dtype != "single-node":
        fail_start("microops-test STAND-IN: only discovery.type=single-node is implemented (one node); "
                   "a multi-node cluster cannot be stood in for")
    if settings.get("xpack.security.enabled") != "true":
        fail_start("microops-test STAND-IN: only xpack.security.enabled=true is implemented (the collection "
                   "always enables security; Elasticsearch's auto-configuration is not stood in for)")
    for scope in ("http", "transport"):
        prefix = f"xpack.security.{scope}.ssl"
        mode = settings.get(prefix + ".verification_mode", "full")
        if mode not in ("full", "certificate", "none"):
            fail_start(f"java.lang.IllegalArgumentException: could not resolve ssl client verification mode, unknown "
                       f"value [{mode}]")
        if settings.get(prefix + ".enabled") == "true":
            if not settings.get(prefix + ".key") or not settings.get(prefix + ".certificate"):
                fail_start(f"org.elasticsearch.ElasticsearchSecurityException: invalid SSL configuration for {prefix} - "
                           "server ssl configuration requires a key and certificate, but these have not been "
                           f"configured; you must set either [{prefix}.keystore.path], or both [{prefix}.key] and "
                           f"[{prefix}.certificate]")
            for item in ("key", "certificate", "certificate_authorities"):
                for name in filter(None, settings.get(f"{prefix}.{item}", "").split(",")):
                    resolve_ssl_file(prefix, item, name.strip())
    heap_check(os.environ.get("ES_JAVA_OPTS", ""))


def resolve_ssl_file(prefix, item, name):
    """libs/ssl-config: paths relative to config/, files readable only under config/."""
    path = os.path.normpath(os.path.join(CONFIG, name))
    kind = {"key": "PEM private key", "certificate": "PEM certificate",
            "certificate_authorities": "PEM certificate_authorities"}[item]
    if not (path + "/").startswith(CONFIG + "/"):
        fail_start(f"org.elasticsearch.ElasticsearchSecurityException: failed to load SSL configuration [{prefix}] - "
                   f"cannot read configured {kind} [{path}] because access to read the file is blocked; SSL "
                   f"resources should be placed in the [{CONFIG}] directory")
    if not os.path.isfile(path):
        fail_start(f"org.elasticsearch.ElasticsearchSecurityException: failed to load SSL configuration [{prefix}] - "
                   f"cannot read configured {kind} [{path}] because the file does not exist")
    return path


def heap_check(opts):
    xms = re.findall(r"(?:^|\s)-Xms(\S+)", opts)
    xmx = re.findall(r"(?:^|\s)-Xmx(\S+)", opts)
    if not xms or not xmx:
        fail_start("microops-test STAND-IN: ES_JAVA_OPTS must set both -Xms and -Xmx (the stand-in does not "
                   f"size the heap automatically); got [{opts.strip()}]")
    if xms[-1] != xmx[-1]:
        fail_start(f"bootstrap check failure [1] of [1]: initial heap size [{xms[-1]}] not equal to maximum heap size "
                   f"[{xmx[-1]}]; this can cause resize pauses")


# ---------------------------------------------------------------- keystore

def keystore_read():
    if not os.path.exists(KEYSTORE):
        return None
    with open(KEYSTORE, encoding="utf-8") as handle:
        return json.load(handle)["entries"]


def keystore_write(entries):
    tmp = KEYSTORE + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"format": "microops-test Elasticsearch STAND-IN keystore (not ES's binary format)",
                   "entries": entries}, handle)
    os.chmod(tmp, 0o660)
    os.replace(tmp, KEYSTORE)


def keystore_cli(args):
    """cli/keystore: ListKeyStoreCommand, AddStringKeyStoreCommand (-x/--stdin, -f/--force),
    RemoveSettingKeyStoreCommand, CreateKeyStoreCommand. Exit 78 (ExitCodes.CONFIG) on the errors."""
    if not args or args[0] not in ("list", "add", "remove", "create"):
        print("ERROR: Unknown command [%s]" % (args[0] if args else ""), file=sys.stderr)
        return 64
    command, rest = args[0], args[1:]
    force = any(a in ("-f", "--force") for a in rest)
    stdin = any(a in ("-x", "--stdin") for a in rest)
    names = [a for a in rest if not a.startswith("-")]
    unknown = [a for a in rest if a.startswith("-") and a not in ("-f", "--force", "-x", "--stdin")]
    if unknown:
        print(f"ERROR: {unknown[0]} is not a recognized option", file=sys.stderr)
        return 64
    entries = keystore_read()
    missing = f"ERROR: Elasticsearch keystore not found at [{KEYSTORE}]. Use 'create' command to create one."
    if command == "create":
        if entries is not None and not force:
            print("An elasticsearch keystore already exists. Overwrite? [y/N]", end="", flush=True)
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                print("Exiting without creating keystore.")
                return 0
        keystore_write({"keystore.seed": secrets.token_urlsafe(15)})
        return 0
    if command == "list":
        if entries is None:
            print(missing, file=sys.stderr)
            return 78
        for name in sorted(entries):
            print(name)
        return 0
    if command == "remove":
        if entries is None:
            print(missing, file=sys.stderr)
            return 78
        if not names:
            print("ERROR: Must supply at least one setting to remove", file=sys.stderr)
            return 64
        for name in names:
            if name not in entries:
                print(f"ERROR: Setting [{name}] does not exist in the keystore.", file=sys.stderr)
                return 78
            del entries[name]
        keystore_write(entries)
        return 0
    # add
    if len(names) != 1:
        print("ERROR: the setting name can only be specified once" if names else "ERROR: the setting name is required",
              file=sys.stderr)
        return 64
    name = names[0]
    if not re.fullmatch(r"[A-Za-z0-9_\-.]+", name):
        print(f"ERROR: Setting name [{name}] does not match the allowed setting name pattern [[A-Za-z0-9_\\-.]+]",
              file=sys.stderr)
        return 65
    if entries is None:
        if not force:
            print("The elasticsearch keystore does not exist. Do you want to create it? [y/N]", end="", flush=True)
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                print("Exiting without creating keystore.")
                return 0
        entries = {"keystore.seed": secrets.token_urlsafe(15)}
    if name in entries and not force:
        print(f"Setting {name} already exists. Overwrite? [y/N]", end="", flush=True)
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            print("Exiting without modifying keystore.")
            return 0
    if not stdin:
        print(f"Enter value for {name}: ", end="", flush=True)
    value = sys.stdin.readline()
    value = value[:-1] if value.endswith("\n") else value
    value = value[:-1] if value.endswith("\r") else value
    entries[name] = value
    keystore_write(entries)
    return 0


def validate_keystore(entries):
    for name in entries:
        if name in ("keystore.seed", "bootstrap.password"):
            continue
        match = re.fullmatch(r"s3\.client\.([a-z0-9_-]+)\.([a-z_]+)", name)
        if not match or match.group(2) not in S3_SECURE:
            fail_start(unknown_setting(name).replace("unknown setting", "unknown secure setting"))


# ---------------------------------------------------------------- state

class State:
    """Everything the node keeps, as JSON files in data/standin/ (written on each change)."""

    KINDS = ("node", "security", "ilm", "templates", "components", "pipelines", "indices", "data_streams",
             "repositories", "slm")

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.first_start = not os.path.exists(os.path.join(directory, "node.json"))
        for kind in self.KINDS:
            path = os.path.join(directory, kind + ".json")
            value = {}
            if os.path.exists(path):
                with open(path, encoding="utf-8") as handle:
                    value = json.load(handle)
            setattr(self, kind, value)
        self.written, self.rewrite = [], False
        if self.replay_journal():
            # Compacted: a later append must not follow a line a crash cut short.
            self.save("indices")
        if self.first_start:
            self.node.update({"node_id": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode()[:22],
                              "cluster_uuid": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode()[:22]})
            self.security.update({"users": {}, "roles": {}, "tokens": {}, "reserved": {}})
            self.install_builtins()
            self.save(*self.KINDS)

    def install_builtins(self):
        """x-pack stack plugin StackTemplateRegistry: the logs@* components, the logs ILM policy and the
        `logs` index template (logs-*-*, priority 100, data stream), present from the first start."""
        meta = {"description": "default logs template installed by x-pack", "managed": True}
        self.components.update({
            "logs@mappings": {"template": {"mappings": {"date_detection": False}}, "version": 16, "_meta": meta},
            "logs@settings": {"template": {"settings": {"index": {"lifecycle": {"name": "logs"},
                                                                  "codec": "best_compression",
                                                                  "mapping": {"ignore_malformed": "true"}}}},
                              "version": 16, "_meta": meta},
            "ecs@mappings": {"template": {"mappings": {"dynamic_templates": []}}, "version": 16, "_meta": meta},
        })
        self.ilm["logs"] = {"version": 1, "modified_date": now_ms(), "policy": {
            "phases": {"hot": {"min_age": "0ms", "actions": {"rollover": {"max_age": "30d",
                                                                          "max_primary_shard_size": "50gb"}}}},
            "_meta": {"description": "default policy for the logs index template installed by x-pack",
                      "managed": True}}}
        self.templates["logs"] = {
            "index_patterns": ["logs-*-*"], "composed_of": ["logs@mappings", "logs@settings", "logs@custom",
                                                            "ecs@mappings"],
            "priority": 100, "version": 16, "_meta": meta, "data_stream": {"hidden": False,
                                                                           "allow_custom_routing": False},
            "allow_auto_create": True, "ignore_missing_component_templates": ["logs@custom"]}

    def save(self, *kinds):
        for kind in kinds:
            path = os.path.join(self.dir, kind + ".json")
            with open(path + ".tmp", "w", encoding="utf-8") as handle:
                json.dump(getattr(self, kind), handle)
            os.replace(path + ".tmp", path)
        if "indices" in kinds:
            # indices.json now holds every document: the journal's are in it (a crash before this
            # line replays them again, and replay skips ids already there).
            with open(os.path.join(self.dir, "indices.journal"), "w", encoding="utf-8"):
                pass

    def journal(self, entries):
        """New documents appended to indices.journal ([index, doc] per line): a write costs its own
        size, not the size of every document kept, as a log-appending server's does. indices.json is
        rewritten only when indices, data streams or existing documents change."""
        with open(os.path.join(self.dir, "indices.journal"), "a", encoding="utf-8") as handle:
            handle.writelines(json.dumps([index, doc]) + "\n" for index, doc in entries)

    def replay_journal(self):
        """Documents of the journal into their indices; whether the journal held any line."""
        path = os.path.join(self.dir, "indices.journal")
        if not os.path.exists(path) or not os.path.getsize(path):
            return False
        ids = {}
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    index, doc = json.loads(line)
                except ValueError:  # the last line of a write cut short by a crash
                    continue
                if index not in ids:
                    ids[index] = {d["_id"] for d in self.indices.get(index, {}).get("docs", [])}
                if index in self.indices and doc["_id"] not in ids[index]:
                    self.indices[index]["docs"].append(doc)
                    self.indices[index]["seq"] = self.indices[index].get("seq", 0) + 1
                    ids[index].add(doc["_id"])
        return True

    def commit_writes(self):
        """Persist what write_one() did: appended when it only added documents, else saved whole
        (it created an index or a data stream, or replaced a document)."""
        if self.rewrite:
            self.save("indices", "data_streams")
        elif self.written:
            self.journal(self.written)
        self.written, self.rewrite = [], False


STATE = None
SETTINGS = {}
S3_SECURE_LOADED = {}   # client -> {access_key, secret_key, session_token}: keystore as of start/reload


def load_s3_secure():
    entries = keystore_read() or {}
    loaded = {}
    for name, value in entries.items():
        match = re.fullmatch(r"s3\.client\.([a-z0-9_-]+)\.([a-z_]+)", name)
        if match and match.group(2) in S3_SECURE:
            loaded.setdefault(match.group(1), {})[match.group(2)] = value
    S3_SECURE_LOADED.clear()
    S3_SECURE_LOADED.update(loaded)


def hash_password(password, salt=None):
    salt = salt or secrets.token_hex(8)
    return "pbkdf2_stretch:" + salt + ":" + hashlib.pbkdf2_hmac("sha512", password.encode(), salt.encode(),
                                                                10000).hex()


def check_password(password, stored):
    if not stored:
        return False
    salt = stored.split(":")[1]
    return hmac.compare_digest(hash_password(password, salt), stored)


def apply_bootstrap_password():
    """ReservedRealm: bootstrap.password is elastic's password until one is stored in the security index."""
    entries = keystore_read() or {}
    if "elastic" not in STATE.security["reserved"] and entries.get("bootstrap.password"):
        STATE.security["reserved"]["elastic"] = {"password": hash_password(entries["bootstrap.password"])}
        STATE.save("security")
        log("elastic password set from bootstrap.password (first start)")


# ---------------------------------------------------------------- authentication and authorization

class Identity:
    def __init__(self, username, roles, realm, descriptors, token=None, metadata=None, full_name=None, email=None):
        self.username, self.roles, self.realm = username, roles, realm
        self.descriptors = descriptors  # role descriptors in effect
        self.token, self.metadata = token, metadata or {}
        self.full_name, self.email = full_name, email

    def authenticate_body(self):
        """GET /_security/_authenticate (docs: security-api-authenticate)."""
        body = {"username": self.username, "roles": self.roles, "full_name": self.full_name, "email": self.email,
                "metadata": self.metadata, "enabled": True,
                "authentication_realm": {"name": self.realm[0], "type": self.realm[1]},
                "lookup_realm": {"name": self.realm[0], "type": self.realm[1]},
                "authentication_type": "token" if self.token else "realm"}
        if self.token:
            body["token"] = self.token
        return body


def unauthenticated(reason, extra=None):
    header = {"WWW-Authenticate": WWW_AUTHENTICATE}
    return EsError(401, "security_exception", reason, {**(extra or {}), "header": header},
                   headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def role_descriptors(names):
    found = []
    for name in names:
        if name in BUILTIN_ROLES:
            found.append(BUILTIN_ROLES[name])
        elif name in STATE.security["roles"]:
            found.append(STATE.security["roles"][name])
    return found


def authenticate(header, path):
    """x-pack security AuthenticationService: Basic (reserved realm, then native), Bearer service tokens."""
    if not header:
        raise unauthenticated(f"missing authentication credentials for REST request [{path}]")
    scheme, dummy, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            user, dummy, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise unauthenticated(f"missing authentication credentials for REST request [{path}]") from None
        sec = STATE.security
        if user in RESERVED_USERS:
            record = sec["reserved"].get(user)
            if record and check_password(password, record["password"]):
                roles = ["superuser"] if user == "elastic" else [user if user != "kibana" else "kibana_system"]
                return Identity(user, roles, ("reserved", "reserved"), role_descriptors(roles),
                                metadata={"_reserved": True})
        elif user in sec["users"]:
            record = sec["users"][user]
            if record.get("enabled", True) and check_password(password, record["password"]):
                return Identity(user, record["roles"], ("default_native", "native"), role_descriptors(record["roles"]),
                                metadata=record.get("metadata", {}), full_name=record.get("full_name"),
                                email=record.get("email"))
        raise unauthenticated(f"unable to authenticate user [{user}] for REST request [{path}]")
    if scheme.lower() == "bearer":
        try:
            raw = base64.b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
            if raw[:4] != b"\x00\x01\x00\x01":
                raise ValueError
            qualified, dummy, secret = raw[4:].decode().partition(":")
            namespace, service, name = qualified.split("/")
        except (ValueError, UnicodeDecodeError):
            raise unauthenticated("unable to authenticate with provided credentials and anonymous access is not "
                                  "allowed for this request") from None
        account = f"{namespace}/{service}"
        record = STATE.security["tokens"].get(account, {}).get(name)
        if record and check_password(secret, record["hash"]):
            return Identity(account, [], ("_service_account", "_service_account"), [SERVICE_ACCOUNTS[account]],
                            token={"name": name, "type": "_service_account_index"},
                            metadata={"_elastic_service_account": True},
                            full_name=f"Service account - {account}")
        raise unauthenticated(
            "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
            {"additional_unsuccessful_credentials": f"service_account: failed to authenticate service account "
                                                    f"[{account}] with token name [{name}]"})
    raise unauthenticated(f"missing authentication credentials for REST request [{path}]")


def cluster_allowed(ident, action):
    granting = CLUSTER_ACTIONS[action]
    return any(p in granting for d in ident.descriptors for p in d.get("cluster", []))


def require_cluster(ident, action):
    if not cluster_allowed(ident, action):
        raise EsError(403, "security_exception",
                      f"action [{action}] is unauthorized for user [{ident.username}] with effective roles "
                      f"[{','.join(sorted(ident.roles))}], this action is granted by the cluster privileges "
                      f"[{','.join(CLUSTER_ACTIONS[action])}]")


def index_allowed(ident, action, name):
    granting = INDEX_ACTIONS[action]
    for descriptor in ident.descriptors:
        for entry in descriptor.get("indices", []):
            if any(p in granting for p in entry.get("privileges", [])):
                if any(fnmatch.fnmatchcase(name, pattern) for pattern in entry.get("names", [])):
                    if name.startswith(".") and not name.startswith(".ds-") and not entry.get(
                            "allow_restricted_indices") and name.startswith(".security"):
                        continue
                    return True
    return False


def index_denied(ident, action, names, shown_action=None):
    roles = ",".join(sorted(ident.roles))
    return EsError(403, "security_exception",
                   f"action [{shown_action or action}] is unauthorized for user [{ident.username}] with effective "
                   f"roles [{roles}] on indices [{','.join(names)}], this action is granted by the index privileges "
                   f"[{','.join(INDEX_ACTIONS[action])}]")


def resolve(ident, action, expression, must_exist=True):
    """IndicesAndAliasesResolver: concrete names must be authorized (else 403) and exist (else 404);
    wildcards expand to the authorized, existing data streams and non-hidden indices only."""
    names, denied = [], []
    for part in (expression or "_all").split(","):
        part = part.strip()
        if part in ("_all", "*") or "*" in part:
            pattern = "*" if part == "_all" else part
            candidates = sorted(set(STATE.data_streams) | {i for i, v in STATE.indices.items()
                                                           if not v.get("hidden")})
            names += [c for c in candidates if fnmatch.fnmatchcase(c, pattern) and index_allowed(ident, action, c)]
        else:
            if not index_allowed(ident, action, part):
                denied.append(part)
            elif must_exist and part not in STATE.data_streams and part not in STATE.indices:
                raise index_not_found(part)
            else:
                names.append(part)
    if denied:
        raise index_denied(ident, action, denied)
    return list(dict.fromkeys(names))


def backing_docs(name):
    """Documents of a data stream (all backing indices) or an index, with the index each is in."""
    if name in STATE.data_streams:
        out = []
        for index in STATE.data_streams[name]["indices"]:
            out += [(index, d) for d in STATE.indices.get(index, {}).get("docs", [])]
        return out
    return [(name, d) for d in STATE.indices.get(name, {}).get("docs", [])]


# ---------------------------------------------------------------- validation helpers

TIME_RE = re.compile(r"^(\d+)(nanos|micros|ms|s|m|h|d)$")
BYTES_RE = re.compile(r"^(\d+(?:\.\d+)?)(b|kb|mb|gb|tb|pb)$", re.IGNORECASE)


def position(raw, key):
    """[line:col] of a field name in the request body (XContentLocation, approximately)."""
    offset = raw.find(f'"{key}"')
    if offset < 0:
        return "[1:1]"
    line = raw.count("\n", 0, offset) + 1
    col = offset - (raw.rfind("\n", 0, offset) + 1) + 1
    return f"[{line}:{col}]"


def parse_chain(raw, chain, key, inner):
    """x_content_parse_exception "[l:c] [object] failed to parse field [f]" wrapping `inner`."""
    pos = position(raw, key)
    caused = inner
    for obj, field in reversed(chain):
        caused = {"type": "x_content_parse_exception", "reason": f"{pos} [{obj}] failed to parse field [{field}]",
                  "caused_by": caused}
    top = dict(caused)
    cause = top.pop("caused_by")
    err = EsError(400, top["type"], top["reason"], caused_by=cause)
    return err


def time_value(value, setting):
    if isinstance(value, str) and (value == "-1" or value == "0" or TIME_RE.match(value)):
        return value
    raise ValueError(f"failed to parse setting [{setting}] with value [{value}] as a time value: unit is missing or "
                     "unrecognized")


def byte_value(value, setting):
    if isinstance(value, str) and BYTES_RE.match(value):
        return value
    raise ValueError(f"failed to parse setting [{setting}] with value [{value}] as a size in bytes: unit is missing "
                     "or unrecognized")


def validate_ilm(body, raw):
    """PUT _ilm/policy (docs: ilm-put-lifecycle; x-pack core ilm/LifecyclePolicy.java PARSER, Phase.java,
    TimeseriesLifecycleType.validate, RolloverAction, DeleteAction)."""
    if not isinstance(body, dict) or set(body) != {"policy"}:
        extra = [k for k in (body or {}) if k != "policy"]
        if extra:
            raise EsError(400, "x_content_parse_exception",
                          f"{position(raw, extra[0])} [put_lifecycle_request] unknown field [{extra[0]}]")
        raise EsError(400, "parse_exception", "request body is required")
    policy = body["policy"]
    for key in policy:
        if key not in ("phases", "_meta", "deprecated"):
            raise EsError(400, "x_content_parse_exception", f"{position(raw, key)} [lifecycle_policy] unknown field [{key}]")
    phases = policy.get("phases")
    if not isinstance(phases, dict):
        raise EsError(400, "x_content_parse_exception",
                      f"{position(raw, 'policy')} [lifecycle_policy] failed to parse field [phases]")
    for name, phase in phases.items():
        for key in phase:
            if key not in ("min_age", "actions"):
                raise parse_chain(raw, [("lifecycle_policy", "phases"), ("phases", name)], key,
                                  {"type": "x_content_parse_exception",
                                   "reason": f"{position(raw, key)} [phase] unknown field [{key}]"})
        if "min_age" in phase:
            try:
                time_value(phase["min_age"], "min_age")
            except ValueError as exc:
                raise parse_chain(raw, [("lifecycle_policy", "phases"), ("phases", name), ("phase", "min_age")],
                                  "min_age", {"type": "illegal_argument_exception", "reason": str(exc)}) from None
        for action, config in (phase.get("actions") or {}).items():
            if action not in ALL_ILM_ACTIONS:
                raise parse_chain(raw, [("lifecycle_policy", "phases"), ("phases", name), ("phase", "actions")],
                                  action, {"type": "named_object_not_found_exception",
                                           "reason": f"{position(raw, action)} unknown field [{action}]"})
            if not isinstance(config, dict):
                raise parse_chain(raw, [("lifecycle_policy", "phases"), ("phases", name), ("phase", "actions")],
                                  action, {"type": "x_content_parse_exception",
                                           "reason": f"{position(raw, action)} [{action}] object expected"})
            if action == "rollover":
                for key, value in config.items():
                    if key not in ROLLOVER_MAX + ROLLOVER_MIN:
                        raise parse_chain(raw, [("lifecycle_policy", "phases"), ("phases", name),
                                                ("phase", "actions")], key,
                                          {"type": "x_content_parse_exception",
                                           "reason": f"{position(raw, key)} [rollover] unknown field [{key}]"})
                    try:
                        if key.endswith("_age"):
                            time_value(value, key)
                        elif key.endswith("_size"):
                            byte_value(value, key)
                        elif not isinstance(value, int):
                            raise ValueError(f"[{key}] must be a number")
                    except ValueError as exc:
                        raise parse_chain(raw, [("lifecycle_policy", "phases"), ("phases", name),
                                                ("phase", "actions"), ("rollover", key)], key,
                                          {"type": "illegal_argument_exception", "reason": str(exc)}) from None
                if not any(k in config for k in ROLLOVER_MAX):
                    raise bad_request("At least one max_* rollover condition must be set.")
            elif action == "delete":
                for key in config:
                    if key != "delete_searchable_snapshot":
                        raise parse_chain(raw, [("lifecycle_policy", "phases"), ("phases", name),
                                                ("phase", "actions")], key,
                                          {"type": "x_content_parse_exception",
                                           "reason": f"{position(raw, key)} [delete] unknown field [{key}]"})
    for name, phase in phases.items():
        if name not in ILM_PHASES:
            raise bad_request(f"Timeseries lifecycle does not support phase [{name}]")
        for action in phase.get("actions") or {}:
            if action not in ILM_ACTIONS[name]:
                raise bad_request(f"invalid action [{action}] defined in phase [{name}]")
    hot = phases.get("hot", {}).get("actions", {})
    needs = [a for a in ("shrink", "forcemerge", "searchable_snapshot", "downsample") if a in hot]
    if needs and "rollover" not in hot:
        raise bad_request(f"the [{', '.join(needs)}] action(s) may not be used in the [hot] phase without an "
                          "accompanying [rollover] action")


def glob_intersect(a, b):
    """Whether two `*` patterns can match one same name (the automaton intersection of
    MetadataIndexTemplateService.findConflictingV2Templates)."""
    memo = {}

    def go(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(a) and j == len(b):
            result = True
        elif i < len(a) and a[i] == "*":
            result = go(i + 1, j) or (j < len(b) and go(i, j + 1))
        elif j < len(b) and b[j] == "*":
            result = go(i, j + 1) or (i < len(a) and go(i + 1, j))
        elif i < len(a) and j < len(b) and a[i] == b[j]:
            result = go(i + 1, j + 1)
        else:
            result = False
        memo[(i, j)] = result
        return result
    return go(0, 0)


def jlist(items):
    """Java's List.toString."""
    return "[" + ", ".join(items) + "]"


def validate_template(name, body):
    """PUT _index_template (docs: indices-put-template; MetadataIndexTemplateService
    validateIndexTemplateV2 / findConflictingV2Templates)."""
    known = {"index_patterns", "template", "composed_of", "priority", "version", "_meta", "data_stream",
             "allow_auto_create", "ignore_missing_component_templates", "deprecated"}
    for key in body:
        if key not in known:
            raise EsError(400, "x_content_parse_exception", f"[1:2] [index_template] unknown field [{key}]")
    patterns = body.get("index_patterns")
    if isinstance(patterns, str):
        patterns = [patterns]
    if not patterns:
        raise validation("index patterns are missing")
    priority = body.get("priority", 0)
    if not isinstance(priority, int) or priority < 0:
        raise bad_request("priority must be a non-negative number")
    missing = [c for c in body.get("composed_of", []) if c not in STATE.components
               and c not in body.get("ignore_missing_component_templates", [])]
    if missing:
        raise EsError(400, "invalid_index_template_exception",
                      f"index_template [{name}] invalid, cause [index template [{name}] specifies component templates "
                      f"{jlist(missing)} that do not exist]")
    overlaps = {}
    for other, tmpl in STATE.templates.items():
        if other == name or tmpl.get("priority", 0) != priority:
            continue
        if any(glob_intersect(p, q) for p in patterns for q in tmpl["index_patterns"]):
            overlaps[other] = tmpl["index_patterns"]
    if overlaps:
        raise bad_request(
            f"index template [{name}] has index patterns {jlist(patterns)} matching patterns from existing templates "
            f"[{','.join(overlaps)}] with patterns ({','.join(f'{k} => {jlist(v)}' for k, v in overlaps.items())}) "
            f"that have the same priority [{priority}], multiple index templates may not match during index "
            "creation, please use a different priority")
    stored = dict(body)
    stored["index_patterns"] = patterns
    if "data_stream" in stored:
        stored["data_stream"] = {"hidden": False, "allow_custom_routing": False, **(stored["data_stream"] or {})}
    return stored


def matching_template(name):
    """MetadataIndexTemplateService.findV2Template: the highest priority template matching the name."""
    best = None
    for tname, tmpl in STATE.templates.items():
        if any(fnmatch.fnmatchcase(name, p) for p in tmpl["index_patterns"]):
            if best is None or tmpl.get("priority", 0) > best[1].get("priority", 0):
                best = (tname, tmpl)
    return best


def deep_merge(base, extra):
    out = copy.deepcopy(base)
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def nested_settings(flat_or_nested):
    """Settings as ES shows them: nested objects under "index", values as strings."""
    flat = {}
    flatten("", flat_or_nested or {}, flat)
    out = {}
    for key, value in flat.items():
        key = key if key.startswith("index.") else "index." + key
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def composed(tmpl):
    settings, mappings = {}, {}
    for comp in tmpl.get("composed_of", []):
        c = STATE.components.get(comp, {}).get("template", {})
        settings = deep_merge(settings, nested_settings(c.get("settings")))
        mappings = deep_merge(mappings, c.get("mappings", {}))
    own = tmpl.get("template", {})
    settings = deep_merge(settings, nested_settings(own.get("settings")))
    mappings = deep_merge(mappings, own.get("mappings", {}))
    return settings, mappings


def create_index(name, tmpl_name, tmpl, data_stream=None, hidden=False):
    settings, mappings = composed(tmpl) if tmpl else ({}, {})
    index = settings.setdefault("index", {})
    index.setdefault("number_of_shards", "1")
    index.setdefault("number_of_replicas", "1")  # IndexMetadata default: one replica
    index.update({"uuid": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode()[:22],
                  "creation_date": str(now_ms()), "provided_name": name,
                  "version": {"created": "9039000"}})
    if hidden:
        index["hidden"] = "true"
    STATE.indices[name] = {"settings": settings, "mappings": mappings, "docs": [], "hidden": hidden,
                           "data_stream": data_stream, "template": tmpl_name}
    return STATE.indices[name]


def create_data_stream(name, tmpl_name, tmpl):
    backing = f".ds-{name}-{datetime.datetime.now(datetime.timezone.utc):%Y.%m.%d}-000001"
    create_index(backing, tmpl_name, tmpl, data_stream=name, hidden=True)
    STATE.data_streams[name] = {"indices": [backing], "generation": 1, "template": tmpl_name,
                                "timestamp_field": "@timestamp"}
    return STATE.data_streams[name]


# ---------------------------------------------------------------- cluster, nodes, cat

def index_health(name):
    replicas = int(STATE.indices[name]["settings"].get("index", {}).get("number_of_replicas", "1"))
    shards = int(STATE.indices[name]["settings"].get("index", {}).get("number_of_shards", "1"))
    return ("yellow" if replicas > 0 else "green"), shards, shards * replicas


def cluster_health_body():
    """GET _cluster/health (docs: cluster-health; ClusterHealthResponse fields). One node: replicas
    stay unassigned, so any index with replicas > 0 makes the cluster yellow."""
    primaries = unassigned = 0
    status = "green"
    for name in STATE.indices:
        color, shards, unassigned_shards = index_health(name)
        primaries += shards
        unassigned += unassigned_shards
        if color == "yellow":
            status = "yellow"
    total = primaries + unassigned
    return {"cluster_name": SETTINGS["cluster.name"], "status": status, "timed_out": False, "number_of_nodes": 1,
            "number_of_data_nodes": 1, "active_primary_shards": primaries, "active_shards": primaries,
            "relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": unassigned,
            "unassigned_primary_shards": 0, "delayed_unassigned_shards": 0, "number_of_pending_tasks": 0,
            "number_of_in_flight_fetch": 0, "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": 100.0 if total == 0 else round(100.0 * primaries / total, 14)}


def seconds_of(value, default):
    if value is None:
        return default
    match = TIME_RE.match(value)
    if not match:
        raise bad_request(f"failed to parse setting [timeout] with value [{value}] as a time value: unit is missing "
                          "or unrecognized")
    factor = {"nanos": 1e-9, "micros": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return int(match.group(1)) * factor


def cluster_health(query):
    wanted = query.get("wait_for_status")
    if wanted and wanted not in ("green", "yellow", "red"):
        raise bad_request(f"unknown cluster health status [{wanted}]")
    timeout = min(seconds_of(query.get("timeout"), 30), 120)
    order = {"green": 0, "yellow": 1, "red": 2}
    body = cluster_health_body()
    if wanted and order[body["status"]] > order[wanted]:
        time.sleep(timeout)
        body = cluster_health_body()
        if order[body["status"]] > order[wanted]:
            body["timed_out"] = True
            return 408, body
    return 200, body


def main_body():
    """GET / (docs: rest-api root; RestMainAction / MainResponse)."""
    return {"name": SETTINGS["node.name"], "cluster_name": SETTINGS["cluster.name"],
            "cluster_uuid": STATE.node["cluster_uuid"],
            "version": {"number": VERSION, "build_flavor": "default", "build_type": "docker", "build_hash": BUILD_HASH,
                        "build_date": "2026-11-01T00:00:00.000000000Z", "build_snapshot": False,
                        "lucene_version": LUCENE, "minimum_wire_compatibility_version": "8.19.0",
                        "minimum_index_compatibility_version": "8.0.0"},
            "tagline": "You Know, for Search"}


def node_stats():
    """GET _nodes/stats, _nodes/_local/stats (docs: cluster-nodes-stats); the fields the exporter reads."""
    docs = sum(len(i["docs"]) for i in STATE.indices.values())
    node = {"timestamp": now_ms(), "name": SETTINGS["node.name"], "transport_address": "127.0.0.1:9300",
            "host": "127.0.0.1", "ip": "127.0.0.1:9300", "roles": ["data", "ingest", "master", "remote_cluster_client",
                                                                   "transform"],
            "attributes": {}, "indices": {"docs": {"count": docs, "deleted": 0},
                                          "store": {"size_in_bytes": 0, "reserved_in_bytes": 0}},
            "os": {"timestamp": now_ms(), "cpu": {"percent": 1, "load_average": {"1m": 0.1, "5m": 0.1, "15m": 0.1}},
                   "mem": {"total_in_bytes": 1 << 31, "free_in_bytes": 1 << 30, "used_in_bytes": 1 << 30}},
            "process": {"timestamp": now_ms(), "open_file_descriptors": 100, "max_file_descriptors": 65535,
                        "cpu": {"percent": 1, "total_in_millis": 1000}, "mem": {"total_virtual_in_bytes": 1 << 32}},
            "jvm": {"timestamp": now_ms(), "uptime_in_millis": int((time.time() - STARTED) * 1000),
                    "mem": {"heap_used_in_bytes": 1 << 28, "heap_used_percent": 25, "heap_committed_in_bytes": 1 << 30,
                            "heap_max_in_bytes": 1 << 30, "non_heap_used_in_bytes": 1 << 26,
                            "non_heap_committed_in_bytes": 1 << 27, "pools": {}},
                    "threads": {"count": 50, "peak_count": 60}, "gc": {"collectors": {}}, "buffer_pools": {}},
            "thread_pool": {}, "fs": {"timestamp": now_ms(), "total": {"total_in_bytes": 1 << 34,
                                                                       "free_in_bytes": 1 << 33,
                                                                       "available_in_bytes": 1 << 33}, "data": []},
            "transport": {"server_open": 0, "rx_count": 0, "rx_size_in_bytes": 0, "tx_count": 0, "tx_size_in_bytes": 0},
            "http": {"current_open": 1, "total_opened": 1}, "breakers": {}}
    return {"_nodes": {"total": 1, "successful": 1, "failed": 0}, "cluster_name": SETTINGS["cluster.name"],
            "nodes": {STATE.node["node_id"]: node}}


def cluster_stats():
    """GET _cluster/stats (docs: cluster-stats): counts only."""
    health = cluster_health_body()
    return {"_nodes": {"total": 1, "successful": 1, "failed": 0}, "cluster_name": SETTINGS["cluster.name"],
            "cluster_uuid": STATE.node["cluster_uuid"], "timestamp": now_ms(), "status": health["status"],
            "indices": {"count": len(STATE.indices), "shards": {"total": health["active_shards"]},
                        "docs": {"count": sum(len(i["docs"]) for i in STATE.indices.values()), "deleted": 0}},
            "nodes": {"count": {"total": 1, "data": 1, "master": 1, "ingest": 1}, "versions": [VERSION]}}


def cat(kind, query):
    """_cat/health, _cat/indices (docs: cat-health, cat-indices): text table, or JSON with format=json."""
    if kind == "health":
        h = cluster_health_body()
        rows = [{"epoch": str(int(time.time())), "timestamp": time.strftime("%H:%M:%S"), "cluster": h["cluster_name"],
                 "status": h["status"], "node.total": "1", "node.data": "1", "shards": str(h["active_shards"]),
                 "pri": str(h["active_primary_shards"]), "relo": "0", "init": "0", "unassign": str(h["unassigned_shards"]),
                 "unassign.pri": "0", "pending_tasks": "0", "max_task_wait_time": "-",
                 "active_shards_percent": f"{h['active_shards_percent_as_number']:.1f}%"}]
    else:
        rows = []
        for name, idx in sorted(STATE.indices.items()):
            color, shards, replicas = index_health(name)
            rows.append({"health": color, "status": "open", "index": name, "uuid": idx["settings"]["index"]["uuid"],
                         "pri": str(shards), "rep": str(replicas // max(shards, 1)), "docs.count": str(len(idx["docs"])),
                         "docs.deleted": "0", "store.size": "1kb", "pri.store.size": "1kb", "dataset.size": "1kb"})
    if query.get("format") == "json":
        return 200, rows, "application/json"
    lines = [" ".join(r.values()) for r in rows]
    if "v" in query:
        lines.insert(0, " ".join(rows[0].keys()) if rows else "")
    return 200, "\n".join(lines) + ("\n" if lines else ""), "text/plain; charset=UTF-8"


def reload_secure_settings(ident):
    """POST _nodes/reload_secure_settings (docs: cluster-nodes-reload-secure-settings)."""
    require_cluster(ident, "cluster:admin/nodes/reload_secure_settings")
    load_s3_secure()
    log("secure settings reloaded")
    return {"_nodes": {"total": 1, "successful": 1, "failed": 0}, "cluster_name": SETTINGS["cluster.name"],
            "nodes": {STATE.node["node_id"]: {"name": SETTINGS["node.name"]}}}


# ---------------------------------------------------------------- security API

def role_body(desc):
    return {"cluster": desc.get("cluster", []),
            "indices": [{"names": e["names"], "privileges": e["privileges"],
                         "allow_restricted_indices": e.get("allow_restricted_indices", False)}
                        for e in desc.get("indices", [])],
            "applications": desc.get("applications", []), "run_as": desc.get("run_as", []),
            "metadata": desc.get("metadata", {}), "transient_metadata": {"enabled": True}}


def put_role(name, body):
    """PUT _security/role/R (docs: security-api-put-role; RoleDescriptor.parse, privilege names checked as
    ClusterPrivilegeResolver.resolve / IndexPrivilege.resolve do)."""
    if name in BUILTIN_ROLES:
        raise bad_request(f"Role [{name}] is reserved and may not be used.")
    for key in body:
        if key not in ("cluster", "indices", "applications", "run_as", "metadata", "global", "description",
                       "remote_indices"):
            raise EsError(400, "parse_exception",
                          f"failed to parse role [{name}]. unexpected field [{key}]")
    for priv in body.get("cluster", []):
        if priv not in CLUSTER_PRIVILEGES:
            raise bad_request(f"unknown cluster privilege [{priv}]. a privilege must be either one of the predefined "
                              f"cluster privilege names [{','.join(sorted(CLUSTER_PRIVILEGES))}] or a pattern over "
                              "one of the available cluster actions")
    for entry in body.get("indices", []):
        if not entry.get("names") or not entry.get("privileges"):
            raise EsError(400, "parse_exception", f"failed to parse indices privileges for role [{name}]. missing "
                                                  "required [names] or [privileges] field")
        if isinstance(entry["names"], str):
            entry["names"] = [entry["names"]]
        for priv in entry["privileges"]:
            if priv not in INDEX_PRIVILEGES:
                raise bad_request(f"unknown index privilege [{priv}]. a privilege must be either one of the predefined "
                                  f"fixed indices privileges [{','.join(sorted(INDEX_PRIVILEGES))}] or a pattern over "
                                  "one of the available index actions")
    created = name not in STATE.security["roles"]
    STATE.security["roles"][name] = {k: body.get(k, [] if k != "metadata" else {}) for k in
                                     ("cluster", "indices", "applications", "run_as", "metadata")}
    STATE.save("security")
    return {"role": {"created": created}}


def check_password_length(password):
    if not isinstance(password, str) or len(password) < 6:
        raise validation("passwords must be at least [6] characters long")


def put_user(name, body):
    """PUT _security/user/U (docs: security-api-put-user; PutUserRequest.validate)."""
    if name in RESERVED_USERS:
        raise bad_request(f"user [{name}] is reserved and only the password can be changed")
    for key in body:
        if key not in ("password", "password_hash", "roles", "full_name", "email", "metadata", "enabled"):
            raise EsError(400, "parse_exception", f"failed to parse add user request. unexpected field [{key}]")
    existing = STATE.security["users"].get(name)
    if "password" in body:
        check_password_length(body["password"])
    elif existing is None:
        raise validation("password must be specified unless you are updating an existing user")
    if not isinstance(body.get("roles", []), list):
        raise EsError(400, "parse_exception", "failed to parse add user request. [roles] must be an array")
    record = {"roles": body.get("roles", []), "full_name": body.get("full_name"), "email": body.get("email"),
              "metadata": body.get("metadata", {}), "enabled": body.get("enabled", True),
              "password": hash_password(body["password"]) if "password" in body else existing["password"]}
    STATE.security["users"][name] = record
    STATE.save("security")
    return {"created": existing is None}


def user_body(name, record):
    return {"username": name, "roles": record["roles"], "full_name": record.get("full_name"),
            "email": record.get("email"), "metadata": record.get("metadata", {}), "enabled": record.get("enabled", True)}


def change_password(ident, name, body):
    """POST _security/user/U/_password (docs: security-api-change-password): own password without
    manage_security; reserved users get a stored password (replacing the bootstrap one)."""
    name = name or ident.username
    if name != ident.username:
        require_cluster(ident, "cluster:admin/xpack/security/user/change_password")
    check_password_length(body.get("password"))
    if name in RESERVED_USERS:
        STATE.security["reserved"][name] = {"password": hash_password(body["password"])}
    elif name in STATE.security["users"]:
        STATE.security["users"][name]["password"] = hash_password(body["password"])
    else:
        raise EsError(404, "validation_exception", "Validation Failed: 1: user must exist in order to change "
                                                   "password;")
    STATE.save("security")
    return {}


def create_token(account, name):
    """POST _security/service/elastic/kibana/credential/token/NAME (docs: security-api-create-service-token;
    ServiceAccountToken: value = base64(0x00 0x01 0x00 0x01 "ns/service/name:secret"))."""
    if account not in SERVICE_ACCOUNTS:
        raise bad_request(f"service account [{account}] does not exist")
    if not re.fullmatch(r"[a-zA-Z0-9\-_]{1,256}", name) or name.startswith("_"):
        raise validation("service account token name must have at least 1 character and at most 256 characters "
                         "that are alphanumeric (A-Z, a-z, 0-9) or hyphen (-) or underscore (_). It must not begin "
                         "with an underscore (_).")
    tokens = STATE.security["tokens"].setdefault(account, {})
    if name in tokens:
        raise EsError(409, "version_conflict_engine_exception",
                      f"[service_account_token-{account}/{name}]: version conflict, document already exists (current "
                      "version [1])", {"index_uuid": "standin", "shard": "0", "index": ".security-7"})
    secret = secrets.token_urlsafe(16)
    tokens[name] = {"hash": hash_password(secret), "creation": now_ms()}
    STATE.save("security")
    value = base64.b64encode(b"\x00\x01\x00\x01" + f"{account}/{name}:{secret}".encode()).decode().rstrip("=")
    return {"created": True, "token": {"name": name, "value": value}}


def security(method, parts, ident, body, query):
    what = parts[1] if len(parts) > 1 else ""
    if what == "_authenticate" and len(parts) == 2 and method == "GET":
        return 200, ident.authenticate_body()
    if what == "role":
        if method in ("PUT", "POST") and len(parts) == 3:
            require_cluster(ident, "cluster:admin/xpack/security/role/put")
            return 200, put_role(parts[2], body or {})
        if method == "GET":
            require_cluster(ident, "cluster:admin/xpack/security/role/get")
            roles = {**{k: dict(role_body(v), metadata={"_reserved": True}) for k, v in BUILTIN_ROLES.items()},
                     **{k: role_body(v) for k, v in STATE.security["roles"].items()}}
            if len(parts) == 2:
                return 200, roles
            wanted = parts[2].split(",")
            found = {n: roles[n] for n in wanted if n in roles}
            return (200 if found else 404), found
        if method == "DELETE" and len(parts) == 3:
            require_cluster(ident, "cluster:admin/xpack/security/role/delete")
            if parts[2] in BUILTIN_ROLES:
                raise bad_request(f"role [{parts[2]}] is reserved and cannot be deleted")
            found = STATE.security["roles"].pop(parts[2], None) is not None
            STATE.save("security")
            return (200 if found else 404), {"found": found}
    if what == "user":
        if len(parts) == 4 and parts[3] == "_password" and method in ("PUT", "POST"):
            return 200, change_password(ident, parts[2], body or {})
        if len(parts) == 3 and parts[2] == "_password" and method in ("PUT", "POST"):
            return 200, change_password(ident, None, body or {})
        if method in ("PUT", "POST") and len(parts) == 3:
            require_cluster(ident, "cluster:admin/xpack/security/user/put")
            return 200, put_user(parts[2], body or {})
        if method == "GET" and len(parts) in (2, 3):
            require_cluster(ident, "cluster:admin/xpack/security/user/get")
            users = {n: user_body(n, r) for n, r in STATE.security["users"].items()}
            for name in RESERVED_USERS:
                users[name] = {"username": name, "roles": ["superuser"] if name == "elastic" else [name],
                               "full_name": None, "email": None, "metadata": {"_reserved": True}, "enabled": True}
            if len(parts) == 2:
                return 200, users
            found = {n: users[n] for n in parts[2].split(",") if n in users}
            return (200 if found else 404), found
        if method == "DELETE" and len(parts) == 3:
            require_cluster(ident, "cluster:admin/xpack/security/user/delete")
            if parts[2] in RESERVED_USERS:
                raise bad_request(f"user [{parts[2]}] is reserved and cannot be deleted")
            found = STATE.security["users"].pop(parts[2], None) is not None
            STATE.save("security")
            return (200 if found else 404), {"found": found}
    if what == "service" and len(parts) >= 5 and parts[4] == "credential":
        account = f"{parts[2]}/{parts[3]}"
        if len(parts) == 7 and parts[5] == "token" and method in ("PUT", "POST"):
            require_cluster(ident, "cluster:admin/xpack/security/service_account/token/create")
            return 200, create_token(account, parts[6])
        if len(parts) == 7 and parts[5] == "token" and method == "DELETE":
            require_cluster(ident, "cluster:admin/xpack/security/service_account/token/delete")
            found = STATE.security["tokens"].get(account, {}).pop(parts[6], None) is not None
            STATE.save("security")
            return (200 if found else 404), {"found": found}
        if len(parts) == 5 and method == "GET":
            require_cluster(ident, "cluster:admin/xpack/security/service_account/credential/get")
            if account not in SERVICE_ACCOUNTS:
                raise EsError(404, "resource_not_found_exception", f"service account [{account}] does not exist")
            tokens = STATE.security["tokens"].get(account, {})
            return 200, {"service_account": account, "count": len(tokens), "tokens": {n: {} for n in sorted(tokens)},
                         "nodes_credentials": {"_nodes": {"total": 1, "successful": 1, "failed": 0},
                                               "file_tokens": {}}}
    return None


# ---------------------------------------------------------------- ILM, templates, pipelines

def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ilm(method, parts, ident, body, raw):
    """_ilm/policy (docs: ilm-put-lifecycle, ilm-get-lifecycle, ilm-delete-lifecycle;
    TransportGetLifecycleAction / TransportDeleteLifecycleAction messages)."""
    if len(parts) < 2 or parts[1] != "policy":
        return None
    if method == "PUT" and len(parts) == 3:
        require_cluster(ident, "cluster:admin/ilm/put")
        validate_ilm(body, raw)
        old = STATE.ilm.get(parts[2])
        policy = dict(body["policy"].items())
        for phase in policy["phases"].values():
            phase.setdefault("min_age", "0ms")
            phase.setdefault("actions", {})
        STATE.ilm[parts[2]] = {"version": (old["version"] + 1) if old else 1, "modified_date": now_ms(),
                               "policy": policy}
        STATE.save("ilm")
        return 200, {"acknowledged": True}
    if method == "GET":
        require_cluster(ident, "cluster:admin/ilm/get")
        names = list(STATE.ilm) if len(parts) == 2 else parts[2].split(",")
        missing = [n for n in names if n not in STATE.ilm and "*" not in n]
        if missing:
            raise EsError(404, "resource_not_found_exception", f"Lifecycle policy not found: {jlist(missing)}")
        out = {}
        for name in STATE.ilm:
            if any(fnmatch.fnmatchcase(name, n) for n in names):
                p = STATE.ilm[name]
                in_use = [i for i, v in STATE.indices.items()
                          if v["settings"].get("index", {}).get("lifecycle", {}).get("name") == name]
                used_by_streams = sorted({STATE.indices[i]["data_stream"] for i in in_use
                                          if STATE.indices[i]["data_stream"]})
                used_by_templates = sorted(t for t in STATE.templates if composed(STATE.templates[t])[0].get("index", {})
                                           .get("lifecycle", {}).get("name") == name)
                out[name] = {"version": p["version"], "modified_date": iso(p["modified_date"]), "policy": p["policy"],
                             "in_use_by": {"indices": in_use, "data_streams": used_by_streams,
                                           "composable_templates": used_by_templates}}
        return 200, out
    if method == "DELETE" and len(parts) == 3:
        require_cluster(ident, "cluster:admin/ilm/delete")
        if parts[2] not in STATE.ilm:
            raise EsError(404, "resource_not_found_exception", f"Lifecycle policy not found: {parts[2]}")
        del STATE.ilm[parts[2]]
        STATE.save("ilm")
        return 200, {"acknowledged": True}
    return None


def templates(method, parts, ident, body, kind, query):
    """_index_template and _component_template (docs: indices-put-template, indices-get-template,
    cluster-put-component-template; MetadataIndexTemplateService, TransportGet*TemplateAction)."""
    store = STATE.templates if kind == "index" else STATE.components
    action = "indices:admin/index_template" if kind == "index" else "cluster:admin/component_template"
    if method in ("PUT", "POST") and len(parts) == 2:
        require_cluster(ident, action + "/put")
        if body is None:
            raise EsError(400, "parse_exception", "request body is required")
        if kind == "index":
            stored = validate_template(parts[1], body)
        else:
            if "template" not in body:
                raise EsError(400, "x_content_parse_exception", "[1:2] Required [template]")
            stored = body
        if query.get("create") == "true" and parts[1] in store:
            raise bad_request(f"{'index' if kind == 'index' else 'component'} template [{parts[1]}] already exists")
        store[parts[1]] = stored
        STATE.save("templates" if kind == "index" else "components")
        return 200, {"acknowledged": True}
    if method == "GET":
        require_cluster(ident, action + "/get")
        pattern = parts[1] if len(parts) == 2 else "*"
        found = [(n, t) for n, t in sorted(store.items()) if fnmatch.fnmatchcase(n, pattern)]
        if not found and "*" not in pattern:
            what = "index template" if kind == "index" else "component template"
            raise EsError(404, "resource_not_found_exception", f"{what} matching [{pattern}] not found")
        if kind == "index":
            return 200, {"index_templates": [{"name": n, "index_template": t} for n, t in found]}
        return 200, {"component_templates": [{"name": n, "component_template": t} for n, t in found]}
    if method == "DELETE" and len(parts) == 2:
        require_cluster(ident, action + "/delete")
        if parts[1] not in store:
            what = "index_template" if kind == "index" else "component_template"
            raise EsError(404, "resource_not_found_exception", f"{what} matching [{parts[1]}] not found")
        if kind == "index":
            using = sorted(n for n, d in STATE.data_streams.items() if d["template"] == parts[1])
            if using:
                raise bad_request(f"unable to remove composable templates [{parts[1]}] as they are in use by a data "
                                  f"streams {jlist(using)}")
        del store[parts[1]]
        STATE.save("templates" if kind == "index" else "components")
        return 200, {"acknowledged": True}
    return None


def pipelines(method, parts, ident, body):
    """_ingest/pipeline (docs: put-pipeline-api, get-pipeline-api, delete-pipeline-api): a missing pipeline
    is 404 {} on GET, resource_not_found_exception on DELETE."""
    if len(parts) < 2 or parts[1] != "pipeline":
        return None
    if method == "PUT" and len(parts) == 3:
        require_cluster(ident, "cluster:admin/ingest/pipeline/put")
        if not isinstance(body, dict) or "processors" not in body:
            raise EsError(400, "parse_exception", "[processors] required property is missing",
                          {"property_name": "processors"})
        STATE.pipelines[parts[2]] = body
        STATE.save("pipelines")
        return 200, {"acknowledged": True}
    if method == "GET":
        require_cluster(ident, "cluster:admin/ingest/pipeline/get")
        pattern = parts[2] if len(parts) == 3 else "*"
        found = {n: p for n, p in STATE.pipelines.items() if fnmatch.fnmatchcase(n, pattern)}
        return (200 if found or len(parts) == 2 else 404), found
    if method == "DELETE" and len(parts) == 3:
        require_cluster(ident, "cluster:admin/ingest/pipeline/delete")
        if parts[2] not in STATE.pipelines:
            raise EsError(404, "resource_not_found_exception", f"pipeline [{parts[2]}] is missing")
        del STATE.pipelines[parts[2]]
        STATE.save("pipelines")
        return 200, {"acknowledged": True}
    return None


# ---------------------------------------------------------------- documents

def item_error(status, etype, reason, **extra):
    return {"status": status, "error": {"type": etype, "reason": reason, **extra}}


def write_one(ident, op, target, doc_id, source):
    """One write of _bulk or _doc (docs: docs-bulk, data-streams "Add documents to a data stream";
    TransportBulkAction / IndexRequest): the item's result or error object (without the op key)."""
    action = "indices:data/write/index:op_type/" + ("create" if op == "create" else "index")
    if not index_allowed(ident, action, target):
        err = index_denied(ident, action, [target], shown_action="indices:data/write/bulk[s]")
        return {"_index": target, "_id": doc_id, **item_error(403, err.etype, err.reason)}
    if target not in STATE.data_streams and target not in STATE.indices:
        found = matching_template(target)
        if not (index_allowed(ident, "indices:admin/auto_create", target)):
            err = index_denied(ident, "indices:admin/auto_create", [target])
            return {"_index": target, "_id": doc_id, **item_error(403, err.etype, err.reason)}
        if found and "data_stream" in found[1]:
            if op != "create":
                return {"_index": target, "_id": doc_id, **item_error(
                    400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in "
                                                       "data streams")}
            create_data_stream(target, *found)
        else:
            create_index(target, *(found or (None, None)))
        STATE.rewrite = True
    if target in STATE.data_streams:
        if op != "create":
            return {"_index": target, "_id": doc_id, **item_error(
                400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data "
                                                   "streams")}
        if "@timestamp" not in source:
            return {"_index": target, "_id": doc_id, **item_error(
                400, "document_parsing_exception",
                "[1:1] failed to parse: data stream timestamp field [@timestamp] is missing")}
        index = STATE.data_streams[target]["indices"][-1]
    else:
        index = target
    docs = STATE.indices[index]["docs"]
    # A generated id is new: only a given one is looked for (a bulk then costs its own size).
    existing = next((d for d in docs if d["_id"] == doc_id), None) if doc_id else None
    doc_id = doc_id or base64.urlsafe_b64encode(secrets.token_bytes(15)).decode()
    if existing and op == "create":
        return {"_index": index, "_id": doc_id, **item_error(
            409, "version_conflict_engine_exception",
            f"[{doc_id}]: version conflict, document already exists (current version [{existing['_version']}])",
            index=index, shard="0", index_uuid=STATE.indices[index]["settings"]["index"]["uuid"])}
    version = existing["_version"] + 1 if existing else 1
    if existing:
        docs.remove(existing)
    seq = STATE.indices[index].setdefault("seq", 0)
    STATE.indices[index]["seq"] = seq + 1
    docs.append({"_id": doc_id, "_version": version, "_source": source})
    if existing:
        STATE.rewrite = True
    else:
        STATE.written.append((index, docs[-1]))
    return {"_index": index, "_id": doc_id, "_version": version, "result": "updated" if existing else "created",
            "_shards": {"total": 2 if index_health(index)[0] == "yellow" else 1, "successful": 1, "failed": 0},
            "_seq_no": seq, "_primary_term": 1, "status": 200 if existing else 201}


def bulk(ident, default_target, raw):
    """POST _bulk, <target>/_bulk (docs: docs-bulk): NDJSON action/source pairs; errors per item."""
    started = time.monotonic()
    lines = raw.split("\n")
    if raw and not raw.endswith("\n"):
        raise bad_request("The bulk request must be terminated by a newline [\\n]")
    items, i = [], 0
    try:
        while i < len(lines):
            line = lines[i].strip()
            i += 1
            if not line:
                continue
            try:
                action = json.loads(line)
            except ValueError:
                raise bad_request(f"Malformed action/metadata line [{i}], expected START_OBJECT but found "
                                  "[VALUE_STRING]") from None
            if not isinstance(action, dict) or len(action) != 1:
                raise bad_request(f"Malformed action/metadata line [{i}], expected a simple value for field [_index]")
            op, meta = next(iter(action.items()))
            if op not in ("index", "create", "delete", "update"):
                raise bad_request(f"Malformed action/metadata line [{i}], expected field [create], [delete], [index] or "
                                  f"[update] but found [{op}]")
            target = meta.get("_index", default_target)
            if not target:
                raise validation("index is missing")
            if op in ("delete", "update"):
                if op == "update":
                    i += 1
                items.append({op: {"_index": target, "_id": meta.get("_id"), **item_error(
                    400, "illegal_argument_exception", f"microops-test STAND-IN: bulk [{op}] is not implemented")}})
                continue
            source_line = lines[i] if i < len(lines) else ""
            i += 1
            try:
                source = json.loads(source_line)
            except ValueError:
                items.append({op: {"_index": target, "_id": meta.get("_id"), **item_error(
                    400, "document_parsing_exception", "[1:1] failed to parse")}})
                continue
            items.append({op: write_one(ident, op, target, meta.get("_id"), source)})
    finally:
        # Also when a malformed line stops the bulk part-way: what it applied is kept.
        STATE.commit_writes()
    return 200, {"errors": any("error" in next(iter(it.values())) for it in items),
                 "took": int((time.monotonic() - started) * 1000), "items": items}


def field_value(source, field):
    if field in source:
        return source[field]
    node = source
    for part in field.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def query_matches(query, source):
    """match_all, term, terms, match (on keyword values: exact) and bool.filter/must (docs: query-dsl)."""
    if not query:
        return True
    (kind, spec), = query.items()
    if kind == "match_all":
        return True
    if kind in ("term", "match"):
        (field, value), = spec.items()
        if isinstance(value, dict):
            value = value.get("value" if kind == "term" else "query")
        got = field_value(source, field)
        return got == value or (isinstance(got, list) and value in got)
    if kind == "terms":
        (field, values), = spec.items()
        return field_value(source, field) in values
    if kind == "bool":
        for key in ("must", "filter"):
            clauses = spec.get(key, [])
            clauses = clauses if isinstance(clauses, list) else [clauses]
            if not all(query_matches(c, source) for c in clauses):
                return False
        return True
    raise EsError(400, "parsing_exception", f"unknown query [{kind}]", {"line": 1, "col": 1},
                  root={"type": "parsing_exception", "reason": f"unknown query [{kind}]", "line": 1, "col": 1})


def search(ident, target, body, query, count=False):
    """GET|POST <target>/_search and _count (docs: search-search, search-count)."""
    names = resolve(ident, "indices:data/read/search", target)
    body = body or {}
    q = body.get("query")
    if "q" in query:
        field, dummy, value = query["q"].partition(":")
        q = {"match": {field: value}}
    hits = [(i, d) for n in names for i, d in backing_docs(n) if query_matches(q, d["_source"])]
    shards = {"total": max(len(names), 0), "successful": max(len(names), 0), "skipped": 0, "failed": 0}
    if count:
        return 200, {"count": len(hits), "_shards": shards}
    size = int(query.get("size", body.get("size", 10)))
    start = int(query.get("from", body.get("from", 0)))
    page = hits[start:start + size]
    return 200, {"took": 1, "timed_out": False, "_shards": shards,
                 "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 1.0 if page else None,
                          "hits": [{"_index": i, "_id": d["_id"], "_score": 1.0, "_source": d["_source"]}
                                   for i, d in page]}}


def data_stream(method, parts, ident):
    """GET/DELETE _data_stream[/NAME] (docs: indices-get-data-stream, indices-delete-data-stream)."""
    if method == "GET":
        expression = parts[1] if len(parts) == 2 else "*"
        if "*" not in expression and expression not in STATE.data_streams:
            if not index_allowed(ident, "indices:admin/data_stream/get", expression):
                raise index_denied(ident, "indices:admin/data_stream/get", [expression])
            raise index_not_found(expression)
        names = [n for n in resolve(ident, "indices:admin/data_stream/get", expression, must_exist=False)
                 if n in STATE.data_streams]
        out = []
        for name in names:
            ds = STATE.data_streams[name]
            tmpl = STATE.templates.get(ds["template"], {})
            policy = composed(tmpl)[0].get("index", {}).get("lifecycle", {}).get("name") if tmpl else None
            status = "GREEN"
            for index in ds["indices"]:
                if index_health(index)[0] == "yellow":
                    status = "YELLOW"
            out.append({"name": name, "timestamp_field": {"name": "@timestamp"},
                        "indices": [{"index_name": i, "index_uuid": STATE.indices[i]["settings"]["index"]["uuid"],
                                     "prefer_ilm": True, "ilm_policy": policy, "managed_by": "Index Lifecycle Management"}
                                    for i in ds["indices"]],
                        "generation": ds["generation"], "status": status, "template": ds["template"],
                        "ilm_policy": policy, "next_generation_managed_by": "Index Lifecycle Management",
                        "prefer_ilm": True, "hidden": False, "system": False, "allow_custom_routing": False,
                        "replicated": False, "rollover_on_write": False})
        return 200, {"data_streams": out}
    if method == "DELETE" and len(parts) == 2:
        names = resolve(ident, "indices:admin/data_stream/delete", parts[1], must_exist=False)
        if "*" not in parts[1] and parts[1] not in STATE.data_streams:
            raise index_not_found(parts[1])
        for name in names:
            if name in STATE.data_streams:
                for index in STATE.data_streams.pop(name)["indices"]:
                    STATE.indices.pop(index, None)
        STATE.save("indices", "data_streams")
        return 200, {"acknowledged": True}
    return None


def concrete(names):
    out = []
    for name in names:
        out += STATE.data_streams[name]["indices"] if name in STATE.data_streams else [name]
    return out


def index_settings(ident, target):
    """GET <target>/_settings (docs: indices-get-settings)."""
    names = concrete(resolve(ident, "indices:monitor/settings/get", target))
    return 200, {n: {"settings": STATE.indices[n]["settings"]} for n in names}


def ilm_explain(ident, target):
    """GET <target>/_ilm/explain (docs: ilm-explain-lifecycle): policy, phase hot, action rollover."""
    names = concrete(resolve(ident, "indices:admin/ilm/explain", target))
    out = {}
    for name in names:
        policy = STATE.indices[name]["settings"].get("index", {}).get("lifecycle", {}).get("name")
        if not policy:
            out[name] = {"index": name, "managed": False}
            continue
        created = int(STATE.indices[name]["settings"]["index"]["creation_date"])
        entry = {"index": name, "managed": True, "policy": policy, "index_creation_date_millis": created,
                 "time_since_index_creation": f"{(now_ms() - created) // 1000}s", "lifecycle_date_millis": created,
                 "age": f"{(now_ms() - created) // 1000}s", "phase": "hot", "phase_time_millis": created,
                 "action": "rollover", "action_time_millis": created, "step": "check-rollover-ready",
                 "step_time_millis": created}
        if policy not in STATE.ilm:
            entry.update({"step": "ERROR", "step_info": {"type": "illegal_argument_exception",
                                                         "reason": f"policy [{policy}] does not exist"}})
        else:
            entry["phase_execution"] = {"policy": policy, "phase_definition": STATE.ilm[policy]["policy"]["phases"]
                                        .get("hot", {}), "version": STATE.ilm[policy]["version"],
                                        "modified_date_in_millis": STATE.ilm[policy]["modified_date"]}
        out[name] = entry
    return 200, {"indices": out}


# ---------------------------------------------------------------- snapshots (S3) and SLM

def s3_client(client_name):
    """repository-s3 S3Service: the client's endpoint/path_style_access/region settings and the keystore
    credentials as loaded at start or by the last reload_secure_settings."""
    import boto3  # Debian's python3-boto3
    from botocore.config import Config
    prefix = f"s3.client.{client_name}."
    configured = {k for k in SETTINGS if k.startswith(prefix)} | {f"s3.client.{c}." for c in S3_SECURE_LOADED}
    if client_name != "default" and not configured:
        clients = sorted({k.split(".")[2] for k in SETTINGS if k.startswith("s3.client.")} | set(S3_SECURE_LOADED)
                         | {"default"})
        raise bad_request(f"Unknown s3 client name [{client_name}]. Existing client configs: {','.join(clients)}")
    creds = S3_SECURE_LOADED.get(client_name, {})
    if not creds.get("access_key") or not creds.get("secret_key"):
        raise RuntimeError("Unable to load credentials from any of the providers in the chain")
    endpoint = SETTINGS.get(prefix + "endpoint", "https://s3.amazonaws.com")
    if "://" not in endpoint:
        endpoint = "https://" + endpoint
    style = "path" if SETTINGS.get(prefix + "path_style_access") == "true" else "virtual"
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=creds["access_key"],
                        aws_secret_access_key=creds["secret_key"], aws_session_token=creds.get("session_token"),
                        region_name=SETTINGS.get(prefix + "region", "us-east-1"),
                        config=Config(s3={"addressing_style": style}, retries={"max_attempts": 1},
                                      connect_timeout=5, read_timeout=10))


class Blobs:
    def __init__(self, repo):
        settings = repo["settings"]
        self.bucket = settings["bucket"]
        self.base = settings.get("base_path", "").strip("/")
        self.client = s3_client(settings.get("client", "default"))

    def key(self, name):
        return f"{self.base}/{name}" if self.base else name

    def put(self, name, data):
        self.client.put_object(Bucket=self.bucket, Key=self.key(name),
                               Body=data if isinstance(data, bytes) else json.dumps(data).encode())

    def get(self, name):
        return json.loads(self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read())

    def delete(self, name):
        self.client.delete_object(Bucket=self.bucket, Key=self.key(name))

    def repository_data(self):
        try:
            generation = int(self.client.get_object(Bucket=self.bucket, Key=self.key("index.latest"))["Body"].read())
        except Exception:  # pylint: disable=broad-except  # no repository data yet: empty
            return -1, {"snapshots": []}
        return generation, self.get(f"index-{generation}")


def s3_reason(exc):
    response = getattr(exc, "response", None)
    if response:
        error = response.get("Error", {})
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return (f"{error.get('Message', error.get('Code'))} (Service: S3, Status Code: {status}, Request ID: "
                f"{response.get('ResponseMetadata', {}).get('RequestId', '')})"), "s3_exception"
    return str(exc), "sdk_client_exception"


def verify_repository(name, repo):
    """POST _snapshot/R/_verify (docs: verify-snapshot-repo-api; BlobStoreRepository.startVerification /
    verify: write, then delete, tests-<seed>/master.dat and data-<node>.dat)."""
    seed = base64.urlsafe_b64encode(secrets.token_bytes(15)).decode()
    try:
        blobs = Blobs(repo)
        blobs.put(f"tests-{seed}/master.dat", seed.encode())
        blobs.put(f"tests-{seed}/data-{STATE.node['node_id']}.dat", seed.encode())
        blobs.delete(f"tests-{seed}/data-{STATE.node['node_id']}.dat")
        blobs.delete(f"tests-{seed}/master.dat")
    except EsError:
        raise
    except Exception as exc:  # pylint: disable=broad-except  # any S3/SDK failure is the repository's
        reason, etype = s3_reason(exc)
        base = repo["settings"].get("base_path", "")
        raise EsError(500, "repository_verification_exception",
                      f"[{name}] path [{base}] is not accessible on master node",
                      caused_by={"type": "i_o_exception", "reason": f"Unable to upload object [{base + '/' if base else ''}"
                                 f"tests-{seed}/master.dat] using a single upload",
                                 "caused_by": {"type": etype, "reason": reason}}) from None
    return {"nodes": {STATE.node["node_id"]: {"name": SETTINGS["node.name"]}}}


def put_repository(name, body, query):
    """PUT _snapshot/R (docs: put-snapshot-repo-api, repository-s3 "Repository settings")."""
    if not isinstance(body, dict) or "type" not in body:
        raise validation("type is missing")
    if body["type"] != "s3":
        if body["type"] == "fs":
            raise EsError(500, "repository_exception", f"[{name}] location [{body.get('settings', {}).get('location')}]"
                          " doesn't match any of the locations specified by path.repo because this setting is empty")
        raise EsError(500, "repository_exception", f"[{name}] repository type [{body['type']}] does not exist")
    settings = {k: str(v) if not isinstance(v, bool) else str(v).lower() for k, v in body.get("settings", {}).items()}
    for key in settings:
        if key not in S3_REPO_SETTINGS:
            raise EsError(500, "repository_exception", f"[{name}] microops-test STAND-IN: unknown s3 repository "
                                                       f"setting [{key}]")
    if not settings.get("bucket"):
        raise EsError(500, "repository_exception", f"[{name}] Could not determine repository generation from root "
                      "blobs", caused_by={"type": "illegal_argument_exception",
                                          "reason": "Invalid S3 bucket name, cannot be null or empty"})
    repo = {"type": "s3", "settings": settings}
    if query.get("verify", "true") != "false":
        verify_repository(name, repo)
    STATE.repositories[name] = repo
    STATE.save("repositories")
    return {"acknowledged": True}


def repository(name):
    if name not in STATE.repositories:
        raise EsError(404, "repository_missing_exception", f"[{name}] missing")
    return STATE.repositories[name]


def resolve_date_math(name):
    """<prefix-{now/d}> names (docs: api-conventions "Date math support in index and index alias names")."""
    match = re.fullmatch(r"<(.*)>", name)
    if not match:
        return name
    today = datetime.datetime.now(datetime.timezone.utc)

    def one(m):
        expr, dummy, fmt = m.group(1).partition("{")
        if expr not in ("now/d", "now"):
            raise bad_request(f"microops-test STAND-IN: date math [{expr}] is not implemented")
        return today.strftime("%Y.%m.%d")
    return re.sub(r"\{([^{}]*(?:\{[^{}]*\})?)\}", one, match.group(1))


def snapshot_info(info, repo_name):
    return {"snapshot": info["snapshot"], "uuid": info["uuid"], "repository": repo_name, "version_id": 9039000,
            "version": VERSION, "indices": info["indices"], "data_streams": info["data_streams"],
            "include_global_state": info["include_global_state"], "metadata": info.get("metadata", {}),
            "state": "SUCCESS", "start_time": iso(info["start"]), "start_time_in_millis": info["start"],
            "end_time": iso(info["end"]), "end_time_in_millis": info["end"],
            "duration_in_millis": info["end"] - info["start"], "failures": [],
            "shards": {"total": len(info["indices"]), "failed": 0, "successful": len(info["indices"])},
            "feature_states": []}


def create_snapshot(ident, repo_name, snap, body):
    """PUT _snapshot/R/SNAP (docs: create-snapshot-api): indices (default all data streams and indices),
    include_global_state (templates, ILM, pipelines). Written as JSON blobs under base_path (not ES's
    binary layout): index-N + index.latest (repository data), snap-<uuid>.dat, meta-<uuid>.dat,
    indices/<index>/<uuid>.json."""
    repo = repository(repo_name)
    snap = resolve_date_math(snap)
    if snap != snap.lower() or not snap or any(c in snap for c in ' "*\\<|,>/?#'):
        raise EsError(400, "invalid_snapshot_name_exception",
                      f"[{repo_name}:{snap}] Invalid snapshot name [{snap}], must be lowercase")
    blobs = Blobs(repo)
    generation, data = blobs.repository_data()
    if any(s["snapshot"] == snap for s in data["snapshots"]):
        raise EsError(400, "invalid_snapshot_name_exception",
                      f"[{repo_name}:{snap}] Invalid snapshot name [{snap}], snapshot with the same name already exists")
    body = body or {}
    expression = body.get("indices", "*")
    expression = ",".join(expression) if isinstance(expression, list) else expression
    names = [n for n in resolve(ident, "indices:data/read/search", expression, must_exist=False)
             if n in STATE.data_streams or n in STATE.indices]
    streams = [n for n in names if n in STATE.data_streams]
    indices = concrete(names)
    info = {"snapshot": snap, "uuid": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode()[:22],
            "indices": indices, "data_streams": streams, "include_global_state": body.get("include_global_state", True),
            "metadata": body.get("metadata", {}), "start": now_ms()}
    for index in indices:
        blobs.put(f"indices/{index}/{info['uuid']}.json", STATE.indices[index])
    blobs.put(f"meta-{info['uuid']}.dat", {"data_streams": {n: STATE.data_streams[n] for n in streams},
                                           "templates": STATE.templates, "components": STATE.components,
                                           "ilm": STATE.ilm, "pipelines": STATE.pipelines})
    info["end"] = max(now_ms(), info["start"] + 1)
    blobs.put(f"snap-{info['uuid']}.dat", info)
    data["snapshots"].append(info)
    blobs.put(f"index-{generation + 1}", data)
    blobs.put("index.latest", str(generation + 1).encode())
    return snapshot_info(info, repo_name)


def snapshot_error(exc):
    reason, etype = s3_reason(exc)
    return EsError(500, "repository_exception", "microops-test STAND-IN: S3 request failed",
                   caused_by={"type": etype, "reason": reason})


def restore_snapshot(ident, repo_name, snap, body):
    """POST _snapshot/R/SNAP/_restore (docs: restore-snapshot-api; RestoreService: open indices and data
    streams of the same name refuse the restore)."""
    blobs = Blobs(repository(repo_name))
    dummy, data = blobs.repository_data()
    info = next((s for s in data["snapshots"] if s["snapshot"] == snap), None)
    if info is None:
        raise EsError(404, "snapshot_missing_exception", f"[{repo_name}:{snap}] is missing")
    body = body or {}
    expression = body.get("indices", "*")
    patterns = expression if isinstance(expression, list) else expression.split(",")
    streams = [s for s in info["data_streams"] if any(fnmatch.fnmatchcase(s, p) for p in patterns)]
    indices = [i for i in info["indices"] if any(fnmatch.fnmatchcase(i, p) for p in patterns)
               or any(i.startswith(f".ds-{s}-") for s in streams)]
    for index in indices:
        if index in STATE.indices:
            raise EsError(500, "snapshot_restore_exception",
                          f"[{repo_name}:{snap}/{info['uuid']}] cannot restore index [{index}] because an open index "
                          "with same name already exists in the cluster. Either close or delete the existing index or "
                          "restore the index under a different name by providing a rename pattern and replacement name")
    for stream in streams:
        if stream in STATE.data_streams:
            raise EsError(500, "snapshot_restore_exception",
                          f"[{repo_name}:{snap}/{info['uuid']}] cannot restore data stream [{stream}] because a data "
                          "stream with the same name already exists in the cluster")
    meta = blobs.get(f"meta-{info['uuid']}.dat")
    for index in indices:
        STATE.indices[index] = blobs.get(f"indices/{index}/{info['uuid']}.json")
    for stream in streams:
        STATE.data_streams[stream] = meta["data_streams"][stream]
    if body.get("include_global_state", False):
        for kind in ("templates", "components", "ilm", "pipelines"):
            getattr(STATE, kind).update(meta[kind])
        STATE.save("templates", "components", "ilm", "pipelines")
    STATE.save("indices", "data_streams")
    return {"snapshot": {"snapshot": snap, "indices": indices,
                         "shards": {"total": len(indices), "failed": 0, "successful": len(indices)}}}


def snapshots(method, parts, ident, body, query):
    """_snapshot/* dispatch."""
    if len(parts) == 1 and method == "GET":
        require_cluster(ident, "cluster:admin/repository/get")
        return 200, STATE.repositories
    name = parts[1] if len(parts) > 1 else None
    if len(parts) == 2:
        if method in ("PUT", "POST"):
            require_cluster(ident, "cluster:admin/repository/put")
            return 200, put_repository(name, body, query)
        if method == "GET":
            require_cluster(ident, "cluster:admin/repository/get")
            return 200, {n: STATE.repositories[n] for n in [repository(n) and n for n in name.split(",")]}
        if method == "DELETE":
            require_cluster(ident, "cluster:admin/repository/put")
            repository(name)
            del STATE.repositories[name]
            STATE.save("repositories")
            return 200, {"acknowledged": True}
    if len(parts) == 3 and parts[2] == "_verify" and method == "POST":
        require_cluster(ident, "cluster:admin/repository/verify")
        return 200, verify_repository(name, repository(name))
    try:
        if len(parts) == 3 and method in ("PUT", "POST"):
            require_cluster(ident, "cluster:admin/snapshot/create")
            info = create_snapshot(ident, name, parts[2], body)
            if query.get("wait_for_completion") == "true":
                return 200, {"snapshot": info}
            return 200, {"accepted": True}
        if len(parts) == 3 and method == "GET":
            require_cluster(ident, "cluster:admin/snapshot/get")
            dummy, data = Blobs(repository(name)).repository_data()
            wanted = parts[2].split(",")
            found = [s for s in data["snapshots"] if "_all" in wanted or any(fnmatch.fnmatchcase(s["snapshot"], w)
                                                                             for w in wanted)]
            missing = [w for w in wanted if w != "_all" and "*" not in w and not any(s["snapshot"] == w for s in found)]
            if missing:
                raise EsError(404, "snapshot_missing_exception", f"[{name}:{missing[0]}] is missing")
            return 200, {"snapshots": [snapshot_info(s, name) for s in found], "total": len(found), "remaining": 0}
        if len(parts) == 4 and parts[3] == "_restore" and method == "POST":
            require_cluster(ident, "cluster:admin/snapshot/restore")
            result = restore_snapshot(ident, name, parts[2], body)
            return 200, result if query.get("wait_for_completion") == "true" else {"accepted": True}
    except (EsError, RuntimeError) as exc:
        if isinstance(exc, EsError):
            raise
        raise EsError(500, "repository_exception", f"[{name}] {exc}") from None
    except Exception as exc:  # pylint: disable=broad-except  # S3 failures
        raise snapshot_error(exc) from None
    return None


CRON_RE = re.compile(r"^\S+ \S+ \S+ \S+ \S+ \S+( \S+)?$")


def slm(method, parts, ident, body):
    """_slm/policy (docs: slm-api-put-policy, slm-api-get-policy, slm-api-execute-lifecycle;
    SnapshotLifecyclePolicy.validate)."""
    if len(parts) < 2 or parts[1] != "policy":
        return None
    if method == "PUT" and len(parts) == 3:
        require_cluster(ident, "cluster:admin/slm/put")
        body = body or {}
        errors = []
        for key in body:
            if key not in ("schedule", "name", "repository", "config", "retention"):
                raise EsError(400, "x_content_parse_exception", f"[1:2] [snapshot_lifecycle_policy] unknown field [{key}]")
        if not body.get("schedule") or not CRON_RE.match(body["schedule"]):
            errors.append(f"invalid schedule [{body.get('schedule')}]: must be a valid cron expression or time unit")
        if not body.get("name"):
            errors.append("invalid snapshot name []: cannot be empty")
        if not body.get("repository"):
            errors.append("repository is missing")
        if errors:
            raise validation(*errors)
        if body["repository"] not in STATE.repositories:
            raise bad_request(f"no such repository [{body['repository']}]")
        for key in ("expire_after",):
            if key in body.get("retention", {}):
                try:
                    time_value(body["retention"][key], key)
                except ValueError as exc:
                    raise bad_request(str(exc)) from None
        old = STATE.slm.get(parts[2], {})
        STATE.slm[parts[2]] = {"version": old.get("version", 0) + 1, "modified_date_millis": now_ms(), "policy": body,
                               "stats": old.get("stats", {"snapshots_taken": 0, "snapshots_failed": 0,
                                                          "snapshots_deleted": 0, "snapshot_deletion_failures": 0})}
        STATE.save("slm")
        return 200, {"acknowledged": True}
    if method == "GET":
        require_cluster(ident, "cluster:admin/slm/get")
        names = list(STATE.slm) if len(parts) == 2 else parts[2].split(",")
        missing = [n for n in names if n not in STATE.slm]
        if missing:
            raise EsError(404, "resource_not_found_exception",
                          f"snapshot lifecycle policy or policies {jlist(missing)} not found, no policies are configured"
                          if not STATE.slm else f"snapshot lifecycle policy or policies {jlist(missing)} not found")
        out = {}
        for name in names:
            p = STATE.slm[name]
            out[name] = {"version": p["version"], "modified_date": iso(p["modified_date_millis"]),
                         "modified_date_millis": p["modified_date_millis"], "policy": p["policy"],
                         "next_execution": iso(now_ms() + 3600000), "next_execution_millis": now_ms() + 3600000,
                         "stats": {"policy": name, **p["stats"]}}
            for key in ("last_success", "last_failure"):
                if key in p:
                    out[name][key] = p[key]
        return 200, out
    if method == "DELETE" and len(parts) == 3:
        require_cluster(ident, "cluster:admin/slm/delete")
        if parts[2] not in STATE.slm:
            raise EsError(404, "resource_not_found_exception", f"Snapshot lifecycle policy not found: {parts[2]}")
        del STATE.slm[parts[2]]
        STATE.save("slm")
        return 200, {"acknowledged": True}
    if method in ("PUT", "POST") and len(parts) == 4 and parts[3] == "_execute":
        require_cluster(ident, "cluster:admin/slm/execute")
        if parts[2] not in STATE.slm:
            raise EsError(404, "resource_not_found_exception", f"no such snapshot lifecycle policy [{parts[2]}]")
        p = STATE.slm[parts[2]]
        name = resolve_date_math(p["policy"]["name"]) + "-" + \
            base64.urlsafe_b64encode(secrets.token_bytes(15)).decode().lower()
        config = p["policy"].get("config", {})
        try:
            create_snapshot(ident, p["policy"]["repository"], name, config)
            p["stats"]["snapshots_taken"] += 1
            p["last_success"] = {"snapshot_name": name, "start_time": now_ms(), "time": now_ms()}
        except Exception as exc:  # pylint: disable=broad-except  # recorded as the policy's last failure
            p["stats"]["snapshots_failed"] += 1
            p["last_failure"] = {"snapshot_name": name, "time": now_ms(), "details": str(exc)}
        STATE.save("slm")
        return 200, {"snapshot_name": name}
    return None


# ---------------------------------------------------------------- HTTP

STARTED = time.time()
GET_ONLY = {"_authenticate", "_cluster", "_cat", "_data_stream"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "microops-standin"
    sys_version = ""

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        log(f'{self.address_string()} "{self.requestline}" {args[1] if len(args) > 1 else ""}')

    def version_string(self):
        return ""

    def send(self, status, body, content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            content_type = "application/json"
        else:
            data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("X-elastic-product", "Elasticsearch")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, values in (headers or {}).items():
            for value in values:
                self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        # Elasticsearch accepts compressed request bodies (Netty's HttpContentDecompressor in
        # modules/transport-netty4 Netty4HttpServerTransport); Filebeat's output gzips its bulk
        # requests by default (compression_level 1).
        if data and self.headers.get("Content-Encoding", "").lower() == "gzip":
            data = gzip.decompress(data)
        raw = data.decode("utf-8", "replace")
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        path = urllib.parse.unquote(url.path)
        parts = [p for p in path.split("/") if p]
        try:
            ident = authenticate(self.headers.get("Authorization"), path)
            body = None
            if raw and not (parts and parts[-1] == "_bulk"):
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise EsError(400, "parse_exception", "request body or source parameter is required") from None
            with LOCK:
                result = route(self.command, parts, ident, body, raw, query)
            if result is None:
                self.send(400, {"error": f"no handler found for uri [{path}] and method [{self.command}]"})
                return
            status, payload = result[0], result[1]
            content_type = result[2] if len(result) > 2 else "application/json"
            self.send(status, payload, content_type)
        except EsError as exc:
            self.send(exc.status, exc.body(), headers=exc.headers)
        except Exception as exc:  # pylint: disable=broad-except  # answered like ES's 500
            log(f"error: {exc!r}")
            self.send(500, EsError(500, "exception", str(exc)).body())


def route(method, parts, ident, body, raw, query):  # pylint: disable=too-many-return-statements,too-many-branches
    method = "GET" if method == "HEAD" else method
    if not parts:
        if method == "GET":
            require_cluster(ident, "cluster:monitor/main")
            return 200, main_body()
        return None
    first = parts[0]
    if first == "_cluster" and len(parts) == 2 and method == "GET":
        if parts[1] == "health":
            require_cluster(ident, "cluster:monitor/health")
            return cluster_health(query)
        if parts[1] == "stats":
            require_cluster(ident, "cluster:monitor/stats")
            return 200, cluster_stats()
    if first == "_nodes":
        if parts[1:] == ["reload_secure_settings"] and method == "POST":
            return 200, reload_secure_settings(ident)
        if method == "GET" and parts[-1] == "stats" and len(parts) in (2, 3):
            require_cluster(ident, "cluster:monitor/nodes/stats")
            if len(parts) == 3 and parts[1] not in ("_local", "_all", "_master", STATE.node["node_id"],
                                                    SETTINGS["node.name"]):
                return 200, {"_nodes": {"total": 0, "successful": 0, "failed": 0},
                             "cluster_name": SETTINGS["cluster.name"], "nodes": {}}
            return 200, node_stats()
    if first == "_cat" and len(parts) == 2 and method == "GET" and parts[1] in ("health", "indices"):
        require_cluster(ident, "cluster:monitor/health")
        return cat(parts[1], query)
    if first == "_security":
        return security(method, parts, ident, body, query)
    if first == "_ilm":
        return ilm(method, parts, ident, body, raw)
    if first == "_index_template" and len(parts) <= 2:
        return templates(method, parts, ident, body, "index", query)
    if first == "_component_template" and len(parts) <= 2:
        return templates(method, parts, ident, body, "component", query)
    if first == "_ingest":
        return pipelines(method, parts, ident, body)
    if first == "_bulk" and len(parts) == 1 and method in ("POST", "PUT"):
        return bulk(ident, None, raw)
    if first == "_data_stream":
        return data_stream(method, parts, ident)
    if first == "_snapshot":
        return snapshots(method, parts, ident, body, query)
    if first == "_slm":
        return slm(method, parts, ident, body)
    if first in ("_search", "_count") and len(parts) == 1 and method in ("GET", "POST"):
        return search(ident, "_all", body, query, count=first == "_count")
    if first.startswith("_"):
        return None
    target = first
    if len(parts) == 2 and parts[1] == "_bulk" and method in ("POST", "PUT"):
        return bulk(ident, target, raw)
    if len(parts) == 2 and parts[1] in ("_search", "_count") and method in ("GET", "POST"):
        return search(ident, target, body, query, count=parts[1] == "_count")
    if len(parts) in (2, 3) and parts[1] in ("_doc", "_create") and method in ("POST", "PUT"):
        op = "create" if parts[1] == "_create" or query.get("op_type") == "create" else "index"
        if not isinstance(body, dict):
            raise EsError(400, "parse_exception", "request body is required")
        item = write_one(ident, op, target, parts[2] if len(parts) == 3 else None, body)
        STATE.commit_writes()
        if "error" in item:
            err = item["error"]
            raise EsError(item["status"], err["type"], err["reason"],
                          {k: v for k, v in err.items() if k not in ("type", "reason")})
        return item.pop("status"), item
    if len(parts) == 2 and parts[1] == "_settings" and method == "GET":
        return index_settings(ident, target)
    if len(parts) == 3 and parts[1:] == ["_ilm", "explain"] and method == "GET":
        return ilm_explain(ident, target)
    return None


def serve():
    global STATE, SETTINGS  # pylint: disable=global-statement
    SETTINGS = read_settings(sys.argv[2:])
    validate_settings(SETTINGS)
    SETTINGS.setdefault("cluster.name", "elasticsearch")
    SETTINGS.setdefault("node.name", os.uname().nodename)
    entries = keystore_read()
    if entries is None:
        keystore_write({"keystore.seed": secrets.token_urlsafe(15)})  # KeyStoreWrapper: created on first start
        entries = keystore_read()
    validate_keystore(entries)
    STATE = State(os.path.join(DATA, "standin"))
    apply_bootstrap_password()
    load_s3_secure()
    server = ThreadingHTTPServer(("0.0.0.0", int(SETTINGS.get("http.port", 9200))), Handler)
    server.daemon_threads = True
    scheme = "http"
    if SETTINGS.get("xpack.security.http.ssl.enabled") == "true":
        prefix = "xpack.security.http.ssl"
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(resolve_ssl_file(prefix, "certificate", SETTINGS[prefix + ".certificate"]),
                                    resolve_ssl_file(prefix, "key", SETTINGS[prefix + ".key"]))
        except ssl.SSLError as exc:
            fail_start(f"org.elasticsearch.ElasticsearchSecurityException: failed to load SSL configuration [{prefix}] "
                       f"- cannot load PEM key/certificate: {exc}")
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    log(f"{BANNER}: version {VERSION}, cluster [{SETTINGS['cluster.name']}], node [{SETTINGS['node.name']}], "
        f"{scheme} on port {server.server_address[1]}, first start: {STATE.first_start}")
    log("started")
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "keystore":
        sys.exit(keystore_cli(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "server":
        serve()
    else:
        sys.exit("usage: standin.py server [-Ekey=value ...] | keystore COMMAND")
