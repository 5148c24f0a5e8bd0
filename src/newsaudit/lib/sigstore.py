"""MinHash signatures on disk for the streaming engine: LSH and verification a band at a time.

In memory, signatures cost ``num_perm`` x 4 bytes a page (512 B at 128) and the band keys of all
pages another ``bands`` x 8 bytes, and the array of ``(n, bands, rows)`` uint64 that computes them
three times that: at 10M pages tens of GB. :class:`SignatureStore` keeps the signatures in a ``.npy``
file (``np.lib.format.open_memmap`` writes its header; rows are appended in arrival order with
plain file writes, so written pages are the kernel's page cache, not this process's memory), then:

1. one sequential pass in chunks computes every band key of every page and writes them band-major
   to a second file;
2. each band's keys (8 bytes a page) are read back alone, and its candidate pairs come from the same
   :func:`~newsaudit.lib.minhash.band_pairs` as in memory; the band's sorted unique pair codes
   are appended to a third file (one sorted run per band). Candidates are not merged in memory:
   their number grows faster than the pages (1.0 M at 100k bench pages, 5.7 M at 300k), and at 1M
   the one merged array, its (i, j) pairs and their similarities held 3.7 GB (measured);
3. the runs are merged window by window of pair codes (:func:`merge_windows`: at most
   ``CANDIDATES_PER_WINDOW`` codes from all runs at once), each window's unique candidates verified
   against the signature rows they name, read through a memory map opened per chunk of pairs and
   unmapped again, and only the verified edges kept. The rows a chunk touches are resident only
   while it runs, so the pages of the map counted in the resident set stay bounded by the chunk,
   not the corpus. The step's similarity to the representative
   (:meth:`SignatureStore.similarity`) goes the same way; nothing gathers the signatures of all
   clustered pages at once.

The result (labels, candidates, edges) is the one of
:func:`~newsaudit.lib.minhash.cluster_labels` on the same signatures: same bands, same ranks, same
verification arithmetic: windows split the set of candidates, they never drop or repeat one. What
stays in memory is a few integers a page (arrival order, shingle count, rank, one band's keys, the
labels), one window of candidates and the verified edges.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np

from newsaudit.core.errors import NewsauditError
from newsaudit.lib.graph import connected_labels
from newsaudit.lib.minhash import band_keys, band_pairs, estimated_jaccard, pair_codes

CHUNK_ROWS = 16_384  # signature rows per sequential read (32 MB at 512 values; their band keys ~3x)
VERIFY_PAIRS = 8192  # pairs verified per memory map (at most 2 x 8192 rows resident at once)
# Candidate codes merged and verified at once: with their pairs and similarities about 160 MB.
CANDIDATES_PER_WINDOW = 4_000_000


def merge_windows(runs: list[np.ndarray], budget: int) -> list[tuple[list[int], list[int]]]:
    """Cut sorted runs of codes into windows of code values, each with at most ``budget`` codes in
    all: ``(starts, stops)``, one index pair per run and window, windows in code order.

    A window ends before the smallest code found ``budget // len(runs)`` places ahead in any run,
    so no run gives it more than that many; the run that set the bound advances by that many.
    """
    step = max(1, budget // max(len(runs), 1))
    pos = [0] * len(runs)
    out: list[tuple[list[int], list[int]]] = []
    while any(p < len(r) for p, r in zip(pos, runs, strict=True)):
        ahead = [int(r[p + step]) for p, r in zip(pos, runs, strict=True) if p + step < len(r)]
        stop = [len(r) for r in runs]
        if ahead:
            bound = min(ahead)
            stop = [int(np.searchsorted(r, bound, side="left")) for r in runs]
        out.append((pos, stop))
        pos = stop
    return out


class SignatureStore:
    """``n`` signatures of ``num_perm`` uint32 values in ``path`` (a ``.npy`` file, removed by
    :meth:`close`), appended batch by batch with their node positions."""

    def __init__(self, path: Path, n: int, num_perm: int) -> None:
        self.path, self.keys_path = path, path.with_name(path.name + ".bands")
        self.runs_path = path.with_name(path.name + ".candidates")
        self.n, self.num_perm = n, num_perm
        mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint32, shape=(max(n, 1), num_perm))
        self.offset = mm.offset
        del mm
        self.fh = path.open("r+b")
        self.arrival = np.full(n, -1, dtype=np.int64)  # arrival index -> node position
        self.sizes = np.zeros(n, dtype=np.int64)  # shingles per node position
        self._rows_of_nodes: np.ndarray | None = None
        self.count = 0

    def __enter__(self) -> SignatureStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.fh.close()
        self.path.unlink(missing_ok=True)
        self.keys_path.unlink(missing_ok=True)
        self.runs_path.unlink(missing_ok=True)

    def append(self, positions: np.ndarray, matrix: np.ndarray, n_shingles: np.ndarray) -> None:
        k = len(positions)
        if self.count + k > self.n:
            raise NewsauditError(f"signature store: more than {self.n} signatures appended")
        if k:
            row_bytes = 4 * self.num_perm
            os.pwrite(
                self.fh.fileno(),
                np.ascontiguousarray(matrix, dtype=np.uint32).tobytes(),
                self.offset + self.count * row_bytes,
            )
            self.arrival[self.count : self.count + k] = positions
            self.sizes[positions] = n_shingles
        self.count += k

    def _check_complete(self) -> None:
        if self.count != self.n or (self.n and np.unique(self.arrival).size != self.n):
            raise NewsauditError(
                f"signature store: {self.count} signatures for {self.n} nodes (each node exactly once)"
            )

    def _rows(self, lo: int, hi: int) -> np.ndarray:
        """Rows ``lo..hi`` of arrival order, read (not mapped) into memory."""
        self.fh.seek(self.offset + lo * 4 * self.num_perm)
        return np.fromfile(self.fh, dtype=np.uint32, count=(hi - lo) * self.num_perm).reshape(
            -1, self.num_perm
        )

    def _write_band_keys(self, bands: int, rows: int) -> None:
        with self.keys_path.open("wb") as out:
            out.truncate(bands * self.n * 8)
            fd = out.fileno()
            for lo in range(0, self.n, CHUNK_ROWS):
                hi = min(self.n, lo + CHUNK_ROWS)
                keys = band_keys(self._rows(lo, hi), bands, rows)
                for b in range(bands):
                    os.pwrite(fd, np.ascontiguousarray(keys[:, b]).tobytes(), (b * self.n + lo) * 8)

    def _band(self, b: int) -> np.ndarray:
        with self.keys_path.open("rb") as fh:
            fh.seek(b * self.n * 8)
            return np.fromfile(fh, dtype=np.uint64, count=self.n)

    def _row_of(self) -> np.ndarray:
        """Node position -> row of the file (arrival index)."""
        if self._rows_of_nodes is None:
            self._rows_of_nodes = np.empty(self.n, dtype=np.int64)
            self._rows_of_nodes[self.arrival] = np.arange(self.n)
        return self._rows_of_nodes

    def similarity(self, pairs: np.ndarray) -> np.ndarray:
        """Estimated Jaccard of pairs of node positions (``(k, 2)``), chunk by chunk, each chunk
        through a memory map of its own (unmapped before the next)."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        at = self._row_of()
        sim = np.empty(len(pairs), dtype=float)
        for s in range(0, len(pairs), VERIFY_PAIRS):
            mm = np.load(self.path, mmap_mode="r")
            sim[s : s + VERIFY_PAIRS] = estimated_jaccard(mm, at[pairs[s : s + VERIFY_PAIRS]])
            del mm
        return sim

    def cluster(
        self, rank: np.ndarray, bands: int, rows: int, threshold: float, max_bucket_pairs: int
    ) -> tuple[np.ndarray, int, int]:
        """Component labels of the nodes (smallest node position; -1 without shingles), the number
        of candidate pairs and of verified edges."""
        self._check_complete()
        n = self.n
        if n == 0:
            return np.empty(0, dtype=np.int64), 0, 0
        self.fh.flush()
        self._write_band_keys(bands, rows)
        active = np.flatnonzero(self.sizes[self.arrival] > 0)  # arrival indices with shingles
        node = self.arrival[active]
        node_rank = np.asarray(rank)[node]
        bounds = [0]
        with self.runs_path.open("wb") as out:
            for b in range(bands):
                pairs = band_pairs(self._band(b)[active], max_bucket_pairs, node_rank)
                codes = pair_codes(node[pairs], n)  # sorted, unique within the band
                out.write(codes.tobytes())
                bounds.append(bounds[-1] + len(codes))
        n_cand, edges = 0, []
        if bounds[-1]:
            every = np.memmap(self.runs_path, dtype=np.int64, mode="r", shape=(bounds[-1],))
            runs = [every[a:z] for a, z in itertools.pairwise(bounds)]
            windows = merge_windows(runs, CANDIDATES_PER_WINDOW)
            del every, runs  # each window maps the file again: its pages leave the resident set
            for starts, stops in windows:
                codes = self._window(bounds, starts, stops)
                n_cand += len(codes)
                cand = np.stack((codes // n, codes % n), axis=1)
                edges.append(cand[self.similarity(cand) >= threshold])
        edges = np.concatenate(edges) if edges else np.empty((0, 2), np.int64)
        labels = connected_labels(n, edges)
        labels[self.sizes == 0] = -1
        return labels, n_cand, len(edges)

    def _window(self, bounds: list[int], starts: list[int], stops: list[int]) -> np.ndarray:
        """The unique codes of one window of every run, through a map of its own."""
        every = np.memmap(self.runs_path, dtype=np.int64, mode="r", shape=(bounds[-1],))
        parts = [np.array(every[b + a : b + z]) for b, a, z in zip(bounds[:-1], starts, stops, strict=True)]
        del every
        return np.unique(np.concatenate(parts))
