"""The fitted TF-IDF features of a batch of texts, the same matrix as ``FeatureUnion.transform``,
with the char_wb n-grams looked up once per distinct word instead of once per occurrence.

scikit-learn builds char_wb n-grams one Python string at a time and looks each up in the
vocabulary: on a 2,500-character lead that is ~7,000 slices and dictionary lookups per text, the
classify stage's largest cost. char_wb n-grams never cross a word boundary, so a word's in-vocabulary
n-gram indices are the same wherever it occurs: they are computed once per distinct word, kept as
packed int32 bytes, and a batch's counts are a byte join and scipy's ``sum_duplicates``. The counts, their
order (sorted column indices per row, as ``_count_vocab`` leaves them) and dtype equal
scikit-learn's, and the TF-IDF weighting is scikit-learn's own ``_tfidf.transform``, so the result is
equal element for element (tested against ``transform`` on real texts and generated ones).

No library does this for a fitted scikit-learn vocabulary (HashingVectorizer or tokenizers would
change the features and so the model); anything this path does not cover (other analysers, a
callable analyser, transformer weights, binary counts) goes through scikit-learn unchanged.
"""

from __future__ import annotations

import re
import weakref
from array import array
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import text as sk_text
from sklearn.pipeline import FeatureUnion

# Distinct words whose n-gram indices are kept per vectoriser; a bounded cache (cleared when full)
# keeps memory flat on a corpus with millions of distinct tokens. ~100 bytes a word.
MAX_CACHED_WORDS = 300_000

_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's ``_white_spaces``


def char_wb_supported(vec: Any) -> bool:
    """Whether :class:`CharWbCounts` reproduces this fitted vectoriser's counts."""
    return (
        isinstance(vec, sk_text.TfidfVectorizer)
        and vec.analyzer == "char_wb"
        and not vec.binary
        and hasattr(vec, "vocabulary_")
        and hasattr(vec, "_tfidf")
    )


class CharWbCounts:
    """Term counts of a fitted char_wb vectoriser, one vocabulary lookup per n-gram of each distinct
    word (then cached), assembled as ``_count_vocab`` does: CSR, sorted column indices per row,
    ``intc`` counts cast to the vectoriser's dtype."""

    def __init__(self, vec: sk_text.TfidfVectorizer, max_words: int = MAX_CACHED_WORDS):
        self.vec = vec
        self.preprocess = vec.build_preprocessor()
        self.vocabulary = vec.vocabulary_
        self.min_n, self.max_n = vec.ngram_range
        self.max_words = max_words
        self.words: dict[str, bytes] = {}

    def word_indices(self, word: str) -> bytes:
        """Vocabulary indices of the char_wb n-grams of one word, in scikit-learn's order, packed."""
        cached = self.words.get(word)
        if cached is not None:
            return cached
        padded = " " + word + " "
        size = len(padded)
        get = self.vocabulary.get
        found = array("i")
        for n in range(self.min_n, self.max_n + 1):
            # the same loop as ``_char_wb_ngrams``: a word shorter than n gives one n-gram, and
            # then no longer ones
            for offset in range(max(size - n, 0) + 1):
                index = get(padded[offset : offset + n])
                if index is not None:
                    found.append(index)
            if size <= n:
                break
        packed = found.tobytes()
        if len(self.words) >= self.max_words:
            self.words.clear()
        self.words[word] = packed
        return packed

    def counts(self, texts: list[str]):
        """The count matrix ``vec._count_vocab(texts, fixed_vocab=True)`` builds."""
        decode, preprocess, word_indices = self.vec.decode, self.preprocess, self.word_indices
        chunks = [
            b"".join([word_indices(w) for w in _WHITE_SPACES.sub(" ", preprocess(decode(t))).split()])
            for t in texts
        ]
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(c) // 4 for c in chunks], out=indptr[1:])
        columns = np.frombuffer(b"".join(chunks), dtype=np.int32).copy()  # scipy sorts it in place
        matrix = sp.csr_array(
            (np.ones(columns.size, dtype=np.intc), columns, indptr.astype(np.int32)),
            shape=(len(texts), len(self.vocabulary)),
        )
        matrix.sum_duplicates()  # per row, in C++: sort the column indices and add up repeats
        matrix = matrix.astype(self.vec.dtype)
        matrix.sort_indices()
        return sk_text._align_api_if_sparse(matrix)

    def transform(self, texts: list[str]):
        """``vec.transform(texts)``: the counts weighted by the fitted TF-IDF transformer."""
        return self.vec._tfidf.transform(self.counts(texts), copy=False)


# One counter per fitted vectoriser, so the word cache lives as long as the model (and across the
# batches a worker scores); keyed weakly so a dropped model frees it.
_COUNTERS: weakref.WeakKeyDictionary[Any, CharWbCounts] = weakref.WeakKeyDictionary()


def counter(vec: Any) -> CharWbCounts | None:
    """The fast counter of a fitted vectoriser (one per vectoriser), or None when it has none."""
    found = _COUNTERS.get(vec)
    if found is None:
        if not char_wb_supported(vec):
            return None
        found = _COUNTERS[vec] = CharWbCounts(vec)
    return found


def transform_features(features: FeatureUnion, texts: list[str]):
    """``features.transform(texts)`` with the char_wb parts counted by :class:`CharWbCounts`."""
    if features.transformer_weights or not texts:
        return features.transform(texts)
    parts = []
    for _, vec in features.transformer_list:
        if vec == "drop":
            continue
        fast = counter(vec)
        parts.append(vec.transform(texts) if fast is None else fast.transform(texts))
    return features._hstack(parts)


# The fitted features' names, built once per model (94,084 strings: tens of ms, which every batch
# paid when they were built per call). A scoring model is never refitted, so they cannot go stale.
_NAMES: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()


def feature_names(features: FeatureUnion) -> np.ndarray:
    """``features.get_feature_names_out()``, computed once per fitted ``FeatureUnion``."""
    found = _NAMES.get(features)
    if found is None:
        found = _NAMES[features] = features.get_feature_names_out()
    return found


def cached_words(features: FeatureUnion) -> int:
    """Distinct words in the caches of these features' char_wb counters."""
    return sum(len(c.words) for _, vec in features.transformer_list if (c := _COUNTERS.get(vec)) is not None)


def drop_word_caches(features: FeatureUnion) -> None:
    """Forget these features' counters, so the next call starts with empty word caches."""
    for _, vec in features.transformer_list:
        _COUNTERS.pop(vec, None)
