#!/bin/sh
# Same argument handling as MinIO's dockerscripts/docker-entrypoint.sh (github.com/minio/minio):
# arguments that do not start with `minio` get it prepended, so `server /data ...` runs
# `minio server /data ...`. Here /usr/bin/minio is the stand-in (standin.py), not MinIO.
if [ "${1}" != "minio" ]; then
    if [ -n "${1}" ]; then
        set -- minio "$@"
    fi
fi
exec "$@"
