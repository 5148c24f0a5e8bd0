"""What the ConfliBERT comparison had not tried, one row each (``newsaudit conflibert-benchmark
--variants``, not part of every ``dvc repro``: about half an hour on two cores).

Each variant starts from the benchmark's own setup (:mod:`newsaudit.benchmarks.conflibert`: the
same TF-IDF features fitted on the fit set, the ``C`` the benchmark selected, per-label thresholds
tuned on out-of-fold probabilities) and changes one thing:

* ``nbsvm``: NB-LR (Wang & Manning 2012, logistic regression instead of the SVM): each label's
  features scaled by its naive-Bayes log-count ratio;
* ``word_char_ensemble``: separate models on the word and the character block, probabilities
  averaged (instead of one model over both);
* ``classifier_chain`` (multi-label sets): scikit-learn's ``ClassifierChain``, each label's model
  also sees the previous labels;
* ``label_powerset`` (multi-label sets): one multinomial model over the label combinations seen in
  the fit set, a label's probability the sum over the combinations that contain it;
* ``passage_pooling``: the benchmark's models applied to 60-word passages too; a label's score is
  the mean of the document's probability and its best passage's (long documents report the event
  in one paragraph).

A variant is *kept* when its cross-validated score on the fit set beats the benchmark's by more
than ``keep_margin`` (decided on the fit set, never on test); test scores are reported for every
row, original and without leaked test rows, as in the benchmark.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.multioutput import ClassifierChain

from newsaudit.benchmarks.conflibert import (
    BINARY,
    BenchmarkParams,
    fit_models,
    leaked_test_rows,
    predict_models,
    task_score,
    tune_thresholds,
)
from newsaudit.datasets import conflibert
from newsaudit.steps.classify.model import build_features
from newsaudit.training.features import passages

log = logging.getLogger(__name__)

VARIANTS = ("nbsvm", "word_char_ensemble", "classifier_chain", "label_powerset", "passage_pooling")
MULTI_LABEL_ONLY = {"classifier_chain", "label_powerset"}


def _lr(c: float, params: BenchmarkParams, **kw) -> LogisticRegression:
    return LogisticRegression(C=c, solver="liblinear", max_iter=2000, random_state=params.seed, **kw)


def _nb_ratio(x, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    binary = (x > 0).astype(np.float64)
    p = alpha + np.asarray(binary[y == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(binary[y == 0].sum(axis=0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def nbsvm(x_fit, y_fit: np.ndarray, x_new, c: float, params: BenchmarkParams) -> np.ndarray:
    out = []
    for j in range(y_fit.shape[1]):
        y = y_fit[:, j]
        if y.min() == y.max():
            out.append(np.full(x_new.shape[0], float(y[0])))
            continue
        r = _nb_ratio(x_fit, y)
        model = _lr(c, params).fit(sparse.csr_matrix(x_fit.multiply(r)), y)
        out.append(model.predict_proba(sparse.csr_matrix(x_new.multiply(r)))[:, 1])
    return np.column_stack(out)


def word_char_ensemble(x_fit, y_fit, x_new, c, params, n_word: int) -> np.ndarray:
    probs = []
    for cols in (slice(0, n_word), slice(n_word, None)):
        probs.append(predict_models(fit_models(x_fit[:, cols], y_fit, c, params), x_new[:, cols]))
    return (probs[0] + probs[1]) / 2


def classifier_chain(x_fit, y_fit, x_new, c, params) -> np.ndarray:
    chain = ClassifierChain(_lr(c, params), order=None).fit(x_fit, y_fit)
    return np.asarray(chain.predict_proba(x_new))


def label_powerset(x_fit, y_fit, x_new, c, params) -> np.ndarray:
    combos, classes = np.unique(y_fit, axis=0, return_inverse=True)
    model = LogisticRegression(C=c, solver="lbfgs", max_iter=2000, random_state=params.seed)
    proba = model.fit(x_fit, classes.ravel()).predict_proba(x_new)
    return proba @ combos[model.classes_].astype(float)


def passage_pooling(x_fit, y_fit, x_new, c, params, x_pass, owner) -> np.ndarray:
    """Mean of each document's probability and its best passage's (``x_pass`` rows of ``x_new``'s
    documents, ``owner`` their document index in ``x_new``)."""
    models = fit_models(x_fit, y_fit, c, params)
    doc = predict_models(models, x_new)
    best = pd.DataFrame(predict_models(models, x_pass)).groupby(owner).max()
    best = best.reindex(range(x_new.shape[0])).fillna(0.0).to_numpy()
    return (doc + best) / 2


def _predict(kind: str, x_fit, y_fit, x_new, c, params, ctx: dict[str, Any]) -> np.ndarray:
    if kind == "nbsvm":
        return nbsvm(x_fit, y_fit, x_new, c, params)
    if kind == "word_char_ensemble":
        return word_char_ensemble(x_fit, y_fit, x_new, c, params, ctx["n_word"])
    if kind == "classifier_chain":
        return classifier_chain(x_fit, y_fit, x_new, c, params)
    if kind == "label_powerset":
        return label_powerset(x_fit, y_fit, x_new, c, params)
    if kind == "passage_pooling":
        return passage_pooling(x_fit, y_fit, x_new, c, params, ctx["x_pass"], ctx["owner"])
    raise ValueError(f"unknown variant {kind}")


def _passage_context(features, texts: list[str], rows: np.ndarray) -> dict[str, Any]:
    """Passage features of the documents ``rows`` (of ``texts``), owners renumbered 0..len(rows)-1."""
    parts, owner = passages([texts[i] for i in rows])
    return {"x_pass": sparse.csr_matrix(features.transform(parts)), "owner": owner}


def run_dataset_variants(
    frame: pd.DataFrame,
    dataset: str,
    pairs: pd.DataFrame,
    params: BenchmarkParams,
    baseline: dict[str, Any],
    kinds: list[str],
    keep_margin: float,
) -> dict[str, Any]:
    names = list(conflibert.LABEL_NAMES[dataset])
    fit_splits = ["train"] if params.fit_on == "train" else ["train", "dev"]
    fit = frame[frame["split"].isin(fit_splits)]
    test = frame[frame["split"] == "test"]
    y_fit, y_test = fit[names].to_numpy(int), test[names].to_numpy(int)
    features = build_features(
        params.word_ngram_max,
        params.min_df,
        params.word_max_features,
        params.char_ngrams,
        params.char_ngram_min,
        params.char_ngram_max,
        params.char_max_features,
    )
    x_fit = sparse.csr_matrix(features.fit_transform(fit["text"]))
    x_test = sparse.csr_matrix(features.transform(test["text"]))
    n_word = len(features.transformer_list[0][1].vocabulary_)
    c = float(baseline["selected_C"])
    base_cv = float(baseline["cv_selection"][f"{c:g}"])
    clean = ~test["row"].isin(leaked_test_rows(pairs, dataset, list(params.leakage_kinds))).to_numpy()
    if dataset in BINARY:
        folds = list(
            StratifiedKFold(params.cv_folds, shuffle=True, random_state=params.seed).split(x_fit, y_fit[:, 0])
        )
    else:
        folds = list(KFold(params.cv_folds, shuffle=True, random_state=params.seed).split(x_fit))
    fit_texts, test_texts = fit["text"].tolist(), test["text"].tolist()
    rows = {}
    for kind in kinds:
        if kind in MULTI_LABEL_ONLY and dataset in BINARY:
            continue
        oof = np.zeros(y_fit.shape)
        for tr, va in folds:
            ctx = {"n_word": n_word}
            if kind == "passage_pooling":
                ctx.update(_passage_context(features, fit_texts, va))
            oof[va] = _predict(kind, x_fit[tr], y_fit[tr], x_fit[va], c, params, ctx)
        thr, cv = tune_thresholds(dataset, y_fit, oof, params.threshold_grid, params.threshold_passes)
        ctx = {"n_word": n_word}
        if kind == "passage_pooling":
            ctx.update(_passage_context(features, test_texts, np.arange(len(test_texts))))
        pred = _predict(kind, x_fit, y_fit, x_test, c, params, ctx) >= thr
        rows[kind] = {
            "cv_score": cv,
            "baseline_cv_score": base_cv,
            "kept": bool(cv > base_cv + keep_margin),
            "test_original_f1": 100 * task_score(dataset, y_test, pred),
            "test_deduplicated_f1": 100 * task_score(dataset, y_test[clean], pred[clean]),
            "baseline_test_original_f1": baseline["test_original"]["f1"],
        }
        log.info(
            "%s %s: cv %.4f (baseline %.4f), test %.2f",
            dataset,
            kind,
            cv,
            base_cv,
            rows[kind]["test_original_f1"],
        )
    return rows


def run_variants(
    frames: dict[str, pd.DataFrame],
    pairs: pd.DataFrame,
    params: BenchmarkParams,
    baseline: dict[str, Any],
    kinds: list[str] | None = None,
    keep_margin: float = 0.002,
    done: dict[str, Any] | None = None,
    on_dataset=None,
) -> dict[str, Any]:
    """Every variant on every dataset of ``params.datasets`` against ``baseline`` (the benchmark's
    results). ``done``: datasets measured before (not rerun); ``on_dataset(results so far)`` after each."""
    kinds = list(kinds or VARIANTS)
    out = {"keep_margin": keep_margin, "variants": kinds, "datasets": dict(done or {})}
    for dataset in params.datasets:
        if dataset in out["datasets"]:
            continue
        out["datasets"][dataset] = run_dataset_variants(
            frames[dataset], dataset, pairs, params, baseline["datasets"][dataset], kinds, keep_margin
        )
        if on_dataset is not None:
            on_dataset(out)
    return out
