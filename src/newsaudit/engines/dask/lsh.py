"""The one global operation on the cluster: near-duplicate components over MinHash signatures.

Signatures stay on the cluster (one row per node: position, shingle count, signature bytes). LSH
banding is a shuffle of ``(band, bucket key, node)`` rows on ``(band, bucket key)``; candidate pairs
come per bucket from the local rule itself (:func:`newsaudit.lib.minhash.candidate_pairs`), pairs
found in several bands are dropped by a shuffle, and verification joins the pairs to both
signatures (two hash joins). The verified edges (16 bytes each, at most
``execution.dask.client_edges_max``) come to the client for the connected components. Only the
signatures a step asks for afterwards (for similarities inside clusters) are fetched.
"""

from __future__ import annotations

import logging
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd
from distributed import Client

from newsaudit.core.errors import NewsauditError
from newsaudit.core.step import LSH, Clusters, Signatures
from newsaudit.lib.graph import connected_labels
from newsaudit.lib.minhash import band_keys, candidate_pairs, estimated_jaccard

log = logging.getLogger(__name__)


def signature_frame(part: Signatures, num_perm: int) -> pd.DataFrame:
    """A partition's signatures as rows (``sig``: the ``num_perm`` uint32 values as bytes)."""
    matrix = part.matrix if len(part.positions) else np.empty((0, num_perm), np.uint32)
    return pd.DataFrame(
        {
            "pos": np.asarray(part.positions, dtype=np.int64),
            "n_shingles": np.asarray(part.n_shingles, dtype=np.int64),
            "sig": pd.Series([row.tobytes() for row in matrix], dtype=object).to_numpy(),
        }
    )


def _sig_matrix(values: pd.Series, num_perm: int) -> np.ndarray:
    return np.frombuffer(b"".join(values.tolist()), dtype=np.uint32).reshape(-1, num_perm)


def _band_rows(sigs: pd.DataFrame, bands: int, rows: int, num_perm: int) -> pd.DataFrame:
    """One (band, bucket key, page) row per band of each page with shingles."""
    active = sigs[sigs["n_shingles"] > 0]
    keys = band_keys(_sig_matrix(active["sig"], num_perm), bands, rows)
    return pd.DataFrame(
        {
            "band": np.tile(np.arange(bands, dtype=np.int64), len(active)),
            "key": keys.ravel().view(np.int64),
            "pos": np.repeat(active["pos"].to_numpy(np.int64), bands),
        }
    )


def _bucket_pairs(rows: pd.DataFrame, max_bucket_pairs: int) -> pd.DataFrame:
    """Candidate pairs of the whole buckets in this shuffled partition, by the local rule itself:
    each (band, key) bucket becomes one key of :func:`candidate_pairs`, ranked by canonical position
    (doc_id order), so big buckets get the same star around their smallest doc_id."""
    if rows.empty:
        return pd.DataFrame({"a": np.empty(0, np.int64), "b": np.empty(0, np.int64)})
    bucket = rows.groupby(["band", "key"], sort=False).ngroup().to_numpy(np.int64)
    pos = rows["pos"].to_numpy(np.int64)
    idx = candidate_pairs(bucket.reshape(-1, 1), max_bucket_pairs, rank=pos)
    pairs = np.sort(pos[idx], axis=1) if len(idx) else np.empty((0, 2), np.int64)
    return pd.DataFrame({"a": pairs[:, 0], "b": pairs[:, 1]})


def _verify(pairs: pd.DataFrame, threshold: float, num_perm: int) -> pd.DataFrame:
    """Estimated Jaccard of each candidate pair (both signatures joined to it); pairs >= threshold."""
    m = len(pairs)
    sig = np.concatenate((_sig_matrix(pairs["sig_a"], num_perm), _sig_matrix(pairs["sig_b"], num_perm)))
    sim = estimated_jaccard(sig, np.stack((np.arange(m), np.arange(m) + m), axis=1))
    keep = sim >= threshold
    return pd.DataFrame(
        {
            "a": pairs["a"].to_numpy(np.int64)[keep],
            "b": pairs["b"].to_numpy(np.int64)[keep],
            "similarity": sim[keep],
        }
    )


