#!/usr/bin/env python
"""Build a local, signed apt repository laid out like Docker's (download.docker.com/linux), so
the docker role's `docker_install_source: docker_ce` path runs for real on a machine that cannot
reach Docker. What the packages hold, and what they do not, is in README.md next to this file.

Output: .cache/harness/docker-ce-repo/ (serve it over HTTP; the role's docker_ce_repo_url is its
address), with the hash of its inputs in .cache/harness/docker-ce-repo.inputs: an unchanged
repository costs one file read. Inputs are this directory's files (README.md excepted) and the
inputs hash of the base image the Debian packages are fetched in.

Usage: build.py BASE_IMAGE_INPUTS   (images.py calls it after the images; needs root and docker)
"""
import concurrent.futures
import glob
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), ".cache", "harness")
OUT = os.path.join(CACHE, "docker-ce-repo")
STAMP = OUT + ".inputs"

# The Debian release the packages come from and are labelled for, and the image they are
# fetched in (so the host's own release does not matter).
BASE_IMAGE = "microops-test/debian:12"
DISTRO, RELEASE, SUITE, COMPONENT = "debian", "12", "bookworm", "stable"
SUFFIX = f"-1~{DISTRO}.{RELEASE}~{SUITE}"  # Docker's form: 5:28.5.2-1~debian.12~bookworm

# Two versions of each package, older first, as Docker numbers them.
VERSIONS = {
    "docker-ce": ["5:28.5.1", "5:28.5.2"],
    "docker-ce-cli": ["5:28.5.1", "5:28.5.2"],
    "containerd.io": ["1.7.27", "1.7.28"],
    "docker-buildx-plugin": ["0.29.0", "0.29.1"],
    "docker-compose-plugin": ["2.40.2", "2.40.3"],
}
DEBIAN_PACKAGES = ["docker.io", "containerd", "runc"]
MAINTAINER = "microops.stack test harness <docker-ce-repo@microops.invalid>"
KEY_UID = "microops.stack test repository (not Docker's) <docker-ce-repo@microops.invalid>"

# docker.io's files that Docker ships in docker-ce-cli; the rest of the engine goes to docker-ce.
CLI_FILES = ("usr/bin/docker", "usr/share/bash-completion/completions/docker",
             "usr/share/fish/vendor_completions.d/docker.fish", "usr/share/zsh/vendor-completions/_docker",
             "usr/share/man/man1", "usr/share/man/man5")
# libnetwork's test tools and Debian's lint overrides: in no Docker package.
DROPPED = ("usr/bin/dnet", "usr/sbin/ovrouter", "usr/share/lintian")


def say(text):
    print(f"docker-ce-repo: {text}", flush=True)


def run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        sys.exit(f"docker-ce-repo: {' '.join(cmd[:4])} ... failed ({result.returncode}):\n"
                 f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def inputs_hash(base_inputs):
    digest = hashlib.sha256(base_inputs.encode() + b"\0")
    for path in sorted(glob.glob(os.path.join(HERE, "*"))):
        if os.path.basename(path) == "README.md" or not os.path.isfile(path):
            continue
        digest.update(os.path.basename(path).encode() + b"\0")
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:32]


def ensure_tools():
    """apt-ftparchive (apt-utils) and gpg (gnupg), from Debian, only when missing."""
    missing = [pkg for tool, pkg in (("apt-ftparchive", "apt-utils"), ("gpg", "gnupg"),
                                     ("dpkg-deb", "dpkg")) if shutil.which(tool) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"docker-ce-repo: need root to install {' '.join(missing)}")
    say(f"installing {' '.join(missing)}")
    run(["apt-get", "update", "-qq"])
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def fetch_debian_packages(dest):
    """Debian's own builds, fetched from the Debian mirror inside the base image."""
    os.makedirs(dest)
    run(["docker", "run", "--rm", "--volume", f"{dest}:/out", "--workdir", "/out", BASE_IMAGE, "sh", "-c",
         f"apt-get update -qq && apt-get download -qq {' '.join(DEBIAN_PACKAGES)}"
         " && chmod 0644 *.deb"])
    debs = {}
    for path in glob.glob(os.path.join(dest, "*.deb")):
        debs[run(["dpkg-deb", "--field", path, "Package"]).strip()] = path
    if sorted(debs) != sorted(DEBIAN_PACKAGES):
        sys.exit(f"docker-ce-repo: expected {DEBIAN_PACKAGES} from Debian, got {sorted(debs)}")
    return debs


