"""Stage ``report``: the self-contained HTML report and the SVG figures declared as DVC plots.

Reads every pipeline output under ``--root`` and the parameter file (shown as provenance); writes
``reports/index.html`` and ``reports/plots/report/*.svg``. The rendering is
:mod:`newsaudit.report.render`. As the DVC stage it is a pure function of its inputs: the same
inputs give the same bytes, wherever HEAD is.

``newsaudit report --baseline [REV]`` (by hand or in CI; REV defaults to the last commit) adds what
changed since REV, by ``dvc metrics diff`` and ``dvc params diff``, and writes
``reports/changes.html`` instead (no figures unless ``--figures`` is given), leaving the stage's
own outputs as DVC recorded them.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import yaml

from newsaudit.core import paths
from newsaudit.core.config import load_params
from newsaudit.report.changes import baseline_changes
from newsaudit.report.render import render_pipeline_report, write_figures, write_html

log = logging.getLogger(__name__)
# Only the report reads dvc.yaml. Not in core/paths.py: every stage has that module among its DVC
# deps, so a new name there re-runs the whole pipeline.
DVC_YAML = Path("dvc.yaml")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the self-contained HTML report and the DVC plot figures")
    p.add_argument("--root", default=".", help="project root holding the pipeline outputs (default: .)")
    p.add_argument(
        "--out",
        default=None,
        help=f"report file (default: {paths.REPORT_HTML}; with --baseline: {paths.REPORT_VS_BASELINE})",
    )
    p.add_argument(
        "--figures",
        default=None,
        help=f"SVG figures for dvc plots (default: {paths.REPORT_FIGURES}; none with --baseline)",
    )
    p.add_argument(
        "--baseline",
        nargs="?",
        const="HEAD",
        default=None,
        metavar="REV",
        help="add what changed since git revision REV (default when given without a value: HEAD)",
    )
    p.add_argument(
        "--git",
        action="store_true",
        help="record the git commit and changed files in the provenance (not in the DVC stage: the "
        "stage's page depends on its inputs only); implied by --baseline",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    root = Path(args.root)
    compare = args.baseline is not None
    out = Path(args.out or (root / (paths.REPORT_VS_BASELINE if compare else paths.REPORT_HTML)))
    folder = Path(args.figures) if args.figures else (None if compare else root / paths.REPORT_FIGURES)
    # The stage's own outputs (as dvc.lock names them), left out of the provenance.
    own = tuple(_relative(p, root) for p in (out, folder or root / paths.REPORT_FIGURES))
    own += (paths.REPORT_HTML.as_posix(), paths.REPORT_FIGURES.as_posix())
    # The report shows the parameters; it still renders (saying so) before there is a params file.
    params_path = Path(args.params)
    params = load_params(params_path) if params_path.is_file() else {}
    changes = baseline_changes(root, args.baseline) if compare else None
    by_hand = args.git or compare
    html, figures = render_pipeline_report(
        root,
        params,
        tuple(dict.fromkeys(own)),
        changes,
        git=by_hand,
        lock_inputs=None if by_hand else declared_inputs(root / DVC_YAML),
    )
    write_html(out, html)
    written = write_figures(figures, folder) if folder is not None else []
    size = len(html.encode("utf-8"))
    log.info("report -> %s (%d bytes, %d figures in %s)", out, size, len(written), folder or "no folder")


def declared_inputs(dvc_yaml: Path, stage: str = "report") -> frozenset[str] | None:
    """The file deps ``dvc.yaml`` declares for ``stage`` (None: no dvc.yaml or no such stage).

    The DVC stage shows the dvc.lock hashes of these files only: they are what DVC re-runs the
    report for, and the list itself is part of the stage's definition (changing it re-runs the
    stage), so reading dvc.yaml keeps the report a pure function of what DVC tracks.
    """
    if not dvc_yaml.is_file():
        return None
    stages = (yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")) or {}).get("stages") or {}
    if stage not in stages:
        return None
    return frozenset(str(dep) for dep in stages[stage].get("deps") or [])


def _relative(path: Path, root: Path) -> str:
    """``path`` as dvc.lock writes it: relative to the project root, with forward slashes."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
