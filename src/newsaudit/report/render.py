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
from newsaudit.report.data import ReportData, audit_data, load_pipeline
from newsaudit.report.html import page
from newsaudit.report.part import View
from newsaudit.report.sections_boilerplate import boilerplate, error_pages
from newsaudit.report.sections_classifier import classifier
from newsaudit.report.sections_duplicates import duplicates, leakage
from newsaudit.report.sections_overview import examples_part, findings_part, months_part, scorecard_part
from newsaudit.report.sections_run import audit_summary, changes, more, provenance

log = logging.getLogger(__name__)


def _made_by(path: Path, stage: str) -> str:
    return f"{path.as_posix()} (stage {stage})"


# The figures declared as DVC plots, with what produces their data (for the placeholder text).
DVC_FIGURES = {
    "boilerplate_frac": _made_by(paths.PAGES_CLEAN, "boilerplate"),
    "removed_by_reason": _made_by(paths.tables("boilerplate") / "by_reason.csv", "boilerplate"),
    "largest_clusters": _made_by(paths.PAGES_DEDUP, "duplicates"),
    "cluster_sizes": _made_by(paths.PAGES_DEDUP, "duplicates"),
    "recall_vs_edit_rate": _made_by(paths.RECALL_VS_EDIT_RATE, "bench-duplicates"),
    "conflict_scores": _made_by(paths.PAGES_FINAL, "classify"),
    "roc": _made_by(paths.CLASSIFIER_PLOTS / "roc.csv", "evaluate"),
    "pr": _made_by(paths.CLASSIFIER_PLOTS / "pr.csv", "evaluate"),
    "calibration": _made_by(paths.CLASSIFIER_PLOTS / "calibration.csv", "evaluate"),
    "confusion_matrix": _made_by(paths.CLASSIFIER_PLOTS / "confusion.csv", "evaluate"),
    "conflibert_comparison": _made_by(
        paths.tables("conflibert_benchmark") / "records.csv", "conflibert-benchmark"
    ),
}
# Short names for the navigation line.
NAV = {
    "findings": "Findings",
    "sources": "Sources",
    "pages": "Before and after",
    "boilerplate": "Boilerplate",
    "errors": "Error pages",
    "duplicates": "Duplicates",
    "classifier": "Conflict events",
    "months": "By month",
    "leakage": "Leakage",
    "changes": "What changed",
    "more": "All figures",
    "audit": "Audit settings",
    "provenance": "Provenance",
}


def build_parts(data: ReportData, view: View | None = None) -> list:
    """Every section in reading order: findings and sources first, provenance last. The audit
    report has the same sections but those that need the pipeline's labelled data."""
    view = view or View(data)
    parts = [
        findings_part(view),
        scorecard_part(view),
        examples_part(view),
        boilerplate(view),
        error_pages(view),
        duplicates(view),
        classifier(view),
        months_part(view),
    ]
    if data.pipeline:
        parts += [leakage(view), changes(view), more(view), provenance(view)]
    else:
        parts += [audit_summary(view)]
    return [p for p in parts if p is not None]


def render(data: ReportData, subtitle: str) -> tuple[str, dict[str, str]]:
    """The HTML document and the figures it contains (name -> SVG)."""
    parts = build_parts(data)
    figures: dict[str, str] = {}
    for part in parts:
        figures.update(part.figures)
    toc = [(p.anchor, NAV.get(p.anchor, p.title)) for p in parts]
    body = "".join(p.render() for p in parts)
    return page(data.title, subtitle, toc, body), figures


def render_pipeline_report(
    root: Path,
    params: dict[str, Any] | None = None,
    own_outputs: tuple[str, ...] = (paths.REPORT_HTML.as_posix(), paths.REPORT_FIGURES.as_posix()),
    changes: dict[str, Any] | None = None,
    git: bool = True,
    lock_inputs: frozenset[str] | None = None,
) -> tuple[str, dict[str, str]]:
    """The pipeline report of the project at ``root`` and its figures (name -> SVG).

    ``params``: the content of the parameter file, shown under provenance (None: not shown);
    ``changes``: the metrics and params diff against a baseline revision (``report.changes``);
    ``lock_inputs``: the dvc.lock outputs shown under provenance (None: the whole lock).
    """
    data = load_pipeline(root, params, own_outputs, git, lock_inputs)
    data.changes = changes
    subtitle = (
        "What the newsaudit pipeline found in this corpus, most important first. All text from the "
        "corpus is shown as plain text."
    )
    return render(data, subtitle)


def render_audit_report(
    pages: pd.DataFrame | Path, summary: dict, removed_lines: pd.DataFrame | Path | None = None
) -> str:
    """The report of ``newsaudit audit``: the same sections, from one audited pages table.

    ``pages`` is the audit's pages table (ingest columns plus whichever per-page steps ran),
    ``summary`` its ``summary.json`` content. Pure: reads no file but the tables given, writes nothing.
    """
    data = audit_data(pages, summary, removed_lines)
    corpus = summary.get("corpus", "a corpus")
    subtitle = f"newsaudit audit of {corpus}. All corpus text is shown as plain text."
    return render(data, subtitle)[0]


def write_audit_report(out: Path, pages: pd.DataFrame | Path, summary: dict) -> Path:
    """Write ``out/report.html`` for an audit (reads ``out/removed_lines.parquet`` when present)."""
    removed = out / "removed_lines.parquet"
    html = render_audit_report(pages, summary, removed if removed.is_file() else None)
    path = out / "report.html"
    write_html(path, html)
    log.info("audit report -> %s (%d bytes)", path, len(html.encode("utf-8")))
    return path


def write_html(path: Path, html: str) -> None:
    """Write the file under a temporary name first, so a reader never opens half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)


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
    for old in folder.glob("*.svg"):  # figures of an earlier version of the report
        if old not in written:
            old.unlink()
    return written


__all__ = [
    "render_audit_report",
    "render_pipeline_report",
    "write_audit_report",
    "write_figures",
    "write_html",
]
