"""Stage ``report``: the self-contained HTML report and the SVG figures declared as DVC plots.

Reads every pipeline output under ``--root`` and the parameter file (shown as provenance); writes
``reports/index.html`` and ``reports/plots/report/*.svg``. The rendering is
:mod:`newsaudit.report.render`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from newsaudit.core import paths
from newsaudit.core.config import load_params
from newsaudit.report.render import render_pipeline_report, write_figures, write_html

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the self-contained HTML report and the DVC plot figures")
    p.add_argument("--root", default=".", help="project root holding the pipeline outputs (default: .)")
    p.add_argument(
        "--out", default=str(paths.REPORT_HTML), help=f"report file (default: {paths.REPORT_HTML})"
    )
    p.add_argument(
        "--figures",
        default=str(paths.REPORT_FIGURES),
        help=f"SVG figures for dvc plots (default: {paths.REPORT_FIGURES})",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    root, out, folder = Path(args.root), Path(args.out), Path(args.figures)
    own = tuple(_relative(p, root) for p in (out, folder))
    # The report shows the parameters; it still renders (saying so) before there is a params file.
    params_path = Path(args.params)
    params = load_params(params_path) if params_path.is_file() else {}
    html, figures = render_pipeline_report(root, params, own)
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
