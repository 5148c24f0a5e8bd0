"""The numbers every part of the report shares, computed once from the pages table.

:func:`page_facts` reads the small columns of the most complete pages table (no text) into one row
per page with plain types and fixed names, whichever steps ran; :class:`Summary` holds the corpus
totals the findings are written from; :func:`scorecard` is the per-source table, :func:`clusters`
the largest near-duplicate clusters and :func:`by_month` the monthly counts when pages carry a date.
The pipeline report and the audit report both start here, so they show the same structure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from newsaudit.report.data import PageTable

NO_SOURCE = "(no source)"
NO_LANGUAGE = "und"
# Date columns, in order of preference (a crawl's WARC records give the fetch date; an article's
# metadata may give the publication date).
DATE_COLUMNS = ("published_date", "fetch_date")
READ = [
    "doc_id",
    "source",
    "language",
    "status",
    "reason_code",
    "clean_status",
    "is_error_page",
    "error_kind",
    "error_prefix_chars",
    "error_prefix_kind",
    "boilerplate_chars",
    "clean_n_chars",
    "boilerplate_frac",
    "repeated_paragraphs_removed",
    "near_dup_cluster",
    "is_representative",
    "exact_dup_of",
    "sim_to_representative",
    "classified",
    "unclassified_reason",
    "conflict_prob",
    "conflict_label",
    "conflict_terms",
    "http_status",
    *DATE_COLUMNS,
]


def _flag(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(False, index=frame.index)
    return frame[col].astype("boolean").fillna(False).astype(bool)


def _text(frame: pd.DataFrame, col: str, missing: str = "") -> pd.Series:
    if col not in frame:
        return pd.Series(missing, index=frame.index, dtype=object)
    values = frame[col].astype(object)
    return values.where(values.notna() & (values.astype(str) != ""), missing).astype(str)


def _number(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


@dataclass(frozen=True)
class Facts:
    """One row per page (``frame``), which steps' columns the table has, and the date column used."""

    frame: pd.DataFrame
    steps: frozenset[str]
    date_column: str | None = None


def page_facts(table: PageTable) -> Facts:
    """The per-page facts of a pages table, with defaults for the steps that did not run."""
    raw = table.read(READ)
    steps = {"ingest"}
    if table.has("clean_status") or table.has("boilerplate_frac"):
        steps.add("boilerplate")
    if table.has("near_dup_cluster"):
        steps.add("duplicates")
    if table.has("classified") or table.has("conflict_label"):
        steps.add("classify")
    status = _text(raw, "status", "accepted")
    f = pd.DataFrame(index=raw.index)
    f["doc_id"] = _text(raw, "doc_id")
    f["source"] = _text(raw, "source", NO_SOURCE)
    f["language"] = _text(raw, "language", NO_LANGUAGE)
    f["rejected"] = status == "rejected"
    f["reason"] = _text(raw, "reason_code", "unknown")
    f["cleaned"] = _text(raw, "clean_status").ne("") if "clean_status" in raw else ~f["rejected"]
    f["cleaned"] &= "boilerplate" in steps
    f["error"] = _flag(raw, "is_error_page")
    f["error_kind"] = _text(raw, "error_kind")
    f["prefix_chars"] = _number(raw, "error_prefix_chars").fillna(0)
    f["prefix"] = f["prefix_chars"] > 0
    f["prefix_kind"] = _text(raw, "error_prefix_kind")
    f["removed_chars"] = _number(raw, "boilerplate_chars").fillna(0)
    f["kept_chars"] = _number(raw, "clean_n_chars").fillna(0)
    f["boilerplate_frac"] = _number(raw, "boilerplate_frac")
    f["empty"] = f["cleaned"] & ~f["error"] & (f["kept_chars"] == 0)
    f["repeated"] = _number(raw, "repeated_paragraphs_removed").fillna(0).astype(int)
    f["cluster"] = _text(raw, "near_dup_cluster")
    f["clustered"] = f["cluster"] != ""
    sizes = f.loc[f["clustered"], "cluster"].value_counts()
    f["cluster_size"] = f["cluster"].map(sizes).fillna(0).astype(int)
    rep = _flag(raw, "is_representative")
    exact = _text(raw, "exact_dup_of") != ""
    f["dup"] = (f["clustered"] & (f["cluster_size"] > 1) & ~rep) | exact
    f["sim"] = _number(raw, "sim_to_representative")
    if "classified" in raw:
        f["scored"] = _flag(raw, "classified")
    else:  # an older table: a page was scored when it has a label
        f["scored"] = raw["conflict_label"].notna() if "conflict_label" in raw else False
    f["flagged"] = _flag(raw, "conflict_label") & f["scored"]
    f["prob"] = _number(raw, "conflict_prob")
    f["unscored"] = _text(raw, "unclassified_reason")
    f["terms"] = _text(raw, "conflict_terms")
    f["http_status"] = _number(raw, "http_status")  # WARC responses only
    date_col, month = _months(raw)
    f["month"] = month
    return Facts(f.reset_index(drop=True), frozenset(steps), date_col)


