"""Scoring pages with the conflict-event classifier: which pages are scored, probabilities, the
terms that drove each score.

A page is scored when it is accepted, not an error page, the representative of its near-duplicate
cluster, long enough and in a language the model knows; every other page gets nulls and the reason
(a French page is never silently counted as "not a conflict event").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from newsaudit.core.config import Section
from newsaudit.steps.classify.vectorise import feature_names, transform_features


class ClassifyParams(Section):
    """``classify`` section of params.yaml (``predict``, its old name, is read when it is absent)."""

    text_column: str = "clean_text"
    languages: list[str] = ["en"]  # the model is English-only
    min_chars: int = 200  # below this a page is a stub, not an article
    top_terms: int = 5
    batch_size: int = 2000  # pages vectorised at once (bounds memory)


# The predictions table: one row per page, what the classify step decided and why.
PREDICTION_COLUMNS = [
    "doc_id",
    "source",
    "language",
    "near_dup_cluster",
    "cluster_size",
    "classified",
    "unclassified_reason",
    "conflict_prob",
    "conflict_label",
    "conflict_terms",
]


def unclassified_reason(pages: pd.DataFrame, params: ClassifyParams) -> pd.Series:
    """Why each row is not scored (None when it is). First matching reason wins.

    Columns a table does not have are not checked (ad-hoc inputs have no status or clusters).
    """
    n = len(pages)
    reason = pd.Series([None] * n, index=pages.index, dtype=object)

    def mark(mask: pd.Series, why: str) -> None:
        reason[mask.fillna(False).astype(bool) & reason.isna()] = why

    if "status" in pages:
        mark(pages["status"] != "accepted", "rejected")
    if "is_error_page" in pages:
        mark(pages["is_error_page"].astype("boolean"), "error_page")
    if "is_representative" in pages:
        mark(~pages["is_representative"].astype("boolean"), "near_duplicate")
    missing = pd.Series([None] * n, index=pages.index, dtype=object)
    text = pages.get(params.text_column, missing)
    mark(text.isna(), "no_text")
    mark(text.fillna("").str.strip().str.len() < params.min_chars, "too_short")
    if "language" in pages:
        mark(pages["language"].isna(), "language_unknown")
        mark(~pages["language"].isin(params.languages), "language_not_supported")
    return reason


def _top_terms(x, coef: np.ndarray, names: np.ndarray, k: int) -> list[str]:
    """Per row of the tf-idf matrix: the k features that pushed it most towards 'conflict event'
    (largest positive contribution first, ties in column order), found for all rows in one sort."""
    x = x.tocsr()
    contrib = x.data * coef[x.indices]
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    order = np.lexsort((-contrib, rows))  # stable: by row, then contribution, then column
    rank = np.arange(order.size) - np.repeat(x.indptr[:-1], np.diff(x.indptr))
    keep = order[(rank < k) & (contrib[order] > 0)]
    out: list[list[str]] = [[] for _ in range(x.shape[0])]
    for row, column in zip(rows[keep].tolist(), x.indices[keep].tolist(), strict=True):
        out[row].append(str(names[column]).split("__", 1)[-1])
    return ["; ".join(terms) for terms in out]


def score_texts(bundle: dict[str, Any], texts: list[str], k: int) -> tuple[np.ndarray, list[str]]:
    """Calibrated probability and contributing terms of each text, vectorising the texts once.

    ``CalibratedClassifierCV(ensemble=False)`` holds one pipeline and one calibrator; its
    ``predict_proba`` would vectorise the texts a second time (the slowest part). The result is the
    same: the calibrator applied to the pipeline's decision function, clipped as scikit-learn does
    (tested against ``predict_proba``). The features come from
    :func:`~newsaudit.steps.classify.vectorise.transform_features`, the same matrix as
    ``features.transform`` with the char n-grams counted per distinct word.
    """
    model = bundle["model"]
    pipe = model.calibrated_classifiers_[0].estimator
    features, clf = pipe.named_steps["features"], pipe.named_steps["clf"]
    x = transform_features(features, texts)
    single = len(model.calibrated_classifiers_) == 1 and model.method in ("sigmoid", "isotonic")
    if single and len(model.classes_) == 2:
        prob = model.calibrated_classifiers_[0].calibrators[0].predict(clf.decision_function(x))
        prob = np.asarray(prob, dtype=float)
        prob[(prob > 1.0) & (prob <= 1.0 + 1e-5)] = 1.0
    else:
        prob = model.predict_proba(texts)[:, 1]
    return prob, _top_terms(x, clf.coef_.ravel(), feature_names(features), k)


def annotate_predictions(pages: pd.DataFrame, model: dict[str, Any], params: ClassifyParams) -> pd.DataFrame:
    """Return ``pages`` with prediction columns added (input untouched, row order kept).

    ``model`` is the bundle from ``classifier_common.load_model``. Rows that are not scored have
    null ``conflict_prob`` / ``conflict_label`` / ``conflict_terms`` and an ``unclassified_reason``.
    """
    out = pages.copy()
    reason = unclassified_reason(out, params)
    todo = np.flatnonzero(reason.isna().to_numpy())
    prob = np.full(len(out), np.nan)
    terms: list[Any] = [None] * len(out)
    texts = out[params.text_column].iloc[todo].tolist() if len(todo) else []
    for start in range(0, len(todo), params.batch_size):
        idx = todo[start : start + params.batch_size]
        batch = texts[start : start + params.batch_size]
        prob[idx], batch_terms = score_texts(model, batch, params.top_terms)
        for i, t in zip(idx, batch_terms, strict=True):
            terms[i] = t
    classified = reason.isna().to_numpy()
    out["conflict_prob"] = pd.array(np.where(classified, prob, np.nan), dtype="Float64")
    flag = pd.array(prob >= float(model["threshold"]), dtype="boolean")
    flag[~classified] = pd.NA
    out["conflict_label"] = flag
    out["classified"] = classified
    out["unclassified_reason"] = pd.array(reason.tolist(), dtype="string")
    out["conflict_terms"] = pd.array(terms, dtype="string")
    if "near_dup_cluster" in out:
        out["cluster_size"] = cluster_sizes(out["near_dup_cluster"])
    return out


def cluster_sizes(near_dup_cluster: pd.Series) -> pd.Series:
    """Pages in each page's near-duplicate cluster (1 for a page in none)."""
    sizes = near_dup_cluster.groupby(near_dup_cluster, dropna=True).transform("size")
    return sizes.fillna(1).astype("int64")
