"""Report sections about the run itself: provenance, ingest, other metrics, the audit, at a glance."""

from __future__ import annotations

import pandas as pd

from newsaudit.core import paths
from newsaudit.report.data import ReportData
from newsaudit.report.html import esc, flatten, heading, json_tables, note, records_table, table, td
from newsaudit.report.part import REJECTED_ROWS, Part, missing

# ---------------------------------------------------------------- provenance


def provenance(data: ReportData) -> Part | None:
    prov = data.provenance
    if prov is None:
        return None
    dirty = prov.get("dirty")
    state = {None: "unknown", True: "dirty: tracked files differ from the commit", False: "clean"}[dirty]
    html = table(None, [["git commit", prov.get("commit")], ["working tree", state]])
    if prov.get("changed"):
        html += heading(3, "Files that differ from the commit") + table(
            ["path"], [[p] for p in prov["changed"]]
        )
    params = flatten(prov.get("params") or {})
    html += heading(3, "Parameters (params.yaml)")
    html += table(["parameter", "value"], params, max_rows=500) if params else note("params.yaml not found.")
    lock = prov.get("lock") or []
    html += heading(3, "Inputs and outputs of every stage (dvc.lock)")
    if lock:
        html += records_table(lock, max_rows=500)
    else:
        html += note("dvc.lock not found: the pipeline has not been run with dvc repro.")
    return Part("provenance", "Run provenance", html)


# ---------------------------------------------------------------- ingest


def ingest(data: ReportData) -> Part:
    metrics = data.metrics.get("ingest")
    if metrics is None and data.manifest is None:
        return Part("ingest", "Ingest: every input accounted for", missing(data, "ingest", paths.MANIFEST))
    html = ""
    if metrics is not None:
        html += json_tables(metrics)
    manifest = data.manifest
    if manifest is not None and len(manifest):
        html += heading(3, "Manifest: status by format")
        crosstab = manifest.groupby(["format", "status"], dropna=False).size().reset_index(name="n")
        rows = sorted(crosstab.itertuples(index=False), key=lambda r: (str(r[0]), str(r[1])))
        html += table(["format", "status", "inputs"], rows)
        rejected = manifest[manifest["status"].astype(str) == "rejected"]
        html += heading(3, f"Rejected inputs ({len(rejected)})")
        if len(rejected):
            cols = [c for c in ("path", "record", "reason_code", "status_reason") if c in rejected.columns]
            rejected = rejected.loc[:, cols]
            if "record" in cols:
                # Line or row number: the CSV and the audit table hold it as float ("2.0").
                rejected["record"] = pd.to_numeric(rejected["record"], errors="coerce").astype("Int64")
            rows = rejected.sort_values(cols[:2]).itertuples(index=False)
            html += table(cols, list(rows), max_rows=REJECTED_ROWS)
        else:
            html += note("No input was rejected.")
    facts = []
    if metrics is not None:
        names = {"inputs": "inputs", "accepted": "inputs accepted", "rejected": "inputs rejected"}
        facts = [(label, metrics[k]) for k, label in names.items() if k in metrics]
    elif manifest is not None:
        status = manifest["status"].astype(str)
        facts = [
            ("inputs", len(manifest)),
            ("inputs accepted", int((status == "accepted").sum())),
            ("inputs rejected", int((status == "rejected").sum())),
        ]
    return Part("ingest", "Ingest: every input accounted for", html, facts=facts)


# ---------------------------------------------------------------- everything else


def other_metrics(data: ReportData, shown: set[str]) -> Part | None:
    rest = {k: v for k, v in data.metrics.items() if k not in shown}
    if not rest:
        return None
    html = "".join(heading(3, f"{k}.json") + json_tables(v) for k, v in rest.items())
    return Part("other", "Other metrics", html)


def audit_summary(data: ReportData) -> Part | None:
    summary = data.audit_summary
    if summary is None:
        return None
    rows = [["corpus", summary.get("corpus")], ["steps run", ", ".join(summary.get("steps") or [])]]
    html = table(None, rows)
    skipped = summary.get("skipped_steps") or {}
    if skipped:
        html += heading(3, "Steps that could not run") + table(["step", "why"], sorted(skipped.items()))
    rest = {k: v for k, v in summary.items() if k not in {"corpus", "steps", "skipped_steps", "ingest"}}
    html += json_tables(rest) if rest else ""
    return Part("audit", "Audit", html)


def at_a_glance(parts: list[Part]) -> Part | None:
    """The headline numbers of every section, first thing on the page."""
    facts = [(label, value, part) for part in parts for label, value in part.facts]
    if not facts:
        return None
    rows = "".join(
        f'<tr><td><a href="#{esc(part.anchor)}">{esc(label)}</a></td>{td(value)}</tr>'
        for label, value, part in facts
    )
    return Part("glance", "At a glance", f"<table><tbody>{rows}</tbody></table>")
