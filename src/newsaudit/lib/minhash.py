"""Near-duplicate detection: vectorised one-permutation MinHash, LSH banding, verification, clusters.

Reusable by other stages: :func:`near_duplicate_clusters` takes texts and ids and returns one cluster
label per text plus the verified pairs.

Method (all numpy, no Python loop over shingles):

1. *Normalise* (lowercase, every non-word character becomes a space) and split into words, so copies
   that differ only by case or stripped punctuation share all shingles.
2. *Shingles*: word ``k``-grams; a text shorter than ``k`` words is one shingle. Words are hashed in
   bulk (``pandas.util.hash_array``, SipHash with a fixed key, so hashes are stable across runs and
   machines), a shingle hash is a polynomial combination of its word hashes followed by the
   splitmix64 finaliser.
3. *Signature*: one-permutation hashing with rotation densification (Li, Owen & Zhang 2012;
   Shrivastava & Li 2014): a shingle's hash picks one of ``num_perm`` bins and the bin keeps the
   minimum of the remaining bits. Each bin then collides between two texts with probability equal
   to their Jaccard similarity, like a classic ``num_perm``-permutation MinHash, but the cost is one
   hash per shingle instead of ``num_perm``. Empty bins (short texts) borrow from the next non-empty
   bin to the right, salted with the distance so borrowed and own values never match by accident.
4. *LSH*: ``bands`` x ``rows`` banding; texts sharing a band bucket are candidates. In a bucket of
   more than ``max_bucket_pairs`` members only a star around its first member is checked (the
   quadratic blow-up comes from near-identical boilerplate pages, which the star still joins).
5. *Verification*: a candidate pair is kept when its signature agreement (an unbiased estimate of
   the Jaccard similarity) is at least ``threshold``; kept pairs are merged with
   ``scipy.sparse.csgraph.connected_components`` (union-find).

The candidate probability for Jaccard ``s`` is the S-curve ``1 - (1 - s**rows)**bands``
(:func:`s_curve`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from newsaudit.lib.graph import connected_labels

# Everything that is not a letter or a digit separates words (RE2 syntax, run by pyarrow in C++).
NON_WORD = r"[^\p{L}\p{N}]+"
_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)
_EMPTY = np.uint32(0xFFFFFFFF)


def normalize_array(texts: Sequence[str | None] | pa.Array) -> pa.Array:
    """Lowercase, runs of non-alphanumeric characters to one space, trimmed (nulls stay null)."""
    arr = texts if isinstance(texts, pa.Array) else pa.array(texts, type=pa.string())
    arr = pc.replace_substring_regex(pc.utf8_lower(arr), pattern=NON_WORD, replacement=" ")
    return pc.utf8_trim_whitespace(arr)


def normalize(text: str) -> str:
    """The text that shingles and the 'normalized' exact hash see."""
    return normalize_array([text])[0].as_py()


def tokenize(texts: Sequence[str | None]) -> tuple[list[str] | pa.Array, np.ndarray]:
    """All words of all texts, flattened, and the number of words of each text."""
    norm = normalize_array(texts)
    norm = pc.if_else(pc.equal(norm, ""), pa.scalar(None, pa.string()), norm)
    split = pc.utf8_split_whitespace(norm)
    lengths = pc.fill_null(pc.list_value_length(split), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return pc.list_flatten(split), lengths


def words_of(text: str) -> list[str]:
    return normalize(text).split()


def s_curve(s: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """Probability that a pair of Jaccard similarity ``s`` shares at least one LSH band."""
    return 1.0 - (1.0 - np.asarray(s, dtype=float) ** rows) ** bands


def s_curve_midpoint(bands: int, rows: int) -> float:
    """The Jaccard similarity at which the S-curve crosses 0.5: ``(1 - 0.5**(1/bands))**(1/rows)``."""
    return float((1.0 - 0.5 ** (1.0 / bands)) ** (1.0 / rows))


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x + _U64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


@dataclass(frozen=True)
class MinHasher:
    """One-permutation MinHash with rotation densification over word ``shingle``-grams."""

    num_perm: int = 128
    shingle: int = 5
    seed: int = 1

    def _multipliers(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        return rng.integers(1, 2**63, size=self.shingle, dtype=np.uint64) | _U64(1)

    def shingle_hashes(self, texts: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """Shingle hashes of each text (with repeats): (doc index per hash, hash)."""
        k = self.shingle
        flat, lengths = tokenize(texts)
        if len(flat) == 0:
            return np.empty(0, np.int64), np.empty(0, np.uint64)
        # hash each distinct word once: dictionary-encode the batch, hash the dictionary
        enc = flat.dictionary_encode()
        vocab = np.asarray(enc.dictionary.to_pylist(), dtype=object)
        vocab_hash = _splitmix64(pd.util.hash_array(vocab) ^ _U64(self.seed))
        wh = vocab_hash[enc.indices.to_numpy(zero_copy_only=False)]
        n = wh.size
        ends = np.cumsum(lengths)
        starts = ends - lengths
        # doc index of each word: count text starts up to the position (cheaper than np.repeat)
        first = np.zeros(n + 1, dtype=np.int64)
        np.add.at(first, starts[lengths > 0], 1)
        doc_of_word = np.flatnonzero(lengths > 0)[np.cumsum(first[:n]) - 1]
        mult = self._multipliers()
        # full k-grams starting at every position, then keep those that end inside their own text
        if n >= k:
            acc = wh[: n - k + 1] * mult[0]
            for j in range(1, k):
                acc += wh[j : n - k + 1 + j] * mult[j]
            ok = np.arange(k, n + 1) <= ends[doc_of_word[: n - k + 1]]
            docs, hashes = doc_of_word[: n - k + 1][ok], acc[ok]
        else:
            docs, hashes = np.empty(0, np.int64), np.empty(0, np.uint64)
        # texts shorter than k words: one shingle of all their words
        short = np.flatnonzero((lengths > 0) & (lengths < k))
        if short.size:
            sh = np.zeros(short.size, dtype=np.uint64)
            for j in range(k - 1):
                valid = j < lengths[short]
                sh += np.where(valid, wh[np.minimum(starts[short] + j, n - 1)] * mult[j], _U64(0))
            docs = np.concatenate((docs, short))
            hashes = np.concatenate((hashes, sh))
        return docs, _splitmix64(hashes)

    def signatures(self, texts: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """``(n, num_perm)`` uint32 signatures and the number of shingles (with repeats) of each text.

        A text without words gets an all-``0xFFFFFFFF`` row and 0 shingles; callers skip it.
        """
        docs, hashes = self.shingle_hashes(texts)
        n, p = len(texts), self.num_perm
        sizes = np.bincount(docs, minlength=n).astype(np.int64)
        bins = ((hashes >> _U64(32)) % _U64(p)).astype(np.int64)
        vals = (hashes & _MASK32).astype(np.uint32)
        sig = np.full(n * p, _EMPTY, dtype=np.uint32)
        np.minimum.at(sig, docs * p + bins, vals)
        sig = sig.reshape(n, p)
        return _densify(sig, sizes > 0), sizes


def signatures_parallel(
    hasher: MinHasher, texts: Sequence[str | None], workers: int, batch: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`MinHasher.signatures` over batches in a thread pool.

    pyarrow's string kernels and numpy's array arithmetic release the GIL, so threads use both
    cores without pickling texts to processes. Results do not depend on ``workers`` or ``batch``.
    """
    texts = list(texts)
    chunks = [texts[i : i + batch] for i in range(0, len(texts), batch)] or [[]]
    if workers <= 1 or len(chunks) == 1:
        results = [hasher.signatures(c) for c in chunks]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(hasher.signatures, chunks))
    return np.concatenate([r[0] for r in results]), np.concatenate([r[1] for r in results])


