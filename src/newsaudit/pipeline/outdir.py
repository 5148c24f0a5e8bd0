"""The output folder of an audit: its names, the run's context, the lock and the final commit.

Everything an audit writes goes under ``out/.steps/`` until it is complete and is then renamed into
``out``, ``summary.json`` last, so a run killed at any moment leaves no truncated result.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from newsaudit.core.config import Execution
from newsaudit.core.errors import NewsauditError
from newsaudit.lib.measure import Measurement

OUTPUT_NAMES = ("pages.parquet", "summary.json", "report.html", "removed_lines.parquet")
FINAL_TABLE = "pages.parquet"  # the last step's table, under this name in --out
STAGING = ".steps"  # work folder inside --out: step tables and outputs until they are complete
LOCK_NAME = ".audit.lock"
REMOVED_LINES = "removed_lines.parquet"
STEP_NAMES = ("ingest", "boilerplate", "duplicates", "classify")  # the order :func:`audit` runs them
LINE_MODEL_FILE = "line_model.skops"
CLASSIFIER_FILE = "conflict_clf.skops"


@dataclass
class AuditContext:
    params: dict
    models: Path
    out: Path
    ex: Execution
    summary: dict = field(default_factory=dict)
    measure: bool = False  # time and sample memory of each step (the benchmark turns this on)
    measurements: dict[str, Measurement] = field(default_factory=dict)
    fingerprint: str = ""  # of the run's inputs (:func:`run_fingerprint`), in each step's marker
    resumed: list[str] = field(default_factory=list)  # steps reused from an audit that was killed


def check_out_dir(corpus: Path, out: Path, force: bool) -> None:
    corpus_abs, out_abs = corpus.resolve(), out.resolve()
    if corpus_abs.is_dir() and (out_abs == corpus_abs or corpus_abs in out_abs.parents):
        raise NewsauditError(f"--out {out} lies inside the corpus {corpus}: choose a folder outside it")
    existing = [name for name in OUTPUT_NAMES if (out / name).exists()]
    if existing and not force:
        raise NewsauditError(
            f"--out {out} already holds audit results ({', '.join(existing)}); pass --force to replace "
            "them or choose another folder"
        )


@contextmanager
def out_dir_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.audit.lock`` (an OS file lock, released if the process dies, even by SIGKILL), so
    two audits on one ``--out`` never interleave their files: the second stops with a clear error."""
    from filelock import FileLock, Timeout

    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise NewsauditError(
            f"--out {out} is in use by another audit (it holds {out / LOCK_NAME}); wait for it to end "
            "or choose another folder"
        ) from None
    try:
        yield
    finally:
        lock.release()


def commit_outputs(staged: Path, out: Path) -> None:
    """Move the complete outputs from ``staged`` into ``out``, ``summary.json`` last.

    Every file was written whole under ``staged`` first, and each move is an atomic rename, so a run
    killed at any moment leaves no truncated file. Old results (``--force``) are removed first,
    their ``summary.json`` before anything else: a folder without ``summary.json`` holds no
    complete audit, and results of the old run never sit beside those of the new one.
    """
    new = [name for name in OUTPUT_NAMES if (staged / name).exists()]
    for name in ("summary.json", *OUTPUT_NAMES):
        (out / name).unlink(missing_ok=True)
    for name in sorted(new, key=lambda n: n == "summary.json"):
        (staged / name).replace(out / name)
