"""The boilerplate step's corpus statistics (``reports/metrics/boilerplate.json``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from newsaudit.lib import storage
from newsaudit.steps.boilerplate.clean import REASONS
from newsaudit.steps.boilerplate.lines import normalize_lines
from newsaudit.steps.boilerplate.params import BoilerplateParams

# What :func:`corpus_stats`, :func:`http_status_stats` and the stage's plots read of the pages table
# (lib.tables.read_columns reads only these back: the statistics hold a dozen values a page).
STATS_COLUMNS = (
    "doc_id",
    "source",
    "clean_status",
    "boilerplate_chars",
    "clean_n_chars",
    "boilerplate_frac",
    "is_error_page",
    "error_kind",
    "error_prefix_chars",
    "error_prefix_kind",
    "http_status",
)


def _r(x: float) -> float:
    return round(float(x), 4)


def corpus_stats(
    pages: pd.DataFrame,
    removed: pd.DataFrame | Iterable[pd.DataFrame],
    params: BoilerplateParams,
    totals: dict | None = None,
) -> dict:
    """The stage's metrics. ``removed`` is every removed line (a table), or, with ``totals``
    ({"lines": {reason: n}, "chars": {reason: n}}: the removed lines' counts), batches of the
    template and pattern lines in file order (the streaming stage: :func:`stats_from_files`)."""
    if totals is None:
        if not isinstance(removed, pd.DataFrame):
            raise TypeError("corpus_stats: batches of removed lines need their totals")
        chars = removed.assign(n=removed["text"].str.len()).groupby("reason", observed=False)["n"].sum()
        totals = {
            "chars": {str(k): int(v) for k, v in chars.items()},
            "lines": {str(k): int(v) for k, v in removed["reason"].value_counts().sort_index().items()},
        }
    acc = pages[pages["clean_status"].notna()]
    total = int(acc["boilerplate_chars"].sum() + acc["clean_n_chars"].sum()) if len(acc) else 0
    frac = acc["boilerplate_frac"].astype(float)
    stats: dict = {
        "n_pages": len(pages),
        "n_pages_cleaned": len(acc),
        "removed_char_share": _r(acc["boilerplate_chars"].sum() / total) if total else 0.0,
        "removed_frac_per_page": {
            q: _r(frac.quantile(v)) if len(frac) else 0.0
            for q, v in (("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9))
        },
        "removed_chars_by_reason": totals["chars"],
        "removed_lines_by_reason": totals["lines"],
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
    if "http_status" in acc.columns and acc["http_status"].notna().any():
        stats["http_status"] = http_status_stats(acc)
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
    top = top_lines([removed] if isinstance(removed, pd.DataFrame) else removed, pages, params.top_lines)
    if top:
        stats["top_boilerplate_lines"] = top
    return stats


TOP_REASONS = ("site_template", "pattern")


def top_lines(batches: Iterable[pd.DataFrame], pages: pd.DataFrame, n: int) -> list[dict]:
    """The ``n`` site-template and pattern lines (normalised) on most pages, with how many pages and
    sources each is on, from batches of removed lines (doc_id, text, reason) in file order.

    Counted as the batches go, so memory grows with the distinct lines, not with the corpus: a
    page's lines are written together, so a (line, page) pair seen again is either in the same
    batch (dropped there) or the page that runs across the batch boundary, which is the last page
    seen with that line. Exact, as a group-by over the whole table would be; the test compares.
    """
    ids = pages["doc_id"].astype(str)
    source_of = pd.Series(pages["source"].to_numpy() if "source" in pages else None, index=ids)
    source_of = source_of[~source_of.index.duplicated(keep="last")]
    page_counts: Counter = Counter()
    last_page: dict[str, str] = {}
    first_reason: dict[str, str] = {}
    line_sources: set[tuple[str, str]] = set()
    for batch in batches:
        part = batch[batch["reason"].astype(str).isin(TOP_REASONS)]
        if not len(part):
            continue
        frame = pd.DataFrame(
            {
                "norm": normalize_lines(part["text"].tolist()),
                "doc_id": part["doc_id"].astype(str).to_numpy(),
                "reason": part["reason"].astype(str).to_numpy(),
            }
        )
        for norm, reason in frame.groupby("norm", sort=False)["reason"].first().items():
            first_reason.setdefault(norm, reason)
        frame = frame.drop_duplicates(["norm", "doc_id"])
        new = frame[frame["doc_id"].to_numpy() != frame["norm"].map(last_page).to_numpy()]
        page_counts.update(new["norm"].value_counts().to_dict())
        last_page.update(frame.groupby("norm", sort=False)["doc_id"].last().to_dict())
        src = new["doc_id"].map(source_of)
        line_sources.update((a, b) for a, b in zip(new["norm"], src, strict=True) if pd.notna(b))
    if not page_counts:
        return []
    agg = pd.DataFrame({"norm": list(page_counts), "pages": list(page_counts.values())})
    agg = agg.sort_values(["pages", "norm"], ascending=[False, True]).head(n)
    sources = Counter(norm for norm, _ in line_sources)
    return [
        {
            "line": r.norm[:120],
            "pages": int(r.pages),
            "sources": int(sources[r.norm]),
            "reason": first_reason[r.norm],
        }
        for r in agg.itertuples()
    ]


def http_status_stats(acc: pd.DataFrame) -> dict:
    """Pages that carry an HTTP status (WARC responses): counts by status class, and the soft-404
    rate, the share of 200 responses whose body the text detector calls an error page."""
    status = acc["http_status"].astype("Float64")
    has = status.notna()
    is_error = acc["is_error_page"].fillna(False).astype(bool)
    ok = has & (status == 200)
    soft = int((ok & is_error).sum())
    return {
        "pages_with_status": int(has.sum()),
        "by_class": {
            f"{c}xx": int(((status // 100) == c).sum())
            for c in (1, 2, 3, 4, 5)
            if ((status // 100) == c).any()
        },
        "error_status_pages": int((has & (status >= 400)).sum()),
        "soft_404_pages": soft,
        "soft_404_rate": _r(soft / int(ok.sum())) if int(ok.sum()) else 0.0,
        "soft_404_kinds": {
            str(k): int(v)
            for k, v in acc.loc[ok & is_error, "error_kind"].value_counts().sort_index().items()
        },
    }


def removed_totals(path: Path) -> dict[str, dict[str, int]]:
    """Removed lines and characters per reason, read batch by batch."""
    lines: Counter = Counter()
    chars: Counter = Counter()
    for rb in storage.open_parquet(path).iter_batches(columns=["reason", "text"]):
        frame = rb.to_pandas()
        lines.update(frame["reason"].astype(str).tolist())
        chars.update(
            frame.assign(n=frame["text"].str.len()).groupby("reason", observed=True)["n"].sum().to_dict()
        )
    return {
        "lines": {r: int(lines.get(r, 0)) for r in REASONS},
        "chars": {r: int(chars.get(r, 0)) for r in REASONS},
    }


def stats_from_files(small: pd.DataFrame, removed_path: Path, params: BoilerplateParams) -> dict:
    """The boilerplate statistics from the written files: no page text, and of the removed lines
    only those that feed the top-lines table (site templates and patterns)."""
    batches = (
        rb.to_pandas()
        for rb in storage.open_parquet(removed_path).iter_batches(columns=["doc_id", "text", "reason"])
    )
    return corpus_stats(small, batches, params, totals=removed_totals(removed_path))
