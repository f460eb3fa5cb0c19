#!/usr/bin/env python
"""microops-test Grafana STAND-IN (datasource and service-account API only), not Grafana.

Runs as `grafana server ...` (run.sh) and `grafana cli ...` (docker exec) inside
microops-test/grafana-standin, standing in for grafana/grafana:13.2.0. Only what the collection
uses, each part following the Grafana source (github.com/grafana/grafana) or docs named here:
- settings from GF_* variables (docs: setup-grafana/configure-grafana, "Override configuration with
  environment variables"): GF_SECURITY_ADMIN_USER (default admin), GF_SECURITY_ADMIN_PASSWORD
  (default admin, conf/defaults.ini), applied only when the database is created (first start);
  GF_AUTH_ANONYMOUS_ENABLED (default false), GF_USERS_ALLOW_SIGN_UP (default false; no sign-up
  endpoint here either way), GF_SERVER_HTTP_PORT (default 3000). GF_*__FILE is run.sh's job.
- database: sqlite file <paths.data>/grafana.db (Grafana's default type sqlite3, path grafana.db);
  paths.data and paths.provisioning as pkg/setting/setting.go loadConfiguration resolves them:
  cfg:default.paths.X, then GF_PATHS_X, then cfg:paths.X (see cfg_path). Shared by the server and
  `grafana cli` (each request reads users and tokens from it: nothing is cached).
- authentication (pkg/services/authn/clients): basic auth of a user (password.go/basic.go: failure
  401 "Invalid username or password"), brute-force protection of basic auth (see
  password_identity: pkg/services/authn/clients/password.go Password.AuthenticatePassword,
  pkg/services/loginattempt/loginattemptimpl login_attempt.go and store.go, pkg/setting/setting.go
  readSecuritySettings), Bearer service-account tokens (api_key.go: unknown
  401 "Invalid API key", expired "Expired API key", a token used with another X-Grafana-Org-Id
  401 "API key does not belong to the requested organization", messageId
  api-key.organization-mismatch); no credentials: 401 {"message":"Unauthorized"} (middleware
  reqSignedIn). No WWW-Authenticate challenge is sent (Grafana sends none).
- GET /api/health (pkg/api/health.go): no auth, {"commit","database":"ok","version"}.
- GET /api/user (pkg/api/user.go GetSignedInUser, UserProfileDTO): the basic-auth user's profile.
- `grafana cli [--homepath D] [--config F] [--configOverrides S] admin reset-admin-password
  [--password-from-stdin] [--user-id N] [password] [cfg:...]` (pkg/cmd/grafana-cli/commands/cli.go,
  commands.go, reset_password_command.go; pkg/services/user/password.go): see cli(). Any other
  command or flag: "Incorrect Usage", exit 1.
- datasources (pkg/api/datasources.go, pkg/services/datasources/service/datasource.go and
  store.go, pkg/services/datasources/errors.go and models.go): list, add, get/update/delete by
  uid, get by name, health by uid; messages and status codes as in those files.
- prometheus health (pkg/promlib/healthcheck.go): instant query `1+1` through the datasource URL.
- elasticsearch health (pkg/tsdb/elasticsearch/healthcheck.go): GET <url>/_cluster/health?wait_for_status=yellow,
  see elasticsearch_health.
  Other types answer like a plugin without CheckHealth (pkg/plugins/errors.go
  ErrMethodNotImplemented: 404 "Method not implemented", messageId plugin.notImplemented).
  A type named in the test-only MICROOPS_STANDIN_UNREGISTERED_PLUGINS answers like a plugin that is
  not registered (grafana/grafana#132528: the preinstall auto-update stopped it and never loaded it
  again): pkg/api/datasources.go checkDatasourceHealth -> plugincontext Provider.GetWithDataSource
  returns plugins.ErrPluginNotRegistered (pkg/plugins/errors.go: errutil.NotFound
  "plugin.notRegistered", "Plugin not registered"), written by response.ErrOrFallback: 404.
- service accounts (pkg/services/serviceaccounts/api): POST /api/serviceaccounts (201),
  GET /api/serviceaccounts/search, POST /api/serviceaccounts/:id/tokens ({id,name,key}).
- provisioning (pkg/services/provisioning/datasources): GF_PATHS_PROVISIONING/datasources/*.yaml|yml,
  apiVersion 1, deleteDatasources then datasources, $VAR/${VAR} expanded, readOnly = not editable,
  at most one default per org (else the server does not start).
- dashboard provisioning (pkg/services/provisioning/dashboards: config_reader.go, dashboard.go
  getFileReaders, file_reader.go, types.go createDashboardJSON): GF_PATHS_PROVISIONING/dashboards/*.yaml|yml
  providers, each loading every *.json under options.path into its folder; see provision_dashboards.
- dashboards, folders, search (pkg/api/dashboard.go GetDashboard, pkg/api/folder.go GetFolderByUID +
  pkg/api/apierrors/folder.go ToFolderErrorResponse, pkg/api/search.go + pkg/services/search/model
  Hit): GET /api/dashboards/uid/:uid, GET /api/folders/:uid, GET /api/search. Read only.
- GET /metrics (pkg/api/api.go + pkg/infra/metrics): no auth, Prometheus text format.
"""
import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import sqlite3
import ssl
import string
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

BANNER = "microops-test Grafana STAND-IN, not Grafana"
VERSION = "13.2.0"
COMMIT = "microops-standin"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UID_RE = re.compile(r"^[a-zA-Z0-9\-_]*$")  # pkg/util/shortid_generator.go
MAX_UID = 40
MAX_NAME = 190  # datasource.go maxDatasourceNameLen
MAX_URL = 255  # datasource.go maxDatasourceUrlLen
# Plugin ids and their aliases (plugin.json "aliasIDs"): postgres is stored and shown as
# grafana-postgresql-datasource (public/app/plugins/datasource/grafana-postgresql-datasource).
ALIASES = {"postgres": "grafana-postgresql-datasource"}
CORE_TYPES = {
    "prometheus": "Prometheus", "alertmanager": "Alertmanager", "elasticsearch": "Elasticsearch",
    "loki": "Loki", "grafana-postgresql-datasource": "PostgreSQL", "mysql": "MySQL", "tempo": "Tempo",
    "jaeger": "Jaeger", "zipkin": "Zipkin", "influxdb": "InfluxDB", "graphite": "Graphite",
    "grafana-testdata-datasource": "TestData",
}
ROLES = ("None", "Viewer", "Editor", "Admin")
LOCK = threading.RLock()
# pkg/services/loginattempt/loginattemptimpl/login_attempt.go: `const loginAttemptsWindow =
# time.Minute * 5`; pkg/setting/setting.go readSecuritySettings:
# brute_force_login_protection_max_attempts MustInt64(5).
LOGIN_ATTEMPTS_WINDOW = 300
LOGIN_MAX_ATTEMPTS = 5
# The [security] settings of the protection, as GF_* variables, and Grafana's defaults
# (readSecuritySettings): the stand-in implements the defaults only and refuses other values.
LOGIN_PROTECTION_DEFAULTS = {
    "GF_SECURITY_DISABLE_BRUTE_FORCE_LOGIN_PROTECTION": "false",
    "GF_SECURITY_BRUTE_FORCE_LOGIN_PROTECTION_MAX_ATTEMPTS": "5",
    "GF_SECURITY_DISABLE_USERNAME_LOGIN_PROTECTION": "false",
    "GF_SECURITY_DISABLE_IP_ADDRESS_LOGIN_PROTECTION": "true",
}


def log(message):
    print(f"grafana-standin: {message}", file=sys.stderr, flush=True)


def env_bool(name, default=False):
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


