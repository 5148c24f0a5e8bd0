"""The dedup step on small pages tables built here: clusters, representatives, repeats removed,
determinism whatever the input order, batch size or number of processes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from newsaudit.core.config import Execution
from newsaudit.core.errors import NewsauditError
from newsaudit.core.io import write_json
from newsaudit.engines import memory
from newsaudit.engines.dispatch import run_step
from newsaudit.pipeline.reference import annotate_duplicates
from newsaudit.steps.dedup.params import DuplicatesParams
from newsaudit.steps.dedup.stats import duplicate_stats
from newsaudit.steps.dedup.step import DedupStep

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


def _bigger() -> pd.DataFrame:
    """``_pages`` plus a site whose footer line repeats on every page (the frequent-line filter)."""
    extra = []
    for i in range(30):
        text = _article(100 + i % 12) + "\nFollow us for more news from the Example Daily"
        if i >= 12:
            text = _edit(text, i)
        extra.append((f"s{i:02d}", text, "accepted", False, "example.com"))
    frame = pd.DataFrame(extra, columns=["doc_id", "clean_text", "status", "is_error_page", "source"])
    frame["raw_text"] = frame["clean_text"]
    return pd.concat([_pages(), frame], ignore_index=True)


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


def test_input_columns_kept_and_input_untouched():
    pages = _pages()
    before = pages.copy()
    out = annotate_duplicates(pages, DuplicatesParams())
    pd.testing.assert_frame_equal(pages, before)
    assert list(out.columns[: len(pages.columns)]) == list(pages.columns)
    assert [f.name for f in DedupStep(DuplicatesParams()).adds] == list(out.columns[len(pages.columns) :])


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


def test_a_table_without_clean_text_is_named():
    with pytest.raises(NewsauditError, match=r"lacks column\(s\) \['clean_text'\]"):
        memory.run(DedupStep(DuplicatesParams()), _pages().drop(columns=["clean_text"]))


def test_no_eligible_page_gives_null_clusters():
    pages = _pages().iloc[7:10].reset_index(drop=True)  # two error pages and a rejected row
    out = annotate_duplicates(pages, DuplicatesParams())
    assert out["near_dup_cluster"].isna().all() and not out["is_representative"].any()
    assert out["sim_to_representative"].isna().all()


def test_bad_banding_is_a_parameter_error():
    with pytest.raises(NewsauditError, match="bands x rows"):
        DuplicatesParams(num_perm=64, bands=32, rows=4)


# --------------------------------------------------------------------------------------------
# Batches and processes: the stream engine's file is the in-memory step's table


def _through_files(pages: pd.DataFrame, tmp_path, params, ex, rows, workers, threads=1) -> pd.DataFrame:
    src = tmp_path / "in.parquet"
    pages.to_parquet(src, index=False)
    dst = tmp_path / f"out-{ex.engine}.parquet"
    run_step(DedupStep(params, threads), ex, src, dst, {}, rows, workers)
    assert not list(tmp_path.glob("*.partial"))
    return pd.read_parquet(dst)


@pytest.mark.parametrize(("rows", "workers", "threads"), [(1, 1, 1), (4, 2, 2), (1000, 1, 1)])
def test_stream_batches_give_the_in_memory_table(tmp_path, rows, workers, threads):
    pages = _bigger().sample(frac=1, random_state=rows).reset_index(drop=True)
    params = DuplicatesParams(frequent_line_pages=5)
    want = _through_files(pages, tmp_path, params, Execution(engine="memory"), rows, 1)
    got = _through_files(pages, tmp_path, params, Execution(engine="stream"), rows, workers, threads)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["near_dup_cluster"].notna().sum() > 30


def test_stream_names_a_repeated_doc_id(tmp_path):
    pages = pd.DataFrame({"doc_id": ["a", "a"], "clean_text": ["x y", "z w"]})
    with pytest.raises(NewsauditError, match="doc_id 'a'"):
        _through_files(pages, tmp_path, DuplicatesParams(), Execution(engine="stream"), 1, 1)
    assert not (tmp_path / "out-stream.parquet").exists()