def fields(deb, *names):
    out = run(["dpkg-deb", "--field", deb, *names])
    values, name = {}, None
    for line in out.splitlines():
        if line[:1].isspace() and name:
            values[name] += "\n" + line
        else:
            name, dummy, value = line.partition(":")
            values[name] = value.strip()
    return values


def relations(text, drop=(), add=()):
    """A Depends line with some packages left out and others added."""
    kept = [r.strip() for r in text.split(",") if r.strip() and r.split()[0] not in drop]
    return ", ".join(dict.fromkeys([*add, *kept]))


def move(src_root, rel, dest_root, dest_rel=None):
    src = os.path.join(src_root, rel)
    if not os.path.lexists(src):
        return
    dest = os.path.join(dest_root, dest_rel or rel)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.rename(src, dest)


def maintainer_scripts(units, upgrade_units, group=None):
    """postinst/prerm/postrm as debhelper's dh_installsystemd writes them (compat 12: enable and
    start on install, restart after upgrade), plus the group Docker's own postinst creates."""
    names = " ".join(units)
    postinst = ["#!/bin/sh", "set -e", 'if [ "$1" = configure ]; then']
    if group:
        postinst.append(f"\tgetent group {group} >/dev/null || groupadd --system {group}")
    postinst += [
        f"\tfor unit in {names}; do",
        '\t\tdeb-systemd-helper unmask "$unit" >/dev/null || true',
        '\t\tif deb-systemd-helper --quiet was-enabled "$unit"; then',
        '\t\t\tdeb-systemd-helper enable "$unit" >/dev/null || true',
        "\t\telse",
        '\t\t\tdeb-systemd-helper update-state "$unit" >/dev/null || true',
        "\t\tfi",
        "\tdone",
        "\tif [ -d /run/systemd/system ]; then",
        "\t\tsystemctl --system daemon-reload >/dev/null || true",
        '\t\tif [ -n "$2" ]; then',
        f"\t\t\tdeb-systemd-invoke restart {' '.join(upgrade_units)} >/dev/null || true",
        "\t\telse",
        f"\t\t\tdeb-systemd-invoke start {names} >/dev/null || true",
        "\t\tfi",
        "\tfi",
        "fi",
    ]
    prerm = ["#!/bin/sh", "set -e", 'if [ "$1" = remove ] && [ -d /run/systemd/system ]; then',
             f"\tdeb-systemd-invoke stop {names} >/dev/null || true", "fi"]
    postrm = ["#!/bin/sh", "set -e", 'if [ "$1" = remove ] && [ -d /run/systemd/system ]; then',
              "\tsystemctl --system daemon-reload >/dev/null || true", "fi",
              'if [ "$1" = purge ] && [ -x /usr/bin/deb-systemd-helper ]; then',
              f"\tdeb-systemd-helper purge {names} >/dev/null || true", "fi"]
    return {"postinst": postinst, "prerm": prerm, "postrm": postrm}


