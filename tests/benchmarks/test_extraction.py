"""The boilerplate benchmark: its metric against published scores, and its tables on pages made here."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from newsaudit.benchmarks.extraction import (
    BoilerplateBenchParams,
    keep_min_words,
    run_benchmark,
    trafilatura_eval_table,
)
from newsaudit.core import paths
from newsaudit.core.errors import NewsauditError
from newsaudit.lib.extraction_metric import doc_tp_fp_fn, segment_counts, shingle_scores
from newsaudit.stages import bench_boilerplate

ARTICLE = (
    "The council voted on Tuesday to build a flood barrier along the river after a long debate, "
    "officials said in a statement released in the evening."
)
PAGE = f"""<html><body><nav>Home | Markets | Opinion</nav><article><p>{ARTICLE}</p></article>
<footer><p>Share this story</p></footer></body></html>"""


def test_shingle_metric():
    text = "one two three four five six"
    assert doc_tp_fp_fn(text, text) == (1.0, 0.0, 0.0)
    s = shingle_scores([text, text], [text, "alpha beta gamma delta"], n_bootstrap=50)
    assert s["precision"] == pytest.approx(0.5) and s["recall"] == pytest.approx(0.5)
    # An empty prediction does not count in precision (as in the benchmark), only in recall.
    s = shingle_scores([text, text], [text, ""], n_bootstrap=0)
    assert s["precision"] == 1.0 and s["recall"] == 0.5
    assert segment_counts("a b  c", ["a b c", "x"], ["c"]) == {"tp": 1, "fn": 1, "fp": 1, "tn": 0}


@pytest.mark.mirror
def test_metric_reproduces_published_scores(mirror):
    root = mirror / "scrapinghub-article-extraction-benchmark"
    if not (root / "ground-truth.json").is_file():
        pytest.skip(f"mirror not available at {root}")
    gt = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(gt)
    golds = [gt[k]["articleBody"] for k in keys]
    expected = {"html-text": 0.665, "trafilatura": 0.958}
    for name, f1 in expected.items():
        data = json.loads((root / "output" / f"{name}.json").read_text(encoding="utf-8"))
        data = data.get("output", data) if "version" in data else data
        s = shingle_scores(golds, [data[k].get("articleBody", "") for k in keys], n_bootstrap=0)
        assert s["f1"] == pytest.approx(f1, abs=0.0015), name


def test_keep_min_words_is_the_length_rule():
    assert keep_min_words("one two three\nfour five\n\nsix seven eight nine", 3) == (
        "one two three\nsix seven eight nine"
    )


def _trafilatura_eval(root: Path) -> Path:
    (root / "tests" / "eval").mkdir(parents=True)
    (root / "tests" / "eval" / "a.html").write_text(PAGE, encoding="utf-8")
    entry = {"file": "a.html", "with": ["build a flood barrier"], "without": ["Share this story"]}
    (root / "evaldata.json").write_text(json.dumps({"https://example.org/a": entry}), encoding="utf-8")
    return root


def test_trafilatura_eval_table_scores_each_method_and_the_out_of_fold_text(tmp_path):
    root = _trafilatura_eval(tmp_path / "trafilatura-eval")
    oof = tmp_path / "oof.parquet"
    oof_rows = {"doc_id": ["trafilatura-eval/a.html"], "source": ["x"], "clean_text": [ARTICLE]}
    pd.DataFrame(oof_rows).to_parquet(oof)
    rows = {r["method"]: r for r in trafilatura_eval_table(root, oof, BoilerplateBenchParams())}
    assert set(rows) == {
        "full text, no cleaning",
        "lines >= 15 words",
        "newsaudit HTML mode (trafilatura)",
        "newsaudit line model (out-of-fold)",
    }
    # the full text keeps the must-drop segment; the out-of-fold clean text drops it
    assert rows["full text, no cleaning"]["precision"] < 1.0
    assert rows["newsaudit line model (out-of-fold)"]["f1"] == 1.0
    # without the out-of-fold file the line model is left out, not scored as a miss
    assert "newsaudit line model (out-of-fold)" not in {
        r["method"] for r in trafilatura_eval_table(root, tmp_path / "none.parquet", BoilerplateBenchParams())
    }


def test_missing_benchmark_data_is_a_clear_error(tmp_path):
    with pytest.raises(NewsauditError, match=r"ground-truth\.json is missing"):
        run_benchmark(tmp_path, None, tmp_path / "oof.parquet", BoilerplateBenchParams(), None)


def test_stage_options_and_defaults():
    parser = argparse.ArgumentParser()
    bench_boilerplate.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench-boilerplate"])
    assert (args.external, args.model, args.oof, args.out) == (
        "data/external",
        "models/line_model.skops",
        "data/interim/linemodel_oof.parquet",
        "reports/metrics/bench_boilerplate.json",
    )
    assert Path(args.out) == paths.metrics("bench_boilerplate")
