#!/usr/bin/env python
"""`make test`: every test stage in order, each failing the run when it fails.

Prints a table of stages and ends with one line `N passed, N failed` (`, N skipped` appended when
a test was skipped), where N counts single checks: each pytest test, each Molecule scenario, and
each lint stage as one.

What the final line counts:
- `passed` counts product checks only. Two stages are run and printed but not counted there:
  `harness` (tests/harness/up builds the engine and images: setup, not a check of the collection)
  and `harness-checks` (tests/harness/checks: a built image compared with the recipe that built
  it, which says nothing about the collection).
- `failed` and `skipped` count every stage, those two included: a failure anywhere fails the run,
  and the line never reads `0 failed` for a failing run.

Skipped tests are listed with their reasons and counted per stage and in total. A skip means a
test did not run, usually because a tool it needs is missing (moto_server, docker): with CI=true
(`.ci/run` under CI) each skipped test counts as a failure, so CI cannot pass without running
every test; locally the run still passes, and prints what it skipped.

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
CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


class Outcome:
    """The checks of one stage. skips: (test id, reason) of each skipped test; failures: (test id,
    the first line of its failure) of each failed one, repeated at the end of the run, where a
    reader of a long log (CI's tail) finds them."""

    def __init__(self, passed=0, failed=0, skips=(), failures=()):
        self.passed, self.failed, self.skips, self.failures = passed, failed, list(skips), list(failures)

    @property
    def skipped(self):
        return len(self.skips)


def sh(stage, cmd):
    print(f"\n=== {stage}: {' '.join(cmd)}", flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=ENV, check=False).returncode


def single(stage, cmd):
    """A stage that is one check: its exit code is the verdict."""
    return Outcome(1, 0) if sh(stage, cmd) == 0 else Outcome(0, 1)


def find_test_files(path):
    full = os.path.join(ROOT, path)
    if os.path.isfile(full):
        return [full]
    return glob.glob(os.path.join(full, "**", "test_*.py"), recursive=True)


def pytest(stage, paths, ignore=()):
    ignored = tuple(os.path.join(ROOT, p) + os.sep for p in ignore)
    files = [f for p in paths for f in find_test_files(p) if not f.startswith(ignored)]
    if not files:
        print(f"\n=== {stage}: no test files under {', '.join(paths)} yet")
        return None
    report = os.path.join(OUTPUT, f"junit-{stage}.xml")
    rc = sh(stage, [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                    f"--junitxml={report}", *[f"--ignore={p}" for p in ignore], *paths])
    if rc == 5:
        print(f"{stage}: test files exist but pytest collected no test: failing")
        return Outcome(0, 1)
    try:
        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        total = int(suite.get("tests"))
        failed = int(suite.get("failures")) + int(suite.get("errors"))
        skips, failures = [], []
        for case in suite.iter("testcase"):
            test = f"{case.get('classname')}::{case.get('name')}"
            skip = case.find("skipped")
            if skip is not None:
                skips.append((test, skip.get("message") or skip.get("type") or "no reason given"))
            for problem in (case.find("failure"), case.find("error")):
                if problem is not None:
                    first = (problem.get("message") or problem.text or "").strip().splitlines()
                    failures.append((test, (first[0] if first else "no message")[:300]))
    except (OSError, ET.ParseError, AttributeError, TypeError):
        return Outcome(0, 1)
    if rc != 0 and failed == 0:  # pytest failed outside any test (collection, internal error)
        failed = 1
    return Outcome(total - len(skips) - failed, failed, skips, failures)


def molecule(stage):
    passed, failures = 0, []
    for path in sorted(glob.glob(os.path.join(ROOT, "molecule", "*", "molecule.yml"))):
        scenario = os.path.basename(os.path.dirname(path))
        if sh(f"{stage} {scenario}", ["molecule", "test", "-s", scenario]) == 0:
            passed += 1
        else:
            failures.append((f"scenario {scenario}", f"see '=== {stage} {scenario}' above"))
    return Outcome(passed, len(failures), failures=failures) if passed + len(failures) else None


# name, run, counted: whether its passed checks count in the final line (see the docstring).
STAGES = [
    ("yamllint", lambda s: single(s, ["yamllint", "--strict", "."]), True),
    ("ansible-lint", lambda s: single(s, ["ansible-lint"]), True),
    ("argument-specs", lambda s: single(s, [sys.executable, "tests/lint_argument_specs.py"]), True),
    ("sanity", lambda s: single(s, ["bash", "tests/sanity/run.sh"]), True),
    ("unit", lambda s: pytest(s, ["tests/unit"]), True),
    ("harness", lambda s: single(s, ["bash", "tests/harness/up"]), False),
    ("harness-checks", lambda s: pytest(s, ["tests/harness/checks"]), False),
    ("images", lambda s: pytest(s, ["tests/harness", "tests/standins"], ignore=["tests/harness/checks"]), True),
    ("integration", lambda s: pytest(s, ["tests/integration"]), True),
    ("molecule", molecule, True),
]
NOT_COUNTED = {"harness": "setup, not counted", "harness-checks": "harness checks, not counted"}


def verdict(outcome):
    if outcome is None:
        return "no tests yet"
    text = f"{outcome.passed} passed, {outcome.failed} failed"
    if outcome.skipped:
        text += f", {outcome.skipped} skipped" + (" (failed: CI=true)" if CI else "")
    return text


def main(argv):
    names = [name for name, _run, _counted in STAGES]
    unknown = set(argv) - set(names)
    if unknown:
        sys.exit(f"unknown stage(s) {sorted(unknown)}; stages: {', '.join(names)}")
    os.makedirs(OUTPUT, exist_ok=True)
    results = []
    for name, run, counted in STAGES:
        if argv and name not in argv:
            continue
        start = time.monotonic()
        outcome = run(name)
        if outcome is not None and outcome.skips and CI:
            print(f"{name}: CI=true: {outcome.skipped} skipped test(s) count as failed")
            outcome.failed += outcome.skipped
        results.append((name, outcome, counted, time.monotonic() - start))
    skips = [(name, test, reason) for name, o, _c, _s in results if o for test, reason in o.skips]
    if skips:
        print(f"\n=== skipped{' (each a failure: CI=true)' if CI else ''}")
        for name, test, reason in skips:
            print(f"  {name}: {test}: {reason}")
    failures = [(name, test, why) for name, o, _c, _s in results if o for test, why in o.failures]
    if failures:
        print("\n=== failed")
        for name, test, why in failures:
            print(f"  {name}: {test}: {why}")
    print("\n=== summary")
    for name, outcome, counted, seconds in results:
        note = "" if counted else f"  ({NOT_COUNTED.get(name, 'not counted')})"
        print(f"  {name:<15} {verdict(outcome):<40} {seconds:7.1f} s{note}")
    passed = sum(o.passed for _n, o, counted, _s in results if o and counted)
    failed = sum(o.failed for _n, o, _c, _s in results if o)
    skipped = 0 if CI else len(skips)  # under CI they are failures already
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    # A run where nothing passed proves nothing, even when only uncounted stages ran.
    return 1 if failed or not any(o and o.passed for _n, o, _c, _s in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
