"""Shared pieces of the conflict-event classifier: text normalisation, the model pipeline,
skops persistence, metrics and deterministic JSON.

Kept free of I/O side effects except the explicit save/load/write helpers so the stage modules
(``labels``, ``train``, ``evaluate``, ``predict``) and the tests can share them.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from newsaudit.core.errors import NewsauditError
from newsaudit.lib.archive import canonical_skops

FLOAT_DIGITS = 6

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGIT = re.compile(r"[0-9]")


def normalise_text(text: str) -> str:
    """Lower-case, fold accents, map digits to 0 and punctuation to space.

    The training sources differ in surface style (SATP has no punctuation, BBC and
    IndiaPoliceEvents are lower-cased, InSight Crime is cased prose). Removing those differences
    keeps the model from learning the source's typography instead of the event.
    """
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii").lower()
    text = _DIGIT.sub("0", text)
    return _NON_ALNUM.sub(" ", text).strip()


class LeadText:
    """Preprocessor: the first ``max_chars`` characters of a text, normalised (``normalise_text``)
    or only lower-cased.

    A news article says what happened in its lead; the rest is background, reactions and (on web
    pages) comments and boilerplate. Reading only the lead keeps a long article's incident from
    being diluted by that rest (TF-IDF rows are L2-normalised) and matches how the web-news dev set
    was labelled (readers decided on the first ~2,500 characters).
    """

    def __init__(self, max_chars: int, normalise: bool = True):
        self.max_chars = max_chars
        self.normalise = normalise

    def __call__(self, text: str) -> str:
        head = (text or "")[: self.max_chars]
        return normalise_text(head) if self.normalise else head.lower()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LeadText) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((self.max_chars, self.normalise))

    def __repr__(self) -> str:
        return f"LeadText(max_chars={self.max_chars}, normalise={self.normalise})"


def preprocessor(normalise: bool, max_chars: int | None):
    """The text preprocessor of a vectoriser: ``None`` means scikit-learn's (lower-casing only)."""
    if max_chars:
        return LeadText(max_chars, normalise)
    return normalise_text if normalise else None


def build_features(
    word_ngram_max: int,
    word_min_df: int,
    word_max_features: int | None,
    char_ngrams: bool,
    char_ngram_min: int,
    char_ngram_max: int,
    char_max_features: int | None,
) -> FeatureUnion:
    """Word (and optional character) TF-IDF over normalised text, sublinear tf (long articles)."""
    parts: list[tuple[str, Any]] = [
        (
            "word",
            TfidfVectorizer(
                preprocessor=normalise_text,
                ngram_range=(1, word_ngram_max),
                min_df=word_min_df,
                max_features=word_max_features,
                sublinear_tf=True,
                dtype=np.float32,
            ),
        )
    ]
    if char_ngrams:
        parts.append(
            (
                "char",
                TfidfVectorizer(
                    preprocessor=normalise_text,
                    analyzer="char_wb",
                    ngram_range=(char_ngram_min, char_ngram_max),
                    min_df=word_min_df,
                    max_features=char_max_features,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            )
        )
    return FeatureUnion(parts)


def build_pipeline(features: FeatureUnion, c: float, class_weight: str | None, seed: int) -> Pipeline:
    """TF-IDF features followed by an L2 logistic regression (probabilistic, inspectable weights)."""
    clf = LogisticRegression(
        C=c, class_weight=class_weight, max_iter=2000, solver="liblinear", random_state=seed
    )
    return Pipeline([("features", features), ("clf", clf)])


# --- persistence -----------------------------------------------------------------------------

# Types in a saved bundle that skops does not trust by default: our text normaliser and three
# scikit-learn internals of CalibratedClassifierCV. We accept exactly these and refuse anything
# else (no blind ``trusted=True`` on a file that could have been swapped).
TRUSTED_TYPES = (
    "newsaudit.steps.classify.model.normalise_text",
    "newsaudit.steps.classify.model.LeadText",
    "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
)


def plain_vocabularies(pipe: Pipeline) -> Pipeline:
    """Turn fitted vectorisers' numpy-int vocabulary values into Python ints, in place.

    skops stores every numpy scalar as its own array file, which makes dumping a 100k-term
    vocabulary take many minutes; Python ints go into the JSON schema instead.
    """
    for _, vec in pipe.named_steps["features"].transformer_list:
        vec.vocabulary_ = {term: int(i) for term, i in vec.vocabulary_.items()}
    return pipe


def drop_process_state(model: Any) -> None:
    """Remove scikit-learn caches that hold a memory address, in place, so equal models dump to
    equal bytes: vectorisers keep ``_stop_words_id = id(self.stop_words)`` (``id(None)`` differs
    between processes) to skip re-checking stop words; without it they simply check again."""
    for calibrated in getattr(model, "calibrated_classifiers_", []):
        features = calibrated.estimator.named_steps["features"]
        for _, vec in features.transformer_list:
            vec.__dict__.pop("_stop_words_id", None)


def save_model(bundle: dict[str, Any], path: Path) -> None:
    import zipfile

    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    drop_process_state(bundle["model"])
    # The schema is verbose JSON (one object per vocabulary entry): deflate shrinks it ~20x.
    sio.dump(bundle, path, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    canonical_skops(path)  # equal models, equal bytes (and equal hashes in dvc.lock)


def load_model(path: str | Path) -> dict[str, Any]:
    """Load a model bundle saved by ``train``; refuse files with types we did not put there."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise NewsauditError(f"model {path} not found (run `newsaudit train` or `dvc repro train` first)")
    untrusted = sio.get_untrusted_types(file=path)
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise NewsauditError(f"model {path} contains unexpected types {unexpected}; refusing to load it")
    bundle = sio.load(path, trusted=list(untrusted))
    if not isinstance(bundle, dict) or "model" not in bundle or "threshold" not in bundle:
        raise NewsauditError(f"model {path} is not a newsaudit classifier bundle (missing model/threshold)")
    return bundle


# --- metrics ---------------------------------------------------------------------------------


def example_based_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Multi-label example-based F1 as ConfliBERT's ``example_based.py`` computes it.

    Mean over examples of 2|y∩ŷ| / (|y|+|ŷ|), skipping examples where both sets are empty;
    0.0 when every example is skipped.
    """
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shape mismatch {y_true.shape} vs {y_pred.shape}")
    denom = y_true.sum(axis=1) + y_pred.sum(axis=1)
    keep = denom > 0
    if not keep.any():
        return 0.0
    inter = np.logical_and(y_true, y_pred).sum(axis=1)
    return float(np.mean(2.0 * inter[keep] / denom[keep]))


def best_f1_threshold(y_true: np.ndarray, prob: np.ndarray) -> tuple[float, float]:
    """Threshold on ``prob`` that maximises binary F1 (ties → the higher threshold, fewer alarms)."""
    y_true = np.asarray(y_true, dtype=bool)
    prob = np.asarray(prob, dtype=float)
    best_t, best_f = 0.5, -1.0
    for t in np.unique(np.round(prob, 4)):
        pred = prob >= t
        tp = np.sum(pred & y_true)
        denom = pred.sum() + y_true.sum()
        f = 2.0 * tp / denom if denom else 0.0
        if f > best_f or (f == best_f and t > best_t):
            best_t, best_f = float(t), float(f)
    return best_t, best_f


# --- deterministic JSON ----------------------------------------------------------------------
