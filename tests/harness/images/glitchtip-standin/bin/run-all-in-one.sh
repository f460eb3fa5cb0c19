#!/bin/sh
# microops-test GlitchTip STAND-IN all-in-one (GlitchTip: exec python app.py): migrate, then web and
# worker in one process.
exec python3 /code/standin.py all_in_one
