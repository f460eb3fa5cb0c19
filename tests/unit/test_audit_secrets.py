"""Tests for molecule/shared/files/audit_secrets.py, the search of the secrets audit: it must find
what it looks for, classify files by the first row that matches, and never put a value in a
problem it reports."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "molecule" / "shared" / "files" / "audit_secrets.py"
_spec = importlib.util.spec_from_file_location("audit_secrets", SCRIPT)
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)

SECRET = "s3cr3t-value-0123456789"
OWNER = f"{os.getuid()}:{os.getgid()}"


@pytest.fixture(name="tree")
def tree_fixture(tmp_path, monkeypatch):
    """A fake /etc/microops and /opt/microops, and a fake temporary directory."""
    etc, opt, temporary = tmp_path / "etc", tmp_path / "opt", tmp_path / "tmp"
    for directory in (etc / "sentry" / "run", opt, temporary):
        directory.mkdir(parents=True)
    files = {etc / "sentry" / "api_token": SECRET + "\n", etc / "sentry" / "run" / "api_token": SECRET,
             etc / "sentry" / "ca.key": "-----BEGIN KEY-----\nAAAAkeybody0123\n-----END KEY-----\n",
             opt / "prometheus.yml": "scrape_configs: []\n"}
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
    monkeypatch.setattr(audit, "ROOTS", (str(etc), str(opt)))
    monkeypatch.setattr(audit, "TEMPORARY", (str(temporary),))
    table = {"rows": [{"path": "/sentry/run/(?P<service>[a-z_]+)$", "mode": "0600", "owner": "service", "kind": "holds"},
                      {"path": "/sentry/[a-z_.]+$", "mode": "0600", "owner": OWNER, "kind": "secret"}],
             "service_owners": {"api_token": OWNER}}
    return etc, opt, temporary, table


def test_files_classifies_by_the_first_row_and_reads_secret_lines(tree):
    etc, dummy, dummy, table = tree
    result = audit.files(table)
    assert result["problems"] == [] and result["files"] == 4
    # The key's body, not its armour; the copy under run/ is not a source.
    assert sorted(result["values"].values()) == ["AAAAkeybody0123", SECRET]
    (etc / "sentry" / "api_token").chmod(0o644)
    (etc / "sentry" / "stray").write_text("x", encoding="utf-8")
    (etc / "unknown").write_text("x", encoding="utf-8")
    problems = audit.files(table)["problems"]
    assert any(p.endswith(f"api_token: 0644 {OWNER}, documented 0600 {OWNER}") for p in problems)
    assert any("unknown" in p and "no row of the table documents it" in p for p in problems)


def test_search_host_names_secrets_by_file_never_by_value(tree, monkeypatch):
    dummy, opt, temporary, table = tree
    values = {"host:api_token#0": SECRET}
    monkeypatch.setattr(audit.subprocess, "run", fake_docker([{"Name": "/grafana", "Config": {"Env": [f"X={SECRET}"]}}]))
    (opt / "prometheus.yml").write_text(f"password: {SECRET}\n", encoding="utf-8")
    (temporary / "AnsiballZ_x.py").write_text(SECRET, encoding="utf-8")
    result = audit.search_host(table, values)
    assert result["containers"] == 1 and result["values"] == 1
    assert len(result["problems"]) == 3
    assert all("host:api_token#0" in p and SECRET not in p for p in result["problems"])
    assert any("prometheus.yml, which is not meant to hold it" in p for p in result["problems"])
    assert any("docker inspect grafana" in p for p in result["problems"])


def test_search_host_passes_when_only_the_files_meant_to_hold_a_secret_do(tree, monkeypatch):
    dummy, dummy, dummy, table = tree
    monkeypatch.setattr(audit.subprocess, "run", fake_docker([{"Name": "/grafana", "Config": {"Env": []}}]))
    assert audit.search_host(table, {"host:api_token#0": SECRET})["problems"] == []


def test_search_on_the_controller_skips_the_excluded_directory(tmp_path):
    (tmp_path / "log").write_text(f"ok {SECRET}", encoding="utf-8")
    (tmp_path / "molecule.stack").mkdir()
    (tmp_path / "molecule.stack" / "inventory").write_text(SECRET, encoding="utf-8")
    result = subprocess.run([sys.executable, str(SCRIPT), "search", "--exclude", f"{tmp_path}/molecule.stack/",
                             str(tmp_path / "log"), str(tmp_path)], input=f'{{"a": "{SECRET}", "b": "absent-value"}}',
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f'{{"a": ["{tmp_path}/log", "{tmp_path}/log"]}}'


def fake_docker(containers):
    def run(argv, **dummy):
        import json  # pylint: disable=import-outside-toplevel
        out = "\n".join(c["Name"] for c in containers) if argv[1] == "ps" else json.dumps(containers)
        return subprocess.CompletedProcess(argv, 0, stdout=out, stderr="")
    return run
