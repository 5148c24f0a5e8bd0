"""The ingest step's readers: every reader on a corpus the test builds, every kind of bad input, and
the invariant ``inputs == accepted + rejected`` (the manifest and metrics files: tests/stages)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from newsaudit.core.config import Execution, StepWorkers
from newsaudit.engines import memory
from newsaudit.engines.dispatch import run_step
from newsaudit.steps.ingest.readers import CorpusParams, IngestError, IngestParams, discover
from newsaudit.steps.ingest.step import IngestStep, summarise

ARTICLE = (
    "Security forces repelled an attack on a police post near the border on Tuesday, officials said. "
    "Two attackers were killed and three officers were wounded in the exchange of fire that lasted an hour."
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def build_corpus(root: Path) -> Path:
    """A corpus with one good file per reader and one file per kind of bad input."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "000_63b8cf13466a70d8.txt").write_text(ARTICLE, encoding="utf-8")
    (root / "www.example.com_17.txt").write_text("Example site page. " + ARTICLE, encoding="utf-8")
    (root / "latin1.txt").write_bytes(("Grüße aus München: " + ARTICLE).encode("cp1252"))
    (root / "mojibake.txt").write_text("The cafÃ© reopened after the attack. " + ARTICLE, encoding="utf-8")
    page = (
        '<html><head><meta charset="utf-8"><link rel="canonical" href="https://www.news.example.org/a/1">'
        "<title>Attack</title><script>var x = 1;</script></head><body><nav>Home | World</nav>"
        f"<p>{ARTICLE}</p><footer>© 2024 News</footer></body></html>"
    )
    (root / "page.html").write_text(page, encoding="utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "page.html.gz").write_bytes(gzip.compress(page.encode("utf-8")))
    lines = [
        json.dumps({"id": "a1", "url": "https://agency.example.net/x", "text": ARTICLE}),
        "",
        "{not json",
        json.dumps({"id": "a3", "title": "no text here"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "a5", "text": "  "}),
    ]
    (root / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pd.DataFrame({"id": [1, 2], "text": [ARTICLE, ""], "url": ["https://x.example.com/1", None]}).to_csv(
        root / "table.csv", index=False
    )
    pd.DataFrame({"headline": ["a"], "body": [ARTICLE]}).to_csv(root / "nocol.csv", index=False)
    (root / "table.tsv").write_text(f"id\ttext\nt1\t{ARTICLE}\n", encoding="utf-8")
    pd.DataFrame({"id": ["p1", "p2"], "text": [ARTICLE, "Second record. " + ARTICLE]}).to_parquet(
        root / "table.parquet"
    )
    (root / "image.txt").write_bytes(PNG)
    (root / "empty.txt").write_bytes(b"")
    (root / "undecodable.txt").write_bytes(b"Hello \xff\xfe\xfa world \x81\x8d " * 20)
    (root / "huge.txt").write_text("word " * 400, encoding="utf-8")
    (root / "notes.xyz").write_text("what is this", encoding="utf-8")
    return root


def ingest_memory(root: Path, params: IngestParams) -> pd.DataFrame:
    return memory.run(IngestStep(CorpusParams(path=str(root)), params))[0]


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("ingest") / "corpus")


@pytest.fixture(scope="module")
def corpus_table(corpus_root) -> tuple[pd.DataFrame, dict]:
    pages = ingest_memory(corpus_root, IngestParams(max_bytes=1000))
    return pages, summarise(pages)


def row(pages: pd.DataFrame, path: str, record: int | None = None) -> pd.Series:
    sel = pages["path"] == path
    if record is not None:
        sel &= pages["record"] == record
    assert sel.sum() == 1, f"expected one row for {path}#{record}, found {sel.sum()}"
    return pages[sel].iloc[0]


def test_every_input_is_accounted_for(corpus_table):
    pages, summary = corpus_table
    assert summary["inputs"] == summary["accepted"] + summary["rejected"] == len(pages)
    # 8 single-page files + jsonl (5 non-blank lines) + csv (2) + nocol.csv (1) + tsv (1) + parquet (2)
    # + image, empty, undecodable, huge, notes.xyz
    assert len(pages) == 4 + 2 + 5 + 2 + 1 + 1 + 2 + 5
    assert set(pages["status"]) == {"accepted", "rejected"}
    assert pages.loc[pages.status == "rejected", "status_reason"].notna().all()
    assert pages.loc[pages.status == "rejected", "raw_text"].isna().all()


def test_readers_produce_text_and_metadata(corpus_table):
    pages, _ = corpus_table
    html = row(pages, "page.html")
    assert html["format"] == "html" and html["status"] == "accepted"
    assert ARTICLE in html["raw_text"] and "Home | World" in html["raw_text"]  # boilerplate is kept
    assert "var x" not in html["raw_text"]  # scripts are not visible text
    assert html["source"] == "news.example.org" and html["url"] == "https://www.news.example.org/a/1"
    assert row(pages, "sub/page.html.gz")["raw_text"] == html["raw_text"]
    assert row(pages, "www.example.com_17.txt")["source"] == "example.com"
    assert pd.isna(row(pages, "000_63b8cf13466a70d8.txt")["source"])
    assert row(pages, "records.jsonl", 1)["source"] == "agency.example.net"
    assert row(pages, "records.jsonl", 1)["record_id"] == "a1"
    assert row(pages, "table.tsv", 1)["raw_text"] == ARTICLE
    assert row(pages, "table.parquet", 2)["raw_text"].startswith("Second record.")
    assert row(pages, "000_63b8cf13466a70d8.txt")["language"] == "en"


def test_decoding_fallbacks_and_mojibake(corpus_table):
    pages, _ = corpus_table
    latin = row(pages, "latin1.txt")
    assert latin["raw_text"].startswith("Grüße aus München") and latin["encoding"] == "cp1252"
    assert row(pages, "mojibake.txt")["raw_text"].startswith("The café reopened")


@pytest.mark.parametrize(
    ("path", "record", "code", "fragments"),
    [
        ("image.txt", None, "binary", ["image.txt", "PNG image"]),
        ("empty.txt", None, "empty", ["empty.txt", "empty file"]),
        ("undecodable.txt", None, "undecodable", ["undecodable.txt", "undecodable bytes", "not UTF-8"]),
        ("huge.txt", None, "too_large", ["huge.txt", "2,000 bytes", "ingest.max_bytes = 1,000"]),
        ("notes.xyz", None, "unsupported_format", ["notes.xyz", "unsupported format .xyz"]),
        ("records.jsonl", 3, "malformed_json", ["records.jsonl line 3", "malformed JSON"]),
        ("records.jsonl", 4, "missing_text", ["records.jsonl line 4", "no text field ('maintext', 'text'"]),
        ("records.jsonl", 5, "malformed_json", ["records.jsonl line 5", "expected a JSON object"]),
        ("records.jsonl", 6, "empty", ["records.jsonl line 6", "empty text"]),
        ("table.csv", 2, "empty", ["table.csv row 2"]),
        ("nocol.csv", None, "no_text_column", ["nocol.csv", "no 'text' column", "'headline', 'body'"]),
    ],
)
def test_bad_inputs_are_rejected_with_a_clear_reason(corpus_table, path, record, code, fragments):
    pages, summary = corpus_table
    r = row(pages, path, record)
    assert r["status"] == "rejected"
    assert r["reason_code"] == code
    for fragment in fragments:
        assert fragment in r["status_reason"], r["status_reason"]
    assert summary["rejected_by_reason"][code] >= 1


def test_good_rows_of_a_partly_bad_file_are_kept(corpus_table):
    pages, _ = corpus_table
    assert row(pages, "records.jsonl", 1)["status"] == "accepted"
    assert row(pages, "table.csv", 1)["status"] == "accepted"


def test_doc_ids_are_stable_and_unique(corpus_root, corpus_table, tmp_path):
    """One worker or a pool, small row groups or one: the same table, row for row."""
    pages, _ = corpus_table
    assert pages["doc_id"].is_unique
    step = IngestStep(CorpusParams(path=str(corpus_root)), IngestParams(max_bytes=1000))
    tables = []
    for workers, rows in ((1, 500), (2, 3)):
        ex = Execution(engine="stream", workers=StepWorkers(ingest=workers))
        dst = tmp_path / f"w{workers}.parquet"
        run_step(step, ex, None, dst, workers=workers, row_group_size=rows)
        tables.append(pd.read_parquet(dst))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    pd.testing.assert_frame_equal(tables[0], pages)


def test_missing_and_empty_corpus_fail_clearly(tmp_path):
    with pytest.raises(IngestError, match="does-not-exist does not exist"):
        discover(CorpusParams(path=str(tmp_path / "does-not-exist")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="holds no documents"):
        discover(CorpusParams(path=str(tmp_path / "empty")))
    (tmp_path / "empty" / "gold.txt").write_text("x")
    with pytest.raises(IngestError, match=r"no files matching corpus.include \['\*.html'\]"):
        discover(CorpusParams(path=str(tmp_path / "empty"), include=["*.html"]))


def test_include_patterns_select_the_inputs(corpus_root):
    found = [rel for _, rel in discover(CorpusParams(path=str(corpus_root), include=["*.html", "*.html.gz"]))]
    assert found == ["page.html", "sub/page.html.gz"]


def test_single_file_corpus(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"text": ARTICLE}) + "\n")
    summary = summarise(ingest_memory(path, IngestParams()))
    assert summary["accepted"] == 1 and summary["inputs"] == 1


