"""Fixtures of the report tests: a project tree holding every pipeline output the report reads
(headline metrics, breakdown tables, pages tables, removed lines, plot data, dvc.lock), an audited
pages table, and an audit of the small corpus; hostile strings (markup a scraped page may carry)
in each of them."""

from __future__ import annotations

import json
import subprocess
import sys
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
ARTICLE = (
    "Gunmen attacked a checkpoint in the north on Monday, killing two soldiers, police said. The attack "
    "came a week after a similar raid on a border post, and the army sent more troops to the area. "
    "Residents said shops stayed closed."
)
CALM = "The city council approved a new budget for schools and roads after a long debate."
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


# The pages: (doc_id, source, language, raw_text, removed {line_no: reason}, kept clean text).
PAGES = [
    ("d1", "a.com", "en", f"Menu\nHome\n{ARTICLE}", {1: "site_template", 2: "site_template"}, ARTICLE),
    ("d2", "a.com", "en", f"Menu\nHome\n{ARTICLE}\n{CLOSE}", {1: "site_template", 2: "site_template"}, None),
    ("d3", SCRIPT, "en", f"404 Not Found\n{SCRIPT}", {1: "error_page", 2: "error_page"}, ""),
    ("d4", "ctl\x0bsource", "en", f"Menu\n{CALM} {IMG}\n{SCRIPT}", {1: "site_template", 3: "pattern"}, None),
    ("d6", "b.org", "de", f"Access denied\n{CALM}\n\n{CALM}", {1: "error_page"}, CALM),
]


