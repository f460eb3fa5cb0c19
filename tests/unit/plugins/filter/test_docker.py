import datetime

import pytest

from ansible_collections.microops.stack.plugins.filter.docker import (
    docker_images_missing,
    docker_networks_stale,
    FilterModule,
    docker_archive_tags,
    docker_archives_to_load,
    docker_bundle,
    docker_started_within,
)
from ansible_collections.microops.stack.plugins.module_utils._docker import (
    daemon_action,
    daemon_errors,
    image_identity,
)

LAYERS = ["sha256:" + "a" * 64, "sha256:" + "b" * 64]
CONFIG = {
    "User": "nobody",
    "Entrypoint": ["/bin/prometheus"],
    "Cmd": ["--config.file=/etc/prometheus/prometheus.yml"],
    "ExposedPorts": {"9090/tcp": {}},
}
IDENTITY = image_identity(CONFIG, LAYERS)

PROMETHEUS = {"path": "/images/prometheus.tar",
              "images": [{"tags": ["prom/prometheus:v3.0.0"], "identity": IDENTITY}]}
# One image under two tags, as `docker save prom/prometheus:v3.0.0 prom/prometheus:latest` gives.
TWO_TAGS = {"path": "/images/two-tags.tar",
            "images": [{"tags": ["prom/prometheus:v3.0.0", "prom/prometheus:latest"],
                        "identity": IDENTITY}]}


def inspect(tags, config=None, layers=None):
    """An image as community.docker.docker_image_info returns it (`docker image inspect`)."""
    config = CONFIG if config is None else config
    layers = LAYERS if layers is None else layers
    return {
        "Id": "sha256:" + "c" * 64,
        "RepoTags": tags,
        "Config": {"Hostname": "", "AttachStdin": False, "Image": "", "OnBuild": None,
                   "Env": None, "Volumes": None, **config},
        "RootFS": {"Type": "layers", "Layers": layers},
    }


@pytest.mark.parametrize(
    ("archives", "images", "expected"),
    [
        ([PROMETHEUS], [], ["/images/prometheus.tar"]),
        ([PROMETHEUS], None, ["/images/prometheus.tar"]),
        ([PROMETHEUS], [inspect(["prom/prometheus:v2.55.0"])], ["/images/prometheus.tar"]),
        ([PROMETHEUS], [inspect(["prom/prometheus:v3.0.0"])], []),
        ([PROMETHEUS], [inspect(["prom/prometheus:latest", "prom/prometheus:v3.0.0"])], []),
        ([PROMETHEUS], [inspect(["prom/prometheus:v3.0.0"], layers=LAYERS[:1])],
         ["/images/prometheus.tar"]),
        ([PROMETHEUS], [inspect(["prom/prometheus:v3.0.0"], config={**CONFIG, "Cmd": None})],
         ["/images/prometheus.tar"]),
        ([TWO_TAGS], [inspect(["prom/prometheus:v3.0.0"])], ["/images/two-tags.tar"]),
        ([TWO_TAGS], [inspect(["prom/prometheus:v3.0.0"]), inspect(["prom/prometheus:latest"])],
         []),
        ([TWO_TAGS, PROMETHEUS], [inspect(["prom/prometheus:v3.0.0"])], ["/images/two-tags.tar"]),
        ([PROMETHEUS, TWO_TAGS], None, ["/images/prometheus.tar", "/images/two-tags.tar"]),
        ([], [inspect(["prom/prometheus:v3.0.0"])], []),
    ],
    ids=[
        "no-images",
        "images-none",
        "tag-missing",
        "same-identity",
        "same-identity-among-other-tags",
        "different-layers",
        "different-config",
        "one-of-two-tags-missing",
        "both-tags-present",
        "only-the-stale-archive",
        "all-in-order",
        "no-archives",
    ],
)
def test_docker_archives_to_load(archives, images, expected):
    assert docker_archives_to_load(archives, images) == expected


@pytest.mark.parametrize(
    ("archives", "expected"),
    [
        ([], []),
        ([PROMETHEUS], ["prom/prometheus:v3.0.0"]),
        ([TWO_TAGS, PROMETHEUS], ["prom/prometheus:latest", "prom/prometheus:v3.0.0"]),
        ([{"path": "/images/stack.tar",
           "images": [{"tags": ["redis:7", "alpine:3"], "identity": IDENTITY},
                      {"tags": [], "identity": IDENTITY},
                      {"tags": ["alpine:3", "minio/minio:latest"], "identity": IDENTITY}]}],
         ["alpine:3", "minio/minio:latest", "redis:7"]),
    ],
    ids=["no-archives", "one-tag", "deduplicated", "sorted-across-images"],
)
def test_docker_archive_tags(archives, expected):
    assert docker_archive_tags(archives) == expected


def test_filter_module_exposes_the_filters():
    assert FilterModule().filters() == {
        "docker_daemon_action": daemon_action,
        "docker_daemon_errors": daemon_errors,
        "docker_archives_to_load": docker_archives_to_load,
        "docker_archive_tags": docker_archive_tags,
        "docker_bundle": docker_bundle,
        "docker_images_missing": docker_images_missing,
        "docker_networks_stale": docker_networks_stale,
        "docker_started_within": docker_started_within,
    }


def _image(tags=(), digests=()):
    return {"RepoTags": list(tags), "RepoDigests": list(digests)}


