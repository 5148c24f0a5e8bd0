"""Fingerprints and completion markers, so a long run can resume after it was killed.

A marker is a small JSON file written (atomically) after a unit of work finished and its output
is complete; it holds the fingerprint of everything the work depended on. A later run trusts the
output only when the marker's fingerprint equals its own: changed parameters, models, inputs or
code start the work again instead of reusing a stale table.

Why by hand: DVC caches whole stages by content hash, but ``newsaudit audit`` runs outside DVC on a
user's crawl (millions of files, possibly in an object store), where hashing every byte before
each run would cost as much as ingest; files are stamped by name, size and modification time, as
``make`` and rsync do.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MARKER_SUFFIX = ".done.json"


def digest(parts: Any) -> str:
    """sha256 of ``parts`` as canonical JSON (sorted keys): equal parts, equal digest."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def file_digest(path: Path, chunk: int = 1 << 20) -> str | None:
    """sha256 of a file's bytes (None if there is no such file): for models, read in full."""
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def files_digest(paths: Iterable[Path], root: Path) -> str:
    """sha256 over the relative names and bytes of ``paths`` (a package's source, say)."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(os.fsencode(path.relative_to(root).as_posix()) + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def tree_stamp(location: str | Path) -> str:
    """Digest of every file under ``location`` (a file, a folder or an fsspec URL) by relative
    name, size and modification time (object stores: ETag or last-modified when they give one)."""
    text = str(location)
    if "://" in text and not text.startswith("file://"):
        return _url_stamp(text)
    root = Path(text.removeprefix("file://"))
    if root.is_file():
        st = root.stat()
        return digest([root.name, st.st_size, st.st_mtime_ns])
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort(key=os.fsencode)
        for name in sorted(filenames, key=os.fsencode):
            full = Path(dirpath) / name
            try:
                st = full.stat()
            except OSError:  # unreadable entries are ingest's to report; they still change the stamp
                st = None
            rel = os.fsencode(full.relative_to(root).as_posix())
            h.update(rel + f"\0{st.st_size if st else -1}\0{st.st_mtime_ns if st else -1}\n".encode())
    return h.hexdigest()


def _url_stamp(url: str) -> str:
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    entries = fs.find(path, detail=True) if fs.isdir(path) else {path: fs.info(path)}
    keys = ("size", "ETag", "LastModified", "mtime", "last_modified", "md5Hash")
    return digest(
        [[name, {k: info.get(k) for k in keys if k in info}] for name, info in sorted(entries.items())]
    )


def marker_path(folder: Path, name: str) -> Path:
    return folder / f"{name}{MARKER_SUFFIX}"


def write_marker(folder: Path, name: str, fingerprint: str, record: dict[str, Any]) -> None:
    """``folder/<name>.done.json`` with the fingerprint and ``record``; written whole or not at all."""
    path = marker_path(folder, name)
    tmp = path.with_name(path.name + ".partial")
    # key order kept: the report lays out tables in the order the summary holds its keys
    tmp.write_text(json.dumps({"fingerprint": fingerprint, **record}, default=str))
    tmp.replace(path)


def read_marker(folder: Path, name: str, fingerprint: str) -> dict[str, Any] | None:
    """The record of a marker whose fingerprint is ``fingerprint``; None if absent, unreadable or
    left by a run with other inputs."""
    path = marker_path(folder, name)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("fingerprint") != fingerprint:
        return None
    return record
