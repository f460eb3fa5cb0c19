#!/usr/bin/env bash
# microops-test GlitchTip STAND-IN: glitchtip-backend bin/run-migrate.sh, the same three commands.
set -e

echo "Run Django migrations"
./manage.py migrate --skip-checks
echo "Create Django cache table, if needed"
./manage.py createcachetable
echo "Create and delete Postgres partitions"
./manage.py pgpartition --yes