def _pages() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The final pages table (every step's columns) and the removed lines."""
    rows, removed = [], []
    for doc_id, source, language, raw, gone, final in PAGES:
        lines = raw.split("\n")
        kept = [t for no, t in enumerate(lines, start=1) if t.strip() and no not in gone]
        clean = "\n".join(kept) if final is None else final
        removed += [(doc_id, no, lines[no - 1], reason) for no, reason in gone.items()]
        removed_chars = sum(len(lines[no - 1]) for no in gone)
        rows.append(
            {
                "doc_id": doc_id,
                "path": f"{source}/{doc_id}.html",
                "source": source,
                "language": language,
                "raw_text": raw,
                "status": "accepted",
                "reason_code": None,
                "clean_text": clean,
                "clean_status": "error_page" if doc_id == "d3" else "ok",
                "is_error_page": doc_id == "d3",
                "error_kind": "not_found" if doc_id == "d3" else None,
                "error_prefix_chars": 13 if doc_id == "d6" else 0,
                "error_prefix_kind": "access_denied" if doc_id == "d6" else None,
                "boilerplate_chars": removed_chars,
                "clean_n_chars": len(clean),
                "boilerplate_frac": removed_chars / (removed_chars + len(clean)),
                "repeated_paragraphs_removed": 1 if doc_id == "d6" else 0,
            }
        )
    pages = pd.DataFrame(rows)
    rejected = {"doc_id": "d5", "path": f"{SCRIPT}.txt", "source": None, "language": None, "raw_text": None}
    rejected |= {"status": "rejected", "reason_code": "empty", "clean_text": None, "clean_status": None}
    pages = pd.concat([pages, pd.DataFrame([rejected])], ignore_index=True)
    pages["is_error_page"] = pages["is_error_page"].astype("boolean")
    pages = pages.assign(
        near_dup_cluster=["d1", "d1", None, "d1", "d6", None],
        is_representative=[True, False, None, False, True, None],
        exact_dup_of=[None, None, None, None, None, None],
        sim_to_representative=[1.0, 0.97, None, 0.85, 1.0, None],
        classified=[True, True, False, True, False, False],
        unclassified_reason=[None, None, "error_page", None, "language_not_supported", "rejected"],
        conflict_prob=[0.9, 0.8, None, 0.4, None, None],
        conflict_label=[True, True, None, False, None, None],
        conflict_terms=["killed; attacked", f"killed; {SCRIPT}", None, "budget", None, None],
    )
    frame = pd.DataFrame(removed, columns=["doc_id", "line_no", "text", "reason"])
    return pages, frame


def _make_project(root: Path) -> Path:
    """A project tree with every pipeline output the report reads, hostile strings in each of them."""
    (root / "params.yaml").write_text("corpus:\n  path: data/external\nduplicates:\n  threshold: 0.8\n")
    (root / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  ingest:\n    cmd: newsaudit ingest\n    deps:\n"
        "    - path: data/external\n      hash: md5\n      md5: 560d9f5ddc90d12b586876f8a5c0169a.dir\n"
        "      size: 10\n      nfiles: 2\n    outs:\n    - path: data/interim/pages.parquet\n"
        "      hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n      size: 5\n"
    )
    metrics, tables = root / "reports" / "metrics", root / "reports" / "tables"
    _write_json(metrics / "ingest.json", {"inputs": 6, "accepted": 5, "rejected": 1, "distinct_sources": 4})
    _write_json(
        metrics / "boilerplate.json", {"n_pages_cleaned": 5, "error_pages": 1, "removed_char_share": 0.2}
    )
    _write_json(metrics / "duplicates.json", {"near_duplicate_pages": 2, "largest_cluster": 3})
    _write_json(metrics / "classify.json", {"overall": {"classified": 3, "conflict_events": 2}})
    _write_json(
        metrics / "classifier.json", {"test": {"f1": 0.8, "precision": 0.75, "recall": 0.86, "pr_auc": 0.9}}
    )
    _write_json(metrics / "labels.json", {"rows": 100, "positives": 40})
    _write_json(
        metrics / "train.json", {"threshold": 0.5, "selected_C": 4.0, "note": "lone surrogate \ud800"}
    )
    _write_json(metrics / "leakage.json", {"train_texts_in_dev_or_test": 3})
    _write_json(metrics / "bench_boilerplate.json", {"scrapinghub": {"boilerplate_stage_f1": 0.88}})
    _write_json(metrics / "bench_duplicates.json", {"test": {"methods": {"ours": {"ari": 0.97}}}})
    _write_json(metrics / "conflibert_benchmark.json", {"f1_test_deduplicated": {"satp": 80.0}})
    _write_json(metrics / "train_linemodel.json", {"cv": {"threshold": 0.4}})
    _write_json(metrics / "benchmark.json", {"pages_per_second": 120.5})
    _write_csv(
        tables / "bench_boilerplate" / "scrapinghub.csv",
        pd.DataFrame({"method": ["newsaudit boilerplate stage", f"published: {SCRIPT}"], "f1": [0.88, 0.5]}),
    )
    _write_csv(
        tables / "bench_duplicates" / "methods.csv",
        pd.DataFrame(
            {
                "split": ["test", "test"],
                "method": ["ours", "exact_hash"],
                "ari": [0.97, 0.05],
                "pair_precision": [0.99, 1.0],
                "pair_recall": [0.95, 0.03],
            }
        ),
    )
    _write_csv(
        tables / "leakage" / "datasets.csv",
        pd.DataFrame({"dataset": ["satp_all"], "rows.train": [80], "train_texts_in_dev_or_test.exact": [3]}),
    )
    _write_csv(
        tables / "leakage" / "examples.csv",
        pd.DataFrame(
            {
                "dataset": ["satp_all"],
                "kind": ["exact"],
                "a": ["train:4"],
                "b": ["test:9"],
                "similarity": [1.0],
                "text_a": [IMG],
                "text_b": [CLOSE],
            }
        ),
    )
    _write_csv(
        tables / "conflibert_benchmark" / "records.csv",
        pd.DataFrame(
            {
                "dataset": ["satp", "satp", "bbc", "bbc"],
                "model": ["tfidf", "ConfliBERT (published)", "tfidf", "ConfliBERT (published)"],
                "f1": [0.8, 0.9, 0.95, 0.97],
            }
        ),
    )
    _write_csv(
        tables / "labels" / "by_source_split.csv",
        pd.DataFrame(
            {
                "source": ["satp", "satp"],
                "split": ["train", "train"],
                "outcome": ["negative", "positive"],
                "rows": [50, 30],
            }
        ),
    )
    _write_csv(
        tables / "boilerplate" / "top_lines.csv",
        pd.DataFrame(
            {
                "line": ["menu", SCRIPT],
                "pages": [3, 1],
                "sources": [2, 1],
                "reason": ["site_template", "pattern"],
            }
        ),
    )
    _write_csv(
        tables / "boilerplate" / "by_reason.csv",
        pd.DataFrame(
            {"reason": ["site_template", "error_page", "pattern"], "lines": [5, 3, 1], "chars": [20, 40, 47]}
        ),
    )

    plots = root / "reports" / "plots"
    _write_csv(plots / "classifier" / "roc.csv", pd.DataFrame({"fpr": [0, 0.1, 1], "tpr": [0, 0.8, 1]}))
    _write_csv(
        plots / "classifier" / "pr.csv", pd.DataFrame({"recall": [0, 0.8, 1], "precision": [1, 0.9, 0.4]})
    )
    _write_csv(
        plots / "classifier" / "calibration.csv",
        pd.DataFrame({"mean_predicted": [0.1, 0.5, 0.9], "fraction_positive": [0.05, 0.6, 0.85]}),
    )
    _write_csv(
        plots / "classifier" / "confusion.csv",
        pd.DataFrame({"actual": [0, 0, 1, 1, 1], "predicted": [0, 1, 1, 1, 0]}),
    )
    _write_csv(
        plots / "duplicates" / "recall_vs_edit_rate.csv",
        pd.DataFrame(
            {
                "edit_rate": [0.0, 0.1, 0.0, 0.1],
                "method": ["ours", "ours", "exact_hash", "exact_hash"],
                "pair_recall": [1.0, 0.9, 0.0, 0.0],
            }
        ),
    )

    pages, removed = _pages()
    interim, processed = root / "data" / "interim", root / "data" / "processed"
    interim.mkdir(parents=True)
    processed.mkdir(parents=True)
    cols = ["doc_id", "path", "status", "reason_code"]
    pages[cols].assign(record="", format="html", status_reason=[""] * 5 + [f"empty file {IMG}"]).to_csv(
        interim / "manifest.csv", index=False
    )
    pages.to_parquet(processed / "pages.parquet", index=False)
    removed.to_parquet(interim / "removed_lines.parquet", index=False)
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
            "clean_status": ["ok", "ok", None],
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


@pytest.fixture(scope="session")
def small_audit(small_corpus, tmp_path_factory) -> Path:
    """``newsaudit audit`` of the small corpus with the project's params, no trained models (the
    fallback line rule, no classifier), with its report: what notebook 04 opens."""
    base = tmp_path_factory.mktemp("audit")
    (base / "models").mkdir()
    out = base / "out"
    cmd = [sys.executable, "-m", "newsaudit.cli", "--params", str(PROJECT_ROOT / "params.yaml"), "audit"]
    cmd += [
        str(small_corpus),
        "--out",
        str(out),
        "--models",
        str(base / "models"),
        "--engine",
        "memory",
        "--report",
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    return out