def _months(raw: pd.DataFrame) -> tuple[str | None, pd.Series]:
    """``YYYY-MM`` of the first date column with any valid date (None when no column has one)."""
    for col in DATE_COLUMNS:
        if col not in raw:
            continue
        dates = pd.to_datetime(raw[col], errors="coerce", utc=True, format="mixed")
        if dates.notna().any():
            return col, dates.dt.strftime("%Y-%m").where(dates.notna(), None)
    return None, pd.Series(None, index=raw.index, dtype=object)


def share(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole else None


@dataclass
class Summary:
    """Corpus totals: what the findings say and the alerts check."""

    inputs: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    steps: frozenset[str] = frozenset()
    cleaned: int = 0
    error_pages: int = 0
    prefix_pages: int = 0
    empty_after_cleaning: int = 0
    boilerplate_share: float | None = None
    median_page_share: float | None = None
    clustered: int = 0
    dup_pages: int = 0
    dup_clusters: int = 0
    largest_cluster: int = 0
    repeated_pages: int = 0
    scored: int = 0
    flagged: int = 0
    unscored_by_reason: dict[str, int] = field(default_factory=dict)
    unsupported_languages: dict[str, int] = field(default_factory=dict)
    months: tuple[str, str] | None = None
    # Pages with an HTTP status (WARC crawls): error statuses, and 200s the text says are errors.
    with_status: int = 0
    status_errors: int = 0
    soft_404: int = 0

    @property
    def accepted(self) -> int:
        return self.inputs - self.rejected


def _counts(values: Iterable) -> dict[str, int]:
    """Counts, largest first (ties by name)."""
    counted = pd.Series(list(values), dtype=object).value_counts()
    return {str(k): int(v) for k, v in sorted(counted.items(), key=lambda kv: (-kv[1], str(kv[0])))}


def summarise(facts: Facts) -> Summary:
    f = facts.frame
    cleaned = f[f["cleaned"]]
    removed, kept = cleaned["removed_chars"].sum(), cleaned["kept_chars"].sum()
    multi = f[f["clustered"] & (f["cluster_size"] > 1)]
    unscored = f[~f["scored"] & (f["unscored"] != "")]
    months = f["month"].dropna()
    return Summary(
        inputs=len(f),
        rejected=int(f["rejected"].sum()),
        rejected_by_reason=_counts(f.loc[f["rejected"], "reason"]),
        steps=facts.steps,
        cleaned=len(cleaned),
        error_pages=int(f["error"].sum()),
        prefix_pages=int((f["prefix"] & ~f["error"]).sum()),
        empty_after_cleaning=int(f["empty"].sum()),
        boilerplate_share=share(removed, removed + kept),
        median_page_share=float(cleaned["boilerplate_frac"].median()) if len(cleaned) else None,
        clustered=int(f["clustered"].sum()),
        dup_pages=int(f["dup"].sum()),
        dup_clusters=int(multi["cluster"].nunique()),
        largest_cluster=int(f["cluster_size"].max()) if len(f) else 0,
        repeated_pages=int((f["repeated"] > 0).sum()),
        scored=int(f["scored"].sum()),
        flagged=int(f["flagged"].sum()),
        unscored_by_reason=_counts(unscored["unscored"]),
        unsupported_languages=_counts(f.loc[f["unscored"] == "language_not_supported", "language"]),
        months=(str(months.min()), str(months.max())) if len(months) else None,
        with_status=int(f["http_status"].notna().sum()),
        status_errors=int((f["http_status"] >= 400).sum()),
        soft_404=int(((f["http_status"] == 200) & f["error"]).sum()),
    )


def top_counts(values: pd.Series, top: int = 3) -> str:
    """The most frequent values with their counts: ``en 40 · de 2 · +3 more``."""
    counted = _counts(values)
    shown = [f"{k} {v}" for k, v in list(counted.items())[:top]]
    rest = len(counted) - top
    return " · ".join(shown + ([f"+{rest} more"] if rest > 0 else []))


def scorecard(facts: Facts) -> pd.DataFrame:
    """One row per source, largest first: pages, rejected, error pages and the shares of
    boilerplate (characters), duplicates (of clustered pages) and conflict events (of scored pages)."""
    f = facts.frame.assign(
        dup_n=lambda x: x["dup"].astype(int),
        err_n=lambda x: x["error"].astype(int),
        rej_n=lambda x: x["rejected"].astype(int),
        cl_n=lambda x: x["clustered"].astype(int),
        sc_n=lambda x: x["scored"].astype(int),
        fl_n=lambda x: x["flagged"].astype(int),
        acc_n=lambda x: (~x["rejected"]).astype(int),
        rm=lambda x: x["removed_chars"].where(x["cleaned"], 0.0),
        kp=lambda x: x["kept_chars"].where(x["cleaned"], 0.0),
    )
    g = f.groupby("source", sort=True)
    card = pd.DataFrame(
        {
            "pages": g.size(),
            "rejected": g["rej_n"].sum(),
            "accepted": g["acc_n"].sum(),
            "error_pages": g["err_n"].sum(),
            "removed": g["rm"].sum(),
            "kept": g["kp"].sum(),
            "clustered": g["cl_n"].sum(),
            "duplicates": g["dup_n"].sum(),
            "scored": g["sc_n"].sum(),
            "flagged": g["fl_n"].sum(),
        }
    )
    card["error_share"] = card["error_pages"] / card["accepted"].where(card["accepted"] > 0)
    card["boilerplate_share"] = card["removed"] / (card["removed"] + card["kept"]).where(
        (card["removed"] + card["kept"]) > 0
    )
    card["duplicate_share"] = card["duplicates"] / card["clustered"].where(card["clustered"] > 0)
    card["conflict_share"] = card["flagged"] / card["scored"].where(card["scored"] > 0)
    card["languages"] = g["language"].agg(top_counts)
    card = card.reset_index().sort_values(["pages", "source"], ascending=[False, True], kind="stable")
    return card.drop(columns=["removed", "kept"]).reset_index(drop=True)


def clusters(facts: Facts, top: int = 8) -> pd.DataFrame:
    """The ``top`` largest near-duplicate clusters: size, distinct sources, the sources with most
    members, and the copies' similarity to the cluster's first page (lowest and median)."""
    f = facts.frame
    multi = f[f["clustered"] & (f["cluster_size"] > 1)]
    columns = ["cluster", "size", "sources", "top_sources", "min_sim", "median_sim"]
    if multi.empty:
        return pd.DataFrame(columns=columns)
    g = multi.groupby("cluster", sort=True)
    sims = multi["sim"].where(multi["dup"]).groupby(multi["cluster"])
    out = pd.DataFrame(
        {
            "size": g.size(),
            "sources": g["source"].nunique(),
            "min_sim": sims.min(),
            "median_sim": sims.median(),
        }
    ).reset_index()
    out = out.sort_values(["size", "cluster"], ascending=[False, True], kind="stable").head(top)
    # The per-source counts only for the clusters shown: a large crawl has tens of thousands.
    members = multi[multi["cluster"].isin(out["cluster"])].groupby("cluster")["source"].agg(top_counts)
    out["top_sources"] = out["cluster"].map(members)
    return out[columns].reset_index(drop=True)


def by_month(facts: Facts) -> pd.DataFrame | None:
    """Pages, error pages and the conflict share of scored pages per month (None without dates)."""
    if facts.date_column is None:
        return None
    f = facts.frame[facts.frame["month"].notna()]
    g = f.groupby("month", sort=True)
    out = pd.DataFrame(
        {
            "pages": g.size(),
            "error_pages": g["error"].sum().astype(int),
            "scored": g["scored"].sum().astype(int),
            "flagged": g["flagged"].sum().astype(int),
        }
    )
    out["conflict_share"] = out["flagged"] / out["scored"].where(out["scored"] > 0)
    return out.reset_index()
