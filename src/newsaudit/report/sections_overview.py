"""The first screen and what follows it: findings and alerts, the per-source scorecard, pages
before and after cleaning, and the monthly counts when pages carry a date."""

from __future__ import annotations

import pandas as pd

from newsaudit.core import paths
from newsaudit.report import figures as figs
from newsaudit.report.examples import render_examples
from newsaudit.report.facts import by_month
from newsaudit.report.findings import alerts, findings, num
from newsaudit.report.html import bar, esc, folded, note, table, td
from newsaudit.report.part import REJECTED_ROWS, TOP_SOURCES, Part, View, figure, missing

# ---------------------------------------------------------------- findings


def findings_part(view: View) -> Part:
    title = "Findings"
    if view.summary is None:
        return Part("findings", title, missing(view.data, paths.PAGES))
    skipped = (view.data.audit_summary or {}).get("skipped_steps") or {}
    items = "".join(f.html() for f in findings(view.summary))
    html = f'<ul class="findings">{items}</ul>'
    found = alerts(view.summary, view.facts, skipped)
    if found:
        html += '<ul class="alerts">' + "".join(a.html() for a in found) + "</ul>"
    return Part("findings", title, html)


# ---------------------------------------------------------------- scorecard

CARD_COLUMNS = (
    "source",
    "pages",
    "rejected",
    "error pages",
    "boilerplate",
    "duplicates",
    "conflict events",
    "languages",
)


def _card_row(row: pd.Series, largest: int, bars: bool) -> str:
    def cell(share: float | None, text: str | None = None) -> str:
        if share is None or pd.isna(share):
            return '<td class="num"></td>'
        return bar(share, text) if bars else td(text if text is not None else f"{100 * share:.0f}%")

    conflict = None if pd.isna(row["conflict_share"]) else row["conflict_share"]
    conflict_text = f"{int(row['flagged'])} of {int(row['scored'])}" if conflict is not None else None
    errors = None if pd.isna(row["error_share"]) else row["error_share"]
    return (
        "<tr>"
        + td(row["source"])
        + (bar(row["pages"] / largest, num(row["pages"])) if bars else td(int(row["pages"])))
        + td(int(row["rejected"]))
        + cell(errors, num(row["error_pages"]))
        + cell(row["boilerplate_share"])
        + cell(row["duplicate_share"], num(row["duplicates"]))
        + cell(conflict, conflict_text)
        + td(row["languages"])
        + "</tr>"
    )


def _card_table(card: pd.DataFrame, largest: int, bars: bool) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in CARD_COLUMNS)
    body = "".join(_card_row(row, largest, bars) for _, row in card.iterrows())
    return f'<table class="card"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def scorecard_part(view: View) -> Part | None:
    card = view.scorecard
    if card is None:
        return None
    shown, rest = card.head(TOP_SOURCES), card.iloc[TOP_SOURCES:]
    title = f"Sources: the {len(shown)} largest of {num(len(card))}" if len(rest) else "Sources"
    largest = int(card["pages"].max()) if len(card) else 1
    html = note(
        "Error pages: of the source's accepted pages. Boilerplate: share of characters removed. "
        "Duplicates: redundant copies among its clustered pages. Conflict events: of its scored pages."
    )
    html += _card_table(shown, largest, bars=True)
    if len(rest):
        html += folded(
            f"The other {num(len(rest))} sources ({num(rest['pages'].sum())} pages)",
            _card_table(rest, largest, bars=False),
        )
    html += _rejected(view)
    return Part("sources", title, html)


def _rejected(view: View) -> str:
    manifest = view.data.manifest
    if manifest is None or "status" not in manifest.columns:
        return ""
    rejected = manifest[manifest["status"].astype(str) == "rejected"]
    if rejected.empty:
        return ""
    cols = [c for c in ("path", "record", "reason_code", "status_reason") if c in rejected.columns]
    rejected = rejected.loc[:, cols].copy()
    if "record" in cols:
        # Line or row number: the CSV and the audit table hold it as float ("2.0").
        rejected["record"] = pd.to_numeric(rejected["record"], errors="coerce").astype("Int64")
    rows = rejected.sort_values(cols[:2]).itertuples(index=False)
    return folded(
        f"Rejected inputs ({num(len(rejected))})", table(cols, list(rows), max_rows=REJECTED_ROWS), "rejected"
    )


# ---------------------------------------------------------------- pages before and after


def examples_part(view: View) -> Part | None:
    if view.facts is None or not view.ran("boilerplate"):
        return None
    threshold = view.metric("train", "threshold")
    html = render_examples(view.facts, view.data.pages, view.data.removed_lines, threshold)
    if not html:
        return None
    intro = note(
        "Pages chosen by rule (the same pages for the same data). Left: the page as read, each "
        "removed line struck through with the reason; right: the text the classifier reads."
    )
    return Part("pages", "Pages before and after", intro + html)


# ---------------------------------------------------------------- by month


def months_part(view: View) -> Part | None:
    if view.facts is None:
        return None
    months = by_month(view.facts)
    if months is None or months.empty:
        return None
    found = {
        "by_month": figs.monthly(
            months["month"].tolist(),
            months["pages"].tolist(),
            months["error_pages"].tolist(),
            [None if pd.isna(v) else float(v) for v in months["conflict_share"]],
        )
    }
    undated = int(view.facts.frame["month"].isna().sum())
    caption = f"By {view.facts.date_column}: pages and error pages (bars)"
    caption += ", conflict share of scored pages (line)." if months["scored"].sum() else "."
    html = figure(found["by_month"], caption)
    if undated:
        html += note(f"{num(undated)} pages have no {view.facts.date_column} and are not counted here.")
    return Part("months", "By month", html, found)
