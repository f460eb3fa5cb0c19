#!/usr/bin/env python
"""microops-test GlitchTip STAND-IN manage.py, not Django's.

Implements only the commands the collection and GlitchTip's bin/run-migrate.sh run, with Django's
messages and exit codes (django/core/management/...):
- migrate [--skip-checks] [--noinput]: creates the stand-in's tables (standin.MIGRATIONS), records them in
  django_migrations; "No migrations to apply." when done before.
- createcachetable: the database cache table (django_cache) when VALKEY_URL is empty (settings.py falls back
  to DatabaseCache), nothing otherwise.
- pgpartition --yes: GlitchTip's partition maintenance (psql_partition); nothing to do here after migrate.
- createsuperuser --noinput [--email E]: DJANGO_SUPERUSER_EMAIL / DJANGO_SUPERUSER_PASSWORD
  (contrib/auth/management/commands/createsuperuser.py); an existing email (case-insensitive, as the
  users_user.email collation) -> "CommandError: Error: That email is already taken." exit 1.
- shell [-c CODE]: runs CODE, or the program on stdin, with strict stub modules providing only
  django.contrib.auth.get_user_model (User.objects.get(email=...)) and apps.api_tokens.models.APIToken
  (objects.create(user=, label=), add_permission(s), token, get_scopes()), backed by the same tables.
  Any other import fails (ModuleNotFoundError) and any other attribute raises AttributeError.
Unknown commands: "Unknown command: 'x'" exit 1, as Django.
"""
import os
import select
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psycopg2  # noqa: E402  pylint: disable=wrong-import-position

import standin  # noqa: E402  pylint: disable=wrong-import-position

COMMANDS = ("migrate", "createcachetable", "pgpartition", "createsuperuser", "shell")


class CommandError(Exception):
    pass


def command_migrate(settings, args):
    conn = standin.connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS django_migrations (id bigserial PRIMARY KEY, "
                        "app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL)")
            done = standin.applied_migrations(cur)
            print("Operations to perform:")
            print("  Apply all migrations: " + ", ".join(sorted({migration[0] for migration in standin.MIGRATIONS})))
            print("Running migrations:")
            pending = [m for m in standin.MIGRATIONS if m[:2] not in done]
            if not pending:
                print("  No migrations to apply.")
            for app, name, statements in pending:
                for statement in statements:
                    cur.execute(statement)
                cur.execute("INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, now())", (app, name))
                print(f"  Applying {app}.{name}... OK")
    finally:
        conn.close()


def command_createcachetable(settings, args):
    if settings["VALKEY_URL"]:
        return
    conn = standin.connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS django_cache (cache_key varchar(255) PRIMARY KEY, "
                        "value text NOT NULL, expires timestamptz NOT NULL)")
    finally:
        conn.close()


def command_pgpartition(settings, args):
    conn = standin.connect(settings)
    try:
        with conn, conn.cursor() as cur:
            standin.require_migrated(cur)
    finally:
        conn.close()
    if "--yes" not in args and "-y" not in args:
        raise CommandError("pgpartition: the stand-in only runs non-interactively (--yes)")


def command_createsuperuser(settings, args):
    if "--noinput" not in args and "--no-input" not in args:
        raise CommandError("Superuser creation skipped due to not running in a TTY. You can run `manage.py "
                           "createsuperuser` in your project to create one manually.")
    email = None
    if "--email" in args:
        index = args.index("--email")
        email = args[index + 1] if index + 1 < len(args) else None
    if email is None:
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL")
    if email is None:
        raise CommandError("You must use --email with --noinput.")
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
    conn = standin.connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM users_user WHERE email = %s", (email,))
            if cur.fetchone():
                raise CommandError("Error: That email is already taken.")
            if not email:
                raise CommandError("Email cannot be blank.")
            local, sep, domain = email.rpartition("@")
            if not sep or not local or "." not in domain or " " in email:
                raise CommandError("Enter a valid email address.")
            standin.create_user(cur, email, password, superuser=True)
    finally:
        conn.close()
    print("Superuser created successfully.")


# ----------------------------------------------------------------------------- shell stubs
class DoesNotExist(Exception):
    pass


class MultipleObjectsReturned(Exception):
    pass


