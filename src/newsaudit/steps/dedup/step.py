"""The ``duplicates`` stage: within-page repetition, exact and near duplicates across pages.

Reads the cleaned pages table (``data/interim/pages_clean.parquet``) and writes it back with added
columns (``data/interim/pages_dedup.parquet``):

* the Gopher repetition statistics of the cleaned text as the boilerplate stage left it
  (:mod:`newsaudit.lib.gopher`, datatrove's definitions);
* ``clean_text`` with repeated paragraphs removed (first occurrence kept) and
  ``repeated_paragraphs_removed``;
* ``exact_dup_of``: the ``doc_id`` of the canonical page whose normalised text (lowercase,
  punctuation and whitespace runs collapsed) is identical; null on the canonical page itself;
* ``near_dup_cluster``: the ``doc_id`` of the cluster's representative; a cluster holds a page with
  all its exact and near duplicates (:mod:`newsaudit.lib.minhash`); a page without
  duplicates is its own cluster;
* ``is_representative``: the longest cleaned text of its cluster, ties by smallest ``doc_id``;
* ``sim_to_representative``: estimated Jaccard similarity of word shingles with the representative
  (1.0 for the representative and its exact duplicates).

Rejected rows, error pages and pages whose cleaned text has no word pass through unchanged apart
from the statistics: their cluster fields are null and ``is_representative`` is false, so they are
never mistaken for syndicated copies of each other (all "404" pages look alike).

Everything is computed in ``doc_id`` order, so the output does not depend on the input order.
:func:`annotate_duplicates` is the pure in-memory function (``newsaudit audit`` and tests use
it); the ``duplicates`` command runs the same steps over Parquet in row batches
(:mod:`newsaudit.duplicates_stream`), with the same output.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xxhash
from tqdm import tqdm

from newsaudit.core.config import Section, engine_of, load_params, section
from newsaudit.core.errors import NewsauditError
from newsaudit.core.io import write_json
from newsaudit.lib.gopher import GOPHER_THRESHOLDS, STAT_COLUMNS, repetition_batch
from newsaudit.lib.minhash import (
    NearDuplicates,
    drop_frequent_lines,
    near_duplicate_clusters,
    normalize_array,
    s_curve,
    s_curve_midpoint,
)

log = logging.getLogger(__name__)

DUP_COLUMNS = (
    "repeated_paragraphs_removed",
    "exact_dup_of",
    "near_dup_cluster",
    "is_representative",
    "sim_to_representative",
)


class DuplicatesParams(Section):
    """``params.yaml`` section ``duplicates``."""

    num_perm: int = 128  # MinHash signature length (one-permutation bins)
    bands: int = 42  # LSH bands ...
    rows: int = 3  # ... of this many signature values; bands * rows <= num_perm
    shingle: int = 5  # word n-gram size
    threshold: float = 0.4  # verified estimated Jaccard needed to link two pages
    seed: int = 1
    max_bucket_pairs: int = 50  # larger LSH buckets are checked as a star around their first member
    workers: int = 2  # processes for the repetition statistics, threads for MinHash signatures
    repetition_batch: int = 2000  # pages per repetition batch (one batch: no process pool)
    frequent_line_pages: int = 10  # lines on this many distinct pages are boilerplate for MinHash; 0 = off
    frequent_line_min_keep: float = 0.5  # ... unless that would remove more than half of a page's words
    min_repeated_line_chars: int = 30  # shorter repeated lines are kept (list items, "Yes")
    word_tokenizer: Literal["regex", "datatrove"] = "regex"  # for the Gopher n-gram statistics
    s_curve_points: list[float] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]

    def model_post_init(self, __context: Any) -> None:
        if self.bands * self.rows > self.num_perm:
            raise NewsauditError(
                f"params.yaml duplicates: bands x rows = {self.bands * self.rows} exceeds "
                f"num_perm = {self.num_perm}"
            )

    def lsh_kwargs(self) -> dict[str, Any]:
        keys = ("num_perm", "bands", "rows", "shingle", "threshold", "seed", "max_bucket_pairs", "workers")
        return {k: getattr(self, k) for k in keys}


def _eligible(pages: pd.DataFrame) -> pd.Series:
    """Rows that take part in duplicate detection: accepted, not an error page, with cleaned text."""
    ok = pages["clean_text"].notna()
    if "status" in pages:
        ok &= pages["status"].eq("accepted")
    if "is_error_page" in pages:
        ok &= ~pages["is_error_page"].fillna(False).astype(bool)
    return ok


def repetition_pool(params: DuplicatesParams) -> ProcessPoolExecutor | None:
    """A process pool for the repetition statistics (None for ``workers <= 1``). Spawned, not
    forked: the parent may already run pyarrow/numpy thread pools."""
    if params.workers <= 1:
        return None
    return ProcessPoolExecutor(max_workers=params.workers, mp_context=multiprocessing.get_context("spawn"))


def _repetition(
    texts: pd.Series, params: DuplicatesParams, pool: ProcessPoolExecutor | None = None
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Gopher statistics and repeated-paragraph removal (pure Python + numpy per page).

    With a ``pool`` the texts are cut into one piece per worker; without, a pool is started only
    when there are several ``repetition_batch`` batches to repay its start-up.
    """
    values = texts.tolist()
    args = (params.word_tokenizer, params.min_repeated_line_chars)
    own_pool = None
    if pool is not None:
        size = max(1, -(-len(values) // params.workers))
    else:
        size = params.repetition_batch
        if params.workers > 1 and len(values) > size:
            pool = own_pool = repetition_pool(params)
    batches = [values[i : i + size] for i in range(0, len(values), size)]
    results = []
    progress = tqdm(
        total=len(values), desc="repetition", unit="page", leave=False, mininterval=2, disable=None
    )
    if pool is not None and len(batches) > 1:
        for res in pool.map(repetition_batch, batches, *([a] * len(batches) for a in args)):
            results.append(res)
            progress.update(len(res[1]))
    else:
        for batch in batches:
            results.append(repetition_batch(batch, *args))
            progress.update(len(batch))
    progress.close()
    if own_pool is not None:
        own_pool.shutdown()
    stats = [row for r in results for row in r[0]]
    cleaned = [t for r in results for t in r[1]]
    removed = [n for r in results for n in r[2]]
    frame = pd.DataFrame(stats, index=texts.index, columns=list(STAT_COLUMNS), dtype=float)
    return frame, pd.Series(cleaned, index=texts.index, dtype=object), pd.Series(removed, index=texts.index)


def with_repetition(
    pages: pd.DataFrame, params: DuplicatesParams, pool: ProcessPoolExecutor | None = None
) -> pd.DataFrame:
    """A copy of ``pages`` with the repetition statistics, the de-repeated ``clean_text`` and
    ``repeated_paragraphs_removed``: the first step of every engine's duplicates stage."""
    out = pages.copy()
    stats, cleaned, removed = _repetition(out["clean_text"], params, pool)
    for col in STAT_COLUMNS:
        out[col] = stats[col]
    out["clean_text"] = cleaned.where(out["clean_text"].notna(), None)
    out["repeated_paragraphs_removed"] = removed.astype("int64")
    return out


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


def cluster_fields(frame: pd.DataFrame, near: NearDuplicates) -> pd.DataFrame:
    """Cluster columns for the rows of :func:`canonical_pages`, given the near-duplicate result over
    its canonical pages (``near.ids`` are their doc_ids)."""
    uniq_ids = np.asarray(near.ids, dtype=object)
    label_of_canon = pd.Series(uniq_ids[near.labels], index=uniq_ids)
    frame = frame.copy()
    frame["_cluster"] = frame["_canon"].map(label_of_canon)
    frame["_rep"] = frame["_cluster"].map(_pick(frame, "_cluster"))
    # similarity to the representative, through the canonical pages' signatures
    pos = pd.Series(np.arange(len(uniq_ids)), index=uniq_ids)
    canon_of = frame.set_index("doc_id")["_canon"]
    a = pos[frame["_canon"]].to_numpy()
    b = pos[canon_of[frame["_rep"]]].to_numpy()
    sig = near.signatures
    return pd.DataFrame(
        {
            "exact_dup_of": frame["_canon"].where(frame["_canon"] != frame["doc_id"], None).astype(object),
            "near_dup_cluster": frame["_rep"].astype(object),
            "is_representative": (frame["_rep"] == frame["doc_id"]).to_numpy(),
            "sim_to_representative": (sig[a] == sig[b]).mean(axis=1),
        },
        index=frame.index,
    )


def cluster_pages(doc_ids: pd.Series, texts: pd.Series, params: DuplicatesParams) -> pd.DataFrame:
    """Exact and near-duplicate cluster fields for pages with text, indexed like the input.

    Exact duplicates (same normalised text) are collapsed before MinHash, so a crawl that holds a
    page a thousand times costs one signature.
    """
    out = pd.DataFrame(
        {
            "exact_dup_of": pd.Series(None, index=texts.index, dtype=object),
            "near_dup_cluster": pd.Series(None, index=texts.index, dtype=object),
            "is_representative": False,
            "sim_to_representative": np.nan,
        },
        index=texts.index,
    )
    frame = pd.DataFrame(
        {"doc_id": doc_ids.astype(str), "_len": texts.str.len(), "_key": exact_keys(texts.tolist())}
    )
    frame = frame[frame["_key"].notna()]
    if frame.empty:
        return out
    frame = canonical_pages(frame)
    uniq = frame[frame["_canon"] == frame["doc_id"]]
    filtered = drop_frequent_lines(
        texts.loc[uniq.index].tolist(), params.frequent_line_pages, params.frequent_line_min_keep
    )
    near = near_duplicate_clusters(filtered, uniq["doc_id"].tolist(), **params.lsh_kwargs())
    fields = cluster_fields(frame, near)
    for col in fields.columns:
        out.loc[fields.index, col] = fields[col]
    return out


def annotate_duplicates(pages: pd.DataFrame, params: DuplicatesParams) -> pd.DataFrame:
    """Pure: the pages table with repetition statistics, de-repeated ``clean_text`` and clusters."""
    missing = {"doc_id", "clean_text"} - set(pages.columns)
    if missing:
        raise NewsauditError(f"pages table lacks column(s) {sorted(missing)} needed by the duplicates stage")
    if pages["doc_id"].duplicated().any():
        first = pages.loc[pages["doc_id"].duplicated(), "doc_id"].iloc[0]
        raise NewsauditError(f"pages table: doc_id {first!r} occurs more than once")
    out = with_repetition(pages, params)
    ok = _eligible(out)
    clusters = cluster_pages(out.loc[ok, "doc_id"], out.loc[ok, "clean_text"], params)
    out["exact_dup_of"] = pd.Series(None, index=out.index, dtype=object)
    out["near_dup_cluster"] = pd.Series(None, index=out.index, dtype=object)
    out["is_representative"] = False
    out["sim_to_representative"] = np.nan
    for col in ("exact_dup_of", "near_dup_cluster", "is_representative", "sim_to_representative"):
        out.loc[clusters.index, col] = clusters[col]
    out["is_representative"] = out["is_representative"].astype(bool)
    out["sim_to_representative"] = out["sim_to_representative"].astype(float)
    return out


# ----------------------------------------------------------------------------- statistics and plots


def _r(x: float, nd: int = 4) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), nd)


