"""Deterministic matplotlib figures for the report and for ``dvc plots``.

Figures are rendered to SVG with a fixed ``svg.hashsalt`` and no date, so the same data gives the
same bytes (the report must be byte-identical for identical inputs, and SVG plots under git must
not show spurious diffs). Text is kept as SVG ``<text>`` (``svg.fonttype: none``) which keeps files
small; labels that come from data are plain text because mathtext parsing is switched off (a
source called ``$x$`` must neither be typeset nor crash the run). The report embeds each SVG as a
``data:`` image: an SVG shown through ``<img>`` can never run script, whatever its labels say.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RC = {
    "svg.hashsalt": "newsaudit",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "text.usetex": False,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


# Characters XML 1.0 forbids (C0 controls but tab/newline/CR, lone surrogates, U+FFFE/U+FFFF): one of
# them in a data label would make the whole SVG unreadable, so the figure would silently vanish.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
LABEL_CHARS = 40


@cache
def _pyplot():
    """matplotlib's pyplot on the Agg backend, imported on first use: only the report draws, and
    every other command (they all import the stage modules) should not pay for matplotlib."""
    import matplotlib

    matplotlib.use("Agg")  # no display here or in CI; must precede pyplot
    import matplotlib.pyplot as plt

    return plt


def label(value: object) -> str:
    """A data value as an axis label: XML-safe, one line, at most LABEL_CHARS characters."""
    text = _NOT_XML.sub("\ufffd", str(value)).replace("\n", " ").replace("\r", " ").replace("\t", " ")
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def new_figure(width: float = 6.4, height: float = 3.6) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    with _pyplot().rc_context(RC):
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.add_subplot()
    return fig, ax


def to_svg(fig: Figure) -> str:
    """The figure as SVG text, identical bytes for identical figures."""
    buf = io.StringIO()
    with _pyplot().rc_context(RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "newsaudit"})
    return buf.getvalue()


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# Figures shown two abreast in the report (about 580 px wide each at 1280 px).
SMALL = (5.6, 3.0)


def histogram(
    values: Sequence[float],
    title: str,
    xlabel: str,
    bins: int = 20,
    xrange=(0.0, 1.0),
    vline: float | None = None,
    log: bool = False,
) -> str:
    """Pages per bin; ``vline`` marks a value (a decision threshold), ``log`` a log count axis."""
    with _pyplot().rc_context(RC):
        fig, ax = new_figure(*SMALL)
        ax.hist(list(values), bins=bins, range=xrange, color=PALETTE[0], edgecolor="white", log=log)
        if log:
            _plain_log_ticks(ax)
        if vline is not None:
            ax.axvline(vline, color=PALETTE[3], linestyle="--", linewidth=1)
        ax.set(title=title, xlabel=xlabel, ylabel="pages")
        return to_svg(fig)


def _plain_log_ticks(ax: Axes) -> None:
    """Count ticks as plain numbers: the default log labels are mathtext, which is switched off
    (data labels must never be typeset), so they would show as raw ``$10^{1}$``."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def strips(groups: Sequence[str], values: Sequence[Sequence[float]], title: str, xlabel: str) -> str:
    """One row of dots per group (top to bottom in the given order): the members' values."""
    with _pyplot().rc_context(RC):
        fig, ax = new_figure(SMALL[0], max(2.2, 0.3 * len(groups) + 1.0))
        for i, vals in enumerate(values):
            ax.plot(list(vals), [i] * len(vals), "o", color=PALETTE[0], alpha=0.6, markersize=5)
        ax.set_yticks(range(len(groups)), [label(g) for g in groups])
        ax.invert_yaxis()
        ax.set(title=title, xlabel=xlabel, xlim=(0, 1.02))
        return to_svg(fig)


