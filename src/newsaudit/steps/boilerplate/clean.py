"""Boilerplate and error pages: clean article text out of plain-text page dumps.

Reads the pages table (one row per scraped page, ``raw_text`` = the page's full visible text) and
adds ``clean_text`` plus a traceable record of every removed line. Four signals, in this order
of precedence for the reason recorded:

1. ``error_page``: an error / blocked / empty-shell page, or an error block glued before real
   content (``boilerplate_errors``);
2. ``site_template``: lines (case-, digit- and space-folded) that recur on many pages of the same
   source, or of the whole corpus for pages without a (large enough) source;
3. ``pattern``: short page-furniture lines (comment widgets, disclaimers, share bars...);
4. ``line_model``: a classifier over per-line features trained on gold-aligned pages
   (``boilerplate_linemodel``), for everything the first three do not decide.

Rejected rows of the pages table pass through untouched (``clean_text`` null).
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from newsaudit.steps.boilerplate.errors import error_kinds_batch, fillers_batch, furniture_batch, scan_errors_flags
from newsaudit.steps.boilerplate.linemodel import LineModel, load_line_model
from newsaudit.steps.boilerplate.lines import (
    KEYWORD_GROUPS,
    PageLines,
    normalize_lines,
    split_lines,
)
from newsaudit.core.config import Section, engine_of, load_params, section
from newsaudit.core.errors import NewsauditError
from newsaudit.core.io import write_json

log = logging.getLogger(__name__)

REASONS = ("error_page", "site_template", "pattern", "line_model")
# Only groups whose words rarely occur in news prose ("next", "share", "comment" do).
_TEMPLATE_KEYWORDS = ("copyright", "cookie", "account", "advert")


class BoilerplateParams(Section):
    """``boilerplate`` section of params.yaml."""

    line_model: str = "models/line_model.skops"
    # Site templates: a normalised line is a template of a scope (a source with at least
    # template_source_min_pages pages, else the corpus-wide pool of remaining pages) when it is on at
    # least template_min_pages pages and on at least template_min_page_frac of the scope's pages.
    template_source_min_pages: int = 20
    template_min_pages: int = 5
    template_min_page_frac: float = 0.05
    # Corpus-wide templates longer than this are only removed when they look like furniture
    # (keywords of copyright, cookies, sharing...): a syndicated article paragraph carried by many
    # outlets is long prose and is left to the line model.
    template_max_words: int = 12
    # Error pages: error lines are short; an error block must start within the first lines.
    error_line_max_words: int = 25
    error_scan_lines: int = 12
    # A page with an error line and fewer content words than this left is an error page.
    error_page_max_content_words: int = 60
    # A page with fewer words than this and no kept content is an empty shell.
    empty_shell_max_words: int = 40
    pattern_max_words: int = 60
    # Without a trained line model, keep lines with at least this many words (baseline rule).
    fallback_min_words: int = 15
    top_lines: int = 25
    batch_rows: int = 2000  # pages per Parquet batch (bounds memory)
    workers: int = 2  # processes cleaning batches


class BoilerplateBenchParams(Section):
    """``boilerplate_bench`` section: the scrapinghub / trafilatura-eval benchmark."""

    n_bootstrap: int = 1000
    seed: int = 0
    baseline_min_words: int = 15
    html_mode: str = "trafilatura"


# --------------------------------------------------------------------------------------------
# Site templates: line counts per source, aggregated over the corpus (batch by batch, or as a
# distributed aggregation), then a small index of template line hashes per scope.

COUNT_COLUMNS = ["source", "line_hash", "pages", "long_plain"]


def _line_hashes(norms: list[str]) -> np.ndarray:
    """64-bit hashes as int64: pandas groups uint64 keys beside another key through float64 (lossy)."""
    hashes = np.fromiter((xxhash.xxh3_64_intdigest(n.encode("utf-8")) for n in norms), np.uint64, len(norms))
    return hashes.view(np.int64)


def _furniture_words(norms: pa.Array) -> np.ndarray:
    """Whether each normalised line contains a furniture keyword (copyright, cookie, account, advert)."""
    pattern = "|".join(f"(?:{KEYWORD_GROUPS[g]})" for g in _TEMPLATE_KEYWORDS)
    return pc.match_substring_regex(norms, pattern).to_numpy(zero_copy_only=False)


def template_line_counts(
    sources: list[str | None], pages: list[PageLines], params: BoilerplateParams
) -> pd.DataFrame:
    """For one batch of accepted pages: on how many pages each (source, normalised line) occurs.

    Lines are keyed by a 64-bit hash of their normalised form, so the corpus-wide table holds
    numbers, not text. ``long_plain``: the line is longer than ``template_max_words`` and has no
    furniture keyword (a function of the line, so any page's copy gives the same value).
    """
    sizes = [len(p.texts) for p in pages]
    norms = normalize_lines([t for p in pages for t in p.texts])
    if not norms:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(COUNT_COLUMNS, COUNT_DTYPES, strict=True)})
    arr = pa.array(norms, type=pa.large_string())
    n_words = pc.list_value_length(pc.utf8_split_whitespace(arr)).to_numpy(zero_copy_only=False)
    frame = pd.DataFrame(
        {
            "page": np.repeat(np.arange(len(pages)), sizes),
            "source": np.repeat(np.array([s or "" for s in sources], dtype=object), sizes),
            "line_hash": _line_hashes(norms),
            "long_plain": (n_words > params.template_max_words) & ~_furniture_words(arr),
        }
    ).drop_duplicates(["page", "line_hash"])
    return merge_template_counts([frame.assign(pages=1)])


COUNT_DTYPES = ["object", "int64", "int64", "bool"]


def merge_template_counts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Sum partial counts (of batches, or of partitions on a cluster) into one table."""
    frame = pd.concat([p[COUNT_COLUMNS] for p in parts], ignore_index=True)
    out = frame.groupby(["source", "line_hash"], sort=True).agg(
        pages=("pages", "sum"), long_plain=("long_plain", "first")
    )
    return out.reset_index()[COUNT_COLUMNS]


@dataclass(frozen=True)
class TemplateIndex:
    """Template line hashes per scope ('source:<name>' or '*'), with their page counts."""

    scope_of_source: dict[str, str]  # '' = pages without a source
    lines: dict[str, dict[int, int]]  # scope -> line hash -> n pages

    def scope(self, source: str | None) -> str:
        return self.scope_of_source.get(source or "", "*")

    def flags(self, source: str | None, line_hashes: np.ndarray) -> np.ndarray:
        kept = self.lines.get(self.scope(source), {})
        return np.fromiter((int(h) in kept for h in line_hashes), bool, len(line_hashes))


def build_template_index(
    counts: pd.DataFrame, source_pages: dict[str, int], params: BoilerplateParams
) -> TemplateIndex:
    """Template lines from the corpus-wide counts (:func:`merge_template_counts`) and the number of
    accepted pages per source ('' = no source)."""
    scope_of_source = {
        src: f"source:{src}" if src and n >= params.template_source_min_pages else "*"
        for src, n in source_pages.items()
    }
    scope_pages: Counter = Counter()
    for src, n in source_pages.items():
        scope_pages[scope_of_source[src]] += n
    scoped = counts.assign(scope=counts["source"].map(scope_of_source).fillna("*"))
    scoped = scoped.groupby(["scope", "line_hash"], sort=True).agg(
        pages=("pages", "sum"), long_plain=("long_plain", "first")
    )
    lines: dict[str, dict[int, int]] = {}
    for scope, grp in scoped.groupby(level="scope", sort=True):
        min_pages = max(params.template_min_pages, params.template_min_page_frac * scope_pages[scope])
        keep = grp["pages"] >= min_pages
        # Within one site a repeated long line is the site's own (a disclaimer): syndication of one
        # article to the same site twice is a duplicate, handled elsewhere. Across the corpus a long
        # repeated line may be a syndicated article paragraph: keep it unless it reads like furniture.
        if scope == "*":
            keep &= ~grp["long_plain"].astype(bool)
        kept = grp[keep]
        lines[str(scope)] = dict(
            zip(
                kept.index.get_level_values("line_hash").tolist(),
                kept["pages"].tolist(),
                strict=True,
            )
        )
    return TemplateIndex(scope_of_source, lines)


def source_page_counts(sources: pd.Series) -> dict[str, int]:
    """Accepted pages per source ('' = no source)."""
    return dict(sorted(Counter(s if isinstance(s, str) else "" for s in sources).items()))


# --------------------------------------------------------------------------------------------
# A batch of pages


OUT_DTYPES = {
    "clean_text": "string",
    "clean_status": "string",
    "is_error_page": "boolean",
    "error_kind": "string",
    "error_prefix_chars": "Int64",
    "error_prefix_kind": "string",
    "boilerplate_chars": "Int64",
    "boilerplate_frac": "Float64",
    "n_lines": "Int64",
    "n_lines_kept": "Int64",
    "clean_n_chars": "Int64",
}
REMOVED_COLUMNS = ["doc_id", "line_no", "text", "reason"]


def _accepted(pages: pd.DataFrame) -> pd.Series:
    return (pages["status"] == "accepted") & pages["raw_text"].notna()


def _sources(pages: pd.DataFrame) -> pd.Series:
    """Each page's source as a str, or None (object dtype: pandas' str dtype would turn None into NaN)."""
    values = pages["source"].tolist() if "source" in pages.columns else [None] * len(pages)
    return pd.Series(
        [v if isinstance(v, str) and v else None for v in values], index=pages.index, dtype=object
    )


def _keep_by_model(
    pages: list[PageLines], line_model: LineModel | None, params: BoilerplateParams
) -> np.ndarray:
    if line_model is None:
        return np.array(
            [len(t.split()) >= params.fallback_min_words for p in pages for t in p.texts], dtype=bool
        )
    kept = line_model.keep_lines_batch(pages)
    return np.concatenate(kept) if kept else np.zeros(0, dtype=bool)


def clean_pages(
    doc_ids: list[str],
    sources: list[str | None],
    texts: list[str | None],
    templates: TemplateIndex,
    params: BoilerplateParams,
    line_model: LineModel | None,
) -> tuple[dict[str, list], pd.DataFrame]:
    """Clean a batch of pages: the per-page output columns and the removed lines.

    Each page's result depends on that page and the template index only, so batches (or
    partitions on a cluster) of any size give the same rows.
    """
    pages = [split_lines(t) for t in texts]
    sizes = np.array([len(p.texts) for p in pages], dtype=np.int64)
    lines = [t for p in pages for t in p.texts]
    n_all = len(lines)
    lower = pc.utf8_lower(pa.array(lines, type=pa.large_string()))
    n_words = pc.list_value_length(pc.utf8_split_whitespace(lower)).to_numpy(zero_copy_only=False)
    n_words = n_words.astype(np.int64) if n_all else np.zeros(0, dtype=np.int64)
    kinds = error_kinds_batch(lower, n_words, params.error_line_max_words)
    fillers = fillers_batch(lower)
    furniture = furniture_batch(lower, n_words, params.pattern_max_words)
    hashes = _line_hashes(normalize_lines(lines)) if n_all else np.zeros(0, dtype=np.int64)
    keep_model = _keep_by_model(pages, line_model, params)
    chars = np.fromiter((len(t) for t in lines), np.int64, n_all)
    # reasons, in order of precedence: error_page > site_template > pattern > line_model
    reason = np.full(n_all, None, dtype=object)
    cols: dict[str, list] = defaultdict(list)
    gone_mask = np.zeros(n_all, dtype=bool)
    starts = np.cumsum(sizes) - sizes
    for k, (source, page) in enumerate(zip(sources, pages, strict=True)):
        lo, n = int(starts[k]), int(sizes[k])
        hi = lo + n
        if n == 0:
            row = ("", "empty_input", True, "empty_shell", 0, None, 0, 0.0, 0, 0, 0)
            for name, value in zip(OUT_DTYPES, row, strict=True):
                cols[name].append(value)
            continue
        scan = scan_errors_flags(list(kinds[lo:hi]), fillers[lo:hi], params.error_scan_lines)
        r = reason[lo:hi]
        r[templates.flags(source, hashes[lo:hi])] = "site_template"
        r[(r == None) & furniture[lo:hi]] = "pattern"  # noqa: E711 (elementwise on an object array)
        r[(r == None) & ~keep_model[lo:hi]] = "line_model"  # noqa: E711
        r[: scan.prefix_end] = "error_page"
        kept = r == None  # noqa: E711
        content_words = int(n_words[lo:hi][kept].sum())
        total_words = int(n_words[lo:hi].sum())
        status, is_error, kind = "ok", False, None
        if scan.first_kind and content_words < params.error_page_max_content_words:
            status, is_error, kind = "error_page", True, scan.first_kind
        elif content_words == 0 and total_words < params.empty_shell_max_words:
            status, is_error, kind = "error_page", True, "empty_shell"
        elif content_words == 0:
            status = "all_boilerplate"
        if is_error:
            # The whole page is an error: every line goes, its reason says so (the flag, not an
            # empty string, is what downstream stages must look at).
            r[:] = "error_page"
            kept[:] = False
        page_chars = chars[lo:hi]
        total_chars = int(page_chars.sum())
        removed_chars = int(page_chars[~kept].sum())
        prefix_chars = int(page_chars[: scan.prefix_end].sum()) if not is_error else 0
        clean = "\n".join(t for t, keep in zip(page.texts, kept, strict=True) if keep)
        row = (
            clean,
            status,
            is_error,
            kind,
            prefix_chars,
            scan.prefix_kind if prefix_chars else None,
            removed_chars,
            round(removed_chars / total_chars, 6) if total_chars else 0.0,
            n,
            int(kept.sum()),
            len(clean),
        )
        for name, value in zip(OUT_DTYPES, row, strict=True):
            cols[name].append(value)
        gone_mask[lo:hi] = ~kept
    gone = np.flatnonzero(gone_mask)
    line_no = np.concatenate([np.asarray(p.line_no, dtype=np.int64) for p in pages]) if n_all else gone
    page_of_line = np.repeat(np.arange(len(pages)), sizes)
    removed = pd.DataFrame(
        {
            "doc_id": pd.Series(np.asarray(doc_ids, dtype=object)[page_of_line[gone]], dtype=object),
            "line_no": line_no[gone],
            "text": pd.Series([lines[i] for i in gone], dtype=object),
            "reason": reason[gone],
        }
    )
    removed["reason"] = pd.Categorical(removed["reason"], categories=list(REASONS))
    return cols, removed


def annotate_batch(
    pages: pd.DataFrame, templates: TemplateIndex, params: BoilerplateParams, line_model: LineModel | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The boilerplate columns added to one batch of the pages table, and its removed lines."""
    missing = {"doc_id", "raw_text", "status"} - set(pages.columns)
    if missing:
        raise NewsauditError(f"pages table: missing column(s) {sorted(missing)}")
    out = pages.copy()
    acc = _accepted(out)
    cols, removed = clean_pages(
        out.loc[acc, "doc_id"].astype(str).tolist(),
        _sources(out)[acc].tolist(),
        out.loc[acc, "raw_text"].tolist(),
        templates,
        params,
        line_model,
    )
    for name, dtype in OUT_DTYPES.items():
        col = pd.Series(pd.NA, index=out.index, dtype=dtype)
        if acc.any():
            col.loc[acc] = pd.Series(cols[name], index=out.index[acc]).astype(dtype)
        out[name] = col
    return out, removed


def corpus_templates(pages: pd.DataFrame, params: BoilerplateParams) -> TemplateIndex:
    """The template index of an in-memory pages table."""
    acc = pages[_accepted(pages)] if {"status", "raw_text"} <= set(pages.columns) else pages.iloc[:0]
    sources = _sources(acc)
    counts = template_line_counts(sources.tolist(), [split_lines(t) for t in acc["raw_text"]], params)
    return build_template_index(counts, source_page_counts(sources), params)


def annotate_boilerplate(
    pages: pd.DataFrame, params: BoilerplateParams, line_model: LineModel | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add clean text and boilerplate/error columns to the pages table; list every removed line.

    Pure: the input frame is not modified. Rejected rows keep all their values and get null
    clean_text / flags. ``line_model=None`` uses the fallback rule (lines of
    ``fallback_min_words`` words or more), for tests and for running without a trained model.
    The streaming stage (:mod:`newsaudit.boilerplate_stream`) gives the same rows batch by batch.
    """
    missing = {"doc_id", "raw_text", "status"} - set(pages.columns)
    if missing:
        raise NewsauditError(f"pages table: missing column(s) {sorted(missing)}")
    templates = corpus_templates(pages, params)
    log.info("site templates: %s", {k: len(v) for k, v in templates.lines.items() if v})
    out, removed = annotate_batch(pages, templates, params, line_model)
    removed = removed.sort_values(["doc_id", "line_no"], kind="stable").reset_index(drop=True)
    return out, removed


# --------------------------------------------------------------------------------------------
# Corpus statistics


def _r(x: float) -> float:
    return round(float(x), 4)


def corpus_stats(
    pages: pd.DataFrame, removed: pd.DataFrame, params: BoilerplateParams, totals: dict | None = None
) -> dict:
    """The stage's metrics. ``totals`` ({"lines": {reason: n}, "chars": {reason: n}}) are the removed
    lines' counts when ``removed`` holds only the template and pattern lines (the streaming stage)."""
    acc = pages[pages["clean_status"].notna()]
    total = int(acc["boilerplate_chars"].sum() + acc["clean_n_chars"].sum()) if len(acc) else 0
    frac = acc["boilerplate_frac"].astype(float)
    chars_by_reason = removed.assign(n=removed["text"].str.len()).groupby("reason", observed=False)["n"].sum()
    stats: dict = {
        "n_pages": len(pages),
        "n_pages_cleaned": len(acc),
        "removed_char_share": _r(acc["boilerplate_chars"].sum() / total) if total else 0.0,
        "removed_frac_per_page": {
            q: _r(frac.quantile(v)) if len(frac) else 0.0
            for q, v in (("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9))
        },
        "removed_chars_by_reason": totals["chars"]
        if totals
        else {str(k): int(v) for k, v in chars_by_reason.items()},
        "removed_lines_by_reason": totals["lines"]
        if totals
        else {str(k): int(v) for k, v in removed["reason"].value_counts().sort_index().items()},
        "status_counts": {str(k): int(v) for k, v in acc["clean_status"].value_counts().sort_index().items()},
        "error_pages_by_kind": {
            str(k): int(v)
            for k, v in acc.loc[acc["is_error_page"].fillna(False).astype(bool), "error_kind"]
            .value_counts()
            .sort_index()
            .items()
        },
        "error_prefixes_by_kind": {
            str(k): int(v)
            for k, v in acc.loc[acc["error_prefix_chars"] > 0, "error_prefix_kind"]
            .value_counts()
            .sort_index()
            .items()
        },
        "pages_empty_after_cleaning": int((acc["clean_n_chars"] == 0).sum()),
    }
    if "source" in acc.columns and acc["source"].notna().any():
        by_src = acc.groupby("source").agg(
            pages=("doc_id", "size"),
            removed=("boilerplate_chars", "sum"),
            kept=("clean_n_chars", "sum"),
        )
        by_src = by_src.sort_values(["pages", "removed"], ascending=False).head(params.top_lines)
        stats["by_source"] = {
            str(s): {"pages": int(r.pages), "removed_char_share": _r(r.removed / max(1, r.removed + r.kept))}
            for s, r in by_src.sort_index().iterrows()
        }
    removed = removed[removed["reason"].isin(["site_template", "pattern"])]
    if len(removed):
        src_of = dict(
            zip(pages["doc_id"].astype(str), pages.get("source", pd.Series(dtype=object)), strict=False)
        )
        tmp = removed[removed["reason"].isin(["site_template", "pattern"])].copy()
        tmp["norm"] = normalize_lines(tmp["text"].tolist())
        tmp["src"] = tmp["doc_id"].map(src_of)
        agg = tmp.groupby("norm").agg(
            pages=("doc_id", "nunique"), sources=("src", "nunique"), reason=("reason", "first")
        )
        agg = agg.reset_index().sort_values(["pages", "norm"], ascending=[False, True]).head(params.top_lines)
        stats["top_boilerplate_lines"] = [
            {"line": r.norm[:120], "pages": int(r.pages), "sources": int(r.sources), "reason": str(r.reason)}
            for r in agg.itertuples()
        ]
    return stats


def write_plots(pages: pd.DataFrame, stats: dict, plots_dir: Path) -> None:
    """Plot data (CSV, for `dvc plots`) and PNG figures of the removed share."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    acc = pages[pages["clean_status"].notna()]
    bins = np.linspace(0, 1, 21)
    counts, _ = np.histogram(acc["boilerplate_frac"].astype(float), bins=bins)
    hist = pd.DataFrame({"removed_frac": np.round(bins[:-1], 2), "pages": counts})
    hist.to_csv(plots_dir / "removed_frac_hist.csv", index=False)
    by_src = pd.DataFrame(
        [{"source": s, **v} for s, v in stats.get("by_source", {}).items()],
        columns=["source", "pages", "removed_char_share"],
    )
    by_src.to_csv(plots_dir / "removed_by_source.csv", index=False)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(hist["removed_frac"], hist["pages"], width=0.05, align="edge")
    ax.set_xlabel("share of page characters removed")
    ax.set_ylabel("pages")
    fig.tight_layout()
    fig.savefig(plots_dir / "removed_frac_hist.png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    if len(by_src):
        fig, ax = plt.subplots(figsize=(6, max(2.5, 0.25 * len(by_src))))
        ax.barh(by_src["source"], by_src["removed_char_share"])
        ax.set_xlabel("share of characters removed")
        fig.tight_layout()
        fig.savefig(plots_dir / "removed_by_source.png", dpi=100, metadata={"Software": None})
        plt.close(fig)


# --------------------------------------------------------------------------------------------
# CLI


def run_boilerplate(args: argparse.Namespace) -> None:
    from newsaudit.boilerplate_stream import clean_parquet

    raw = load_params(args.params)
    params = section(raw, "boilerplate", BoilerplateParams)
    pages_path = Path(args.pages)
    if not pages_path.is_file():
        raise NewsauditError(f"{pages_path} does not exist (run `newsaudit ingest` first)")
    line_model = load_line_model(Path(args.model or params.line_model))
    out = Path(args.out)
    if engine_of(raw) == "dask":
        stats = _run_dask(raw, pages_path, out, Path(args.removed), params, line_model)
    else:
        stats = clean_parquet(
            pages_path, out, Path(args.removed), params, line_model, params.batch_rows, params.workers
        )
    write_json(stats, Path(args.metrics))
    small = [c for c in pq.ParquetFile(out).schema_arrow.names if c not in ("raw_text", "clean_text")]
    write_plots(pd.read_parquet(out, columns=small), stats, Path(args.plots))
    log.info(
        "boilerplate: %d pages, %.1f%% of characters removed, %d error pages",
        stats["n_pages_cleaned"],
        100 * stats["removed_char_share"],
        sum(stats["error_pages_by_kind"].values()),
    )


def _run_dask(
    raw: dict, pages_path: Path, out: Path, removed_path: Path, params: BoilerplateParams, line_model
) -> dict:
    """The stage on a Dask cluster (``engine: dask``); the tables are gathered to write the files
    the next stage reads."""
    from newsaudit.engines.dask.legacy import DaskParams, boilerplate_dask, connect

    dask_params = section(raw, "dask", DaskParams)
    with connect(dask_params) as client:
        pages, removed = boilerplate_dask(client, pages_path, params, line_model, dask_params)
        pages, removed = client.compute([pages, removed], sync=True)
    removed = removed.sort_values(["doc_id", "line_no"], kind="stable").reset_index(drop=True)
    pages.to_parquet(out, index=False)
    removed.to_parquet(removed_path, index=False)
    return corpus_stats(pages, removed, params)


def run_train(args: argparse.Namespace) -> None:
    from newsaudit.steps.boilerplate.linemodel import LineModelParams, train_and_save

    params = section(load_params(args.params), "linemodel", LineModelParams)
    train_and_save(Path(args.external), params, Path(args.model), Path(args.card), Path(args.oof))


def run_bench(args: argparse.Namespace) -> None:
    from newsaudit.benchmarks.extraction import run_benchmark

    all_params = load_params(args.params)
    bench = section(all_params, "boilerplate_bench", BoilerplateBenchParams)
    bp = section(all_params, "boilerplate", BoilerplateParams)
    run_benchmark(
        Path(args.external), Path(args.model or bp.line_model), Path(args.oof), Path(args.out), bench, bp
    )


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("boilerplate", help="clean article text, flag error pages, record removed lines")
    p.add_argument("--pages", default="data/interim/pages.parquet")
    p.add_argument("--out", default="data/interim/pages_clean.parquet")
    p.add_argument("--removed", default="data/interim/removed_lines.parquet")
    p.add_argument("--metrics", default="reports/metrics/boilerplate.json")
    p.add_argument("--plots", default="reports/plots/boilerplate")
    p.add_argument("--model", default=None, help="line model (default: boilerplate.line_model)")
    p.set_defaults(func=run_boilerplate)

    t = sub.add_parser("train-linemodel", help="train the boilerplate line model on gold-aligned pages")
    t.add_argument("--external", default="data/external")
    t.add_argument("--model", default="models/line_model.skops")
    t.add_argument("--card", default="models/line_model.json")
    t.add_argument(
        "--oof",
        default="data/interim/linemodel_oof.parquet",
        help="out-of-fold clean text of the training pages (for the benchmark)",
    )
    t.set_defaults(func=run_train)

    b = sub.add_parser(
        "bench-boilerplate", help="score cleaning on the scrapinghub and trafilatura-eval gold"
    )
    b.add_argument("--external", default="data/external")
    b.add_argument("--model", default=None)
    b.add_argument("--oof", default="data/interim/linemodel_oof.parquet")
    b.add_argument("--out", default="reports/metrics/boilerplate_benchmark.json")
    b.set_defaults(func=run_bench)
