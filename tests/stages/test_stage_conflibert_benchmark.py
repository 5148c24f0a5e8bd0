"""The conflibert-benchmark stage end to end on a small ConfliBERT-format corpus: the benchmark
writes its headline metrics and tables, and ``--variants`` compares with what it wrote."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import yaml

from newsaudit.cli import main
from newsaudit.core.paths import tables_beside
from newsaudit.training.labels import PAIR_COLUMNS


def _write_split(folder, split: str, n: int, seed: int) -> None:
    """BBC_News format: text TAB politics-label; politics texts carry their own words."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        politics = i % 3 == 0
        words = (
            ["minister", "parliament", "vote", "party"] if politics else ["match", "goal", "album", "market"]
        )
        text = " ".join(rng.choice([*words, "the", "said", "today", "people"], size=40))
        lines.append(f"{text}\t{int(politics)}")
    (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_variants_compare_with_the_benchmark_the_stage_wrote(tmp_path, params_file):
    root = tmp_path / "conflibert"
    (root / "BBC_News").mkdir(parents=True)
    for seed, (split, n) in enumerate([("train", 90), ("dev", 30), ("test", 30)]):
        _write_split(root / "BBC_News", split, n, seed)
    pairs = tmp_path / "pairs.parquet"
    pd.DataFrame(
        {c: pd.Series(dtype=str if "split" in c or c in ("dataset", "kind") else int) for c in PAIR_COLUMNS}
    ).to_parquet(pairs)
    section = {
        "conflibert_root": str(root),
        "leakage_pairs": str(pairs),
        "datasets": ["BBC_News"],
        "c_grid": [4.0],
    }
    params = params_file(yaml.safe_dump({"conflibert_benchmark": section}))
    metrics = tmp_path / "metrics" / "conflibert_benchmark.json"
    common = ["--params", params, "conflibert-benchmark", "--metrics", str(metrics)]
    outputs = ["--plot", str(tmp_path / "plot.csv"), "--timings", str(tmp_path / "timings.json")]
    assert main(common + outputs) in (0, None)
    headline = json.loads(metrics.read_text(encoding="utf-8"))
    assert set(headline["f1_test_deduplicated"]) == {"BBC_News"}

    out = tmp_path / "variants.json"
    assert main([*common, "--variants", "nbsvm", "--variants-out", str(out)]) in (0, None)
    variants = json.loads(out.read_text(encoding="utf-8"))
    row = variants["datasets"]["BBC_News"]["nbsvm"]
    assert variants["complete"] is True
    tables = pd.read_csv(tables_beside(metrics) / "datasets.csv")
    # the baseline figures are the benchmark's own, read back from its table
    assert row["baseline_cv_score"] == round(float(tables.loc[0, "cv_selection.4"]), 4)
    assert row["baseline_test_original_f1"] == round(float(tables.loc[0, "test_original.f1"]), 4)
    assert 0 <= row["test_original_f1"] <= 100


def test_variants_without_a_benchmark_name_the_missing_table(tmp_path, params_file, caplog):
    params = params_file(
        yaml.safe_dump({"conflibert_benchmark": {"conflibert_root": str(tmp_path), "datasets": []}})
    )
    pairs = tmp_path / "pairs.parquet"
    pd.DataFrame({c: [] for c in PAIR_COLUMNS}).to_parquet(pairs)
    metrics = tmp_path / "m" / "conflibert_benchmark.json"
    argv = [
        "--params",
        params,
        "conflibert-benchmark",
        "--pairs",
        str(pairs),
        "--metrics",
        str(metrics),
        "--variants",
    ]
    assert main(argv) == 2
    assert "datasets.csv" in caplog.text and "run `newsaudit conflibert-benchmark` first" in caplog.text
