"""Classify's TF-IDF features side by side on the same cleaned pages: scikit-learn's
``FeatureUnion.transform`` (what classify ran before) against
:func:`newsaudit.steps.classify.vectorise.transform_features` (what it runs now), first with empty
word caches and then with the caches the first call left, and whether the matrices are equal
element for element (they must be: the classifier's scores do not change).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from newsaudit.benchmarks.scale.harness import measured_call
from newsaudit.steps.classify.model import load_model
from newsaudit.steps.classify.vectorise import cached_words, drop_word_caches, transform_features


def same_matrix(a, b) -> bool:
    a, b = a.tocsr(), b.tocsr()
    return bool(
        a.shape == b.shape
        and a.dtype == b.dtype
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


def compare_tfidf(texts: list[str], model_path: Path) -> dict[str, Any]:
    """The table: seconds and pages/s of each way of computing the classifier's features."""
    features = load_model(model_path)["model"].calibrated_classifiers_[0].estimator.named_steps["features"]
    n = len(texts)
    ways: dict[str, Any] = {}
    ways["scikit_learn"], want = measured_call(lambda: features.transform(texts), n)
    drop_word_caches(features)
    for name in ("ours_empty_cache", "ours_warm_cache"):
        entry, got = measured_call(lambda: transform_features(features, texts), n)
        entry["identical_to_scikit_learn"] = None if got is None or want is None else same_matrix(got, want)
        ways[name] = entry
    return {
        "pages": n,
        "features": sum(len(vec.vocabulary_) for _, vec in features.transformer_list),
        "cached_words": cached_words(features),
        "ways": ways,
    }
