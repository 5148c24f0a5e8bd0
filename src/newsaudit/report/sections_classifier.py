"""Report sections on the conflict-event classifier: evaluation, the ConfliBERT comparison and the
predictions on the corpus (stages ``labels``, ``train``, ``evaluate``, ``conflibert-benchmark``,
``classify``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from newsaudit.core import paths
from newsaudit.report import figures as figs
from newsaudit.report.data import ReportData
from newsaudit.report.html import heading, json_tables, table
from newsaudit.report.part import TOP_SOURCES, Part, curve, figure, find_key, missing


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
    roc = curve(data.plots, ("roc", "roc_curve"), ("fpr",), ("tpr",))
    if roc:
        found["roc"] = figs.lines(
            roc, "ROC curve", "false positive rate", "true positive rate", diagonal=True
        )
        html += figure(found["roc"], "ROC curve on the held-out test set.")
    pr = curve(data.plots, ("pr", "precision_recall", "pr_curve"), ("recall",), ("precision",))
    if pr:
        found["pr"] = figs.lines(pr, "Precision-recall curve", "recall", "precision")
        html += figure(found["pr"], "Precision-recall curve on the held-out test set.")
    calibration = curve(data.plots, ("calibration",), ("mean_predicted",), ("fraction_positive",))
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
    metrics = data.metrics.get("conflibert_benchmark")
    if metrics is None:
        return Part("conflibert", title, missing(data, "conflibert_benchmark"))
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
    metrics = data.metrics.get("classify")
    have_pages = pred is not None and pred.has("conflict_label")
    if metrics is None and not have_pages:
        return Part("predictions", title, missing(data, "classify", paths.PAGES_FINAL))
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
