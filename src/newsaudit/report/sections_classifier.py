"""Report section on conflict events: the pages flagged in the corpus, the classifier's evaluation
as pictures (precision-recall, calibration), and folded, the details of its evaluation, the
ConfliBERT comparison and its training labels (stages ``classify``, ``evaluate``, ``train``,
``labels``, ``conflibert-benchmark``)."""

from __future__ import annotations

import pandas as pd

from newsaudit.report import figures as figs
from newsaudit.report.examples import threshold_of
from newsaudit.report.findings import num, pct
from newsaudit.report.html import clip, folded, note, table
from newsaudit.report.part import TOP_FLAGGED, Part, View, curve, figure, figure_row, missing


def classifier(view: View) -> Part:
    title = "Conflict events"
    s = view.summary
    found: dict[str, str] = {}
    html = ""
    if s is not None and view.ran("classify"):
        html += _flagged(view, found)
    elif view.data.pipeline:
        html += missing(view.data, "classify")
    else:
        html += note("The classifier did not run on this corpus (see the alerts above).")
    if view.data.pipeline:
        html += _evaluation(view, found)
    return Part("classifier", title, html, found)


def _flagged(view: View, found: dict[str, str]) -> str:
    s, f = view.summary, view.facts.frame
    rate = pct(s.flagged / s.scored) if s.scored else "n/a"
    html = note(
        f"{num(s.flagged)} of {num(s.scored)} scored pages ({rate}) are flagged as reporting a conflict "
        "event (an attack, a killing, a clash); pages the model cannot read fairly are not scored."
    )
    flagged = f[f["flagged"]].sort_values(["prob", "doc_id"], ascending=[False, True], kind="stable")
    top = flagged.head(TOP_FLAGGED)
    if len(top):
        texts = view.data.pages.read(["doc_id", "clean_text"], doc_ids=top["doc_id"].tolist())
        start = dict(zip(texts["doc_id"], texts["clean_text"], strict=True)) if "clean_text" in texts else {}
        rows = [
            [
                r["prob"],
                r["source"],
                r["terms"],
                clip(" ".join(str(start.get(r["doc_id"]) or "").split()), 110),
            ]
            for _, r in top.iterrows()
        ]
        label = f"The {len(top)} highest-scored flagged pages" if len(flagged) > len(top) else "Flagged pages"
        columns = ["score", "source", "top terms", "text"]
        html += f"<h3>{label}</h3>" + table(columns, rows, widths=["4.5rem", "11rem", "17rem", ""])
    scored = f.loc[f["scored"], "prob"].dropna()
    t = threshold_of(view.facts, view.metric("train", "threshold"))
    found["conflict_scores"] = figs.histogram(
        scored, "Scores of the scored pages", "conflict probability", bins=25, vline=t, log=True
    )
    caption = "Most pages score near 0; the dashed line is the decision threshold."
    if not view.data.pipeline:
        html += figure(found["conflict_scores"], caption)
    else:
        html += folded("Scores of every scored page", figure(found["conflict_scores"], caption))
    return html


def _evaluation(view: View, found: dict[str, str]) -> str:
    """The held-out evaluation: a sentence, PR and calibration figures, the rest folded."""
    m = view.data.metrics.get("classifier")
    if m is None:
        return missing(view.data, "classifier")
    plots = view.data.plots
    test = {k: view.metric("classifier", f"test.{k}") for k in ("f1", "precision", "recall", "pr_auc")}
    line = "On the held-out test split of the labelled news: " + ", ".join(
        f"{k.replace('_', '-').upper() if k == 'pr_auc' else k} {v:.3f}"
        for k, v in test.items()
        if v is not None
    )
    loso = view.metric("classifier", "leave_one_source_out.mean_pr_auc_two_class_sources")
    if loso is not None:
        line += f"; trained without a source and tested on it, mean PR-AUC {loso:.3f}"
    html = f"<h3>How well the classifier does</h3>{note(line + '.')}"
    items = []
    pr = curve(plots, ("pr", "precision_recall", "pr_curve"), ("recall",), ("precision",))
    if pr:
        found["pr"] = figs.lines(pr, "Precision-recall (test)", "recall", "precision")
        items.append(
            (found["pr"], "Precision against recall as the threshold moves: up and right is better.")
        )
    calibration = curve(plots, ("calibration",), ("mean_predicted",), ("fraction_positive",))
    if calibration:
        found["calibration"] = figs.lines(
            calibration,
            "Calibration (test)",
            "mean predicted probability",
            "fraction positive",
            diagonal=True,
        )
        items.append(
            (found["calibration"], "On the diagonal, a score of 0.3 means 30% of such texts are events.")
        )
    if items:
        html += figure_row(*items)
    return (
        html + folded("Evaluation details", _details(view, found)) + _conflibert(view, found) + _labels(view)
    )


