"""What changed since a baseline revision, by DVC's own diff machinery.

``newsaudit report --baseline REV`` (by hand or in CI, never the DVC stage, which must not depend
on where HEAD is) runs ``dvc metrics diff REV --all --json`` and ``dvc params diff REV --json`` in
the project and turns their output into rows: every headline metric with its value at REV, its
value now and the change, and every parameter whose value differs. Running the ``dvc`` command
(through the interpreter running this code, so the project's own DVC) keeps the comparison exactly
what ``dvc metrics diff`` prints in a terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from newsaudit.core.errors import NewsauditError


def _dvc(root: Path, *args: str) -> Any:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    cmd = [sys.executable, "-m", "dvc", *args]
    try:
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env, check=False)
    except OSError as exc:
        raise NewsauditError(f"could not run dvc ({exc})") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise NewsauditError(f"`dvc {' '.join(args)}` failed in {root}: {' '.join(tail)}")
    text = done.stdout.strip()
    try:
        return json.loads(text) if text else {}
    except json.JSONDecodeError:
        raise NewsauditError(f"`dvc {' '.join(args)}` printed no JSON: {text[:200]}") from None


def _label(root: Path, rev: str) -> str:
    """``REV (abc1234)``: the name the reader gave and the commit it stood for."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", f"{rev}^{{commit}}"], cwd=root, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise NewsauditError(f"--baseline {rev}: not a git revision of {root} ({done.stderr.strip()})")
    short = done.stdout.strip()
    return rev if rev == short else f"{rev} ({short})"


def _rows(diff: dict[str, Any], name: str) -> list[dict[str, Any]]:
    rows = []
    for path, entries in sorted(diff.items()):
        for key, change in sorted((entries or {}).items()):
            if isinstance(change, dict):
                rows.append(
                    {
                        "path": path,
                        name: key,
                        "old": change.get("old"),
                        "new": change.get("new"),
                        "diff": change.get("diff"),
                    }
                )
    return rows


def baseline_changes(root: Path, rev: str = "HEAD") -> dict[str, Any]:
    """Every headline metric (``old``, ``new``, ``diff``) and every changed parameter since ``rev``.

    The workspace is the "new" side: a report run after ``dvc repro`` and before committing shows
    what the run moved since the last commit.
    """
    root = Path(root)
    label = _label(root, rev)
    metrics = _dvc(root, "metrics", "diff", rev, "--all", "--json")
    params = _dvc(root, "params", "diff", rev, "--json")
    return {"baseline": label, "metrics": _rows(metrics, "metric"), "params": _rows(params, "param")}
