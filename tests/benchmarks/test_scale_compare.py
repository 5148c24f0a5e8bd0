"""Side-by-side comparison of near-duplicate and Gopher implementations, on small data made here."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from newsaudit.benchmarks.scale import compare_minhash
from newsaudit.benchmarks.scale.compare_gopher import compare_gopher, stat_agreement
from newsaudit.benchmarks.scale.compare_minhash import IMPLEMENTATIONS, compare_near_duplicates
from newsaudit.core.errors import NewsauditError
from newsaudit.lib.gopher import STAT_COLUMNS
from newsaudit.steps.dedup.params import DuplicatesParams

ENTRY_KEYS = {
    "available",
    "reason",
    "seconds",
    "pages_per_s",
    "peak_rss_above_start_mb",
    "ari_vs_ours",
    "ari_vs_truth",
    "pair_precision",
    "pair_recall",
    "speedup_vs_datasketch",
    "notes",
}
PARAMS = DuplicatesParams()
WORKERS = 1  # our signature threads (execution.workers.duplicates)


def _corpus(n_origins: int = 40, n_copied: int = 20, words: int = 80, edits: int = 3, seed: int = 0):
    """Random ~80-word texts; the first ``n_copied`` get a near-copy with ``edits`` words replaced.

    Words are letters only: datatrove maps every number to 0, so digit-bearing words would all
    look alike to it.
    """
    rng = np.random.default_rng(seed)
    letters = np.asarray(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = np.asarray(["".join(rng.choice(letters, 7)) for _ in range(4000)])
    texts, truth = [], []
    for origin in range(n_origins):
        body = list(rng.choice(vocab, words))
        texts.append(" ".join(body))
        truth.append(origin)
        if origin < n_copied:
            copy = body.copy()
            for j in rng.choice(words, edits, replace=False):
                copy[j] = str(rng.choice(vocab))
            texts.append(" ".join(copy))
            truth.append(origin)
    return texts, truth


def compare(texts, truth, implementations=None):
    """:func:`compare_near_duplicates` with the test's parameters and one signature thread."""
    return compare_near_duplicates(texts, truth, PARAMS, implementations=implementations, workers=WORKERS)


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


@pytest.fixture(scope="module")
def core_result(corpus):
    texts, truth = corpus
    return compare(texts, truth, implementations=["ours", "datasketch"])


def test_ours_and_datasketch_find_the_planted_copies(core_result, corpus):
    assert core_result["pages"] == len(corpus[0]) == 60
    assert core_result["words"] == 60 * 80
    for name in ("ours", "datasketch"):
        entry = core_result["implementations"][name]
        assert entry["available"], entry["reason"]
        assert entry["ari_vs_truth"] > 0.9
        assert entry["pair_recall"] > 0.9 and entry["pair_precision"] > 0.9
    assert core_result["implementations"]["datasketch"]["ari_vs_ours"] > 0.9
    assert core_result["implementations"]["datasketch"]["speedup_vs_datasketch"] == 1.0


def test_every_entry_has_the_table_keys_and_json_ready_values(core_result):
    import json

    assert set(core_result["implementations"]) == {"ours", "datasketch"}
    for entry in core_result["implementations"].values():
        assert set(entry) == ENTRY_KEYS
        assert entry["seconds"] >= 0 and entry["pages_per_s"] > 0
        assert entry["peak_rss_above_start_mb"] >= 0
    json.dumps(core_result)  # no numpy scalars


def test_default_runs_all_four_and_reports_each(corpus, monkeypatch):
    """Default selection: all four names appear, installed or not (never silently dropped)."""
    calls = []
    for name in IMPLEMENTATIONS:
        monkeypatch.setitem(compare_minhash.PREPARE, name, lambda: None)
        monkeypatch.setitem(
            compare_minhash.RUNNERS,
            name,
            lambda texts, p, workers, name=name: calls.append(name) or np.arange(len(texts)),
        )
    texts, truth = corpus
    res = compare(texts, truth)
    assert list(res["implementations"]) == list(IMPLEMENTATIONS) == calls
    for entry in res["implementations"].values():
        assert set(entry) == ENTRY_KEYS and entry["available"]
        assert entry["ari_vs_ours"] == 1.0  # all-singletons everywhere: identical clusterings
        assert entry["pair_recall"] == 0.0