def _details(view: View, found: dict[str, str]) -> str:
    plots, items = view.data.plots, []
    matrix = _confusion(plots)
    if matrix is not None:
        found["confusion_matrix"] = figs.confusion(matrix[0], matrix[1], "Confusion matrix (test)")
        items.append((found["confusion_matrix"], "Rows: actual label; columns: predicted label."))
    roc = curve(plots, ("roc", "roc_curve"), ("fpr",), ("tpr",))
    if roc:
        found["roc"] = figs.lines(
            roc, "ROC curve (test)", "false positive rate", "true positive rate", diagonal=True
        )
        items.append((found["roc"], "True against false positive rate."))
    html = figure_row(*items) if items else ""
    test = {k: v for k, v in (view.data.metrics.get("classifier") or {}).get("test", {}).items()}
    if test:
        html += table(list(test), [list(test.values())])
    for name, label in (
        ("per_source", "Per source (test split)"),
        ("leave_one_source_out", "Each source held out of training"),
        ("errors", "Errors on the test split"),
        ("top_terms", "Terms with the largest weights"),
    ):
        frame = view.data.table("classifier", name)
        if frame is not None and len(frame):
            html += f"<h4>{label}</h4>" + table(list(frame.columns), list(frame.itertuples(index=False)))
    return html


def _confusion(plots: dict[str, pd.DataFrame]):
    """(matrix, labels) from the evaluate stage's (actual, predicted) pairs."""
    frame = plots.get("confusion") if plots else None
    if frame is None or not {"actual", "predicted"} <= set(frame.columns):
        return None
    labels = sorted(set(frame["actual"].astype(str)) | set(frame["predicted"].astype(str)))
    cross = pd.crosstab(frame["actual"].astype(str), frame["predicted"].astype(str))
    cross = cross.reindex(index=labels, columns=labels, fill_value=0)
    names = ["no event", "event"] if labels == ["0", "1"] else labels
    return cross.to_numpy().tolist(), names


def _conflibert(view: View, found: dict[str, str]) -> str:
    records = view.data.table("conflibert_benchmark", "records")
    if records is None:
        return missing(view.data, "conflibert_benchmark")
    if not {"dataset", "model", "f1"} <= set(records.columns) or records.empty:
        return ""
    pivot = records.pivot_table(index="dataset", columns="model", values="f1", aggfunc="first").sort_index()
    pivot = pivot.reindex(sorted(pivot.columns, key=str), axis=1)
    found["conflibert_comparison"] = figs.grouped_bars(
        [str(g) for g in pivot.index],
        {str(c): pivot[c].fillna(0).tolist() for c in pivot.columns},
        "F1 by dataset",
        "F1",
    )
    by_model = pivot.T
    rows = [
        [model, *row] for model, row in zip(by_model.index, by_model.itertuples(index=False), strict=True)
    ]
    body = figure(found["conflibert_comparison"], "F1 of our TF-IDF baseline and the published models.")
    body += table(["model", *map(str, by_model.columns)], rows)
    return folded("Comparison with ConfliBERT on its own tasks", body)


def _labels(view: View) -> str:
    rows = [
        ["labelled texts", view.metric("labels", "rows")],
        ["of which conflict events", view.metric("labels", "positives")],
        ["duplicate groups that straddled splits", view.metric("labels", "leakage.groups_straddling_splits")],
        ["regularisation C chosen", view.metric("train", "selected_C")],
        ["decision threshold", view.metric("train", "threshold")],
        ["vocabulary", view.metric("train", "vocabulary_size")],
    ]
    rows = [r for r in rows if r[1] is not None]
    if not rows:
        return ""
    body = table(None, rows)
    counts = view.data.table("labels", "by_source_split")
    if counts is not None and {"source", "split", "outcome", "rows"} <= set(counts.columns):
        pivot = counts.pivot_table(index=["source", "split"], columns="outcome", values="rows", aggfunc="sum")
        pivot = pivot.fillna(0).astype(int).reset_index()
        body += table(list(pivot.columns), list(pivot.itertuples(index=False)))
    return folded("Training labels and training", body)
