#!/usr/bin/env python
"""microops-test Kibana STAND-IN (status and data views API), not Kibana.

Runs as bin/kibana --<setting>=<value>... (kibana-docker) inside microops-test/kibana-standin:9.5.6,
standing in for docker.elastic.co/kibana/kibana:9.5.6. Only what the collection uses, each part
following the Kibana documentation (elastic.co/docs) or source (github.com/elastic/kibana) named here:
- settings (docs: kibana "Configure Kibana"; src/core/packages/elasticsearch/server-internal
  elasticsearch_config.ts, x-pack security/encrypted_saved_objects/reporting config.ts): config
  validation failures stop the server with "FATAL  Error: [config validation of [..].x]: ..." and
  exit 64 (CriticalError InvalidConfig); elasticsearch.username "elastic" is forbidden;
  serviceAccountToken excludes username; encryption keys need 32 characters; unknown settings give
  "Unknown configuration key(s)".
- Elasticsearch connection: HTTPS with elasticsearch.ssl.certificateAuthorities (an untrusted
  certificate is refused), authenticated with the service-account token (or username/password) by
  GET /_security/_authenticate, retried every 2.5 s until it succeeds (docs: "Kibana status").
- GET /api/status (docs: kibana api status; core status service): 503 level "unavailable" until
  Elasticsearch answers, then 200 level "available"; needs credentials once available.
- user requests: basic auth checked by Elasticsearch's _authenticate with those credentials (x-pack
  security basic authentication provider); failure 401 {"statusCode","error","message"}.
- kbn-xsrf (docs: "API conventions"; core http lifecycle xsrf handler): POST/PUT/DELETE/PATCH without it
  answer 400 "Request must contain a kbn-xsrf header.".
- data views (docs: data-views api; src/platform/plugins/shared/data_views/server/rest_api_routes):
  GET /api/data_views, GET/POST /api/data_views/data_view[/{id}], DELETE, with or without /s/{space}.
State: data/standin-data-views.json and data/uuid on the volume.
"""
import base64
import json
import os
import re
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOME = "/usr/share/kibana"
DATA = os.path.join(HOME, "data")
VERSION = "9.5.6"
BANNER = "microops-test Kibana STAND-IN, not Kibana"
KNOWN = {"elasticsearch.hosts", "elasticsearch.password", "elasticsearch.serviceAccountToken",
         "elasticsearch.ssl.certificateAuthorities", "elasticsearch.ssl.verificationMode", "elasticsearch.username",
         "server.host", "server.name", "server.port", "server.publicBaseUrl", "server.shutdownTimeout",
         "xpack.encryptedSavedObjects.encryptionKey", "xpack.reporting.encryptionKey", "xpack.security.encryptionKey",
         "cpu.cgroup.path.override", "cpuacct.cgroup.path.override"}
LOCK = threading.RLock()
STATUS = {"available": False, "summary": "Waiting for Elasticsearch"}
SETTINGS = {}
VIEWS = {}


def log(message):
    print(f"kibana-standin: {message}", file=sys.stderr, flush=True)


