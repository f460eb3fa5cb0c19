import re

import pytest

from ansible_collections.microops.stack.plugins.module_utils._docker import (
    daemon_action,
    daemon_errors,
    image_identity,
)

# --- daemon_action -------------------------------------------------------------------------

BASE = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "10m", "max-file": "3"},
    "live-restore": True,
    "debug": False,
}


@pytest.mark.parametrize(
    ("current", "desired", "expected"),
    [
        ({}, {}, "none"),
        (None, None, "none"),
        (None, {}, "none"),
        ({}, None, "none"),
        (BASE, dict(BASE), "none"),
        # Only reloadable keys change or are added.
        (BASE, {**BASE, "debug": True}, "reload"),
        (BASE, {**BASE, "live-restore": False}, "reload"),
        (BASE, {**BASE, "labels": ["tier=edge"]}, "reload"),
        ({}, {"registry-mirrors": ["https://mirror.example"]}, "reload"),
        (None, {"debug": True}, "reload"),
        (BASE, {**BASE, "runtimes": {"runsc": {"path": "/usr/bin/runsc"}},
                "default-runtime": "runsc"}, "reload"),
        # A non-reloadable key changes, is added or is removed.
        (BASE, {**BASE, "log-opts": {"max-size": "20m", "max-file": "3"}}, "restart"),
        (BASE, {**BASE, "log-driver": "local"}, "restart"),
        (BASE, {**BASE, "metrics-addr": "127.0.0.1:9323"}, "restart"),
        (BASE, {**BASE, "default-address-pools": [{"base": "172.20.0.0/14", "size": 24}]},
         "restart"),
        ({"data-root": "/var/lib/docker"}, {"data-root": "/srv/docker"}, "restart"),
        (BASE, {key: value for key, value in BASE.items() if key != "log-driver"}, "restart"),
        # A reload only applies keys set in the new file: removing a reloadable key restarts.
        (BASE, {key: value for key, value in BASE.items() if key != "debug"}, "restart"),
        ({"registry-mirrors": ["https://mirror.example"]}, {}, "restart"),
        ({"debug": True}, None, "restart"),
        # Reloadable and non-reloadable changes together.
        (BASE, {**BASE, "debug": True, "log-driver": "local"}, "restart"),
    ],
    ids=[
        "both-empty",
        "both-none",
        "none-vs-empty",
        "empty-vs-none",
        "equal",
        "debug-changed",
        "live-restore-changed",
        "labels-added",
        "registry-mirrors-added",
        "debug-added-to-none",
        "runtimes-and-default-runtime-added",
        "log-opts-max-size-changed",
        "log-driver-changed",
        "metrics-addr-added",
        "default-address-pools-added",
        "data-root-changed",
        "log-driver-removed",
        "debug-removed",
        "registry-mirrors-removed",
        "debug-removed-to-none",
        "debug-and-log-driver-changed",
    ],
)
def test_daemon_action(current, desired, expected):
    assert daemon_action(current, desired) == expected


