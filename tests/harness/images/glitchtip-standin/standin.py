#!/usr/bin/env python
"""microops-test GlitchTip STAND-IN (web API, ingest, worker, manage.py), not GlitchTip.

Runs inside microops-test/glitchtip-standin:6.0, standing in for glitchtip/glitchtip:6. Only what the
collection uses, each part following GlitchTip's backend source (gitlab.com/glitchtip/glitchtip-backend,
read at the Dec 2025 master, 5.2 close to 6.0) or the library it relies on, named at each part. All
state lives in PostgreSQL (tables created by `manage.py migrate`), none in the container.

Settings (glitchtip/settings.py, django-environ FileAwareEnv: every VAR may come from the file named by
VAR_FILE, which wins over VAR and is read verbatim, trailing newline included):
  SECRET_KEY, DATABASE_URL or DATABASE_HOST/PORT/NAME/USER/PASSWORD, VALKEY_URL (REDIS_URL, VALKEY_HOST),
  GLITCHTIP_DOMAIN, ENABLE_USER_REGISTRATION, ENABLE_ORGANIZATION_CREATION, PORT, GLITCHTIP_VERSION.
HTTP: see ROUTES below; every handler names the source file it follows.
"""
import base64
import binascii
import datetime
import gzip
import hashlib
import json
import os
import random
import re
import secrets
import socket
import string
import sys
import threading
import traceback
import unicodedata
import urllib.parse
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import psycopg2.extras

try:
    import brotli  # Debian python3-brotli; GlitchTip accepts Content-Encoding br (glitchtip/middleware.py)
except ImportError:  # pragma: no cover
    brotli = None

BANNER = "microops-test GlitchTip STAND-IN, not GlitchTip"
UTC = datetime.timezone.utc
# apps/api_tokens/models.py APIToken.scopes BitField flags, in bit order.
SCOPE_FLAGS = ["project:read", "project:write", "project:admin", "project:releases", "team:read", "team:write",
               "team:admin", "event:read", "event:write", "event:admin", "org:read", "org:write", "org:admin",
               "member:read", "member:write", "member:admin"]
# apps/organizations_ext/constants.py ROLES (index = OrganizationUserRole: 0 member .. 3 owner)
ROLE_SCOPES = [
    ["event:read", "event:write", "event:admin", "project:releases", "project:read", "org:read", "member:read",
     "team:read"],
    ["event:read", "event:write", "event:admin", "org:read", "member:read", "project:read", "project:write",
     "project:admin", "project:releases", "team:read", "team:write", "team:admin", "org:integrations"],
    ["event:read", "event:write", "event:admin", "member:read", "member:write", "member:admin", "project:read",
     "project:write", "project:admin", "project:releases", "team:read", "team:write", "team:admin", "org:read",
     "org:write", "org:integrations"],
    ["org:read", "org:write", "org:admin", "org:integrations", "member:read", "member:write", "member:admin",
     "team:read", "team:write", "team:admin", "project:read", "project:write", "project:admin",
     "project:releases", "event:read", "event:write", "event:admin"],
]
ADMIN = 1
OWNER = 3


class ImproperlyConfigured(Exception):
    pass


