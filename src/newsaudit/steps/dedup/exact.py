"""Exact duplicates and cluster fields: which pages take part, their keys, canonical pages, and the
cluster columns from near-duplicate components."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import xxhash

from newsaudit.lib.minhash import normalize_array

CLUSTER_FIELDS = ("exact_dup_of", "near_dup_cluster", "is_representative", "sim_to_representative")


def _eligible(pages: pd.DataFrame) -> pd.Series:
    """Rows that take part in duplicate detection: accepted, not an error page, with cleaned text."""
    ok = pages["clean_text"].notna()
    if "status" in pages:
        ok &= pages["status"].eq("accepted")
    if "is_error_page" in pages:
        ok &= ~pages["is_error_page"].fillna(False).astype(bool)
    return ok


def eligible_exact_keys(pages: pd.DataFrame) -> pd.Series:
    """The exact-duplicate key of each eligible page, None for the others."""
    ok = _eligible(pages)
    keys = pd.Series(None, index=pages.index, dtype=object)
    if ok.any():
        keys[ok] = exact_keys(pages.loc[ok, "clean_text"].tolist())
    return keys


def _pick(frame: pd.DataFrame, by: str) -> pd.Series:
    """Per group ``by``: the doc_id with the longest text, ties by smallest doc_id."""
    ordered = frame.sort_values(["_len", "doc_id"], ascending=[False, True], kind="stable")
    return ordered.groupby(by, sort=False)["doc_id"].first()


def exact_keys(texts: list[str]) -> list[str | None]:
    """Hash of each normalised text (None when it has no word): equal keys = exact duplicates."""
    return [
        xxhash.xxh3_64_hexdigest(t.encode("utf-8")) if t else None for t in normalize_array(texts).to_pylist()
    ]


def canonical_pages(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (``doc_id, _len, _key``; rows with words) sorted by doc_id, with ``_canon``: the
    page standing for its exact-duplicate group (longest text, ties by smallest doc_id)."""
    frame = frame.sort_values("doc_id", kind="stable").copy()
    frame["_canon"] = frame["_key"].map(_pick(frame, "_key"))
    return frame


def cluster_fields(
    frame: pd.DataFrame,
    ids: np.ndarray,
    labels: np.ndarray,
    signatures_of: Callable[[np.ndarray], np.ndarray],
) -> pd.DataFrame:
    """Cluster columns for the rows of :func:`canonical_pages`, given the component ``labels`` of its
    canonical pages (``ids``: their doc_ids, in node order). ``signatures_of(positions)`` is asked
    only for the pages whose similarity to their representative is not 1 by construction (in a
    cluster of one canonical page, a page and its exact copies share one signature)."""
    uniq_ids = np.asarray(ids, dtype=object)
    label_of_canon = pd.Series(uniq_ids[labels], index=uniq_ids)
    frame = frame.copy()
    frame["_cluster"] = frame["_canon"].map(label_of_canon)
    frame["_rep"] = frame["_cluster"].map(_pick(frame, "_cluster"))
    # similarity to the representative, through the canonical pages' signatures
    pos = pd.Series(np.arange(len(uniq_ids)), index=uniq_ids)
    canon_of = frame.set_index("doc_id")["_canon"]
    a = pos[frame["_canon"]].to_numpy()
    b = pos[canon_of[frame["_rep"]]].to_numpy()
    sim = np.ones(len(frame), dtype=float)
    differ = np.flatnonzero(a != b)
    if differ.size:
        need = np.unique(np.concatenate((a[differ], b[differ])))
        sig = signatures_of(need)
        row = pd.Series(np.arange(need.size), index=need)
        sa, sb = sig[row[a[differ]].to_numpy()], sig[row[b[differ]].to_numpy()]
        sim[differ] = (sa == sb).mean(axis=1)
    return pd.DataFrame(
        {
            "exact_dup_of": frame["_canon"].where(frame["_canon"] != frame["doc_id"], None).astype(object),
            "near_dup_cluster": frame["_rep"].astype(object),
            "is_representative": (frame["_rep"] == frame["doc_id"]).to_numpy(),
            "sim_to_representative": sim,
        },
        index=frame.index,
    )
