import gzip
import hashlib
import io
import json
import tarfile

import pytest
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader

from ansible_collections.microops.stack.plugins.lookup.image_archive import (
    LookupModule,
    read_archive,
)
from ansible_collections.microops.stack.plugins.module_utils._docker import image_identity

# A 5 MiB layer of zeros (itself a valid, empty tar stream): big enough that reading it would
# show, and never needed to tell what the archive holds.
LAYER = bytes(5 * 2**20)
LAYER_HEX = hashlib.sha256(LAYER).hexdigest()

PROMETHEUS = {
    "User": "nobody",
    "ExposedPorts": {"9090/tcp": {}},
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Entrypoint": ["/bin/prometheus"],
    "Cmd": ["--config.file=/etc/prometheus/prometheus.yml"],
    "WorkingDir": "/prometheus",
    "Volumes": {"/prometheus": {}},
}
ALERTMANAGER = {**PROMETHEUS, "Entrypoint": ["/bin/alertmanager"], "Cmd": None,
                "ExposedPorts": {"9093/tcp": {}}, "Volumes": None}


def docker_save(path, layout, images, with_layers=True):
    """Write an uncompressed archive laid out as `docker save` does: `legacy` (Docker < 25) or
    `oci` (Docker 25+). `images` is a list of (RepoTags, config); every image has LAYER."""
    files, manifest, index = {}, [], []
    for tags, config in images:
        blob = json.dumps({
            "architecture": "amd64",
            "os": "linux",
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + LAYER_HEX]},
            "history": [{"created_by": "ADD rootfs.tar /"}],
        }).encode()
        blob_hex = hashlib.sha256(blob).hexdigest()
        if layout == "legacy":
            config_name, layer_name = f"{blob_hex}.json", f"{LAYER_HEX}/layer.tar"
            files[f"{LAYER_HEX}/VERSION"] = b"1.0"
        else:
            config_name, layer_name = f"blobs/sha256/{blob_hex}", f"blobs/sha256/{LAYER_HEX}"
            oci_manifest = json.dumps({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": f"sha256:{blob_hex}", "size": len(blob)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": f"sha256:{LAYER_HEX}", "size": len(LAYER)}],
            }).encode()
            manifest_hex = hashlib.sha256(oci_manifest).hexdigest()
            files[f"blobs/sha256/{manifest_hex}"] = oci_manifest
            index.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "digest": f"sha256:{manifest_hex}", "size": len(oci_manifest),
                          "annotations": {"io.containerd.image.name": (tags or [""])[0]}})
        files[config_name] = blob
        if with_layers:
            files[layer_name] = LAYER
        manifest.append({"Config": config_name, "RepoTags": tags, "Layers": [layer_name]})
    if layout == "oci":
        files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
        files["index.json"] = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": index}).encode()
    files["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(path, "w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


LAYOUTS = pytest.mark.parametrize("layout", ["legacy", "oci"])


@LAYOUTS
def test_read_archive(tmp_path, layout):
    path = docker_save(tmp_path / "prometheus.tar", layout, [(["prom/prometheus:v3.0.0"],
                                                              PROMETHEUS)])
    assert read_archive(path) == {
        "path": path,
        "images": [{"tags": ["prom/prometheus:v3.0.0"],
                    "identity": image_identity(PROMETHEUS, ["sha256:" + LAYER_HEX])}],
    }


@LAYOUTS
def test_read_archive_with_two_images(tmp_path, layout):
    path = docker_save(tmp_path / "prom.tar", layout, [
        (["prom/prometheus:v3.0.0", "prom/prometheus:latest"], PROMETHEUS),
        (None, ALERTMANAGER),
    ])
    result = read_archive(path)
    assert result == {
        "path": path,
        "images": [
            {"tags": ["prom/prometheus:v3.0.0", "prom/prometheus:latest"],
             "identity": image_identity(PROMETHEUS, ["sha256:" + LAYER_HEX])},
            {"tags": [],
             "identity": image_identity(ALERTMANAGER, ["sha256:" + LAYER_HEX])},
        ],
    }
    assert result["images"][0]["identity"] != result["images"][1]["identity"]


@LAYOUTS
def test_read_archive_does_not_need_the_layers(tmp_path, layout):
    with_layers = docker_save(tmp_path / "full.tar", layout, [(["r/x:1"], PROMETHEUS)])
    without = docker_save(tmp_path / "bare.tar", layout, [(["r/x:1"], PROMETHEUS)],
                          with_layers=False)
    assert read_archive(without)["images"] == read_archive(with_layers)["images"]


def test_read_archive_refuses_a_gzip_compressed_archive(tmp_path):
    plain = docker_save(tmp_path / "x.tar", "oci", [(["r/x:1"], PROMETHEUS)])
    path = tmp_path / "x.tar.gz"
    with open(plain, "rb") as source:
        path.write_bytes(gzip.compress(source.read()))
    with pytest.raises(AnsibleLookupError) as excinfo:
        read_archive(str(path))
    assert str(excinfo.value).startswith(
        f"{path} is not a readable uncompressed `docker save` archive: ")


@pytest.mark.parametrize(
    ("members", "cause"),
    [
        (None, "No such file or directory"),
        (b"this is not a tar archive\n", "truncated header"),
        ({"index.json": b"{}", "oci-layout": b"{}"}, "filename 'manifest.json' not found"),
        ({"manifest.json": b"[{"}, "Expecting"),
        ({"manifest.json": b'[{"Config": "blobs/sha256/missing", "RepoTags": ["r/x:1"]}]'},
         "filename 'blobs/sha256/missing' not found"),
        ({"manifest.json": b'[{"RepoTags": ["r/x:1"]}]'}, "'Config'"),
    ],
    ids=["missing-file", "not-a-tar", "no-manifest", "bad-manifest-json", "config-not-in-archive",
         "manifest-entry-without-config"],
)
def test_read_archive_errors_name_the_path(tmp_path, members, cause):
    path = tmp_path / "broken.tar"
    if isinstance(members, bytes):
        path.write_bytes(members)
    elif members is not None:
        with tarfile.open(path, "w") as archive:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    with pytest.raises(AnsibleLookupError) as excinfo:
        read_archive(str(path))
    message = str(excinfo.value)
    assert message.startswith(f"{path} is not a readable uncompressed `docker save` archive: ")
    assert cause in message


def test_lookup_reads_every_term(tmp_path):
    first = docker_save(tmp_path / "prometheus.tar", "oci", [(["prom/prometheus:v3.0.0"],
                                                              PROMETHEUS)])
    second = docker_save(tmp_path / "alertmanager.tar", "legacy", [(["prom/alertmanager:v0.28.0"],
                                                                    ALERTMANAGER)])
    lookup = LookupModule(loader=DataLoader())
    assert lookup.run([first, second], variables={}) == [read_archive(first),
                                                         read_archive(second)]


def test_lookup_finds_relative_paths_in_files(tmp_path):
    (tmp_path / "files").mkdir()
    path = docker_save(tmp_path / "files" / "prometheus.tar", "legacy",
                       [(["prom/prometheus:v3.0.0"], PROMETHEUS)])
    loader = DataLoader()
    loader.set_basedir(str(tmp_path))
    assert LookupModule(loader=loader).run(["prometheus.tar"], variables={}) == [
        read_archive(path)]


def test_lookup_reports_a_missing_archive(tmp_path):
    loader = DataLoader()
    loader.set_basedir(str(tmp_path))
    with pytest.raises(AnsibleLookupError) as excinfo:
        LookupModule(loader=loader).run(["missing.tar"], variables={})
    assert str(excinfo.value) == "image archive missing.tar not found on the controller"
