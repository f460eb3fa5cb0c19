"""microops-test Filebeat STAND-IN, not Filebeat (tests/standins/filebeat/README.md).

Filebeat is in neither Debian nor PyPI and no image registry is reachable here. This program does,
for the subset of filebeat.yml that microops.stack's filter filebeat_config writes, what Filebeat
9.5 does: it refuses the configurations Filebeat refuses (strict.perms, disabled inputs, missing
or duplicated input ids, template settings), tails Docker's json-file logs with the filestream
input and the container parser, enriches them with add_docker_metadata over the Docker socket,
runs the processors, and sends `create` bulk requests to Elasticsearch over HTTPS through a disk
queue, keeping a registry so that a restart does not resend. Python's standard library plus
Debian's python3-yaml. Each behaviour names the Filebeat document or source file it follows
(elastic/beats: docs/reference/filebeat/*.md, libbeat/..., filebeat/...)."""

import base64
import copy
import datetime
import fcntl
import glob
import gzip
import hashlib
import http.client
import json
import os
import signal
import socket
import ssl
import stat
import sys
import time
import urllib.parse
import uuid

import yaml

VERSION = "9.5.6"
HOME = "/usr/share/filebeat"
BANNER = f"microops-test Filebeat STAND-IN {VERSION}, not Filebeat"
STOP = False


def log(level, message, **fields):
    """Filebeat's JSON log lines on stderr (configuration-logging.md: to_stderr, `-e`)."""
    line = {"log.level": level, "@timestamp": now(), "log.logger": "standin", "message": message,
            "service.name": "filebeat", "ecs.version": "1.6.0", **fields}
    sys.stderr.write(json.dumps(line) + "\n")
    sys.stderr.flush()


def exiting(message):
    """libbeat cmd/instance handleError: `Exiting: <error>` and exit status 1."""
    log("error", f"Exiting: {message}")
    sys.stderr.write(f"Exiting: {message}\n")
    sys.exit(1)


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---- configuration -------------------------------------------------------------------------------

