"""Pages before and after: a few pages chosen by rule, raw text beside clean text.

Each role picks one page deterministically (ties broken by ``doc_id``), never the same page twice:
an error notice glued before an article, the page with most boilerplate removed, a page with
repeated paragraphs, a conflict-flagged page and a borderline one (the score nearest the decision
threshold). The raw text is shown line by line with every removed line struck through and labelled
by its reason (the removed-lines table of the boilerplate step; lines the duplicates step dropped as
repeats are found by aligning the kept lines with the final clean text). Long runs of removed
lines are folded and long pages clipped, each with a count of what is hidden. Everything from the
page is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from newsaudit.report.data import LineTable, PageTable
from newsaudit.report.facts import Facts
from newsaudit.report.html import esc, fmt

ROWS = 10  # rows shown per side before the page is clipped
CONTEXT = 2  # rows shown above the first line of interest (the first repeat...)
RUN_SHOWN = 2  # a run of removed lines (same reason) longer than RUN_SHOWN + 1 is folded
LINE_CHARS = 300
MIN_KEPT_CHARS = 200  # "most boilerplate removed" among pages that still have an article
REPEATED = "repeated"  # the reason shown for a line the duplicates step removed as a repeat


def _share(x: float) -> str:
    """A share as a percentage that never rounds a near-total to 100% (nor a tiny one to 0%)."""
    value = 100 * float(x)
    return f"{value:.1f}%" if value >= 99.5 or value < 0.5 else f"{value:.0f}%"


@dataclass(frozen=True)
class Example:
    role: str
    title: str
    doc_id: str
    source: str
    why: str


def _first(frame: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.Series | None:
    if frame.empty:
        return None
    return frame.sort_values([*by, "doc_id"], ascending=[*ascending, True], kind="stable").iloc[0]


def threshold_of(facts: Facts, given: float | None) -> float | None:
    """The decision threshold: the model's (from the metrics) or, for an audit, the midpoint
    between the highest unflagged and the lowest flagged score."""
    if given is not None:
        return float(given)
    f = facts.frame[facts.frame["scored"] & facts.frame["prob"].notna()]
    hi, lo = f.loc[~f["flagged"], "prob"], f.loc[f["flagged"], "prob"]
    if len(hi) and len(lo):
        return float((hi.max() + lo.min()) / 2)
    return None


def choose(facts: Facts, threshold: float | None = None) -> list[Example]:
    f = facts.frame
    taken: set[str] = set()
    out: list[Example] = []

    def add(role: str, title: str, row: pd.Series | None, why: str) -> None:
        if row is not None:
            taken.add(row["doc_id"])
            out.append(Example(role, title, row["doc_id"], row["source"], why))

    def free(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~frame["doc_id"].isin(taken)]

    row = _first(free(f[f["prefix"] & ~f["error"]]), ["kept_chars"], [False])
    if row is not None:
        kind = row["prefix_kind"] or "error"
        why = f"a {kind} notice of {fmt(row['prefix_chars'])} characters before the article"
        add("prefix", "Error notice glued before the article", row, why)
    ok = f[f["cleaned"] & ~f["error"] & (f["kept_chars"] >= MIN_KEPT_CHARS)]
    row = _first(free(ok), ["boilerplate_frac", "removed_chars"], [False, False])
    if row is not None:
        why = f"{_share(row['boilerplate_frac'])} of its characters removed"
        add("boilerplate", "Most boilerplate removed", row, why)
    row = _first(free(f[f["repeated"] > 0]), ["repeated"], [False])
    if row is not None:
        add("repeated", "Repeated paragraphs", row, f"{row['repeated']} repeated paragraphs removed")
    row = _first(free(f[f["flagged"] & f["prob"].notna()]), ["prob"], [False])
    if row is not None:
        why = f"score {row['prob']:.3f}; top terms: {row['terms'] or 'none'}"
        add("flagged", "Flagged as a conflict event (highest score)", row, why)
    t = threshold_of(facts, threshold)
    scored = free(f[f["scored"] & f["prob"].notna()])
    if t is not None and len(scored):
        row = _first(scored.assign(gap=(scored["prob"] - t).abs()), ["gap"], [True])
        side = "flagged" if row["flagged"] else "not flagged"
        add(
            "borderline",
            "Borderline",
            row,
            f"score {row['prob']:.3f} against a threshold of {t:.3f} ({side})",
        )
    return out


@dataclass(frozen=True)
class Line:
    text: str
    reason: str | None = None  # None: kept
    folded: int = 0  # > 0: a marker standing for this many removed lines


def raw_lines(raw: str, removed: dict[int, str], final: str | None, repeats: bool) -> list[Line]:
    """The page's non-blank lines with the reason each removed one was removed for.

    ``removed`` maps a line number (1-based, over ``raw.split("\\n")``, as the boilerplate step
    counts) to its reason. With ``repeats``, kept lines missing from ``final`` (the clean text
    after the duplicates step) are labelled as repeats: ``final`` is the kept lines with repeats
    dropped, so walking both in order finds them.
    """
    out = []
    for no, text in enumerate((raw or "").split("\n"), start=1):
        if text.strip():
            out.append(Line(text.strip(), removed.get(no)))
    if repeats and final is not None:
        rest = [t.strip() for t in final.split("\n") if t.strip()]
        j = 0
        for i, line in enumerate(out):
            if line.reason is not None:
                continue
            if j < len(rest) and rest[j] == line.text:
                j += 1
            else:
                out[i] = Line(line.text, REPEATED)
    return out


def fold(lines: list[Line], shown: int = RUN_SHOWN) -> list[Line]:
    """Runs of removed lines with one reason, longer than ``shown + 1``, as ``shown`` lines and a
    marker for the rest."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j].reason is not None and lines[j].reason == lines[i].reason:
            j += 1
        if j - i > shown + 1:
            out.extend(lines[i : i + shown])
            out.append(Line("", lines[i].reason, folded=j - i - shown))
            i = j
        else:
            out.append(lines[i])
            i += 1
    return out


