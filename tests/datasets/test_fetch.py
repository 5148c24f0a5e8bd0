"""Fetch: mirror copy, download fallback (file:// URL, no network), checksum failures, safe unpacking."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from newsaudit.datasets.fetch import DataParams, FetchError, fetch, load_registry, registry_files, sha256_of


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture()
def setup(tmp_path: Path):
    mirror, origin = tmp_path / "mirror", tmp_path / "origin"
    (mirror / "toy").mkdir(parents=True)
    origin.mkdir()
    tsv, archive = b"text\t1\n", make_tar({"pages/a.html": b"<p>a</p>", "gold/a.txt": b"a"})
    (mirror / "toy" / "train.tsv").write_bytes(tsv)
    (origin / "pages.tar.gz").write_bytes(archive)  # not in the mirror: must be downloaded
    registry = {
        "toy": {
            "origin": "test",
            "license": "test",
            "files": [
                {"path": "train.tsv", "sha256": sha(tsv), "url": None},
                {
                    "path": "pages.tar.gz",
                    "sha256": sha(archive),
                    "url": (origin / "pages.tar.gz").as_uri(),
                    "unpack": True,
                },
            ],
        }
    }
    params = DataParams(mirror=str(mirror), external=str(tmp_path / "external"), datasets=["toy"])
    return registry, params, tmp_path


def test_copies_from_mirror_downloads_the_rest_and_unpacks(setup):
    registry, params, tmp = setup
    assert fetch(params, registry) == {"toy": 2}
    ext = tmp / "external" / "toy"
    assert (ext / "train.tsv").read_bytes() == b"text\t1\n"
    assert (ext / "pages" / "a.html").read_bytes() == b"<p>a</p>"
    assert not (ext / "pages.tar.gz").exists()  # unpacked, not kept twice


def test_checksum_mismatch_names_file_hashes_and_both_places(setup):
    registry, params, tmp = setup
    (tmp / "mirror" / "toy" / "train.tsv").write_bytes(b"tampered\n")
    with pytest.raises(FetchError) as err:
        fetch(params, registry)
    msg = str(err.value)
    assert "toy/train.tsv" in msg
    assert sha(b"tampered\n") in msg and registry["toy"]["files"][0]["sha256"] in msg
    assert "mirror" in msg and "origin" in msg


def test_bad_download_is_reported_with_both_hashes(setup):
    registry, params, tmp = setup
    (tmp / "origin" / "pages.tar.gz").write_bytes(b"not the archive")
    with pytest.raises(
        FetchError, match=r"toy/pages.tar.gz.*not found.*origin file:.*sha256 " + sha(b"not the archive")
    ):
        fetch(params, registry)


def test_unsafe_archive_members_are_refused(setup):
    registry, params, tmp = setup
    evil = make_tar({"../escape.txt": b"x"})
    (tmp / "origin" / "pages.tar.gz").write_bytes(evil)
    registry["toy"]["files"][1]["sha256"] = sha(evil)
    with pytest.raises(tarfile.TarError):
        fetch(params, registry)
    assert not (tmp / "external" / "escape.txt").exists()


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(FetchError, match=r"unknown dataset\(s\) \['nope'\]"):
        registry_files(load_registry(), ["nope"])


def test_registry_matches_the_mirror(mirror):
    """Every registered file is in the mirror with the registered checksum."""
    registry = load_registry()
    entries = registry_files(registry, sorted(registry))
    assert len(entries) > 200
    for entry in entries:
        assert sha256_of(mirror / entry.dataset / entry.path) == entry.sha256, entry.path
