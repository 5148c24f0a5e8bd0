"""The one global operation on the cluster: near-duplicate components over MinHash signatures.

Signatures stay on the cluster (one row per node: position, shingle count, signature bytes). LSH
banding is a shuffle of ``(band, bucket key, node)`` rows on ``(band, bucket key)``; candidate pairs
come per bucket from the local rule itself (:func:`newsaudit.lib.minhash.candidate_pairs`), pairs
found in several bands are dropped by a shuffle, and verification joins the pairs to both
signatures (two hash joins). Connected components: up to ``execution.dask.client_edges_max``
verified edges (16 bytes each) come to the client for one scipy call; above it they stay on the
cluster, where each partition's edges are reduced to a spanning forest (every node pointing at the
smallest node of its local component) and the forests are merged in a tree of union-find steps
(:func:`forest`), so the client receives at most one ``(node, root)`` pair per node, whatever the
number of edges. Both give each node the smallest node of its component: identical labels. Only the
signatures a step asks for afterwards (for similarities inside clusters) are fetched.
"""

from __future__ import annotations

import logging
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd
from dask import delayed
from distributed import Client

from newsaudit.core.step import LSH, Clusters, Signatures
from newsaudit.lib.graph import connected_labels
from newsaudit.lib.minhash import PAIR_CHUNK, band_keys, candidate_pairs, estimated_jaccard

log = logging.getLogger(__name__)

FOREST_FAN_IN = 8  # forests merged at once in the tree of union-find steps


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


def _verified(client: Client, sigs: dd.DataFrame, cand: dd.DataFrame, lsh: LSH) -> dd.DataFrame:
    """Candidate pairs joined to both signatures (two hash joins), verified (persisted)."""
    sig_a = sigs[["pos", "sig"]].rename(columns={"pos": "a", "sig": "sig_a"})
    sig_b = sigs[["pos", "sig"]].rename(columns={"pos": "b", "sig": "sig_b"})
    joined = cand.merge(sig_a, on="a").merge(sig_b, on="b")
    meta = _verify(joined._meta, lsh.threshold, lsh.num_perm)
    return client.persist(joined.map_partitions(_verify, lsh.threshold, lsh.num_perm, meta=meta))


def forest(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Union-find over edge lists: ``(node, root)`` for every non-root node of the components of
    all the edges in ``parts`` (frames of columns ``a, b``, or ``node, root`` from an earlier call),
    ``root`` the smallest node of its component. A forest has fewer rows than the nodes it touches,
    and the forest of a union of forests has the union's components: calls nest in any tree."""
    edges = [p.to_numpy(np.int64).reshape(-1, 2) for p in parts]
    flat = np.concatenate(edges) if edges else np.empty((0, 2), np.int64)
    nodes, inverse = np.unique(flat, return_inverse=True)
    # local labels are the smallest local index of each component; nodes are sorted, so that is the
    # position of the smallest node
    root = nodes[connected_labels(len(nodes), inverse.reshape(-1, 2))]
    keep = root != nodes
    return pd.DataFrame({"node": nodes[keep], "root": root[keep]})


def cluster_forest(client: Client, edges: dd.DataFrame) -> np.ndarray:
    """Connected components of a distributed edge list on the cluster: one forest per partition,
    merged ``FOREST_FAN_IN`` at a time; returns the ``(node, root)`` pairs of the final forest."""
    level = [delayed(forest)([p]) for p in edges[["a", "b"]].to_delayed()]
    while len(level) > 1:
        level = [delayed(forest)(level[i : i + FOREST_FAN_IN]) for i in range(0, len(level), FOREST_FAN_IN)]
    merged = client.compute(level[0], sync=True) if level else forest([])
    return merged.to_numpy(np.int64).reshape(-1, 2)


def components(client: Client, sigs: dd.DataFrame, n_nodes: int, lsh: LSH, max_edges: int) -> Clusters:
    """Component labels of ``n_nodes`` nodes whose signatures are ``sigs`` (persisted): on the
    client for at most ``max_edges`` verified edges, else on the cluster (same labels)."""
    notes: dict[str, Any] = {"candidate_pairs": 0, "verified_edges": 0, "components_on": "client"}
    labels = np.arange(n_nodes, dtype=np.int64)
    if n_nodes > 1:
        cand = client.persist(_candidate_pairs(sigs, lsh))
        notes["candidate_pairs"] = int(cand.shape[0].compute())
        verified = _verified(client, sigs, cand, lsh)
        notes["verified_edges"] = n_edges = int(verified.shape[0].compute())
        if n_edges <= max_edges:
            edges = verified[["a", "b"]].compute().to_numpy(np.int64).reshape(-1, 2)
            labels = connected_labels(n_nodes, edges)
        else:
            log.info("dask: %d verified edges > client_edges_max: components on the cluster", n_edges)
            notes["components_on"] = "cluster"
            notes["edge_partitions"] = verified.npartitions
            pairs = cluster_forest(client, verified)
            labels[pairs[:, 0]] = pairs[:, 1]
    empty = sigs[sigs["n_shingles"] == 0]["pos"].compute().to_numpy(np.int64)
    labels[empty] = -1

    def chunk_similarity(pairs: np.ndarray) -> np.ndarray:
        wanted = np.unique(pairs)
        got = sigs[sigs["pos"].isin(wanted.tolist())][["pos", "sig"]].compute().set_index("pos")
        matrix = _sig_matrix(got["sig"].reindex(wanted), lsh.num_perm)
        return estimated_jaccard(matrix, np.searchsorted(wanted, pairs))

    def similarity(pairs: np.ndarray) -> np.ndarray:
        # a chunk of pairs at a time, so the client holds at most 2 * PAIR_CHUNK signatures
        # (not one per clustered page); each chunk is one pass over the persisted signatures
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        parts = [chunk_similarity(pairs[s : s + PAIR_CHUNK]) for s in range(0, len(pairs), PAIR_CHUNK)]
        return np.concatenate(parts) if parts else np.empty(0, dtype=float)

    notes["shuffles"] = [
        "LSH buckets: one row per (node, band) shuffled on (band, key)",
        "candidate pairs: drop_duplicates (pairs found in several bands)",
        "verification: pairs joined to signatures on a, then on b (two hash joins)",
        *(
            ["components: per-partition forests merged in a tree (union-find)"]
            if notes["components_on"] == "cluster"
            else []
        ),
    ]
    return Clusters(labels, similarity, notes)
