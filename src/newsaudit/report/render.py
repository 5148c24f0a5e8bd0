"""``report`` stage: one self-contained HTML file with everything the pipeline measured.

``reports/index.html`` is meant to be mailed to people who have none of the tools: inline CSS, the
figures as ``data:`` SVG images, no script, no font or stylesheet from anywhere. Every string from
the corpus or a data file is HTML-escaped, because scraped pages are hostile input. The page
carries no timestamp and figures are rendered deterministically, so the same inputs give the same
bytes and a changed number shows up as a diff.

The same renderer serves ``newsaudit audit --report`` through :func:`render_audit_report`, which
takes an audited pages table and its summary (sections that need a trained model or labelled
data are left out when absent).

The figures also go to ``reports/plots/report/*.svg`` (the top-level ``plots:`` of ``dvc.yaml``), so
``dvc plots show`` and ``dvc plots diff`` show images that need no network. A figure whose data
does not exist yet is written as a placeholder that says so, keeping every declared plot present.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from newsaudit.report.data import PATHS, PageTable, ReportData, load_pipeline
from newsaudit.report.html import page

log = logging.getLogger(__name__)

# The figures declared as DVC plots, with what produces their data (for the placeholder text).
DVC_FIGURES = {
    "boilerplate_frac": "data/interim/pages_clean.parquet (stage boilerplate)",
    "boilerplate_by_source": "data/interim/pages_clean.parquet (stage boilerplate)",
    "cluster_sizes": "data/interim/pages_dedup.parquet (stage duplicates)",
    "recall_vs_edit_rate": "reports/plots/duplicates/recall_vs_edit_rate.csv (duplicates benchmark)",
    "roc": "reports/plots/classifier/roc.csv (stage evaluate)",
    "pr": "reports/plots/classifier/pr.csv (stage evaluate)",
    "calibration": "reports/plots/classifier/calibration.csv (stage evaluate)",
    "confusion_matrix": "confusion_matrix in reports/metrics/classifier.json (stage evaluate)",
    "conflibert_comparison": "records in reports/metrics/conflibert_comparison.json",
    "predictions_by_source": "data/processed/pages.parquet (stage predict)",
}
# Metrics the named sections show; any other metrics file lands in "Other metrics".
SHOWN_METRICS = {
    "ingest",
    "boilerplate",
    "boilerplate_benchmark",
    "duplicates",
    "duplicates_benchmark",
    "leakage",
    "labels",
    "train",
    "classifier",
    "conflibert_comparison",
    "predictions",
}


def build_parts(data: ReportData) -> list:
    """Every section in reading order (pipeline report: all; audit report: per-page ones only)."""
    # Imported here, not at the top: cli.py imports this module for every command, and the
    # sections pull in matplotlib, which only the report needs.
    from newsaudit.report import sections as sec

    if data.pipeline:
        parts = [
            sec.provenance(data),
            sec.ingest(data),
            sec.boilerplate(data),
            sec.error_pages(data),
            sec.duplicates(data),
            sec.leakage(data),
            sec.classifier(data),
            sec.conflibert(data),
            sec.predictions(data),
            sec.other_metrics(data, SHOWN_METRICS),
        ]
    else:
        parts = [sec.audit_summary(data), sec.ingest(data)]
        # An audit only shows what its steps produced: no "not produced yet" notes for a user's crawl.
        if data.clean is not None and data.clean.has("boilerplate_frac"):
            parts.append(sec.boilerplate(data))
        if data.clean is not None and data.clean.has("is_error_page"):
            parts.append(sec.error_pages(data))
        if data.dedup is not None and data.dedup.has("near_dup_cluster"):
            parts.append(sec.duplicates(data))
        if data.predicted is not None and data.predicted.has("conflict_label"):
            parts.append(sec.predictions(data))
    parts = [p for p in parts if p is not None]
    glance = sec.at_a_glance(parts)
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
    params_path: Path | None = None,
    own_outputs: tuple[str, ...] = ("reports/index.html", "reports/plots/report"),
) -> tuple[str, dict[str, str]]:
    """The pipeline report of the project at ``root`` and its figures (name -> SVG)."""
    data = load_pipeline(root, params_path, own_outputs)
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
    from newsaudit.report import figures as figs

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(set(DVC_FIGURES) | set(figures)):
        title = name.replace("_", " ")
        svg = figures.get(name) or figs.placeholder(title, f"no data yet: {DVC_FIGURES[name]}")
        path = folder / f"{name}.svg"
        write_html(path, svg)
        written.append(path)
    return written


def run(args) -> None:
    root, out, folder = Path(args.root), Path(args.out), Path(args.figures)
    own = tuple(_relative(p, root) for p in (out, folder))
    html, figures = render_pipeline_report(root, Path(args.params), own)
    write_html(out, html)
    written = write_figures(figures, folder)
    size = len(html.encode("utf-8"))
    log.info("report -> %s (%d bytes, %d figures in %s)", out, size, len(written), args.figures)


def _relative(path: Path, root: Path) -> str:
    """``path`` as dvc.lock writes it: relative to the project root, with forward slashes."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def register_cli(subparsers) -> None:
    p = subparsers.add_parser("report", help="write the self-contained HTML report and the DVC plot figures")
    p.add_argument("--root", default=".", help="project root holding the pipeline outputs (default: .)")
    p.add_argument("--out", default="reports/index.html", help="report file (default: reports/index.html)")
    p.add_argument(
        "--figures",
        default="reports/plots/report",
        help="SVG figures for dvc plots (default: reports/plots/report)",
    )
    p.set_defaults(func=run)


__all__ = ["PATHS", "render_audit_report", "render_pipeline_report", "write_audit_report", "write_figures"]
