"""images_available: where a host gets each image (present, archive, registry) or why it cannot,
with the registry's token flow played by a fake registry that answers as Docker Hub does."""

import base64
import json
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.microops.stack.plugins.module_utils import _registry
from ansible_collections.microops.stack.plugins.module_utils._http import HttpError
from ansible_collections.microops.stack.plugins.modules import images_available

HUB_CHALLENGE = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'


class FakeRegistries:
    """Docker Hub (token flow: anonymous tokens for public repositories), a private registry
    that wants Basic credentials, and hosts that cannot be reached. Records every request."""

    def __init__(self, hub=(), private=(), unreachable=()):
        self.hub, self.private, self.unreachable = set(hub), set(private), set(unreachable)
        self.requests = []

    def __call__(self, method, url, data=None, headers=None, **options):
        headers = headers or {}
        self.requests.append((method, url, headers.get("Authorization")))
        host = url.split("/")[2]
        if host in self.unreachable:
            raise HttpError(method, url, None, "timed out")
        if host == "auth.docker.io":
            assert "scope=repository%3A" in url and "service=registry.docker.io" in url
            return 200, {}, json.dumps({"token": "t0k"}).encode()
        if host == "registry-1.docker.io":
            if headers.get("Authorization") != "Bearer t0k":
                return 401, {"www-authenticate": HUB_CHALLENGE}, b""
            path = url.split("/v2/", 1)[1]
            return (200 if path in self.hub else 404), {}, b""
        if host == "registry.example.com":
            expected = "Basic " + base64.b64encode(b"deploy:pw").decode()
            if headers.get("Authorization") != expected:
                return 401, {"www-authenticate": 'Basic realm="registry"'}, b""
            return (200 if url.split("/v2/", 1)[1] in self.private else 404), {}, b""
        raise AssertionError(url)


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("postgres:17.6-trixie", ("docker.io", "library/postgres", "17.6-trixie")),
        ("prom/prometheus:v3.14.0", ("docker.io", "prom/prometheus", "v3.14.0")),
        ("grafana/grafana", ("docker.io", "grafana/grafana", "latest")),
        ("quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z@sha256:14ce",
         ("quay.io", "minio/minio", "sha256:14ce")),
        ("localhost:5000/app:1", ("localhost:5000", "app", "1")),
        ("registry.example.com:8443/team/app", ("registry.example.com:8443", "team/app", "latest")),
    ],
)
def test_references_are_normalised_as_docker_does(reference, expected):
    assert _registry.parse_reference(reference) == expected


def test_docker_hub_anonymous_token_then_the_manifest():
    fake = FakeRegistries(hub={"library/postgres/manifests/17.6-trixie"})
    with mock.patch.object(_registry, "exchange", fake):
        assert _registry.available("postgres:17.6-trixie") == (True, None)
        assert _registry.available("postgres:17.99") == (
            False, "docker.io has no library/postgres:17.99 (a misspelt name or tag?)")
    methods = [(method, url.split("?")[0], auth) for method, url, auth in fake.requests[:3]]
    assert methods == [
        ("HEAD", "https://registry-1.docker.io/v2/library/postgres/manifests/17.6-trixie", None),
        ("GET", "https://auth.docker.io/token", None),
        ("HEAD", "https://registry-1.docker.io/v2/library/postgres/manifests/17.6-trixie", "Bearer t0k")]


def test_a_private_registry_uses_the_credentials_docker_login_stored():
    fake = FakeRegistries(private={"team/app/manifests/2.0.1"})
    config = {"auths": {"registry.example.com": {"auth": base64.b64encode(b"deploy:pw").decode()}}}
    with mock.patch.object(_registry, "exchange", fake):
        assert _registry.available("registry.example.com/team/app:2.0.1", config) == (True, None)
        assert _registry.available("registry.example.com/team/app:2.0.1") == (
            False, "registry.example.com needs credentials: run docker login registry.example.com on the host")


def run(capsys, fake, present=(), **args):
    def run_command(self, argv, **kwargs):
        if argv[1] == "version":
            return 0, "28.0.0", ""
        return (0, "sha256:1", "") if argv[-1] in present else (1, "", "No such image")

    with patch_module_args(args), \
            mock.patch.object(images_available.AnsibleModule, "run_command", run_command), \
            mock.patch.object(images_available.AnsibleModule, "get_bin_path", lambda self, name: "/usr/bin/" + name), \
            mock.patch.object(_registry, "exchange", fake), \
            pytest.raises(SystemExit):
        images_available.main()
    return json.loads(capsys.readouterr().out)


def test_each_image_from_the_first_source_that_has_it(capsys):
    fake = FakeRegistries(hub={"prom/prometheus/manifests/v3.14.0"}, unreachable={"quay.io"})
    result = run(capsys, fake, present={"grafana/grafana:13.2.0"}, docker_config="/nonexistent",
                 images=["grafana/grafana:13.2.0", "prom/alertmanager:v0.34.0", "prom/prometheus:v3.14.0",
                         "quay.io/a/b:1", "quay.io/c/d:2", "quay.io/minio/minio:R@sha256:14ce",
                         "grafana/grafana:13.2.0"],
                 archived=["prom/alertmanager:v0.34.0", "quay.io/minio/minio:R"])
    assert result["changed"] is False
    assert [(i["image"], i["source"]) for i in result["images"]] == [
        ("grafana/grafana:13.2.0", "present"), ("prom/alertmanager:v0.34.0", "archive"),
        ("prom/prometheus:v3.14.0", "registry"), ("quay.io/a/b:1", "missing"), ("quay.io/c/d:2", "missing"),
        # Pinned by digest: an archive cannot prove it.
        ("quay.io/minio/minio:R@sha256:14ce", "missing")]
    assert [i["reason"] for i in result["missing"]] == ["quay.io cannot be reached from this host (timed out)"] * 3
    # An unreachable registry is asked once.
    assert [url for dummy, url, dummy in fake.requests if "quay.io" in url] == [
        "https://quay.io/v2/a/b/manifests/1"]


def test_without_the_registry_what_is_not_on_the_host_or_archived_is_missing(capsys):
    fake = FakeRegistries()
    result = run(capsys, fake, images=["prom/prometheus:v3.14.0"], registry=False)
    assert result["missing"] == [{"image": "prom/prometheus:v3.14.0", "source": "missing",
                                  "reason": "not on the host and in no archive"}]
    assert not fake.requests


def test_docker_hub_images_are_asked_of_the_engines_mirrors_first():
    fake = FakeRegistries(unreachable={"registry-1.docker.io", "dead-mirror.example", "quay.io"})
    mirrored = {"library/postgres/manifests/17.6-trixie"}

    def with_mirror(method, url, data=None, headers=None, **options):
        if url.startswith("https://mirror.example/"):
            fake.requests.append((method, url, None))
            return (200 if url.split("/v2/", 1)[1] in mirrored else 404), {}, b""
        return fake(method, url, data, headers, **options)

    mirrors = ["https://dead-mirror.example", "https://mirror.example/"]
    with mock.patch.object(_registry, "exchange", with_mirror):
        assert _registry.available("postgres:17.6-trixie", mirrors=mirrors) == (True, None)
        # Not on the mirror: Docker Hub itself, here unreachable.
        with pytest.raises(HttpError):
            _registry.available("postgres:18", mirrors=mirrors)
        # Other registries never go through a mirror.
        fake.requests.clear()
        with pytest.raises(HttpError):
            _registry.available("quay.io/a/b:1", mirrors=["https://mirror.example"])
        assert [url for dummy, url, dummy in fake.requests] == ["https://quay.io/v2/a/b/manifests/1"]