def fatal(message, code=64):
    print(f"FATAL  Error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def parse_args(args):
    settings = {"server.host": "localhost", "server.port": "5601", "server.name": os.uname().nodename,
                "elasticsearch.hosts": '["http://localhost:9200"]'}
    yml = os.path.join(HOME, "config", "kibana.yml")
    if os.path.exists(yml):
        with open(yml, encoding="utf-8") as handle:
            for line in handle:
                key, dummy, value = line.partition(":")
                if key.strip() and not key.startswith("#"):
                    settings[key.strip()] = value.strip().strip('"')
    unknown = []
    for arg in args:
        if not arg.startswith("--") or "=" not in arg:
            fatal(f"unknown option {arg}")
        key, value = arg[2:].split("=", 1)
        if key not in KNOWN:
            unknown.append(key)
        settings[key] = value
    if unknown:
        fatal("Unknown configuration key(s): " + ", ".join(f'"{k}"' for k in unknown)
              + ". Check for spelling errors and ensure that expected plugins are installed.")
    return settings


def validate(settings):
    if settings.get("elasticsearch.username") == "elastic":
        fatal('[config validation of [elasticsearch].username]: value of "elastic" is forbidden. This is a superuser '
              "account that cannot write to system indices that Kibana needs to function. Use a service account token "
              "instead. Learn more: https://www.elastic.co/guide/en/elasticsearch/reference/8.0/service-accounts.html")
    if settings.get("elasticsearch.serviceAccountToken") and settings.get("elasticsearch.username"):
        fatal('[config validation of [elasticsearch].serviceAccountToken]: serviceAccountToken cannot be specified '
              'when "username" is also set.')
    for key, section in (("xpack.security.encryptionKey", "xpack.security"),
                         ("xpack.encryptedSavedObjects.encryptionKey", "xpack.encryptedSavedObjects"),
                         ("xpack.reporting.encryptionKey", "xpack.reporting")):
        if key in settings and len(settings[key]) < 32:
            fatal(f"[config validation of [{section}].encryptionKey]: value has length [{len(settings[key])}] but it "
                  "must have a minimum length of [32].")
    url = settings.get("server.publicBaseUrl")
    if url and (not re.match(r"^https?://[^/]+(/.*)?$", url) or url.endswith("/")):
        fatal("[config validation of [server].publicBaseUrl]: "
              + ("must not end with a slash" if url.endswith("/") else "expected URI with scheme [http|https]."))
    hosts = settings["elasticsearch.hosts"]
    try:
        parsed = json.loads(hosts) if hosts.startswith("[") else [hosts]
    except ValueError:
        fatal("[config validation of [elasticsearch].hosts]: could not parse array value from json input")
    settings["elasticsearch.hosts"] = parsed
    ca = settings.get("elasticsearch.ssl.certificateAuthorities")
    if ca and not os.path.isfile(ca):
        fatal(f"ENOENT: no such file or directory, open '{ca}'", 1)


def es_context():
    ca = SETTINGS.get("elasticsearch.ssl.certificateAuthorities")
    context = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
    if SETTINGS.get("elasticsearch.ssl.verificationMode") == "certificate":
        context.check_hostname = False
    return context


def es_authenticate(authorization):
    """GET /_security/_authenticate on the first host with the given Authorization: (status, body)."""
    request = urllib.request.Request(SETTINGS["elasticsearch.hosts"][0].rstrip("/") + "/_security/_authenticate",
                                     headers={"Authorization": authorization})
    try:
        with urllib.request.urlopen(request, timeout=10, context=es_context()) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def internal_authorization():
    if SETTINGS.get("elasticsearch.serviceAccountToken"):
        return "Bearer " + SETTINGS["elasticsearch.serviceAccountToken"]
    if SETTINGS.get("elasticsearch.username"):
        pair = f"{SETTINGS['elasticsearch.username']}:{SETTINGS.get('elasticsearch.password', '')}"
        return "Basic " + base64.b64encode(pair.encode()).decode()
    return ""


def watch_elasticsearch():
    while True:
        try:
            status, body = es_authenticate(internal_authorization())
            if status == 200:
                if not STATUS["available"]:
                    log(f"Elasticsearch is available; authenticated as [{body.get('username')}]")
                STATUS.update(available=True, summary="Elasticsearch is available")
            else:
                reason = body.get("error", {}).get("reason", status) if isinstance(body, dict) else status
                STATUS.update(available=False, summary=f"Unable to authenticate with Elasticsearch: {reason}")
                log(STATUS["summary"])
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            STATUS.update(available=False, summary=f"Unable to retrieve version information from Elasticsearch "
                                                   f"nodes. {reason}")
            log(STATUS["summary"])
        time.sleep(2.5)


def save():
    with open(os.path.join(DATA, "standin-data-views.json.tmp"), "w", encoding="utf-8") as handle:
        json.dump(VIEWS, handle)
    os.replace(os.path.join(DATA, "standin-data-views.json.tmp"), os.path.join(DATA, "standin-data-views.json"))


def error(status, message):
    names = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
             503: "Service Unavailable"}
    return status, {"statusCode": status, "error": names[status], "message": message}


def status_body():
    level = "available" if STATUS["available"] else "unavailable"
    return {"name": SETTINGS["server.name"], "uuid": SETTINGS["uuid"],
            "version": {"number": VERSION, "build_hash": "microops-standin", "build_number": 1,
                        "build_snapshot": False, "build_flavor": "traditional", "build_date": "2026-11-01T00:00:00.000Z"},
            "status": {"overall": {"level": level, "summary": "All services and plugins are available"
                                   if STATUS["available"] else "Kibana is unavailable: " + STATUS["summary"]},
                       "core": {"elasticsearch": {"level": level, "summary": STATUS["summary"]},
                                "savedObjects": {"level": level, "summary": "SavedObjects service has completed "
                                                 "migrations and is available" if STATUS["available"] else
                                                 "SavedObjects service is waiting for Elasticsearch"}},
                       "plugins": {}},
            "metrics": {"last_updated": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}}


