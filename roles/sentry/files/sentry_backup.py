# Installed by the microops.stack sentry role. Dumps GlitchTip's PostgreSQL database (pg_dump's
# custom format) to the stack's object storage and keeps the newest N dumps; restores one.
# Settings, credentials included, come from a root-only JSON file (--config).
#
#   python3 sentry_backup.py [--config FILE] backup        dump, upload, prune; prints the object name
#   python3 sentry_backup.py [--config FILE] list          the dumps, oldest first
#   python3 sentry_backup.py [--config FILE] restore NAME  NAME or "latest" into the running
#       database (stop GlitchTip first: playbooks/restore_sentry.yml)
import argparse
import datetime
import json
import subprocess
import sys
import tempfile

import boto3
from botocore.config import Config

DEFAULT_CONFIG = "/etc/microops/sentry/backup.json"


def client(conf):
    return boto3.client(
        "s3", endpoint_url=conf["endpoint"], region_name=conf["region"],
        aws_access_key_id=conf["access_key"], aws_secret_access_key=conf["secret_key"],
        config=Config(s3={"addressing_style": "path" if conf.get("path_style", True) else "auto"},
                      retries={"max_attempts": 5, "mode": "standard"}))


def dumps(s3, conf):
    """Object names of the dumps, oldest first (names carry a UTC timestamp)."""
    names = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=conf["bucket"], Prefix=conf["prefix"]):
        names += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(".dump")]
    return sorted(names)


def psql_argv(conf, program, *args):
    return ["docker", "exec", "-i", conf["container"], program, "-U", conf["user"], "-d", conf["database"], *args]


def backup(s3, conf):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"{conf['prefix']}{conf['database']}-{stamp}.dump"
    with tempfile.TemporaryFile(dir="/var/tmp") as dump:
        # A dump that fails half-way is never uploaded: pg_dump's exit status decides.
        result = subprocess.run(psql_argv(conf, "pg_dump", "--format=custom"), stdout=dump, check=False)
        if result.returncode != 0:
            sys.exit(f"pg_dump failed with status {result.returncode}; nothing uploaded")
        dump.seek(0)
        s3.upload_fileobj(dump, conf["bucket"], name)
    names = dumps(s3, conf)
    for old in names[:max(0, len(names) - int(conf["keep"]))]:
        s3.delete_object(Bucket=conf["bucket"], Key=old)
    print(name)


def restore(s3, conf, wanted):
    names = dumps(s3, conf)
    if not names:
        sys.exit(f"no dump under s3://{conf['bucket']}/{conf['prefix']}")
    name = names[-1] if wanted == "latest" else wanted
    if name not in names:
        sys.exit(f"no dump named {name} under s3://{conf['bucket']}/{conf['prefix']}; there are: {', '.join(names)}")
    with tempfile.TemporaryFile(dir="/var/tmp") as dump:
        s3.download_fileobj(conf["bucket"], name, dump)
        dump.seek(0)
        # --clean --if-exists: every object of the dump replaces the one of the same name, so
        # the database ends as the dump has it; --single-transaction: all or nothing.
        result = subprocess.run(psql_argv(conf, "pg_restore", "--clean", "--if-exists", "--no-owner",
                                          "--single-transaction", "--exit-on-error"),
                                stdin=dump, check=False)
        if result.returncode != 0:
            sys.exit(f"pg_restore of {name} failed with status {result.returncode}; the database is unchanged")
    print(name)


def main():
    parser = argparse.ArgumentParser(description="Dump GlitchTip's database to S3, or restore a dump.")
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("backup")
    sub.add_parser("list")
    sub.add_parser("restore").add_argument("name")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as handle:
        conf = json.load(handle)
    s3 = client(conf)
    if args.command == "backup":
        backup(s3, conf)
    elif args.command == "list":
        print("\n".join(dumps(s3, conf)))
    else:
        restore(s3, conf, args.name)


if __name__ == "__main__":
    main()