def test_unknown_implementation_raises_naming_it_and_the_valid_ones(corpus):
    texts, truth = corpus
    with pytest.raises(NewsauditError, match="minhashx") as err:
        compare(texts, truth, implementations=["ours", "minhashx"])
    assert all(name in str(err.value) for name in IMPLEMENTATIONS)


def test_truth_of_another_length_is_an_error(corpus):
    texts, truth = corpus
    with pytest.raises(NewsauditError, match="truth"):
        compare(texts, truth[:-1], implementations=["ours"])


def test_missing_library_is_reported_not_dropped(corpus, monkeypatch):
    monkeypatch.setitem(sys.modules, "rensa", None)  # makes `import rensa` raise ImportError
    texts, truth = corpus
    res = compare(texts, truth, implementations=["rensa", "ours"])
    entry = res["implementations"]["rensa"]
    assert set(entry) == ENTRY_KEYS
    assert entry["available"] is False and entry["reason"].startswith("not installed")
    assert entry["seconds"] is None and entry["ari_vs_truth"] is None
    assert res["implementations"]["ours"]["available"]


def test_failing_implementation_is_reported_with_its_error(corpus, monkeypatch):
    def boom(texts, p, workers):
        raise RuntimeError("bucket exploded")

    monkeypatch.setitem(compare_minhash.RUNNERS, "datasketch", boom)
    texts, truth = corpus
    res = compare(texts, truth, implementations=["ours", "datasketch"])
    entry = res["implementations"]["datasketch"]
    assert entry["available"] is False
    assert entry["reason"] == "failed: RuntimeError: bucket exploded"
    # no datasketch timing: no speedup figure for the others either
    assert res["implementations"]["ours"]["speedup_vs_datasketch"] is None


def test_rensa_finds_the_planted_copies(corpus):
    pytest.importorskip("rensa")
    texts, truth = corpus
    entry = compare(texts, truth, implementations=["rensa"])["implementations"]["rensa"]
    assert entry["available"], entry["reason"]
    assert entry["ari_vs_truth"] > 0.9
    assert entry["ari_vs_ours"] is None  # ours not run


def test_datatrove_minhash_finds_the_planted_copies(corpus):
    pytest.importorskip("datatrove")
    pytest.importorskip("spacy")
    texts, truth = corpus
    res = compare(texts, truth, implementations=["ours", "datatrove"])
    entry = res["implementations"]["datatrove"]
    assert entry["available"], entry["reason"]
    assert entry["ari_vs_truth"] > 0.9 and entry["ari_vs_ours"] > 0.9
    assert "no jaccard verification" in entry["notes"].lower()


def test_datatrove_cluster_file_is_read_as_labels(tmp_path):
    """``.clusters`` holds uint32 (doc, cluster id) pairs for matched documents only."""
    path = tmp_path / "000000.clusters"
    path.write_bytes(np.asarray([0, 0, 3, 0, 4, 1, 5, 1], dtype="<u4").tobytes())
    labels = compare_minhash.read_datatrove_clusters(path, 6)
    assert labels[0] == labels[3] != labels[4] == labels[5]
    assert len({labels[1], labels[2], labels[0], labels[4]}) == 4
    # nothing matched: no file, all singletons
    assert list(compare_minhash.read_datatrove_clusters(tmp_path / "none.clusters", 3)) == [0, 1, 2]


def test_pages_without_words_are_singletons_not_one_cluster():
    assert list(compare_minhash.singletons_for_missing(np.asarray([0, -1, 0, -1]))) == [0, 1, 0, 2]


# ----------------------------------------------------------------------------- Gopher

GOPHER_TEXTS = [
    "The council approved the budget.\n\nThe council approved the budget.\n\nIt's 3,000 U.S. dollars.",
    "a b c a b c a b c a b c\n\nx y z",
    "Breaking news: breaking news! Breaking news, breaking news.\nMore at 11.\n\n\nMore at 11.",
    "one two three four five six seven eight nine ten eleven twelve one two three four five six seven",
]


def _check_gopher_shape(res: dict, pages: int) -> None:
    assert res["pages"] == pages
    for agreement in res["agreement_vs_datatrove"].values():
        if not agreement["available"]:
            continue
        assert set(agreement["statistics"]) == set(STAT_COLUMNS)
        for stat in agreement["statistics"].values():
            assert 0.0 <= stat["share_equal"] <= 1.0
            assert stat["max_abs_diff"] >= 0.0 and math.isfinite(stat["max_abs_diff"])
        assert 0.0 <= agreement["share_pages_all_equal"] <= 1.0


