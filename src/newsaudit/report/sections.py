"""The report's sections: each is a pure function of :class:`ReportData` returning a :class:`Part`.

A part carries its HTML and the figures it drew (by name), so the same SVGs go into the report and
into ``reports/plots/report/`` for ``dvc plots``. A section whose input is absent returns a part with a
note saying what is missing instead of failing; a section that has nothing to say returns None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from newsaudit.report import figures as figs
from newsaudit.report.data import METRICS, PATHS, ReportData
from newsaudit.report.html import (
    absent,
    clip,
    esc,
    flatten,
    fmt,
    heading,
    json_tables,
    note,
    records_table,
    table,
    td,
)

TOP_SOURCES = 20
TOP_LINES = 25
EXAMPLE_ERRORS = 15
EXAMPLE_CLUSTERS = 5
EXAMPLE_PAIRS = 6
REJECTED_ROWS = 100
TEXT_PREVIEW = 1200


@dataclass
class Part:
    anchor: str
    title: str
    html: str
    figures: dict[str, str] = field(default_factory=dict)
    # Headline numbers for the "At a glance" table at the top: (label, value).
    facts: list[tuple[str, Any]] = field(default_factory=list)

    def render(self) -> str:
        return f"<section>{heading(2, self.title, self.anchor)}\n{self.html}\n</section>\n"


def figure(svg: str, caption: str) -> str:
    img = f'<img alt="{esc(caption)}" src="{figs.data_uri(svg)}">'
    return f"<figure>{img}<figcaption>{esc(caption)}</figcaption></figure>"


def missing(data: ReportData, *keys: str) -> str:
    """The note for an absent input: which file and which stage makes it (pipeline report only)."""
    if not data.pipeline:
        return absent("Not available for this corpus.")
    parts = []
    for key in keys:
        if key in METRICS:
            parts.append(f"{PATHS['metrics']}/{key}.json (stage {METRICS[key]})")
        else:
            parts.append(PATHS.get(key, key))
    return absent("Not produced yet (run `dvc repro`); missing: " + "; ".join(parts) + ".")


def counts_table(series: pd.Series, label: str, max_rows: int = 50) -> str:
    counts = series.fillna("(none)").astype(str).value_counts()
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return table([label, "pages"], rows, max_rows)


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
        return Part("ingest", "Ingest: every input accounted for", missing(data, "ingest", "manifest"))
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


# ---------------------------------------------------------------- boilerplate and error pages


def boilerplate(data: ReportData) -> Part:
    title = "Boilerplate"
    metrics = data.metrics.get("boilerplate")
    clean = data.clean
    html, found, facts = "", {}, []
    if metrics is None and (clean is None or not clean.has("boilerplate_frac")):
        # The benchmark below may well exist without the corpus stage: still show it.
        html += missing(data, "boilerplate", "pages_clean")
    else:
        html += _boilerplate_corpus(data, metrics, found, facts)
    bench = data.metrics.get("boilerplate_benchmark")
    if data.pipeline or bench is not None:
        html += heading(3, "Benchmark: cleaning scored against gold article text")
        html += json_tables(bench) if bench is not None else missing(data, "boilerplate_benchmark")
    return Part("boilerplate", title, html, found, facts)


def _boilerplate_corpus(data: ReportData, metrics: dict | None, found: dict, facts: list) -> str:
    html, clean = "", data.clean
    if metrics is not None:
        html += json_tables(metrics)
    if clean is not None and clean.has("boilerplate_frac"):
        frame = clean.read(["doc_id", "source", "boilerplate_frac"])
        frac = pd.to_numeric(frame["boilerplate_frac"], errors="coerce").dropna()
        facts.append(
            (
                "mean share of characters removed as boilerplate",
                round(float(frac.mean()), 4) if len(frac) else None,
            )
        )
        found["boilerplate_frac"] = figs.histogram(
            frac, "Share of characters removed as boilerplate", "boilerplate fraction"
        )
        html += figure(found["boilerplate_frac"], f"Boilerplate fraction over {len(frac)} pages.")
        if "source" in frame.columns:
            html += _boilerplate_by_source(frame, found)
    if not (metrics and "top_boilerplate_lines" in metrics):
        # The stage's own list (normalised lines) is in its metrics above; two lists with
        # different counting would confuse, so this one only stands in when the stage has none.
        html += _top_lines(data)
    return html


def _boilerplate_by_source(frame: pd.DataFrame, found: dict[str, str]) -> str:
    frame = frame.assign(source=frame["source"].fillna("(none)").astype(str))
    stats = frame.groupby("source")["boilerplate_frac"].agg(["size", "mean", "median"]).reset_index()
    stats = stats.sort_values(["size", "source"], ascending=[False, True]).head(TOP_SOURCES)
    found["boilerplate_by_source"] = figs.bars(
        stats["source"], stats["mean"], "Mean boilerplate fraction, largest sources", "mean fraction"
    )
    rows = stats.itertuples(index=False)
    return (
        heading(3, f"By source (the {TOP_SOURCES} sources with most pages)")
        + figure(found["boilerplate_by_source"], "Mean boilerplate fraction by source.")
        + table(["source", "pages", "mean fraction", "median fraction"], list(rows))
    )


def _top_lines(data: ReportData) -> str:
    lines = data.removed_lines
    out = heading(3, "Top boilerplate lines")
    if lines is None:
        return out + missing(data, "removed_lines")
    if not len(lines) or "text" not in lines.columns:
        return out + note("No line was removed.")
    lines = lines.assign(reason=lines["reason"].astype(str) if "reason" in lines.columns else "")
    # Blank lines are dropped by every cleaner and say nothing about a site's boilerplate.
    lines = lines[lines["text"].fillna("").astype(str).str.strip() != ""]
    if data.clean is not None and data.clean.has("source") and "doc_id" in lines.columns:
        sources = data.clean.read(["doc_id", "source"]).drop_duplicates("doc_id")
        lines = lines.merge(sources, on="doc_id", how="left")
    grouped = lines.groupby("text", sort=False)
    stats = pd.DataFrame(
        {
            "pages": grouped["doc_id"].nunique() if "doc_id" in lines.columns else grouped.size(),
            "occurrences": grouped.size(),
        }
    )
    if "source" in lines.columns:
        stats["sources"] = grouped["source"].nunique()
    stats = stats.reset_index().sort_values(["pages", "occurrences", "text"], ascending=[False, False, True])
    stats = stats.head(TOP_LINES)
    # The most frequent reason per line (ties: alphabetical), vectorised: 10^5 lines are common.
    reasons = (
        lines[lines["text"].isin(stats["text"])]
        .groupby(["text", "reason"])
        .size()
        .reset_index(name="n")
        .sort_values(["text", "n", "reason"], ascending=[True, False, True])
        .drop_duplicates("text")
    )
    stats = stats.merge(reasons[["text", "reason"]], on="text", how="left")
    stats["text"] = stats["text"].map(lambda t: clip(t, 160))
    stats = stats[["text", "pages", "occurrences", "reason", *(["sources"] if "sources" in stats else [])]]
    return out + table(list(stats.columns), list(stats.itertuples(index=False)))


def error_pages(data: ReportData) -> Part:
    title = "Error pages"
    clean = data.clean
    if clean is None or not clean.has("is_error_page"):
        return Part("errors", title, missing(data, "pages_clean"))
    flags = clean.read(["doc_id", "is_error_page", "error_kind", "source"])
    errors = flags[flags["is_error_page"].fillna(False).astype(bool)]
    html = table(None, [["pages", len(flags)], ["error pages", len(errors)]])
    facts = [("error pages", len(errors))]
    if not len(errors):
        return Part("errors", title, html + note("No error page was found."), facts=facts)
    if "error_kind" in errors.columns:
        html += heading(3, "By kind") + counts_table(errors["error_kind"], "error kind")
    sample = sorted(errors["doc_id"].astype(str))[:EXAMPLE_ERRORS]
    text_col = "raw_text" if clean.has("raw_text") else "clean_text"
    rows = clean.read(["doc_id", "source", "error_kind", text_col], doc_ids=sample).sort_values("doc_id")
    rows[text_col] = rows[text_col].map(lambda t: clip(t, 240))
    html += heading(3, f"Examples (first {len(rows)} by doc_id)")
    html += table(list(rows.columns), list(rows.itertuples(index=False)))
    return Part("errors", title, html, facts=facts)


# ---------------------------------------------------------------- duplicates


def duplicates(data: ReportData) -> Part:
    title = "Duplicates"
    metrics = data.metrics.get("duplicates")
    dedup = data.dedup
    have_pages = dedup is not None and dedup.has("doc_id", "near_dup_cluster")
    html, found, facts = "", {}, []
    if metrics is None and not have_pages:
        html += missing(data, "duplicates", "pages_dedup")
    if metrics is not None:
        html += json_tables(metrics)
    if have_pages:
        html += _clusters(dedup, found, facts)
    bench = data.metrics.get("duplicates_benchmark")
    if data.pipeline or bench is not None:
        html += heading(3, "Benchmark: syndicated copies with known origin")
        html += json_tables(bench) if bench is not None else missing(data, "duplicates_benchmark")
    curve = _curve(
        data.plots,
        ("recall_vs_edit_rate", "edit_rate_recall", "recall_by_edit_rate"),
        ("edit_rate",),
        ("recall", "pair_recall"),
    )
    if curve:
        found["recall_vs_edit_rate"] = figs.lines(
            curve, "Recall as edit rate grows", "edit rate", "recall", unit_square=False
        )
        html += figure(found["recall_vs_edit_rate"], "Pairwise recall against the benchmark's edit rate.")
    return Part("duplicates", title, html, found, facts)


def _clusters(dedup, found: dict[str, str], facts: list) -> str:
    frame = dedup.read(
        ["doc_id", "source", "near_dup_cluster", "is_representative", "exact_dup_of", "sim_to_representative"]
    )
    frame = frame[frame["near_dup_cluster"].notna()]
    sizes = frame.groupby("near_dup_cluster").size()
    dist = sizes.value_counts().sort_index()
    found["cluster_sizes"] = figs.bars(
        [str(s) for s in dist.index],
        list(dist.values),
        "Cluster size distribution",
        "clusters",
        horizontal=False,
    )
    html = heading(3, "Cluster sizes") + figure(found["cluster_sizes"], "Number of clusters of each size.")
    html += table(["cluster size", "clusters"], list(dist.items()))
    multi = sizes[sizes > 1]
    facts.append(("pages with an exact or near duplicate", int(multi.sum())))
    order = sorted(multi.items(), key=lambda kv: (-kv[1], str(kv[0])))[:EXAMPLE_CLUSTERS]
    if not order:
        return html + note("No page has a duplicate.")
    html += heading(3, f"Example clusters (the {len(order)} largest), representative on the left")
    for cluster, size in order:
        html += _cluster_pair(dedup, frame[frame["near_dup_cluster"] == cluster], cluster, size)
    return html


def _cluster_pair(dedup, members: pd.DataFrame, cluster: Any, size: int) -> str:
    reps = members.head(1)
    if "is_representative" in members and members["is_representative"].fillna(False).astype(bool).any():
        reps = members[members["is_representative"].fillna(False).astype(bool)]
    rep = reps.sort_values("doc_id").iloc[0]
    others = members[members["doc_id"] != rep["doc_id"]]
    # The least similar member shows how far the threshold reaches; ties broken by doc_id.
    sort_cols = [c for c in ("sim_to_representative", "doc_id") if c in others.columns]
    other = others.sort_values(sort_cols).iloc[0]
    texts = dedup.read(["doc_id", "clean_text", "raw_text"], doc_ids=[rep["doc_id"], other["doc_id"]])
    by_id = {row["doc_id"]: row for _, row in texts.iterrows()}

    def side(row: pd.Series, role: str) -> str:
        text_row = by_id.get(row["doc_id"])
        text = ""
        if text_row is not None:
            text = text_row.get("clean_text") if "clean_text" in text_row else text_row.get("raw_text")
        facts = [f"{role}: {row['doc_id']}", f"source: {fmt(row.get('source')) or '(none)'}"]
        if role != "representative":
            facts.append(f"similarity: {fmt(row.get('sim_to_representative'))}")
            if pd.notna(row.get("exact_dup_of")) and row.get("exact_dup_of"):
                facts.append(f"exact copy of {row.get('exact_dup_of')}")
        return (
            f'<div><div class="mono">{"<br>".join(esc(f) for f in facts)}</div>'
            f'<div class="text">{esc(clip(text, TEXT_PREVIEW))}</div></div>'
        )

    return (
        f"<h4>cluster {esc(cluster)}: {esc(size)} pages</h4>"
        f'<div class="pair">{side(rep, "representative")}{side(other, "member")}</div>'
    )


def _curve(plots: dict[str, pd.DataFrame], stems, xs, ys, group=("model", "method", "name")) -> dict:
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


# ---------------------------------------------------------------- leakage, classifier, ConfliBERT


def leakage(data: ReportData) -> Part:
    title = "Leakage audit of the labelled data"
    metrics = data.metrics.get("leakage")
    if metrics is None:
        return Part("leakage", title, missing(data, "leakage"))
    rest, pairs = _split_pairs(metrics, "")
    html = json_tables(rest)
    if pairs:
        html += heading(3, "Example pairs across splits")
        for where, example in pairs:
            html += _text_pair(where, example)
    return Part("leakage", title, html)


def _split_pairs(data: Any, path: str) -> tuple[Any, list[tuple[str, dict]]]:
    """``data`` without its lists of text pairs (records with text_a and text_b), and those pairs."""
    if not isinstance(data, Mapping):
        return data, []
    rest, pairs = {}, []
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if is_pair_list(value):
            pairs.extend((where, example) for example in value[:EXAMPLE_PAIRS])
            continue
        rest[key], found = _split_pairs(value, where)
        pairs.extend(found)
    return rest, pairs


def is_pair_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and {"text_a", "text_b"} <= set(v) for v in value)
    )


def _text_pair(where: str, example: Mapping[str, Any]) -> str:
    facts = [f"{k}: {fmt(v)}" for k, v in example.items() if k not in ("text_a", "text_b")]
    sides = "".join(
        f'<div><div class="mono">{esc(side)}</div>'
        f'<div class="text">{esc(clip(example[key], TEXT_PREVIEW))}</div></div>'
        for side, key in ((example.get("a", "a"), "text_a"), (example.get("b", "b"), "text_b"))
    )
    return f'<p class="mono">{esc(where)}: {esc("; ".join(facts))}</p><div class="pair">{sides}</div>'


def classifier(data: ReportData) -> Part:
    title = "Conflict-event classifier: evaluation"
    labels, metrics = data.metrics.get("labels"), data.metrics.get("classifier")
    html, found = "", {}
    html += heading(3, "Training labels")
    html += json_tables(labels) if labels is not None else missing(data, "labels")
    if data.metrics.get("train") is not None:
        html += heading(3, "Training") + json_tables(data.metrics["train"])
    html += heading(3, "Held-out evaluation")
    if metrics is None:
        return Part("classifier", title, html + missing(data, "classifier"), found)
    matrix = _confusion(metrics, data.plots)
    if matrix is not None:
        found["confusion_matrix"] = figs.confusion(matrix[0], matrix[1], "Confusion matrix (test)")
        html += figure(found["confusion_matrix"], "Rows: actual label; columns: predicted label.")
    roc = _curve(data.plots, ("roc", "roc_curve"), ("fpr",), ("tpr",))
    if roc:
        found["roc"] = figs.lines(
            roc, "ROC curve", "false positive rate", "true positive rate", diagonal=True
        )
        html += figure(found["roc"], "ROC curve on the held-out test set.")
    pr = _curve(data.plots, ("pr", "precision_recall", "pr_curve"), ("recall",), ("precision",))
    if pr:
        found["pr"] = figs.lines(pr, "Precision-recall curve", "recall", "precision")
        html += figure(found["pr"], "Precision-recall curve on the held-out test set.")
    calibration = _curve(data.plots, ("calibration",), ("mean_predicted",), ("fraction_positive",))
    if calibration:
        found["calibration"] = figs.lines(
            calibration, "Calibration", "mean predicted probability", "fraction positive", diagonal=True
        )
        html += figure(found["calibration"], "Reliability: predicted probability against observed rate.")
    html += json_tables(metrics)
    scores = {k: _score(metrics, k) for k in ("f1", "roc_auc", "pr_auc")}
    facts = [(f"classifier {k} (test)", v) for k, v in scores.items() if v is not None]
    return Part("classifier", title, html, found, facts)


def _score(metrics: dict, key: str) -> Any:
    """A headline score: under ``test`` or ``overall`` if there, else at the top level."""
    for scope in (metrics.get("test"), metrics.get("overall"), metrics):
        if isinstance(scope, Mapping) and isinstance(scope.get(key), (int, float)):
            return scope[key]
    return None


def _confusion(metrics: dict, plots: dict[str, pd.DataFrame]):
    """(matrix, labels) from classifier.json (nested list or tn/fp/fn/tp) or a plot file of pairs."""
    value = find_key(metrics, ("confusion_matrix", "confusion"))
    if isinstance(value, Mapping) and isinstance(value.get("matrix"), list):
        labels = value.get("labels") or list(range(len(value["matrix"])))
        return value["matrix"], [str(x) for x in labels]
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        return value, [str(i) for i in range(len(value))] if len(value) != 2 else ["no", "yes"]
    if isinstance(value, Mapping) and {"tn", "fp", "fn", "tp"} <= set(value):
        return [[value["tn"], value["fp"]], [value["fn"], value["tp"]]], ["no", "yes"]
    frame = plots.get("confusion") if plots else None
    if frame is not None and {"actual", "predicted"} <= set(frame.columns):
        labels = sorted(set(frame["actual"].astype(str)) | set(frame["predicted"].astype(str)))
        cross = pd.crosstab(frame["actual"].astype(str), frame["predicted"].astype(str))
        cross = cross.reindex(index=labels, columns=labels, fill_value=0)
        return cross.to_numpy().tolist(), labels
    return None


def conflibert(data: ReportData) -> Part:
    title = "Comparison with ConfliBERT"
    metrics = data.metrics.get("conflibert_comparison")
    if metrics is None:
        return Part("conflibert", title, missing(data, "conflibert_comparison"))
    found = {}
    records = _comparison_records(metrics)
    if records is not None:
        svg = _comparison_figure(records)
        if svg:
            found["conflibert_comparison"] = svg
    html = figure(found["conflibert_comparison"], "F1 of each model on each dataset.") if found else ""
    if records is not None:
        html += _comparison_table(records)
    return Part("conflibert", title, html + json_tables(metrics), found)


def _comparison_table(records: list[dict]) -> str:
    """Models as rows, datasets as columns: the comparison as one reads it in a paper."""
    frame = pd.DataFrame(records)
    if not {"dataset", "model", "f1"} <= set(frame.columns):
        return ""
    pivot = frame.pivot_table(index="model", columns="dataset", values="f1", aggfunc="first")
    pivot = pivot.sort_index().reindex(sorted(pivot.columns, key=str), axis=1)
    rows = [[model, *row] for model, row in zip(pivot.index, pivot.itertuples(index=False), strict=True)]
    return heading(3, "F1 by model and dataset") + table(["model", *map(str, pivot.columns)], rows)


def _comparison_records(metrics: dict) -> list[dict] | None:
    for value in [metrics, *metrics.values()]:
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            return value
    return None


def _comparison_figure(records: list[dict]) -> str | None:
    frame = pd.DataFrame(records)
    group = next((c for c in ("dataset", "task", "source") if c in frame.columns), None)
    series = next((c for c in ("model", "method", "system") if c in frame.columns), None)
    score = next((c for c in ("f1", "macro_f1", "F1") if c in frame.columns), None)
    if not (group and series and score):
        return None
    pivot = frame.pivot_table(index=group, columns=series, values=score, aggfunc="first").sort_index()
    pivot = pivot.reindex(sorted(pivot.columns, key=str), axis=1)
    return figs.grouped_bars(
        [str(g) for g in pivot.index],
        {str(c): pivot[c].fillna(0).tolist() for c in pivot.columns},
        "F1 by dataset",
        score,
    )


# ---------------------------------------------------------------- predictions


def predictions(data: ReportData) -> Part:
    title = "Conflict-event predictions by source"
    pred = data.predicted
    metrics = data.metrics.get("predictions")
    have_pages = pred is not None and pred.has("conflict_label")
    if metrics is None and not have_pages:
        return Part("predictions", title, missing(data, "predictions", "predicted"))
    html, found, facts = "", {}, []
    if metrics is not None:
        html += json_tables(metrics)
    if have_pages:
        frame = pred.read(["doc_id", "source", "conflict_prob", "conflict_label", "classified"])
        # Pages the model did not score (other language, stub, duplicate...) have a null flag:
        # shares are of the scored pages, never of all pages.
        scored = (
            frame["classified"].fillna(False).astype(bool)
            if "classified" in frame
            else frame["conflict_label"].notna()
        )
        frame = frame.assign(
            source=frame["source"].fillna("(none)").astype(str) if "source" in frame else "(none)",
            event=frame["conflict_label"].fillna(False).astype(bool),
            scored=scored,
        )
        agg = {"pages": ("doc_id", "size"), "scored": ("scored", "sum"), "conflict_events": ("event", "sum")}
        if "conflict_prob" in frame:
            agg["mean_prob"] = ("conflict_prob", "mean")
        stats = frame.groupby("source").agg(**agg).reset_index()
        stats["share_of_scored"] = stats["conflict_events"] / stats["scored"].where(stats["scored"] > 0)
        stats = stats.sort_values(["pages", "source"], ascending=[False, True])
        events, n_scored = int(frame["event"].sum()), int(frame["scored"].sum())
        html += table(None, [["pages", len(frame)], ["scored", n_scored], ["conflict events", events]])
        facts += [("pages scored by the classifier", n_scored), ("pages flagged as conflict events", events)]
        top = stats[stats["scored"] > 0].head(TOP_SOURCES)
        found["predictions_by_source"] = figs.bars(
            top["source"],
            top["share_of_scored"].fillna(0),
            "Share of scored pages flagged as conflict events",
            "share",
        )
        caption = "Conflict-event share of scored pages, largest sources."
        html += figure(found["predictions_by_source"], caption)
        html += table(list(stats.columns), list(stats.itertuples(index=False)))
    return Part("predictions", title, html, found, facts)


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
