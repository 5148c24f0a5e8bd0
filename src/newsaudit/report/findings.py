"""The findings: plain sentences generated from the numbers, each linked to the section that shows
the detail, and alerts for what needs a look (after ydata-profiling's overview and alerts).

Sentences say what the corpus is like; alerts name what a reader should check: rejected inputs,
sources that are mostly error pages, unusually large duplicate clusters, pages in languages the
classifier does not score, pages that cleaning emptied, steps that did not run. Both are computed
from :class:`~newsaudit.report.facts.Summary` and the per-page facts only, so the pipeline report
and the audit report say the same things about the same pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from newsaudit.report.facts import Facts, Summary, top_counts
from newsaudit.report.html import esc

# A source is "mostly error pages" with at least this many accepted pages and more than this share
# of them error pages.
ERROR_SOURCE_MIN_PAGES = 2
ERROR_SOURCE_SHARE = 0.5
# A cluster is "unusually large" from this many pages (syndicated wire copy, a mirrored site).
LARGE_CLUSTER = 5
LIST_ITEMS = 4  # names listed in one alert before "and N more"


@dataclass(frozen=True)
class Finding:
    text: str  # plain text (escaped when rendered)
    anchor: str  # the section that shows the detail

    def html(self) -> str:
        return f'<li>{esc(self.text)} <a class="more" href="#{esc(self.anchor)}">details</a></li>'


@dataclass(frozen=True)
class Alert:
    tag: str  # short upper-case label
    text: str
    anchor: str

    def html(self) -> str:
        return (
            f'<li><span class="tag">{esc(self.tag)}</span> {esc(self.text)} '
            f'<a class="more" href="#{esc(self.anchor)}">see</a></li>'
        )


def num(n: float | int) -> str:
    return f"{int(n):,}"


def pct(x: float | None) -> str:
    """A share as a percentage: two significant digits below 10 %, whole numbers above."""
    if x is None:
        return "n/a"
    value = 100 * x
    if value == 0 or value >= 10:
        return f"{value:.0f}%"
    return f"{value:.2g}%" if value >= 0.1 else "<0.1%"


def _listed(counts: dict[str, int], limit: int = LIST_ITEMS) -> str:
    """``a 3, b 2 and 4 more``; snake_case reason codes read as words."""
    items = [f"{k.replace('_', ' ')} {num(v)}" for k, v in list(counts.items())[:limit]]
    more = len(counts) - limit
    return ", ".join(items) + (f" and {more} more" if more > 0 else "")


def _names(names: list[str], limit: int = LIST_ITEMS) -> str:
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


def _pages(n: int) -> str:
    return f"{num(n)} page" if n == 1 else f"{num(n)} pages"


def findings(s: Summary) -> list[Finding]:
    out = []
    read = f"{_pages(s.inputs)} read"
    if s.rejected:
        read += f", {num(s.rejected)} rejected ({_listed(s.rejected_by_reason)})"
    else:
        read += ", none rejected"
    out.append(Finding(read + ".", "sources"))
    if "boilerplate" in s.steps:
        errors = f"{num(s.error_pages)} {'is an error page' if s.error_pages == 1 else 'are error pages'}"
        if s.soft_404:
            soft = "a soft 404" if s.soft_404 == 1 else "soft 404s"
            errors += f" ({num(s.soft_404)} of them {soft}: HTTP 200 with an error page)"
        if s.prefix_pages:
            errors += f" and {num(s.prefix_pages)} more had an error notice glued before the article"
        out.append(Finding(errors + ".", "errors"))
        line = f"{pct(s.boilerplate_share)} of characters were boilerplate"
        if s.median_page_share is not None:
            line += f" (the median page lost {pct(s.median_page_share)})"
        if s.empty_after_cleaning:
            line += f"; {num(s.empty_after_cleaning)} pages had nothing left after cleaning"
        out.append(Finding(line + ".", "boilerplate"))
    if "duplicates" in s.steps:
        in_clusters = s.dup_pages + s.dup_clusters
        if s.dup_clusters:
            dup = (
                f"{_pages(in_clusters)} are near or exact copies of another page, in "
                f"{num(s.dup_clusters)} clusters (the largest has {num(s.largest_cluster)}); keeping "
                f"one page per cluster drops {num(s.dup_pages)}"
            )
        else:
            dup = "No page duplicates another"
        if s.repeated_pages:
            dup += f"; {num(s.repeated_pages)} pages repeated a paragraph (the copies were removed)"
        out.append(Finding(dup + ".", "duplicates"))
    if "classify" in s.steps:
        rate = f" ({pct(s.flagged / s.scored)})" if s.scored else ""
        line = f"{num(s.flagged)} of the {_pages(s.scored)} scored report conflict events{rate}"
        unscored = sum(s.unscored_by_reason.values())
        if unscored:
            line += f"; {num(unscored)} were not scored ({_listed(s.unscored_by_reason)})"
        out.append(Finding(line + ".", "classifier"))
    if s.months:
        out.append(Finding(f"Dated pages run from {s.months[0]} to {s.months[1]}.", "months"))
    return out


def alerts(s: Summary, facts: Facts, skipped: dict[str, str] | None = None) -> list[Alert]:
    out = []
    if s.rejected:
        out.append(
            Alert(
                "REJECTED", f"{num(s.rejected)} inputs rejected: {_listed(s.rejected_by_reason)}.", "rejected"
            )
        )
    f = facts.frame
    if "boilerplate" in s.steps:
        acc = f[~f["rejected"]]
        g = acc.groupby("source")["error"].agg(["size", "sum"])
        bad = g[(g["size"] >= ERROR_SOURCE_MIN_PAGES) & (g["sum"] > ERROR_SOURCE_SHARE * g["size"])]
        bad = bad.sort_values(["sum", "size"], ascending=False, kind="stable")
        if len(bad):
            names = [f"{src} ({int(r['sum'])} of {int(r['size'])})" for src, r in bad.iterrows()]
            out.append(
                Alert(
                    "ERROR PAGES",
                    f"{len(bad)} source{'s are' if len(bad) > 1 else ' is'} mostly error pages: "
                    f"{_names(names)}.",
                    "errors",
                )
            )
        if s.empty_after_cleaning:
            out.append(
                Alert(
                    "EMPTY",
                    f"{_pages(s.empty_after_cleaning)} had nothing left after cleaning (all boilerplate).",
                    "boilerplate",
                )
            )
    if "duplicates" in s.steps:
        big = _large_clusters(f)
        if len(big):
            top = big.iloc[0]
            out.append(
                Alert(
                    "LARGE CLUSTER",
                    f"{len(big)} cluster{'s have' if len(big) > 1 else ' has'} {LARGE_CLUSTER}+ pages; "
                    f"the largest has {num(top['size'])} pages from {num(top['sources'])} sources "
                    f"({top['top']}).",
                    "duplicates",
                )
            )
    if s.unsupported_languages:
        n = sum(s.unsupported_languages.values())
        out.append(
            Alert(
                "NOT SCORED",
                f"{_pages(n)} in languages the classifier does not score: "
                f"{_listed(s.unsupported_languages)}.",
                "classifier",
            )
        )
    for step, why in sorted((skipped or {}).items()):
        out.append(Alert("NOT RUN", f"{step} did not run: {why}", "audit"))
    return out


def _large_clusters(f: pd.DataFrame) -> pd.DataFrame:
    """Clusters of LARGE_CLUSTER+ pages, largest first; the source counts only for the largest."""
    big = f[f["clustered"] & (f["cluster_size"] >= LARGE_CLUSTER)]
    if big.empty:
        return pd.DataFrame(columns=["cluster", "size", "sources", "top"])
    g = big.groupby("cluster", sort=True)
    out = pd.DataFrame({"size": g.size(), "sources": g["source"].nunique()}).reset_index()
    out = out.sort_values(["size", "cluster"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out["top"] = ""
    out.loc[0, "top"] = top_counts(big.loc[big["cluster"] == out.loc[0, "cluster"], "source"])
    return out