def _clip(text: str) -> str:
    return text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1] + "…"


def _side(caption: str, rows: list[str], hidden: int) -> str:
    more = (
        f'<div class="hidden">… {hidden} more line{"s" if hidden != 1 else ""} not shown</div>'
        if hidden
        else ""
    )
    return f'<div><div class="cap">{esc(caption)}</div><div class="lines">{"".join(rows)}</div>{more}</div>'


def _row(line: Line) -> str:
    if line.folded:
        return (
            f'<div class="fold"><span class="t">… {line.folded} more removed</span>'
            f'<span class="why">{esc(line.reason)}</span></div>'
        )
    if line.reason is not None:
        text, why = esc(_clip(line.text)), esc(line.reason)
        return f'<div><del class="t">{text}</del><span class="why">{why}</span></div>'
    return f'<div><span class="t">{esc(_clip(line.text))}</span></div>'


# The reason whose first line a role's window starts at (other roles start at the top).
FOCUS = {"repeated": REPEATED}


def render_example(ex: Example, raw: str, removed: dict[int, str], final: str | None, repeats: bool) -> str:
    lines = raw_lines(raw, removed, final, repeats)
    n_removed = sum(1 for line in lines if line.reason is not None)
    folded = fold(lines)
    start = 0
    if ex.role in FOCUS:
        first = next((i for i, line in enumerate(folded) if line.reason == FOCUS[ex.role]), 0)
        start = max(0, first - CONTEXT)
    window = folded[start : start + ROWS]
    above = sum(max(1, line.folded) for line in folded[:start])
    below = sum(max(1, line.folded) for line in folded[start + ROWS :])
    left = (
        [f'<div class="fold"><span class="t">… {above} lines above not shown</span></div>'] if above else []
    )
    left += [_row(line) for line in window]
    clean = [t.strip() for t in (final or "").split("\n") if t.strip()]
    right = [f'<div><span class="t">{esc(_clip(t))}</span></div>' for t in clean[:ROWS]]
    right = right or ['<div class="note">(nothing kept)</div>']
    caption = f"raw text: {len(lines)} lines, {n_removed} removed (struck through, reason beside)"
    return (
        f'<div class="ex" id="ex-{esc(ex.role)}"><h3>{esc(ex.title)}</h3>'
        f'<p class="meta">{esc(ex.doc_id)} · {esc(ex.source)} · {esc(ex.why)}</p>'
        f'<div class="pair">{_side(caption, left, below)}'
        f"{_side(f'clean text: {len(clean)} lines', right, max(0, len(clean) - ROWS))}</div></div>"
    )


def render_examples(facts: Facts, pages: PageTable, lines: LineTable | None, threshold: float | None) -> str:
    chosen = choose(facts, threshold)
    if not chosen:
        return ""
    ids = [ex.doc_id for ex in chosen]
    texts = pages.read(["doc_id", "raw_text", "clean_text"], doc_ids=ids).drop_duplicates("doc_id")
    texts = texts.set_index("doc_id")
    removed = lines.read(["doc_id", "line_no", "reason"], doc_ids=ids) if lines is not None else None
    repeats = facts.frame.set_index("doc_id")["repeated"]
    out = []
    for ex in chosen:
        if ex.doc_id not in texts.index:
            continue
        row = texts.loc[ex.doc_id]
        gone: dict[int, str] = {}
        if removed is not None:
            mine = removed[removed["doc_id"] == ex.doc_id]
            gone = dict(zip(mine["line_no"].astype(int), mine["reason"].astype(str), strict=True))
        final = row.get("clean_text")
        final = final if isinstance(final, str) else None
        out.append(
            render_example(ex, row.get("raw_text") or "", gone, final, bool(repeats.get(ex.doc_id, 0)))
        )
    return "".join(out)
