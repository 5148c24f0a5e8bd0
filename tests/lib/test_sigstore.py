"""Signatures on disk, LSH a band at a time: the in-memory result, whatever the arrival order."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from newsaudit.core.errors import NewsauditError
from newsaudit.lib import sigstore
from newsaudit.lib.minhash import MinHasher, cluster_labels, estimated_jaccard
from newsaudit.lib.sigstore import SignatureStore


def _texts(n: int, seed: int) -> list[str]:
    """Random word texts, a third of them edited copies of another, a few empty."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(400)]
    texts = [" ".join(rng.choice(vocab, 60)) for _ in range(n)]
    for i in range(0, n, 3):
        words = texts[(i * 7) % n].split()
        for j in rng.choice(len(words), 4, replace=False):
            words[j] = "edit"
        texts[i] = " ".join(words)
    for i in range(5, n, 50):
        texts[i] = ""
    return texts


@pytest.mark.parametrize("max_bucket_pairs", [50, 2])
def test_store_clusters_as_in_memory(tmp_path, monkeypatch, max_bucket_pairs):
    monkeypatch.setattr(sigstore, "CHUNK_ROWS", 37)  # several sequential chunks
    monkeypatch.setattr(sigstore, "VERIFY_PAIRS", 11)  # several verification maps
    texts = _texts(300, 1)
    sig, sizes = MinHasher(num_perm=64, shingle=3).signatures(texts)
    rank = np.random.default_rng(2).permutation(len(texts))
    want = cluster_labels(sig, sizes, rank, 16, 4, 0.5, max_bucket_pairs)
    arrival = np.random.default_rng(3).permutation(len(texts))  # batches arrive in any order
    with SignatureStore(tmp_path / "s.npy", len(texts), 64) as store:
        for part in np.array_split(arrival, 7):
            store.append(part, sig[part], sizes[part])
        labels, n_cand, n_edges = store.cluster(rank, 16, 4, 0.5, max_bucket_pairs)
        np.testing.assert_array_equal(labels, want[0])
        assert (n_cand, n_edges) == (want[3], len(want[1])) and n_edges > 50
        pairs = np.array([[7, 3], [250, 7], [3, 3], [0, 299]] * 5)  # two verification maps
        np.testing.assert_array_equal(store.similarity(pairs), estimated_jaccard(sig, pairs))
    assert not list(tmp_path.iterdir())  # both files removed


def test_a_missing_or_repeated_node_is_an_error(tmp_path):
    sig = np.zeros((3, 8), np.uint32)
    with SignatureStore(tmp_path / "s.npy", 3, 8) as store:
        store.append(np.array([0, 1]), sig[:2], np.ones(2, np.int64))
        with pytest.raises(NewsauditError, match="2 signatures for 3 nodes"):
            store.cluster(np.arange(3), 2, 4, 0.5, 50)
        store.append(np.array([1]), sig[:1], np.ones(1, np.int64))
        with pytest.raises(NewsauditError, match="each node exactly once"):
            store.cluster(np.arange(3), 2, 4, 0.5, 50)
        with pytest.raises(NewsauditError, match="more than 3"):
            store.append(np.array([2]), sig[:1], np.ones(1, np.int64))


@pytest.mark.parametrize("budget", [1, 7, 100])
def test_candidates_merged_window_by_window_give_the_same_clusters(tmp_path, monkeypatch, budget):
    monkeypatch.setattr(sigstore, "CANDIDATES_PER_WINDOW", budget)  # many windows
    texts = _texts(240, 4)
    sig, sizes = MinHasher(num_perm=64, shingle=3).signatures(texts)
    rank = np.arange(len(texts))
    want = cluster_labels(sig, sizes, rank, 16, 4, 0.5, 50)
    with SignatureStore(tmp_path / "s.npy", len(texts), 64) as store:
        store.append(np.arange(len(texts)), sig, sizes)
        labels, n_cand, n_edges = store.cluster(rank, 16, 4, 0.5, 50)
    np.testing.assert_array_equal(labels, want[0])
    assert (n_cand, n_edges) == (want[3], len(want[1])) and n_edges > 40
    assert not list(tmp_path.iterdir())  # signatures, band keys and candidate runs removed


def test_merge_windows_cover_every_code_once_within_the_budget():
    rng = np.random.default_rng(5)
    runs = [np.unique(rng.integers(0, 10_000, size=k)) for k in (0, 30, 500, 1200)]
    for budget in (1, 8, 64, 10_000):
        windows = sigstore.merge_windows(runs, budget)
        got = [np.concatenate([r[a:z] for r, a, z in zip(runs, s, e, strict=True)]) for s, e in windows]
        assert all(len(w) <= max(budget, len(runs)) for w in got)
        assert all(w.max() < v.min() for w, v in itertools.pairwise(got) if len(w) and len(v))
        np.testing.assert_array_equal(np.sort(np.concatenate(got)), np.sort(np.concatenate(runs)))
