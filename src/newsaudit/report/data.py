"""Loading what the report shows: headline metrics, breakdown tables, pages tables, plot data and
run provenance, for the pipeline (:func:`load_pipeline`) or an audit folder (:func:`load_audit`).

Everything is optional: a stage that has not run yet leaves its file absent and the report says
so. Pages tables are read column by column (``PageTable.read``) and the removed lines by page
(``LineTable.read``), so the report never loads the corpus text just to count pages.
"""

from __future__ import annotations

import json
import logging
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import yaml

from newsaudit.core import paths
from newsaudit.core.errors import NewsauditError

log = logging.getLogger(__name__)

# Metrics files the report knows (``reports/metrics/<key>.json``), in pipeline order, with the
# stage that writes each (for the "not produced yet" notes). A stage's metrics file carries the
# stage's name (``bench-boilerplate`` -> ``bench_boilerplate.json``) except ``classifier.json``,
# written by ``evaluate``. Its breakdowns are the CSV files of ``reports/tables/<key>/``.
METRICS = {
    "ingest": "ingest",
    "train_linemodel": "train-linemodel",
    "boilerplate": "boilerplate",
    "bench_boilerplate": "bench-boilerplate",
    "duplicates": "duplicates",
    "bench_duplicates": "bench-duplicates",
    "leakage": "leakage",
    "labels": "labels",
    "train": "train",
    "classifier": "evaluate",
    "conflibert_benchmark": "conflibert-benchmark",
    "classify": "classify",
}
# Audit folder files (``newsaudit audit --out DIR``).
AUDIT_PAGES = "pages.parquet"
AUDIT_REMOVED = "removed_lines.parquet"
AUDIT_SUMMARY = "summary.json"


class PageTable:
    """A pages table on disk (parquet, read lazily by column) or already in memory."""

    def __init__(self, source: pd.DataFrame | Path, label: str):
        self.label = label
        self._frame = source if isinstance(source, pd.DataFrame) else None
        self._path = None if isinstance(source, pd.DataFrame) else Path(source)
        if self._frame is not None:
            self.columns = [str(c) for c in self._frame.columns]
        else:
            self.columns = list(pq.read_schema(self._path).names)

    def has(self, *columns: str) -> bool:
        return all(c in self.columns for c in columns)

    def read(self, columns: list[str], doc_ids: list[str] | None = None) -> pd.DataFrame:
        """The given columns (those that exist), optionally only the rows of ``doc_ids``."""
        cols = [c for c in dict.fromkeys(columns) if c in self.columns]
        if self._frame is not None:
            frame = self._frame
            if doc_ids is not None:
                frame = frame[frame["doc_id"].isin(doc_ids)]
            return frame[cols].reset_index(drop=True)
        filters = [("doc_id", "in", list(doc_ids))] if doc_ids is not None else None
        return pd.read_parquet(self._path, columns=cols, filters=filters)


class LineTable(PageTable):
    """The removed lines (doc_id, line_no, text, reason): read only for the pages shown."""


@dataclass
class ReportData:
    """All the report can show; ``None``/empty means the producing stage has not run."""

    title: str = "newsaudit report"
    metrics: dict[str, dict] = field(default_factory=dict)
    tables: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    manifest: pd.DataFrame | None = None
    # The most complete pages table (classify > duplicates > boilerplate > ingest outputs).
    pages: PageTable | None = None
    removed_lines: LineTable | None = None
    plots: dict[str, pd.DataFrame] = field(default_factory=dict)
    provenance: dict[str, Any] | None = None
    audit_summary: dict[str, Any] | None = None
    # `newsaudit report --baseline REV`: metrics and params that changed since REV.
    changes: dict[str, Any] | None = None
    # True for the pipeline report: absent inputs get a note naming the missing file and stage.
    pipeline: bool = True

    def table(self, metrics: str, name: str) -> pd.DataFrame | None:
        """A breakdown table of a stage (``reports/tables/<metrics>/<name>.csv``), if present."""
        return self.tables.get(metrics, {}).get(name)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise NewsauditError(f"{path}: not valid JSON ({exc}); re-run the stage that writes it") from None


