"""Fixtures of the report tests: a project tree holding every pipeline output the report reads, and
an audited pages table, with hostile strings (markup a scraped page may carry) in each of them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

# What a scraped page can contain. Each must reach the reader as visible text, never as markup.
HOSTILE = (
    "<script>window.__pwned = 1; alert(1)</script>",
    '<img src=x onerror="window.__pwned = 2; alert(1)">',
    "</table>",
)
SCRIPT, IMG, CLOSE = HOSTILE
ARTICLE = "Gunmen attacked a checkpoint in the north on Monday, killing two soldiers, police said. "


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


def _make_project(root: Path) -> Path:
    """A project tree with every pipeline output the report reads, hostile strings in each of them."""
    (root / "params.yaml").write_text("corpus:\n  path: data/external\nduplicates:\n  threshold: 0.8\n")
    (root / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  ingest:\n    cmd: newsaudit ingest\n    deps:\n"
        "    - path: data/external\n      hash: md5\n      md5: 560d9f5ddc90d12b586876f8a5c0169a.dir\n"
        "      size: 10\n      nfiles: 2\n    outs:\n    - path: data/interim/pages.parquet\n"
        "      hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n      size: 5\n"
    )
    metrics = root / "reports" / "metrics"
    _write_json(
        metrics / "ingest.json",
        {
            "inputs": 5,
            "accepted": 4,
            "rejected": 1,
            "rejected_by_reason": {"empty": 1},
            "by_format": {"html": {"accepted": 4}, "txt": {"rejected": 1}},
        },
    )
    _write_json(metrics / "boilerplate.json", {"pages": 4, "error_pages": 1, "mean_boilerplate_frac": 0.3125})
    _write_json(
        metrics / "bench_boilerplate.json",
        {
            "methods": [{"method": "newsaudit", "f1": 0.91}, {"method": SCRIPT, "f1": 0.5}],
        },
    )
    _write_json(metrics / "duplicates.json", {"near_dup_rate": 0.5, "clusters": 3})
    _write_json(metrics / "bench_duplicates.json", {"ari": 0.97, "pairwise_precision": 0.995})
    # As the leakage audit writes it: per dataset, counts by split and example pairs with texts.
    _write_json(
        metrics / "leakage.json",
        {
            "params": {"threshold": 0.8},
            "datasets": {
                "satp_all": {
                    "rows_with_duplicate_in_other_split": {
                        "exact": {"train": 2, "dev": 0, "test": 2},
                        "exact+near": {"train": 3, "dev": 1, "test": 2},
                    },
                    "examples": [
                        {
                            "kind": "exact",
                            "a": "train:4",
                            "b": "test:9",
                            "similarity": 1.0,
                            "text_a": IMG,
                            "text_b": CLOSE,
                        }
                    ],
                }
            },
        },
    )
    _write_json(metrics / "labels.json", {"rows": 100, "positives": 40})
    # Shapes as the evaluate and conflibert-benchmark stages write them.
    _write_json(
        metrics / "classifier.json",
        {
            "test": {"f1": 0.8, "roc_auc": 0.9, "confusion": {"tn": 50, "fp": 5, "fn": 8, "tp": 37}},
            "confusion_matrix": {"labels": [0, 1], "matrix": [[50, 5], [8, 37]]},
            "per_source": {"satp": {"f1": 0.85, "n": 60}, "bbc": {"f1": 0.7, "n": 40}},
        },
    )
    _write_json(
        metrics / "conflibert_benchmark.json",
        {
            "records": [
                {"dataset": "satp", "model": "tfidf", "f1": 0.8},
                {"dataset": "satp", "model": "ConfliBERT (published)", "f1": 0.9},
                {"dataset": "bbc", "model": "tfidf", "f1": 0.95},
                {"dataset": "bbc", "model": "ConfliBERT (published)", "f1": 0.97},
            ]
        },
    )
    _write_json(metrics / "classify.json", {"pages": 4, "conflict_events": 2})
    _write_json(metrics / "train.json", {"vocabulary": 5000, "note": "lone surrogate \ud800 in JSON"})
    _write_json(metrics / "bench.json", {"pages_per_second": 120.5})

    plots = root / "reports" / "plots"
    (plots / "classifier").mkdir(parents=True)
    pd.DataFrame({"fpr": [0, 0.1, 1], "tpr": [0, 0.8, 1]}).to_csv(
        plots / "classifier" / "roc.csv", index=False
    )
    pd.DataFrame({"recall": [0, 0.8, 1], "precision": [1, 0.9, 0.4]}).to_csv(
        plots / "classifier" / "pr.csv", index=False
    )
    pd.DataFrame({"mean_predicted": [0.1, 0.5, 0.9], "fraction_positive": [0.05, 0.6, 0.85]}).to_csv(
        plots / "classifier" / "calibration.csv", index=False
    )
    (plots / "duplicates").mkdir()
    pd.DataFrame(
        {
            "edit_rate": [0.0, 0.1, 0.0, 0.1],
            "method": ["ours", "ours", "exact_hash", "exact_hash"],
            "ari": [1.0, 0.9, 0.0, 0.0],
            "pair_precision": [1.0] * 4,
            "pair_recall": [1.0, 0.9, 0.0, 0.0],
        }
    ).to_csv(plots / "duplicates" / "recall_vs_edit_rate.csv", index=False)

    interim = root / "data" / "interim"
    interim.mkdir(parents=True)
    pd.DataFrame(
        {
            "doc_id": ["d1", "d2", "d3", "d4", "d5"],
            "path": ["a/1.html", "a/2.html", "b/3.html", "b/4.html", f"{SCRIPT}.txt"],
            "record": ["", "", "", "", ""],
            "format": ["html"] * 4 + ["txt"],
            "status": ["accepted"] * 4 + ["rejected"],
            "reason_code": ["", "", "", "", "empty"],
            "status_reason": ["", "", "", "", f"empty file {IMG}"],
            "n_chars": ["10", "10", "10", "10", "0"],
        }
    ).to_csv(interim / "manifest.csv", index=False)
    pages = pd.DataFrame(
        {
            "doc_id": ["d1", "d2", "d3", "d4"],
            # A control character (illegal in XML) in a label must not break the SVG figures.
            "source": ["a.com", "a.com", SCRIPT, "ctl\x0bsource"],
            "raw_text": [
                "Menu\nHome\n" + ARTICLE,
                "Menu\nHome\n" + ARTICLE + CLOSE,
                "404 Not Found " + SCRIPT,
                "Menu\n" + ARTICLE + IMG,
            ],
        }
    )
    clean = pages.assign(
        clean_text=[ARTICLE, ARTICLE + CLOSE, "", ARTICLE + IMG],
        is_error_page=[False, False, True, False],
        error_kind=[None, None, "not_found", None],
        boilerplate_frac=[0.125, 0.125, 1.0, 0.0],
    )
    clean.to_parquet(interim / "pages_clean.parquet", index=False)
    pd.DataFrame(
        {
            "doc_id": ["d1", "d1", "d2", "d2", "d4"],
            "line_no": [0, 1, 0, 1, 0],
            "text": ["Menu", "Home", "Menu", "Home", SCRIPT],
            "reason": ["boilerplate", "boilerplate", "boilerplate", "boilerplate", "short"],
        }
    ).to_parquet(interim / "removed_lines.parquet", index=False)
    dedup = clean.assign(
        near_dup_cluster=["c1", "c1", "c3", "c1"],
        is_representative=[True, False, True, False],
        exact_dup_of=[None, None, None, None],
        sim_to_representative=[1.0, 0.97, 1.0, 0.85],
    )
    dedup.to_parquet(interim / "pages_dedup.parquet", index=False)
    processed = root / "data" / "processed"
    processed.mkdir(parents=True)
    # d3 (an error page) is not scored: null probability and flag.
    dedup.assign(
        conflict_prob=[0.9, 0.8, None, 0.4],
        conflict_label=[True, True, None, False],
        classified=[True, True, False, True],
    ).to_parquet(processed / "pages.parquet", index=False)
    return root


def _audited_pages() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": ["p1", "p2", "p3"],
            "path": ["x.txt", "y.txt", f"{SCRIPT}.txt"],
            "record": [None, None, None],
            "format": ["txt", "txt", "txt"],
            "status": ["accepted", "accepted", "rejected"],
            "reason_code": [None, None, "empty"],
            "status_reason": [None, None, f"empty file {IMG}"],
            "n_chars": [90, 95, 0],
            "source": ["x", SCRIPT, None],
            "raw_text": [ARTICLE, ARTICLE + SCRIPT, ""],
            "clean_text": [ARTICLE, ARTICLE + SCRIPT, ""],
            "boilerplate_frac": [0.0, 0.1, None],
            "is_error_page": [False, False, False],
        }
    )


@pytest.fixture(scope="session")
def hostile() -> tuple[str, str, str]:
    """(script, img, close): each must reach the reader as visible text, never as markup."""
    return HOSTILE


@pytest.fixture(scope="session")
def make_project():
    """``make_project(root)``: write the project tree under ``root`` and return it."""
    return _make_project


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return _make_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="session")
def audited_pages():
    """``audited_pages()``: a fresh audited pages table (ingest and boilerplate columns)."""
    return _audited_pages
