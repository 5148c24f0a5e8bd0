"""``newsaudit duplicates``: the deduplicated table, its metrics and plots, from a table written here."""

from __future__ import annotations

import json

import pandas as pd

from newsaudit.cli import main

PARAS = [
    "The council approved the new budget after a long debate on Tuesday evening in the town hall.",
    "Opposition members walked out before the final vote was taken by the chair of the session.",
    "The mayor said the plan would fund three new schools and a clinic in the northern district.",
]


def _table(path):
    body = "\n".join(PARAS)
    pages = pd.DataFrame(
        {
            "doc_id": ["d1", "d2", "d3", "d4"],
            "source": ["a.com", "b.com", None, "c.com"],
            "status": ["accepted", "accepted", "rejected", "accepted"],
            "clean_text": [body, body + "\n" + body, None, "Something else entirely, about the weather."],
            "is_error_page": [False, False, False, False],
        }
    )
    pages.to_parquet(path, index=False)


def _argv(tmp_path, params_file, *extra: str) -> list[str]:
    src = tmp_path / "pages_clean.parquet"
    if not src.exists():
        _table(src)
    return [
        "--params",
        params_file(),
        "duplicates",
        "--input",
        str(src),
        "--output",
        str(tmp_path / "pages_dedup.parquet"),
        "--metrics",
        str(tmp_path / "duplicates.json"),
        "--plots",
        str(tmp_path / "plots"),
        *extra,
    ]


def test_stage_writes_table_metrics_and_plots(tmp_path, params_file):
    argv = _argv(tmp_path, params_file)
    assert main(argv) == 0
    table = pd.read_parquet(tmp_path / "pages_dedup.parquet").set_index("doc_id")
    assert table.at["d2", "exact_dup_of"] == "d1"  # equal once the repeated copy is removed
    assert table.at["d2", "repeated_paragraphs_removed"] == 3
    assert pd.isna(table.at["d3", "near_dup_cluster"])
    metrics = tmp_path / "duplicates.json"
    stats = json.loads(metrics.read_text())
    assert stats["exact_duplicate_pages"] == 1 and stats["pages_with_repeated_paragraphs"] == 1
    tables = tmp_path / "duplicates.tables"  # breakdowns beside the metrics
    skipped = pd.read_csv(tables / "pages_skipped.csv")
    assert dict(zip(skipped["reason"], skipped["pages"], strict=True)) == {
        "rejected_or_no_text": 1,
        "error_pages": 0,
    }
    assert pd.read_csv(tables / "syndication.csv").to_dict("records") == [
        {"from": "a.com", "to": "b.com", "pages": 1}
    ]
    plots = tmp_path / "plots"
    assert (plots / "cluster_sizes.csv").is_file() and (plots / "s_curve.csv").is_file()
    assert (plots / "duplicates.png").is_file()
    first = metrics.read_bytes()
    assert main(argv) == 0
    assert metrics.read_bytes() == first


def test_engines_write_the_same_files(tmp_path, params_file):
    files = {}
    for engine in ("memory", "stream"):
        d = tmp_path / engine
        d.mkdir()
        assert main(_argv(d, params_file, "--engine", engine)) == 0
        files[engine] = d
    pd.testing.assert_frame_equal(
        pd.read_parquet(files["memory"] / "pages_dedup.parquet"),
        pd.read_parquet(files["stream"] / "pages_dedup.parquet"),
    )
    for name in ("duplicates.json", "plots/cluster_sizes.csv", "plots/s_curve.csv"):
        assert (files["memory"] / name).read_bytes() == (files["stream"] / name).read_bytes(), name


def test_missing_input_is_a_clear_error(tmp_path, params_file, caplog):
    code = main(
        [
            "--params",
            params_file(),
            "duplicates",
            "--input",
            str(tmp_path / "nope.parquet"),
            "--output",
            str(tmp_path / "o.parquet"),
        ]
    )
    assert code == 2
    assert "nope.parquet" in caplog.text


def test_bad_banding_exits_2(tmp_path, params_file, caplog):
    argv = _argv(tmp_path, params_file)
    argv[1] = params_file("duplicates:\n  num_perm: 64\n  bands: 32\n  rows: 4\n")
    assert main(argv) == 2
    assert "bands x rows" in caplog.text