def s_curve_table(params: DuplicatesParams) -> dict[str, Any]:
    return {
        "formula": "P(candidate | Jaccard s) = 1 - (1 - s**rows)**bands",
        "bands": params.bands,
        "rows": params.rows,
        "midpoint_jaccard": _r(s_curve_midpoint(params.bands, params.rows)),
        "points": {
            f"{s:.2f}": _r(float(s_curve(s, params.bands, params.rows))) for s in params.s_curve_points
        },
    }


def duplicate_stats(out: pd.DataFrame, params: DuplicatesParams, top_sources: int = 20) -> dict[str, Any]:
    """The stage's metrics: duplicate rates, cluster sizes, repeated paragraphs, syndication."""
    ok = out["near_dup_cluster"].notna()
    n_ok = int(ok.sum())
    sizes = out.loc[ok, "near_dup_cluster"].value_counts()
    in_multi = out.loc[ok, "near_dup_cluster"].map(sizes) > 1
    # the batch-wise stage passes a boolean column instead of the texts
    with_text = out["clean_text"].notna() if "clean_text" in out else out["_has_text"].astype(bool)
    stats: dict[str, Any] = {
        "pages": len(out),
        "pages_clustered": n_ok,
        "pages_skipped": {
            "rejected_or_no_text": int((~with_text | out.get("status", "accepted").ne("accepted")).sum()),
            "error_pages": int(
                out.get("is_error_page", pd.Series(False, index=out.index)).fillna(False).astype(bool).sum()
            ),
        },
        "exact_duplicate_pages": int(out["exact_dup_of"].notna().sum()),
        "exact_duplicate_rate": _r(out["exact_dup_of"].notna().sum() / n_ok) if n_ok else None,
        "near_duplicate_pages": int((in_multi & ~out.loc[ok, "is_representative"]).sum()),
        "near_duplicate_rate": _r((in_multi & ~out.loc[ok, "is_representative"]).sum() / n_ok)
        if n_ok
        else None,
        "clusters": int(sizes.size),
        "clusters_with_duplicates": int((sizes > 1).sum()),
        "cluster_size_distribution": {str(k): int(v) for k, v in sizes.value_counts().sort_index().items()},
        "largest_cluster": int(sizes.max()) if sizes.size else 0,
        "pages_with_repeated_paragraphs": int((out["repeated_paragraphs_removed"] > 0).sum()),
        "repeated_paragraphs_removed": int(out["repeated_paragraphs_removed"].sum()),
        "gopher_means": {c: _r(out.loc[with_text, c].mean()) for c in STAT_COLUMNS},
        # share of pages with text above each Gopher threshold, and above any (what the filter drops)
        "gopher_over_threshold": {
            **{c: _r((out.loc[with_text, c] > t).mean()) for c, t in GOPHER_THRESHOLDS.items()},
            "any": _r(
                pd.concat([out.loc[with_text, c] > t for c, t in GOPHER_THRESHOLDS.items()], axis=1)
                .any(axis=1)
                .mean()
            ),
        },
        "s_curve": s_curve_table(params),
    }
    if "source" in out:
        members = out[ok & ~out["is_representative"] & in_multi.reindex(out.index, fill_value=False)]
        rep_source = out.set_index("doc_id")["source"]
        pairs = pd.DataFrame(
            {
                "from": members["near_dup_cluster"].map(rep_source).fillna("(none)"),
                "to": members["source"].fillna("(none)"),
            }
        )
        pairs = pairs[pairs["from"] != pairs["to"]]
        counted = pairs.value_counts().reset_index(name="pages")
        counted = counted.sort_values(["pages", "from", "to"], ascending=[False, True, True]).head(
            top_sources
        )
        stats["syndication"] = [
            {"from": str(r["from"]), "to": str(r["to"]), "pages": int(r["pages"])}
            for _, r in counted.iterrows()
        ]
    return stats