def test_gopher_agreement_on_identical_texts():
    pytest.importorskip("datatrove")
    pytest.importorskip("spacy")
    res = compare_gopher(GOPHER_TEXTS * 3, max_pages=10)
    assert (res["pages"], res["pages_given"], res["max_pages"]) == (10, 12, 10)
    _check_gopher_shape(res, 10)
    for name, entry in res["implementations"].items():
        assert entry["available"], (name, entry["reason"])
        assert entry["seconds"] >= 0 and entry["pages_per_s"] > 0
    # with datatrove's own tokenizer our statistics are datatrove's, page for page
    same_tok = res["agreement_vs_datatrove"]["ours_datatrove_tokenizer"]
    assert same_tok["share_pages_all_equal"] == 1.0 and same_tok["verdict_share_equal"] == 1.0
    # line and paragraph statistics do not depend on the tokenizer
    regex = res["agreement_vs_datatrove"]["ours_regex"]["statistics"]
    assert all(regex[c]["share_equal"] == 1.0 for c in STAT_COLUMNS[:4])


def test_gopher_without_datatrove_reports_it_unavailable(monkeypatch):
    # the filter's module is what the comparison imports first; None makes its import fail
    monkeypatch.setitem(sys.modules, "datatrove.pipeline.filters.gopher_repetition_filter", None)
    res = compare_gopher(GOPHER_TEXTS)
    _check_gopher_shape(res, len(GOPHER_TEXTS))
    assert res["implementations"]["ours_regex"]["available"]
    for name in ("ours_datatrove_tokenizer", "datatrove", "datatrove_filter"):
        entry = res["implementations"][name]
        assert entry["available"] is False and entry["reason"].startswith("not installed")
    for agreement in res["agreement_vs_datatrove"].values():
        assert agreement["available"] is False and agreement["reason"]


def test_stat_agreement_counts_close_values_and_nan_pairs():
    ours = np.zeros((4, len(STAT_COLUMNS)))
    ref = ours.copy()
    ref[1, 0] = 0.5  # one page differs on one statistic
    ours[2], ref[2] = np.nan, np.nan  # an empty page on both sides agrees
    ref[3, 1] = 1e-12  # within tolerance
    out = stat_agreement(ours, ref)
    assert out["statistics"][STAT_COLUMNS[0]] == {"share_equal": 0.75, "max_abs_diff": 0.5}
    assert out["statistics"][STAT_COLUMNS[1]]["share_equal"] == 1.0
    assert out["statistics"][STAT_COLUMNS[1]]["max_abs_diff"] == 1e-12
    assert out["share_pages_all_equal"] == 0.75


def test_the_tfidf_comparison_times_both_ways_and_finds_the_same_matrix(labels_bundle, make_labels, tmp_path):
    from newsaudit.benchmarks.scale.compare_tfidf import compare_tfidf
    from newsaudit.steps.classify.model import save_model

    save_model(labels_bundle, tmp_path / "conflict_clf.skops")
    texts = make_labels(n_per_source=20, seed=3)["text"].tolist()
    table = compare_tfidf(texts, tmp_path / "conflict_clf.skops")
    assert table["pages"] == len(texts) and table["features"] > 0 and table["cached_words"] > 0
    assert set(table["ways"]) == {"scikit_learn", "ours_empty_cache", "ours_warm_cache"}
    for name, way in table["ways"].items():
        assert way["available"] and way["pages_per_s"] > 0, name
    assert table["ways"]["ours_empty_cache"]["identical_to_scikit_learn"] is True
    assert table["ways"]["ours_warm_cache"]["identical_to_scikit_learn"] is True


def test_the_text_comparison_finds_ftfy_and_py3langid_reproduced(make_labels):
    from newsaudit.benchmarks.scale.compare_text import compare_text

    texts = [*make_labels(n_per_source=10)["text"].tolist(), "cafÃ© &amp; “quotes”", "Привет, мир"]
    res = compare_text(texts)
    assert res["pages"] == len(texts)
    assert res["repair"]["needs_repair_then_ftfy"]["identical_to_ftfy"] == 1.0
    windowed = res["language"]["py3langid_windowed"]
    assert windowed["agreement_with_py3langid"] == 1.0 and windowed["pages_per_s"] > 0
