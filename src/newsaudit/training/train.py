"""The conflict-event classifier (stage ``train``).

The recipe (:mod:`newsaudit.training.recipe`): word (and optional character) TF-IDF over
normalised text and an L2 logistic regression, trained on the ConfliBERT-derived labels plus
general web text (``web_negatives``), with ``C`` chosen by leave-one-source-out average precision
(``selection: loso``) and the decision threshold chosen by a stated rule on out-of-source scores
(``threshold_rule``, see :mod:`newsaudit.training.recipe`). The fitted pieces become a plain
scikit-learn pipeline (vectorisers given the evaluated vocabulary and idf), calibrated on the dev
split (sigmoid by default) with ``CalibratedClassifierCV`` over the frozen pipeline, and saved with
skops together with its threshold, plus a model card. Every fit runs with BLAS/OpenMP pinned to one
thread (:func:`one_thread`), so results do not depend on the machine's core count; wall-clock time
goes to an untracked timings file, never to the card or the metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, roc_auc_score
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError
from newsaudit.steps.classify.model import plain_vocabularies
from newsaudit.training import recipe
from newsaudit.training.features import CountViews

log = logging.getLogger(__name__)

BUNDLE_FORMAT = 2


class TrainParams(Section):
    seed: int = 13
    normalise: bool = True  # lower-case, fold accents, digits -> 0, punctuation -> space
    lead_chars: int | None = 2500  # features from the first characters of a text only (None: all)
    word_ngram_max: int = 2
    min_df: int = 2
    word_max_features: int | None = 200_000
    char_ngrams: bool = True
    char_ngram_min: int = 3
    char_ngram_max: int = 5
    char_max_features: int | None = 200_000
    vocab_min_sources: int = 3  # keep terms found in at least this many training sources (0 = all)
    c_grid: list[float] = [16.0]
    class_weight: Literal["balanced"] | None = "balanced"
    # loso: mean average precision over sources scored out-of-source; dev: AP on the dev split
    selection: Literal["dev", "loso"] = "loso"
    web_negatives: Literal["none", "screened", "all", "pu"] = "screened"
    web_weight: float = 1.0
    pu_folds: int = 3
    pu_decision: float = 0.0
    calibration: Literal["sigmoid", "isotonic"] = "sigmoid"
    # precision: see newsaudit.training.recipe; best_f1: best pooled F1 out-of-source; dev_best_f1:
    # best F1 on the in-domain dev split (what the model was first shipped with).
    threshold_rule: Literal["precision", "best_f1", "dev_best_f1"] = "precision"
    min_precision: float = 0.9
    max_fpr: float = 0.01
    min_flagged: int = 20  # precision is judged where at least this many of a source's texts are flagged


@contextmanager
def one_thread() -> Iterator[None]:
    """BLAS and OpenMP pinned to one thread: sums in the same order on any machine (same bytes)."""
    with threadpool_limits(limits=1):
        yield


# --- pure pieces -------------------------------------------------------------------------------


def split_frame(labels: pd.DataFrame, split: str) -> pd.DataFrame:
    part = labels[labels["split"] == split]
    if part.empty or part["conflict_event"].nunique() < 2:
        raise NewsauditError(f"labels: split '{split}' is empty or has one class; check the labels stage")
    return part


def assemble_pipeline(model: recipe.Fitted) -> Pipeline:
    """A plain scikit-learn pipeline equal to ``model``: vectorisers with its vocabulary and idf."""
    parts = []
    for view, vocab, idf in zip(
        model.fold.views, model.fold.vocabularies().values(), model.fold.idf, strict=True
    ):
        vec = view.spec.vectorizer(vocab)
        vec.idf_ = idf.astype(np.float32)  # also fixes vocabulary_ from the vocabulary parameter
        # Then the vectoriser looks as if fitted: the vocabulary lives in vocabulary_ only (stored
        # once in the model file, not twice).
        vec.vocabulary = None
        parts.append((view.spec.name, vec))
    return plain_vocabularies(Pipeline([("features", FeatureUnion(parts)), ("clf", model.clf)]))


def calibrate(pipe: Pipeline, dev: pd.DataFrame, method: str) -> CalibratedClassifierCV:
    """Probabilities fitted on the dev split, which the pipeline has not seen (threshold unchanged)."""
    return CalibratedClassifierCV(FrozenEstimator(pipe), method=method).fit(
        dev["text"], dev["conflict_event"]
    )


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


def binary_metrics(y: np.ndarray, prob: np.ndarray, threshold: float, brier: bool = True) -> dict[str, Any]:
    """Counts and scores at ``threshold``; ``brier=False`` for scores that are not probabilities."""
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
        "brier": brier_score_loss(y, prob) if len(y) and brier else None,
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def views_for(frame: pd.DataFrame, params: TrainParams) -> CountViews:
    return CountViews(frame["text"].tolist(), recipe.view_specs(params), params.min_df)


def out_of_source_summary(oos: pd.DataFrame, decision: float) -> dict[str, dict[str, Any]]:
    """Per source scored out-of-source: precision, recall, FPR at the chosen decision threshold."""
    out = {}
    for src, g in oos.groupby("source", sort=True):
        m = binary_metrics(g["y"].to_numpy(), g["decision"].to_numpy(), decision, brier=False)
        out[src] = {k: m[k] for k in ("n", "positives", "precision", "recall", "false_positive_rate")}
    return out


def train_model(labels: pd.DataFrame, params: TrainParams) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the recipe on the train and dev splits, assemble and calibrate. Returns (bundle, summary)."""
    with one_thread():
        split_frame(labels, "train")
        frame = recipe.training_frame(labels[labels["split"].isin(["train", "dev"])], params)
        dev = split_frame(frame[frame["origin"] != "web"], "dev")
        rows = np.arange(len(frame))
        views = views_for(frame, params)
        done = recipe.run(views, frame, rows, params)
        pipe = assemble_pipeline(done.model)
        model = calibrate(pipe, dev, params.calibration)
        decision = float(done.rule["decision"])
        threshold = calibrated_at(model, decision)
        dev_prob = model.predict_proba(dev["text"])[:, 1]
    origin = frame["origin"].to_numpy()[done.train_rows]
    bundle = {
        "format": BUNDLE_FORMAT,
        "model": model,
        "threshold": float(threshold),
        "decision_threshold": decision,
        "language": "en",
        "params": params.model_dump_json(),
    }
    summary = {
        "selected_C": done.c,
        "selection": params.selection,
        "selection_scores": done.selection_scores,
        "threshold": threshold,
        "decision_threshold": decision,
        "threshold_rule": {k: v for k, v in done.rule.items()},
        "out_of_source_at_threshold": out_of_source_summary(done.oos, decision),
        "train_rows": len(done.train_rows),
        "train_positives": int(frame["conflict_event"].to_numpy()[done.train_rows].sum()),
        "train_web_rows": int((origin == "web").sum()),
        "web_rows_dropped_as_possible_positives": int(
            (frame["origin"] == "web").sum() - (origin == "web").sum()
        )
        if params.web_negatives == "pu"
        else 0,
        "dev": binary_metrics(dev["conflict_event"].to_numpy(), dev_prob, threshold),
        "vocabulary_size": done.model.fold.n_features,
    }
    return bundle, summary


