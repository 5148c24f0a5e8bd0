"""How good is the conflict-event classifier, and on what? (stage ``evaluate``)

On the held-out test split: precision, recall, F1, ROC-AUC, PR-AUC, Brier, confusion matrix, the
same per source, the top weighted terms and a small sample of errors (short snippets only, the
texts are not ours to republish). Leave-one-source-out refits the selected pipeline without one
source (threshold chosen on the other sources' dev rows) and scores every row of the held-out
source: it shows whether the model learned conflict or a source's style. Curves go to DVC plot
files under ``reports/plots/classifier/``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from newsaudit.core.config import Section
from newsaudit.steps.classify.model import best_f1_threshold
from newsaudit.training.train import (
    TrainParams,
    binary_metrics,
    make_pipeline,
    top_weighted_terms,
)

log = logging.getLogger(__name__)


class EvaluateParams(Section):
    loso: bool = True
    error_samples: int = 10  # per error type (false positives, false negatives)
    snippet_chars: int = 120  # keep quoted text short: the sources' copyright is not ours
    curve_digits: int = 4
    calibration_bins: int = 10
    top_terms: int = 25


def per_source(test: pd.DataFrame, prob: np.ndarray, threshold: float) -> dict[str, Any]:
    out = {}
    for src in sorted(test["source"].unique()):
        mask = (test["source"] == src).to_numpy()
        out[src] = binary_metrics(test["conflict_event"].to_numpy()[mask], prob[mask], threshold)
    return out


def leave_one_source_out(
    labels: pd.DataFrame, c: float, params: TrainParams, decision_threshold: float | None = None
) -> dict[str, Any]:
    """Fit on the other sources' train rows, pick the threshold on their dev rows, score the held-out
    source's rows from every split (none were seen). One-class sources report FPR / recall only.

    With ``decision_threshold`` (the model's out-of-source threshold, decision-function space) the
    held-out source is also scored at it; optimistic, since that threshold saw this source's dev rows.
    """
    out = {}
    for src in sorted(labels["source"].unique()):
        rest = labels[labels["source"] != src]
        train, dev = rest[rest["split"] == "train"], rest[rest["split"] == "dev"]
        held = labels[labels["source"] == src]
        model = make_pipeline(params, c).fit(train["text"], train["conflict_event"])
        dev_prob = model.predict_proba(dev["text"])[:, 1]
        threshold, _ = best_f1_threshold(dev["conflict_event"].to_numpy(), dev_prob)
        prob = model.predict_proba(held["text"])[:, 1]
        metrics = binary_metrics(held["conflict_event"].to_numpy(), prob, threshold)
        metrics["threshold"] = threshold
        if decision_threshold is not None and np.isfinite(decision_threshold):
            flagged = (model.decision_function(held["text"]) >= decision_threshold).astype(float)
            at = binary_metrics(held["conflict_event"].to_numpy(), flagged, 0.5)
            metrics["at_model_loso_threshold"] = {
                k: at[k] for k in ("precision", "recall", "f1", "false_positive_rate")
            }
        out[src] = metrics
        log.info(
            "LOSO %s: F1=%s AP=%s FPR=%s",
            src,
            metrics["f1"],
            metrics["pr_auc"],
            metrics["false_positive_rate"],
        )
    return out


def error_sample(test: pd.DataFrame, prob: np.ndarray, threshold: float, n: int, chars: int) -> dict:
    """The most confident mistakes of each kind, with a short snippet for reading, not reuse."""
    frame = test.assign(prob=prob)
    fp = frame[(frame["conflict_event"] == 0) & (frame["prob"] >= threshold)].sort_values(
        ["prob", "source", "row"], ascending=[False, True, True], kind="stable"
    )
    fn = frame[(frame["conflict_event"] == 1) & (frame["prob"] < threshold)].sort_values(
        ["prob", "source", "row"], ascending=[True, True, True], kind="stable"
    )

    def rows(part: pd.DataFrame) -> list[dict[str, Any]]:
        return [
            {
                "source": r.source,
                "orig_split": r.orig_split,
                "row": int(r.row),
                "prob": float(r.prob),
                "snippet": " ".join(str(r.text).split())[:chars],
            }
            for r in part.head(n).itertuples()
        ]

    return {"false_positives": rows(fp), "false_negatives": rows(fn)}


def curves(y: np.ndarray, prob: np.ndarray, threshold: float, bins: int, digits: int) -> dict:
    fpr, tpr, _ = roc_curve(y, prob)
    precision, recall, _ = precision_recall_curve(y, prob)
    frac, mean_pred = calibration_curve(y, prob, n_bins=bins, strategy="quantile")
    pred = (prob >= threshold).astype(int)
    return {
        "roc": pd.DataFrame({"fpr": fpr, "tpr": tpr}).round(digits).drop_duplicates(),
        "pr": pd.DataFrame({"recall": recall, "precision": precision}).round(digits).drop_duplicates(),
        "calibration": pd.DataFrame({"mean_predicted": mean_pred, "fraction_positive": frac}).round(digits),
        "confusion": pd.DataFrame({"actual": y.astype(int), "predicted": pred}),
    }


def evaluate(labels: pd.DataFrame, bundle: dict[str, Any], train_params: TrainParams, params: EvaluateParams):
    """Everything but I/O. Returns (metrics dict, plot frames)."""
    model, threshold = bundle["model"], float(bundle["threshold"])
    test = labels[labels["split"] == "test"].reset_index(drop=True)
    y = test["conflict_event"].to_numpy()
    prob = model.predict_proba(test["text"])[:, 1]
    overall = binary_metrics(y, prob, threshold)
    c = float(model.calibrated_classifiers_[0].estimator.named_steps["clf"].C)
    metrics = {
        "threshold": threshold,
        "test": overall,
        "confusion_matrix": {
            "labels": [0, 1],
            "matrix": [
                [overall["confusion"]["tn"], overall["confusion"]["fp"]],
                [overall["confusion"]["fn"], overall["confusion"]["tp"]],
            ],
        },
        "per_source": per_source(test, prob, threshold),
        "top_terms": top_weighted_terms(model, params.top_terms),
        "errors": error_sample(test, prob, threshold, params.error_samples, params.snippet_chars),
    }
    if params.loso:
        loso = leave_one_source_out(labels, c, train_params, bundle.get("decision_threshold"))
        two_class = [m["pr_auc"] for m in loso.values() if m["pr_auc"] is not None]
        metrics["leave_one_source_out"] = {
            "per_source": loso,
            "mean_pr_auc_two_class_sources": float(np.mean(two_class)) if two_class else None,
        }
    plots = curves(y, prob, threshold, params.calibration_bins, params.curve_digits)
    return metrics, plots
