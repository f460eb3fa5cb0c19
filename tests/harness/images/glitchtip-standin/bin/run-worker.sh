#!/bin/sh
# microops-test GlitchTip STAND-IN worker (GlitchTip 6: ./bin/run-worker.sh): processes the queued
# ingest and project-deletion tasks.
exec python3 /code/standin.py worker
