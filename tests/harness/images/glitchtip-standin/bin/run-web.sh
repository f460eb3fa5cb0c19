#!/bin/sh
# microops-test GlitchTip STAND-IN web server (GlitchTip: granian/uvicorn on $PORT).
exec python3 /code/standin.py web
