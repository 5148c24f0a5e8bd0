"""What every report section is made of: a :class:`Part`, the :class:`View` all sections read, and
the helpers sections share.

Each section (``report/sections_*.py``) is a pure function of a :class:`View` returning a part. A
part carries its HTML and the figures it drew (by name), so the same SVGs go into the report and
into ``reports/plots/report/`` for ``dvc plots``. A section whose input is absent returns a part
with a note saying what is missing instead of failing; a section that has nothing to say returns
None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from newsaudit.core import paths
from newsaudit.report import figures as figs
from newsaudit.report.data import METRICS, ReportData
from newsaudit.report.facts import Facts, Summary, page_facts, scorecard, summarise
from newsaudit.report.html import absent, esc

TOP_SOURCES = 25
TOP_LINES = 25
TOP_FLAGGED = 10
EXAMPLE_ERRORS = 15
EXAMPLE_CLUSTERS = 8
EXAMPLE_PAIRS = 6
REJECTED_ROWS = 100
TEXT_PREVIEW = 1200


@dataclass
class Part:
    anchor: str
    title: str
    html: str
    figures: dict[str, str] = field(default_factory=dict)

    def render(self) -> str:
        return f'<section id="{esc(self.anchor)}"><h2>{esc(self.title)}</h2>\n{self.html}\n</section>\n'


class View:
    """The report's data and what every section derives from it, computed once."""

    def __init__(self, data: ReportData):
        self.data = data

    @cached_property
    def facts(self) -> Facts | None:
        return page_facts(self.data.pages) if self.data.pages is not None else None

    @cached_property
    def summary(self) -> Summary | None:
        return summarise(self.facts) if self.facts is not None else None

    @cached_property
    def scorecard(self) -> pd.DataFrame | None:
        return scorecard(self.facts) if self.facts is not None else None

    def ran(self, step: str) -> bool:
        return self.facts is not None and step in self.facts.steps

    def metric(self, name: str, key: str) -> Any:
        """A headline figure (dotted ``key``) of ``reports/metrics/<name>.json``, or None."""
        node: Any = self.data.metrics.get(name)
        for part in key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        return node


def figure(svg: str, caption: str) -> str:
    img = f'<img alt="{esc(caption)}" src="{figs.data_uri(svg)}">'
    return f"<figure>{img}<figcaption>{esc(caption)}</figcaption></figure>"


def figure_row(*items: tuple[str, str]) -> str:
    """Figures side by side (two per row), each with its one-line explanation."""
    return '<div class="figs">' + "".join(figure(svg, caption) for svg, caption in items) + "</div>"


def missing(data: ReportData, *inputs: str | Path) -> str:
    """The note for absent inputs (pipeline report only): a metrics name (``METRICS`` key: its file
    and the stage that writes it) or the path of a file."""
    if not data.pipeline:
        return absent("Not available for this corpus.")
    parts = []
    for item in inputs:
        if isinstance(item, str) and item in METRICS:
            parts.append(f"{paths.metrics(item).as_posix()} (stage {METRICS[item]})")
        else:
            parts.append(Path(item).as_posix())
    return absent("Not produced yet (run `dvc repro`); missing: " + "; ".join(parts) + ".")


def find_key(data: Any, names: tuple[str, ...]) -> Any:
    """The first value under one of ``names`` anywhere in nested JSON (depth first, in file order)."""
    if isinstance(data, Mapping):
        for name in names:
            if name in data:
                return data[name]
        for value in data.values():
            found = find_key(value, names)
            if found is not None:
                return found
    return None


def curve(plots: dict[str, pd.DataFrame], stems, xs, ys, group=("model", "method", "name")) -> dict:
    """Named (x, y) series from the first plot file with a matching stem and columns."""
    for stem in stems:
        frame = plots.get(stem)
        if frame is None:
            continue
        x = next((c for c in xs if c in frame.columns), None)
        y = next((c for c in ys if c in frame.columns), None)
        if x is None or y is None:
            continue
        key = next((c for c in group if c in frame.columns), None)
        if key is None:
            return {stem: (frame[x].tolist(), frame[y].tolist())}
        return {
            str(name): (part[x].tolist(), part[y].tolist())
            for name, part in sorted(frame.groupby(key, sort=False), key=lambda kv: str(kv[0]))
        }
    return {}