class ApiError(Exception):
    """An HTTP error with Grafana's body: {"message"} (response.Error) or, with message_id,
    the errutil shape {"message","messageId","statusCode","traceID"}."""

    def __init__(self, status, message, message_id=None, status_text=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.message_id = message_id
        self.status_text = status_text

    def body(self):
        if self.status_text:  # response.JSON(..., util.DynMap{"status": ..., "message": ...})
            return {"status": self.status_text, "message": self.message}
        if self.message_id:
            return {"message": self.message, "messageId": self.message_id, "statusCode": self.status, "traceID": ""}
        return {"message": self.message}


def hash_password(password, salt):
    """pkg/util/encoding.go EncodePassword: PBKDF2-SHA256, 10000 rounds, 50 bytes, hex."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10000, 50).hex()


def token_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def new_token():
    """pkg/components/satokengen: glsa_<32 alphanumerics>_<crc32 of them, 8 hex>."""
    alphabet = string.ascii_letters + string.digits
    secret = "".join(secrets.choice(alphabet) for index in range(32))
    return f"glsa_{secret}_{binascii.crc32(secret.encode()):08x}"


def short_uid():
    """pkg/util/shortid_generator.go GenerateShortUID: 14 chars, starts with a letter."""
    alphabet = string.ascii_lowercase + string.digits
    return secrets.choice(string.ascii_lowercase) + "".join(secrets.choice(alphabet) for index in range(13))


class Store:
    """The sqlite database on the data volume; created (with the admin user) on first start."""

    def __init__(self, path):
        self.first_start = not os.path.exists(path)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS user (id INTEGER PRIMARY KEY, login TEXT UNIQUE, email TEXT,
                salt TEXT, password TEXT, is_admin INTEGER, uid TEXT, created REAL, updated REAL);
            CREATE TABLE IF NOT EXISTS org (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
            CREATE TABLE IF NOT EXISTS org_user (org_id INTEGER, user_id INTEGER, role TEXT);
            CREATE TABLE IF NOT EXISTS data_source (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER,
                version INTEGER, uid TEXT, name TEXT, type TEXT, access TEXT, url TEXT, user TEXT,
                database TEXT, basic_auth INTEGER, basic_auth_user TEXT, with_credentials INTEGER,
                is_default INTEGER, json_data TEXT, secure_json_data TEXT, read_only INTEGER,
                api_version TEXT, created REAL, updated REAL, UNIQUE (org_id, name), UNIQUE (org_id, uid));
            CREATE TABLE IF NOT EXISTS service_account (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER,
                name TEXT, login TEXT, role TEXT, UNIQUE (org_id, login));
            CREATE TABLE IF NOT EXISTS sa_token (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER,
                sa_id INTEGER, name TEXT, hash TEXT UNIQUE, expires REAL, UNIQUE (org_id, name));
            CREATE TABLE IF NOT EXISTS folder (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER, uid TEXT,
                title TEXT, version INTEGER, created REAL, updated REAL, UNIQUE (org_id, uid));
            CREATE TABLE IF NOT EXISTS dashboard (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER, uid TEXT,
                title TEXT, slug TEXT, folder_uid TEXT, data TEXT, version INTEGER, created REAL, updated REAL,
                provisioner TEXT, external_id TEXT, checksum TEXT, UNIQUE (org_id, uid));
            CREATE TABLE IF NOT EXISTS login_attempt (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT,
                ip_address TEXT, created INTEGER);
        """)
        # uid/created/updated came with GET /api/user: add them to a database of an older stand-in.
        columns = {row["name"] for row in self.db.execute("PRAGMA table_info(user)")}
        for column in ("uid", "created", "updated"):
            if column not in columns:
                self.db.execute(f"ALTER TABLE user ADD COLUMN {column} {'TEXT' if column == 'uid' else 'REAL'}")
        for row in self.db.execute("SELECT id FROM user WHERE uid IS NULL").fetchall():
            self.db.execute("UPDATE user SET uid=?, created=0, updated=0 WHERE id=?", (short_uid(), row["id"]))

    def init_first_start(self, user, password):
        """pkg/services/user/userimpl + pkg/server: the admin user and Main Org. on an empty database."""
        salt = secrets.token_hex(5)
        with LOCK:
            self.db.execute("INSERT INTO org (id, name) VALUES (1, 'Main Org.')")
            now = time.time()
            self.db.execute("INSERT INTO user (id, login, email, salt, password, is_admin, uid, created, updated)"
                            " VALUES (1, ?, ?, ?, ?, 1, ?, ?, ?)",
                            (user, "admin@localhost", salt, hash_password(password, salt), short_uid(), now, now))
            self.db.execute("INSERT INTO org_user (org_id, user_id, role) VALUES (1, 1, 'Admin')")

    def query(self, sql, args=()):
        with LOCK:
            return self.db.execute(sql, args).fetchall()

    def one(self, sql, args=()):
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def execute(self, sql, args=()):
        with LOCK:
            return self.db.execute(sql, args)


STORE = None


# ---------------------------------------------------------------- datasources
def to_dto(row, single=True):
    """pkg/api/datasources.go convertModelToDtos (single) and the GetDataSources list item."""
    ds_type = row["type"]
    dto = {
        "id": row["id"], "uid": row["uid"], "orgId": row["org_id"], "name": row["name"], "type": ds_type,
        "typeLogoUrl": f"public/plugins/{ds_type}/img/logo.svg" if ds_type in CORE_TYPES else "public/img/icn-datasource.svg",
        "access": row["access"], "url": row["url"], "user": row["user"], "database": row["database"],
        "basicAuth": bool(row["basic_auth"]), "isDefault": bool(row["is_default"]),
        "jsonData": json.loads(row["json_data"]), "readOnly": bool(row["read_only"]),
    }
    if not single:
        dto["typeName"] = CORE_TYPES.get(ds_type, ds_type)
        return dto
    secure = json.loads(row["secure_json_data"])
    dto.update({
        "basicAuthUser": row["basic_auth_user"], "withCredentials": bool(row["with_credentials"]),
        "secureJsonFields": {key: True for key, value in secure.items() if value},
        "version": row["version"],
    })
    if row["api_version"]:
        dto["apiVersion"] = row["api_version"]
    return dto


def canonical_type(ds_type):
    return ALIASES.get(ds_type, ds_type)


def bind_command(body, update):
    """web.Bind of AddDataSourceCommand / UpdateDataSourceCommand: JSON types must match the Go
    struct, and the `binding:"Required"` fields name, type and access must be non-empty; any
    failure is 400 "bad request data"."""
    if not isinstance(body, dict):
        raise ApiError(400, "bad request data")
    strings_ = ("name", "type", "access", "url", "user", "database", "basicAuthUser", "uid", "apiVersion")
    bools = ("basicAuth", "withCredentials", "isDefault")
    cmd = {}
    for key in strings_:
        value = body.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ApiError(400, "bad request data")
        cmd[key] = value
    for key in bools:
        value = body.get(key, False)
        if value is None:
            value = False
        if not isinstance(value, bool):
            raise ApiError(400, "bad request data")
        cmd[key] = value
    json_data = body.get("jsonData")
    if json_data is not None and not isinstance(json_data, dict):
        raise ApiError(400, "bad request data")
    cmd["jsonData"] = json_data if json_data is not None else {}
    secure = body.get("secureJsonData")
    if secure is not None and (not isinstance(secure, dict) or not all(isinstance(v, str) for v in secure.values())):
        raise ApiError(400, "bad request data")
    cmd["secureJsonData"] = secure
    version = body.get("version", 0) if update else 0
    if version is None:
        version = 0
    if isinstance(version, bool) or not isinstance(version, int):
        raise ApiError(400, "bad request data")
    cmd["version"] = version
    # Stricter than Grafana >= 11, which names a nameless datasource after its type
    # (datasource.go getAvailableName): the binding:"Required" of models.go applies here.
    for key in ("name", "type", "access"):
        if not cmd[key]:
            raise ApiError(400, "bad request data")
    if cmd["access"] not in ("proxy", "direct"):
        raise ApiError(400, "bad request data")  # stricter: Grafana stores any access string
    return cmd


def validate_settings(cmd):
    """datasource.go prepareInstanceSettings global rules, then pkg/api/datasource ValidateURL."""
    if len(cmd["name"]) > MAX_NAME:
        raise ApiError(400, "Invalid datasource name.", "datasource.nameInvalid")
    if len(cmd["url"]) > MAX_URL:
        raise ApiError(400, "Invalid datasource url.", "datasource.urlInvalid")
    if cmd["url"]:
        url = cmd["url"] if "://" in cmd["url"] else "http://" + cmd["url"]
        try:
            parsed = urllib.parse.urlsplit(url)
            if parsed.port is not None and not 0 < parsed.port < 65536:
                raise ValueError(url)
            if not parsed.hostname or any(c.isspace() for c in url):
                raise ValueError(url)
        except ValueError as exc:
            raise ApiError(400, "Validation error, invalid URL") from exc


def validate_uid(uid):
    """pkg/util ValidateUID; store.go returns ErrDataSourceUIDInvalid (400)."""
    if len(uid) > MAX_UID or not UID_RE.match(uid):
        raise ApiError(400, "Invalid datasource UID.", "datasource.uidInvalid")


def clear_other_defaults(org_id, ds_id):
    """store.go updateIsDefaultFlag."""
    STORE.execute("UPDATE data_source SET is_default=0 WHERE is_default=1 AND org_id=? AND id<>?", (org_id, ds_id))


def add_datasource(org_id, cmd, read_only=False):
    """datasource.go AddDataSource + store.go AddDataSource."""
    with LOCK:
        cmd = dict(cmd, type=canonical_type(cmd["type"]))
        validate_settings(cmd)
        if not STORE.one("SELECT id FROM data_source WHERE org_id=?", (org_id,)):
            cmd["isDefault"] = True  # "Set the first created data source as default" (since 10.2.3)
        if STORE.one("SELECT id FROM data_source WHERE org_id=? AND name=?", (org_id, cmd["name"])):
            raise ApiError(409, "data source with the same name already exists")
        uid = cmd["uid"]
        if not uid:
            uid = short_uid()
        else:
            validate_uid(uid)
        if STORE.one("SELECT id FROM data_source WHERE org_id=? AND uid=?", (org_id, uid)):
            raise ApiError(409, "data source with the same uid already exists")
        now = time.time()
        cursor = STORE.execute(
            "INSERT INTO data_source (org_id, version, uid, name, type, access, url, user, database, basic_auth,"
            " basic_auth_user, with_credentials, is_default, json_data, secure_json_data, read_only, api_version,"
            " created, updated) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (org_id, uid, cmd["name"], cmd["type"], cmd["access"], cmd["url"], cmd["user"], cmd["database"],
             int(cmd["basicAuth"]), cmd["basicAuthUser"], int(cmd["withCredentials"]), int(cmd["isDefault"]),
             json.dumps(cmd["jsonData"]), json.dumps(cmd["secureJsonData"] or {}), int(read_only),
             cmd["apiVersion"], now, now))
        if cmd["isDefault"]:
            clear_other_defaults(org_id, cursor.lastrowid)
        return STORE.one("SELECT * FROM data_source WHERE id=?", (cursor.lastrowid,))


