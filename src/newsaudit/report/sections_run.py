"""Report sections about the run itself, all at the end: what changed since a baseline revision,
every headline figure, the audit's settings, and the run's provenance (folded)."""

from __future__ import annotations

from newsaudit.report.html import flatten, fmt, folded, json_tables, note, records_table, table
from newsaudit.report.part import Part, View

# ---------------------------------------------------------------- what changed


def changes(view: View) -> Part | None:
    """``newsaudit report --baseline REV``: every headline metric old/new/delta, the changed params."""
    diff = view.data.changes
    if diff is None:
        return None
    rev = diff.get("baseline", "the baseline")
    metrics, params = diff.get("metrics") or [], diff.get("params") or []
    moved = [r for r in metrics if r.get("old") != r.get("new")]
    html = note(
        f"Compared with {rev} by `dvc metrics diff` and `dvc params diff`: {len(moved)} of "
        f"{len(metrics)} headline figures moved; {len(params)} parameters changed."
    )
    rows = [[r["path"], r["metric"], r.get("old"), r.get("new"), r.get("diff")] for r in moved]
    if rows:
        html += table(["file", "metric", rev, "now", "change"], rows, max_rows=200)
    same = [[r["path"], r["metric"], r.get("new")] for r in metrics if r.get("old") == r.get("new")]
    if same:
        html += folded(
            f"The {len(same)} figures that did not move", table(["file", "metric", "value"], same, 200)
        )
    if params:
        prow = [[r["path"], r["param"], fmt(r.get("old")), fmt(r.get("new"))] for r in params]
        html += "<h3>Parameters that changed</h3>" + table(["file", "parameter", rev, "now"], prow, 200)
    return Part("changes", f"What changed since {rev}", html)


# ---------------------------------------------------------------- everything else, folded


def more(view: View) -> Part | None:
    """Every headline figure of the metrics files, and any metrics file no section knows."""
    metrics = view.data.metrics
    if not metrics:
        return None
    rows = [(f"{name}.json", key, value) for name, data in metrics.items() for key, value in flatten(data)]
    known = [r for r in rows if not r[0].startswith("benchmark")]
    html = folded(
        f"Every headline figure of reports/metrics ({len(known)})",
        table(["file", "metric", "value"], known, max_rows=500),
    )
    others = {k: v for k, v in metrics.items() if k.startswith("benchmark")}
    for name, data in others.items():
        html += folded(f"{name}.json (newsaudit bench: throughput and memory)", json_tables(data))
    return Part("more", "All figures", html)


def audit_summary(view: View) -> Part | None:
    summary = view.data.audit_summary
    if summary is None:
        return None
    rows = [["corpus", summary.get("corpus")], ["steps run", ", ".join(summary.get("steps") or [])]]
    skipped = summary.get("skipped_steps") or {}
    rows += [[f"{step} not run", why] for step, why in sorted(skipped.items())]
    for key in ("line_model", "engine"):
        if key in summary:
            rows.append([key, summary[key] if not isinstance(summary[key], dict) else flatten(summary[key])])
    body = table(None, rows)
    rest = {
        k: v
        for k, v in summary.items()
        if k not in {"corpus", "steps", "skipped_steps", "line_model", "engine"}
    }
    if rest:
        body += folded("Every figure of summary.json", json_tables(rest))
    return Part("audit", "Audit settings", folded(f"Corpus, steps run and settings ({len(rows)} rows)", body))


def provenance(view: View) -> Part | None:
    prov = view.data.provenance
    if prov is None:
        return None
    dirty = prov.get("dirty")
    state = {None: "unknown", True: "dirty: tracked files differ from the commit", False: "clean"}[dirty]
    commit = str(prov.get("commit"))
    html = table(None, [["git commit", commit], ["working tree", state]])
    if prov.get("changed"):
        html += "<h3>Files that differ from the commit</h3>" + table(["path"], [[p] for p in prov["changed"]])
    params = flatten(prov.get("params") or {})
    html += "<h3>Parameters (params.yaml)</h3>"
    html += table(["parameter", "value"], params, max_rows=500) if params else note("params.yaml not found.")
    lock = prov.get("lock") or []
    if prov.get("lock_scope") == "inputs":
        html += "<h3>This report's inputs, as the stages that wrote them recorded them (dvc.lock)</h3>"
    else:
        html += "<h3>Inputs and outputs of every stage (dvc.lock)</h3>"
    if lock:
        html += records_table(lock, max_rows=500)
    else:
        html += note("dvc.lock not found: the pipeline has not been run with dvc repro.")
    where = f"Commit {commit[:12]}, working tree {state.split(':')[0]}" if dirty is not None else commit
    head = f"{where}; the parameters and the hash of every input"
    return Part("provenance", "Run provenance", folded(head, html))