def _candidate_pairs(sigs: dd.DataFrame, lsh: LSH) -> dd.DataFrame:
    """LSH on the cluster: band rows shuffled on (band, key), pairs per bucket, duplicates dropped."""
    p = lsh.num_perm
    meta_rows = _band_rows(sigs._meta, lsh.bands, lsh.rows, p)
    band_rows = sigs.map_partitions(_band_rows, lsh.bands, lsh.rows, p, meta=meta_rows)
    buckets = band_rows.shuffle(on=["band", "key"])
    meta_pairs = _bucket_pairs(meta_rows, lsh.max_bucket_pairs)
    pairs = buckets.map_partitions(_bucket_pairs, lsh.max_bucket_pairs, meta=meta_pairs)
    return pairs.drop_duplicates(split_out=True)


def _verified_edges(
    client: Client, sigs: dd.DataFrame, cand: dd.DataFrame, lsh: LSH, max_edges: int
) -> tuple[np.ndarray, int]:
    """Candidate pairs joined to both signatures (two hash joins), verified; the kept edges come to
    the client unless there are more than ``max_edges``."""
    sig_a = sigs[["pos", "sig"]].rename(columns={"pos": "a", "sig": "sig_a"})
    sig_b = sigs[["pos", "sig"]].rename(columns={"pos": "b", "sig": "sig_b"})
    joined = cand.merge(sig_a, on="a").merge(sig_b, on="b")
    meta = _verify(joined._meta, lsh.threshold, lsh.num_perm)
    verified = client.persist(joined.map_partitions(_verify, lsh.threshold, lsh.num_perm, meta=meta))
    n_edges = int(verified.shape[0].compute())
    if n_edges > max_edges:
        raise NewsauditError(
            f"duplicates (dask): {n_edges:,} verified near-duplicate edges exceed "
            f"execution.dask.client_edges_max = {max_edges:,}; connected components on the cluster "
            "are not implemented: raise the limit if the client has the memory (16 bytes per edge), "
            "or tighten duplicates.threshold / bands"
        )
    edges = verified[["a", "b"]].compute()
    return edges.to_numpy(np.int64).reshape(-1, 2), n_edges


def components(client: Client, sigs: dd.DataFrame, n_nodes: int, lsh: LSH, max_edges: int) -> Clusters:
    """Component labels of ``n_nodes`` nodes whose signatures are ``sigs`` (persisted)."""
    notes: dict[str, Any] = {"candidate_pairs": 0, "verified_edges": 0}
    edges = np.empty((0, 2), np.int64)
    if n_nodes > 1:
        cand = client.persist(_candidate_pairs(sigs, lsh))
        notes["candidate_pairs"] = int(cand.shape[0].compute())
        edges, notes["verified_edges"] = _verified_edges(client, sigs, cand, lsh, max_edges)
    labels = connected_labels(n_nodes, edges)
    empty = sigs[sigs["n_shingles"] == 0]["pos"].compute().to_numpy(np.int64)
    labels[empty] = -1

    def signatures_of(positions: np.ndarray) -> np.ndarray:
        wanted = np.asarray(positions, dtype=np.int64)
        got = sigs[sigs["pos"].isin(wanted.tolist())][["pos", "sig"]].compute().set_index("pos")
        return _sig_matrix(got["sig"].reindex(wanted), lsh.num_perm)

    notes["shuffles"] = [
        "LSH buckets: one row per (node, band) shuffled on (band, key)",
        "candidate pairs: drop_duplicates (pairs found in several bands)",
        "verification: pairs joined to signatures on a, then on b (two hash joins)",
    ]
    return Clusters(labels, signatures_of, notes)
