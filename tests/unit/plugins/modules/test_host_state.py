import hashlib
import json
import os
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.microops.stack.plugins.modules import host_state


def run(capsys, commands=None, **args):
    """Runs the module; `commands` maps the argv of each docker/dockerd call to (rc, out, err)."""
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append(argv)
        return (commands or {}).get(tuple(argv), (1, "", "no such object"))

    with patch_module_args(args), \
            mock.patch.object(host_state.AnsibleModule, "run_command", run_command), \
            mock.patch.object(host_state.AnsibleModule, "get_bin_path", lambda self, name: "/usr/bin/" + name), \
            pytest.raises(SystemExit):
        host_state.main()
    return json.loads(capsys.readouterr().out), calls


def test_paths_and_contents(tmp_path, capsys):
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {}\n")
    os.chmod(config, 0o640)
    result, calls = run(capsys, paths=[str(config), str(tmp_path), str(tmp_path / "missing")],
                        read=[str(config), str(tmp_path / "missing")])
    assert result["changed"] is False
    assert result["paths"][str(config)] == {
        "exists": True, "isdir": False, "mode": "0640", "uid": os.getuid(), "gid": os.getgid(),
        "checksum": hashlib.sha1(b"global: {}\n").hexdigest()}
    assert result["paths"][str(tmp_path)]["isdir"] is True
    assert result["paths"][str(tmp_path)]["checksum"] is None
    assert result["paths"][str(tmp_path / "missing")]["exists"] is False
    assert result["content"] == {str(config): "global: {}\n", str(tmp_path / "missing"): None}
    assert calls == []  # nothing asked of Docker when nothing Docker is asked for


def test_containers_images_and_networks_in_one_call_each(capsys):
    containers = [{"Name": "/prometheus", "Image": "sha256:aa", "State": {"Running": True, "Health": {"Status": "healthy"}},
                   "Config": {"Labels": {"a": "b"}}}]
    networks = [{"Name": "stack_backend", "Driver": "bridge", "Internal": True, "Attachable": False, "EnableIPv6": False}]
    commands = {
        ("/usr/bin/docker", "container", "inspect", "--", "prometheus", "grafana"): (1, json.dumps(containers), "x"),
        ("/usr/bin/docker", "image", "inspect", "--", "prom/prometheus:v3"): (0, json.dumps([{"Id": "sha256:aa"}]), ""),
        ("/usr/bin/docker", "network", "inspect", "--", "stack_backend", "stack_frontend"): (1, json.dumps(networks), ""),
    }
    result, calls = run(capsys, commands, containers=["prometheus", "grafana"], images=["prom/prometheus:v3", "gone:1"],
                        networks=["stack_backend", "stack_frontend"])
    assert result["containers"]["prometheus"] == {"exists": True, "running": True, "health": "healthy",
                                                  "image": "sha256:aa", "labels": {"a": "b"}}
    assert result["containers"]["grafana"]["exists"] is False
    assert result["images"] == {"prom/prometheus:v3": "sha256:aa", "gone:1": None}
    assert result["networks"]["stack_backend"]["internal"] is True
    assert result["networks"]["stack_frontend"] == {"exists": False, "driver": None, "internal": None,
                                                    "attachable": None, "enable_ipv6": None}
    assert len(calls) == 4  # containers, networks: one call each; images: one per reference


def test_engine_that_does_not_answer(capsys):
    commands = {("/usr/bin/dockerd", "--version"): (0, "Docker version 20.10.24+dfsg1, build 297e128\n", "")}
    result, dummy = run(capsys, commands, engine=True, python_modules=["json", "no_such_module_here"])
    assert result["engine"]["info"] == {}
    assert result["engine"]["dockerd_version"] == "Docker version 20.10.24+dfsg1, build 297e128"
    assert result["python_modules"] == {"json": True, "no_such_module_here": False}


def test_engine_that_answers(capsys):
    info = {"ServerVersion": "26.1.5", "LiveRestoreEnabled": True}
    commands = {("/usr/bin/docker", "info", "--format", "{{json .}}"): (0, json.dumps(info), "")}
    result, dummy = run(capsys, commands, engine=True)
    assert result["engine"]["info"] == info
    assert result["engine"]["dockerd_version"] == ""
