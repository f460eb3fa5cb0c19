#!/bin/sh
# microops-test GlitchTip STAND-IN: bin/start.sh as in glitchtip-backend (SERVER_ROLE chooses the
# script; unknown roles are refused with GlitchTip's message). GlitchTip 6 roles: web (default),
# worker, all_in_one (web, worker and migrations in one process, app.py).
set -e

SERVER_ROLE="${SERVER_ROLE:-web}"

case $SERVER_ROLE in
    web)
        SCRIPT="./bin/run-web.sh"
        ;;
    worker)
        SCRIPT="./bin/run-worker.sh"
        ;;
    all_in_one)
        SCRIPT="./bin/run-all-in-one.sh"
        ;;
    *)
        echo "Unknown server role provided: $SERVER_ROLE. Should be web|worker|all_in_one."
        exit 1
        ;;
esac

. "$SCRIPT"
