"""The parts of a benchmark run saved as each ends, so a run killed after hours resumes.

A 1M-page size takes about three hours here, longer than many sessions and shells live. Each
finished part (one size on one engine, the comparison, the WARC row) is written whole to the
checkpoint file as it ends; ``newsaudit bench --resume`` keeps those measured with the same
parameters and code (:func:`bench_key`) and runs the rest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsaudit.benchmarks.scale.harness import in_fresh_process
from newsaudit.core.io import write_json
from newsaudit.lib.checkpoint import digest
from newsaudit.pipeline.resume import package_digest

log = logging.getLogger(__name__)


def bench_key(params: dict) -> str:
    """What a saved part was measured with: the whole parameter document (``execution`` too:
    worker counts change the timings) and the package's source."""
    return digest({"params": params, "code": package_digest()})


def load_checkpoint(path: Path, key: str) -> dict[str, Any]:
    """The parts a killed benchmark saved at ``path``, if it ran with these parameters and code."""
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("bench: ignoring the unreadable checkpoint %s (%s)", path, exc)
        return {}
    if not isinstance(saved, dict) or saved.get("key") != key:
        log.warning("bench: %s was measured with other params or code: measuring again", path)
        return {}
    return {name: value for name, value in saved.items() if name != "key"}


class SavedParts:
    """Parts of one benchmark run by name; saved to ``path`` (None: nowhere) as each ends."""

    def __init__(self, path: Path | None, key: str, resume: bool) -> None:
        self.path, self.key = path, key
        self.parts: dict[str, Any] = load_checkpoint(path, key) if resume and path is not None else {}
        self.reused: list[str] = []

    def run(self, name: str, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a process of its own (its peak RSS is its own, not that of the parts
        before it), or the result a killed run saved under ``name``."""
        if name in self.parts:
            log.info("bench: %s reused from %s (--resume)", what, self.path)
            self.reused.append(name)
            return self.parts[name]
        self.parts[name] = in_fresh_process(what, fn, *args)
        if self.path is not None:  # whole or not at all: a kill while writing keeps the last file
            tmp = self.path.with_name(self.path.name + ".partial")
            write_json({"key": self.key, **self.parts}, tmp)
            tmp.replace(self.path)
        return self.parts[name]
