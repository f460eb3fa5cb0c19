"""HARNESS CHECKS of the local Docker repository (tests/harness/docker-ce-repo): that it has the
shape the docker role's docker_ce path and the `docker` Molecule scenario rely on. Signed as apt
checks it, every index entry pointing at the right file, Docker's names and version scheme, and
no package depending on what the role removes as conflicting. Needs tests/harness/up."""

import gzip
import hashlib
import importlib.util
import os
import re
import subprocess

import pytest
import yaml

HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    "docker_ce_repo", os.path.join(HARNESS, "docker-ce-repo", "build.py"))
builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builder)

DIST = os.path.join(builder.OUT, builder.DISTRO, "dists", builder.SUITE)
ROLE_VARS = os.path.join(os.path.dirname(os.path.dirname(HARNESS)), "roles", "docker", "vars", "main.yml")


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


# What the role removes before it installs Docker's packages.
REMOVED = set(yaml.safe_load(read(ROLE_VARS))["_docker_conflicting_packages"]["Debian"])


def stanzas(text):
    """Deb822 paragraphs as dicts (continuation lines joined)."""
    result = []
    for block in text.strip().split("\n\n"):
        fields, name = {}, None
        for line in block.splitlines():
            if line[:1].isspace() and name:
                fields[name] += "\n" + line.strip()
            else:
                name, dummy, value = line.partition(":")
                fields[name] = value.strip()
        result.append(fields)
    return result


def names(relations):
    return {r.split()[0] for alt in relations.split(",") for r in alt.split("|") if r.strip()}


@pytest.fixture(name="packages", scope="module")
def packages_fixture():
    if not os.path.isfile(os.path.join(DIST, "InRelease")):
        pytest.fail(f"{builder.OUT} is not built: run tests/harness/up")
    arch = stanzas(read(os.path.join(DIST, "Release")))[0]["Architectures"]
    with gzip.open(os.path.join(DIST, builder.COMPONENT, f"binary-{arch}", "Packages.gz"), "rt") as handle:
        return stanzas(handle.read())


def test_release_is_signed_by_the_served_key(tmp_path):
    keyring = tmp_path / "key.gpg"
    subprocess.run(["gpg", "--batch", "--yes", "--dearmor", "--output", str(keyring),
                    os.path.join(builder.OUT, builder.DISTRO, "gpg")], check=True, capture_output=True)
    for args in (["InRelease"], ["Release.gpg", "Release"]):
        result = subprocess.run(["gpgv", "--keyring", str(keyring), *[os.path.join(DIST, a) for a in args]],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr


def test_release_lists_the_indexes_it_signs():
    release = stanzas(read(os.path.join(DIST, "Release")))[0]
    assert release["Suite"] == release["Codename"] == builder.SUITE
    assert release["Components"] == builder.COMPONENT
    listed = {}
    for line in filter(None, release["SHA256"].splitlines()):
        digest, _size, path = line.split()
        listed[path] = digest
    assert listed, "no SHA256 entries"
    for path, digest in listed.items():
        with open(os.path.join(DIST, path), "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == digest, path


def test_packages_carry_docker_names_and_two_versions_each(packages):
    found = {}
    for stanza in packages:
        found.setdefault(stanza["Package"], []).append(stanza["Version"])
    assert {name: sorted(versions) for name, versions in found.items()} == {
        name: sorted(v + builder.SUFFIX for v in versions) for name, versions in builder.VERSIONS.items()}
    for version in found["docker-ce"]:
        assert re.fullmatch(r"5:\d+\.\d+\.\d+-1~debian\.12~bookworm", version)


def test_every_entry_points_at_its_file(packages):
    root = os.path.join(builder.OUT, builder.DISTRO)
    for stanza in packages:
        assert stanza["Filename"].startswith(f"dists/{builder.SUITE}/pool/{builder.COMPONENT}/")
        with open(os.path.join(root, stanza["Filename"]), "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == stanza["SHA256"], stanza["Filename"]


def test_nothing_brings_back_what_the_role_removes(packages):
    for stanza in packages:
        needed = names(stanza.get("Depends", "")) | names(stanza.get("Pre-Depends", "")) \
            | names(stanza.get("Recommends", ""))
        assert not needed & REMOVED, (stanza["Package"], needed & REMOVED)
    runtime = [s for s in packages if s["Package"] == "containerd.io"]
    for stanza in runtime:  # as Docker's containerd.io: it stands in for both
        for field in ("Provides", "Conflicts", "Replaces"):
            assert names(stanza[field]) == {"containerd", "runc"}, field
