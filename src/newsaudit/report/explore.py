"""The report's sections, figures and tables in a notebook (``notebooks/04-explore-an-audit.ipynb``).

``Explorer.open(folder)`` reads an audit folder (``newsaudit audit CORPUS --out FOLDER``) or a
project root with pipeline outputs, and gives the same findings, figures and tables as the HTML
report, as objects JupyterLab displays (HTML, SVG, DataFrames), plus the per-page facts as a
DataFrame for one's own questions. Nothing is recomputed differently from the report: both build
the same :class:`~newsaudit.report.part.View`.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import pandas as pd

from newsaudit.report.data import AUDIT_SUMMARY, ReportData, load_audit, load_pipeline
from newsaudit.report.facts import by_month, clusters
from newsaudit.report.html import COMPONENT_CSS, esc
from newsaudit.report.part import View
from newsaudit.report.render import build_parts

SCOPE = "newsaudit"


def _scoped(css: str) -> str:
    """The report's component styles, each selector prefixed so that they touch nothing else of
    the notebook page."""
    rules = []
    for block in css.split("}"):
        if "{" not in block:
            continue
        selectors, body = block.split("{", 1)
        scoped = ", ".join(f".{SCOPE} {s.strip()}" for s in selectors.split(",") if s.strip())
        rules.append(f"{scoped} {{{body}}}")
    return "\n".join(rules)


class Html:
    """HTML JupyterLab shows as is (the report's escaped markup, with its styles)."""

    def __init__(self, html: str):
        self.html = html

    def __repr__(self) -> str:  # the plain-text twin of the HTML output: stable, no address
        return f"<report HTML, {len(self.html)} characters>"

    def _repr_html_(self) -> str:
        return f'<style>{_scoped(COMPONENT_CSS)}</style><div class="{SCOPE}">{self.html}</div>'


class Figure:
    """One of the report's SVG figures."""

    def __init__(self, svg: str):
        self.svg = svg

    def __repr__(self) -> str:
        return "<report figure (SVG)>"

    def _repr_svg_(self) -> str:
        return self.svg


class Explorer:
    def __init__(self, data: ReportData):
        self.data = data

    @classmethod
    def open(cls, folder: str | Path) -> Explorer:
        """An audit folder (it holds summary.json) or a project root with pipeline outputs."""
        folder = Path(folder)
        if (folder / AUDIT_SUMMARY).is_file():
            return cls(load_audit(folder))
        return cls(load_pipeline(folder))

    @cached_property
    def _view(self) -> View:
        return View(self.data)

    @cached_property
    def _parts(self) -> dict:
        return {p.anchor: p for p in build_parts(self.data, self._view)}

    def sections(self) -> list[str]:
        """The report's sections (by anchor), in reading order."""
        return list(self._parts)

    def section(self, anchor: str) -> Html:
        """A section of the report as it reads in the HTML file (folded parts stay folded)."""
        part = self._parts.get(anchor)
        if part is None:
            known = ", ".join(self._parts)
            return Html(
                f'<p class="note">{esc(f"No section {anchor!r} for this corpus; there are: {known}.")}</p>'
            )
        # Figures are shown on their own (``figure``); in a notebook the data: images would double.
        return Html(re.sub(r"<figure>.*?</figure>", "", part.html, flags=re.S))

    def figures(self) -> list[str]:
        return sorted(name for part in self._parts.values() for name in part.figures)

    def figure(self, name: str) -> Figure:
        for part in self._parts.values():
            if name in part.figures:
                return Figure(part.figures[name])
        raise KeyError(f"no figure {name!r}; there are: {', '.join(self.figures())}")

    def pages(self) -> pd.DataFrame:
        """One row per page: the facts every section is computed from (no text)."""
        return self._view.facts.frame.copy() if self._view.facts is not None else pd.DataFrame()

    def scorecard(self) -> pd.DataFrame:
        """One row per source, largest first (the report's scorecard, every source)."""
        card = self._view.scorecard
        return card.copy() if card is not None else pd.DataFrame()

    def clusters(self, top: int = 8) -> pd.DataFrame:
        return clusters(self._view.facts, top) if self._view.facts is not None else pd.DataFrame()

    def by_month(self) -> pd.DataFrame | None:
        return by_month(self._view.facts) if self._view.facts is not None else None
