"""Byte-reproducible skops model files.

A skops file is a zip of ``schema.json`` and one member per numpy array, named after the array's
``id()`` (a memory address) and stamped with the wall-clock time, so saving the same model twice
gives different bytes and DVC records a new hash on every run. :func:`canonical_skops` renames the
members by their first appearance in the schema (which skops writes in a fixed traversal order),
rewrites the schema's references accordingly and stamps every member with one fixed time: equal
models give equal files. Hand-written because skops has no option for it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip format's earliest date
# Object ids: the memo ``"__id__": N`` and the member names ``"N.npy"`` / ``"<uuid>.bin"``.
_IDS = re.compile(r'("__id__": )(\d+)|"([0-9a-f-]+)\.(npy|bin)"')


def canonical_skops(path: Path, compression: int = zipfile.ZIP_DEFLATED, level: int | None = 6) -> None:
    """Rewrite the skops file at ``path`` in place with deterministic member names and times."""
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: zf.read(info.filename) for info in zf.infolist()}
    schema = members.pop("schema.json").decode("utf-8")
    number: dict[str, str] = {}

    def renumber(m: re.Match) -> str:
        key = m.group(2) or m.group(3)
        new = number.setdefault(key, str(len(number) + 1))
        return f"{m.group(1)}{new}" if m.group(2) else f'"{new}.{m.group(4)}"'

    schema = _IDS.sub(renumber, schema)
    names = {old: f"{number.get(Path(old).stem, '')}{Path(old).suffix}" for old in members}
    unreferenced = sorted(old for old, new in names.items() if new.startswith("."))
    if unreferenced:
        raise ValueError(f"{path}: members not referenced by schema.json: {unreferenced[:3]}")
    order = sorted(members, key=lambda old: int(Path(names[old]).stem))
    tmp = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(tmp, "w", compression=compression, compresslevel=level) as out:
        out.writestr(_info("schema.json", compression), schema.encode("utf-8"))
        for old in order:
            out.writestr(_info(names[old], compression), members[old])
    tmp.replace(path)


def _info(name: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info