# ---------------------------------------------------------------------------------------------- settings
def env_raw(name):
    """django-environ FileAwareMapping.__getitem__: VAR_FILE (read verbatim) wins over VAR; None if unset."""
    path = os.environ.get(name + "_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    return os.environ.get(name)


def env_str(name, default=None, required=False):
    value = env_raw(name)
    if value is None:
        if required:
            raise ImproperlyConfigured(f"Set the {name} environment variable")
        return default
    return value


def env_bool(name, default):
    """django-environ Env.bool: int != 0, else one of its BOOLEAN_TRUE_STRINGS."""
    value = env_raw(name)
    if value is None:
        return default
    try:
        return int(value) != 0
    except ValueError:
        return value.lower().strip() in ("true", "on", "ok", "y", "yes", "1")


def db_from_url(url):
    """django-environ Env.db_url_config for postgres:// URLs (the only engine GlitchTip supports)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql", "psql", "postgis"):
        raise ImproperlyConfigured(f"Invalid DATABASE_URL scheme {parsed.scheme!r} (GlitchTip needs PostgreSQL)")
    return {"NAME": urllib.parse.unquote(parsed.path[1:] or ""), "USER": urllib.parse.unquote(parsed.username or ""),
            "PASSWORD": urllib.parse.unquote(parsed.password or ""), "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or "")}


def load_settings():
    """The settings GlitchTip's glitchtip/settings.py derives from the environment (the ones used here)."""
    settings = {}
    # settings.py: SECRET_KEY = env.str("SECRET_KEY", "change_me"). GlitchTip 5.2 falls back to "change_me";
    # the stand-in is stricter and refuses a missing or empty key with the message Django gives an empty one.
    secret = env_str("SECRET_KEY")
    if not secret:
        raise ImproperlyConfigured("The SECRET_KEY setting must not be empty.")
    settings["SECRET_KEY"] = secret
    # settings.py lines ~458-475: DATABASE_URL (default below), then components when DATABASE_HOST is set.
    db = db_from_url(env_str("DATABASE_URL", "postgres://postgres:postgres@postgres:5432/postgres"))
    if env_str("DATABASE_HOST"):
        db.update(NAME=env_str("DATABASE_NAME", "postgres"), USER=env_str("DATABASE_USER", "postgres"),
                  PASSWORD=env_str("DATABASE_PASSWORD", required=True), HOST=env_str("DATABASE_HOST"),
                  PORT=env_str("DATABASE_PORT", "5432"))
    settings["DB"] = db
    # settings.py: VALKEY_HOST/REDIS_HOST components, else VALKEY_URL, REDIS_URL, "redis://redis:6379/0";
    # an empty VALKEY_URL means PostgreSQL only (broker and cache in the database).
    host = env_str("VALKEY_HOST", env_str("REDIS_HOST"))
    if host:
        port = env_str("VALKEY_PORT", env_str("REDIS_PORT", "6379"))
        database = env_str("VALKEY_DATABASE", env_str("REDIS_DATABASE", "0"))
        password = env_str("VALKEY_PASSWORD", env_str("REDIS_PASSWORD"))
        settings["VALKEY_URL"] = (f"redis://:{password}@{host}:{port}/{database}" if password
                                  else f"redis://{host}:{port}/{database}")
    else:
        settings["VALKEY_URL"] = env_str("VALKEY_URL", env_str("REDIS_URL", "redis://redis:6379/0"))
    # settings.py: APP_URL, GLITCHTIP_DOMAIN, default http://localhost:8000, parsed with env.url (urlparse).
    domain = env_str("GLITCHTIP_DOMAIN", "http://localhost:8000")
    url = urllib.parse.urlparse(env_str("GLITCHTIP_URL", env_str("APP_URL", domain)))
    if url.scheme not in ("http", "https"):
        raise ImproperlyConfigured("GLITCHTIP_DOMAIN must start with http or https")
    settings["GLITCHTIP_URL"] = url
    settings["ENABLE_USER_REGISTRATION"] = env_bool("ENABLE_USER_REGISTRATION", True)
    settings["ENABLE_SOCIAL_APPS_USER_REGISTRATION"] = env_bool("ENABLE_SOCIAL_APPS_USER_REGISTRATION",
                                                                settings["ENABLE_USER_REGISTRATION"])
    settings["ENABLE_ORGANIZATION_CREATION"] = env_bool(
        "ENABLE_OPEN_USER_REGISTRATION", env_bool("ENABLE_ORGANIZATION_CREATION", False))
    settings["GLITCHTIP_VERSION"] = env_str("GLITCHTIP_VERSION", "0.0.0-unknown")
    settings["SENTRY_TRACES_SAMPLE_RATE"] = float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0.01"))
    settings["TIME_ZONE"] = env_str("TIME_ZONE", "UTC")
    settings["PORT"] = int(os.environ.get("PORT", "8000"))
    return settings


def fail_settings(exc):
    print("Traceback (most recent call last):\n  File \"/code/glitchtip/settings.py\", in <module>", file=sys.stderr)
    print(f"django.core.exceptions.ImproperlyConfigured: {exc}", file=sys.stderr, flush=True)
    sys.exit(1)


def settings_or_exit():
    try:
        return load_settings()
    except (ImproperlyConfigured, OSError) as exc:
        return fail_settings(exc)


def log(message):
    print(f"glitchtip-standin: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- database
def connect(settings):
    db = settings["DB"]
    return psycopg2.connect(host=db["HOST"], port=db["PORT"] or "5432", user=db["USER"], password=db["PASSWORD"],
                            dbname=db["NAME"], connect_timeout=5, options="-c timezone=UTC")


def django_db_error(exc):
    """How Django names a psycopg error (django.db.utils wraps the driver's exceptions)."""
    name = type(exc).__name__
    if isinstance(exc, psycopg2.OperationalError):
        name = "OperationalError"
    elif isinstance(exc, psycopg2.IntegrityError):
        name = "IntegrityError"
    elif isinstance(exc, psycopg2.ProgrammingError):
        name = "ProgrammingError"
    return f"django.db.utils.{name}: {str(exc).strip()}"


# The stand-in's schema: Django's table and column names for the models the API uses (apps/*/models.py),
# reduced to the columns used. Applied by `manage.py migrate`; recorded in django_migrations.
MIGRATIONS = [
    ("contenttypes", "0001_initial", []),
    ("users", "0001_squashed_0012_auto_20240727_1849", [
        # apps/users/migrations/0011_alter_user_email.py: email is case-insensitive (ICU collation).
        """DO $$ BEGIN CREATE COLLATION case_insensitive (provider = icu, locale = 'und-u-ks-level2',
           deterministic = false); EXCEPTION WHEN duplicate_object THEN NULL; END $$""",
        """CREATE TABLE users_user (id bigserial PRIMARY KEY, password varchar(128) NOT NULL,
           last_login timestamptz NULL, is_superuser boolean NOT NULL,
           email varchar(254) COLLATE case_insensitive NOT NULL UNIQUE, name varchar(255) NOT NULL DEFAULT '',
           is_staff boolean NOT NULL, is_active boolean NOT NULL, created timestamptz NOT NULL,
           subscribe_by_default boolean NOT NULL DEFAULT true, options jsonb NOT NULL DEFAULT '{}')""",
    ]),
    ("organizations_ext", "0001_squashed_0009_organization_scrub_ip_addresses", [
        """CREATE TABLE organizations_ext_organization (id serial PRIMARY KEY, name varchar(200) NOT NULL,
           is_active boolean NOT NULL DEFAULT true, created timestamptz NOT NULL, modified timestamptz NOT NULL,
           slug varchar(200) NOT NULL UNIQUE, is_accepting_events boolean NOT NULL DEFAULT true,
           event_throttle_rate smallint NOT NULL DEFAULT 0, open_membership boolean NOT NULL DEFAULT true,
           scrub_ip_addresses boolean NOT NULL DEFAULT true)""",
        """CREATE TABLE organizations_ext_organizationuser (id serial PRIMARY KEY,
           created timestamptz NOT NULL, modified timestamptz NOT NULL,
           organization_id integer NOT NULL REFERENCES organizations_ext_organization(id) ON DELETE CASCADE,
           user_id bigint NULL REFERENCES users_user(id) ON DELETE CASCADE, role smallint NOT NULL,
           email varchar(254) NULL, UNIQUE (user_id, organization_id))""",
        """CREATE TABLE organizations_ext_organizationowner (id serial PRIMARY KEY,
           created timestamptz NOT NULL, modified timestamptz NOT NULL,
           organization_id integer NOT NULL UNIQUE REFERENCES organizations_ext_organization(id) ON DELETE CASCADE,
           organization_user_id integer NOT NULL UNIQUE
             REFERENCES organizations_ext_organizationuser(id) ON DELETE CASCADE)""",
    ]),
    ("projects", "0001_squashed_0016_auto_20250125_1733", [
        """CREATE TABLE projects_project (id bigserial PRIMARY KEY, created timestamptz NOT NULL,
           is_deleted boolean NOT NULL DEFAULT false, slug varchar(50) NOT NULL, name varchar(64) NOT NULL,
           organization_id integer NOT NULL REFERENCES organizations_ext_organization(id) ON DELETE CASCADE,
           platform varchar(64) NULL, first_event timestamptz NULL,
           scrub_ip_addresses boolean NOT NULL DEFAULT true, event_throttle_rate smallint NOT NULL DEFAULT 0,
           UNIQUE (organization_id, slug))""",
        """CREATE TABLE projects_projectkey (id bigserial PRIMARY KEY, created timestamptz NOT NULL,
           project_id bigint NOT NULL REFERENCES projects_project(id) ON DELETE CASCADE,
           is_active boolean NOT NULL DEFAULT true, name varchar(64) NOT NULL DEFAULT '',
           public_key uuid NOT NULL UNIQUE, rate_limit_count smallint NULL, rate_limit_window smallint NULL,
           data jsonb NULL)""",
    ]),
    ("teams", "0001_squashed_0004_alter_team_slug", [
        """CREATE TABLE teams_team (id bigserial PRIMARY KEY, created timestamptz NOT NULL, slug varchar(50) NOT NULL,
           organization_id integer NOT NULL REFERENCES organizations_ext_organization(id) ON DELETE CASCADE,
           UNIQUE (slug, organization_id))""",
        """CREATE TABLE teams_team_members (id bigserial PRIMARY KEY,
           team_id bigint NOT NULL REFERENCES teams_team(id) ON DELETE CASCADE,
           organizationuser_id integer NOT NULL REFERENCES organizations_ext_organizationuser(id) ON DELETE CASCADE,
           UNIQUE (team_id, organizationuser_id))""",
        """CREATE TABLE teams_team_projects (id bigserial PRIMARY KEY,
           team_id bigint NOT NULL REFERENCES teams_team(id) ON DELETE CASCADE,
           project_id bigint NOT NULL REFERENCES projects_project(id) ON DELETE CASCADE,
           UNIQUE (team_id, project_id))""",
    ]),
    ("api_tokens", "0001_squashed_0004_alter_apitoken_scopes", [
        """CREATE TABLE api_tokens_apitoken (id bigserial PRIMARY KEY, created timestamptz NOT NULL,
           token varchar(64) NOT NULL UNIQUE, user_id bigint NOT NULL REFERENCES users_user(id) ON DELETE CASCADE,
           label varchar(255) NOT NULL DEFAULT '', scopes bigint NOT NULL DEFAULT 0)""",
    ]),
    ("issue_events", "0001_squashed_0024_issueevent_issue_event_received", [
        """CREATE TABLE issue_events_issue (id bigserial PRIMARY KEY,
           project_id bigint NOT NULL REFERENCES projects_project(id) ON DELETE CASCADE,
           title varchar(255) NOT NULL, culprit varchar(1024) NULL, level smallint NOT NULL,
           type smallint NOT NULL, status smallint NOT NULL DEFAULT 0, short_id integer NOT NULL,
           count integer NOT NULL DEFAULT 1, first_seen timestamptz NOT NULL, last_seen timestamptz NOT NULL,
           metadata jsonb NOT NULL DEFAULT '{}', is_deleted boolean NOT NULL DEFAULT false)""",
        """CREATE TABLE issue_events_issueevent (id uuid PRIMARY KEY,
           issue_id bigint NOT NULL REFERENCES issue_events_issue(id) ON DELETE CASCADE,
           type smallint NOT NULL, timestamp timestamptz NOT NULL, received timestamptz NOT NULL,
           title varchar(255) NOT NULL, transaction varchar(200) NOT NULL DEFAULT '', level smallint NOT NULL,
           data jsonb NOT NULL, tags jsonb NOT NULL DEFAULT '{}')""",
    ]),
    # Stand-in for the task broker (Celery/Valkey or PostgreSQL in GlitchTip): queued ingest and delete
    # tasks that only a worker (SERVER_ROLE worker or all_in_one) processes.
    ("standin", "0001_task_queue", [
        """CREATE TABLE standin_task_queue (id bigserial PRIMARY KEY, task varchar(100) NOT NULL,
           payload jsonb NOT NULL, created timestamptz NOT NULL DEFAULT now())""",
    ]),
]
LAST_MIGRATION = MIGRATIONS[-1][:2]


def scalar(cur):
    """The first column of the next row, for plain and dict cursors."""
    row = cur.fetchone()
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


def applied_migrations(cur):
    cur.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
    if not scalar(cur):
        return set()
    cur.execute("SELECT app, name FROM django_migrations")
    return {tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in cur.fetchall()}


def require_migrated(cur):
    """Raise like a query on a missing table would when the schema is not migrated."""
    if LAST_MIGRATION not in applied_migrations(cur):
        raise psycopg2.errors.UndefinedTable('relation "standin_task_queue" does not exist')


def now():
    return datetime.datetime.now(UTC)


def iso(value):
    """django.core.serializers.json.DjangoJSONEncoder for datetimes (what django-ninja renders with)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    text = value.isoformat()
    if value.microsecond:
        text = text[:23] + text[26:]
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def slugify(value):
    """django.utils.text.slugify."""
    value = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value.lower())
    return re.sub(r"[-\s]+", "-", value).strip("-_")


def make_password(password):
    """django.contrib.auth.hashers.PBKDF2PasswordHasher (Django 5.2: 1,000,000 iterations); None: unusable."""
    if password is None:
        return "!" + secrets.token_urlsafe(30)[:40]
    salt = "".join(secrets.choice(string.ascii_letters + string.digits) for dummy in range(22))
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1000000)
    return f"pbkdf2_sha256$1000000${salt}${base64.b64encode(digest).decode()}"


def normalize_email(email):
    """BaseUserManager.normalize_email: the domain part lower-cased."""
    name, sep, domain = (email or "").strip().rpartition("@")
    return f"{name}@{domain.lower()}" if sep else (email or "")


def create_user(cur, email, password, superuser=False):
    """apps/users/models.py UserManager.create_user / create_superuser."""
    cur.execute("INSERT INTO users_user (password, is_superuser, email, is_staff, is_active, created) "
                "VALUES (%s, %s, %s, %s, true, %s) RETURNING id",
                (make_password(password), superuser, normalize_email(email), superuser, now()))
    return scalar(cur)


def valkey_ping(url, timeout=2.0):
    """PING with the RESP protocol (AUTH first when the URL has a password); raises OSError on failure."""
    parsed = urllib.parse.urlparse(url)
    with socket.create_connection((parsed.hostname or "localhost", parsed.port or 6379), timeout=timeout) as sock:
        commands = []
        if parsed.password:
            args = [parsed.username, parsed.password] if parsed.username else [parsed.password]
            commands.append(["AUTH", *args])
        commands.append(["PING"])
        for command in commands:
            sock.sendall(("*%d\r\n" % len(command) + "".join(
                "$%d\r\n%s\r\n" % (len(a.encode()), a) for a in command)).encode())
            reply = sock.recv(512)
            if not reply.startswith(b"+"):
                raise OSError(f"Valkey answered {reply.strip().decode(errors='replace')}")
        return True


# ---------------------------------------------------------------------------------------------- worker
ERROR, DEFAULT = 0, 1  # apps/issue_events/constants.py IssueEventType
TYPE_NAMES = {ERROR: "error", DEFAULT: "default"}
LEVELS = ["sample", "debug", "info", "warning", "error", "fatal"]  # LogLevel (index = stored value)
STATUS_NAMES = {0: "unresolved", 1: "resolved", 2: "ignored"}


def event_title(data):
    """Title as GlitchTip's error/default event types build it (sentry/eventtypes): "Type: value" of the
    last exception, else the message, else "<unlabeled event>"."""
    exception = data.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else exception
    if isinstance(values, list) and values:
        last = values[-1] or {}
        kind, value = last.get("type") or "Error", last.get("value") or ""
        return (f"{kind}: {value}" if value else kind)[:255]
    message = data.get("logentry") or data.get("message")
    if isinstance(message, dict):
        message = message.get("formatted") or message.get("message")
    return (str(message).splitlines()[0] if message else "<unlabeled event>")[:255]


def process_event(cur, task):
    """apps/event_ingest/process_event.py, reduced: group by title within the project, count, keep the event."""
    data = task["payload"]
    project_id = task["project_id"]
    received = datetime.datetime.fromisoformat(task["received"])
    title = event_title(data)
    level_name = str(data.get("level") or "error").lower()
    level = LEVELS.index(level_name) if level_name in LEVELS else LEVELS.index("error")
    kind = ERROR if data.get("exception") else DEFAULT
    cur.execute("SELECT id FROM issue_events_issue WHERE project_id = %s AND title = %s AND NOT is_deleted "
                "ORDER BY id LIMIT 1 FOR UPDATE", (project_id, title))
    row = cur.fetchone()
    if row:
        issue_id = row[0]
        cur.execute("UPDATE issue_events_issue SET count = count + 1, last_seen = %s WHERE id = %s",
                    (received, issue_id))
    else:
        cur.execute("SELECT coalesce(max(short_id), 0) + 1 FROM issue_events_issue WHERE project_id = %s",
                    (project_id,))
        short_id = scalar(cur)
        cur.execute("INSERT INTO issue_events_issue (project_id, title, culprit, level, type, short_id, "
                    "first_seen, last_seen, metadata) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (project_id, title, data.get("transaction") or "", level, kind, short_id, received, received,
                     json.dumps({"title": title})))
        issue_id = scalar(cur)
    tags = data.get("tags") or {}
    if isinstance(tags, list):
        tags = {str(t[0]): str(t[1]) for t in tags if isinstance(t, (list, tuple)) and len(t) == 2}
    try:
        event_id = uuid.UUID(str(data.get("event_id")))
    except ValueError:
        event_id = uuid.uuid4()
    timestamp = received
    cur.execute("INSERT INTO issue_events_issueevent (id, issue_id, type, timestamp, received, title, "
                "transaction, level, data, tags) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (id) DO NOTHING",
                (str(event_id), issue_id, kind, timestamp, received, title, (data.get("transaction") or "")[:200],
                 level, json.dumps(data), json.dumps(tags)))
    cur.execute("UPDATE projects_project SET first_event = %s WHERE id = %s AND first_event IS NULL",
                (received, project_id))


def force_delete_project(cur, task):
    """apps/projects/tasks.py delete_project -> Project.force_delete (events, issues, then the project)."""
    cur.execute("DELETE FROM projects_project WHERE id = %s AND is_deleted", (task["project_id"],))


def worker_loop(settings, stop):
    """The worker (bin/run-worker.sh; embedded in all_in_one): takes queued tasks from the broker."""
    log("worker started")
    while not stop.is_set():
        conn = None
        try:
            conn = connect(settings)
            with conn, conn.cursor() as cur:
                require_migrated(cur)
                cur.execute("SELECT id, task, payload FROM standin_task_queue ORDER BY id LIMIT 20 "
                            "FOR UPDATE SKIP LOCKED")
                for task_id, name, payload in cur.fetchall():
                    {"ingest_event": process_event, "delete_project": force_delete_project}[name](cur, payload)
                    cur.execute("DELETE FROM standin_task_queue WHERE id = %s", (task_id,))
                    log(f"worker: task {name} done")
        except psycopg2.Error as exc:
            log(f"worker: {django_db_error(exc)}")
            stop.wait(4)
        finally:
            if conn is not None:
                conn.close()
        stop.wait(1)


def enqueue(cur, task, payload):
    cur.execute("INSERT INTO standin_task_queue (task, payload) VALUES (%s, %s)", (task, json.dumps(payload)))


# ---------------------------------------------------------------------------------------------- HTTP
class Reply(Exception):
    """A finished response: status, body (dict/list -> JSON, str -> text), headers."""

    def __init__(self, status, body=None, headers=None, ctype=None):
        super().__init__(status)
        self.status, self.body, self.headers, self.ctype = status, body, headers or {}, ctype


def detail(status, message):
    return Reply(status, {"detail": message})


NOT_FOUND = {"detail": "Not Found"}  # django-ninja's Http404 handler (DEBUG off)
SERVER_ERROR_HTML = ('<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n'
                     '<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n')  # django.views.defaults
NOT_FOUND_HTML = ('<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n'
                  '  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n'
                  '</html>\n')
CSRF_HTML = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta http-equiv="content-type" content="text/html; '
             'charset=utf-8">\n  <meta name="robots" content="NONE,NOARCHIVE">\n  <title>403 Forbidden</title>\n'
             '</head>\n<body>\n  <h1>Forbidden <span>(403)</span></h1>\n  <p>CSRF verification failed. Request '
             'aborted.</p>\n  <p>{reason}</p>\n</body>\n</html>\n')
INDEX_HTML = ('<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n  <title>GlitchTip</title>\n'
              '  <base href="/"/>\n</head>\n<body>\n  <app-root></app-root>\n  <!-- microops-test GlitchTip '
              'STAND-IN: no frontend -->\n</body>\n</html>\n')
# glitchtip/urls.py: the Angular app's routes, matched after the API when nothing else did.
SPA = re.compile(r"^(auth|login|register|(.*)/issues|(.*)/settings|(.*)/performance|(.*)/projects|(.*)/releases|"
                 r"organizations|profile|(.*)/uptime-monitors|accept|reset-password|system-info).*$")
SLUG = r"(?P<{}>[-a-zA-Z0-9_]+)"  # Django's slug path converter
CSRF_CHARS = string.ascii_letters + string.digits


def csrf_unmask(token):
    """django.middleware.csrf._unmask_cipher_token."""
    mask, cipher = token[:32], token[32:]
    return "".join(CSRF_CHARS[(CSRF_CHARS.index(c) - CSRF_CHARS.index(m)) % len(CSRF_CHARS)]
                   for m, c in zip(mask, cipher))


def csrf_mask(secret):
    mask = "".join(secrets.choice(CSRF_CHARS) for dummy in range(32))
    return mask + "".join(CSRF_CHARS[(CSRF_CHARS.index(s) + CSRF_CHARS.index(m)) % len(CSRF_CHARS)]
                          for s, m in zip(secret, mask))


class Request:
    def __init__(self, handler, settings):
        self.handler, self.settings = handler, settings
        self.method = handler.command
        parsed = urllib.parse.urlsplit(handler.path)
        self.path, self.query_string = parsed.path, parsed.query
        self.query = urllib.parse.parse_qs(parsed.query)
        self.headers = handler.headers
        self.raw = handler.raw_body
        self.cookies = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            key, sep, value = part.strip().partition("=")
            if sep:
                self.cookies[key] = value
        self.set_cookies = []
        self.user_id = None
        self.token_scopes = None

    def body(self):
        """The request body after glitchtip/middleware.py DecompressBodyMiddleware (gzip, deflate, br)."""
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        try:
            if encoding == "gzip":
                return gzip.decompress(self.raw)
            if encoding == "deflate":
                try:
                    return zlib.decompress(self.raw)
                except zlib.error:
                    return zlib.decompress(self.raw, -zlib.MAX_WBITS)
            if encoding == "br" and brotli is not None:
                return brotli.decompress(self.raw)
        except (OSError, zlib.error, EOFError) as exc:
            raise Reply(400, f"Invalid compressed request body: {exc}", ctype="text/html; charset=utf-8")
        return self.raw

    def json(self):
        """django-ninja body parsing (glitchtip/api/parsers.py ORJSONParser)."""
        try:
            return json.loads(self.body() or b"")
        except ValueError:
            raise detail(400, "Cannot parse request body")

    def absolute_uri(self):
        return f"http://{self.headers.get('Host', 'localhost')}{self.handler.path}"


def validation_error(loc, kind, msg):
    """django-ninja 422 for a pydantic validation error."""
    return Reply(422, {"detail": [{"type": kind, "loc": ["body", "payload", *loc], "msg": msg}]})


def check_str(payload, field, alias=None, required=True, max_length=None, pattern=None, nullable=False):
    key = alias if alias and alias in payload else field
    if key not in payload:
        if required:
            raise validation_error([alias or field], "missing", "Field required")
        return None
    value = payload[key]
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise validation_error([key], "string_type", "Input should be a valid string")
    if max_length is not None and len(value) > max_length:
        raise validation_error([key], "string_too_long", f"String should have at most {max_length} characters")
    if pattern and not re.match(pattern, value):
        raise validation_error([key], "string_pattern_mismatch", f"String should match pattern '{pattern}'")
    return value


def body_object(request):
    payload = request.json()
    if not isinstance(payload, dict):
        raise Reply(422, {"detail": [{"type": "model_attributes_type", "loc": ["body", "payload"],
                                      "msg": "Input should be a valid dictionary or object to extract fields from"}]})
    return payload


# ---------------------------------------------------------------------------------------------- schemas
def organization_schema(org):
    """apps/organizations_ext/schema.py OrganizationSchema."""
    return {"name": org["name"], "slug": org["slug"], "isAcceptingEvents": org["is_accepting_events"],
            "eventThrottleRate": org["event_throttle_rate"], "id": str(org["id"]),
            "dateCreated": iso(org["created"]), "status": {"id": "active", "name": "active"},
            "avatar": {"avatarType": "", "avatarUuid": None}, "isEarlyAdopter": False, "require2fa": False}


def project_schema(project):
    """apps/projects/schema.py ProjectSchema."""
    return {"name": project["name"], "slug": project["slug"], "firstEvent": iso(project["first_event"]),
            "scrubIPAddresses": project["scrub_ip_addresses"], "platform": project["platform"],
            "eventThrottleRate": project["event_throttle_rate"], "id": str(project["id"]),
            "avatar": {"avatarType": "", "avatarUuid": None}, "color": "", "features": [], "hasAccess": True,
            "isBookmarked": False, "isInternal": False, "isMember": bool(project["is_member"]),
            "isPublic": False, "dateCreated": iso(project["created"])}


def key_schema(settings, key):
    """apps/projects/schema.py ProjectKeySchema with ProjectKey.get_dsn / get_dsn_security (models.py):
    the DSN host is GLITCHTIP_URL's netloc + path only, never the request's Host."""
    url = settings["GLITCHTIP_URL"]
    public = uuid.UUID(str(key["public_key"]))
    if url.netloc and url.scheme:
        dsn = f"{url.scheme}://{public.hex}@{url.netloc + url.path}/{key['project_id']}"
        security = f"{url.scheme}://{url.netloc + url.path}/api/{key['project_id']}/security/?glitchtip_key={public.hex}"
    else:
        dsn = security = ""
    rate = ({"window": key["rate_limit_window"], "count": key["rate_limit_count"]}
            if key["rate_limit_count"] else None)
    return {"name": key["name"], "isActive": key["is_active"], "rateLimit": rate,
            "dateCreated": iso(key["created"]), "id": str(public),
            "dsn": {"public": dsn, "secret": dsn, "security": security},
            "label": key["name"], "public": str(public), "projectID": key["project_id"]}


def team_schema(team, projects):
    """apps/teams/schema.py TeamProjectSchema (TeamSchema + projects)."""
    return {"slug": team["slug"], "id": str(team["id"]), "dateCreated": iso(team["created"]),
            "isMember": bool(team["is_member"]), "memberCount": team["member_count"],
            "projects": [project_schema(p) for p in projects]}


PROJECT_COLUMNS = """p.id, p.created, p.slug, p.name, p.platform, p.first_event, p.scrub_ip_addresses,
    p.event_throttle_rate, p.organization_id, p.is_deleted,
    EXISTS (SELECT 1 FROM teams_team_projects tp JOIN teams_team_members tm ON tm.team_id = tp.team_id
            JOIN organizations_ext_organizationuser ou ON ou.id = tm.organizationuser_id
            WHERE tp.project_id = p.id AND ou.user_id = %(user)s) AS is_member"""


def fetch_projects(cur, user_id, where, params, order="p.name"):
    cur.execute(f"SELECT {PROJECT_COLUMNS} FROM projects_project p WHERE {where} ORDER BY {order}",
                {"user": user_id, **params})
    return cur.fetchall()


def project_teams(cur, project_id):
    cur.execute("SELECT t.id, t.slug FROM teams_team t JOIN teams_team_projects tp ON tp.team_id = t.id "
                "WHERE tp.project_id = %s ORDER BY t.id", (project_id,))
    return [{"id": str(r["id"]), "slug": r["slug"]} for r in cur.fetchall()]


def fetch_teams(cur, user_id, org_id, team_id=None):
    cur.execute("""SELECT t.id, t.slug, t.created,
        EXISTS (SELECT 1 FROM teams_team_members tm JOIN organizations_ext_organizationuser ou
                ON ou.id = tm.organizationuser_id WHERE tm.team_id = t.id AND ou.user_id = %(user)s) AS is_member,
        (SELECT count(*) FROM teams_team_members tm WHERE tm.team_id = t.id) AS member_count
        FROM teams_team t WHERE t.organization_id = %(org)s AND (%(team)s::bigint IS NULL OR t.id = %(team)s)
        ORDER BY t.created DESC, t.id DESC""", {"user": user_id, "org": org_id, "team": team_id})
    teams = cur.fetchall()
    result = []
    for team in teams:
        # Prefetch("projects", Project.objects...): soft-deleted projects included until purged.
        projects = fetch_projects(cur, user_id, "p.id IN (SELECT project_id FROM teams_team_projects "
                                                "WHERE team_id = %(team)s)", {"team": team["id"]}, order="p.id")
        result.append(team_schema(team, projects))
    return result


def member_org(cur, user_id, slug):
    """get_organizations_queryset(user_id): organisations the user is a member of, with the user's role."""
    cur.execute("SELECT o.*, ou.role AS actor_role FROM organizations_ext_organization o "
                "JOIN organizations_ext_organizationuser ou ON ou.organization_id = o.id AND ou.user_id = %s "
                "WHERE o.slug = %s", (user_id, slug))
    return cur.fetchone()


def organization_detail(cur, user_id, org):
    """apps/teams/schema.py OrganizationDetailSchema."""
    body = organization_schema(org)
    body["openMembership"] = org["open_membership"]
    projects = fetch_projects(cur, user_id, "p.organization_id = %(org)s", {"org": org["id"]}, order="p.id")
    body["projects"] = [{**project_schema(p), "teams": project_teams(cur, p["id"])} for p in projects]
    body["teams"] = [{k: v for k, v in t.items() if k != "projects"} for t in fetch_teams(cur, user_id, org["id"])]
    body["access"] = sorted(ROLE_SCOPES[org["actor_role"]])
    return body


def paginate(request, items):
    """glitchtip/api/pagination.py AsyncLinkHeaderPagination (ninja_cursor_pagination, 50 per page).
    GlitchTip sets the Link header from a Python set, so it is rendered with braces and quotes; mirrored.
    The stand-in's cursor is the offset only ("o=N" base64)."""
    limit = 50
    try:
        limit = max(0, min(int((request.query.get("limit") or ["50"])[0]), 100))
    except ValueError:
        pass
    offset = 0
    cursor = (request.query.get("cursor") or [""])[0]
    if cursor:
        try:
            offset = int(urllib.parse.parse_qs(base64.b64decode(cursor).decode()).get("o", ["0"])[0])
        except (ValueError, binascii.Error):
            raise detail(400, "Invalid cursor")
    page = items[offset:offset + limit]
    base = request.absolute_uri()
    links = []
    for label, has, position in (("previous", offset > 0, max(0, offset - limit)),
                                 ("next", offset + limit < len(items), offset + limit)):
        if has:
            token = base64.b64encode(f"o={position}".encode()).decode()
            url = base.split("?")[0] + "?" + urllib.parse.urlencode({"cursor": token})
            links.append(f'<{url}>; rel="{label}"; results="true"; cursor="{token}"')
        else:
            links.append(f'<{base}>; rel="{label}"; results="false"')
    return Reply(200, page, {"Link": str({", ".join(links)}), "X-Max-Hits": "1000",
                             "X-Hits": str(min(len(items), 1000))})


# ---------------------------------------------------------------------------------------------- handlers
def get_settings(request, cur):
    """glitchtip/api/api.py get_settings (GET /api/settings/, auth=None)."""
    s = request.settings
    registration, social = s["ENABLE_USER_REGISTRATION"], s["ENABLE_SOCIAL_APPS_USER_REGISTRATION"]
    if not (registration and social):
        cur.execute("SELECT NOT EXISTS (SELECT 1 FROM users_user)")
        no_users = scalar(cur)
        registration, social = registration or no_users, social or no_users
    return Reply(200, {"socialApps": [], "billingEnabled": False, "iPaidForGlitchTip": False,
                       "enableUserRegistration": registration, "enableSocialAppsUserRegistration": social,
                       "enableOrganizationCreation": s["ENABLE_ORGANIZATION_CREATION"], "stripePublicKey": None,
                       "plausibleUrl": None, "plausibleDomain": None, "chatwootWebsiteToken": None,
                       "sentryDSN": None, "sentryTracesSampleRate": s["SENTRY_TRACES_SAMPLE_RATE"],
                       "environment": None, "version": s["GLITCHTIP_VERSION"], "serverTimeZone": s["TIME_ZONE"],
                       "glitchtipInstanceName": None})


def list_organizations(request, cur):
    """apps/organizations_ext/api.py list_organizations: member organisations ordered by name, paginated."""
    cur.execute("SELECT o.* FROM organizations_ext_organization o JOIN organizations_ext_organizationuser ou "
                "ON ou.organization_id = o.id WHERE ou.user_id = %s ORDER BY o.name", (request.user_id,))
    return paginate(request, [organization_schema(o) for o in cur.fetchall()])


def create_organization(request, cur):
    """apps/organizations_ext/api.py create_organization: the first organisation may be created by anyone
    (utils.is_organization_creation_open), later ones need ENABLE_ORGANIZATION_CREATION or a superuser.
    The slug comes from the name (models.Organization.slugify_function, reserved words get "-1"); a taken
    slug gets a random suffix (fields.OrganizationSlugField)."""
    name = check_str(request.payload, "name", max_length=200)
    cur.execute("SELECT is_superuser FROM users_user WHERE id = %s", (request.user_id,))
    row = cur.fetchone()
    if row is None:
        raise Reply(404, NOT_FOUND)
    cur.execute("SELECT EXISTS (SELECT 1 FROM organizations_ext_organization)")
    if scalar(cur) and not request.settings["ENABLE_ORGANIZATION_CREATION"] and not row["is_superuser"]:
        raise detail(403, "Organization creation is not open")
    base = slugify(name)[:200]
    if base in ("login", "register", "app", "profile", "organizations", "settings", "issues", "performance",
                "_health", "rest-auth", "api", "accept", "stripe", "admin", "status_page", "__debug__"):
        base += "-1"
    slug, length = base, 2
    while True:
        cur.execute("SELECT 1 FROM organizations_ext_organization WHERE slug = %s", (slug,))
        if not cur.fetchone():
            break
        slug = base + "-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=length))
        length += 1
    stamp = now()
    cur.execute("INSERT INTO organizations_ext_organization (name, slug, created, modified) VALUES (%s, %s, %s, %s) "
                "RETURNING id", (name, slug, stamp, stamp))
    org_id = scalar(cur)
    cur.execute("INSERT INTO organizations_ext_organizationuser (created, modified, organization_id, user_id, role) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id", (stamp, stamp, org_id, request.user_id, OWNER))
    org_user = scalar(cur)
    cur.execute("INSERT INTO organizations_ext_organizationowner (created, modified, organization_id, "
                "organization_user_id) VALUES (%s, %s, %s, %s)", (stamp, stamp, org_id, org_user))
    return Reply(201, organization_detail(cur, request.user_id, member_org(cur, request.user_id, slug)))


def get_organization(request, cur, org):
    """apps/organizations_ext/api.py get_organization: OrganizationDetailSchema, 404 unless a member."""
    row = member_org(cur, request.user_id, org)
    if not row:
        raise Reply(404, NOT_FOUND)
    return Reply(200, organization_detail(cur, request.user_id, row))


def list_teams(request, cur, org):
    """apps/teams/api.py list_teams: teams of the organisation (none when not a member: 200 []), newest first
    (the paginator's default ordering -created)."""
    row = member_org(cur, request.user_id, org)
    return paginate(request, fetch_teams(cur, request.user_id, row["id"]) if row else [])


def create_team(request, cur, org):
    """apps/teams/api.py create_team: TeamIn {slug} (SlugStr: ^[-a-zA-Z0-9_]+$, max 50); needs role admin+ in
    the organisation (else 404); the creator joins the team. A duplicate slug violates the unique
    constraint (slug, organization) and GlitchTip answers 500 (unhandled IntegrityError)."""
    slug = check_str(request.payload, "slug", max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")
    row = member_org(cur, request.user_id, org)
    if not row or row["actor_role"] < ADMIN:
        raise Reply(404, NOT_FOUND)
    cur.execute("INSERT INTO teams_team (created, slug, organization_id) VALUES (%s, %s, %s) RETURNING id",
                (now(), slug, row["id"]))
    team_id = scalar(cur)
    cur.execute("INSERT INTO teams_team_members (team_id, organizationuser_id) SELECT %s, id FROM "
                "organizations_ext_organizationuser WHERE organization_id = %s AND user_id = %s",
                (team_id, row["id"], request.user_id))
    return Reply(201, fetch_teams(cur, request.user_id, row["id"], team_id)[0])


def list_organization_projects(request, cur, org):
    """apps/projects/api.py list_organization_projects: undeleted projects by name, with teams; ?query=team:x."""
    where, params = "p.organization_id IN (SELECT o.id FROM organizations_ext_organization o JOIN " \
                    "organizations_ext_organizationuser ou ON ou.organization_id = o.id WHERE o.slug = %(org)s " \
                    "AND ou.user_id = %(user)s) AND NOT p.is_deleted", {"org": org}
    for part in ((request.query.get("query") or [""])[0]).split():
        name, sep, value = part.partition(":")
        if sep and name in ("team", "!team"):
            param = f"t_{len(params)}"
            where += ((" AND " if name == "team" else " AND NOT ") + "EXISTS (SELECT 1 FROM teams_team_projects tp "
                      "JOIN teams_team t ON t.id = tp.team_id WHERE tp.project_id = p.id AND t.slug = %(" + param
                      + ")s)")
            params[param] = value
    projects = fetch_projects(cur, request.user_id, where, params)
    return paginate(request, [{**project_schema(p), "teams": project_teams(cur, p["id"])} for p in projects])


def project_payload(request, partial_slug=True):
    """apps/projects/schema.py ProjectIn: name (required, max 64), slug, platform, eventThrottleRate."""
    payload = request.payload
    values = {"name": check_str(payload, "name", max_length=64)}
    if "slug" in payload:
        values["slug"] = check_str(payload, "slug", max_length=50, nullable=True)
    if "platform" in payload:
        values["platform"] = check_str(payload, "platform", max_length=64, nullable=True)
    for key in ("eventThrottleRate", "event_throttle_rate"):
        if key in payload:
            value = payload[key]
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise validation_error([key], "int_type", "Input should be a valid integer")
            values["event_throttle_rate"] = value
    return values


def create_project(request, cur, org, team):
    """apps/projects/api.py create_project: team and organisation looked up with role admin+ (else 404).
    Project.slug is an AutoSlugField(populate_from name, overwrite_on_add): a slug sent is ignored, the name
    is slugified ("new" -> "new-1") and made unique in the organisation with "-2", "-3", ... counting
    soft-deleted projects (Project.objects). Project.save creates the first ProjectKey."""
    values = project_payload(request)
    row = member_org(cur, request.user_id, org)
    if not row or row["actor_role"] < ADMIN:
        raise Reply(404, NOT_FOUND)
    cur.execute("SELECT id FROM teams_team WHERE slug = %s AND organization_id = %s", (team, row["id"]))
    team_row = cur.fetchone()
    if not team_row:
        raise Reply(404, NOT_FOUND)
    base = slugify(values["name"])
    if base == "new":
        base += "-1"
    base = base[:50]
    slug, counter = base, 2
    while True:
        cur.execute("SELECT 1 FROM projects_project WHERE organization_id = %s AND slug = %s", (row["id"], slug))
        if not cur.fetchone():
            break
        end = f"-{counter}"
        slug, counter = base[:50 - len(end)] + end, counter + 1
    throttle = values.get("event_throttle_rate")
    stamp = now()
    cur.execute("INSERT INTO projects_project (created, slug, name, organization_id, platform, event_throttle_rate) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (stamp, slug, values["name"], row["id"], values.get("platform"), throttle if throttle is not None
                 else 0))
    project_id = scalar(cur)
    cur.execute("INSERT INTO projects_projectkey (created, project_id, public_key) VALUES (%s, %s, %s)",
                (stamp, project_id, str(uuid.uuid4())))
    cur.execute("INSERT INTO teams_team_projects (team_id, project_id) VALUES (%s, %s)", (team_row["id"], project_id))
    project = fetch_projects(cur, request.user_id, "p.id = %(id)s", {"id": project_id})[0]
    return Reply(201, project_schema(project))


def find_project(request, cur, org, project, admin=False):
    where = ("p.slug = %(slug)s AND NOT p.is_deleted AND p.organization_id IN (SELECT o.id FROM "
             "organizations_ext_organization o JOIN organizations_ext_organizationuser ou ON ou.organization_id = "
             "o.id WHERE o.slug = %(org)s AND ou.user_id = %(user)s" + (" AND ou.role >= 1" if admin else "") + ")")
    rows = fetch_projects(cur, request.user_id, where, {"slug": project, "org": org})
    if not rows:
        raise Reply(404, NOT_FOUND)
    return rows[0]


def project_organization(cur, project):
    """apps/projects/schema.py ProjectOrganizationSchema."""
    cur.execute("SELECT * FROM organizations_ext_organization WHERE id = %s", (project["organization_id"],))
    return {**project_schema(project), "organization": organization_schema(cur.fetchone())}


def get_project(request, cur, org, project):
    """apps/projects/api.py get_project."""
    return Reply(200, project_organization(cur, find_project(request, cur, org, project)))


def update_project(request, cur, org, project):
    """apps/projects/api.py update_project: ProjectIn (name required); set fields are written as sent
    (a slug sent here is kept: AutoSlugField does not overwrite on update)."""
    values = project_payload(request)
    row = find_project(request, cur, org, project)
    for column in ("name", "slug", "platform", "event_throttle_rate"):
        if column in values:
            cur.execute(f"UPDATE projects_project SET {column} = %s WHERE id = %s", (values[column], row["id"]))
    return Reply(200, project_organization(cur, fetch_projects(cur, request.user_id, "p.id = %(id)s",
                                                               {"id": row["id"]})[0]))


def delete_project(request, cur, org, project):
    """apps/projects/api.py delete_project: role admin+; SoftDeleteModel.delete marks is_deleted and queues
    tasks.delete_project, which a worker runs (force_delete). Until then the slug stays taken."""
    row = find_project(request, cur, org, project, admin=True)
    cur.execute("UPDATE projects_project SET is_deleted = true WHERE id = %s", (row["id"],))
    enqueue(cur, "delete_project", {"project_id": row["id"]})
    return Reply(204, "")


def list_project_keys(request, cur, org, project):
    """apps/projects/api.py list_project_keys: keys of the project (soft-deleted ones too), newest first (the
    paginator's default ordering -created); an unknown project is an empty list, not 404."""
    cur.execute("""SELECT k.* FROM projects_projectkey k JOIN projects_project p ON p.id = k.project_id
        JOIN organizations_ext_organization o ON o.id = p.organization_id
        JOIN organizations_ext_organizationuser ou ON ou.organization_id = o.id AND ou.user_id = %s
        WHERE o.slug = %s AND p.slug = %s ORDER BY k.created DESC, k.id DESC""", (request.user_id, org, project))
    return paginate(request, [key_schema(request.settings, k) for k in cur.fetchall()])


def create_project_key(request, cur, org, project):
    """apps/projects/api.py create_project_key: ProjectKeyIn {name, rateLimit {window, count}}."""
    name = check_str(request.payload, "name", required=False, max_length=64, nullable=True) or ""
    rate = request.payload.get("rateLimit", request.payload.get("rate_limit"))
    if rate is not None and not (isinstance(rate, dict) and all(isinstance(rate.get(k), int) for k in
                                                                ("window", "count"))):
        raise validation_error(["rateLimit"], "model_type", "Input should be a valid dictionary or instance of "
                                                            "KeyRateLimit")
    row = find_project(request, cur, org, project)
    cur.execute("INSERT INTO projects_projectkey (created, project_id, name, public_key, rate_limit_count, "
                "rate_limit_window) VALUES (%s, %s, %s, %s, %s, %s) RETURNING *",
                (now(), row["id"], name, str(uuid.uuid4()), rate["count"] if rate else None,
                 rate["window"] if rate else None))
    return Reply(201, key_schema(request.settings, cur.fetchone()))


def issue_schema(settings, issue, project):
    """apps/issue_events/schema.py IssueSchema."""
    return {"title": issue["title"], "metadata": issue["metadata"], "culprit": issue["culprit"] or "",
            "id": str(issue["id"]), "count": str(issue["count"]), "type": TYPE_NAMES[issue["type"]],
            "level": LEVELS[issue["level"]], "status": STATUS_NAMES[issue["status"]],
            "project": {"platform": project["platform"], "slug": project["slug"], "name": project["name"],
                        "id": str(project["id"])},
            "shortId": f"{project['slug'].upper()}-{issue['short_id']}", "numComments": 0, "stats": {"24h": []},
            "shareId": None, "logger": None,
            "permalink": f"{settings['GLITCHTIP_URL'].geturl()}/{project['slug']}/issues/{issue['id']}",
            "statusDetails": {}, "subscriptionDetails": None, "userCount": 0, "matchingEventId": None,
            "firstSeen": iso(issue["first_seen"]), "lastSeen": iso(issue["last_seen"])}


def org_member_or_404(request, cur, org):
    cur.execute("SELECT 1 FROM organizations_ext_organization o JOIN organizations_ext_organizationuser ou "
                "ON ou.organization_id = o.id WHERE o.slug = %s AND ou.user_id = %s", (org, request.user_id))
    if not cur.fetchone():
        raise Reply(404, NOT_FOUND)


def list_project_issues(request, cur, org, project):
    """apps/issue_events/api/issues.py list_project_issues: 404 for an organisation the user is not in, else
    the project's issues (an unknown project: []), sorted -last_seen."""
    org_member_or_404(request, cur, org)
    cur.execute("""SELECT i.*, p.slug AS p_slug, p.name AS p_name, p.platform AS p_platform, p.id AS p_id
        FROM issue_events_issue i JOIN projects_project p ON p.id = i.project_id
        JOIN organizations_ext_organization o ON o.id = p.organization_id
        WHERE o.slug = %s AND p.slug = %s ORDER BY i.last_seen DESC, i.id DESC""", (org, project))
    return paginate(request, [issue_schema(request.settings, i, {"slug": i["p_slug"], "name": i["p_name"],
                                                                 "platform": i["p_platform"], "id": i["p_id"]})
                              for i in cur.fetchall()])


def list_project_events(request, cur, org, project):
    """apps/issue_events/api/events.py list_project_issue_event: IssueEventSchema (reduced), -received."""
    cur.execute("""SELECT e.*, i.project_id FROM issue_events_issueevent e JOIN issue_events_issue i
        ON i.id = e.issue_id JOIN projects_project p ON p.id = i.project_id
        JOIN organizations_ext_organization o ON o.id = p.organization_id
        JOIN organizations_ext_organizationuser ou ON ou.organization_id = o.id AND ou.user_id = %s
        WHERE o.slug = %s AND p.slug = %s ORDER BY e.received DESC""", (request.user_id, org, project))
    events = []
    for e in cur.fetchall():
        data = e["data"]
        events.append({"id": uuid.UUID(str(e["id"])).hex, "eventID": uuid.UUID(str(e["id"])).hex,
                       "projectID": e["project_id"], "groupID": str(e["issue_id"]),
                       "dateCreated": iso(e["timestamp"]), "dateReceived": iso(e["received"]),
                       "dist": data.get("dist"), "culprit": e["transaction"] or None, "type": TYPE_NAMES[e["type"]],
                       "message": e["title"], "title": e["title"], "platform": data.get("platform"),
                       "metadata": {"title": e["title"]},
                       "tags": [{"key": k, "value": v} for k, v in sorted(e["tags"].items())],
                       "sdk": data.get("sdk"), "user": data.get("user")})
    return paginate(request, events)


# -- ingest: apps/event_ingest/authentication.py + api.py (store) + views.py (envelope)
def parse_auth_header(value):
    """sentry/utils/auth.py parse_auth_header: 'Sentry k=v, k=v'."""
    value = value.strip()
    if " " in value:
        scheme, rest = value.split(" ", 1)
        if scheme.lower() in ("sentry", "glitchtip"):
            value = rest
    result = {}
    for part in value.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            result[key.strip()] = val.strip()
    return result


class AuthenticationError(Exception):
    pass


def event_auth(request, cur, project_id):
    """authentication.get_project: sentry_key/glitchtip_key from the query, else X-Sentry-Auth or
    Authorization; checked against the project id with the function get_project_auth_info (key activity and
    project deletion are not checked there, so neither here)."""
    key = None
    for name in ("sentry_key", "glitchtip_key"):
        if name in request.query:
            key = request.query[name][0]
            break
    else:
        header = request.headers.get("X-Sentry-Auth") or request.headers.get("Authorization")
        if not header:
            raise AuthenticationError("Unable to find authentication information")
        parsed = parse_auth_header(header)
        key = parsed.get("sentry_key", parsed.get("glitchtip_key"))
    try:
        key = uuid.UUID(key or "")
    except ValueError:
        raise ValueError("dsn key badly formed hexadecimal UUID string")
    cur.execute("""SELECT p.id, p.organization_id, p.first_event, o.is_accepting_events,
        o.event_throttle_rate AS org_rate, p.event_throttle_rate AS project_rate FROM projects_project p
        JOIN projects_projectkey k ON k.project_id = p.id
        JOIN organizations_ext_organization o ON o.id = p.organization_id
        WHERE p.id = %s AND k.public_key = %s""", (project_id, str(key)))
    row = cur.fetchone()
    if not row:
        raise AuthenticationError("Invalid DSN")
    if not row["is_accepting_events"] or row["org_rate"] == 100 or row["project_rate"] == 100:
        raise Reply(429, {"message": "Please retry later"}, {"Retry-After": "600"})
    return row


def queue_event(cur, project, data):
    enqueue(cur, "ingest_event", {"project_id": project["id"], "received": now().isoformat(), "payload": data})


def event_store(request, cur, project_id):
    """api.py event_store: POST /api/{project_id}/store/ (ninja route, auth errors 401 {"detail"})."""
    try:
        project = event_auth(request, cur, int(project_id))
    except AuthenticationError as exc:
        raise detail(401, str(exc))
    except ValueError as exc:
        raise Reply(422, {"detail": [{"message": str(exc)}]})
    data = body_object(request)
    try:
        event_id = uuid.UUID(str(data.get("event_id"))) if data.get("event_id") else uuid.uuid4()
    except ValueError:
        raise validation_error(["event_id"], "uuid_parsing", "Input should be a valid UUID")
    cur.execute("SELECT 1 FROM issue_events_issueevent WHERE id = %s UNION ALL SELECT 1 FROM standin_task_queue "
                "WHERE payload->'payload'->>'event_id' IN (%s, %s)", (str(event_id), event_id.hex, str(event_id)))
    if cur.fetchone():
        raise Reply(422, {"detail": [{"message": "Duplicate event id"}]})
    queue_event(cur, project, {**data, "event_id": event_id.hex})
    return Reply(200, {"event_id": event_id.hex})


def event_envelope(request, cur, project_id):
    """views.py event_envelope_view (a plain Django view, csrf_exempt): 405 unless POST; auth failures 403
    {"detail": "Denied"} / {"detail": "Invalid DSN"}; reads the header line and items; queues "event" items
    (and would "transaction" ones), ignores the other known types, stops at an unknown item type."""
    if request.method != "POST":
        raise detail(405, "Method not allowed")
    try:
        project = event_auth(request, cur, int(project_id))
    except AuthenticationError:
        raise detail(403, "Denied")
    except ValueError:
        raise detail(403, "Invalid DSN")
    body = request.body()
    lines = body.split(b"\n", 1)
    if not lines[0]:
        raise detail(400, "Empty request body")
    try:
        header = json.loads(lines[0])
        header_event_id = uuid.UUID(str(header["event_id"])) if header.get("event_id") else None
    except (ValueError, AttributeError, TypeError):
        raise detail(400, "Invalid envelope header")
    rest = lines[1] if len(lines) > 1 else b""
    known = {"event", "transaction", "log", "session", "sessions", "client_report", "attachment", "user_report",
             "check_in", "profile", "replay_recording", "replay_event", "span"}
    while rest:
        item_line, sep, rest = rest.partition(b"\n")
        if not item_line.strip():
            continue
        try:
            item = json.loads(item_line)
        except ValueError:
            break
        if not isinstance(item, dict) or item.get("type") not in known:
            break
        length = item.get("length")
        if isinstance(length, int) and length >= 0:
            payload, rest = rest[:length], rest[length:]
            if len(payload) != length:
                break
            if rest.startswith(b"\n"):
                rest = rest[1:]
        else:
            payload, sep, rest = rest.partition(b"\n")
        if item["type"] == "event":
            try:
                data = json.loads(payload)
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            if not data.get("event_id"):
                data["event_id"] = (header_event_id or uuid.uuid4()).hex
            queue_event(cur, project, data)
    return Reply(200, {"id": header_event_id.hex} if header_event_id else {})


# -- allauth headless (glitchtip/settings.py HEADLESS_ONLY, HEADLESS_CLIENTS ("browser",); urls.py _allauth/)
def registration_open(request, cur):
    """apps/users/utils.py is_user_registration_open: ENABLE_USER_REGISTRATION or no user exists yet."""
    if request.settings["ENABLE_USER_REGISTRATION"]:
        return True
    cur.execute("SELECT NOT EXISTS (SELECT 1 FROM users_user)")
    return scalar(cur)


def csrf_cookie(request):
    """allauth.headless.internal.decorators.browser_view calls get_token: the csrftoken cookie is set."""
    secret = request.cookies.get("csrftoken")
    if not secret or len(secret) != 32:
        secret = "".join(secrets.choice(CSRF_CHARS) for dummy in range(32))
        request.set_cookies.append(f"csrftoken={secret}; Max-Age=31449600; Path=/; SameSite=Lax")
    return secret


def allauth_session(request, cur):
    """allauth.headless.account.views.SessionView GET: 401 with the flows when nobody is logged in."""
    csrf_cookie(request)
    flows = [{"id": "login"}] + ([{"id": "signup"}] if registration_open(request, cur) else [])
    return Reply(401, {"status": 401, "data": {"flows": flows}, "meta": {"is_authenticated": False}})


def allauth_signup(request, cur):
    """allauth.headless.account.views.SignupView POST: CSRF checked by Django's middleware first, then the
    input (SignupInput: email, password), then adapter.is_open_for_signup (glitchtip/adapters.py): closed ->
    403 {"status": 403} (ForbiddenResponse)."""
    csrf_check(request)
    payload = request.json()
    errors = []
    for field in ("email", "password"):
        if not isinstance(payload, dict) or not payload.get(field):
            errors.append({"message": "This field is required.", "code": "required", "param": field})
    if errors:
        raise Reply(400, {"status": 400, "errors": errors})
    if not registration_open(request, cur):
        raise Reply(403, {"status": 403})
    try:
        user_id = create_user(cur, payload["email"], payload["password"])
    except psycopg2.IntegrityError:
        raise Reply(400, {"status": 400, "errors": [{"message": "A user is already registered with this email "
                                                                "address.", "code": "email_taken",
                                                     "param": "email"}]})
    return Reply(200, {"status": 200, "data": {"user": {"id": user_id, "display": payload["email"],
                                                        "email": payload["email"], "has_usable_password": True},
                                               "methods": [{"method": "password", "email": payload["email"]}]},
                       "meta": {"is_authenticated": True}})


def csrf_check(request):
    """django.middleware.csrf.CsrfViewMiddleware for an unsafe method on a view that is not csrf_exempt."""
    origin = request.headers.get("Origin")
    host = request.headers.get("Host", "")
    if origin and origin != f"http://{host}":
        raise Reply(403, CSRF_HTML.format(reason=f"Origin checking failed - {origin} does not match any trusted "
                                                 "origins."), ctype="text/html; charset=utf-8")
    secret = request.cookies.get("csrftoken")
    if not secret:
        raise Reply(403, CSRF_HTML.format(reason="CSRF cookie not set."), ctype="text/html; charset=utf-8")
    token = request.headers.get("X-CSRFToken") or ""
    if not token:
        raise Reply(403, CSRF_HTML.format(reason="CSRF token missing."), ctype="text/html; charset=utf-8")
    if len(token) == 64 and all(c in CSRF_CHARS for c in token):
        token = csrf_unmask(token)
    if len(token) != 32 or not secrets.compare_digest(token, secret):
        raise Reply(403, CSRF_HTML.format(reason="CSRF token incorrect."), ctype="text/html; charset=utf-8")


# Route table: (methods -> (handler, scopes or None for no user auth)), path regex. Scopes as each view's
# has_permission(...) (glitchtip/api/permissions.py: any one of them; checked for token auth only).
ORG_R = ["org:read", "org:write", "org:admin"]
P_RW = ["project:read", "project:write", "project:admin"]
EVENT_R = ["event:read", "event:write", "event:admin"]
ROUTES = [
    (r"api/settings/", {"GET": (get_settings, None)}, "api"),
    (r"api/0/organizations/", {"GET": (list_organizations, ORG_R),
                               "POST": (create_organization, ["org:write", "org:admin"])}, "api"),
    (r"api/0/organizations/{org}/", {"GET": (get_organization, ORG_R)}, "api"),
    (r"api/0/organizations/{org}/teams/", {
        "GET": (list_teams, ["team:read", "team:write", "team:admin", *ORG_R]),
        "POST": (create_team, ["team:write", "team:admin", "org:admin", "org:write"])}, "api"),
    (r"api/0/organizations/{org}/projects/", {"GET": (list_organization_projects, ["project:read"])}, "api"),
    (r"api/0/teams/{org}/{team}/projects/", {"POST": (create_project, ["project:write", "project:admin"])}, "api"),
    (r"api/0/projects/{org}/{project}/", {"GET": (get_project, P_RW),
                                          "PUT": (update_project, ["project:write", "project:admin"]),
                                          "DELETE": (delete_project, ["project:admin"])}, "api"),
    (r"api/0/projects/{org}/{project}/keys/", {"GET": (list_project_keys, P_RW),
                                               "POST": (create_project_key, ["project:write", "project:admin"])},
     "api"),
    (r"api/0/projects/{org}/{project}/issues/", {"GET": (list_project_issues, EVENT_R)}, "api"),
    (r"api/0/projects/{org}/{project}/events/", {"GET": (list_project_events, EVENT_R)}, "api"),
    (r"api/(?P<project_id>[0-9]+)/store/", {"POST": (event_store, None)}, "ingest"),
    (r"api/(?P<project_id>[0-9]+)/envelope/", {"*": (event_envelope, None)}, "ingest"),
    (r"_allauth/browser/v1/auth/session", {"GET": (allauth_session, None)}, "allauth"),
    (r"_allauth/browser/v1/auth/signup", {"POST": (allauth_signup, None)}, "allauth"),
]
COMPILED = [(re.compile("^" + p.format(org=SLUG.format("org"), team=SLUG.format("team"),
                                       project=SLUG.format("project")) + "$"), m, k) for p, m, k in ROUTES]


def resolve(path):
    for pattern, methods, kind in COMPILED:
        match = pattern.match(path)
        if match:
            return match, methods, kind
    return None


def token_auth(request, cur):
    """glitchtip/api/authentication.py TokenAuth (ninja HttpBearer): 'Bearer <token>' of an active user."""
    value = request.headers.get("Authorization") or ""
    parts = value.split(" ")
    if len(parts) < 2 or parts[0].lower() != "bearer":
        return False
    cur.execute("SELECT t.user_id, t.scopes FROM api_tokens_apitoken t JOIN users_user u ON u.id = t.user_id "
                "WHERE t.token = %s AND u.is_active", (" ".join(parts[1:]),))
    row = cur.fetchone()
    if not row:
        return False
    request.user_id = row["user_id"]
    request.token_scopes = [flag for bit, flag in enumerate(SCOPE_FLAGS) if row["scopes"] & (1 << bit)]
    return True


def dispatch(request):
    path = request.path[1:]
    if path == "_health/":
        return health(request)
    found = resolve(path)
    if not found:
        # glitchtip/urls.py: the SPA catch-all, then Django's CommonMiddleware APPEND_SLASH (301 for every
        # method when DEBUG is off), else Django's 404 page.
        if SPA.match(path):
            if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
                return Reply(200, INDEX_HTML, ctype="text/html; charset=utf-8")
            return Reply(403, CSRF_HTML.format(reason="CSRF cookie not set."), ctype="text/html; charset=utf-8")
        if not path.endswith("/") and (resolve(path + "/") or SPA.match(path + "/") or path + "/" == "_health/"):
            location = request.path + "/" + ("?" + request.query_string if request.query_string else "")
            return Reply(301, "", {"Location": location}, ctype="text/html; charset=utf-8")
        return Reply(404, NOT_FOUND_HTML, ctype="text/html; charset=utf-8")
    match, methods, kind = found
    handler_scopes = methods.get(request.method) or methods.get("*")
    if handler_scopes is None:
        # django-ninja PathView: HttpResponseNotAllowed "Method not allowed" before authentication.
        return Reply(405, "Method not allowed", {"Allow": ", ".join(methods)}, ctype="text/html; charset=utf-8")
    handler, scopes = handler_scopes
    conn = connect(request.settings)
    try:
        return run_handler(request, conn, match, kind, handler, scopes)
    finally:
        conn.close()


def run_handler(request, conn, match, kind, handler, scopes):
    with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        try:
            require_migrated(cur)
            if kind == "api" and scopes is not None:
                # glitchtip/api/api.py auth=[TokenAuth(), SessionAuth()]: the session auth (ninja APIKeyCookie,
                # csrf=True) checks CSRF for unsafe methods and raises 403 "CSRF check Failed"; a safe method
                # without a session is 401 "Unauthorized".
                if not token_auth(request, cur):
                    if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
                        raise detail(403, "CSRF check Failed")
                    raise detail(401, "Unauthorized")
                if request.method in ("POST", "PUT", "PATCH"):
                    request.payload = body_object(request)
                if not any(s in scopes for s in request.token_scopes):
                    raise detail(403, "Permission denied")
            reply = handler(request, cur, **match.groupdict())
        except Reply as reply_exc:
            conn.rollback()
            if reply_exc.status < 400:
                raise
            return reply_exc
    return reply


def health(request):
    """glitchtip/views.py health: "ok" text/plain. GlitchTip's own does not touch the database or Valkey;
    the stand-in is stricter: 500 unless PostgreSQL answers with the migrated schema and Valkey (when
    VALKEY_URL is set) answers PING."""
    conn = connect(request.settings)
    try:
        with conn, conn.cursor() as cur:
            require_migrated(cur)
    finally:
        conn.close()
    if request.settings["VALKEY_URL"]:
        valkey_ping(request.settings["VALKEY_URL"])
    return Reply(200, "ok", ctype="text/plain")


def make_handler(settings):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "granian"
        sys_version = ""

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            log(f'{self.address_string()} "{self.requestline}" {args[1] if len(args) > 1 else ""}')

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.raw_body = self.rfile.read(length) if length else b""
            request = Request(self, settings)
            try:
                reply = dispatch(request)
            except Reply as exc:
                reply = exc
            except (psycopg2.Error, OSError) as exc:
                log("Internal Server Error: " + request.path + "\n" + django_db_error(exc)
                    if isinstance(exc, psycopg2.Error) else f"Internal Server Error: {request.path}: {exc!r}")
                reply = Reply(500, SERVER_ERROR_HTML, ctype="text/html; charset=utf-8")
            except Exception:  # pylint: disable=broad-except
                log("Internal Server Error: " + request.path + "\n" + traceback.format_exc())
                reply = Reply(500, SERVER_ERROR_HTML, ctype="text/html; charset=utf-8")
            self.send(reply, request)

        def send(self, reply, request):
            if isinstance(reply.body, (dict, list)):
                data, ctype = json.dumps(reply.body).encode(), reply.ctype or "application/json; charset=utf-8"
            else:
                data, ctype = (reply.body or "").encode(), reply.ctype or "text/html; charset=utf-8"
            self.send_response(reply.status)
            if reply.status != 204:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            for cookie in request.set_cookies:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any

    return Handler


def serve(settings, stop):
    server = ThreadingHTTPServer(("0.0.0.0", settings["PORT"]), make_handler(settings))
    server.daemon_threads = True
    threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    log(f"{BANNER}: version {settings['GLITCHTIP_VERSION']}, listening on port {settings['PORT']}")
    server.serve_forever()


def check_valkey_at_start(settings):
    """Real GlitchTip does not PING Valkey at start: it is the cache and task broker, and requests that use
    them fail once it is unreachable. The stand-in PINGs at start and logs the failure; /_health/ then
    answers 500 until Valkey answers (stricter)."""
    if settings["VALKEY_URL"]:
        try:
            valkey_ping(settings["VALKEY_URL"])
            log(f"Valkey at {urllib.parse.urlparse(settings['VALKEY_URL']).hostname} answered PING")
        except OSError as exc:
            log(f"Error connecting to Valkey {urllib.parse.urlparse(settings['VALKEY_URL']).hostname}: {exc}")


def main(argv):
    """standin.py web | worker | all_in_one (bin/start.sh, bin/run-worker.sh)."""
    settings = settings_or_exit()
    role = argv[0] if argv else "web"
    stop = threading.Event()
    check_valkey_at_start(settings)
    if role == "all_in_one":
        # app.py (all-in-one): migrations, then the server and the embedded worker in one process.
        import manage  # pylint: disable=import-outside-toplevel
        if manage.main(["manage.py", "migrate"]) != 0:
            sys.exit(1)
    if role in ("worker", "all_in_one"):
        thread = threading.Thread(target=worker_loop, args=(settings, stop), daemon=role == "all_in_one")
        thread.start()
        if role == "worker":
            try:
                thread.join()
            except KeyboardInterrupt:
                stop.set()
            return
    serve(settings, stop)


if __name__ == "__main__":
    main(sys.argv[1:])