def update_datasource(org_id, row, cmd, read_only=False):
    """datasource.go UpdateDataSource + store.go UpdateDataSource: the whole datasource is
    replaced by the command; secure fields not sent are kept (fillWithSecureJSONData); with a
    version, the update applies only when stored version <= sent version and stores sent+1;
    without one (0) it always applies and the version restarts at 1."""
    with LOCK:
        cmd = dict(cmd, type=canonical_type(cmd["type"]))
        validate_settings(cmd)
        if cmd["uid"]:
            validate_uid(cmd["uid"])
        uid = cmd["uid"] or row["uid"]
        taken = STORE.one("SELECT id FROM data_source WHERE org_id=? AND name=?", (org_id, cmd["name"]))
        if cmd["name"] != row["name"] and taken:
            raise ApiError(409, "Failed to update datasource: data source with the same name already exists")
        if uid != row["uid"] and STORE.one("SELECT id FROM data_source WHERE org_id=? AND uid=?", (org_id, uid)):
            raise ApiError(409, "Failed to update datasource: data source with the same uid already exists")
        secure = json.loads(row["secure_json_data"])
        secure.update(cmd["secureJsonData"] or {})
        version = cmd["version"]
        if version != 0 and row["version"] > version:
            raise ApiError(409, "Datasource has already been updated by someone else. Please reload and try again")
        STORE.execute(
            "UPDATE data_source SET version=?, uid=?, name=?, type=?, access=?, url=?, user=?, database=?,"
            " basic_auth=?, basic_auth_user=?, with_credentials=?, is_default=?, json_data=?, secure_json_data=?,"
            " read_only=?, api_version=?, updated=? WHERE id=?",
            (version + 1, uid, cmd["name"], cmd["type"], cmd["access"], cmd["url"], cmd["user"], cmd["database"],
             int(cmd["basicAuth"]), cmd["basicAuthUser"], int(cmd["withCredentials"]), int(cmd["isDefault"]),
             json.dumps(cmd["jsonData"]), json.dumps(secure), int(read_only), cmd["apiVersion"], time.time(),
             row["id"]))
        if cmd["isDefault"]:
            clear_other_defaults(org_id, row["id"])
        return STORE.one("SELECT * FROM data_source WHERE id=?", (row["id"],))