def expand(value):
    """go-ucfg reads `a.b: 1` as `a: {b: 1}`; dotted keys and nested maps merge."""
    if isinstance(value, list):
        return [expand(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        parts = str(key).split(".")
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        leaf = expand(item)
        if isinstance(target.get(parts[-1]), dict) and isinstance(leaf, dict):
            merge(target[parts[-1]], leaf)
        else:
            target[parts[-1]] = leaf
    return out


def merge(into, other):
    for key, value in other.items():
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            merge(into[key], value)
        else:
            into[key] = value


def merge_missing(into, other):
    """DeepUpdate without overwrite: keys the event already has are kept."""
    for key, value in other.items():
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            merge_missing(into[key], value)
        elif key not in into:
            into[key] = copy.deepcopy(value)


def flatten(value, prefix=""):
    """A condition's field map back to dotted field names (the condition code reads them so)."""
    out = {}
    for key, item in (value or {}).items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            out.update(flatten(item, name + "."))
        else:
            out[name] = item
    return out


def check_permissions(path, strict):
    """libbeat/common/cfgfile: the config file must be owned by the running user or root and not
    writable by group or others (config-file-permissions.md), unless --strict.perms=false."""
    if not strict:
        return
    info = os.stat(path)
    euid = os.geteuid()
    name = os.path.basename(path)
    if info.st_uid not in (0, euid):
        exiting(f'error loading config file: config file ("{name}") must be owned by the user identifier '
                f"(uid={euid}) or root")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        exiting(f'error loading config file: config file ("{name}") can only be writable by the owner but '
                f'the permissions are "{stat.filemode(info.st_mode)}" (to fix the permissions use: '
                f"'chmod go-w {os.path.abspath(path)}')")


def load_config(path, strict, overrides):
    if not os.path.exists(path):
        exiting(f"error loading config file: stat {path}: no such file or directory")
    check_permissions(path, strict)
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as exc:
        exiting(f"error loading config file: {exc}")
    config = expand(raw)
    for override in overrides:  # -E key=value
        key, dummy, value = override.partition("=")
        merge(config, expand({key: yaml.safe_load(value)}))
    return config


DEPRECATED = ("{kind} input is deprecated. Use Filestream input instead. Follow our migration guide "
              "https://www.elastic.co/guide/en/beats/filebeat/current/migrate-to-filestream.html")
PROCESSORS = ("add_docker_metadata", "drop_event", "copy_fields", "add_fields")
CONDITIONS = ("equals", "contains", "has_fields", "not", "and", "or")


def validate(config):
    """What Filebeat refuses at startup, for the subset implemented; anything else it accepts but
    the stand-in does not implement is refused too, saying so."""
    inputs = (config.get("filebeat") or {}).get("inputs") or []
    if not inputs:
        exiting("no modules or inputs enabled and configuration reloading disabled. What files do you want me to watch?")
    ids = []
    for item in inputs:
        kind = item.get("type")
        if kind in ("log", "container"):
            # migrate-to-filestream.md: the log input (container is a preset of it) is disabled in 9.0.
            exiting("Failed to start crawler: starting input failed: error while initializing input: Found "
                    f"{kind} input configuration: " + DEPRECATED.format(kind=kind.capitalize()) + "\n"
                    + json.dumps(item, indent=2))
        if kind != "filestream":
            exiting(f"STAND-IN: input type {kind!r} is not implemented by the stand-in (only filestream)")
        ids.append(item.get("id") or "")
        if not item.get("paths"):
            exiting("Failed to start crawler: starting input failed: error while initializing input: no path is configured")
        for parser in item.get("parsers") or []:
            name, options = next(iter(parser.items()))
            if name != "container":
                exiting(f"STAND-IN: parser {name!r} is not implemented by the stand-in (only container)")
            options = options or {}
            # filebeat/input/filestream/container.go and libbeat/reader/parser: the same checks.
            if options.get("stream", "all") not in ("all", "stdout", "stderr"):
                exiting(f"invalid value for stream: {options['stream']}, supported values are: all, stdout, stderr")
            if str(options.get("format", "auto")).lower() not in ("auto", "docker", "cri"):
                exiting(f"invalid value for format: {options['format']}, supported values are: auto, docker, cri")
        identity = item.get("file_identity") or {"fingerprint": None}
        if len(identity) != 1 or next(iter(identity)) not in ("fingerprint", "native", "path"):
            exiting(f"STAND-IN: file_identity {sorted(identity)} is not implemented")
        check_processors(item.get("processors") or [])
    # filebeat/input/filestream/config.go ValidateInputIDs.
    errors = []
    if "" in ids:
        errors.append("input without ID")
    duplicates = sorted({value for value in ids if value and ids.count(value) > 1})
    if duplicates:
        errors.append(f"filestream inputs with duplicated IDs: {','.join(duplicates)}")
    if errors:
        exiting("filestream inputs validation error: " + ", ".join(errors))
    check_processors(config.get("processors") or [])
    outputs = [name for name, value in (config.get("output") or {}).items()
               if (value or {}).get("enabled", True)]
    if outputs != ["elasticsearch"]:
        exiting(f"STAND-IN: only output.elasticsearch is implemented, got {outputs}")
    es = config["output"]["elasticsearch"]
    if not es.get("hosts"):
        exiting("error initializing publisher: missing required field accessing 'output.elasticsearch.hosts'")
    setup = config.get("setup") or {}
    template = setup.get("template") or {}
    # libbeat/idxmgmt/std.go checkTemplateESSettings.
    if template.get("enabled", True):
        if es.get("index") and not (template.get("name") and template.get("pattern")):
            exiting("setup.template.name and setup.template.pattern have to be set if index name is modified")
        exiting("STAND-IN: setup.template.enabled is not implemented (loading a template needs "
                "manage_index_templates); set it to false")
    if (setup.get("ilm") or {}).get("enabled", True):
        # elasticsearch-output.md: with ILM on, a custom index is ignored; ILM setup needs manage_ilm.
        exiting("STAND-IN: setup.ilm.enabled is not implemented (ILM setup needs manage_ilm and ignores "
                "output.elasticsearch.index); set it to false")
    if (setup.get("dashboards") or {}).get("enabled", False):
        exiting("STAND-IN: setup.dashboards is not implemented")
    queue = config.get("queue") or {}
    if "disk" in queue and not (queue["disk"] or {}).get("max_size"):
        # configuring-internal-queue.md: max_size (required). Stricter than the 10GB fallback.
        exiting("STAND-IN: queue.disk.max_size is required (configuring-internal-queue.md)")
    if len(queue) > 1:
        exiting("Only one queue type can be configured")


def check_processors(processors):
    for entry in processors:
        name = next(iter(entry))
        if name not in PROCESSORS:
            # libbeat/processors/processor.go New.
            exiting(f"the processor action {name} does not exist. STAND-IN implements: {', '.join(PROCESSORS)}")
        options = entry[name] or {}
        if name == "drop_event" and "when" not in options:
            exiting("drop_event: a condition is mandatory (drop-event.md)")
        if "when" in options:
            check_condition(options["when"])


def check_condition(condition):
    for kind, body in (condition or {}).items():
        if kind not in CONDITIONS:
            exiting(f"unknown condition {kind} (STAND-IN implements {', '.join(CONDITIONS)})")
        if kind == "not":
            check_condition(body)
        if kind in ("and", "or"):
            for sub in body:
                check_condition(sub)


def size_bytes(text):
    """go-humanize ParseBytes, the units queue.disk.max_size accepts."""
    text = str(text).strip().replace(" ", "")
    units = {"": 1, "b": 1, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "tb": 1000 ** 4,
             "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "tib": 1024 ** 4}
    digits = text.rstrip("BbKkMmGgTtIi")
    return int(float(digits) * units[text[len(digits):].lower()])


def duration(text, default):
    if text is None:
        return default
    if isinstance(text, (int, float)):
        return float(text)
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in ("ms", "s", "m", "h"):
        if str(text).endswith(unit):
            return float(str(text)[:-len(unit)]) * units[unit]
    return float(text)


# ---- events: fields, conditions, processors ------------------------------------------------------

def get(event, path):
    node = event
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def put(event, path, value):
    parts = path.split(".")
    node = event
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def has(event, path):
    try:
        get(event, path)
        return True
    except KeyError:
        return False


def matches(condition, event):
    """defining-processors.md, Conditions: the subset implemented."""
    for kind, body in condition.items():
        if kind == "not":
            ok = not matches(body, event)
        elif kind == "and":
            ok = all(matches(sub, event) for sub in body)
        elif kind == "or":
            ok = any(matches(sub, event) for sub in body)
        elif kind == "has_fields":
            ok = all(has(event, field) for field in body)
        else:
            ok = True
            for field, expected in flatten(body).items():
                try:
                    value = get(event, field)
                except KeyError:
                    ok = False
                    break
                if kind == "equals" and value != expected:
                    ok = False
                if kind == "contains" and str(expected) not in str(value):
                    ok = False
        if not ok:
            return False
    return True


class DockerAPI:
    """GET /containers/<id>/json over the unix socket (Docker Engine API), cached for
    cleanup_timeout as add_docker_metadata's watcher does."""

    def __init__(self, host, ttl):
        self.path = urllib.parse.urlsplit(host).path
        self.ttl = ttl
        self.cache = {}

    def container(self, cid):
        hit = self.cache.get(cid)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        info = None
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(5)
            sock.connect(self.path)
            connection = http.client.HTTPConnection("localhost")
            connection.sock = sock
            connection.request("GET", f"/containers/{cid}/json")
            response = connection.getresponse()
            body = response.read()
            connection.close()
            if response.status == 200:
                data = json.loads(body)
                info = {"id": data["Id"], "name": data["Name"].lstrip("/"),
                        "image": (data.get("Config") or {}).get("Image", ""),
                        "labels": (data.get("Config") or {}).get("Labels") or {}}
        except (OSError, ValueError, KeyError, http.client.HTTPException) as exc:
            log("warn", f"add_docker_metadata: Docker API unreachable: {exc}")
            return None
        self.cache[cid] = (time.monotonic(), info)
        return info


def make_processor(name, options, docker_apis):
    options = options or {}
    when = options.get("when")

    if name == "add_docker_metadata":
        host = options.get("host", "unix:///var/run/docker.sock")
        api = docker_apis.setdefault(host, DockerAPI(host, duration(options.get("cleanup_timeout"), 60)))
        index = int(options.get("match_source_index", 4))
        dedot = (options.get("labels") or {}).get("dedot", True)

        def run(event):
            # libbeat/processors/add_docker_metadata: the id from log.file.path split by '/', empty
            # parts dropped (actions/extract_field.go), then container.* fields (ECS).
            if not options.get("match_source", True):
                return event
            try:
                parts = [part for part in get(event, "log.file.path").split("/") if part]
                cid = parts[index]
            except (KeyError, IndexError):
                return event
            info = api.container(cid)
            if info:
                labels = {}
                for key, value in info["labels"].items():
                    put(labels, key.replace(".", "_"), value) if dedot else labels.__setitem__(key, value)
                put(event, "container.id", info["id"])
                put(event, "container.name", info["name"])
                put(event, "container.image.name", info["image"])
                if labels:
                    put(event, "container.labels", labels)
            return event
    elif name == "drop_event":
        def run(event):
            return None
    elif name == "copy_fields":
        def run(event):
            # copy-fields.md: no overwrite; errors revert when fail_on_error, else continue.
            backup = copy.deepcopy(event)
            for pair in options.get("fields") or []:
                try:
                    value = get(event, pair["from"])
                except KeyError:
                    if options.get("ignore_missing", False):
                        continue
                    return backup if options.get("fail_on_error", True) else event
                if has(event, pair["to"]):
                    if options.get("fail_on_error", True):
                        return backup
                    continue
                put(event, pair["to"], copy.deepcopy(value))
            return event
    elif name == "add_fields":
        def run(event):
            # add-fields.md: target '' = top level; overwrites.
            target = options.get("target", "fields")
            fields = copy.deepcopy(options.get("fields") or {})
            if target:
                fields = {target: fields} if "." not in target else expand({target: fields})
            merge(event, fields)
            return event

    def guarded(event):
        if when is not None and not matches(when, event):
            return event
        return run(event)
    return guarded


def pipeline(processors, docker_apis):
    return [make_processor(next(iter(entry)), entry[next(iter(entry))], docker_apis) for entry in processors]


def apply(chain, event):
    for step in chain:
        event = step(event)
        if event is None:
            return None
    return event


# ---- the filestream input with the container parser ---------------------------------------------

class Input:
    def __init__(self, config, registry, docker_apis):
        self.id = config["id"]
        self.paths = config["paths"]
        parser = next((p["container"] for p in config.get("parsers") or [] if "container" in p), None)
        self.container = (parser or {}) if parser is not None else None
        self.identity = next(iter(config.get("file_identity") or {"fingerprint": None}))
        fingerprint = ((config.get("prospector") or {}).get("scanner") or {}).get("fingerprint") or {}
        self.fp_offset = int(fingerprint.get("offset", 0))
        self.fp_length = int(fingerprint.get("length", 1024))
        self.check_interval = duration(((config.get("prospector") or {}).get("scanner") or {}).get(
            "check_interval"), 10)
        self.processors = pipeline(config.get("processors") or [], docker_apis)
        self.registry = registry
        self.partial = {}
        self.last_scan = 0.0

    def key(self, path, info):
        """filebeat-input-filestream.md, file_identity: native (inode and device), path, or
        fingerprint (a hash of bytes offset..offset+length; files smaller are not read yet)."""
        if self.identity == "native":
            return f"filestream::{self.id}::native::{info.st_ino}-{info.st_dev}"
        if self.identity == "path":
            return f"filestream::{self.id}::path::{path}"
        if info.st_size < self.fp_offset + self.fp_length:
            return None
        with open(path, "rb") as handle:
            handle.seek(self.fp_offset)
            digest = hashlib.sha256(handle.read(self.fp_length)).hexdigest()
        return f"filestream::{self.id}::fingerprint::{digest}"

    def files(self):
        found = set()
        for pattern in self.paths:
            found.update(p for p in glob.glob(pattern) if os.path.isfile(p) and not os.path.islink(p))
        return sorted(found)

    def read(self, room):
        """New lines from every file, as (event, registry key, offset after the line)."""
        if time.monotonic() - self.last_scan < min(self.check_interval, 1.0):
            return []
        self.last_scan = time.monotonic()
        out = []
        for path in self.files():
            try:
                info = os.stat(path)
                key = self.key(path, info)
            except OSError:
                continue
            if key is None:
                continue
            offset = self.registry.get(key, {}).get("offset", 0)
            if info.st_size < offset:  # truncated: filestream starts over
                offset = 0
            if info.st_size == offset:
                continue
            with open(path, "rb") as handle:
                handle.seek(offset)
                data = handle.read(max(room, 1))
            end = data.rfind(b"\n")
            if end < 0:
                continue
            position = offset
            for raw in data[:end + 1].split(b"\n")[:-1]:
                line_offset = position
                position += len(raw) + 1
                event = self.event(path, key, raw, line_offset)
                if event is not None:
                    out.append((event, key, path, position))
                else:
                    out.append((None, key, path, position))
            room -= end + 1
            if room <= 0:
                break
        return out

    def event(self, path, key, raw, offset):
        """The container parser, docker format (json-file lines {log, stream, time}); partial
        lines (no trailing newline in `log`) are joined, as libbeat/reader/readjson/docker_json.go."""
        message, stream, timestamp = raw.decode("utf-8", "replace"), None, now()
        if self.container is not None:
            try:
                line = json.loads(raw)
                message, stream, timestamp = line["log"], line["stream"], line["time"]
            except (ValueError, KeyError, TypeError):
                log("error", f"parse line as JSON failed in {path} at offset {offset}")
                return None
            if not message.endswith("\n"):
                self.partial[key] = self.partial.get(key, "") + message
                return None
            message = self.partial.pop(key, "") + message
            wanted = self.container.get("stream", "all")
            if wanted != "all" and wanted != stream:
                return None
        event = {"@timestamp": timestamp, "message": message.rstrip("\n"),
                 "input": {"type": "filestream"},
                 "log": {"file": {"path": path}, "offset": offset}}
        if stream:
            event["stream"] = stream
        return event


# ---- the disk queue and the Elasticsearch output --------------------------------------------------

class DiskQueue:
    """queue.disk: events wait on disk until the output acknowledges them
    (configuring-internal-queue.md). One append-only file and a read position."""

    def __init__(self, path, max_size):
        os.makedirs(path, exist_ok=True)
        self.file = os.path.join(path, "standin-queue.ndjson")
        self.state = os.path.join(path, "standin-queue.state")
        self.max_size = max_size
        open(self.file, "ab").close()

    def position(self):
        try:
            with open(self.state, encoding="utf-8") as handle:
                return int(handle.read() or 0)
        except (OSError, ValueError):
            return 0

    def pending(self):
        return os.path.getsize(self.file) - self.position()

    def room(self):
        return max(self.max_size - os.path.getsize(self.file), 0)

    def append(self, events):
        self.append_raw([json.dumps(event, separators=(",", ":")).encode() + b"\n" for event in events])

    def append_raw(self, lines):
        if not lines:
            return
        with open(self.file, "ab") as handle:
            handle.write(b"".join(lines))
            handle.flush()
            os.fsync(handle.fileno())

    def peek(self, count):
        with open(self.file, "rb") as handle:
            handle.seek(self.position())
            lines = []
            for dummy in range(count):
                line = handle.readline()
                if not line.endswith(b"\n"):
                    break
                lines.append(line)
        return lines

    def ack(self, nbytes):
        position = self.position() + nbytes
        if position >= os.path.getsize(self.file):
            open(self.file, "wb").close()  # everything sent: start a new segment
            position = 0
        write_atomic(self.state, str(position))


class Elasticsearch:
    """output.elasticsearch: bulk `create` actions (events to a data stream), basic auth or API key,
    TLS with ssl.certificate_authorities, gzip at compression_level, per-item results
    (elasticsearch-output.md; libbeat/outputs/elasticsearch/client.go)."""

    def __init__(self, config):
        self.hosts = [h if "://" in h else f"{config.get('protocol', 'http')}://{h}" for h in config["hosts"]]
        self.index = config.get("index") or f"filebeat-{VERSION}"
        self.compression = int(config.get("compression_level", 1))
        self.bulk_max_size = int(config.get("bulk_max_size", 1600))
        self.headers = {"User-Agent": f"Filebeat/{VERSION} (microops-test stand-in)",
                        "Content-Type": "application/json", "Accept": "application/json"}
        if config.get("api_key"):
            self.headers["Authorization"] = "ApiKey " + base64.b64encode(config["api_key"].encode()).decode()
        elif config.get("username"):
            credentials = f"{config['username']}:{config.get('password', '')}"
            self.headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        tls = config.get("ssl") or {}
        self.context = ssl.create_default_context()
        for ca in tls.get("certificate_authorities") or []:
            self.context.load_verify_locations(cafile=ca)
        mode = tls.get("verification_mode", "full")
        if mode in ("certificate", "none"):
            self.context.check_hostname = False
        if mode == "none":
            self.context.verify_mode = ssl.CERT_NONE
        self.next_host = 0
        self.connected = None

    def request(self, method, path, body=None):
        url = urllib.parse.urlsplit(self.hosts[self.next_host % len(self.hosts)])
        if url.scheme == "https":
            connection = http.client.HTTPSConnection(url.hostname, url.port or 9200, context=self.context, timeout=90)
        else:
            connection = http.client.HTTPConnection(url.hostname, url.port or 9200, timeout=90)
        headers = dict(self.headers)
        if body is not None and self.compression > 0:
            body = gzip.compress(body, compresslevel=self.compression)
            headers["Content-Encoding"] = "gzip"
        try:
            connection.request(method, url.path.rstrip("/") + path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def connect(self):
        """On connect Filebeat reads GET / for the cluster's version (needs cluster `monitor`,
        privileges-to-publish-events.md)."""
        status, body = self.request("GET", "/")
        if status != 200:
            raise ConnectionError(f"Connection marked as failed because the onConnect callback failed: "
                                  f"error loading Elasticsearch version: {status} {body[:300]!r}")
        version = json.loads(body)["version"]["number"]
        log("info", f"Connected to Elasticsearch version {version}")
        self.connected = version

    def send(self, lines):
        """One bulk request. Returns the events to retry (429 and 5xx items); events Elasticsearch
        refuses for good (other 4xx) are dropped and logged, as Filebeat's non_indexable_policy drop."""
        if self.connected is None:
            self.connect()
        body = b""
        for line in lines:
            body += json.dumps({"create": {"_index": self.index}}).encode() + b"\n" + line
        status, raw = self.request("POST", "/_bulk", body)
        if status != 200:
            raise ConnectionError(f"failed to perform any bulk index operations: {status} {raw[:300]!r}")
        result = json.loads(raw)
        items = result.get("items") or []
        if len(items) != len(lines):
            raise ValueError(f"bulk response has {len(items)} items for {len(lines)} actions")
        retry = []
        for line, item in zip(lines, items):
            outcome = next(iter(item.values()))
            code = outcome.get("status", 0)
            if code < 300 or code == 409:  # 409: a duplicate, Filebeat counts it as delivered
                continue
            if code == 429 or code >= 500:
                retry.append(line)
                continue
            error = outcome.get("error") or {}
            log("warn", f"Cannot index event (status={code}): dropping event! "
                        f"{error.get('type')}: {error.get('reason')}")
        return retry


# ---- registry and main loop -----------------------------------------------------------------------

def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Registry(dict):
    """Offsets per file key under ${path.data}/registry/filebeat (configuration-general-options.md,
    registry.path), flushed once events are safe in the disk queue."""

    def __init__(self, data):
        super().__init__()
        self.dir = os.path.join(data, "registry", "filebeat")
        os.makedirs(self.dir, mode=0o750, exist_ok=True)
        self.path = os.path.join(self.dir, "standin-registry.json")
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as handle:
                self.update(json.load(handle))

    def flush(self):
        write_atomic(self.path, json.dumps(self, sort_keys=True))


def lock_data(data):
    """libbeat/cmd/instance/locks: one Beat per data path."""
    os.makedirs(data, exist_ok=True)
    handle = open(os.path.join(data, "filebeat.lock"), "w", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        exiting("data path already locked by another beat. Please make sure that multiple beats are not "
                "sharing the same data path (path.data)")
    return handle


def beat_meta(data):
    path = os.path.join(data, "meta.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    meta = {"uuid": str(uuid.uuid4()), "first_start": now()}
    write_atomic(path, json.dumps(meta))
    return meta


def run(config, data):
    lock = lock_data(data)
    meta = beat_meta(data)
    registry = Registry(data)
    docker_apis = {}
    inputs = [Input(item, registry, docker_apis) for item in config["filebeat"]["inputs"]
              if item.get("enabled", True)]
    global_chain = pipeline(config.get("processors") or [], docker_apis)
    queue_config = (config.get("queue") or {}).get("disk")
    queue = DiskQueue((queue_config or {}).get("path") or os.path.join(data, "diskqueue"),
                      size_bytes(queue_config["max_size"]) if queue_config else 10 * 1000 ** 3)
    output = Elasticsearch(config["output"]["elasticsearch"])
    backoff_config = config["output"]["elasticsearch"].get("backoff") or {}
    backoff_init = duration(backoff_config.get("init"), 1)
    backoff_max = duration(backoff_config.get("max"), 60)
    hostname = socket.gethostname()
    # libbeat publisher/processing/default.go: builtin fields, added after the input's
    # processors without overwriting, then the global processors.
    builtin = {"agent": {"name": config.get("name") or hostname, "type": "filebeat", "version": VERSION,
                         "id": meta["uuid"], "ephemeral_id": str(uuid.uuid4())},
               "ecs": {"version": "8.0.0"}, "host": {"name": hostname}}
    log("info", f"Home path: [{HOME}] Data path: [{data}]")
    log("info", f"filebeat start running. {BANNER}")
    wait_until, backoff = 0.0, backoff_init
    while not STOP:
        busy = False
        room = queue.room()
        for source in inputs:
            if room <= 0:
                break  # queue full: the input pauses (configuring-internal-queue.md, max_size)
            read = source.read(room)
            events = []
            for event, key, path, position in read:
                if event is not None:
                    event = apply(source.processors, event)
                if event is not None:
                    merge_missing(event, builtin)
                    event = apply(global_chain, event)
                if event is not None:
                    events.append(event)
                registry[key] = {"path": path, "offset": position, "updated": now()}
            if read:
                queue.append(events)
                registry.flush()
                busy = True
                room = queue.room()
        if queue.pending() > 0 and time.monotonic() >= wait_until:
            lines = queue.peek(output.bulk_max_size)
            try:
                retry = output.send(lines)
                # Only the failed items go round again, at the end of the queue.
                queue.append_raw(retry)
                queue.ack(sum(len(line) for line in lines))
                log("info", f"published {len(lines) - len(retry)} events to {output.index}")
                if retry:
                    raise ConnectionError(f"{len(retry)} events to retry (429 or 5xx)")
                backoff = backoff_init
                busy = True
            except (OSError, ConnectionError, ssl.SSLError, http.client.HTTPException, ValueError) as exc:
                output.connected = None
                log("error", f"Failed to connect to backoff(elasticsearch({output.hosts[0]})): {exc}")
                wait_until = time.monotonic() + backoff
                backoff = min(backoff * 2, backoff_max)
                output.next_host += 1
        if not busy:
            time.sleep(0.5)
    registry.flush()
    lock.close()
    log("info", "filebeat stopped.")


def main(argv):
    def stop(_signum, _frame):
        global STOP
        STOP = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    args = list(argv)
    command = None
    if args and not args[0].startswith("-"):
        command = args.pop(0)
        if command == "test" and args and args[0] == "config":
            args.pop(0)
            command = "test config"
    config_path, strict, overrides, data = "filebeat.yml", True, [], os.path.join(HOME, "data")
    while args:
        arg = args.pop(0)
        name, equals, value = arg.lstrip("-").partition("=")
        if name in ("c", "E", "environment", "path.data", "path.home", "path.config", "path.logs", "d") \
                and not equals and args:
            value = args.pop(0)
        if name == "c":
            config_path = value
        elif name == "E":
            overrides.append(value)
        elif name == "strict.perms":
            strict = value.lower() not in ("false", "0")
        elif name == "path.data":
            data = value
        elif name in ("e", "environment", "path.home", "path.config", "path.logs", "d", "v"):
            pass
        else:
            exiting(f"unknown flag: {arg}")
    if command == "version":
        print(f"filebeat version {VERSION} (amd64), libbeat {VERSION} [microops-test STAND-IN]")
        return
    if command not in (None, "run", "test config"):
        exiting(f'STAND-IN: command "{command}" is not implemented (run, test config, version)')
    sys.stderr.write(BANNER + "\n")
    config = load_config(config_path if os.path.isabs(config_path) else os.path.join(HOME, config_path),
                         strict, overrides)
    validate(config)
    if command == "test config":
        print("Config OK")
        return
    run(config, data)


if __name__ == "__main__":
    main(sys.argv[1:])
