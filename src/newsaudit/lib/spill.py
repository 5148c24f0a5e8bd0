"""Corpus-wide counts of 64-bit keys in bounded memory: sorted arrays, spilled to disk and merged.

The template scan counts (source, line) pairs and the frequent-line scan counts lines; both have
about as many distinct keys as the corpus has lines, so an in-memory table grows with the corpus
(about 30 keys a page). :class:`KeyCounts` holds the counts as plain numpy arrays (``hi``, ``lo``:
two int64 key halves, e.g. source code and line hash; ``count``; ``flag``, OR-ed), aggregated and
sorted. Past ``max_rows`` rows in memory it spills: rows are split into ``BUCKETS`` files by the top
bits of ``lo`` (a hash, so buckets are even) and appended there (about 25 bytes a key on disk).
:meth:`KeyCounts.buckets` then gives the exact totals one bucket at a time, so the finishing pass
holds 1/``BUCKETS`` of the keys.

Why not a count-min sketch: the threshold of interest is small (5-10 pages) and nearly every key
is seen once, so at millions of pages a sketch of any reasonable width overestimates almost every
key above the threshold and the exact second pass would count nearly everything again.

Partials merge in any grouping (engines merge batches in runs, Dask in trees). Spill files live in a
private temporary folder removed with the object; pickling an object (to another process or
machine) brings its spilled rows back into memory, so a copy never points at another machine's disk.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xxhash

BUCKETS = 64
BUCKET_SHIFT = np.uint64(64 - 6)  # log2(BUCKETS) top bits of lo pick the bucket
MAX_ROWS = 4_000_000  # rows held in memory before a spill (about 100 MB)
ROW = np.dtype([("hi", "<i8"), ("lo", "<i8"), ("count", "<i8"), ("flag", "?")])


def aggregate(rows: np.ndarray) -> np.ndarray:
    """Rows of :data:`ROW` summed per (lo, hi) key (counts added, flags OR-ed), sorted by key."""
    if rows.size <= 1:
        return rows.copy()
    order = np.lexsort((rows["hi"], rows["lo"]))
    s = rows[order]
    new = np.ones(s.size, dtype=bool)
    new[1:] = (s["lo"][1:] != s["lo"][:-1]) | (s["hi"][1:] != s["hi"][:-1])
    starts = np.flatnonzero(new)
    out = s[starts]
    out["count"] = np.add.reduceat(s["count"], starts)
    out["flag"] = np.logical_or.reduceat(s["flag"], starts)
    return out


def rows_of(hi: np.ndarray, lo: np.ndarray, count: np.ndarray | None = None, flag=None) -> np.ndarray:
    out = np.empty(len(lo), dtype=ROW)
    out["hi"], out["lo"] = hi, lo
    out["count"] = 1 if count is None else count
    out["flag"] = False if flag is None else flag
    return out


def string_codes(values: list[str]) -> np.ndarray:
    """A 64-bit code (xxh3, as int64) per string: the same on every machine, no dictionary to share."""
    return np.fromiter(
        (xxhash.xxh3_64_intdigest(v.encode("utf-8")) for v in values), np.uint64, len(values)
    ).view(np.int64)


def bucket_of(lo: np.ndarray) -> np.ndarray:
    return (lo.view(np.uint64) >> BUCKET_SHIFT).astype(np.int64)


class SpillFolder:
    """A private temporary folder, removed when the last object holding it is gone."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="newsaudit-counts-"))
        weakref.finalize(self, shutil.rmtree, str(self.path), True)


@dataclass
class KeyCounts:
    """Mergeable exact counts of (hi, lo) keys; see the module docstring."""

    rows: np.ndarray  # rows in memory (ROW dtype; a key may repeat until aggregated)
    max_rows: int = MAX_ROWS
    folder: SpillFolder | None = None  # spill files, one per bucket, once spilled
    spilled_rows: int = 0

    @classmethod
    def of(cls, hi, lo, count=None, flag=None, max_rows: int = MAX_ROWS) -> KeyCounts:
        return cls(aggregate(rows_of(hi, lo, count, flag)), max_rows)

    def __len__(self) -> int:
        """Rows held (in memory and spilled; a key may sit in several runs until finished)."""
        return int(self.rows.size + self.spilled_rows)

    # --- merging --------------------------------------------------------------------------------

    @staticmethod
    def merge(parts: list[KeyCounts]) -> KeyCounts:
        """The counts of all ``parts`` (consumed: their spill folders move into the result)."""
        parts = [p for p in parts if p is not None]
        if not parts:
            return KeyCounts(np.empty(0, dtype=ROW))
        base = next((p for p in parts if p.folder is not None), parts[0])
        out = KeyCounts(base.rows, base.max_rows, base.folder, base.spilled_rows)
        base.folder, base.spilled_rows = None, 0  # handed over
        pending = [out.rows]
        for p in parts:
            if p is base:
                continue
            if p.folder is not None:
                out._absorb_spill(p)
            pending.append(p.rows)
        rows = np.concatenate(pending) if len(pending) > 1 else pending[0]
        if rows.size > out.max_rows:
            # aggregated only when over budget (sorting on every merge would cost more than it
            # saves); spilled when that does not free at least half of the budget
            rows = aggregate(rows)
            out.rows = rows
            if rows.size > out.max_rows // 2:
                out._spill()
        else:
            out.rows = rows
        return out

    def _ensure_folder(self) -> Path:
        if self.folder is None:
            self.folder = SpillFolder()
        return self.folder.path

    def _spill(self) -> None:
        folder = self._ensure_folder()
        rows = self.rows
        b = bucket_of(rows["lo"])
        order = np.argsort(b, kind="stable")
        rows, b = rows[order], b[order]
        cuts = np.searchsorted(b, np.arange(BUCKETS + 1))
        for i in range(BUCKETS):
            part = rows[cuts[i] : cuts[i + 1]]
            if part.size:
                with (folder / f"{i:03d}.bin").open("ab") as fh:
                    part.tofile(fh)
        self.spilled_rows += int(rows.size)
        self.rows = np.empty(0, dtype=ROW)

    def _absorb_spill(self, other: KeyCounts) -> None:
        folder = self._ensure_folder()
        for f in sorted(other.folder.path.glob("*.bin")):
            with (folder / f.name).open("ab") as dst, f.open("rb") as src:
                shutil.copyfileobj(src, dst)
        self.spilled_rows += other.spilled_rows
        other.folder, other.spilled_rows = None, 0  # its folder goes with its last reference

    # --- reading --------------------------------------------------------------------------------

    def buckets(self) -> Iterator[np.ndarray]:
        """Exact totals, one hash bucket at a time (rows aggregated and sorted by (lo, hi))."""
        if self.folder is None:
            yield aggregate(self.rows)
            return
        b = bucket_of(self.rows["lo"])
        for i in range(BUCKETS):
            f = self.folder.path / f"{i:03d}.bin"
            parts = [self.rows[b == i]]
            if f.exists():
                parts.append(np.fromfile(f, dtype=ROW))
            yield aggregate(np.concatenate(parts))

    def totals(self) -> np.ndarray:
        """All totals at once (sorted by (lo, hi)); for small tables and tests."""
        parts = list(self.buckets())
        return aggregate(np.concatenate(parts)) if len(parts) > 1 else parts[0]

    def __getstate__(self) -> dict:
        # a copy sent elsewhere carries its rows, not a path on this machine's disk
        return {"rows": self.totals(), "max_rows": self.max_rows, "folder": None, "spilled_rows": 0}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
