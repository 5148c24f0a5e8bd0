"""``predict``: which pages are scored, nulls with reasons for the others, stats, ad-hoc inputs."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_train import SMALL, make_labels

from newsaudit import cli
from newsaudit.steps.classify.model import save_model
from newsaudit.core.errors import NewsauditError
from newsaudit.steps.classify.score import PredictParams, annotate_predictions, corpus_stats, read_input
from newsaudit.training.train import train_model

ATTACK = "rebels attacked a police post in Imphal and killed 9 officers. officials said on monday. " * 3
CALM = "the local football club from Cali won the cup final after extra time. the report said. " * 3


@pytest.fixture(scope="module")
def bundle():
    return train_model(make_labels(), SMALL)[0]


def pages() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": ["a", "b", "c", "d", "e", "f", "g", "h"],
            "source": ["s1", "s1", "s1", "s2", "s2", "s2", "s2", "s2"],
            "language": ["en", "en", "en", "fr", "en", None, "en", "en"],
            "status": [
                "accepted",
                "accepted",
                "rejected",
                "accepted",
                "accepted",
                "accepted",
                "accepted",
                "accepted",
            ],
            "clean_text": [
                ATTACK,
                CALM,
                None,
                "des militants ont attaqué " * 20,
                ATTACK,
                CALM,
                "short",
                CALM,
            ],
            "is_error_page": [False, False, False, False, False, False, False, True],
            "is_representative": [True, True, True, True, False, True, True, True],
            "near_dup_cluster": [1, 2, None, 3, 1, 4, 5, 6],
        }
    )


def test_annotate_scores_only_eligible_pages_and_gives_reasons(bundle):
    out = annotate_predictions(pages(), bundle, PredictParams())
    assert out["classified"].tolist() == [True, True, False, False, False, False, False, False]
    assert out["unclassified_reason"].tolist()[2:] == [
        "rejected",
        "language_not_supported",
        "near_duplicate",
        "language_unknown",
        "too_short",
        "error_page",
    ]
    assert out["conflict_label"].tolist()[:2] == [True, False]
    # Unscored pages are null, never silently negative.
    assert out["conflict_label"].iloc[2:].isna().all()
    assert out["conflict_prob"].iloc[2:].isna().all()
    assert out["cluster_size"].tolist()[:2] == [2, 1]
    assert "killed" in out["conflict_terms"].iloc[0] or "attacked" in out["conflict_terms"].iloc[0]
    assert list(out.columns[:8]) == list(pages().columns)  # input columns kept, in order


def test_annotate_does_not_mutate_its_input(bundle):
    frame = pages()
    annotate_predictions(frame, bundle, PredictParams())
    assert "conflict_prob" not in frame.columns


def test_corpus_stats_by_source_and_language(bundle):
    stats = corpus_stats(annotate_predictions(pages(), bundle, PredictParams()))
    assert stats["overall"]["pages"] == 8 and stats["overall"]["classified"] == 2
    assert stats["overall"]["conflict_events"] == 1
    assert stats["by_source"]["s2"]["classified"] == 0 and stats["by_source"]["s2"]["share_conflict"] is None
    assert stats["by_language"]["fr"]["unclassified"] == {"language_not_supported": 1}
    assert stats["overall"]["share_conflict_cluster_weighted"] == pytest.approx(2 / 3)


def test_read_input_errors(tmp_path):
    (tmp_path / "no_text.csv").write_text("id,body\n1,hello\n", encoding="utf-8")
    with pytest.raises(NewsauditError, match="no 'text' column"):
        read_input(tmp_path / "no_text.csv")
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(NewsauditError):
        read_input(tmp_path / "empty.jsonl")
    with pytest.raises(NewsauditError, match="not found"):
        read_input(tmp_path / "absent.txt")


def test_read_input_folder_and_txt(tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "one.txt").write_text(ATTACK, encoding="utf-8")
    (tmp_path / "pages" / "two.html").write_text(f"<html><body><p>{CALM}</p></body></html>", encoding="utf-8")
    frame = read_input(tmp_path / "pages")
    assert frame["id"].tolist() == ["one.txt", "two.html"]
    assert "football" in frame["text"].iloc[1]
    assert read_input(tmp_path / "pages" / "one.txt")["id"].tolist() == ["one.txt"]


def test_cli_predict_ad_hoc_writes_every_text(bundle, tmp_path):
    model = tmp_path / "m.skops"
    save_model(bundle, model)
    params = tmp_path / "params.yaml"
    params.write_text("{}\n", encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(
            json.dumps({"id": i, "text": t})
            for i, t in [("x", ATTACK), ("y", CALM), ("z", "des militants ont attaqué la ville " * 5)]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    argv = ["--params", str(params), "predict", str(src), "--out", str(out), "--model", str(model)]
    assert cli.main(argv) == 0
    res = pd.read_csv(out)
    assert res["id"].tolist() == ["x", "y", "z"]
    assert res["conflict_label"].tolist()[:2] == [1, 0]
    assert res["language"].tolist() == ["en", "en", "fr"]
    assert pd.isna(res["conflict_prob"].iloc[2])
    assert res["unclassified_reason"].iloc[2] == "language_not_supported"


def test_cli_predict_missing_model_exits_2(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("{}\n", encoding="utf-8")
    code = cli.main(["--params", str(params), "predict", "--model", str(tmp_path / "none.skops")])
    assert code == 2


def test_score_texts_matches_predict_proba_exactly(bundle):
    from newsaudit.steps.classify.score import score_texts

    texts = [*make_labels()["text"].tolist()[:200], ATTACK, CALM]
    prob, terms = score_texts(bundle, texts, 3)
    assert (prob == bundle["model"].predict_proba(texts)[:, 1]).all()
    assert len(terms) == len(texts) and all(t.count(";") <= 2 for t in terms)


@pytest.mark.parametrize("workers", [1, 2])
def test_predict_parquet_streams_batches_with_corpus_wide_cluster_sizes(bundle, tmp_path, workers):
    from newsaudit.steps.classify.score import predict_parquet

    src, dst = tmp_path / "pages.parquet", tmp_path / "out.parquet"
    frame = pages().assign(near_dup_cluster=lambda d: d["near_dup_cluster"].astype("string"))
    frame.to_parquet(src, index=False)
    params = PredictParams(batch_size=3, workers=workers)
    small = predict_parquet(src, dst, bundle, params)
    whole = annotate_predictions(frame, bundle, params)
    got = pd.read_parquet(dst)
    # batches of 3 rows split cluster "1" (rows a and e) across batches: its size is still 2
    assert got["cluster_size"].tolist() == whole["cluster_size"].tolist() == [2, 1, 1, 1, 2, 1, 1, 1]
    assert got["conflict_prob"].tolist() == pytest.approx(
        whole["conflict_prob"].astype(float).tolist(), nan_ok=True
    )
    assert small["doc_id"].tolist() == frame["doc_id"].tolist()