def view_body(view, space):
    return {"id": view["id"], "version": view["version"], "title": view["title"], "name": view.get("name", view["title"]),
            "timeFieldName": view.get("timeFieldName"), "sourceFilters": view.get("sourceFilters", []),
            "fields": view.get("fields", {}), "typeMeta": view.get("typeMeta", {}), "fieldFormats": {},
            "runtimeFieldMap": view.get("runtimeFieldMap", {}), "fieldAttrs": {}, "allowNoIndex": view.get(
                "allowNoIndex", False), "namespaces": [space], "allowHidden": view.get("allowHidden", False)}


def data_views(method, space, rest, body):
    views = VIEWS.setdefault(space, {})
    if rest == [] and method == "GET":
        return 200, {"data_view": [{"id": v["id"], "namespaces": [space], "title": v["title"], "typeMeta": {},
                                    "name": v.get("name", v["title"])} for v in views.values()]}
    if rest == ["data_view"] and method == "POST":
        spec = (body or {}).get("data_view")
        if not isinstance(spec, dict) or not spec.get("title"):
            return error(400, "[request body.data_view.title]: expected value of type [string] but got [undefined]")
        override = (body or {}).get("override", False)
        view_id = spec.get("id") or str(uuid.uuid4())
        if view_id in views and not override:
            return error(409, f"Saved object [index-pattern/{view_id}] conflict")
        if not override and any(v["title"] == spec["title"] and v["id"] != view_id for v in views.values()):
            return error(400, f"Duplicate data view: {spec.get('name') or spec['title']}")
        view = {**spec, "id": view_id, "version": "WzEsMV0="}
        views[view_id] = view
        save()
        return 200, {"data_view": view_body(view, space)}
    if len(rest) == 2 and rest[0] == "data_view":
        view = views.get(rest[1])
        if view is None:
            return error(404, f"Saved object [index-pattern/{rest[1]}] not found")
        if method == "GET":
            return 200, {"data_view": view_body(view, space)}
        if method == "DELETE":
            del views[rest[1]]
            save()
            return 200, ""
    return error(404, "Not Found")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        log(f'{self.address_string()} "{self.requestline}" {args[1] if len(args) > 1 else ""}')

    def send(self, status, body):
        data = json.dumps(body).encode() if body != "" else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with LOCK:
            self.send(*self.route(raw))

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def route(self, raw):  # pylint: disable=too-many-return-statements
        path = self.path.split("?")[0]
        parts = [p for p in path.split("/") if p]
        if not STATUS["available"]:
            if parts == ["api", "status"]:
                return 503, status_body()
            return error(503, "Kibana server is not ready yet")
        auth = self.headers.get("Authorization")
        if not auth:
            return error(401, "Unauthorized")
        try:
            status, body = es_authenticate(auth)
        except OSError:
            return error(503, "Kibana server is not ready yet")
        if status != 200:
            return error(401, "Unauthorized")
        if self.command in ("POST", "PUT", "DELETE", "PATCH") and "kbn-xsrf" not in self.headers:
            return error(400, "Request must contain a kbn-xsrf header.")
        if parts == ["api", "status"] and self.command == "GET":
            return 200, status_body()
        space = "default"
        if len(parts) >= 2 and parts[0] == "s":
            space, parts = parts[1], parts[2:]
        if parts[:2] == ["api", "data_views"]:
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                return error(400, "Invalid JSON")
            return data_views(self.command, space, parts[2:], payload)
        return error(404, "Not Found")


def main():
    global SETTINGS, VIEWS  # pylint: disable=global-statement
    SETTINGS = parse_args(sys.argv[1:])
    validate(SETTINGS)
    uuid_file = os.path.join(DATA, "uuid")
    if not os.path.exists(uuid_file):
        with open(uuid_file, "w", encoding="ascii") as handle:
            handle.write(str(uuid.uuid4()))
    with open(uuid_file, encoding="ascii") as handle:
        SETTINGS["uuid"] = handle.read().strip()
    path = os.path.join(DATA, "standin-data-views.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            VIEWS = json.load(handle)
    threading.Thread(target=watch_elasticsearch, daemon=True).start()
    host = SETTINGS["server.host"]
    server = ThreadingHTTPServer(("0.0.0.0" if host in ("0.0.0.0", "0") else host, int(SETTINGS["server.port"])),
                                 Handler)
    server.daemon_threads = True
    log(f"{BANNER}: version {VERSION}, server.name [{SETTINGS['server.name']}], port {SETTINGS['server.port']}")
    server.serve_forever()


if __name__ == "__main__":
    main()