def test_summary_checks_the_invariant():
    pages = pd.DataFrame(
        {
            "status": ["accepted", "bogus"],
            "format": ["txt", "txt"],
            "reason_code": [None, None],
            "n_chars": [3, 0],
            "source": [None, None],
            "language": ["en", None],
            "encoding": ["utf-8", None],
        }
    )
    with pytest.raises(AssertionError, match="manifest invariant"):
        summarise(pages)


@pytest.mark.parametrize("rows", [1, 2, 5])
def test_summary_summed_batch_by_batch_equals_the_whole_table(corpus_table, rows):
    pages, whole = corpus_table
    # a source seen twice must be counted once however the rows are cut
    twice = pd.concat([pages, pages.head(3)], ignore_index=True)
    batches = [twice.iloc[i : i + rows] for i in range(0, len(twice), rows)]
    summary = summarise(iter(batches))
    assert summary == summarise(twice)
    ok = twice[twice["status"] == "accepted"]
    assert summary["distinct_sources"] == ok["source"].nunique() == whole["distinct_sources"]
    assert summary["inputs"] == len(twice) == whole["inputs"] + 3
    expected = twice.groupby(["format", "status"]).size()
    assert {(f, s): n for f, by in summary["by_format"].items() for s, n in by.items()} == expected.to_dict()
    assert summary["by_language"] == ok["language"].fillna("und").value_counts().sort_index().to_dict()
