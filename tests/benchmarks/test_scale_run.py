"""The benchmark's corpus generator and scoring (not its speed: benchmarks are not tests)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import newsaudit.benchmarks.scale.corpus as bc
from newsaudit.benchmarks.scale.corpus import BenchCorpusParams, build_corpus, generate_pages, sentence_pool
from newsaudit.benchmarks.scale.run import BenchParams, check_targets, memory_per_page, near_duplicate_quality
from newsaudit.benchmarks.syndication_corpus import SyndicationParams

WORDS = [
    "river",
    "council",
    "storm",
    "harbour",
    "budget",
    "school",
    "bridge",
    "market",
    "village",
    "doctor",
    "police",
    "court",
]


def _sentences(n: int = 400) -> list[str]:
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(WORDS, 12)).capitalize() + f" number {i}." for i in range(n)]


SITES = [([f"Site {k} home", f"Site {k} menu"], [f"© Site {k}", "All rights reserved"]) for k in range(6)]


def test_sentence_pool_splits_dedups_and_drops_short_sentences():
    pool = sentence_pool(
        ["Alpha beta gamma delta epsilon zeta. Too short.\nAlpha beta gamma delta epsilon zeta."], 6
    )
    assert pool == ["Alpha beta gamma delta epsilon zeta."]


def test_generated_pages_plant_copies_deterministically():
    params = BenchCorpusParams(words_per_page=120, p_copies=0.5, p_recrawl=0.2, max_copies=2)
    syn = SyndicationParams()
    pages = list(generate_pages(300, _sentences(), SITES, params, syn))
    assert pages == list(generate_pages(300, _sentences(), SITES, params, syn))
    frame = pd.DataFrame(pages, columns=["doc_id", "site", "origin", "kind", "text"])
    assert len(frame) == 300 and frame["doc_id"].is_unique
    copies = frame[frame["kind"] != "original"]
    assert len(copies) > 30 and set(copies["kind"]) == {"copy", "recrawl"}
    # every copy shares its origin with an original page; a syndicated copy is on another site
    originals = frame[frame["kind"] == "original"].set_index("origin")
    assert copies["origin"].isin(originals.index).all()
    syndicated = copies[copies["kind"] == "copy"]
    assert (syndicated["site"].to_numpy() != originals.loc[syndicated["origin"], "site"].to_numpy()).all()
    recrawls = copies[copies["kind"] == "recrawl"]
    assert (recrawls["text"].to_numpy() == originals.loc[recrawls["origin"], "text"].to_numpy()).all()
    # pages carry their site's wrapper around roughly words_per_page words
    body_words = frame["text"].str.split().str.len()
    assert body_words.median() == pytest.approx(120 + 10, rel=0.3)


def test_build_corpus_writes_shards_and_truth_and_reuses_them(tmp_path, monkeypatch):
    monkeypatch.setattr(bc, "load_articles", lambda syn: [" ".join(_sentences(200))])
    monkeypatch.setattr(bc, "load_sites", lambda syn: SITES)
    params = BenchCorpusParams(words_per_page=80, shard_pages=40)
    corpus = build_corpus(100, tmp_path, params, SyndicationParams())
    shards = sorted(corpus.glob("*.jsonl"))
    assert [p.name for p in shards] == ["pages-00000.jsonl", "pages-00001.jsonl", "pages-00002.jsonl"]
    records = [json.loads(line) for p in shards for line in p.read_text().splitlines()]
    truth = pd.read_parquet(tmp_path / "truth.parquet")
    assert [r["id"] for r in records] == truth["doc_id"].tolist()
    assert not (corpus / "truth.parquet").exists()  # the truth stays outside the corpus folder
    monkeypatch.setattr(bc, "load_articles", lambda syn: pytest.fail("a built corpus must be reused"))
    assert build_corpus(100, tmp_path, params, SyndicationParams()) == corpus


def test_near_duplicate_quality_scores_clusters_against_origins():
    truth = pd.DataFrame(
        {
            "doc_id": list("abcde"),
            "origin": [1, 1, 2, 3, 3],
            "kind": ["original", "copy", "original", "original", "copy"],
        }
    )
    pages = pd.DataFrame(
        {
            "doc_id": ["p" + x for x in "abcde"],
            "record_id": list("abcde"),
            "near_dup_cluster": ["pa", "pa", "pc", "pd", None],  # e missed (no text)
        }
    )
    q = near_duplicate_quality(pages, truth)
    assert q["planted_pairs"] == 2 and q["pair_precision"] == 1.0 and q["pair_recall"] == 0.5
    assert q["planted_copies"] == 2


def test_targets_are_judged_only_when_measured():
    report = {
        "runs": [
            {"pages": 10_000, "overall": {"seconds": 10.0, "pages_per_s": 1000.0, "peak_rss_mb": 900.0}},
            {"pages": 100_000, "overall": {"seconds": 120.0, "pages_per_s": 833.0, "peak_rss_mb": 950.0}},
        ],
        "comparison": {"near_duplicates": {"implementations": {"ours": {"speedup_vs_datasketch": 6.0}}}},
    }
    t = check_targets(report, BenchParams().targets)
    assert t["measured"]["time_ratio_100k_over_10k"] == 12.0
    assert t["met"] == {
        "pages_per_s_at_100k": False,
        "peak_rss_mb_at_1m": None,
        "peak_rss_ratio_1m_over_100k": None,
        "time_ratio_100k_over_10k": False,
        "near_dup_speedup_vs_datasketch": True,
    }
    report["runs"].append(
        {"pages": 1_000_000, "overall": {"seconds": 1300.0, "pages_per_s": 769.0, "peak_rss_mb": 1300.0}}
    )
    t = check_targets(report, BenchParams().targets)
    assert t["measured"]["peak_rss_ratio_1m_over_100k"] == round(1300 / 950, 3)
    assert t["met"]["peak_rss_mb_at_1m"] is True and t["met"]["peak_rss_ratio_1m_over_100k"] is False


def test_memory_per_page_shows_the_bytes_each_extra_page_adds():
    def run(n, boiler, overall):
        return {
            "pages": n,
            "engine": "local",
            "stages": {"boilerplate": {"peak_rss_mb": boiler}, "classify": {"skipped": "no model"}},
            "overall": {"peak_rss_mb": overall},
        }

    got = memory_per_page([run(100_000, 1100.0, 1200.0), run(10_000, 1000.0, 1100.0)])
    boiler = got["local"]["boilerplate"]
    assert boiler["kb_per_page"] == {"10000": 102.4, "100000": 11.264}
    assert boiler["bytes_per_extra_page"] == round(100 * 2**20 / 90_000, 1)  # 100 MB over 90k pages
    assert "classify" not in got["local"] and "bytes_per_extra_page" in got["local"]["overall"]