def write_plots(out: pd.DataFrame, params: DuplicatesParams, plots: Path) -> None:
    """Cluster-size histogram and the LSH S-curve, as CSV (DVC plots) and PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots.mkdir(parents=True, exist_ok=True)
    sizes = out["near_dup_cluster"].dropna().value_counts().value_counts().sort_index()
    hist = pd.DataFrame({"cluster_size": sizes.index.astype(int), "clusters": sizes.to_numpy().astype(int)})
    hist.to_csv(plots / "cluster_sizes.csv", index=False)
    grid = np.round(np.linspace(0, 1, 101), 2)
    curve = pd.DataFrame(
        {"jaccard": grid, "p_candidate": np.round(s_curve(grid, params.bands, params.rows), 6)}
    )
    curve.to_csv(plots / "s_curve.csv", index=False)
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ax[0].bar(hist["cluster_size"], hist["clusters"])
    ax[0].set(xlabel="cluster size (pages)", ylabel="clusters", yscale="log", title="near-duplicate clusters")
    ax[1].plot(curve["jaccard"], curve["p_candidate"])
    ax[1].axvline(params.threshold, ls="--", c="grey")
    ax[1].set(xlabel="Jaccard similarity", ylabel="P(candidate)", title=f"LSH {params.bands}x{params.rows}")
    fig.tight_layout()
    fig.savefig(plots / "duplicates.png", dpi=100, metadata={"Software": None})
    plt.close(fig)


# ----------------------------------------------------------------------------- commands


def audit_step(src: Path, dst: Path, ctx: Any) -> None:
    """The duplicates step of ``newsaudit audit`` (``ctx``: its ``AuditContext``): the same function
    as the stage, file to file; its metrics go into the audit summary."""
    import pyarrow.parquet as pq

    from newsaudit.duplicates_stream import dedup_parquet
    from newsaudit.pipeline import StepUnavailable

    if "clean_text" not in pq.ParquetFile(src).schema_arrow.names:
        raise StepUnavailable("no clean_text column: the boilerplate step did not run")
    params = section(ctx.params, "duplicates", DuplicatesParams)
    ctx.summary["duplicates"] = duplicate_stats(dedup_parquet(src, dst, params), params)


def run_stage(args: argparse.Namespace) -> None:
    raw = load_params(args.params)
    params = section(raw, "duplicates", DuplicatesParams)
    src = Path(args.input)
    if not src.is_file():
        raise NewsauditError(f"{src}: cleaned pages table not found (run the boilerplate stage first)")
    if engine_of(raw) == "dask":
        from newsaudit.engines.dask.legacy import DaskParams, connect, duplicates_dask

        dask_params = section(raw, "dask", DaskParams)
        with connect(dask_params) as client:
            out = duplicates_dask(client, src, params, dask_params).compute()
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        out.to_parquet(args.output, index=False)
    else:
        from newsaudit.duplicates_stream import dedup_parquet

        out = dedup_parquet(src, Path(args.output), params)
    stats = duplicate_stats(out, params)
    write_json(stats, Path(args.metrics))
    write_plots(out, params, Path(args.plots))
    log.info(
        "duplicates: %d pages, %d exact and %d near duplicates, %d pages with repeated paragraphs",
        stats["pages"],
        stats["exact_duplicate_pages"],
        stats["near_duplicate_pages"],
        stats["pages_with_repeated_paragraphs"],
    )


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("duplicates", help="repeated paragraphs, exact and near-duplicate pages")
    p.add_argument("--input", default="data/interim/pages_clean.parquet")
    p.add_argument("--output", default="data/interim/pages_dedup.parquet")
    p.add_argument("--metrics", default="reports/metrics/duplicates.json")
    p.add_argument("--plots", default="reports/plots/duplicates")
    p.set_defaults(func=run_stage)