def monthly(
    months: Sequence[str], pages: Sequence[int], errors: Sequence[int], share: Sequence[float]
) -> str:
    """Pages and error pages per month (bars), conflict share of scored pages (line, right axis)."""
    with _pyplot().rc_context(RC):
        fig, ax = new_figure(11.2, 3.0)
        xs = range(len(months))
        ax.bar(xs, list(pages), color=PALETTE[0], label="pages")
        ax.bar(xs, list(errors), color=PALETTE[3], label="error pages")
        ax.set(ylabel="pages", title="Pages per month")
        step = max(1, len(months) // 24)  # at most about 24 labels
        ax.set_xticks(list(xs)[::step], [label(m) for m in months][::step], rotation=45, ha="right")
        if any(v is not None for v in share):  # no line when the classifier did not run
            right = ax.twinx()
            right.plot(
                list(xs), [float("nan") if v is None else v for v in share], color=PALETTE[1], marker="."
            )
            right.set(ylabel="conflict share of scored", ylim=(0, None))
            right.grid(False)
        ax.legend(loc="upper left", fontsize=8)
        return to_svg(fig)


def bars(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str, horizontal=True) -> str:
    """A bar per label (top to bottom in the given order when horizontal)."""
    with _pyplot().rc_context(RC):
        height = max(2.2, 0.26 * len(labels) + 1.0) if horizontal else SMALL[1]
        fig, ax = new_figure(SMALL[0], height)
        labels = [label(x) for x in labels]
        if horizontal:
            ax.barh(range(len(labels)), list(values), color=PALETTE[0])
            ax.set_yticks(range(len(labels)), labels)
            ax.invert_yaxis()
            ax.set(title=title, xlabel=xlabel)
        else:
            ax.bar(range(len(labels)), list(values), color=PALETTE[0])
            # Short labels (cluster sizes) read best upright; long ones need the slant to fit.
            slant = max((len(x) for x in labels), default=0) > 4
            ax.set_xticks(
                range(len(labels)), labels, rotation=45 if slant else 0, ha="right" if slant else "center"
            )
            ax.set(title=title, ylabel=xlabel)
        return to_svg(fig)


def grouped_bars(groups: Sequence[str], series: dict[str, Sequence[float]], title: str, ylabel: str) -> str:
    """Bars of several series per group (e.g. F1 of each model on each dataset)."""
    with _pyplot().rc_context(RC):
        fig, ax = new_figure(SMALL[0], 3.4)
        n = max(len(series), 1)
        width = 0.8 / n
        for i, (name, values) in enumerate(series.items()):
            xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
            ax.bar(xs, list(values), width=width, label=label(name), color=PALETTE[i % len(PALETTE)])
        ax.set_xticks(range(len(groups)), [label(g) for g in groups], rotation=30, ha="right")
        ax.set(title=title, ylabel=ylabel)
        ax.legend(fontsize=8)
        return to_svg(fig)


def lines(
    curves: dict[str, tuple[Sequence[float], Sequence[float]]],
    title: str,
    xlabel: str,
    ylabel: str,
    diagonal: bool = False,
    unit_square: bool = True,
) -> str:
    """One line per named curve (ROC, precision-recall, recall against edit rate...)."""
    with _pyplot().rc_context(RC):
        fig, ax = new_figure(SMALL[0], 3.4)
        for i, (name, (xs, ys)) in enumerate(curves.items()):
            # Markers only where they mark measured points (a benchmark grid), not a dense curve.
            marker = "." if len(xs) <= 40 else None
            ax.plot(list(xs), list(ys), label=label(name), color=PALETTE[i % len(PALETTE)], marker=marker)
        if diagonal:
            ax.plot([0, 1], [0, 1], linestyle="--", color="#999999", linewidth=0.8)
        if unit_square:
            ax.set(xlim=(0, 1), ylim=(0, 1.02))
        else:
            ax.set(ylim=(0, 1.02))  # rates on y; x keeps its own range (edit rates stop at 0.3)
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        if len(curves) > 1:  # one curve: its name is the title already
            ax.legend(fontsize=8)
        return to_svg(fig)


def confusion(matrix: Sequence[Sequence[float]], labels: Sequence[str], title: str) -> str:
    """A confusion matrix with counts written in the cells (rows: actual, columns: predicted)."""
    with _pyplot().rc_context({**RC, "axes.grid": False}):
        fig, ax = new_figure(3.8, 3.4)
        ax.imshow(matrix, cmap="Blues")
        top = max((max(row) for row in matrix), default=0)
        for r, row in enumerate(matrix):
            for c, value in enumerate(row):
                colour = "white" if top and value > top / 2 else "black"
                ax.text(c, r, f"{value:g}", ha="center", va="center", color=colour)
        ax.set_xticks(range(len(labels)), [label(x) for x in labels])
        ax.set_yticks(range(len(labels)), [label(x) for x in labels])
        ax.set(title=title, xlabel="predicted", ylabel="actual")
        return to_svg(fig)


def placeholder(title: str, message: str) -> str:
    """A figure that says what is missing: keeps ``dvc plots show`` whole before a stage has run."""
    with _pyplot().rc_context({**RC, "axes.grid": False}):
        fig, ax = new_figure(5.2, 1.6)
        ax.axis("off")
        ax.set_title(title)
        ax.text(0.5, 0.4, message, ha="center", va="center", wrap=True, color="#57606a")
        return to_svg(fig)
