"""The duplicates stage on small pages tables built here: clusters, representatives, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from newsaudit.steps.dedup.step import DuplicatesParams, annotate_duplicates, duplicate_stats
from newsaudit.lib.minhash import near_duplicate_clusters, s_curve, s_curve_midpoint
from newsaudit.core.errors import NewsauditError
from newsaudit.core.io import write_json

_VOCAB = (
    "police army rebels village district minister election court market bridge river school "
    "hospital farmers protest budget council report officials attack region border trade talks "
    "ceasefire vote capital governor party leader troops storm flood fire port airport station "
    "bank prices fuel water "
)
RNG_WORDS = _VOCAB.split()


def _article(seed: int, n_words: int = 180) -> str:
    """A synthetic article: paragraphs of random words (distinct seeds share almost no 5-grams)."""
    rng = np.random.default_rng(seed)
    words = rng.choice(RNG_WORDS, size=n_words)
    paras = [" ".join(words[i : i + 30]).capitalize() + "." for i in range(0, n_words, 30)]
    return "\n".join(paras)


def _edit(text: str, seed: int, rate: float = 0.03) -> str:
    rng = np.random.default_rng(seed)
    words = text.split(" ")
    return " ".join(w if rng.random() > rate else "edited" for w in words)


def _pages() -> pd.DataFrame:
    a, b, c = _article(1), _article(2), _article(3)
    rows = [
        ("p01", a, "accepted", False, "site-a.com"),
        ("p02", a, "accepted", False, "site-b.com"),  # exact copy
        ("p03", a.upper().replace(".", ""), "accepted", False, "site-c.com"),  # case/punctuation only
        ("p04", _edit(a, 4) + "\nRead more stories on our site today", "accepted", False, "site-d.com"),
        ("p05", b, "accepted", False, "site-a.com"),
        ("p06", _edit(b, 6), "accepted", False, "site-e.com"),
        ("p07", c, "accepted", False, "site-b.com"),
        ("p08", "Page not found", "accepted", True, "site-a.com"),  # error pages never cluster
        ("p09", "Page not found", "accepted", True, "site-b.com"),
        ("p10", None, "rejected", False, "site-c.com"),
        ("p11", "\n\n".join([b, b]), "accepted", False, "site-f.com"),  # b with its body twice
    ]
    frame = pd.DataFrame(rows, columns=["doc_id", "clean_text", "status", "is_error_page", "source"])
    frame["raw_text"] = frame["clean_text"]
    return frame


CLUSTER_COLS = ["doc_id", "exact_dup_of", "near_dup_cluster", "is_representative", "sim_to_representative"]


def _clusters(out: pd.DataFrame) -> pd.DataFrame:
    return out[CLUSTER_COLS].sort_values("doc_id").reset_index(drop=True)


def test_clusters_representatives_and_passthrough():
    out = annotate_duplicates(_pages(), DuplicatesParams()).set_index("doc_id")
    cluster_a = {"p01", "p02", "p03", "p04"}
    assert set(out.index[out["near_dup_cluster"] == out.at["p01", "near_dup_cluster"]]) == cluster_a
    assert set(out.index[out["near_dup_cluster"] == out.at["p05", "near_dup_cluster"]]) == {
        "p05",
        "p06",
        "p11",
    }
    assert out.at["p07", "near_dup_cluster"] == "p07" and out.at["p07", "is_representative"]
    # exact duplicates point at the canonical page (longest, then smallest doc_id)
    assert out.at["p02", "exact_dup_of"] == "p01"
    assert pd.isna(out.at["p01", "exact_dup_of"])
    # one representative per cluster: the longest cleaned text, ties by doc_id
    reps = out[out["is_representative"]]
    assert reps["near_dup_cluster"].is_unique
    lengths = out.loc[list(cluster_a), "clean_text"].str.len()
    assert out.at["p01", "near_dup_cluster"] == sorted(lengths[lengths == lengths.max()].index)[0]
    assert out.loc[list(cluster_a), "sim_to_representative"].between(0.5, 1.0).all()
    # error pages and rejected rows pass through with null cluster fields
    for d in ("p08", "p09", "p10"):
        assert pd.isna(out.at[d, "near_dup_cluster"]) and not out.at[d, "is_representative"]
    assert len(out) == len(_pages())
    # the doubled body lost its repeats and then equals b exactly
    assert out.at["p11", "repeated_paragraphs_removed"] == 1  # one blank-line block of six lines
    assert out.at["p11", "clean_text"] == out.at["p05", "clean_text"]


def test_four_paragraphs_each_twice():
    paras = [_article(i, 30) for i in range(10, 14)]
    text = "\n\n".join(paras + paras)
    pages = pd.DataFrame({"doc_id": ["x"], "clean_text": [text], "status": ["accepted"]})
    out = annotate_duplicates(pages, DuplicatesParams())
    assert out.at[0, "dup_para_frac"] == 0.5
    assert out.at[0, "repeated_paragraphs_removed"] == 4
    assert out.at[0, "clean_text"] == "\n\n".join(paras)


def test_identical_across_runs_and_input_order():
    pages = _pages()
    params = DuplicatesParams()
    first = _clusters(annotate_duplicates(pages, params))
    again = _clusters(annotate_duplicates(pages, params))
    pd.testing.assert_frame_equal(first, again)
    for seed in range(3):
        shuffled = pages.sample(frac=1, random_state=seed).reset_index(drop=True)
        pd.testing.assert_frame_equal(first, _clusters(annotate_duplicates(shuffled, params)))


def test_metrics_json_is_byte_identical(tmp_path):
    params = DuplicatesParams()
    docs = []
    for seed in (0, 1):
        pages = _pages().sample(frac=1, random_state=seed).reset_index(drop=True)
        path = tmp_path / f"m{seed}.json"
        write_json(duplicate_stats(annotate_duplicates(pages, params), params), path)
        docs.append(path.read_bytes())
    assert docs[0] == docs[1]
    stats = json.loads(docs[0])
    assert stats["exact_duplicate_pages"] >= 1
    assert stats["cluster_size_distribution"]["4"] == 1


def test_duplicate_doc_ids_are_rejected():
    pages = pd.DataFrame({"doc_id": ["a", "a"], "clean_text": ["x", "y"]})
    with pytest.raises(NewsauditError, match="doc_id 'a'"):
        annotate_duplicates(pages, DuplicatesParams())


def test_bad_banding_is_a_parameter_error():
    with pytest.raises(NewsauditError, match="bands x rows"):
        DuplicatesParams(num_perm=64, bands=32, rows=4)


def test_s_curve_midpoint():
    mid = s_curve_midpoint(42, 3)
    assert s_curve(mid, 42, 3) == pytest.approx(0.5)
    assert s_curve(0.9, 42, 3) > 0.999 and s_curve(0.05, 42, 3) < 0.01


def test_near_duplicate_api_is_reusable():
    texts = [_article(1), _edit(_article(1), 9), _article(2), ""]
    res = near_duplicate_clusters(texts, ["a", "b", "c", "d"], bands=42, rows=3, threshold=0.3)
    assert res.labels[0] == res.labels[1] != res.labels[2]
    assert res.labels[3] == -1  # no words: not clustered
    assert list(res.pairs[["id_a", "id_b"]].itertuples(index=False, name=None)) == [("a", "b")]
    assert 0.5 < res.pairs["similarity"].iloc[0] <= 1.0


def test_process_pool_gives_the_same_table():
    pages = _pages()
    one = annotate_duplicates(pages, DuplicatesParams(workers=1))
    pooled = annotate_duplicates(pages, DuplicatesParams(workers=2, repetition_batch=3))
    pd.testing.assert_frame_equal(one, pooled)