def prometheus_health(row):
    """pkg/promlib/healthcheck.go: instant query 1+1 at t=4s; OK only on a success answer."""
    json_data = json.loads(row["json_data"])
    secure = json.loads(row["secure_json_data"])
    method = str(json_data.get("httpMethod") or "POST").upper()
    base = row["url"] if "://" in row["url"] else "http://" + row["url"]
    params = urllib.parse.urlencode({"query": "1+1", "time": "4"})
    url = base.rstrip("/") + "/api/v1/query"
    if method == "GET":
        request = urllib.request.Request(url + "?" + params, method="GET")
    else:
        request = urllib.request.Request(url, data=params.encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    if row["basic_auth"]:
        creds = f"{row['basic_auth_user']}:{secure.get('basicAuthPassword', '')}"
        request.add_header("Authorization", "Basic " + base64.b64encode(creds.encode()).decode())
    timeout = json_data.get("timeout") or 30
    suffix = " - There was an error returned querying the Prometheus API."
    try:
        with urllib.request.urlopen(request, timeout=float(timeout)) as response:
            answer = json.loads(response.read().decode())
    except urllib.error.HTTPError as exc:
        return 400, {"status": "ERROR", "message": f"bad_response: {exc.code} {exc.reason}" + suffix}
    except (OSError, ValueError) as exc:
        return 400, {"status": "ERROR", "message": f"{exc}" + suffix}
    if not isinstance(answer, dict) or answer.get("status") != "success":
        return 400, {"status": "ERROR", "message": "unexpected response from Prometheus" + suffix}
    return 200, {"status": "OK", "message": "Successfully queried the Prometheus API."}


def elasticsearch_health(row):
    """pkg/tsdb/elasticsearch/healthcheck.go CheckHealth: GET <url>/_cluster/health?wait_for_status=yellow
    through the datasource's HTTP client (basic auth when basicAuth is set; TLS trusting
    secureJsonData.tlsCACert when jsonData.tlsAuthWithCACert, jsonData.serverName, tlsSkipVerify).
    408 -> ERROR "Elasticsearch cluster is not healthy"; any other answer whose JSON body has
    status "red" -> the same ERROR; any other JSON answer (a 401 error body included: its "status"
    is 401, not "red") -> OK "Elasticsearch cluster is healthy". A request that fails (TLS, connection)
    or a body that is not JSON returns an error with the result: pkg/api/datasources.go
    checkDatasourceHealth answers it as 500 "Plugin health check failed" (plugin.healthCheckFailed)."""
    json_data = json.loads(row["json_data"])
    secure = json.loads(row["secure_json_data"])
    base = row["url"] if "://" in row["url"] else "http://" + row["url"]
    url = base.rstrip("/") + "/_cluster/health?wait_for_status=yellow"
    request = urllib.request.Request(url, method="GET")
    if row["basic_auth"]:
        creds = f"{row['basic_auth_user']}:{secure.get('basicAuthPassword', '')}"
        request.add_header("Authorization", "Basic " + base64.b64encode(creds.encode()).decode())
    context = None
    if base.startswith("https://"):
        if json_data.get("tlsSkipVerify"):
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif json_data.get("tlsAuthWithCACert"):
            context = ssl.create_default_context(cadata=secure.get("tlsCACert", ""))
            if json_data.get("serverName"):
                context.check_hostname = False  # checked below against serverName
        else:
            context = ssl.create_default_context()
    failed = ApiError(500, "Plugin health check failed", "plugin.healthCheckFailed")
    try:
        with urllib.request.urlopen(request, timeout=float(json_data.get("timeout") or 30), context=context) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (OSError, ssl.SSLError, ValueError) as exc:
        log(f"Failed to Do request error={exc} url={url}")
        raise failed from None
    if status == 408:
        return 400, {"status": "ERROR", "message": "Elasticsearch cluster is not healthy"}
    try:
        answer = json.loads(raw)
    except ValueError:
        log("Error during json unmarshal of the body")
        raise failed from None
    if isinstance(answer, dict) and answer.get("status") == "red":
        return 400, {"status": "ERROR", "message": "Elasticsearch cluster is not healthy"}
    return 200, {"status": "OK", "message": "Elasticsearch cluster is healthy"}


# ---------------------------------------------------------------- provisioning
ENV_RE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def expand(value):
    """pkg/services/provisioning/values: $VAR and ${VAR} from the environment."""
    if isinstance(value, str):
        return ENV_RE.sub(lambda m: os.environ.get(m.group(1) or m.group(2), ""), value)
    if isinstance(value, list):
        return [expand(v) for v in value]
    if isinstance(value, dict):
        return {k: expand(v) for k, v in value.items()}
    return value


def provisioning_files(directory, on_parse_error):
    """(name, path, parsed YAML) of each *.yaml and *.yml file of a provisioning directory, in
    name order (the config readers of pkg/services/provisioning/{datasources,dashboards});
    nothing when the directory is missing. on_parse_error(name, path, exc) must not return."""
    if not os.path.isdir(directory):
        return
    for name in sorted(os.listdir(directory)):
        if not name.endswith((".yaml", ".yml")):
            continue
        path = os.path.join(directory, name)
        with open(path, encoding="utf-8") as handle:
            try:
                config = yaml.safe_load(handle)
            except yaml.YAMLError as exc:
                on_parse_error(name, path, exc)
        yield name, path, config


def provision(directory):
    """pkg/services/provisioning/datasources config_reader.go + datasources.go."""
    configs = []
    for _name, path, config in provisioning_files(
            directory, lambda name, path, exc: fail(f"Failed to provision data sources: could not parse {path}: {exc}")):
        config = config or {}
        if config.get("apiVersion", 0) != 1:
            fail(f"Failed to provision data sources: {path}: only apiVersion 1 is supported by the stand-in")
        configs.append((path, config))
    defaults = {}
    for path, config in configs:
        for ds in config.get("datasources") or []:
            org = int(ds.get("orgId") or 1)
            if ds.get("isDefault"):
                defaults[org] = defaults.get(org, 0) + 1
                if defaults[org] > 1:
                    fail("Failed to provision data sources: datasource.yaml config is invalid. "
                         "Only one datasource per organization can be marked as default")
            if not ds.get("name"):
                fail(f"Failed to provision data sources: {path}: datasource name is required")
    for path, config in configs:
        for item in config.get("deleteDatasources") or []:
            STORE.execute("DELETE FROM data_source WHERE org_id=? AND name=?", (int(item.get("orgId") or 1), item.get("name")))
        for ds in config.get("datasources") or []:
            ds = expand(ds)
            org = int(ds.get("orgId") or 1)
            cmd = {"name": ds["name"], "type": ds.get("type", ""), "access": ds.get("access") or "proxy",
                   "url": ds.get("url", ""), "user": ds.get("user", ""), "database": ds.get("database", ""),
                   "basicAuth": bool(ds.get("basicAuth")), "basicAuthUser": ds.get("basicAuthUser", ""),
                   "withCredentials": bool(ds.get("withCredentials")), "isDefault": bool(ds.get("isDefault")),
                   "jsonData": ds.get("jsonData") or {}, "secureJsonData": {k: str(v) for k, v in (ds.get("secureJsonData") or {}).items()},
                   "uid": ds.get("uid", ""), "apiVersion": "", "version": int(ds.get("version") or 0)}
            read_only = not ds.get("editable", False)
            try:
                existing = STORE.one("SELECT * FROM data_source WHERE org_id=? AND name=?", (org, cmd["name"]))
                if existing:
                    cmd["version"] = max(cmd["version"], existing["version"])
                    update_datasource(org, existing, cmd, read_only=read_only)
                else:
                    add_datasource(org, cmd, read_only=read_only)
            except ApiError as exc:
                fail(f"Failed to provision data sources: {path}: {cmd['name']}: {exc.message}")
            log(f"provisioned datasource {cmd['name']!r} (org {org}) from {path}")


# ---------------------------------------------------------------- dashboard provisioning
def slugify(title):
    """pkg/infra/slugify Slugify (ASCII subset): lower case, runs of other characters become '-'."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def dash_fail(message):
    """pkg/services/provisioning/provisioning.go: ProvisionDashboards' error is logged as
    "Failed to provision dashboard" and returned, so the server does not start (only
    dashboards.ErrGetOrCreateFolder is tolerated there; the stand-in fails on that too: stricter)."""
    fail(f"Failed to provision dashboard: {message}")


DASHBOARD_PROVIDERS = {}  # provider name -> config, for meta.provisioned (allowUiUpdates)


def read_dashboard_providers(directory):
    """config_reader.go readConfig/parseConfigs + dashboard.go getFileReaders + file_reader.go
    NewDashboardFileReader. Returns the provider configs; any error stops the server."""
    providers = []
    for name, _path, config in provisioning_files(
            directory, lambda name, path, exc: dash_fail(f"could not parse provisioning config file: {name} error: {exc}")):
        if config is None:
            continue  # parseConfigs: an empty file yields no providers
        # Stricter: Grafana reads apiVersion 0 (missing) as the deprecated v0 list format and any
        # apiVersion > 0 as v1; the stand-in accepts only `apiVersion: 1` with a `providers` list.
        if not isinstance(config, dict) or config.get("apiVersion") != 1:
            dash_fail(f"could not parse provisioning config file: {name} error: only apiVersion 1 is supported by the stand-in")
        items = config.get("providers") or []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            dash_fail(f"could not parse provisioning config file: {name} error: providers must be a list of mappings")
        for item in items:
            provider = dict(item)
            provider["orgId"] = provider.get("orgId") or 1  # readConfig: OrgID 0 becomes 1
            if not STORE.one("SELECT id FROM org WHERE id=?", (provider["orgId"],)):
                dash_fail(f"failed to provision dashboards with {provider.get('name', '')!r} reader: organization not found")
            provider["type"] = provider.get("type") or "file"  # readConfig: empty type becomes "file"
            if provider["type"] != "file":
                dash_fail(f"type {provider['type']} is not supported")  # dashboard.go getFileReaders
            options = provider.get("options") or {}
            dash_path = options.get("path", options.get("folder"))  # "folder": deprecated alias of path
            if not isinstance(dash_path, str):
                dash_fail(f"failed to create file reader for config {provider.get('name', '')}: "
                          "failed to load dashboards, path param is not a string")
            if options.get("foldersFromFilesStructure") is True and provider.get("folder") and provider.get("folderUid"):
                dash_fail(f"failed to create file reader for config {provider.get('name', '')}: "
                          "'folder' and 'folderUID' should be empty using 'foldersFromFilesStructure' option")
            # Stricter: Grafana logs "Cannot read directory" and fails this provider's disk walk.
            if not os.path.isdir(dash_path):
                dash_fail(f"provider {provider.get('name', '')!r}: Cannot read directory {dash_path}")
            provider["path"] = os.path.realpath(dash_path)  # file_reader.go resolvedPath
            providers.append(provider)
    seen = {}
    for provider in providers:  # readConfig logs "the same folder UID is used more than once"; stricter: fail
        folder_uid = provider.get("folderUid")
        if folder_uid:
            seen[folder_uid] = seen.get(folder_uid, 0) + 1
            if seen[folder_uid] > 1:
                dash_fail(f"the same folder UID is used more than once folderUid={folder_uid}")
    return providers


def get_or_create_folder(org, folder_uid, title):
    """file_reader.go getOrCreateFolder: by folderUid when given, else by title; created when missing;
    uid "general" refused (dashboards.ErrFolderInvalidUID)."""
    if not title:
        return ""  # ErrFolderNameMissing: the dashboards go to the General (root) level
    if folder_uid:
        row = STORE.one("SELECT * FROM folder WHERE org_id=? AND uid=?", (org, folder_uid))
    else:
        row = STORE.one("SELECT * FROM folder WHERE org_id=? AND title=?", (org, title))
    if folder_uid == "general" or (row and row["uid"] == "general"):
        dash_fail("failed to get or create folder: Invalid folder UID")
    if row:
        return row["uid"]
    uid = folder_uid or short_uid()
    if len(uid) > MAX_UID or not UID_RE.match(uid):
        dash_fail(f"failed to get or create folder with name {title!r}: uid contains illegal characters")
    now = time.time()
    STORE.execute("INSERT INTO folder (org_id, uid, title, version, created, updated) VALUES (?, ?, ?, 1, ?, ?)",
                  (org, uid, title, now, now))
    log(f"created folder {title!r} uid={uid} (org {org})")
    return uid


def provision_dashboards(directory):
    """file_reader.go walkDisk: every *.json under the provider's path (directories starting with
    '.' skipped); a file that is not JSON or whose dashboard has no title is logged ("failed to load
    dashboard from") and skipped, as Grafana does; the others are saved with their uid (one is
    generated when missing: the dashboard service's GenerateShortUID), an `id` in the file is
    dropped, a changed file (checksum) bumps the version, and dashboards of the provider whose file
    is gone are deleted (unprovisioned with disableDeletion). Loaded once at start: the stand-in
    does not poll (updateIntervalSeconds)."""
    providers = read_dashboard_providers(directory)
    uids = {}
    for provider in providers:
        org, name, root = provider["orgId"], provider.get("name", ""), provider["path"]
        from_files = (provider.get("options") or {}).get("foldersFromFilesStructure") is True
        files = []
        for current, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files += [os.path.join(current, n) for n in sorted(names) if n.endswith(".json")]
        found = set()
        for path in files:
            with open(path, "rb") as handle:
                raw = handle.read()
            try:
                data = json.loads(raw)
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                log(f"failed to load dashboard from  file={path} error={exc}")
                continue
            title = data.get("title")
            if not isinstance(title, str) or not title:
                log(f"failed to load dashboard from  file={path} error=Dashboard title cannot be empty")
                continue
            uid = data.get("uid") or ""
            if not isinstance(uid, str) or len(uid) > MAX_UID or not UID_RE.match(uid):
                log(f"failed to save dashboard file={path} error=uid contains illegal characters")
                continue
            if from_files:
                parent = os.path.dirname(path)
                folder_uid = get_or_create_folder(org, "", os.path.basename(parent) if parent != root else "")
            else:
                folder_uid = get_or_create_folder(org, provider.get("folderUid") or "", provider.get("folder") or "")
            checksum = hashlib.md5(raw, usedforsecurity=False).hexdigest()
            existing = STORE.one("SELECT * FROM dashboard WHERE org_id=? AND provisioner=? AND external_id=?", (org, name, path))
            uid = uid or (existing["uid"] if existing else short_uid())
            key = (org, uid)
            if key in uids:
                # file_reader.go usageTracker logs "the same 'uid' is used more than once"; stricter: fail.
                dash_fail(f"the same 'uid' is used more than once uid={uid} provider={name} files={uids[key]},{path}")
            uids[key] = path
            found.add(path)
            data.pop("id", None)
            data["uid"] = uid
            now = time.time()
            same_uid = STORE.one("SELECT * FROM dashboard WHERE org_id=? AND uid=?", (org, uid))
            target = existing or same_uid  # createDashboardJSON: SaveDashboardDTO.Overwrite = true
            if existing and same_uid and existing["id"] != same_uid["id"]:
                STORE.execute("DELETE FROM dashboard WHERE id=?", (existing["id"],))  # the file's uid changed
                target = same_uid
            if target:
                unchanged = target["checksum"] == checksum and target["folder_uid"] == folder_uid
                version = target["version"] if unchanged else target["version"] + 1
                STORE.execute("UPDATE dashboard SET uid=?, title=?, slug=?, folder_uid=?, data=?, version=?, updated=?,"
                              " provisioner=?, external_id=?, checksum=? WHERE id=?",
                              (uid, title, slugify(title), folder_uid, json.dumps(data), version,
                               target["updated"] if unchanged else now, name, path, checksum, target["id"]))
            else:
                STORE.execute("INSERT INTO dashboard (org_id, uid, title, slug, folder_uid, data, version, created, updated,"
                              " provisioner, external_id, checksum) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
                              (org, uid, title, slugify(title), folder_uid, json.dumps(data), now, now, name, path, checksum))
            log(f"provisioned dashboard {title!r} uid={uid} from {path} (provider {name!r})")
        for row in STORE.query("SELECT * FROM dashboard WHERE org_id=? AND provisioner=?", (org, name)):
            if row["external_id"] not in found:
                if provider.get("disableDeletion"):
                    STORE.execute("UPDATE dashboard SET provisioner=NULL, external_id=NULL WHERE id=?", (row["id"],))
                else:
                    STORE.execute("DELETE FROM dashboard WHERE id=?", (row["id"],))
    DASHBOARD_PROVIDERS.update({p.get("name", ""): p for p in providers})


def iso_time(stamp):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def split_param(params, key):
    """A query parameter given repeated or comma separated (pkg/api/search.go folderUIDs)."""
    return {v for value in params.get(key, []) for v in value.split(",") if v}


def folder_url(uid, title):
    return f"/dashboards/f/{uid}/{slugify(title)}"


def get_dashboard(ident, uid):
    """pkg/api/dashboard.go GetDashboard: {"dashboard": data with id/uid/version, "meta": ...};
    meta.provisioned is true only when the provider does not set allowUiUpdates;
    missing: 404 "Dashboard not found" (getDashboardHelper)."""
    row = STORE.one("SELECT * FROM dashboard WHERE org_id=? AND uid=?", (ident["org"], uid))
    if not row:
        raise ApiError(404, "Dashboard not found")
    data = json.loads(row["data"])
    data.update({"id": row["id"], "uid": row["uid"], "version": row["version"]})  # "version" synced with the db
    editor = ident["role"] in ("Editor", "Admin")
    created, updated = iso_time(row["created"]), iso_time(row["updated"])
    meta = {"type": "db", "canSave": editor, "canEdit": editor, "canAdmin": ident["role"] == "Admin",
            "canStar": ident["kind"] == "user", "canDelete": editor, "slug": row["slug"],
            "url": f"/d/{row['uid']}/{row['slug']}", "expires": "0001-01-01T00:00:00Z", "created": created,
            "updated": updated, "updatedBy": "Anonymous", "createdBy": "Anonymous", "version": row["version"],
            "hasAcl": False, "isFolder": False, "folderId": 0, "folderUid": "", "folderTitle": "General",
            "folderUrl": "", "provisioned": False, "provisionedExternalId": "", "isStarred": False}
    if row["folder_uid"]:
        folder = STORE.one("SELECT * FROM folder WHERE org_id=? AND uid=?", (ident["org"], row["folder_uid"]))
        if not folder:
            raise ApiError(404, "Folder not found")
        meta.update({"folderId": folder["id"], "folderUid": folder["uid"], "folderTitle": folder["title"],
                     "folderUrl": folder_url(folder["uid"], folder["title"])})
    if row["provisioner"] is not None:
        provider = DASHBOARD_PROVIDERS.get(row["provisioner"], {})
        meta["provisioned"] = not provider.get("allowUiUpdates", False)
        meta["provisionedExternalId"] = os.path.relpath(row["external_id"], provider.get("path", "/"))
    return 200, {"dashboard": data, "meta": meta}


def get_folder(ident, uid):
    """pkg/api/folder.go GetFolderByUID (dtos.Folder); missing: pkg/api/apierrors/folder.go
    ToFolderErrorResponse 404 {"status":"not-found","message":"folder not found"}
    (dashboards.ErrFolderNotFound = errors.New("folder not found"), pkg/services/dashboards/errors.go)."""
    row = STORE.one("SELECT * FROM folder WHERE org_id=? AND uid=?", (ident["org"], uid))
    if not row:
        raise ApiError(404, "folder not found", status_text="not-found")
    editor = ident["role"] in ("Editor", "Admin")
    return 200, {"id": row["id"], "uid": row["uid"], "orgId": row["org_id"], "title": row["title"],
                 "url": folder_url(row["uid"], row["title"]), "hasAcl": False, "canSave": editor, "canEdit": editor,
                 "canAdmin": ident["role"] == "Admin", "canDelete": editor, "createdBy": "Anonymous",
                 "created": iso_time(row["created"]), "updatedBy": "Anonymous", "updated": iso_time(row["updated"]),
                 "version": row["version"]}


def search(ident, query_string):
    """pkg/api/search.go Search + pkg/services/search/model.Hit: query (title substring), type
    (dash-db | dash-folder), folderUIDs and dashboardUIDs (repeated or comma separated; "general"
    is the root level), tag; sorted by title; folder fields only for dashboards in a folder."""
    params = urllib.parse.parse_qs(query_string)
    text = (params.get("query") or [""])[0].lower()
    kind = (params.get("type") or [""])[0]
    folder_uids, dash_uids = split_param(params, "folderUIDs"), split_param(params, "dashboardUIDs")
    tags = set(params.get("tag", []))
    limit = int((params.get("limit") or ["1000"])[0] or 1000)
    hits = []
    org = ident["org"]
    if kind in ("", "dash-folder") and not dash_uids and not tags:
        for row in STORE.query("SELECT * FROM folder WHERE org_id=?", (org,)):
            if text in row["title"].lower() and (not folder_uids or "general" in folder_uids):
                hits.append({"id": row["id"], "uid": row["uid"], "orgId": org, "title": row["title"],
                             "uri": f"db/{slugify(row['title'])}", "url": folder_url(row["uid"], row["title"]),
                             "slug": "", "type": "dash-folder", "tags": [], "isStarred": False, "sortMeta": 0})
    if kind in ("", "dash-db"):
        folders = {r["uid"]: r for r in STORE.query("SELECT * FROM folder WHERE org_id=?", (org,))}
        for row in STORE.query("SELECT * FROM dashboard WHERE org_id=?", (org,)):
            data = json.loads(row["data"])
            dash_tags = [t for t in data.get("tags") or [] if isinstance(t, str)]
            if text not in row["title"].lower() or (dash_uids and row["uid"] not in dash_uids):
                continue
            if folder_uids and (row["folder_uid"] or "general") not in folder_uids:
                continue
            if tags and not tags.issubset(dash_tags):
                continue
            hit = {"id": row["id"], "uid": row["uid"], "orgId": org, "title": row["title"], "uri": f"db/{row['slug']}",
                   "url": f"/d/{row['uid']}/{row['slug']}", "slug": "", "type": "dash-db", "tags": sorted(dash_tags),
                   "isStarred": False, "sortMeta": 0}
            folder = folders.get(row["folder_uid"])
            if folder:
                hit.update({"folderId": folder["id"], "folderUid": folder["uid"], "folderTitle": folder["title"],
                            "folderUrl": folder_url(folder["uid"], folder["title"])})
            hits.append(hit)
    hits.sort(key=lambda h: (h["type"] != "dash-folder", h["title"].lower()))
    return 200, hits[:limit]


def fail(message):
    log(message)
    sys.exit(1)


# ---------------------------------------------------------------- HTTP
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Grafana-standin"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        log(f"{self.address_string()} {format % args}")

    def send(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError as exc:
            raise ApiError(400, "bad request data") from exc

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path == "/api/health" and method == "GET":
                self.send(200, {"commit": COMMIT, "database": "ok", "version": VERSION})
                return
            if path == "/metrics" and method == "GET":
                self.send(200, metrics().encode(), METRICS_TYPE)
                return
            if not path.startswith("/api/"):
                raise ApiError(404, "Not found")
            ident = self.authenticate()
            status, body = route(method, path, ident, self)
            self.send(status, body)
        except ApiError as exc:
            self.send(exc.status, exc.body())

    def authenticate(self):
        """Returns {"org": id, "role": role, "kind": "user"|"token"|"anonymous"}, and "user_id" for a user.
        Read from the database on every request (no cache): a password set by `grafana cli` in
        another process applies to the next request."""
        header_org = self.headers.get("X-Grafana-Org-Id")
        requested = None
        if header_org:
            try:
                requested = int(header_org)
            except ValueError as exc:
                raise ApiError(400, "bad request data: invalid X-Grafana-Org-Id") from exc
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return token_identity(auth[len("Bearer "):].strip(), requested)
        if auth.startswith("Basic "):
            try:
                login, sep, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError) as exc:
                raise ApiError(401, "Invalid username or password", "password-auth.failed") from exc
            if not sep:
                raise ApiError(401, "Invalid username or password", "password-auth.failed")
            if login == "api_key":
                return token_identity(password, requested)
            user = password_identity(login, password, self.client_address[0])
            org = requested or 1
            member = STORE.one("SELECT role FROM org_user WHERE org_id=? AND user_id=?", (org, user["id"]))
            if not member:
                # Stand-in choice (not verified in Grafana's source): a user is refused in an org
                # they do not belong to.
                raise ApiError(401, "Unauthorized")
            return {"org": org, "role": member["role"], "kind": "user", "user_id": user["id"]}
        if env_bool("GF_AUTH_ANONYMOUS_ENABLED"):
            return {"org": 1, "role": os.environ.get("GF_AUTH_ANONYMOUS_ORG_ROLE", "Viewer"), "kind": "anonymous"}
        raise ApiError(401, "Unauthorized")


def login_attempts_window():
    """The window of the brute-force protection: Grafana's 5 minutes, or the test-only
    MICROOPS_STANDIN_LOGIN_ATTEMPTS_WINDOW_SECONDS (checked at start, see check_settings)."""
    raw = os.environ.get("MICROOPS_STANDIN_LOGIN_ATTEMPTS_WINDOW_SECONDS", "")
    return int(raw) if raw else LOGIN_ATTEMPTS_WINDOW


def password_identity(login, password, address):
    """pkg/services/authn/clients/password.go Password.AuthenticatePassword, as the Basic client
    (basic.go) calls it for every API request with basic auth:
    1. loginAttempts.Validate(username): at least LOGIN_MAX_ATTEMPTS attempts recorded for the
       lower-cased username with `created >= now - window` (Unix seconds, store.go
       GetUserLoginAttemptCount) refuse the request before the password is looked at, so the right
       password is refused too, with the answer a wrong password gets (errPasswordAuthFailed: 401,
       "Invalid username or password", password-auth.failed); only the log says why. Nothing is
       recorded for a refused request. The IP address check that follows (ValidateIPAddress) is off
       by default (disable_ip_address_login_protection = true) and not implemented.
    2. An empty password: 401 errPasswordAuthFailed, not recorded.
    3. Unknown user or wrong password: loginAttempts.Add(username, address) records an attempt,
       then 401 errPasswordAuthFailed.
    A success does not clear the attempts (no Reset on this path); they age out of the window.
    Attempts are rows of the database (login_attempt), so they outlive a restart, and `grafana
    cli admin reset-admin-password` does not clear them (it only changes the password)."""
    username = login.lower()  # strings.ToLower in Validate and Add
    now = int(time.time())
    with LOCK:
        count = STORE.one("SELECT COUNT(*) AS n FROM login_attempt WHERE username=? AND created>=?",
                          (username, now - login_attempts_window()))["n"]
        if count >= LOGIN_MAX_ATTEMPTS:
            log(f"Failed to authenticate request client=auth.client.basic error=\"[password-auth.failed] too many "
                f"consecutive incorrect login attempts for user - login for user temporarily blocked\" username={login}")
            raise ApiError(401, "Invalid username or password", "password-auth.failed")
        if not password:
            raise ApiError(401, "Invalid username or password", "password-auth.failed")
        user = STORE.one("SELECT * FROM user WHERE login=? OR email=?", (login, login))
        if not user or not hmac.compare_digest(user["password"], hash_password(password, user["salt"])):
            STORE.execute("INSERT INTO login_attempt (username, ip_address, created) VALUES (?, ?, ?)",
                          (username, address, now))
            raise ApiError(401, "Invalid username or password", "password-auth.failed")
    return user


def unregistered_plugins():
    """Plugin ids named in the test-only MICROOPS_STANDIN_UNREGISTERED_PLUGINS (comma separated,
    aliases such as postgres allowed): their datasources' health check fails as in Grafana when the
    plugin is not registered."""
    names = os.environ.get("MICROOPS_STANDIN_UNREGISTERED_PLUGINS", "")
    return {canonical_type(name.strip()) for name in names.split(",") if name.strip()}


def check_settings():
    """Settings the server refuses to start with (fail): the brute-force protection settings other
    than Grafana's defaults, and malformed test-only variables."""
    for name, default in LOGIN_PROTECTION_DEFAULTS.items():
        value = os.environ.get(name)
        if value is not None and value.strip().lower() != default:
            fail(f"{name}={value}: the stand-in implements Grafana's default ({default}) only")
    raw = os.environ.get("MICROOPS_STANDIN_LOGIN_ATTEMPTS_WINDOW_SECONDS", "")
    if raw and not (raw.isdigit() and 0 < int(raw) <= LOGIN_ATTEMPTS_WINDOW):
        fail(f"MICROOPS_STANDIN_LOGIN_ATTEMPTS_WINDOW_SECONDS must be whole seconds from 1 to {LOGIN_ATTEMPTS_WINDOW}, "
             f"got {raw!r}")
    window = login_attempts_window()
    if window != LOGIN_ATTEMPTS_WINDOW:
        log(f"login attempts window shortened to {window} s (MICROOPS_STANDIN_LOGIN_ATTEMPTS_WINDOW_SECONDS; "
            f"Grafana: {LOGIN_ATTEMPTS_WINDOW} s)")
    if unregistered_plugins():
        log(f"plugins not registered (MICROOPS_STANDIN_UNREGISTERED_PLUGINS): {', '.join(sorted(unregistered_plugins()))}")


def token_identity(key, requested):
    """pkg/services/authn/clients/api_key.go Authenticate + validateApiKey."""
    token = STORE.one("SELECT * FROM sa_token WHERE hash=?", (token_hash(key),))
    if not token:
        raise ApiError(401, "Invalid API key", "api-key.invalid")
    if token["expires"] and token["expires"] <= time.time():
        raise ApiError(401, "Expired API key", "api-key.expired")
    org = requested or token["org_id"]
    if org != token["org_id"]:
        raise ApiError(401, "API key does not belong to the requested organization", "api-key.organization-mismatch")
    account = STORE.one("SELECT * FROM service_account WHERE id=?", (token["sa_id"],))
    return {"org": token["org_id"], "role": account["role"], "kind": "token"}


def require_admin(ident, action):
    """Org Admin is needed for datasources and service accounts (RBAC fixed roles of Grafana OSS);
    stricter for Editor/Viewer reads, which the stand-in refuses too."""
    if ident["role"] != "Admin":
        raise ApiError(403, f"You'll need additional permissions to perform this action. Permissions needed: {action}")


def route(method, path, ident, handler):  # pylint: disable=too-many-return-statements,too-many-branches
    parts = [urllib.parse.unquote(p) for p in path.split("/")[2:]]
    org = ident["org"]
    if parts[0] == "datasources":
        if parts == ["datasources"] and method == "GET":
            require_admin(ident, "datasources:read")
            rows = STORE.query("SELECT * FROM data_source WHERE org_id=?", (org,))
            return 200, sorted((to_dto(r, single=False) for r in rows), key=lambda d: d["name"].lower())
        if parts == ["datasources"] and method == "POST":
            require_admin(ident, "datasources:create")
            row = add_datasource(org, bind_command(handler.body(), update=False))
            return 200, {"message": "Datasource added", "id": row["id"], "name": row["name"], "datasource": to_dto(row)}
        if len(parts) == 3 and parts[1] == "name" and method == "GET":
            require_admin(ident, "datasources:read")
            row = STORE.one("SELECT * FROM data_source WHERE org_id=? AND name=?", (org, parts[2]))
            if not row:
                raise ApiError(404, "Data source not found")
            return 200, to_dto(row)
        if len(parts) == 4 and parts[1] == "uid" and parts[3] == "health" and method == "GET":
            require_admin(ident, "datasources:query")
            if len(parts[2]) > MAX_UID or not UID_RE.match(parts[2]):
                raise ApiError(400, "UID is invalid")
            row = STORE.one("SELECT * FROM data_source WHERE org_id=? AND uid=?", (org, parts[2]))
            if not row:
                raise ApiError(500, "Unable to load datasource metadata")  # DataSourceCache: not-found is not mapped
            if row["type"] in unregistered_plugins():
                # checkDatasourceHealth: response.ErrOrFallback(500, "Unable to get plugin context", err)
                # with err = plugins.ErrPluginNotRegistered, an errutil 404.
                log(f"Plugin not registered pluginId={row['type']} (MICROOPS_STANDIN_UNREGISTERED_PLUGINS)")
                raise ApiError(404, "Plugin not registered", "plugin.notRegistered")
            if row["type"] == "prometheus":
                return prometheus_health(row)
            if row["type"] == "elasticsearch":
                return elasticsearch_health(row)
            raise ApiError(404, "Method not implemented", "plugin.notImplemented")
        if len(parts) == 3 and parts[1] == "uid":
            return datasource_by_uid(method, parts[2], ident, handler)
    if parts[0] == "serviceaccounts":
        return service_accounts(method, parts, ident, handler)
    if parts == ["user"] and method == "GET":
        return signed_in_user(ident)
    if method == "GET" and ident["role"] in ROLES[1:]:  # dashboards:read / folders:read (Viewer and up)
        if len(parts) == 3 and parts[:2] == ["dashboards", "uid"]:
            return get_dashboard(ident, parts[2])
        if len(parts) == 2 and parts[0] == "folders":
            return get_folder(ident, parts[1])
        if parts == ["search"]:
            return search(ident, urllib.parse.urlsplit(handler.path).query)
    raise ApiError(404, "Not found")


def datasource_by_uid(method, uid, ident, handler):
    org = ident["org"]
    row = STORE.one("SELECT * FROM data_source WHERE org_id=? AND uid=?", (org, uid))
    if method == "GET":
        require_admin(ident, "datasources:read")
        if not row:
            raise ApiError(404, "Data source not found")
        return 200, to_dto(row)
    if method == "PUT":
        require_admin(ident, "datasources:write")
        cmd = bind_command(handler.body(), update=True)
        if not row:
            raise ApiError(404, "Data source not found")
        if row["read_only"]:
            raise ApiError(403, "Cannot update read-only data source")
        row = update_datasource(org, row, cmd)
        return 200, {"message": "Datasource updated", "id": row["id"], "name": row["name"], "datasource": to_dto(row)}
    if method == "DELETE":
        require_admin(ident, "datasources:delete")
        if not row:
            raise ApiError(404, "Data source not found")
        if row["read_only"]:
            raise ApiError(403, "Cannot delete read-only data source")
        STORE.execute("DELETE FROM data_source WHERE id=?", (row["id"],))
        return 200, {"message": "Data source deleted", "id": row["id"]}
    raise ApiError(404, "Not found")


def signed_in_user(ident):
    """pkg/api/user.go GetSignedInUser -> getUserUserProfile: 200 with the user's
    user.UserProfileDTO (pkg/services/user/model.go); route group reqSignedInNoAnonymous
    (pkg/api/api.go), so anonymous gets 401. orgId is the user's current org (only org 1 here);
    avatarUrl is dtos.GetGravatarUrl (md5 of the trimmed, lower-cased email); authLabels [] and
    isExternal false (no auth_module: the stand-in has neither LDAP nor OAuth)."""
    if ident["kind"] == "anonymous":
        raise ApiError(401, "Unauthorized")  # reqSignedInNoAnonymous
    if ident["kind"] != "user":  # stricter: Grafana answers a service-account token with the account's profile
        raise ApiError(404, "Not found")
    row = STORE.one("SELECT * FROM user WHERE id=?", (ident["user_id"],))
    if not row:
        raise ApiError(404, "user not found")  # user.ErrUserNotFound
    email = row["email"] or ""
    return 200, {
        "id": row["id"], "uid": row["uid"], "email": email, "name": "", "login": row["login"], "theme": "",
        "orgId": 1, "isGrafanaAdmin": bool(row["is_admin"]), "isDisabled": False, "isExternal": False,
        "isExternallySynced": False, "isGrafanaAdminExternallySynced": False, "authLabels": [],
        "updatedAt": iso_time(row["updated"]), "createdAt": iso_time(row["created"]),
        "avatarUrl": "/avatar/" + hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest(),
    }


def sa_dto(row):
    tokens = STORE.one("SELECT COUNT(*) AS n FROM sa_token WHERE sa_id=?", (row["id"],))["n"]
    return {"id": row["id"], "name": row["name"], "login": row["login"], "orgId": row["org_id"],
            "isDisabled": False, "role": row["role"], "tokens": tokens,
            "avatarUrl": "/avatar/" + hashlib.md5(row["name"].encode(), usedforsecurity=False).hexdigest()}


def service_accounts(method, parts, ident, handler):
    """pkg/services/serviceaccounts/api/api.go and token.go."""
    org = ident["org"]
    require_admin(ident, "serviceaccounts:write" if method == "POST" else "serviceaccounts:read")
    if parts == ["serviceaccounts"] and method == "POST":
        body = handler.body()
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
            raise ApiError(400, "Bad request data")
        role = body.get("role") or "Viewer"
        if role not in ROLES:
            raise ApiError(400, "invalid role value: " + str(role))
        login = "sa-" + str(org) + "-" + re.sub(r"[^a-z0-9]+", "-", body["name"].lower()).strip("-")
        with LOCK:
            if STORE.one("SELECT id FROM service_account WHERE org_id=? AND (login=? OR name=?)", (org, login, body["name"])):
                raise ApiError(409, "service account already exists", "serviceaccounts.ErrAlreadyExists")
            cursor = STORE.execute("INSERT INTO service_account (org_id, name, login, role) VALUES (?, ?, ?, ?)",
                                   (org, body["name"], login, role))
            return 201, sa_dto(STORE.one("SELECT * FROM service_account WHERE id=?", (cursor.lastrowid,)))
    if parts == ["serviceaccounts", "search"] and method == "GET":
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path).query)).get("query", "")
        rows = STORE.query("SELECT * FROM service_account WHERE org_id=? AND (name LIKE ? OR login LIKE ?) ORDER BY login",
                           (org, f"%{query}%", f"%{query}%"))
        return 200, {"totalCount": len(rows), "serviceAccounts": [sa_dto(r) for r in rows], "page": 1, "perPage": 1000}
    if len(parts) == 3 and parts[2] == "tokens" and method == "POST":
        if not parts[1].isdigit():
            raise ApiError(400, "Service Account ID is invalid")
        account = STORE.one("SELECT * FROM service_account WHERE org_id=? AND id=?", (org, int(parts[1])))
        if not account:
            raise ApiError(404, "Failed to retrieve service account")
        body = handler.body()
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            raise ApiError(400, "Bad request data")
        ttl = body.get("secondsToLive", 0) or 0
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0:
            raise ApiError(400, "Bad request data")
        key = new_token()
        with LOCK:
            if STORE.one("SELECT id FROM sa_token WHERE org_id=? AND name=?", (org, body["name"])):
                raise ApiError(409, "service account token with given name already exists in the organization",
                               "serviceaccounts.ErrTokenAlreadyExists")
            cursor = STORE.execute("INSERT INTO sa_token (org_id, sa_id, name, hash, expires) VALUES (?, ?, ?, ?, ?)",
                                   (org, account["id"], body["name"], token_hash(key), time.time() + ttl if ttl else None))
        return 200, {"id": cursor.lastrowid, "name": body["name"], "key": key}
    raise ApiError(404, "Not found")