def load_metrics(folder: Path, names: tuple[str, ...] | None = None) -> dict[str, dict]:
    """The ``*.json`` files in the metrics folder by file stem (sorted, so the order is stable);
    ``names``: only these stems (the files the report's DVC stage declares), when given."""
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.json")):
        if names is not None and path.stem not in names:
            continue
        data = read_json(path)
        # Lower-cased: metrics names are stage names; a hand-made file may be spelled otherwise.
        out[path.stem.lower()] = data if isinstance(data, dict) else {"values": data}
    return out


def load_tables(folder: Path) -> dict[str, dict[str, pd.DataFrame]]:
    """Every ``<metrics name>/<table>.csv`` under the tables folder, by metrics name and table."""
    out: dict[str, dict[str, pd.DataFrame]] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*/*.csv")):
        try:
            frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise NewsauditError(f"{path}: not a readable CSV table ({exc}); re-run its stage") from None
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame()
        out.setdefault(path.parent.name, {})[path.stem] = frame
    return out


def load_plot_data(folder: Path) -> dict[str, pd.DataFrame]:
    """Plot data files under ``reports/plots/<stage>/`` by file stem (CSV, TSV or JSON records).

    DVC's JSON plot format is a list of records, or a dict holding one such list.
    """
    out: dict[str, pd.DataFrame] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.rglob("*")):
        frame = _read_plot_file(path)
        if frame is not None and path.stem not in out:
            out[path.stem] = frame
    return out


def _read_plot_file(path: Path) -> pd.DataFrame | None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".tsv":
        return pd.read_csv(path, sep="\t")
    if suffix == ".json":
        data = read_json(path)
        if isinstance(data, dict):
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else None
        if isinstance(data, list) and all(isinstance(r, dict) for r in data):
            return pd.DataFrame(data)
    return None


def git_provenance(root: Path, own_outputs: tuple[str, ...] = ()) -> dict[str, Any]:
    """Commit and the tracked files that differ from it (the report may describe uncommitted work).

    ``own_outputs`` (paths relative to ``root``, files or folders) are the report's own outputs:
    DVC deletes a stage's outputs before running it, so while the report is being written its
    committed figures look deleted. They say nothing about the inputs and are not counted.
    """

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        # Paths relative to the repository's top; ``root`` may be a folder inside it.
        prefix = git("rev-parse", "--show-prefix").strip()
        # Tracked files that differ from HEAD, staged or not (-z: paths verbatim, no quoting).
        changed = sorted(p for p in git("diff", "--name-only", "-z", "HEAD").split("\0") if p)
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "not a git checkout", "dirty": None, "changed": []}
    own = tuple(prefix + o.strip("/") for o in own_outputs)
    changed = [p for p in changed if not any(p == o or p.startswith(o + "/") for o in own)]
    return {"commit": commit, "dirty": bool(changed), "changed": changed}


def lock_entries(
    lock_path: Path, own_outputs: tuple[str, ...] = (), only_outputs: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """One row per dependency and output of every stage in ``dvc.lock`` (md5, size, files).

    A stage that writes one of ``own_outputs`` (the report itself) is left out: its recorded md5
    is that of the previous report, so showing it would change the report on every re-run.
    ``only_outputs`` (paths as dvc.lock writes them) keeps only the outputs with those paths: the
    DVC report stage passes its own declared inputs, so every hash it shows is the hash of a file
    DVC re-runs it for. The rest of the lock (other stages' code and parameters, outputs the report
    does not read) can change without the report's inputs changing, and a report showing it would
    be stale after the next incremental ``dvc repro``.
    """
    if not lock_path.is_file():
        return []
    lock = yaml.safe_load(lock_path.read_text(encoding="utf-8")) or {}
    rows = []
    for stage, entry in (lock.get("stages") or {}).items():
        if any(out.get("path") in own_outputs for out in entry.get("outs") or []):
            continue
        for kind in ("deps", "outs"):
            for item in entry.get(kind) or []:
                if only_outputs is not None and (kind != "outs" or item.get("path") not in only_outputs):
                    continue
                rows.append(
                    {
                        "stage": stage,
                        "kind": kind[:-1],
                        "path": item.get("path"),
                        "md5": item.get("md5") or item.get("etag") or item.get("checksum"),
                        "size": item.get("size"),
                        "files": item.get("nfiles"),
                    }
                )
    return rows


def _table(root: Path, path: Path) -> PageTable | None:
    return PageTable(root / path, path.as_posix()) if (root / path).is_file() else None


def load_pipeline(
    root: Path,
    params: dict[str, Any] | None = None,
    own_outputs: tuple[str, ...] = (),
    git: bool = True,
    lock_inputs: frozenset[str] | None = None,
) -> ReportData:
    """Everything the pipeline has produced so far under ``root`` (``own_outputs``: the report's
    own files, left out of the provenance; ``lock_inputs``: show only these outputs of dvc.lock,
    None: the whole lock; see :func:`git_provenance` and :func:`lock_entries`).

    ``params`` is the parameter file's content, shown as provenance (the report stage reads it; the
    report itself reads no parameter).
    """
    manifest_path = root / paths.MANIFEST
    removed_path = root / paths.REMOVED_LINES
    # The DVC report stage passes git=False: a stage output must be a pure function of its declared
    # inputs, and the commit or the working tree's state is none of them (they differ between the run
    # that produced the committed outputs and any later clone). `newsaudit report` by hand records them.
    provenance = (
        git_provenance(root, own_outputs)
        if git
        else {
            "commit": "not recorded by the DVC stage (run `newsaudit report --git`)",
            "dirty": None,
            "changed": [],
        }
    )
    provenance["params"] = params or {}
    provenance["lock"] = lock_entries(root / paths.LOCK, own_outputs, lock_inputs)
    provenance["lock_scope"] = "all" if lock_inputs is None else "inputs"
    stages = (paths.PAGES_FINAL, paths.PAGES_DEDUP, paths.PAGES_CLEAN, paths.PAGES)
    tables = [t for t in (_table(root, p) for p in stages) if t is not None]
    return ReportData(
        metrics=load_metrics(root / paths.METRICS, paths.REPORT_METRICS),
        tables=load_tables(root / paths.TABLES),
        manifest=pd.read_csv(manifest_path, dtype=str, keep_default_na=False)
        if manifest_path.is_file()
        else None,
        pages=tables[0] if tables else None,
        removed_lines=LineTable(removed_path, paths.REMOVED_LINES.as_posix())
        if removed_path.is_file()
        else None,
        plots=load_plot_data(root / paths.PLOTS),
        provenance=provenance,
    )


def audit_data(
    pages: pd.DataFrame | Path, summary: dict, removed_lines: pd.DataFrame | Path | None = None
) -> ReportData:
    """An audit's pages table (ingest columns plus whichever per-page steps ran), its summary and
    removed lines, as the report reads them."""
    table = PageTable(pages, AUDIT_PAGES)
    cols = ("doc_id", "path", "record", "format", "status", "reason_code", "status_reason", "n_chars")
    manifest = table.read([c for c in cols if table.has(c)]) if table.has("doc_id", "status") else None
    removed = LineTable(removed_lines, AUDIT_REMOVED) if removed_lines is not None else None
    return ReportData(
        title="newsaudit audit report",
        manifest=manifest,
        pages=table,
        removed_lines=removed,
        audit_summary=summary,
        pipeline=False,
    )


def load_audit(folder: Path) -> ReportData:
    """The outputs of ``newsaudit audit --out FOLDER`` (pages, removed lines, summary)."""
    folder = Path(folder)
    pages, summary = folder / AUDIT_PAGES, folder / AUDIT_SUMMARY
    if not pages.is_file() or not summary.is_file():
        raise NewsauditError(
            f"{folder}: not an audit folder (needs {AUDIT_PAGES} and {AUDIT_SUMMARY}; run "
            f"`newsaudit audit CORPUS --out {folder}`)"
        )
    removed = folder / AUDIT_REMOVED
    return audit_data(pages, read_json(summary), removed if removed.is_file() else None)
