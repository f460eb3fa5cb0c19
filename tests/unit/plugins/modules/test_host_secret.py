import json
import os
import stat

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.microops.stack.plugins.modules import host_secret

# The length a generated value has when the task gives none, as the module documents it.
DEFAULT_LENGTH = yaml.safe_load(host_secret.DOCUMENTATION)["options"]["length"]["default"]


def run(capsys, check_mode=False, **args):
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args), pytest.raises(SystemExit):
        host_secret.main()
    return json.loads(capsys.readouterr().out)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_generates_once_then_reads_back(tmp_path, capsys):
    first = run(capsys, name="svc/password", directory=str(tmp_path), length=24)
    second = run(capsys, name="svc/password", directory=str(tmp_path), length=24)
    assert first["changed"] is True and second["changed"] is False
    assert len(first["value"]) == 24 and first["value"].isalnum()
    assert second["value"] == first["value"]
    path = tmp_path / "svc" / "password"
    assert path.read_text() == first["value"]
    assert mode(path) == 0o600 and mode(tmp_path / "svc") == 0o700


def test_supplied_value_replaces_the_file_once(tmp_path, capsys):
    run(capsys, name="token", directory=str(tmp_path))
    rotated = run(capsys, name="token", directory=str(tmp_path), value="from-vault-1234")
    again = run(capsys, name="token", directory=str(tmp_path), value="from-vault-1234")
    assert (rotated["changed"], again["changed"]) == (True, False)
    assert (tmp_path / "token").read_text() == "from-vault-1234"
    # Ansible masks return values equal to a no_log option: the module returns none rather than
    # VALUE_SPECIFIED_IN_NO_LOG_PARAMETER, which a caller would otherwise take for the secret.
    assert "value" not in rotated and "value" not in again


def test_loose_permissions_are_tightened(tmp_path, capsys):
    run(capsys, name="token", directory=str(tmp_path))
    os.chmod(tmp_path / "token", 0o644)
    result = run(capsys, name="token", directory=str(tmp_path))
    assert result["changed"] is True and mode(tmp_path / "token") == 0o600


def test_check_mode_writes_nothing(tmp_path, capsys):
    result = run(capsys, check_mode=True, name="svc/password", directory=str(tmp_path / "new"))
    assert result["changed"] is True and len(result["value"]) == DEFAULT_LENGTH
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "../etc/shadow"}, "name must be letters, digits"),
        ({"name": "a/b/c"}, "name must be letters, digits"),
        ({"name": "ok", "value": ""}, "value for secret ok is empty"),
        ({"name": "ok", "length": 4}, "length must be at least 8, got 4"),
    ],
)
def test_bad_input_fails_before_any_write(tmp_path, capsys, args, message):
    with patch_module_args({"directory": str(tmp_path / "d"), **args}), pytest.raises(SystemExit):
        host_secret.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and result["msg"].startswith(message)
    assert not (tmp_path / "d").exists()


def test_group_readable_mode_for_containers_in_group_root(tmp_path, capsys):
    first = run(capsys, name="grafana/admin_password", directory=str(tmp_path), mode="0640")
    again = run(capsys, name="grafana/admin_password", directory=str(tmp_path), mode="0640")
    assert (first["changed"], again["changed"]) == (True, False)
    assert mode(tmp_path / "grafana" / "admin_password") == 0o640
    assert mode(tmp_path / "grafana") == 0o750