def plugin_tree(root, name, version, description):
    """A CLI plugin that answers Docker's plugin metadata call and says what it is otherwise."""
    path = os.path.join(root, "usr/libexec/docker/cli-plugins", f"docker-{name}")
    os.makedirs(os.path.dirname(path))
    with open(path, "w", encoding="ascii") as handle:
        handle.write(
            "#!/bin/sh\n"
            f"# Placeholder of Docker's docker-{name} plugin from the microops.stack test harness.\n"
            'if [ "$1" = docker-cli-plugin-metadata ]; then\n'
            f"\techo '{{\"SchemaVersion\":\"0.1.0\",\"Vendor\":\"microops.stack test harness\","
            f"\"Version\":\"v{version}\",\"ShortDescription\":\"{description}\"}}'\n"
            "\texit 0\nfi\n"
            f"echo 'docker {name}: placeholder package of the microops.stack test harness, not Docker's"
            " plugin' >&2\nexit 1\n")
    os.chmod(path, 0o755)
    doc = os.path.join(root, "usr/share/doc", f"docker-{name}-plugin")
    os.makedirs(doc)
    with open(os.path.join(doc, "copyright"), "w", encoding="ascii") as handle:
        handle.write("A placeholder written by the microops.stack test harness\n"
                     "(tests/harness/docker-ce-repo); it contains no third-party work.\n")


def stage(debs, work, arch):
    """One file tree and the control fields of each package (versions filled in later)."""
    trees = {}
    for name, deb in debs.items():
        trees[name] = os.path.join(work, "x", name)
        os.makedirs(trees[name])
        run(["dpkg-deb", "--extract", deb, trees[name]])
    src = {name: fields(deb, "Version", "Depends", "Pre-Depends") for name, deb in debs.items()}
    engine, cli, runtime = (os.path.join(work, "stage", n) for n in ("docker-ce", "docker-ce-cli", "containerd.io"))
    docker_io = trees["docker.io"]
    for rel in DROPPED:
        shutil.rmtree(os.path.join(docker_io, rel), ignore_errors=True)
        if os.path.lexists(os.path.join(docker_io, rel)):
            os.remove(os.path.join(docker_io, rel))
    for rel in CLI_FILES:
        move(docker_io, rel, cli)
    shutil.copytree(os.path.join(docker_io, "usr/share/doc/docker.io"),
                    os.path.join(cli, "usr/share/doc/docker-ce-cli"), symlinks=True)
    move(docker_io, "usr/share/doc/docker.io", docker_io, "usr/share/doc/docker-ce")
    move(docker_io, "usr/share/docker.io", docker_io, "usr/share/docker-ce")
    os.rename(docker_io, engine)
    for name in ("containerd", "runc"):
        shutil.rmtree(os.path.join(trees[name], "usr/share/lintian"), ignore_errors=True)
    move(trees["containerd"], "usr/share/doc/containerd", runtime, "usr/share/doc/containerd.io")
    move(trees["runc"], "usr/share/doc/runc", runtime, "usr/share/doc/containerd.io/runc")
    for name in ("containerd", "runc"):
        shutil.copytree(trees[name], runtime, symlinks=True, dirs_exist_ok=True)

    note = "Test-harness repack of Debian {deb} ({ver}) under Docker's package name and version."
    common = {"Architecture": arch, "Maintainer": MAINTAINER, "Section": "admin", "Priority": "optional"}
    specs = {
        "docker-ce": (engine, {
            **common,
            "Pre-Depends": src["docker.io"].get("Pre-Depends", ""),
            "Depends": relations(src["docker.io"]["Depends"], drop=("containerd", "runc", "adduser"),
                                 add=("containerd.io (>= 1.7.27)", "docker-ce-cli")),
            "Conflicts": "docker (<< 1.5~), docker-engine, docker.io",
            "Replaces": "docker-engine",
            "Homepage": "https://www.docker.com",
            "Description": "Docker: the open-source application container engine\n "
                           + note.format(deb="docker.io", ver=src["docker.io"]["Version"])
                           + "\n Holds dockerd, docker-proxy, docker-init and their systemd units.",
        }, ["etc/default/docker", "etc/init.d/docker"],
            maintainer_scripts(["docker.socket", "docker.service"], ["docker.service"], group="docker")),
        "docker-ce-cli": (cli, {
            **common,
            "Depends": "libc6 (>= 2.34)",
            "Recommends": "docker-buildx-plugin, docker-compose-plugin",
            "Conflicts": "docker (<< 1.5~), docker-engine, docker.io",
            "Replaces": "docker-ce (<< 5:0)",
            "Breaks": "docker-ce (<< 5:0)",
            "Homepage": "https://www.docker.com",
            "Description": "Docker CLI: the open-source application container engine\n "
                           + note.format(deb="docker.io", ver=src["docker.io"]["Version"])
                           + "\n Holds the docker command.",
        }, [], {}),
        "containerd.io": (runtime, {
            **common,
            "Depends": relations(src["containerd"]["Depends"] + ", " + src["runc"]["Depends"],
                                 drop=("runc",)),
            "Provides": "containerd, runc",
            "Conflicts": "containerd, runc",
            "Replaces": "containerd, runc",
            "Homepage": "https://containerd.io",
            "Description": "An open and reliable container runtime\n "
                           + note.format(deb="containerd and runc", ver=src["containerd"]["Version"]
                                         + ", " + src["runc"]["Version"]),
        }, ["etc/containerd/config.toml"], maintainer_scripts(["containerd.service"], ["containerd.service"])),
    }
    for name, description in (("buildx", "Placeholder for Docker Buildx"),
                              ("compose", "Placeholder for Docker Compose")):
        package = f"docker-{name}-plugin"
        tree = {}
        for version in VERSIONS[package]:
            tree[version] = os.path.join(work, "stage", f"{package}-{version}")
            plugin_tree(tree[version], name, version, description)
        extra = ({"Replaces": "docker-ce-cli"} if name == "buildx" else
                 {"Recommends": "docker-buildx-plugin", "Conflicts": "docker-compose",
                  "Replaces": "docker-compose", "Breaks": "docker-compose"})
        specs[package] = (tree, {
            **common, **extra, "Enhances": "docker-ce-cli",
            "Description": f"{description} CLI plugin\n Placeholder package of the microops.stack test"
                           " harness: it carries the name and version of Docker's package, not the plugin.",
        }, [], {})
    return specs


