"""Resuming an audit that was killed: each finished step leaves ``.steps/<name>.done.json``.

The marker holds the step's summary figures, its measurement and the name of the table it left,
under the fingerprint of the run's inputs (:func:`run_fingerprint`). ``newsaudit audit --resume``
reuses the longest run of finished steps whose last table is still on disk; other inputs, or no
marker, and the step runs again. A step's input table is deleted only after its own marker is
written, so a kill at any moment leaves a consistent resume point.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict
from pathlib import Path

from newsaudit.lib import checkpoint
from newsaudit.lib.measure import Measurement
from newsaudit.pipeline.outdir import (
    CLASSIFIER_FILE,
    FINAL_TABLE,
    LINE_MODEL_FILE,
    REMOVED_LINES,
    STAGING,
    STEP_NAMES,
    AuditContext,
)

log = logging.getLogger(__name__)


def package_digest() -> str:
    """Digest of every file of the installed package (its code, templates and data files)."""
    import newsaudit

    package = Path(newsaudit.__file__).parent
    code = [p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return checkpoint.files_digest(code, package)


def run_fingerprint(corpus: Path, params: dict, models: Path) -> str:
    """What a step's output depends on: the parameters (not ``execution``: engines and worker
    counts give identical tables, so a run killed for memory may resume with fewer workers), the
    model files' bytes, the corpus files' names, sizes and times, and the package's own source."""
    return checkpoint.digest(
        {
            "params": {k: v for k, v in params.items() if k != "execution"},
            "models": {
                name: checkpoint.file_digest(models / name) for name in (LINE_MODEL_FILE, CLASSIFIER_FILE)
            },
            "corpus": [str(corpus), checkpoint.tree_stamp(corpus)],
            "code": package_digest(),
        }
    )


def _resume_point(steps_dir: Path, fingerprint: str) -> list[tuple[str, dict]]:
    """Markers of the steps a resumed audit reuses, in order: the longest run of finished steps
    whose last table (and the boilerplate's removed lines) is still on disk."""
    done: list[tuple[str, dict]] = []
    for name in STEP_NAMES:
        record = checkpoint.read_marker(steps_dir, name, fingerprint)
        if record is None:
            break
        done.append((name, record))
    final = steps_dir / FINAL_TABLE
    if len(done) == len(STEP_NAMES) and final.is_file() and not (steps_dir / done[-1][1]["table"]).exists():
        final.replace(steps_dir / done[-1][1]["table"])  # killed after the last table was renamed
    while done and not (steps_dir / done[-1][1]["table"]).is_file():
        done.pop()
    if any(name == "boilerplate" for name, _ in done) and not (steps_dir / REMOVED_LINES).is_file():
        done = done[: [name for name, _ in done].index("boilerplate")]
    return done


def prepare_steps_dir(steps_dir: Path, fingerprint: str, resume: bool) -> list[tuple[str, dict]]:
    """The work folder, emptied of everything a resumed run does not reuse; the reused markers."""
    done = _resume_point(steps_dir, fingerprint) if resume and steps_dir.is_dir() else []
    if steps_dir.exists() and not done:  # left by an audit that was killed (we hold the lock)
        if not resume:
            log.warning("audit: discarding the work of an audit that did not finish (--resume reuses it)")
        shutil.rmtree(steps_dir)
    if done:
        keep = {done[-1][1]["table"], *(checkpoint.marker_path(steps_dir, n).name for n, _ in done)}
        if any(name == "boilerplate" for name, _ in done):
            keep.add(REMOVED_LINES)
        for path in steps_dir.iterdir():
            if path.name not in keep:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    steps_dir.mkdir(exist_ok=True)
    return done


def _summary_part(before: dict, after: dict) -> dict:
    """What a step added to the summary (engine notes without the engine's name)."""
    part = {
        k: v for k, v in after.items() if k not in ("steps", "skipped_steps", "engine") and before.get(k) != v
    }
    notes = {k: v for k, v in after["engine"].items() if k != "name" and before["engine"].get(k) != v}
    return {"summary": part, "engine_notes": notes}


def finish_step(ctx: AuditContext, name: str, table: str, before: dict, skipped: str | None = None) -> None:
    if skipped is None:
        ctx.summary["steps"].append(name)
    else:
        ctx.summary["skipped_steps"][name] = skipped
    m = ctx.measurements.get(name)
    record = {
        "table": table,
        "skipped": skipped,
        "measurement": None if m is None else asdict(m),
        **_summary_part(before, ctx.summary),
    }
    checkpoint.write_marker(ctx.out / STAGING, name, ctx.fingerprint, record)


def reuse_step(ctx: AuditContext, name: str, record: dict) -> None:
    log.info("audit: %s reused from the audit that did not finish (--resume)", name)
    ctx.resumed.append(name)
    ctx.summary.update(record["summary"])
    ctx.summary["engine"].update(record["engine_notes"])
    if record["skipped"] is None:
        ctx.summary["steps"].append(name)
    else:
        ctx.summary["skipped_steps"][name] = record["skipped"]
    if ctx.measure and record["measurement"] is not None:
        ctx.measurements[name] = Measurement(**record["measurement"])


def snapshot(summary: dict) -> dict:
    return {**summary, "engine": dict(summary["engine"])}


# --------------------------------------------------------------------------------------------
