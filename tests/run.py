#!/usr/bin/env python
"""`make test`: every test stage in order, each failing the run when it fails.

Prints a table of stages and ends with one line `N passed, N failed`, where N counts single
checks: each pytest test, each Molecule scenario, and each lint stage as one.
A pytest stage with test files that collects no test (pytest's exit code 5) is a failure; a
stage with no test files yet is reported as such and counts nothing, so an empty stage can
neither pass nor fail silently.

Usage: tests/run.py [STAGE ...]   (default: all; names as printed)
"""
import glob
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "tests", "output")
ENV = dict(os.environ, PY_COLORS="0", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
           NO_COLOR="1", MOLECULE_NO_LOG="false")


def sh(stage, cmd):
    print(f"\n=== {stage}: {' '.join(cmd)}", flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=ENV, check=False).returncode


def single(stage, cmd):
    """A stage that is one check: its exit code is the verdict."""
    return (1, 0) if sh(stage, cmd) == 0 else (0, 1)


def pytest(stage, paths):
    files = [f for p in paths
             for f in glob.glob(os.path.join(ROOT, p, "**", "test_*.py"), recursive=True)]
    if not files:
        print(f"\n=== {stage}: no test files under {', '.join(paths)} yet")
        return None
    report = os.path.join(OUTPUT, f"junit-{stage}.xml")
    rc = sh(stage, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"--junitxml={report}", *paths])
    if rc == 5:
        print(f"{stage}: test files exist but pytest collected no test: failing")
        return (0, 1)
    try:
        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        total, skipped = int(suite.get("tests")), int(suite.get("skipped"))
        failed = int(suite.get("failures")) + int(suite.get("errors"))
    except (OSError, ET.ParseError, AttributeError, TypeError):
        return (0, 1)
    if rc != 0 and failed == 0:  # pytest failed outside any test (collection, internal error)
        failed = 1
    return (total - skipped - failed, failed)


def molecule(stage):
    passed = failed = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "molecule", "*", "molecule.yml"))):
        scenario = os.path.basename(os.path.dirname(path))
        if sh(f"{stage} {scenario}", ["molecule", "test", "-s", scenario]) == 0:
            passed += 1
        else:
            failed += 1
    return (passed, failed) if passed + failed else None


STAGES = [
    ("yamllint", lambda s: single(s, ["yamllint", "--strict", "."])),
    ("ansible-lint", lambda s: single(s, ["ansible-lint"])),
    ("argument-specs", lambda s: single(s, [sys.executable, "tests/lint_argument_specs.py"])),
    ("sanity", lambda s: single(s, ["bash", "tests/sanity/run.sh"])),
    ("unit", lambda s: pytest(s, ["tests/unit"])),
    ("harness", lambda s: single(s, ["bash", "tests/harness/up"])),
    ("images", lambda s: pytest(s, ["tests/harness", "tests/standins"])),
    ("integration", lambda s: pytest(s, ["tests/integration"])),
    ("molecule", molecule),
]


def main(argv):
    names = [name for name, _run in STAGES]
    unknown = set(argv) - set(names)
    if unknown:
        sys.exit(f"unknown stage(s) {sorted(unknown)}; stages: {', '.join(names)}")
    os.makedirs(OUTPUT, exist_ok=True)
    results = []
    for name, run in STAGES:
        if argv and name not in argv:
            continue
        start = time.monotonic()
        outcome = run(name)
        results.append((name, outcome, time.monotonic() - start))
    print("\n=== summary")
    for name, outcome, seconds in results:
        verdict = "no tests yet" if outcome is None else f"{outcome[0]} passed, {outcome[1]} failed"
        print(f"  {name:<15} {verdict:<28} {seconds:7.1f} s")
    passed = sum(o[0] for _name, o, _seconds in results if o)
    failed = sum(o[1] for _name, o, _seconds in results if o)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