def _densify(sig: np.ndarray, has_shingles: np.ndarray) -> np.ndarray:
    """Rotation densification: an empty bin takes the next non-empty bin to its right (circular),
    mixed with the distance so that it only matches a bin borrowed over the same distance."""
    empty = sig == _EMPTY
    rows = np.flatnonzero(empty.any(axis=1) & has_shingles)
    if rows.size == 0:
        return sig
    sub = sig[rows]
    p = sig.shape[1]
    filled = ~empty[rows]
    idx = np.where(filled, np.arange(p), 2 * p)
    idx2 = np.concatenate((idx, idx + p * filled), axis=1)  # second lap: positions shifted by p
    idx2 = np.where(np.concatenate((filled, filled), axis=1), idx2, 3 * p)
    nxt = np.minimum.accumulate(idx2[:, ::-1], axis=1)[:, ::-1][:, :p]
    dist = (nxt - np.arange(p)).astype(np.uint64)
    src = np.take_along_axis(sub, nxt % p, axis=1).astype(np.uint64)
    mixed = (_splitmix64(src ^ (dist << _U64(32))) & _MASK32).astype(np.uint32)
    sig = sig.copy()
    sig[rows] = np.where(filled, sub, mixed)
    return sig


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(n, bands)`` uint64 bucket keys: a hash of each band's ``rows`` values, salted by band."""
    n = sig.shape[0]
    s = sig[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    mult = np.random.default_rng(7).integers(1, 2**63, size=rows, dtype=np.uint64) | _U64(1)
    acc = (s * mult).sum(axis=2, dtype=np.uint64) + np.arange(bands, dtype=np.uint64)
    return _splitmix64(acc)


def band_pairs(keys: np.ndarray, max_bucket_pairs: int, rank: np.ndarray) -> np.ndarray:
    """The ``(i, j)`` pairs (unordered, possibly repeated) of one band's bucket ``keys``: members
    sorted by (bucket, rank), buckets of at most ``max_bucket_pairs`` members compared at offsets
    1, 2, ...; a larger bucket checked as a star around its lowest-ranked member."""
    n = keys.size
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = np.lexsort((rank, keys))
    ks = keys[order]
    brk = np.flatnonzero(ks[1:] != ks[:-1]) + 1
    starts = np.concatenate(([0], brk))
    sizes = np.diff(np.concatenate((starts, [n])))
    if sizes.max(initial=1) < 2:
        return np.empty((0, 2), dtype=np.int64)
    out = []
    size_of = np.repeat(sizes, sizes)
    small = size_of <= max_bucket_pairs
    for d in range(1, int(min(sizes.max(), max_bucket_pairs))):
        same = (ks[d:] == ks[:-d]) & small[d:]
        if same.any():
            out.append(np.stack((order[:-d][same], order[d:][same]), axis=1))
    big = np.flatnonzero(sizes > max_bucket_pairs)
    for s0, size in zip(starts[big], sizes[big], strict=True):
        members = order[s0 : s0 + size]
        out.append(np.stack((np.full(size - 1, members[0]), members[1:]), axis=1))
    return np.concatenate(out).astype(np.int64) if out else np.empty((0, 2), dtype=np.int64)


def pair_codes(pairs: np.ndarray, n: int) -> np.ndarray:
    """Sorted unique int64 codes ``i * n + j`` (``i < j``) of unordered pairs (n < 2**31)."""
    if not len(pairs):
        return np.empty(0, dtype=np.int64)
    p = np.sort(pairs, axis=1)
    return np.unique(p[:, 0] * np.int64(n) + p[:, 1])


def candidate_pairs(keys: np.ndarray, max_bucket_pairs: int, rank: np.ndarray | None = None) -> np.ndarray:
    """Unique ``(i, j)`` pairs, ``i < j``, that share at least one band bucket (:func:`band_pairs`
    per band). ``rank`` (default: position) makes the star centres, and so the result,
    independent of the input order."""
    n, bands = keys.shape
    rank = np.arange(n) if rank is None else np.asarray(rank)
    found = [band_pairs(keys[:, b], max_bucket_pairs, rank) for b in range(bands)]
    key = pair_codes(np.concatenate(found) if found else np.empty((0, 2), np.int64), n)
    return np.stack((key // n, key % n), axis=1) if key.size else np.empty((0, 2), dtype=np.int64)


PAIR_CHUNK = 8192  # pairs compared at once: two gathered blocks of 16 MB at 512 values, whatever the corpus


def estimated_jaccard(sig: np.ndarray, pairs: np.ndarray, chunk: int = PAIR_CHUNK) -> np.ndarray:
    """Share of equal signature values of each pair of rows of ``sig`` (an array or a memory map)."""
    out = np.empty(len(pairs), dtype=float)
    for s in range(0, len(pairs), chunk):
        p = pairs[s : s + chunk]
        out[s : s + chunk] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
    return out


@dataclass(frozen=True)
class NearDuplicates:
    """Result of :func:`near_duplicate_clusters`, aligned with the input order."""

    ids: list[str]
    labels: np.ndarray  # cluster label per text: the smallest input index in its cluster; -1 = no words
    pairs: pd.DataFrame  # verified pairs: id_a < id_b, similarity (estimated Jaccard)
    signatures: np.ndarray
    n_candidates: int


def near_duplicate_clusters(
    texts: Sequence[str],
    ids: Sequence[str],
    num_perm: int = 128,
    bands: int = 42,
    rows: int = 3,
    shingle: int = 5,
    threshold: float = 0.4,
    seed: int = 1,
    max_bucket_pairs: int = 50,
    workers: int = 2,
) -> NearDuplicates:
    """Cluster ``texts`` into near duplicates (MinHash + LSH + verification + union-find).

    Defaults are word 5-grams at 0.4 (what the corpus-building callers rely on); the dedup step
    passes the ``duplicates`` section (``DuplicatesParams.lsh_kwargs``). ``ids`` name the pairs and order
    large buckets; the result does not depend on the input order except for the integer labels,
    which are positions (map them through ``ids`` for an order-free cluster name).
    """
    if bands * rows > num_perm:
        raise ValueError(f"bands x rows = {bands * rows} exceeds num_perm = {num_perm}")
    hasher = MinHasher(num_perm=num_perm, shingle=shingle, seed=seed)
    sig, sizes = signatures_parallel(hasher, texts, workers)
    return cluster_signatures(sig, sizes, ids, bands, rows, threshold, max_bucket_pairs)


def node_rank(ids: Sequence[str] | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each id's position in sorted order (ids unique): what orders large LSH buckets."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if not isinstance(ids, pa.Array):
        ids = pa.array([str(i) for i in ids], pa.string())
    rank = np.empty(len(ids), dtype=np.int64)
    rank[pc.sort_indices(ids).to_numpy()] = np.arange(len(ids))
    return rank


def cluster_labels(
    sig: np.ndarray,
    sizes: np.ndarray,
    rank: np.ndarray,
    bands: int,
    rows: int,
    threshold: float,
    max_bucket_pairs: int = 50,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """LSH, verification and union-find over signatures in memory: component labels (-1 for texts
    without shingles), the verified pairs (positions), their similarities, the number of candidates."""
    active = np.flatnonzero(sizes > 0)
    keys = band_keys(sig[active], bands, rows)
    cand = (
        active[candidate_pairs(keys, max_bucket_pairs, rank[active])]
        if active.size
        else np.empty((0, 2), np.int64)
    )
    sim = estimated_jaccard(sig, cand)
    keep = sim >= threshold
    pairs = cand[keep]
    labels = connected_labels(len(sizes), pairs)
    labels[sizes == 0] = -1
    return labels, pairs, sim[keep], len(cand)


def cluster_signatures(
    sig: np.ndarray,
    sizes: np.ndarray,
    ids: Sequence[str],
    bands: int,
    rows: int,
    threshold: float,
    max_bucket_pairs: int = 50,
) -> NearDuplicates:
    """LSH, verification and union-find over signatures computed beforehand.

    Lets a streaming caller compute :meth:`MinHasher.signatures` batch by batch (a few hundred
    bytes per page) and cluster once at the end.
    """
    ids = [str(i) for i in ids]
    labels, pairs, sim, n_cand = cluster_labels(
        sig, sizes, node_rank(ids), bands, rows, threshold, max_bucket_pairs
    )
    a = np.asarray(ids, dtype=object)[pairs[:, 0]] if len(pairs) else np.empty(0, dtype=object)
    b = np.asarray(ids, dtype=object)[pairs[:, 1]] if len(pairs) else np.empty(0, dtype=object)
    lo, hi = np.where(a <= b, a, b), np.where(a <= b, b, a)
    frame = pd.DataFrame({"id_a": lo, "id_b": hi, "similarity": sim})
    frame = frame.sort_values(["id_a", "id_b"], ignore_index=True)
    return NearDuplicates(ids=ids, labels=labels, pairs=frame, signatures=sig, n_candidates=n_cand)
