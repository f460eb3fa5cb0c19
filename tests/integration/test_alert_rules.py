"""The monitoring role's default alert rules, unit-tested by the real promtool of the harness's
Prometheus image (Debian's build): `promtool test rules` fires each alert on sample series."""

import os
import subprocess

RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "roles", "monitoring", "files", "rules")
IMAGE = "microops-test/prometheus:2.42"


def promtool(*args):
    return subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--user", "0", "--volume", f"{RULES}:/rules:ro",
         "--entrypoint", "/bin/promtool", IMAGE, *args],
        capture_output=True, text=True, check=False, timeout=120)


def test_default_rules_are_valid():
    result = promtool("check", "rules", "/rules/stack.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


def test_default_rules_fire_as_their_unit_tests_expect():
    result = promtool("test", "rules", "/rules/tests/stack_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