def stub_modules(settings):
    """Strict doubles of the two Django/GlitchTip names the collection's token program uses."""
    conn = standin.connect(settings)
    conn.autocommit = True

    class UserManager:
        def get(self, **kwargs):
            if set(kwargs) != {"email"}:
                raise AttributeError("stand-in User.objects.get supports only email=")
            with conn.cursor() as cur:
                standin.require_migrated(cur)
                cur.execute("SELECT id, email FROM users_user WHERE email = %s", (kwargs["email"],))
                rows = cur.fetchall()
            if not rows:
                raise User.DoesNotExist("User matching query does not exist.")
            if len(rows) > 1:
                raise User.MultipleObjectsReturned("get() returned more than one User")
            return User(*rows[0])

    class User:
        __slots__ = ("id", "pk", "email")
        objects = UserManager()

        def __init__(self, user_id, email):
            self.id = self.pk = user_id
            self.email = email

        def __str__(self):
            return self.email

    User.DoesNotExist = type("DoesNotExist", (DoesNotExist,), {})
    User.MultipleObjectsReturned = type("MultipleObjectsReturned", (MultipleObjectsReturned,), {})

    class Scopes:
        """bitfield.types.BitHandler: setattr of a registered flag; others raise ValueError."""

        def __init__(self, mask):
            object.__setattr__(self, "_mask", mask)

        def __setattr__(self, key, value):
            bit = standin.SCOPE_FLAGS.index(key)  # ValueError: 'x' is not in list, as BitHandler
            mask = self._mask | (1 << bit) if value else self._mask & ~(1 << bit)
            object.__setattr__(self, "_mask", mask)

        def items(self):
            return [(flag, bool(self._mask & (1 << bit))) for bit, flag in enumerate(standin.SCOPE_FLAGS)]

    class APITokenManager:
        def create(self, user=None, label="", **kwargs):
            if kwargs or not isinstance(user, User):
                raise AttributeError("stand-in APIToken.objects.create supports only user=<User> and label=")
            token = APIToken()
            token.token = standin.binascii.hexlify(os.urandom(32)).decode()  # models.generate_token
            token.user, token.label, token.scopes = user, label, Scopes(0)
            with conn.cursor() as cur:
                cur.execute("INSERT INTO api_tokens_apitoken (created, token, user_id, label, scopes) "
                            "VALUES (now(), %s, %s, %s, 0) RETURNING id", (token.token, user.id, label))
                token.id = token.pk = cur.fetchone()[0]
            return token

    class APIToken:
        __slots__ = ("id", "pk", "token", "user", "label", "scopes")
        objects = APITokenManager()

        def _save_scopes(self):
            with conn.cursor() as cur:
                cur.execute("UPDATE api_tokens_apitoken SET scopes = %s WHERE id = %s", (self.scopes._mask, self.id))

        def add_permission(self, permission):
            setattr(self.scopes, permission, True)
            self._save_scopes()

        def add_permissions(self, permissions):
            for permission in permissions:
                setattr(self.scopes, permission, True)
            self._save_scopes()

        def get_scopes(self):
            return [flag for flag, on in self.scopes.items() if on]

        def __str__(self):
            return self.token

    def package(name, **attrs):
        module = types.ModuleType(name)
        module.__path__ = []  # a package: other submodules are looked up and not found
        module.__dict__.update(attrs)
        return module

    auth = package("django.contrib.auth", get_user_model=lambda: User)
    models = types.ModuleType("apps.api_tokens.models")
    models.APIToken = APIToken
    modules = {"django": package("django"), "django.contrib": package("django.contrib"),
               "django.contrib.auth": auth, "apps": package("apps"), "apps.api_tokens": package("apps.api_tokens"),
               "apps.api_tokens.models": models}
    modules["django"].contrib = modules["django.contrib"]
    modules["django.contrib"].auth = auth
    modules["apps"].api_tokens = modules["apps.api_tokens"]
    modules["apps.api_tokens"].models = models
    return modules


def command_shell(settings, args):
    """django/core/management/commands/shell.py: -c/--command, else stdin when it is not a TTY and has
    data; an interactive shell is not provided."""
    code = None
    for flag in ("-c", "--command"):
        if flag in args:
            index = args.index(flag)
            code = args[index + 1] if index + 1 < len(args) else None
    if code is None:
        if not sys.stdin.isatty() and select.select([sys.stdin], [], [], 0.5)[0]:
            code = sys.stdin.read()
        else:
            raise CommandError("stand-in manage.py shell: no interactive shell; pass -c or a program on stdin")
    # The real modules are not importable in the stand-in: drop search paths so only the stubs resolve.
    sys.modules.update(stub_modules(settings))
    sys.path[:] = [p for p in sys.path if "dist-packages" not in p and "site-packages" not in p]
    exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})  # pylint: disable=exec-used


def main(argv):
    if len(argv) < 2:
        print("Type 'manage.py help <subcommand>' for help on a specific subcommand.", file=sys.stderr)
        return 1
    command, args = argv[1], argv[2:]
    if command not in COMMANDS:
        print(f"Unknown command: {command!r}\nType 'manage.py help' for usage.", file=sys.stderr)
        return 1
    settings = standin.settings_or_exit()
    try:
        globals()["command_" + command](settings, args)
    except CommandError as exc:
        print(f"CommandError: {exc}", file=sys.stderr, flush=True)
        return 1
    except psycopg2.Error as exc:
        print("Traceback (most recent call last):\n  ...", file=sys.stderr)
        print(standin.django_db_error(exc), file=sys.stderr, flush=True)
        return 1
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