# --- daemon_errors -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "options",
    [
        {},
        {
            "log-driver": "json-file",
            "log-opts": {"max-size": "10m", "max-file": "3"},
            "live-restore": True,
            "metrics-addr": "10.0.0.5:9323",
            "default-address-pools": [{"base": "172.20.0.0/14", "size": 24}],
        },
        {"live-restore": False, "metrics-addr": "[::1]:9323"},
        {"default-address-pools": [{"base": "172.20.0.0/16", "size": 16},
                                   {"base": "10.10.0.0/16", "size": 32},
                                   {"base": "fd00:dead:beef::/48", "size": 64}]},
        {"metrics-addr": "0.0.0.0:65535"},
    ],
    ids=["empty", "production", "ipv6-metrics", "pool-size-bounds", "highest-port"],
)
def test_sound_daemon_options_have_no_errors(options):
    assert daemon_errors(options) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["log-driver", "json-file"],
         ["docker_daemon_options must be a dict of daemon.json options, got list"]),
        (None, ["docker_daemon_options must be a dict of daemon.json options, got NoneType"]),
        ({"hosts": ["unix:///var/run/docker.sock"]},
         ["docker_daemon_options.hosts is refused: it clashes with the service unit's -H fd:// "
          "and dockerd would not start; use a systemd drop-in to change where dockerd listens"]),
        ({"log-opts": "max-size=10m"}, ["docker_daemon_options.log-opts must be a dict, got str"]),
        ({"log-opts": {"max-size": "10m", "max-file": 5}},
         ["docker_daemon_options.log-opts.max-file must be a string (dockerd refuses other "
          "types), got 5: quote it"]),
        ({"log-opts": {"max-file": 5, "compress": True}},
         ["docker_daemon_options.log-opts.compress must be a string (dockerd refuses other "
          "types), got True: quote it",
          "docker_daemon_options.log-opts.max-file must be a string (dockerd refuses other "
          "types), got 5: quote it"]),
        ({"live-restore": "yes"},
         ["docker_daemon_options.live-restore must be true or false, got 'yes'"]),
        ({"metrics-addr": "10.0.0.5"},
         ["docker_daemon_options.metrics-addr must be ADDRESS:PORT with an IP address, "
          "got '10.0.0.5'"]),
        ({"metrics-addr": "localhost:9323"},
         ["docker_daemon_options.metrics-addr must be ADDRESS:PORT with an IP address, "
          "got 'localhost:9323'"]),
        ({"metrics-addr": "10.0.0.5:0"},
         ["docker_daemon_options.metrics-addr must be ADDRESS:PORT with an IP address, "
          "got '10.0.0.5:0'"]),
        ({"metrics-addr": "10.0.0.5:70000"},
         ["docker_daemon_options.metrics-addr must be ADDRESS:PORT with an IP address, "
          "got '10.0.0.5:70000'"]),
        ({"default-address-pools": {"base": "172.20.0.0/14", "size": 24}},
         ["docker_daemon_options.default-address-pools must be a list of {base, size}"]),
        ({"default-address-pools": [{"base": "172.20.0.0/14", "size": 24, "scope": "local"}]},
         ["docker_daemon_options.default-address-pools[0] must be a dict with exactly the keys "
          "base and size, got {'base': '172.20.0.0/14', 'size': 24, 'scope': 'local'}"]),
        ({"default-address-pools": ["172.20.0.0/14"]},
         ["docker_daemon_options.default-address-pools[0] must be a dict with exactly the keys "
          "base and size, got '172.20.0.0/14'"]),
        ({"default-address-pools": [{"base": "172.20.0.0/14", "size": 24},
                                    {"base": "docker-pool", "size": 24}]},
         ["docker_daemon_options.default-address-pools[1].base must be a network in CIDR "
          "form, got 'docker-pool'"]),
        ({"default-address-pools": [{"base": "10.10.0.0/16", "size": 8}]},
         ["docker_daemon_options.default-address-pools[0].size must be a prefix length from 16 "
          "to 32 (the size of each network carved out of 10.10.0.0/16), got 8"]),
        ({"default-address-pools": [{"base": "10.10.0.0/16", "size": 33}]},
         ["docker_daemon_options.default-address-pools[0].size must be a prefix length from 16 "
          "to 32 (the size of each network carved out of 10.10.0.0/16), got 33"]),
        # True == 1 would fit a /0 if bools were taken for ints.
        ({"default-address-pools": [{"base": "0.0.0.0/0", "size": True}]},
         ["docker_daemon_options.default-address-pools[0].size must be a prefix length from 0 "
          "to 32 (the size of each network carved out of 0.0.0.0/0), got True"]),
        ({"default-address-pools": [{"base": "10.10.0.0/16", "size": "24"}]},
         ["docker_daemon_options.default-address-pools[0].size must be a prefix length from 16 "
          "to 32 (the size of each network carved out of 10.10.0.0/16), got '24'"]),
    ],
    ids=[
        "not-a-dict",
        "none",
        "hosts",
        "log-opts-not-a-dict",
        "log-opts-int",
        "log-opts-sorted",
        "live-restore-yes",
        "metrics-addr-no-port",
        "metrics-addr-hostname",
        "metrics-addr-port-0",
        "metrics-addr-port-70000",
        "pools-not-a-list",
        "pool-extra-key",
        "pool-not-a-dict",
        "pool-base-not-cidr",
        "pool-size-below-prefix",
        "pool-size-above-32",
        "pool-size-bool",
        "pool-size-string",
    ],
)
def test_daemon_errors(options, expected):
    assert daemon_errors(options) == expected


def test_daemon_errors_reports_every_problem_under_the_given_name():
    errors = daemon_errors(
        {"hosts": [], "live-restore": 1, "log-opts": {"max-file": 3}, "metrics-addr": ":9323"},
        "docker_host_daemon_options",
    )
    assert [error.split(" ", 1)[0] for error in errors] == [
        "docker_host_daemon_options.hosts",
        "docker_host_daemon_options.log-opts.max-file",
        "docker_host_daemon_options.live-restore",
        "docker_host_daemon_options.metrics-addr",
    ]
    assert not any("docker_daemon_options" in error for error in errors)


# --- image_identity ------------------------------------------------------------------------

DIFF_IDS = [
    "sha256:" + "1" * 64,
    "sha256:" + "2" * 64,
]