@pytest.mark.parametrize(
    ("reference", "images", "missing"),
    [
        ("prom/prometheus:v3.14.0", [_image(["prom/prometheus:v3.14.0"])], False),
        ("prom/prometheus:v3.14.0", [_image(["prom/prometheus:v3.13.0"])], True),
        ("prom/prometheus", [_image(["prom/prometheus:latest"])], False),
        ("localhost:5000/app", [_image(["localhost:5000/app:latest"])], False),
        # A digest must match: the tag alone is not enough.
        ("quay.io/minio/minio:R1@sha256:aa", [_image(["quay.io/minio/minio:R1"])], True),
        ("quay.io/minio/minio:R1@sha256:aa",
         [_image(["quay.io/minio/minio:R1"], ["quay.io/minio/minio@sha256:aa"])], False),
        ("quay.io/minio/minio@sha256:aa", [_image([], ["quay.io/minio/minio@sha256:aa"])], False),
        ("quay.io/minio/minio@sha256:aa", [_image([], ["quay.io/minio/minio@sha256:bb"])], True),
        ("grafana/grafana:13.2.0", [], True),
    ],
)
def test_images_missing(reference, images, missing):
    assert docker_images_missing([reference], images) == ([reference] if missing else [])


def _network(internal=False, driver="bridge", attachable=False, enable_ipv6=False, exists=True):
    return {"exists": exists, "driver": driver, "internal": internal, "attachable": attachable,
            "enable_ipv6": enable_ipv6}


@pytest.mark.parametrize(
    ("network", "found", "stale"),
    [
        ({"name": "stack_backend", "internal": True}, _network(internal=True), False),
        ({"name": "stack_backend", "internal": True}, _network(internal=False), True),
        ({"name": "stack_frontend", "internal": False}, _network(), False),
        ({"name": "stack_frontend"}, _network(), False),
        ({"name": "stack_frontend"}, None, True),
        ({"name": "stack_frontend"}, _network(exists=False), True),
        ({"name": "overlay", "driver": "overlay"}, _network(), True),
        ({"name": "mine", "ipam_config": [{"subnet": "10.9.0.0/24"}]}, _network(), True),   # always the module's call
        ({"name": "mine", "attachable": True}, _network(attachable=True), False),
    ],
)
def test_networks_stale(network, found, stale):
    from ansible_collections.microops.stack.plugins.filter.docker import docker_networks_stale

    state = {network["name"]: found} if found is not None else {}
    assert docker_networks_stale([network], state) == ([network] if stale else [])


def test_bundle_writes_an_archive_only_where_it_lacks_the_image_as_the_engine_has_it():
    from ansible.errors import AnsibleFilterError
    engine = [dict(inspect(["prom/prometheus:v3.0.0"]), RepoDigests=["prom/prometheus@sha256:feed"], Size=300),
              dict(inspect(["grafana/grafana:latest"], layers=LAYERS[:1]), Size=200)]
    held = dict(PROMETHEUS, path="/b/prom_prometheus_v3.0.0.tar")
    plan = docker_bundle(["prom/prometheus:v3.0.0", "grafana/grafana"], engine, [held], "/b/")
    assert plan == [
        {"reference": "prom/prometheus:v3.0.0", "tag": "prom/prometheus:v3.0.0",
         "archive": "/b/prom_prometheus_v3.0.0.tar", "write": False, "id": "sha256:" + "c" * 64,
         "digest": "sha256:feed", "size": 300},
        {"reference": "grafana/grafana", "tag": "grafana/grafana:latest",
         "archive": "/b/grafana_grafana_latest.tar", "write": True, "id": "sha256:" + "c" * 64,
         "digest": None, "size": 200}]
    # Another identity under the tag (a rebuilt image): written again.
    stale = dict(held, images=[{"tags": ["prom/prometheus:v3.0.0"], "identity": "sha256:old"}])
    assert docker_bundle(["prom/prometheus:v3.0.0"], engine, [stale], "/b")[0]["write"] is True
    # Pinned by digest: the engine's image must carry that digest.
    assert docker_bundle(["prom/prometheus:v3.0.0@sha256:feed"], engine, [], "/b")[0]["tag"] == "prom/prometheus:v3.0.0"
    with pytest.raises(AnsibleFilterError, match="is not prom/prometheus:v3.0.0@sha256:beef's digest"):
        docker_bundle(["prom/prometheus:v3.0.0@sha256:beef"], engine, [], "/b")
    with pytest.raises(AnsibleFilterError, match="valkey/valkey:8 is not on this engine under valkey/valkey:8"):
        docker_bundle(["valkey/valkey:8"], engine, [], "/b")


def _started(seconds_ago):
    at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds_ago)
    return {"changed": False, "container": {"State": {"StartedAt": at.strftime("%Y-%m-%dT%H:%M:%S.123456789Z")}}}


@pytest.mark.parametrize("result, expected", [
    ({"changed": True, "container": {}}, True),  # (re)created or restarted by the task
    (_started(30), True),  # started by the engine or its restart policy a moment ago
    (_started(3600), False),  # running for an hour
    ({"changed": False, "container": {"State": {"StartedAt": "garbage"}}}, True),
    ({"changed": False}, True),  # no container (check mode before the first run)
    ({"skipped": True, "changed": False}, True),
])
def test_started_within(result, expected):
    assert docker_started_within(result, 300) is expected


def test_started_within_counts_two_minutes_by_default():
    assert docker_started_within(_started(100)) is True
    assert docker_started_within(_started(140)) is False
