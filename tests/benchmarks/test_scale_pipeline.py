"""datatrove's pipeline end to end beside ours (benchmarks/scale/compare_pipeline.py), on pages made here."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from newsaudit.benchmarks.scale import compare_pipeline as cp
from newsaudit.steps.dedup.params import DuplicatesParams

STOP_WORDS = ["the", "and", "of", "to", "that", "with", "have", "be"]


def _article(rng: np.random.Generator, vocab: list[str]) -> list[str]:
    """Ten 15-word sentences of made-up words and English stop words (Gopher's quality filter wants
    at least two stop words), as five two-sentence paragraphs."""
    words = [
        [str(rng.choice(vocab)) if rng.random() > 0.3 else str(rng.choice(STOP_WORDS)) for _ in range(15)]
        for _ in range(10)
    ]
    return [" ".join(w) for w in words]


def _write_corpus(folder, n_origins: int = 60, n_near: int = 15, n_exact: int = 10, seed: int = 0):
    """Two JSONL shards: ``n_origins`` articles, near copies of the first ``n_near`` (two words of
    150 replaced) and exact copies of the next ``n_exact``. Returns the page ids and origins."""
    rng = np.random.default_rng(seed)
    letters = np.asarray(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, 6)) for _ in range(3000)]
    pages = []
    for origin in range(n_origins):
        sentences = _article(rng, vocab)
        pages.append((origin, sentences))
        if origin < n_near:
            edited = [s.split() for s in sentences]
            for k in (2, 7):
                edited[k][5] = "changedword"
            pages.append((origin, [" ".join(s) for s in edited]))
        elif origin < n_near + n_exact:
            pages.append((origin, sentences))
    corpus = folder / "corpus"
    corpus.mkdir()
    half = len(pages) // 2
    ids, origins = [], []
    for shard, chunk in enumerate((pages[:half], pages[half:])):
        with (corpus / f"pages-{shard:05d}.jsonl").open("w") as fh:
            for origin, sentences in chunk:
                doc_id = f"p{len(ids)}"
                text = "\n".join(" ".join(sentences[i : i + 2]).capitalize() + "." for i in range(0, 10, 2))
                fh.write(
                    json.dumps({"id": doc_id, "url": f"https://x/{doc_id}", "source": "x", "text": text})
                    + "\n"
                )
                ids.append(doc_id)
                origins.append(origin)
    pd.DataFrame({"doc_id": ids, "origin": origins}).to_parquet(folder / "truth.parquet")
    return ids, origins


def _run(folder, ids, marked_copies: int) -> dict:
    """What run_size returns for the audited corpus: stage figures and the audit's pages table, in
    which the last ``marked_copies`` pages are copies (half exact, half non-representative)."""
    audit = folder / "audit-local"
    audit.mkdir()
    n = len(ids)
    exact = [None] * n
    cluster = [None] * n
    rep = [None] * n
    for i in range(n - marked_copies, n):
        if i % 2:
            exact[i] = ids[0]
        else:
            cluster[i], rep[i] = ids[1], False
    cluster[1], rep[1] = ids[1], True
    pd.DataFrame(
        {"doc_id": ids, "exact_dup_of": exact, "near_dup_cluster": cluster, "is_representative": rep}
    ).to_parquet(audit / "pages.parquet")
    stages = {
        s: {"seconds": 1.0, "peak_rss_mb": 100.0 + k}
        for k, s in enumerate(["ingest", "boilerplate", "duplicates", "classify"])
    }
    return {"pages": n, "stages": stages, "overall": {"seconds": 4.0}, "audit_dir": str(audit)}


@pytest.mark.slow
def test_datatrove_pipeline_runs_end_to_end_and_removes_the_planted_copies(tmp_path):
    ids, origins = _write_corpus(tmp_path)
    run = _run(tmp_path, ids, marked_copies=7)
    entry = cp.compare_pipeline(run, tmp_path / "corpus", DuplicatesParams(), workers=2)
    dt = entry["datatrove"]
    assert dt["available"], dt["reason"]
    assert list(dt["stages"]) == ["filter", "signatures", "buckets", "clusters", "dedup"]
    planted = len(ids) - len(set(origins))
    assert entry["planted_copies"] == planted == 25
    # every made-up article passes datatrove's Gopher filters; its MinHash removes exactly the copies
    assert dt["dropped_by_filters"] == 0 and dt["documents"]["after_filters"] == len(ids)
    assert dt["removed_as_duplicates"] == planted
    assert dt["seconds"] == pytest.approx(sum(s["seconds"] for s in dt["stages"].values()), abs=0.02)
    # ours: the three equivalent stages of the run and the copies its pages table marks
    assert entry["ours"]["seconds"] == 3.0 and entry["ours"]["seconds_with_classify"] == 4.0
    assert entry["ours"]["peak_rss_mb"] == 102.0
    assert entry["ours"]["removed_as_duplicates"] == 7
    assert entry["speedup_vs_datatrove"] == pytest.approx(dt["seconds"] / 3.0, rel=1e-3)
    assert entry["speedup_vs_datatrove_with_classify"] == pytest.approx(dt["seconds"] / 4.0, rel=1e-3)
    assert not list(tmp_path.glob("datatrove-pipeline-*")), "the work folder must be removed"


@pytest.mark.slow
def test_pages_the_filters_drop_leave_no_input_for_the_minhash_stages(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "\n".join(["buy buy buy buy buy buy buy buy buy buy"] * 20)  # Gopher drops it
    with (corpus / "pages-00000.jsonl").open("w") as fh:
        for i in range(5):
            fh.write(json.dumps({"id": f"p{i}", "text": text}) + "\n")
    measured = cp.run_datatrove_pipeline(corpus, DuplicatesParams(), workers=1)
    assert list(measured["stages"]) == ["filter"]
    assert measured["documents"] == {"after_filters": 0, "after_dedup": 0}


def test_datatrove_missing_is_reported_not_raised(tmp_path, monkeypatch):
    ids, _ = _write_corpus(tmp_path, n_origins=4, n_near=1, n_exact=1)
    run = _run(tmp_path, ids, marked_copies=2)

    def missing():
        raise ImportError("No module named 'datatrove'")

    monkeypatch.setattr(cp, "_prepare", missing)
    entry = cp.compare_pipeline(run, tmp_path / "corpus", DuplicatesParams(), workers=1)
    assert entry["datatrove"] == {"available": False, "reason": "not installed: No module named 'datatrove'"}
    assert "speedup_vs_datatrove" not in entry
    assert entry["ours"]["removed_as_duplicates"] == 2 and entry["planted_copies"] == 2
