"""The monitoring role's default alert rules (files/rules/stack.yml), unit-tested by the real
promtool of the harness's Prometheus image (Debian's build): `promtool test rules` runs the cases
of files/rules/tests/stack_test.yml on sample series.

Everything is derived from the two files, so a new rule needs no change here, only its cases:
every alert must have a case where it fires (with every label the rule sets) and one where it must
not fire, or the structure test fails. And the cases must be able to fail: each alert is broken on
purpose (it never fires; it fires at once, everywhere) and its cases must then fail in promtool."""

import copy
import os
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(ROOT, "roles", "monitoring", "files", "rules")
IMAGE = "microops-test/prometheus:2.42"


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


RULE_FILE = load(os.path.join(RULES, "stack.yml"))
TEST_FILE = load(os.path.join(RULES, "tests", "stack_test.yml"))
ALL_RULES = [rule for group in RULE_FILE["groups"] for rule in group["rules"]]
ALERTS = {rule["alert"]: rule for rule in ALL_RULES if "alert" in rule}


def cases(alert, firing):
    """The alert_rule_test cases of `alert` that expect it to fire (firing=True) or not."""
    return [case for test in TEST_FILE["tests"] for case in test.get("alert_rule_test", [])
            if case["alertname"] == alert and bool(case["exp_alerts"]) == firing]


def promtool(*args, volume=RULES):
    return subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--user", "0", "--volume", f"{volume}:/rules:ro",
         "--entrypoint", "/bin/promtool", IMAGE, *args],
        capture_output=True, text=True, check=False, timeout=120)


def test_default_rules_are_valid():
    result = promtool("check", "rules", "/rules/stack.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALL_RULES)} rules found" in result.stdout


def test_default_rules_fire_as_their_unit_tests_expect():
    result = promtool("test", "rules", "/rules/tests/stack_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_cases_that_fire_with_its_labels_and_cases_that_do_not():
    tested = {case["alertname"] for test in TEST_FILE["tests"] for case in test.get("alert_rule_test", [])}
    # promtool passes `exp_alerts: []` for an alert that does not exist: a renamed rule would
    # leave its quiet cases passing.
    assert tested <= set(ALERTS), f"cases of alerts that are not in stack.yml: {sorted(tested - set(ALERTS))}"
    missing = {}
    for alert, rule in ALERTS.items():
        firing = cases(alert, True)
        problems = []
        if not firing:
            problems.append("no case where it fires")
        if not cases(alert, False):
            problems.append("no case where it must not fire")
        for case in firing:
            for expected in case["exp_alerts"]:
                labels = expected.get("exp_labels") or {}
                wrong = {k: v for k, v in (rule.get("labels") or {}).items() if labels.get(k) != v}
                if wrong:
                    problems.append(f"a case at {case['eval_time']} does not expect its labels {wrong}")
                if "annotations" in rule and not expected.get("exp_annotations"):
                    problems.append(f"a case at {case['eval_time']} does not expect its annotations")
        if problems:
            missing[alert] = problems
    assert not missing, f"stack_test.yml lacks cases: {missing}"


def mutant(alert, expr, keep_for):
    """stack.yml with one alert's expression replaced."""
    rules = copy.deepcopy(RULE_FILE)
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                rule["expr"] = expr(rule["expr"])
                if not keep_for:
                    rule.pop("for", None)
    return rules


def only(alert, firing):
    """stack_test.yml reduced to the cases of `alert` that expect it to fire (or not)."""
    tests = []
    for test in copy.deepcopy(TEST_FILE)["tests"]:
        kept = [case for case in test.get("alert_rule_test", [])
                if case["alertname"] == alert and bool(case["exp_alerts"]) == firing]
        if kept:
            test["alert_rule_test"] = kept
            test.pop("promql_expr_test", None)
            tests.append(test)
    return dict(TEST_FILE, tests=tests)


# kind: (the cases kept, how the alert is broken, keep its `for`)
BREAKS = {
    # Cases that expect it to fire must fail when it never fires.
    "never-fires": (True, lambda expr: f"({expr}) and on() vector(0) > 1", True),
    # Cases that expect silence must fail when it fires at once, on any series.
    "always-fires": (False, lambda expr: f"({expr}) or vector(1)", False),
}


@pytest.fixture(name="broken_runs", scope="module")
def broken_runs_fixture(tmp_path_factory):
    """For each alert and break: promtool's exit code on the intact rules and on the broken ones,
    with the cases of that kind only. One container runs them all."""
    root = tmp_path_factory.mktemp("broken-rules")
    runs = []
    for alert in ALERTS:
        for kind, (firing, expr, keep_for) in BREAKS.items():
            for broken in (False, True):
                name = f"{alert}-{kind}-{'broken' if broken else 'intact'}"
                rules = mutant(alert, expr, keep_for) if broken else RULE_FILE
                (root / name / "tests").mkdir(parents=True)
                (root / name / "stack.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
                (root / name / "tests" / "stack_test.yml").write_text(
                    yaml.safe_dump(only(alert, firing)), encoding="utf-8")
                runs.append(name)
    script = "".join(f'promtool test rules /rules/{name}/tests/stack_test.yml >/dev/null 2>&1; echo "{name} $?"; '
                     for name in runs)
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--user", "0", "--volume", f"{root}:/rules:ro",
         "--entrypoint", "/bin/sh", IMAGE, "-c", script],
        capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    codes = dict(line.split() for line in result.stdout.splitlines())
    assert sorted(codes) == sorted(runs), result.stdout + result.stderr
    return {name: int(code) for name, code in codes.items()}


@pytest.mark.parametrize("kind", sorted(BREAKS))
@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_cases_of_an_alert_fail_when_it_is_broken(broken_runs, alert, kind):
    assert broken_runs[f"{alert}-{kind}-intact"] == 0, "its cases alone fail on the intact rules"
    assert broken_runs[f"{alert}-{kind}-broken"] != 0, f"its cases still pass when it {kind.replace('-', ' ')}"
