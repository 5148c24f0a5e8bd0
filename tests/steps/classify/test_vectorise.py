"""The classify step's fast TF-IDF features: the same matrix as scikit-learn's ``transform``, element
for element, on the classifier's own texts, on generated text and on the shipped model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from newsaudit.steps.classify.model import LeadText, load_model, normalise_text
from newsaudit.steps.classify.vectorise import (
    CharWbCounts,
    char_wb_supported,
    feature_names,
    transform_features,
)

ROOT = Path(__file__).resolve().parents[3]
CORPUS = [
    "Gunmen attacked a police post near the border and killed 9 officers before fleeing.",
    "A bomb exploded in a crowded market in Mosul, killing 12 people; many others were wounded.",
    "The finance minister presented the budget and promised lower taxes.",
    "Café société: les élèves de l'école ont visité Genève.\tTabs\n\nand  runs of   spaces",
    "x y z a I o",
]


def assert_same_matrix(fast, slow) -> None:
    fast, slow = fast.tocsr(), slow.tocsr()
    assert fast.shape == slow.shape and fast.dtype == slow.dtype
    assert np.array_equal(fast.indptr, slow.indptr)
    assert np.array_equal(fast.indices, slow.indices)
    assert np.array_equal(fast.data, slow.data)  # exact, not approximately equal


def vectoriser(ngram_range, preprocessor, sublinear: bool = True) -> TfidfVectorizer:
    vec = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=ngram_range,
        preprocessor=preprocessor,
        sublinear_tf=sublinear,
        dtype=np.float32,
    )
    return vec.fit(CORPUS)


def test_the_trained_classifiers_features_are_equal_to_scikit_learns(labels_bundle, make_labels):
    features = labels_bundle["model"].calibrated_classifiers_[0].estimator.named_steps["features"]
    vecs = [vec for _, vec in features.transformer_list]
    assert any(map(char_wb_supported, vecs))
    texts = make_labels(n_per_source=30, seed=7)["text"].tolist()
    assert_same_matrix(transform_features(features, texts), features.transform(texts))


def test_feature_names_are_scikit_learns_built_once_per_model(labels_bundle):
    features = labels_bundle["model"].calibrated_classifiers_[0].estimator.named_steps["features"]
    names = feature_names(features)
    assert np.array_equal(names, features.get_feature_names_out())
    assert feature_names(features) is names  # cached: later batches do not rebuild them


@pytest.mark.parametrize("ngram_range", [(1, 1), (2, 2), (3, 5), (1, 6)])
@pytest.mark.parametrize("preprocessor", [None, normalise_text, LeadText(40, True), LeadText(60, False)])
def test_char_counts_equal_scikit_learns(ngram_range, preprocessor):
    vec = vectoriser(ngram_range, preprocessor)
    texts = [*CORPUS, "", "   ", "a", "unseen words only: zzqx", CORPUS[1] * 3]
    assert_same_matrix(CharWbCounts(vec).transform(texts), vec.transform(texts))


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(
        st.text(alphabet=st.sampled_from(list("abcé KILL 09.\t\n\u00a0\u2003-'")), max_size=80),
        min_size=1,
        max_size=6,
    ),
    low=st.integers(1, 4),
    extra=st.integers(0, 3),
    normalise=st.booleans(),
)
def test_char_counts_equal_scikit_learns_on_any_text(texts, low, extra, normalise):
    vec = vectoriser((low, low + extra), normalise_text if normalise else None, sublinear=normalise)
    assert_same_matrix(CharWbCounts(vec).transform(texts), vec.transform(texts))


def test_a_full_word_cache_is_cleared_and_the_counts_stay_the_same():
    vec = vectoriser((3, 5), normalise_text)
    counter = CharWbCounts(vec, max_words=4)
    for _ in range(3):
        assert_same_matrix(counter.transform(CORPUS), vec.transform(CORPUS))
        assert len(counter.words) <= 4


def test_what_the_fast_path_does_not_cover_goes_through_scikit_learn():
    binary = TfidfVectorizer(analyzer="char_wb", binary=True).fit(CORPUS)
    word = TfidfVectorizer().fit(CORPUS)
    assert not char_wb_supported(binary) and not char_wb_supported(word)
    union = FeatureUnion([("word", word), ("binary", binary)])
    assert_same_matrix(transform_features(union, CORPUS), union.transform(CORPUS))
    weighted = FeatureUnion(
        [("word", word), ("char", vectoriser((3, 5), None))], transformer_weights={"word": 2}
    )
    assert_same_matrix(transform_features(weighted, CORPUS), weighted.transform(CORPUS))


def test_a_union_of_word_and_char_views_with_their_own_preprocessors_equals_scikit_learns():
    lead = LeadText(30, True)
    union = FeatureUnion(
        [
            ("word", TfidfVectorizer(preprocessor=lead, ngram_range=(1, 2))),
            (
                "char",
                TfidfVectorizer(preprocessor=LeadText(30, True), analyzer="char_wb", ngram_range=(2, 4)),
            ),
            ("raw", TfidfVectorizer(analyzer="char_wb")),
        ]
    ).fit(CORPUS)
    assert_same_matrix(transform_features(union, CORPUS[::-1]), union.transform(CORPUS[::-1]))


@pytest.mark.pipeline
def test_the_shipped_models_features_on_pipeline_pages_are_equal_to_scikit_learns():
    """After `dvc repro`: the shipped classifier on 300 cleaned pages of the pipeline's corpus."""
    model, pages = ROOT / "models/conflict_clf.skops", ROOT / "data/interim/pages_dedup.parquet"
    if not (model.is_file() and pages.is_file()):
        pytest.skip("run `dvc repro` first")
    features = load_model(model)["model"].calibrated_classifiers_[0].estimator.named_steps["features"]
    texts = pd.read_parquet(pages, columns=["clean_text"])["clean_text"].dropna().head(300).tolist()
    assert len(texts) == 300
    assert_same_matrix(transform_features(features, texts), features.transform(texts))
