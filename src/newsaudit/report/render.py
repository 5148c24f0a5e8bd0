"""One self-contained HTML file with everything the pipeline measured (stage ``report``).

``reports/index.html`` is meant to be mailed to people who have none of the tools: inline CSS, the
figures as ``data:`` SVG images, no script, no font or stylesheet from anywhere. Every string from
the corpus or a data file is HTML-escaped, because scraped pages are hostile input. The page
carries no timestamp and figures are rendered deterministically, so the same inputs give the same
bytes and a changed number shows up as a diff.

The stage (:mod:`newsaudit.stages.report`) reads the parameters and writes the files; this module
renders. The same renderer serves ``newsaudit audit --report`` through :func:`render_audit_report`, which
takes an audited pages table and its summary (sections that need a trained model or labelled
data are left out when absent).

The figures also go to ``reports/plots/report/*.svg`` (the top-level ``plots:`` of ``dvc.yaml``), so
``dvc plots show`` and ``dvc plots diff`` show images that need no network. A figure whose data
does not exist yet is written as a placeholder that says so, keeping every declared plot present.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from newsaudit.core import paths
from newsaudit.report import figures as figs
from newsaudit.report.data import METRICS, PageTable, ReportData, load_pipeline
from newsaudit.report.html import page
from newsaudit.report.sections_boilerplate import boilerplate, error_pages
from newsaudit.report.sections_classifier import classifier, conflibert, predictions
from newsaudit.report.sections_duplicates import duplicates, leakage
from newsaudit.report.sections_run import at_a_glance, audit_summary, ingest, other_metrics, provenance

log = logging.getLogger(__name__)


def _made_by(path: Path, stage: str) -> str:
    return f"{path.as_posix()} (stage {stage})"


# The figures declared as DVC plots, with what produces their data (for the placeholder text).
DVC_FIGURES = {
    "boilerplate_frac": _made_by(paths.PAGES_CLEAN, "boilerplate"),
    "boilerplate_by_source": _made_by(paths.PAGES_CLEAN, "boilerplate"),
    "cluster_sizes": _made_by(paths.PAGES_DEDUP, "duplicates"),
    "recall_vs_edit_rate": _made_by(paths.RECALL_VS_EDIT_RATE, "bench-duplicates"),
    "roc": _made_by(paths.CLASSIFIER_PLOTS / "roc.csv", "evaluate"),
    "pr": _made_by(paths.CLASSIFIER_PLOTS / "pr.csv", "evaluate"),
    "calibration": _made_by(paths.CLASSIFIER_PLOTS / "calibration.csv", "evaluate"),
    "confusion_matrix": f"confusion_matrix in {_made_by(paths.metrics('classifier'), 'evaluate')}",
    "conflibert_comparison": "records in "
    + _made_by(paths.metrics("conflibert_benchmark"), "conflibert-benchmark"),
    "predictions_by_source": _made_by(paths.PAGES_FINAL, "classify"),
}
# Metrics the named sections show; any other metrics file lands in "Other metrics".
SHOWN_METRICS = set(METRICS)


def build_parts(data: ReportData) -> list:
    """Every section in reading order (pipeline report: all; audit report: per-page ones only)."""
    if data.pipeline:
        parts = [
            provenance(data),
            ingest(data),
            boilerplate(data),
            error_pages(data),
            duplicates(data),
            leakage(data),
            classifier(data),
            conflibert(data),
            predictions(data),
            other_metrics(data, SHOWN_METRICS),
        ]
    else:
        parts = [audit_summary(data), ingest(data)]
        # An audit only shows what its steps produced: no "not produced yet" notes for a user's crawl.
        if data.clean is not None and data.clean.has("boilerplate_frac"):
            parts.append(boilerplate(data))
        if data.clean is not None and data.clean.has("is_error_page"):
            parts.append(error_pages(data))
        if data.dedup is not None and data.dedup.has("near_dup_cluster"):
            parts.append(duplicates(data))
        if data.predicted is not None and data.predicted.has("conflict_label"):
            parts.append(predictions(data))
    parts = [p for p in parts if p is not None]
    glance = at_a_glance(parts)
    return [glance, *parts] if glance else parts


def render(data: ReportData, subtitle: str) -> tuple[str, dict[str, str]]:
    """The HTML document and the figures it contains (name -> SVG)."""
    parts = build_parts(data)
    figures: dict[str, str] = {}
    for part in parts:
        figures.update(part.figures)
    toc = [(p.anchor, p.title) for p in parts]
    body = "".join(p.render() for p in parts)
    return page(data.title, subtitle, toc, body), figures


def render_pipeline_report(
    root: Path,
    params: dict[str, Any] | None = None,
    own_outputs: tuple[str, ...] = (paths.REPORT_HTML.as_posix(), paths.REPORT_FIGURES.as_posix()),
) -> tuple[str, dict[str, str]]:
    """The pipeline report of the project at ``root`` and its figures (name -> SVG).

    ``params``: the content of the parameter file, shown under provenance (None: not shown).
    """
    data = load_pipeline(root, params, own_outputs)
    subtitle = (
        "What the newsaudit pipeline measured on this corpus. Sections whose stage has not run yet "
        "say which file is missing. All text from the corpus is shown as plain text."
    )
    return render(data, subtitle)


def render_audit_report(pages: pd.DataFrame, summary: dict, removed_lines: pd.DataFrame | None = None) -> str:
    """The report of ``newsaudit audit``: the same sections, from one audited pages table.

    ``pages`` is the audit's pages table (ingest columns plus whichever per-page steps ran),
    ``summary`` its ``summary.json`` content. Pure: reads no file, writes nothing.
    """
    table = PageTable(pages, "pages.parquet")
    manifest_cols = [
        c
        for c in ("doc_id", "path", "record", "format", "status", "reason_code", "status_reason", "n_chars")
        if c in pages.columns
    ]
    data = ReportData(
        title="newsaudit audit report",
        metrics={"ingest": summary["ingest"]} if isinstance(summary.get("ingest"), dict) else {},
        manifest=pages[manifest_cols] if manifest_cols else None,
        clean=table,
        removed_lines=removed_lines,
        dedup=table,
        predicted=table,
        audit_summary=summary,
        pipeline=False,
    )
    corpus = summary.get("corpus", "a corpus")
    subtitle = f"newsaudit audit of {corpus}. All corpus text is shown as plain text."
    return render(data, subtitle)[0]


def write_audit_report(out: Path, pages: pd.DataFrame, summary: dict) -> Path:
    """Write ``out/report.html`` for an audit (reads ``out/removed_lines.parquet`` when present)."""
    removed = out / "removed_lines.parquet"
    html = render_audit_report(pages, summary, pd.read_parquet(removed) if removed.is_file() else None)
    path = out / "report.html"
    write_html(path, html)
    log.info("audit report -> %s (%d bytes)", path, len(html.encode("utf-8")))
    return path


def write_html(path: Path, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


def write_figures(figures: dict[str, str], folder: Path) -> list[Path]:
    """Every declared DVC figure as SVG: the drawn one, or a placeholder naming its missing data."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(set(DVC_FIGURES) | set(figures)):
        title = name.replace("_", " ")
        svg = figures.get(name) or figs.placeholder(title, f"no data yet: {DVC_FIGURES[name]}")
        path = folder / f"{name}.svg"
        write_html(path, svg)
        written.append(path)
    return written


__all__ = [
    "render_audit_report",
    "render_pipeline_report",
    "write_audit_report",
    "write_figures",
    "write_html",
]