def metrics():
    """pkg/infra/metrics/metrics.go names: grafana_build_info, grafana_stat_totals_datasource
    (label dstype), grafana_stat_total_users."""
    lines = [
        "# HELP grafana_build_info A metric with a constant '1' value labeled by version, revision, branch, and goversion from which Grafana was built",
        "# TYPE grafana_build_info gauge",
        f'grafana_build_info{{branch="HEAD",edition="oss",goversion="standin",revision="{COMMIT}",version="{VERSION}"}} 1',
        "# HELP grafana_stat_totals_datasource total number of defined datasources, labeled by pluginId",
        "# TYPE grafana_stat_totals_datasource gauge",
    ]
    for row in STORE.query("SELECT type, COUNT(*) AS n FROM data_source GROUP BY type ORDER BY type"):
        lines.append(f'grafana_stat_totals_datasource{{dstype="{row["type"]}"}} {row["n"]}')
    users = STORE.one("SELECT COUNT(*) AS n FROM user")["n"]
    lines += ["# HELP grafana_stat_total_users total amount of users", "# TYPE grafana_stat_total_users gauge",
              f"grafana_stat_total_users {users}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- settings (paths)
PATH_DEFAULTS = {"data": "/var/lib/grafana", "provisioning": "/etc/grafana/provisioning"}  # the image's GF_PATHS_*


def cfg_props(args):
    """pkg/setting/setting.go getCommandLineProperties: every `cfg:key=value` argument (others are
    ignored); not exactly one `=`: "Invalid command line argument." and exit 1."""
    props = {}
    for arg in args:
        if arg.startswith("cfg:"):
            parts = arg[len("cfg:"):].split("=")
            if len(parts) != 2:
                raise CliError(f"Invalid command line argument. argument={arg}")
            props[parts[0]] = parts[1]
    return props


def cfg_path(props, key, home):
    """paths.<key> in the order of pkg/setting/setting.go loadConfiguration: cfg:default.paths.<key>
    (a default), then a non-empty GF_PATHS_<KEY> (applyEnvVariableOverrides), then cfg:paths.<key>
    (applyCommandLineProperties, last); relative to the home path (makeAbsolute). grafana.ini is not
    read (configuration comes from GF_* variables only)."""
    value = props.get(f"default.paths.{key}", PATH_DEFAULTS[key])
    value = os.environ.get(f"GF_PATHS_{key.upper()}") or value
    value = props.get(f"paths.{key}", value)
    return value if os.path.isabs(value) else os.path.join(home, value)


# ---------------------------------------------------------------- grafana cli
class CliError(Exception):
    """An error of `grafana cli`: pkg/cmd/grafana/main.go prints "Error: ✗ <err>" (stdout), exit 1.
    usage: a command line error, which urfave/cli precedes with "Incorrect Usage: <err>" and the help."""

    def __init__(self, message, usage=False):
        super().__init__(message)
        self.usage = usage


USAGE = ("usage: grafana cli [--homepath DIR] [--config FILE] [--configOverrides 'cfg:...'] admin reset-admin-password"
         " [--password-from-stdin] [--user-id ID] [<new password>] [cfg:section.key=value ...]"
         " (the stand-in implements no other command)")


def parse_flags(args, spec):
    """Go's flag package, as urfave/cli v2 uses it: -name or --name, `--name value` or `--name=value`
    (a bool as --name or --name=true|false), parsing stops at the first non-flag or after `--`.
    spec: name -> str, bool or int. Returns (values, remaining arguments)."""
    values, index = {}, 0
    while index < len(args) and args[index].startswith("-") and args[index] != "-":
        arg = args[index]
        index += 1
        if arg == "--":
            break
        name, sep, value = arg[2 if arg.startswith("--") else 1:].partition("=")
        if not name or name[0] in "-=":
            raise CliError(f"bad flag syntax: {arg}", usage=True)
        if name not in spec:
            raise CliError(f"flag provided but not defined: -{name}", usage=True)
        if spec[name] is bool:
            if sep and value not in ("true", "false"):  # stricter: Go's ParseBool also takes 1, t, T, TRUE...
                raise CliError(f'invalid boolean value "{value}" for -{name}: parse error', usage=True)
            values[name] = value != "false"
            continue
        if not sep:
            if index == len(args):
                raise CliError(f"flag needs an argument: -{name}", usage=True)
            value = args[index]
            index += 1
        if spec[name] is int:
            try:
                value = int(value, 0)  # urfave/cli IntFlag: strconv.ParseInt(value, 0, 64)
            except ValueError as exc:
                raise CliError(f'invalid value "{value}" for flag -{name}: parse error', usage=True) from exc
        values[name] = value
    return values, args[index:]


def read_password_line():
    """reset_password_command.go: bufio.Scanner.Scan on stdin, one line (ScanLines drops the
    newline and a trailing \r); nothing to read: "can't read password from stdin"."""
    line = sys.stdin.buffer.readline(64 * 1024 + 1)
    if not line:
        raise CliError("can't read password from stdin")
    if len(line) > 64 * 1024 and not line.endswith(b"\n"):  # bufio.MaxScanTokenSize
        raise CliError("can't read password from stdin: bufio.Scanner: token too long")
    line = line[:-1] if line.endswith(b"\n") else line
    line = line[:-1] if line.endswith(b"\r") else line
    try:
        return line.decode()
    except UnicodeDecodeError as exc:  # stricter: Go takes any bytes; the stand-in's basic auth takes UTF-8 only
        raise CliError("the new password is not UTF-8 (stand-in)") from exc


def cli(args):
    """`grafana cli [global flags] admin reset-admin-password [flags] [password] [cfg:...]`:
    pkg/cmd/grafana-cli/commands/cli.go (CLICommand flags), commands.go (adminCommands,
    runRunnerCommand/initializeRunner) and reset_password_command.go (resetPasswordCommand)."""
    # Stricter: of CLICommand's global flags only these three (no pluginsDir, repo, debug...).
    flags, rest = parse_flags(args, {"homepath": str, "config": str, "configOverrides": str})
    if not rest:
        raise CliError("a command is required (stand-in; Grafana prints the help)", usage=True)
    if rest[0] != "admin":
        # pkg/cmd/grafana/main.go cmdNotFound; `plugins` exists in Grafana but not in the stand-in.
        raise CliError(f"'{rest[0]}' is not a grafana cli command "
                       "(the stand-in implements only admin reset-admin-password)", usage=True)
    _admin_flags, rest = parse_flags(rest[1:], {})  # the `admin` command has no flags
    if rest[:1] != ["reset-admin-password"]:
        raise CliError(f"'{(rest or [''])[0]}' is not a grafana cli admin command "
                       "(the stand-in implements only reset-admin-password)", usage=True)
    opts, positional = parse_flags(rest[1:], {"password-from-stdin": bool, "user-id": int})
    # initializeRunner: configOverrides (split on spaces) then the command's arguments (the
    # `cfg:` ones are settings, the first other is the password), setting.NewCfgFromArgs.
    settings_args = (flags.get("configOverrides") or "").split(" ") + positional
    props = cfg_props(settings_args)
    home = flags.get("homepath") or os.getcwd()
    if not os.path.isdir(home):  # stricter: Grafana looks for HOME/conf/defaults.ini, which the stand-in has not
        raise CliError("Grafana-server Init Failed: Could not find config defaults, make sure homepath "
                       "command line parameter is set or working directory is homepath")
    if flags.get("config"):  # setting.go loadSpecifiedConfigFile: ini.Load of a file that must exist
        try:
            with open(flags["config"], "rb"):
                pass
        except OSError as exc:
            raise CliError(f'failed to parse "{flags["config"]}": {exc.strerror}') from exc
    others = [arg for arg in positional if not arg.startswith("cfg:")]
    if opts.get("password-from-stdin"):
        if others:  # stricter: Grafana ignores them
            raise CliError(f"unexpected arguments with --password-from-stdin: {len(others)}", usage=True)
        print("New Password: ", end="", flush=True)
        password = read_password_line()
    else:
        if len(others) > 1:  # stricter: Grafana ignores all but the first
            raise CliError(f"unexpected arguments after the password: {len(others) - 1}", usage=True)
        password = others[0] if others else ""  # c.Args().First()
    # Password.Validate (pkg/services/user/password.go ValidatePassword): without
    # [auth.basic] password_policy, fewer than 4 bytes is too short.
    if env_bool("GF_AUTH_BASIC_PASSWORD_POLICY"):
        raise CliError("GF_AUTH_BASIC_PASSWORD_POLICY (the strong password policy) is not implemented by the stand-in")
    if len(password.encode()) < 4:
        raise CliError("the new password doesn't meet the password policy criteria")
    user_id = opts.get("user-id", 1)  # DefaultAdminUserId
    path = os.path.join(cfg_path(props, "data", home), "grafana.db")
    # Stricter: Grafana's CLI opens the database through its SQL store, which would create a
    # missing sqlite file; the stand-in refuses (there is no user to reset in it).
    if not os.path.isfile(path):
        raise CliError(f"could not read user from database. Error: database {path} does not exist "
                       "(the stand-in's CLI does not create it: start the server first)")
    try:
        store = Store(path)
        usr = store.one("SELECT * FROM user WHERE id=?", (user_id,))
    except sqlite3.Error as exc:
        raise CliError(f"could not read user from database. Error: {exc}") from exc
    if not usr:
        # ErrAdminCannotBeFound: Grafana logs this and the admins. Stricter: resetPasswordCommand
        # returns nil whatever resetPassword returned (exit 0, also for ErrMustBeAdmin); the stand-in exits 1.
        print("\nAdmin user cannot be found ✘. \n\nPlease try to run the command again specifying a "
              "user-id (--user-id) from the list below:")
        for admin in store.query("SELECT id, login FROM user WHERE is_admin=1 ORDER BY id"):
            print(f"\t Username: {admin['login']} ID: {admin['id']}")
        raise CliError(f"admin user cannot be found (id: {user_id}) (stand-in: exit 1, Grafana exits 0)")
    if not usr["is_admin"]:
        raise CliError("reset-admin-password can only be used to reset an admin user account")  # ErrMustBeAdmin
    # userimpl Service.Update with a Password: Password.Hash(usr.Salt) = util.EncodePassword, then the store's
    # Update (which sets `updated`).
    try:
        store.execute("UPDATE user SET password=?, updated=? WHERE id=?",
                      (hash_password(password, usr["salt"]), time.time(), user_id))
    except sqlite3.Error as exc:
        raise CliError(f"failed to update user password: {exc}") from exc
    print("\nAdmin password changed successfully ✔\n\n", end="", flush=True)
    return 0


def main(argv):
    global STORE  # pylint: disable=global-statement
    if argv[:1] == ["cli"]:
        log(BANNER)
        try:
            sys.exit(cli(argv[1:]))
        except CliError as exc:
            if exc.usage:
                print(f"Incorrect Usage: {exc}\n\n{USAGE}\n")
            print(f"Error: ✗ {exc}", flush=True)
            sys.exit(1)
    print(BANNER, flush=True)
    log(BANNER)
    check_settings()
    if argv[:1] != ["server"]:
        fail(f"usage: grafana server [...] | grafana cli ... (the stand-in implements only these), got {argv[:1]}")
    try:
        props = cfg_props(argv[1:])
    except CliError as exc:
        fail(str(exc))
    data = cfg_path(props, "data", os.getcwd())  # the image's WORKDIR is the home path
    os.makedirs(data, exist_ok=True)
    STORE = Store(os.path.join(data, "grafana.db"))
    if STORE.first_start:
        user = os.environ.get("GF_SECURITY_ADMIN_USER") or "admin"
        password = os.environ.get("GF_SECURITY_ADMIN_PASSWORD") or "admin"
        STORE.init_first_start(user, password)
        log(f"created database {data}/grafana.db with admin user {user!r} (first start)")
    else:
        log(f"using existing database {data}/grafana.db: GF_SECURITY_ADMIN_* are not applied (not first start)")
    provisioning = cfg_path(props, "provisioning", os.getcwd())
    provision(os.path.join(provisioning, "datasources"))
    provision_dashboards(os.path.join(provisioning, "dashboards"))
    port = int(os.environ.get("GF_SERVER_HTTP_PORT") or 3000)
    server = ThreadingHTTPServer((os.environ.get("GF_SERVER_HTTP_ADDR") or "0.0.0.0", port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))  # PID 1: stop promptly on docker stop
    log(f"HTTP Server Listen address=[::]:{port} protocol=http")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