# "config" of an image config blob, as `docker save` writes it.
BLOB_CONFIG = {
    "User": "nobody",
    "ExposedPorts": {"9090/tcp": {}, "9091/tcp": {}},
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Entrypoint": ["/bin/prometheus"],
    "Cmd": ["--config.file=/etc/prometheus/prometheus.yml"],
    "Volumes": {"/prometheus": {}},
    "WorkingDir": "/prometheus",
    "Labels": {"maintainer": "The Prometheus Authors"},
    "ArgsEscaped": True,
}

# .Config of `docker image inspect` for the same image: more keys, nulls, another key order.
INSPECT_CONFIG = {
    "Hostname": "",
    "Domainname": "",
    "AttachStdin": False,
    "AttachStdout": False,
    "AttachStderr": False,
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "Image": "",
    "OnBuild": None,
    "StopSignal": None,
    "Labels": {"maintainer": "The Prometheus Authors"},
    "Volumes": {"/prometheus": None},
    "WorkingDir": "/prometheus",
    "Cmd": ["--config.file=/etc/prometheus/prometheus.yml"],
    "Entrypoint": ["/bin/prometheus"],
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "ExposedPorts": {"9091/tcp": None, "9090/tcp": {}},
    "User": "nobody",
}


def test_image_identity_is_a_sha256_digest():
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image_identity(BLOB_CONFIG, DIFF_IDS))


def test_image_identity_is_the_same_for_config_blob_and_inspect_output():
    assert image_identity(BLOB_CONFIG, DIFF_IDS) == image_identity(INSPECT_CONFIG, DIFF_IDS)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({}, {"Env": None}),
        ({"Env": None}, {"Env": []}),
        ({"Entrypoint": None}, {"Entrypoint": []}),
        ({"ExposedPorts": {}}, {"ExposedPorts": None}),
        ({}, {"ExposedPorts": {}}),
        ({"Labels": {}}, {}),
        ({"User": ""}, {"User": None}),
        (None, {}),
        ({"ExposedPorts": {"80/tcp": {}, "443/tcp": {}}},
         {"ExposedPorts": {"443/tcp": None, "80/tcp": {}}}),
        ({"Volumes": {"/a": {}, "/b": {}}}, {"Volumes": {"/b": None, "/a": {}}}),
        ({"Hostname": "abc123", "Image": "sha256:" + "f" * 64}, {"Domainname": "example"}),
    ],
    ids=[
        "env-missing-vs-null",
        "env-null-vs-empty",
        "entrypoint-null-vs-empty",
        "ports-empty-vs-null",
        "ports-missing-vs-empty",
        "labels-empty-vs-missing",
        "user-empty-vs-null",
        "config-none-vs-empty",
        "ports-by-key",
        "volumes-by-key",
        "ignored-keys",
    ],
)
def test_image_identity_ignores_representation_differences(one, other):
    assert image_identity(one, DIFF_IDS) == image_identity(other, DIFF_IDS)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("User", "root"),
        ("Env", BLOB_CONFIG["Env"] + ["GOMAXPROCS=2"]),
        ("Entrypoint", ["/bin/sh", "-c"]),
        ("Entrypoint", None),
        ("Cmd", ["--config.file=/etc/prometheus/other.yml"]),
        ("WorkingDir", "/"),
        ("Labels", {"maintainer": "someone else"}),
        ("StopSignal", "SIGINT"),
        ("ExposedPorts", {"9090/tcp": {}}),
        ("Volumes", {"/data": {}}),
    ],
)
def test_image_identity_changes_with_runtime_config(key, value):
    assert image_identity({**BLOB_CONFIG, key: value}, DIFF_IDS) != image_identity(
        BLOB_CONFIG, DIFF_IDS
    )


@pytest.mark.parametrize(
    "diff_ids",
    [DIFF_IDS[:1], DIFF_IDS[::-1], DIFF_IDS + ["sha256:" + "3" * 64], [], None],
    ids=["fewer-layers", "reordered-layers", "more-layers", "no-layers", "none"],
)
def test_image_identity_changes_with_layers(diff_ids):
    assert image_identity(BLOB_CONFIG, diff_ids) != image_identity(BLOB_CONFIG, DIFF_IDS)


@pytest.mark.parametrize("address", ["::1:9323", "[10.0.0.5]:9323"])
def test_metrics_addr_needs_brackets_exactly_for_ipv6(address):
    assert daemon_errors({"metrics-addr": address}) == [
        f"docker_daemon_options.metrics-addr must be ADDRESS:PORT with an IP address, got {address!r}"
    ]


def test_pool_base_without_prefix_length_is_refused():
    assert daemon_errors({"default-address-pools": [{"base": "10.0.0.0", "size": 32}]}) == [
        "docker_daemon_options.default-address-pools[0].base must be a network in CIDR form, got '10.0.0.0'"
    ]
