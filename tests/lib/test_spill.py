"""Counts spilled to disk give the in-memory totals, whatever the merge tree and budget."""

from __future__ import annotations

import pickle

import numpy as np

from newsaudit.lib.spill import KeyCounts


def _random_parts(seed: int, n_parts: int, budget: int) -> tuple[list[KeyCounts], dict]:
    rng = np.random.default_rng(seed)
    want: dict = {}
    parts = []
    for _ in range(n_parts):
        n = int(rng.integers(0, 400))
        hi = rng.integers(0, 3, n)
        lo = rng.choice(rng.integers(-(2**63), 2**63 - 1, 300, dtype=np.int64), n)
        flag = lo % 7 == 0  # a function of the key, as a line's own flag is
        parts.append(KeyCounts.of(hi, lo, flag=flag, max_rows=budget))
        for h, x, f in zip(hi.tolist(), lo.tolist(), flag.tolist(), strict=True):
            c, g = want.get((x, h), (0, False))
            want[(x, h)] = (c + 1, g or f)
    return parts, want


def _as_dict(rows: np.ndarray) -> dict:
    return {(int(r["lo"]), int(r["hi"])): (int(r["count"]), bool(r["flag"])) for r in rows}


def test_spilled_counts_equal_the_exact_totals_in_any_merge_tree():
    for budget, fan_in in ((10**9, 8), (50, 8), (50, 2), (1, 3)):
        parts, want = _random_parts(budget, 25, budget)
        level = parts
        while len(level) > 1:
            level = [KeyCounts.merge(level[i : i + fan_in]) for i in range(0, len(level), fan_in)]
        merged = level[0]
        if budget < 10**9:
            assert merged.folder is not None and merged.spilled_rows > 0  # it did spill
        totals = merged.totals()
        lo, hi = totals["lo"], totals["hi"]
        assert np.all((lo[1:] > lo[:-1]) | ((lo[1:] == lo[:-1]) & (hi[1:] > hi[:-1])))  # sorted, unique
        assert _as_dict(totals) == want
        buckets = list(merged.buckets())
        assert sum(b.size for b in buckets) == len(want)  # each key in exactly one bucket


def test_a_pickled_copy_carries_its_rows_and_the_folder_goes_with_the_object():
    parts, want = _random_parts(3, 10, 20)
    merged = KeyCounts.merge(parts)
    folder = merged.folder.path
    assert folder.is_dir()
    copy = pickle.loads(pickle.dumps(merged))
    assert copy.folder is None and _as_dict(copy.totals()) == want
    del merged, parts
    import gc

    gc.collect()
    assert not folder.exists()
    assert _as_dict(KeyCounts.merge([]).totals()) == {}