def installed_size(tree):
    total = 0
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = [d for d in dirnames if d != "DEBIAN"]
        total += 1 + sum((os.lstat(os.path.join(dirpath, f)).st_size + 1023) // 1024 for f in filenames)
    return total


def md5sums(root, conffiles):
    sums = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "DEBIAN")
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path) or rel in conffiles:
                continue
            with open(path, "rb") as handle:
                sums.append(f"{hashlib.md5(handle.read()).hexdigest()}  {rel}\n")  # dpkg's format
    return "".join(sums)


def build_debs(package, trees, control, conffiles, scripts, pool):
    """Each version of one package, one after the other: a version's tree gets its own DEBIAN
    directory. (Packages build in parallel; their trees share no file.)"""
    order = ["Package", "Version", "Architecture", "Maintainer", "Installed-Size", "Pre-Depends", "Depends",
             "Recommends", "Provides", "Conflicts", "Breaks", "Replaces", "Enhances", "Section", "Priority",
             "Homepage", "Description"]
    for upstream in VERSIONS[package]:
        version = upstream + SUFFIX
        root = trees[upstream] if isinstance(trees, dict) else trees
        debian = os.path.join(root, "DEBIAN")
        shutil.rmtree(debian, ignore_errors=True)
        full = {"Package": package, "Version": version, **control, "Installed-Size": str(installed_size(root))}
        files = {"control": "".join(f"{k}: {full[k]}\n" for k in order if full.get(k)),
                 "md5sums": md5sums(root, conffiles)}
        if conffiles:
            files["conffiles"] = "".join(f"/{c}\n" for c in conffiles)
        files.update({name: "\n".join(lines) + "\n" for name, lines in scripts.items()})
        os.mkdir(debian)
        for name, text in files.items():
            with open(os.path.join(debian, name), "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(os.path.join(debian, name), 0o755 if name in scripts else 0o644)
        deb = os.path.join(pool, f"{package}_{version.split(':', 1)[-1]}_{control['Architecture']}.deb")
        run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", root, deb])


def sign(repo, release):
    """A fresh signing key (no passphrase: it lives only during the build), the armored public key
    as <distro>/gpg, and the Release signed both ways apt reads (InRelease, Release.gpg)."""
    with tempfile.TemporaryDirectory(prefix="microops-gpg-") as home:
        gpg = ["gpg", "--homedir", home, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
        try:
            run([*gpg, "--quick-gen-key", KEY_UID, "ed25519", "sign", "never"])
            with open(os.path.join(repo, "gpg"), "w", encoding="ascii") as handle:
                handle.write(run([*gpg, "--armor", "--export"]))
            run([*gpg, "--digest-algo", "SHA512", "--clearsign", "--output",
                 os.path.join(os.path.dirname(release), "InRelease"), release])
            run([*gpg, "--digest-algo", "SHA512", "--armor", "--detach-sign", "--output", release + ".gpg",
                 release])
        finally:
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False, capture_output=True)


def build(work):
    debs = fetch_debian_packages(os.path.join(work, "debian-debs"))
    arch = run(["dpkg-deb", "--field", debs["docker.io"], "Architecture"]).strip()
    repo = os.path.join(work, "repo", DISTRO)
    dist = os.path.join(repo, "dists", SUITE)
    pool = os.path.join(dist, "pool", COMPONENT, arch)  # where Docker keeps them
    os.makedirs(pool)
    specs = stage(debs, work, arch)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as workers:
        for future in [workers.submit(build_debs, package, *spec, pool) for package, spec in specs.items()]:
            future.result()

    binary = os.path.join(dist, COMPONENT, f"binary-{arch}")
    os.makedirs(binary)
    packages = run(["apt-ftparchive", "packages", os.path.relpath(pool, repo)], cwd=repo)
    with open(os.path.join(binary, "Packages"), "w", encoding="utf-8") as handle:
        handle.write(packages)
    with gzip.open(os.path.join(binary, "Packages.gz"), "wt", encoding="utf-8") as handle:
        handle.write(packages)
    options = {"Origin": "microops.stack test harness", "Label": "Docker CE (test repack)", "Suite": SUITE,
               "Codename": SUITE, "Architectures": arch, "Components": COMPONENT,
               "Description": "Docker's repository layout, packages repacked from Debian (not Docker's)"}
    release = run(["apt-ftparchive", *[f"-oAPT::FTPArchive::Release::{k}={v}" for k, v in options.items()],
                   "release", os.path.relpath(dist, repo)], cwd=repo)
    with open(os.path.join(dist, "Release"), "w", encoding="utf-8") as handle:
        handle.write(release)
    sign(repo, os.path.join(dist, "Release"))
    return os.path.join(work, "repo")


def main(argv):
    if len(argv) != 1:
        sys.exit(__doc__)
    inputs = inputs_hash(argv[0])
    if os.path.exists(STAMP) and os.path.isdir(OUT):
        with open(STAMP, encoding="ascii") as handle:
            if handle.read() == inputs:
                say(f"{OUT} up to date")
                return
    ensure_tools()
    os.makedirs(CACHE, exist_ok=True)
    start = os.times().elapsed
    with tempfile.TemporaryDirectory(prefix="docker-ce-repo-", dir=CACHE) as work:
        built = build(work)
        if os.path.exists(STAMP):
            os.remove(STAMP)
        shutil.rmtree(OUT, ignore_errors=True)
        os.rename(built, OUT)
        os.chmod(OUT, 0o755)  # served to test hosts; the temporary parent was 0700
    with open(STAMP, "w", encoding="ascii") as handle:
        handle.write(inputs)
    say(f"{OUT} built in {os.times().elapsed - start:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
