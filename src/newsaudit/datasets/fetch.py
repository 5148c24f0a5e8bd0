"""Bring every external dataset into ``data/external/``, verified by sha256 (stage ``fetch``).

The registry (``datasets.yaml`` shipped in the package) lists each dataset's public origin, the sha256
of each file and its licence. A file is copied from the local mirror folder when present there, else
downloaded from its ``url``; either way its checksum must match or the stage fails with a message that
names the file, both hashes and both places looked at. Archives are unpacked next to the copies.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from tqdm import tqdm

from newsaudit.core import paths
from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError

log = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.xz", ".tar.bz2", ".tar")


class DataParams(Section):
    mirror: str = "../shared/data"
    external: str = str(paths.EXTERNAL)
    datasets: list[str] = [
        "conflibert",
        "scrapinghub-article-extraction-benchmark",
        "trafilatura-eval",
        "dragnet-data",
        "cleaneval",
    ]
    download_timeout_s: float = 60.0


class FetchError(NewsauditError):
    """A dataset file could not be obtained or failed verification."""


@dataclass(frozen=True)
class RegistryFile:
    dataset: str
    path: str
    sha256: str
    url: str | None
    unpack: bool = False
    note: str | None = None


def load_registry(path: str | Path | None = None) -> dict[str, dict]:
    if path is None:
        text = resources.files("newsaudit.datasets").joinpath("datasets.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    registry = yaml.safe_load(text)
    if not isinstance(registry, dict) or "datasets" not in registry:
        raise FetchError(f"dataset registry {path or 'newsaudit/datasets.yaml'} has no 'datasets' mapping")
    return registry["datasets"]


def registry_files(registry: dict[str, dict], names: list[str]) -> list[RegistryFile]:
    unknown = sorted(set(names) - set(registry))
    if unknown:
        raise FetchError(
            f"data.datasets names unknown dataset(s) {unknown}; the registry has {sorted(registry)}"
        )
    return [
        RegistryFile(
            dataset=name,
            path=f["path"],
            sha256=f["sha256"],
            url=f.get("url"),
            unpack=bool(f.get("unpack", False)),
            note=f.get("note"),
        )
        for name in names
        for f in registry[name]["files"]
    ]


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, dest: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as resp, dest.open("wb") as out:
        shutil.copyfileobj(resp, out)


def obtain(entry: RegistryFile, mirror: Path, dest_dir: Path, timeout: float) -> Path:
    """Copy ``entry`` from the mirror (or download it) into ``dest_dir`` and verify its sha256."""
    mirror_path = mirror / entry.dataset / entry.path
    dest = dest_dir / entry.dataset / entry.path
    dest.parent.mkdir(parents=True, exist_ok=True)
    tried: list[str] = []
    if mirror_path.is_file():
        actual = sha256_of(mirror_path)
        if actual == entry.sha256:
            shutil.copyfile(mirror_path, dest)
            return dest
        tried.append(f"mirror {mirror_path}: sha256 {actual} (expected {entry.sha256})")
    else:
        tried.append(f"mirror {mirror_path}: not found")
    if entry.url:
        with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
            tmp_path = Path(tmp.name)
        try:
            _download(entry.url, tmp_path, timeout)
            actual = sha256_of(tmp_path)
            if actual == entry.sha256:
                tmp_path.replace(dest)
                return dest
            tried.append(f"origin {entry.url}: sha256 {actual} (expected {entry.sha256})")
        except OSError as exc:
            tried.append(f"origin {entry.url}: download failed ({exc})")
        finally:
            tmp_path.unlink(missing_ok=True)
    else:
        tried.append(f"origin: none ({entry.note or 'no single-file public origin'})")
    raise FetchError(
        f"{entry.dataset}/{entry.path}: could not obtain a copy with sha256 {entry.sha256}; looked at "
        + "; ".join(tried)
    )


def unpack(archive: Path, into: Path) -> int:
    """Unpack a tar archive safely (no absolute paths, links or devices); return the member count."""
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        tar.extractall(into, filter="data")
    return len(members)


def fetch(params: DataParams, registry: dict[str, dict] | None = None) -> dict[str, int]:
    """Fetch every registered file of ``params.datasets``; return files obtained per dataset."""
    registry = registry if registry is not None else load_registry()
    entries = registry_files(registry, params.datasets)
    mirror, external = Path(params.mirror), Path(params.external)
    counts: dict[str, int] = {}
    for entry in tqdm(entries, desc="fetch", unit="file", disable=None):
        path = obtain(entry, mirror, external, params.download_timeout_s)
        if entry.unpack:
            if not path.name.endswith(ARCHIVE_SUFFIXES):
                raise FetchError(f"{entry.dataset}/{entry.path}: marked unpack but is not a tar archive")
            n = unpack(path, path.parent)
            path.unlink()  # the verified archive is unpacked; keeping both would double the outs
            log.info("%s/%s: unpacked %d members", entry.dataset, entry.path, n)
        counts[entry.dataset] = counts.get(entry.dataset, 0) + 1
    return counts
