"""The conflict-event classifier (stage ``train``).

A scikit-learn ``Pipeline`` (word and optional character TF-IDF over normalised text, logistic
regression) whose regularisation ``C`` is chosen on the dev split (or by leave-one-source-out on
train, ``train.selection: loso``), wrapped in ``CalibratedClassifierCV`` so probabilities mean
something, with the decision threshold chosen on dev for the best F1. The model is saved with skops
together with its threshold, plus a model card. Training time goes to the card only: it changes
from run to run and would make the metrics JSON non-reproducible.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError
from newsaudit.steps.classify.model import (
    best_f1_threshold,
    build_features,
    build_pipeline,
    plain_vocabularies,
)

log = logging.getLogger(__name__)

BUNDLE_FORMAT = 1


class TrainParams(Section):
    seed: int = 13
    word_ngram_max: int = 2
    min_df: int = 2
    word_max_features: int | None = 200_000
    char_ngrams: bool = False
    char_ngram_min: int = 3
    char_ngram_max: int = 5
    char_max_features: int | None = 200_000
    c_grid: list[float] = [1.0, 4.0, 16.0]
    class_weight: Literal["balanced"] | None = "balanced"
    selection: Literal["dev", "loso"] = "dev"
    calibration: Literal["sigmoid", "isotonic"] = "sigmoid"
    calibration_folds: int = 5
    # ``dev``: threshold with the best F1 on dev. ``loso_dev``: threshold (in decision-function
    # space, mapped through the final calibrator) with the best F1 on each source's dev rows scored
    # by a model trained without that source: a threshold for sources the model has not seen.
    threshold_source: Literal["dev", "loso_dev"] = "loso_dev"


# --- pure pieces -------------------------------------------------------------------------------


def make_pipeline(params: TrainParams, c: float) -> Pipeline:
    features = build_features(
        params.word_ngram_max,
        params.min_df,
        params.word_max_features,
        params.char_ngrams,
        params.char_ngram_min,
        params.char_ngram_max,
        params.char_max_features,
    )
    return build_pipeline(features, c, params.class_weight, params.seed)


def split_frame(labels: pd.DataFrame, split: str) -> pd.DataFrame:
    part = labels[labels["split"] == split]
    if part.empty or part["conflict_event"].nunique() < 2:
        raise NewsauditError(f"labels: split '{split}' is empty or has one class; check the labels stage")
    return part


def select_c(train: pd.DataFrame, dev: pd.DataFrame, params: TrainParams) -> tuple[float, dict[str, float]]:
    """Pick ``C`` by average precision on dev, or by mean AP over held-out sources (``loso``)."""
    scores: dict[str, float] = {}
    for c in params.c_grid:
        if params.selection == "dev":
            model = make_pipeline(params, c).fit(train["text"], train["conflict_event"])
            score = average_precision_score(dev["conflict_event"], model.decision_function(dev["text"]))
        else:
            per_source = []
            for src in sorted(train["source"].unique()):
                held = train[train["source"] == src]
                if held["conflict_event"].nunique() < 2:
                    continue  # AP is undefined on a one-class source
                rest = train[train["source"] != src]
                model = make_pipeline(params, c).fit(rest["text"], rest["conflict_event"])
                per_source.append(
                    average_precision_score(held["conflict_event"], model.decision_function(held["text"]))
                )
            score = float(np.mean(per_source))
        scores[f"{c:g}"] = float(score)
        log.info("C=%g: %s score %.4f", c, params.selection, score)
    # Ties go to the smaller C (stronger regularisation generalises better).
    best = max(params.c_grid, key=lambda c: (round(scores[f"{c:g}"], 6), -c))
    return best, scores


def fit_calibrated(train: pd.DataFrame, params: TrainParams, c: float) -> CalibratedClassifierCV:
    folds = StratifiedKFold(params.calibration_folds, shuffle=True, random_state=params.seed)
    model = CalibratedClassifierCV(
        make_pipeline(params, c), method=params.calibration, cv=folds, ensemble=False
    ).fit(train["text"], train["conflict_event"])
    for calibrated in model.calibrated_classifiers_:
        plain_vocabularies(calibrated.estimator)
    return model


def loso_decision_threshold(train: pd.DataFrame, dev: pd.DataFrame, params: TrainParams, c: float):
    """Best-F1 decision-function threshold over out-of-source dev predictions. Returns (t, F1)."""
    scores, ys = [], []
    for src in sorted(train["source"].unique()):
        rest, held = train[train["source"] != src], dev[dev["source"] == src]
        if held.empty or rest["conflict_event"].nunique() < 2:
            continue
        model = make_pipeline(params, c).fit(rest["text"], rest["conflict_event"])
        scores.append(model.decision_function(held["text"]))
        ys.append(held["conflict_event"].to_numpy())
    return best_f1_threshold(np.concatenate(ys), np.concatenate(scores))


def calibrated_at(model: CalibratedClassifierCV, decision: float) -> float:
    """Probability the calibrated model gives to a text whose base decision value is ``decision``."""
    calibrated = model.calibrated_classifiers_[0]
    return float(calibrated.calibrators[0].predict(np.array([decision]))[0])


def base_pipeline(model: CalibratedClassifierCV) -> Pipeline:
    """The fitted TF-IDF + logistic regression inside the calibrated wrapper (refit on all train)."""
    return model.calibrated_classifiers_[0].estimator


def feature_names(pipe: Pipeline) -> np.ndarray:
    return np.asarray(pipe.named_steps["features"].get_feature_names_out())


def top_weighted_terms(model: CalibratedClassifierCV, k: int) -> dict[str, list[list[Any]]]:
    pipe = base_pipeline(model)
    coef = pipe.named_steps["clf"].coef_.ravel()
    names = feature_names(pipe)
    order = np.argsort(coef, kind="stable")
    return {
        "conflict": [[str(names[i]), float(coef[i])] for i in order[::-1][:k]],
        "not_conflict": [[str(names[i]), float(coef[i])] for i in order[:k]],
    }


def binary_metrics(y: np.ndarray, prob: np.ndarray, threshold: float) -> dict[str, Any]:
    y = np.asarray(y).astype(int)
    pred = (np.asarray(prob) >= threshold).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    both = len(np.unique(y)) == 2
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else None,
        "f1": f1_score(y, pred, zero_division=0.0) if y.sum() else None,
        "accuracy": (tp + tn) / len(y) if len(y) else None,
        "false_positive_rate": fp / (fp + tn) if fp + tn else None,
        "roc_auc": roc_auc_score(y, prob) if both else None,
        "pr_auc": average_precision_score(y, prob) if both else None,
        "brier": brier_score_loss(y, prob) if len(y) else None,
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def train_model(labels: pd.DataFrame, params: TrainParams) -> tuple[dict[str, Any], dict[str, Any]]:
    """Select C, fit calibrated model on train, choose threshold on dev. Returns (bundle, summary)."""
    train = split_frame(labels, "train")
    dev = split_frame(labels, "dev")
    c, scores = select_c(train, dev, params)
    model = fit_calibrated(train, params, c)
    dev_prob = model.predict_proba(dev["text"])[:, 1]
    dev_threshold, _ = best_f1_threshold(dev["conflict_event"].to_numpy(), dev_prob)
    thresholds = {"dev": dev_threshold}
    if params.threshold_source == "loso_dev":
        decision, loso_f1 = loso_decision_threshold(train, dev, params, c)
        thresholds.update(
            loso_dev=calibrated_at(model, decision), loso_dev_decision=decision, loso_dev_pooled_f1=loso_f1
        )
    threshold = thresholds[params.threshold_source]
    bundle = {
        "format": BUNDLE_FORMAT,
        "model": model,
        "threshold": float(threshold),
        "language": "en",
        "params": params.model_dump_json(),
        "decision_threshold": float(thresholds.get("loso_dev_decision", float("nan"))),
    }
    summary = {
        "selected_C": c,
        "selection": params.selection,
        "selection_scores": scores,
        "threshold": threshold,
        "threshold_candidates": thresholds,
        "dev_at_dev_threshold": binary_metrics(dev["conflict_event"].to_numpy(), dev_prob, dev_threshold),
        "train_rows": len(train),
        "train_positives": int(train["conflict_event"].sum()),
        "dev": binary_metrics(dev["conflict_event"].to_numpy(), dev_prob, threshold),
        "vocabulary_size": len(feature_names(base_pipeline(model))),
    }
    return bundle, summary


def model_card(
    summary: dict[str, Any],
    params: TrainParams,
    label_params: dict[str, Any],
    label_report: dict[str, Any] | None,
    seconds: float,
) -> str:
    dev = summary["dev"]
    lines = [
        "# Model card: conflict-event classifier (`models/conflict_clf.skops`)",
        "",
        "**Task.** Binary: does an English news text report a specific incident of organised armed "
        "conflict or political violence (ACLED-like violent event types)?",
        "",
        "**Model.** TF-IDF over normalised text (lower-cased, accents folded, digits → 0, "
        f"punctuation removed); word 1–{params.word_ngram_max}-grams"
        + (f" + char_wb {params.char_ngram_min}–{params.char_ngram_max}-grams" if params.char_ngrams else "")
        + f"; logistic regression (C={summary['selected_C']:g}, class_weight={params.class_weight}), "
        f"{params.calibration} calibration with {params.calibration_folds}-fold CV on train; "
        f"decision threshold {summary['threshold']:.4f} ({params.threshold_source}: "
        + (
            "best F1 on dev"
            if params.threshold_source == "dev"
            else "best F1 on each source's dev rows scored by a model trained without that source"
        )
        + ").",
        "",
        "**Data.** `data/processed/labels.parquet` from the ConfliBERT evaluation sets "
        "(satp_all, IndiaPoliceEvents_docs, insightCrime, BBC_News), labels derived by rules "
        f"(below); {summary['train_rows']} training rows, {summary['train_positives']} positive.",
        "",
        "**Label rules** (`params.yaml`, section `labels`):",
        "",
        "```yaml",
        yaml.safe_dump(label_params, sort_keys=True, width=100).rstrip(),
        "```",
        "",
    ]
    if label_report:
        lines += [
            "**Leakage handling.** "
            + yaml.safe_dump(
                label_report.get("leakage", {}), sort_keys=True, default_flow_style=True
            ).strip(),
            "",
        ]
    lines += [
        "**Training parameters** (`params.yaml`, section `train`):",
        "",
        "```yaml",
        yaml.safe_dump(params.model_dump(), sort_keys=True).rstrip(),
        "```",
        "",
        f"**Model selection** ({summary['selection']}, average precision): "
        + ", ".join(f"C={k}: {v:.4f}" for k, v in summary["selection_scores"].items()),
        "",
        f"**Dev metrics** (n={dev['n']}): precision {dev['precision']:.3f}, recall {dev['recall']:.3f}, "
        f"F1 {dev['f1']:.3f}, ROC-AUC {dev['roc_auc']:.3f}, PR-AUC {dev['pr_auc']:.3f}, "
        f"Brier {dev['brier']:.4f}. Test, per-source and leave-one-source-out figures: "
        "`reports/metrics/classifier.json` (stage `evaluate`).",
        "",
        f"**Training time:** {seconds:.1f} s on this machine (selection + calibrated fit).",
        "",
        "**Limits.** English only. The positives come from three South-Asian/Latin-American "
        "sources and the negatives partly from 2004–05 BBC news, so the model may partly learn "
        "source topics; read the leave-one-source-out section of the metrics before trusting it "
        "on a new source. Negative candidates mentioning violence were left out of training, so "
        "texts that mention violence without reporting an incident (opinion, history) are the "
        "least reliable region.",
        "",
        "Load with `newsaudit.steps.classify.model.load_model` (skops, restricted to known types).",
    ]
    return "\n".join(lines) + "\n"


# --- I/O -----------------------------------------------------------------------------------------


def read_labels(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise NewsauditError(f"{path}: labels not found (run `newsaudit labels` first)")
    return pd.read_parquet(path)
