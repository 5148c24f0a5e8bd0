"""Report sections on boilerplate removal and error pages (stages ``boilerplate``, ``bench-boilerplate``)."""

from __future__ import annotations

import pandas as pd

from newsaudit.report import figures as figs
from newsaudit.report.findings import num, pct
from newsaudit.report.html import clip, folded, note, table
from newsaudit.report.part import EXAMPLE_ERRORS, TOP_LINES, Part, View, figure_row, missing

# The benchmark rows shown by default: ours and the best published extractor.
OURS = ("newsaudit boilerplate stage", "newsaudit line model", "newsaudit HTML mode (trafilatura)")


def _removed_by_reason(view: View) -> pd.DataFrame | None:
    """Removed lines per reason: the stage's table, else counted from the removed-lines file."""
    frame = view.data.table("boilerplate", "by_reason")
    if frame is not None and {"reason", "lines"} <= set(frame.columns):
        return frame
    counted = ((view.data.audit_summary or {}).get("boilerplate") or {}).get("removed_lines_by_reason")
    if isinstance(counted, dict):  # the audit's own counts
        return pd.DataFrame({"reason": list(counted), "lines": list(counted.values())})
    lines = view.data.removed_lines
    if lines is None:
        return None
    reasons = lines.read(["reason"])["reason"].astype(str).value_counts()
    return pd.DataFrame({"reason": reasons.index, "lines": reasons.to_numpy()})


def _top_lines(view: View) -> pd.DataFrame | None:
    frame = view.data.table("boilerplate", "top_lines")
    if frame is None and view.data.audit_summary:
        items = (view.data.audit_summary.get("boilerplate") or {}).get("top_boilerplate_lines")
        frame = pd.DataFrame(items) if items else None
    return frame


def boilerplate(view: View) -> Part:
    title = "Boilerplate"
    s, f = view.summary, view.facts
    if s is None or not view.ran("boilerplate"):
        return Part("boilerplate", title, missing(view.data, "boilerplate"))
    found: dict[str, str] = {}
    frac = f.frame.loc[f.frame["cleaned"], "boilerplate_frac"].dropna()
    html = note(
        f"{pct(s.boilerplate_share)} of the characters of {num(s.cleaned)} cleaned pages were removed; "
        f"the median page lost {pct(s.median_page_share)}."
    )
    # A log count axis only when one bin dwarfs the others (a crawl of error pages, say).
    counts = pd.cut(frac, bins=20, include_lowest=True).value_counts()
    nonzero = counts[counts > 0]
    log = bool(len(nonzero)) and nonzero.max() > 10 * nonzero.median()
    found["boilerplate_frac"] = figs.histogram(
        frac, "Share of each page removed as boilerplate", "share of the page's characters", log=log
    )
    caption = "Pages by the share of their characters removed" + (" (log scale)." if log else ".")
    items = [(found["boilerplate_frac"], caption)]
    reasons = _removed_by_reason(view)
    if reasons is not None:
        reasons = reasons[reasons["lines"] > 0]  # a reason that removed nothing has no bar
    if reasons is not None and len(reasons):
        reasons = reasons.sort_values(["lines", "reason"], ascending=[False, True])
        found["removed_by_reason"] = figs.bars(
            reasons["reason"].astype(str), reasons["lines"], "Removed lines by reason", "lines"
        )
        items.append((found["removed_by_reason"], "Why lines were removed: the first rule that matched."))
    html += figure_row(*items)
    top = _top_lines(view)
    if top is not None and len(top):
        top = top.head(TOP_LINES).copy()
        if "line" in top:
            top["line"] = top["line"].map(lambda t: clip(t, 120))
        html += folded(
            f"The {len(top)} most frequent removed lines (site templates and page furniture)",
            table(list(top.columns), list(top.itertuples(index=False))),
        )
    html += _benchmark(view)
    return Part("boilerplate", title, html, found)


def _benchmark(view: View) -> str:
    if not view.data.pipeline:
        return ""
    bench = view.data.table("bench_boilerplate", "scrapinghub")
    if bench is None or "f1" not in bench:
        return missing(view.data, "bench_boilerplate")
    cols = [c for c in ("method", "input", "kind", "f1", "precision", "recall") if c in bench.columns]
    bench = bench.sort_values(["f1", "method"], ascending=[False, True])
    ours = bench[bench["method"].isin(OURS)]
    stage = view.metric("bench_boilerplate", "scrapinghub.boilerplate_stage_f1")
    html_f1 = view.metric("bench_boilerplate", "scrapinghub.html_mode_f1")
    best = bench[bench["method"].astype(str).str.startswith("published")].head(1)
    line = "Against the scrapinghub gold article text (181 pages never used in training): "
    line += f"F1 {stage:.3f} from page text" if stage is not None else "no boilerplate-stage score"
    if html_f1 is not None:
        line += f", {html_f1:.3f} in HTML mode"
    if len(best):
        name = str(best.iloc[0]["method"]).removeprefix("published:").strip()
        line += f"; the best published extractor, {name}, {best.iloc[0]['f1']:.3f}"
    tables = table(cols, list(ours[cols].itertuples(index=False)))
    tables += folded(
        f"Every method ({len(bench)} rows)", table(cols, list(bench[cols].itertuples(index=False)))
    )
    trafilatura = view.data.table("bench_boilerplate", "trafilatura_eval")
    if trafilatura is not None and len(trafilatura):
        tcols = [c for c in ("method", "f1", "precision", "recall", "n_docs") if c in trafilatura.columns]
        tables += note("trafilatura-eval (990 pages):") + table(
            tcols, list(trafilatura[tcols].itertuples(index=False))
        )
    return note(line + ".") + folded("Benchmark scores", tables)


def error_pages(view: View) -> Part:
    title = "Error pages"
    s, f = view.summary, view.facts
    if s is None or not view.ran("boilerplate"):
        return Part("errors", title, missing(view.data, "boilerplate"))
    frame = f.frame
    whole = frame.loc[frame["error"], "error_kind"].replace("", "unknown").value_counts()
    prefix = frame.loc[frame["prefix"] & ~frame["error"], "prefix_kind"].replace("", "unknown").value_counts()
    kinds = sorted(set(whole.index) | set(prefix.index), key=lambda k: (-whole.get(k, 0), k))
    html = note(
        f"{num(s.error_pages)} whole pages are error pages (nothing of them is kept); "
        f"{num(s.prefix_pages)} more start with an error notice that was cut off before the article."
    )
    if s.with_status:
        html += note(
            f"Of {num(s.with_status)} pages with an HTTP status, {num(s.status_errors)} answered with an "
            f"error status; {num(s.soft_404)} answered 200 but read as error pages (soft 404s)."
        )
    if kinds:
        rows = [[k, int(whole.get(k, 0)), int(prefix.get(k, 0))] for k in kinds]
        html += table(["kind", "error pages", "notices before an article"], rows)
    errors = frame[frame["error"]]
    if len(errors):
        sample = sorted(errors["doc_id"])[:EXAMPLE_ERRORS]
        rows = view.data.pages.read(["doc_id", "source", "error_kind", "raw_text"], doc_ids=sample)
        rows = rows.sort_values("doc_id")
        if "raw_text" in rows:
            rows["raw_text"] = rows["raw_text"].map(lambda t: clip(" ".join(str(t or "").split()), 160))
        html += folded(
            f"Error pages, the first {len(rows)} by doc_id",
            table(list(rows.columns), list(rows.itertuples(index=False))),
        )
    return Part("errors", title, html)
