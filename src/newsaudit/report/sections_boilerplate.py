"""Report sections on boilerplate removal and error pages (stages ``boilerplate``, ``bench-boilerplate``)."""

from __future__ import annotations

import pandas as pd

from newsaudit.core import paths
from newsaudit.report import figures as figs
from newsaudit.report.data import ReportData
from newsaudit.report.html import clip, heading, json_tables, note, table
from newsaudit.report.part import EXAMPLE_ERRORS, TOP_LINES, TOP_SOURCES, Part, counts_table, figure, missing

# ---------------------------------------------------------------- boilerplate and error pages


def boilerplate(data: ReportData) -> Part:
    title = "Boilerplate"
    metrics = data.metrics.get("boilerplate")
    clean = data.clean
    html, found, facts = "", {}, []
    if metrics is None and (clean is None or not clean.has("boilerplate_frac")):
        # The benchmark below may well exist without the corpus stage: still show it.
        html += missing(data, "boilerplate", paths.PAGES_CLEAN)
    else:
        html += _boilerplate_corpus(data, metrics, found, facts)
    bench = data.metrics.get("bench_boilerplate")
    if data.pipeline or bench is not None:
        html += heading(3, "Benchmark: cleaning scored against gold article text")
        html += json_tables(bench) if bench is not None else missing(data, "bench_boilerplate")
    return Part("boilerplate", title, html, found, facts)


def _boilerplate_corpus(data: ReportData, metrics: dict | None, found: dict, facts: list) -> str:
    html, clean = "", data.clean
    if metrics is not None:
        html += json_tables(metrics)
    if clean is not None and clean.has("boilerplate_frac"):
        frame = clean.read(["doc_id", "source", "boilerplate_frac"])
        frac = pd.to_numeric(frame["boilerplate_frac"], errors="coerce").dropna()
        facts.append(
            (
                "mean share of characters removed as boilerplate",
                round(float(frac.mean()), 4) if len(frac) else None,
            )
        )
        found["boilerplate_frac"] = figs.histogram(
            frac, "Share of characters removed as boilerplate", "boilerplate fraction"
        )
        html += figure(found["boilerplate_frac"], f"Boilerplate fraction over {len(frac)} pages.")
        if "source" in frame.columns:
            html += _boilerplate_by_source(frame, found)
    if not (metrics and "top_boilerplate_lines" in metrics):
        # The stage's own list (normalised lines) is in its metrics above; two lists with
        # different counting would confuse, so this one only stands in when the stage has none.
        html += _top_lines(data)
    return html


def _boilerplate_by_source(frame: pd.DataFrame, found: dict[str, str]) -> str:
    frame = frame.assign(source=frame["source"].fillna("(none)").astype(str))
    stats = frame.groupby("source")["boilerplate_frac"].agg(["size", "mean", "median"]).reset_index()
    stats = stats.sort_values(["size", "source"], ascending=[False, True]).head(TOP_SOURCES)
    found["boilerplate_by_source"] = figs.bars(
        stats["source"], stats["mean"], "Mean boilerplate fraction, largest sources", "mean fraction"
    )
    rows = stats.itertuples(index=False)
    return (
        heading(3, f"By source (the {TOP_SOURCES} sources with most pages)")
        + figure(found["boilerplate_by_source"], "Mean boilerplate fraction by source.")
        + table(["source", "pages", "mean fraction", "median fraction"], list(rows))
    )


def _top_lines(data: ReportData) -> str:
    lines = data.removed_lines
    out = heading(3, "Top boilerplate lines")
    if lines is None:
        return out + missing(data, paths.REMOVED_LINES)
    if not len(lines) or "text" not in lines.columns:
        return out + note("No line was removed.")
    lines = lines.assign(reason=lines["reason"].astype(str) if "reason" in lines.columns else "")
    # Blank lines are dropped by every cleaner and say nothing about a site's boilerplate.
    lines = lines[lines["text"].fillna("").astype(str).str.strip() != ""]
    if data.clean is not None and data.clean.has("source") and "doc_id" in lines.columns:
        sources = data.clean.read(["doc_id", "source"]).drop_duplicates("doc_id")
        lines = lines.merge(sources, on="doc_id", how="left")
    grouped = lines.groupby("text", sort=False)
    stats = pd.DataFrame(
        {
            "pages": grouped["doc_id"].nunique() if "doc_id" in lines.columns else grouped.size(),
            "occurrences": grouped.size(),
        }
    )
    if "source" in lines.columns:
        stats["sources"] = grouped["source"].nunique()
    stats = stats.reset_index().sort_values(["pages", "occurrences", "text"], ascending=[False, False, True])
    stats = stats.head(TOP_LINES)
    # The most frequent reason per line (ties: alphabetical), vectorised: 10^5 lines are common.
    reasons = (
        lines[lines["text"].isin(stats["text"])]
        .groupby(["text", "reason"])
        .size()
        .reset_index(name="n")
        .sort_values(["text", "n", "reason"], ascending=[True, False, True])
        .drop_duplicates("text")
    )
    stats = stats.merge(reasons[["text", "reason"]], on="text", how="left")
    stats["text"] = stats["text"].map(lambda t: clip(t, 160))
    stats = stats[["text", "pages", "occurrences", "reason", *(["sources"] if "sources" in stats else [])]]
    return out + table(list(stats.columns), list(stats.itertuples(index=False)))


def error_pages(data: ReportData) -> Part:
    title = "Error pages"
    clean = data.clean
    if clean is None or not clean.has("is_error_page"):
        return Part("errors", title, missing(data, paths.PAGES_CLEAN))
    flags = clean.read(["doc_id", "is_error_page", "error_kind", "source"])
    errors = flags[flags["is_error_page"].fillna(False).astype(bool)]
    html = table(None, [["pages", len(flags)], ["error pages", len(errors)]])
    facts = [("error pages", len(errors))]
    if not len(errors):
        return Part("errors", title, html + note("No error page was found."), facts=facts)
    if "error_kind" in errors.columns:
        html += heading(3, "By kind") + counts_table(errors["error_kind"], "error kind")
    sample = sorted(errors["doc_id"].astype(str))[:EXAMPLE_ERRORS]
    text_col = "raw_text" if clean.has("raw_text") else "clean_text"
    rows = clean.read(["doc_id", "source", "error_kind", text_col], doc_ids=sample).sort_values("doc_id")
    rows[text_col] = rows[text_col].map(lambda t: clip(t, 240))
    html += heading(3, f"Examples (first {len(rows)} by doc_id)")
    html += table(list(rows.columns), list(rows.itertuples(index=False)))
    return Part("errors", title, html, facts=facts)