def _threshold_text(params: TrainParams) -> str:
    if params.threshold_rule == "precision":
        return (
            f"the lowest decision value above which every source scored by a model that never saw it "
            f"keeps precision >= {params.min_precision:g} (sources with conflict events) and false-positive "
            f"rate <= {params.max_fpr:g} (BBC and the web pool: general news and web text)"
        )
    if params.threshold_rule == "best_f1":
        return "best pooled F1 over sources scored by models that never saw them"
    return "best F1 on the in-domain dev split"


def model_card(
    summary: dict[str, Any],
    params: TrainParams,
    label_params: dict[str, Any],
    label_report: dict[str, Any] | None,
) -> str:
    """The model card. No wall-clock time in it: the card is a DVC output whose hash must not drift."""
    dev = summary["dev"]
    views = f"word 1–{params.word_ngram_max}-grams" + (
        f" + char_wb {params.char_ngram_min}–{params.char_ngram_max}-grams" if params.char_ngrams else ""
    )
    lines = [
        "# Model card: conflict-event classifier (`models/conflict_clf.skops`)",
        "",
        "**Task.** Binary: does an English news text report a specific incident of organised armed "
        "conflict or political violence (ACLED-like violent event types)?",
        "",
        "**Model.** TF-IDF over "
        + (
            "normalised text (lower-cased, accents folded, digits → 0, punctuation removed)"
            if params.normalise
            else "lower-cased text"
        )
        + f"; {views}"
        + (
            f", terms found in at least {params.vocab_min_sources} training sources"
            if params.vocab_min_sources > 1
            else ""
        )
        + f"; logistic regression (C={summary['selected_C']:g}, class_weight={params.class_weight}), "
        f"{params.calibration} calibration on the dev split; decision threshold {summary['threshold']:.4f} "
        f"(decision value {summary['decision_threshold']:.4f}): {_threshold_text(params)}.",
        "",
        "**Data.** `data/processed/labels.parquet`: the ConfliBERT evaluation sets (satp_all, "
        "IndiaPoliceEvents_docs, insightCrime, BBC_News) with labels derived by rules (below), plus "
        "general web text from the boilerplate benchmarks' gold texts "
        f"(web_negatives: {params.web_negatives}, never a text of the web-news dev set); "
        f"{summary['train_rows']} training rows, {summary['train_positives']} positive, "
        f"{summary['train_web_rows']} web.",
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
    ]
    if summary["selection_scores"]:
        lines += [
            f"**Model selection** ({summary['selection']}, average precision): "
            + ", ".join(f"C={k}: {v:.4f}" for k, v in summary["selection_scores"].items()),
            "",
        ]
    lines += [
        f"**Dev metrics** (in-domain, n={dev['n']}): precision {dev['precision']:.3f}, "
        f"recall {dev['recall']:.3f}, "
        f"F1 {dev['f1']:.3f}, ROC-AUC {dev['roc_auc']:.3f}, PR-AUC {dev['pr_auc']:.3f}, "
        f"Brier {dev['brier']:.4f}. Leave-one-source-out, the web-news dev set and the test split: "
        "`reports/metrics/classifier.json` (stage `evaluate`).",
        "",
        "**Limits.** English only. The positives come from three South-Asian/Latin-American "
        "sources, so the model may partly learn source topics; read the leave-one-source-out section "
        "of the metrics before trusting it on a new source. Probabilities are calibrated on in-domain "
        "dev rows (about a third conflict events): on a crawl with few conflict events they overstate "
        "the chance that a flagged page is one. Texts that mention violence without reporting an "
        "incident (opinion, history) are the least reliable region.",
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
