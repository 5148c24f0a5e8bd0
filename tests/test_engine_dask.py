"""The Dask engine gives the local engine's output, on a 2-worker LocalCluster (processes).

The corpus is made here: three sites with header/footer templates (one too small for its own
template scope), records without a source (the corpus-wide scope), error pages, repeated paragraphs,
exact copies and near-duplicate copies spread over partitions of 16 rows, and a story syndicated to
many pages so that LSH buckets exceed ``max_bucket_pairs``.
"""

from __future__ import annotations

import json

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from test_train import SMALL, make_labels

from newsaudit.steps.boilerplate.clean import (
    BoilerplateParams,
    annotate_boilerplate,
    corpus_templates,
    template_line_counts,
)
from newsaudit.steps.boilerplate.lines import split_lines
from newsaudit.steps.dedup.step import DuplicatesParams, _eligible, annotate_duplicates, canonical_pages, exact_keys
from newsaudit.lib.minhash import (
    drop_frequent_lines,
    frequent_lines,
    near_duplicate_clusters,
    page_line_hashes,
)
from newsaudit.engines.dask.legacy import (
    DaskParams,
    audit_pages_dask,
    boilerplate_dask,
    connect,
    duplicates_dask,
    ingest_dask,
    pages_frame,
    predict_dask,
    template_counts_dask,
    template_index_dask,
)
from newsaudit.core.errors import NewsauditError
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams, ingest
from newsaudit.steps.classify.score import PredictParams, annotate_predictions
from newsaudit.training.train import train_model

ROWS = 16  # pages per partition: the corpus spans several partitions
_PROSE = (
    "the government said on monday that talks with regional leaders would continue next week while "
    "officials in the capital prepared a new budget for schools hospitals roads and water projects "
    "farmers reported good rains across the north and prices of maize fell in local markets as "
    "traders brought more grain from the villages teachers called for higher wages and better "
    "training after a year of strikes in several provinces a court ruled that the election results "
    "were valid and the opposition accepted the decision the central bank kept interest rates "
    "unchanged and said inflation was slowing tourism grew strongly with more visitors from abroad"
)
WORDS = _PROSE.split()
VIOLENT = [
    "gunmen attacked a police post near the border and killed {n} officers before fleeing",
    "a bomb exploded in a crowded market, killing {n} people and wounding many others",
    "rebels ambushed an army convoy on the highway and {n} soldiers were shot dead",
]
SITES = {
    "dailyexample.com": (30, "Daily Example | Home | World | Politics | Sport"),
    "morningherald.co.uk": (25, "Morning Herald | News | Business | Culture"),
    "smalltimes.org": (12, "Small Times | Local | Weather"),
}
FOOTER = "Copyright 2024 {name}. All rights reserved."
SYNDICATION = (
    "This story was first published by a partner agency and is republished here with its kind "
    "permission under a content sharing agreement"
)


def _paragraph(rng: np.random.Generator, n: int = 28) -> str:
    return " ".join(rng.choice(WORDS, size=n)).capitalize() + "."


def _story(seed: int, violent: bool) -> list[str]:
    rng = np.random.default_rng(seed)
    paras = [_paragraph(rng) for _ in range(int(rng.integers(3, 6)))]
    if violent:
        paras.insert(1, VIOLENT[seed % 3].format(n=int(rng.integers(2, 30))).capitalize() + ".")
    return paras


def _edit(paras: list[str], seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(w if rng.random() > 0.04 else "edited" for w in p.split(" ")) for p in paras]


def _page(site_header: str, name: str, body: list[str]) -> str:
    return "\n".join([site_header, "Sign in to your account", *body, FOOTER.format(name=name)])


def make_corpus(root) -> None:
    """~95 inputs: site folders of .txt pages, a JSONL of source-less records, two rejected files."""
    syndicated = _story(999, violent=True)
    shared = _story(500, violent=False)
    k = 0
    for site, (n, header) in SITES.items():
        folder = root / site
        folder.mkdir(parents=True)
        name = header.split(" | ")[0]
        for i in range(n):
            k += 1
            if i % 11 == 3:
                text = f"{header}\n404 Not Found\nThe page you requested could not be found."
            elif i % 6 == 0:  # the syndicated story, lightly edited per page (a big LSH bucket)
                text = _page(header, name, _edit(syndicated, k) if i % 12 else syndicated)
            elif i % 9 == 4:  # one shared story, copied exactly across sites
                text = _page(header, name, shared)
            else:
                body = _story(k, violent=k % 3 == 0)
                if k % 5 == 0:
                    body = [*body, body[0]]  # a repeated paragraph
                if site == "smalltimes.org":
                    body = [*body, SYNDICATION]
                text = _page(header, name, body)
            (folder / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    with (root / "feed.jsonl").open("w", encoding="utf-8") as fh:
        for j in range(20):
            body = _story(700 + j, violent=j % 2 == 0) if j % 7 else _edit(_story(702, True), j)
            text = "\n".join(["Subscribe to our newsletter", *body, SYNDICATION])
            fh.write(json.dumps({"id": f"r{j}", "text": text}) + "\n")
    (root / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    (root / "empty.txt").write_bytes(b"")


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    make_corpus(root)
    return root


@pytest.fixture(scope="module")
def ingested(client, corpus, tmp_path_factory):
    """The corpus ingested by both engines: (local path, dask path, local summary, dask summary)."""
    out = tmp_path_factory.mktemp("ingest")
    params = IngestParams(workers=1, row_group_size=10)
    corpus_params = CorpusParams(path=str(corpus))
    local = ingest(corpus_params, params, out / "local.parquet")
    remote = ingest_dask(client, corpus_params, params, out / "dask.parquet", files_per_partition=8)
    return out / "local.parquet", out / "dask.parquet", local, remote


@pytest.fixture(scope="module")
def pages(ingested):
    return pd.read_parquet(ingested[0])


@pytest.fixture(scope="module")
def bundle():
    return train_model(make_labels(n_per_source=40), SMALL)[0]


BP = BoilerplateParams()
DUP = DuplicatesParams(max_bucket_pairs=3)  # small: big buckets are checked as stars
PRED = PredictParams()
DP = DaskParams(partition_rows=ROWS)


def assert_same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal values (floats bit for bit), dtypes, columns and index."""
    pd.testing.assert_frame_equal(left, right, check_exact=True)


def _local_chain(pages: pd.DataFrame, bundle) -> tuple[pd.DataFrame, pd.DataFrame]:
    clean, removed = annotate_boilerplate(pages, BP, None)
    return annotate_predictions(annotate_duplicates(clean, DUP), bundle, PRED), removed


def test_ingest_same_rows_and_summary(client, ingested, tmp_path, corpus):
    local_path, dask_path, local, remote = ingested
    assert_same(pd.read_parquet(dask_path), pd.read_parquet(local_path))
    assert remote == local
    assert local["rejected"] == 2 and local["accepted"] > 80
    # workers writing part files: the folder reads back as the same table
    ingest_dask(client, CorpusParams(path=str(corpus)), IngestParams(), tmp_path / "parts", parts=True)
    assert len(list((tmp_path / "parts").glob("part.*.parquet"))) > 1
    assert_same(pd.read_parquet(tmp_path / "parts"), pd.read_parquet(local_path))


def test_parquet_partitions_read_as_pandas_reads_the_file(ingested, pages):
    ddf = pages_frame(ingested[0], ROWS)
    assert ddf.npartitions == -(-len(pages) // ROWS) and ddf.known_divisions
    assert_same(ddf.compute(), pages)


def test_template_counts_and_index_equal_local(client, pages):
    ddf = pages_frame(pages, ROWS)
    acc = pages[(pages["status"] == "accepted") & pages["raw_text"].notna()]
    sources = [s if isinstance(s, str) and s else None for s in acc["source"]]
    local = template_line_counts(sources, [split_lines(t) for t in acc["raw_text"]], BP)
    remote = template_counts_dask(ddf, BP).compute()
    remote = remote.sort_values(["source", "line_hash"], ignore_index=True)
    assert_same(remote, local)
    index, _ = template_index_dask(ddf, BP)
    expected = corpus_templates(pages, BP)
    assert index == expected
    assert sum(len(v) for v in expected.lines.values()) >= 6  # headers and footers were found


def test_boilerplate_identical(client, pages):
    local, local_removed = annotate_boilerplate(pages, BP, None)
    notes: dict = {}
    annotated, removed = boilerplate_dask(client, pages, BP, None, DP, notes)
    assert_same(annotated.compute(), local)
    removed = removed.compute().sort_values(["doc_id", "line_no"], kind="stable").reset_index(drop=True)
    assert_same(removed, local_removed)
    assert local["is_error_page"].sum() >= 5
    assert set(local_removed["reason"]) >= {"site_template", "error_page"}
    assert notes["boilerplate"]["partitions"] == annotated.npartitions > 4


def test_duplicates_identical(client, pages):
    clean, _ = annotate_boilerplate(pages, BP, None)
    local = annotate_duplicates(clean, DUP)
    notes: dict = {}
    remote = duplicates_dask(client, clean, DUP, DP, notes).compute()
    assert_same(remote, local)
    # the corpus exercises what it should
    assert local["exact_dup_of"].notna().sum() >= 3
    sizes = local["near_dup_cluster"].value_counts()
    assert sizes.max() >= 8 and (sizes > 1).sum() >= 3
    assert (local["repeated_paragraphs_removed"] > 0).sum() >= 3
    # the same LSH candidates (big buckets as stars), verified edges and frequent lines
    near, frequent = _local_near(local, DUP)
    dup = notes["duplicates"]
    assert (dup["candidate_pairs"], dup["verified_edges"]) == (near.n_candidates, len(near.pairs))
    assert dup["frequent_lines"] == frequent >= 1
    assert near.n_candidates < _local_near(local, DuplicatesParams())[0].n_candidates  # stars used


def _local_near(dedup: pd.DataFrame, params: DuplicatesParams):
    """What the local stage clusters: canonical pages, frequent lines dropped (its own steps)."""
    ok = _eligible(dedup)
    texts = dedup.loc[ok, "clean_text"]
    frame = pd.DataFrame(
        {
            "doc_id": dedup.loc[ok, "doc_id"].astype(str),
            "_len": texts.str.len(),
            "_key": exact_keys(texts.tolist()),
        }
    )
    frame = canonical_pages(frame[frame["_key"].notna()])
    uniq = texts.loc[frame.index[frame["_canon"] == frame["doc_id"]]].tolist()
    frequent = frequent_lines(page_line_hashes(uniq), params.frequent_line_pages).size
    filtered = drop_frequent_lines(uniq, params.frequent_line_pages, params.frequent_line_min_keep)
    ids = frame.loc[frame["_canon"] == frame["doc_id"], "doc_id"].tolist()
    return near_duplicate_clusters(filtered, ids, **params.lsh_kwargs()), frequent


def test_stage_input_from_parquet_written_by_pandas(client, pages, tmp_path):
    """Extension dtypes (Int64, boolean, string) and nullable numpy columns survive row slices."""
    clean, _ = annotate_boilerplate(pages, BP, None)
    path = tmp_path / "clean.parquet"
    clean.to_parquet(path, index=False, row_group_size=10)
    read = pd.read_parquet(path)
    assert_same(pages_frame(path, ROWS).compute(), read)
    remote = duplicates_dask(client, path, DUP, DP).compute()
    assert_same(remote, annotate_duplicates(read, DUP))


def test_predictions_identical(client, pages, bundle):
    clean, _ = annotate_boilerplate(pages, BP, None)
    dedup = annotate_duplicates(clean, DUP)
    local = annotate_predictions(dedup, bundle, PRED)
    remote = predict_dask(client, dedup, bundle, PRED, DP).compute()
    assert_same(remote, local)
    assert local["classified"].sum() >= 20 and local["cluster_size"].max() >= 8


def test_audit_chain_from_parquet_identical(client, ingested, pages, bundle):
    local, local_removed = _local_chain(pages, bundle)
    result = audit_pages_dask(
        client,
        ingested[1],
        {"dask": {"partition_rows": ROWS}, "duplicates": {"max_bucket_pairs": 3}},
        None,
        bundle,
    )
    assert_same(result.pages, local)
    assert_same(result.removed, local_removed)
    assert set(result.notes) >= {"boilerplate", "duplicates", "predict"}
    assert any("shuffled on (band, key)" in s for s in result.notes["duplicates"]["shuffles"])


def test_frame_of_unknown_divisions_is_renumbered(client, pages):
    with dask.config.set({"dataframe.convert-string": False}):  # pandas' dtypes, as the engine reads
        ddf = dd.from_pandas(pages, npartitions=5).clear_divisions()
    assert not ddf.known_divisions
    local, _ = annotate_boilerplate(pages, BP, None)
    annotated, _ = boilerplate_dask(client, ddf, BP, None)
    assert annotated.known_divisions
    assert_same(annotated.compute(), local)


def test_audit_keeps_a_pandas_index_and_runs_without_a_model(client, pages):
    shuffled = pages.sample(frac=1, random_state=3)
    shuffled.index = [f"row-{i}" for i in shuffled.index]
    clean, _ = annotate_boilerplate(shuffled, BP, None)
    local = annotate_duplicates(clean, DuplicatesParams())
    result = audit_pages_dask(client, shuffled, {"dask": {"partition_rows": 24}}, None, None)
    assert_same(result.pages, local)
    assert "predict" not in result.notes


def test_too_many_edges_is_a_clear_error(client, pages):
    clean, _ = annotate_boilerplate(pages, BP, None)
    with pytest.raises(NewsauditError, match="client_edges_max"):
        duplicates_dask(client, clean, DUP, DaskParams(partition_rows=ROWS, client_edges_max=1)).compute()


def test_repeated_doc_id_fails(client):
    frame = pd.DataFrame({"doc_id": ["a", "a"], "clean_text": ["x y", "z w"]})
    with pytest.raises(NewsauditError, match="doc_id 'a'"):
        duplicates_dask(client, frame, DUP, DP)


def test_connect_starts_and_stops_a_local_cluster():
    with connect(DaskParams(workers=1)) as c:
        assert len(c.scheduler_info()["workers"]) == 1
        assert c.submit(sum, [1, 2]).result() == 3
