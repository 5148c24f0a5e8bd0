"""Ingest: every reader on a corpus the test builds, every kind of bad input, and the manifest invariant."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from newsaudit import cli
from newsaudit.steps.ingest.readers import (
    CorpusParams,
    IngestError,
    IngestParams,
    Rejection,
    decode_bytes,
    discover,
    html_to_text,
    ingest,
    source_from_name,
    summarise,
)

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


@pytest.fixture()
def corpus_table(tmp_path: Path) -> tuple[pd.DataFrame, dict, Path]:
    root = build_corpus(tmp_path / "corpus")
    out = tmp_path / "out" / "pages.parquet"
    summary = ingest(
        CorpusParams(path=str(root)),
        IngestParams(max_bytes=1000, workers=1),
        out,
        tmp_path / "out" / "manifest.csv",
    )
    return pd.read_parquet(out), summary, tmp_path


def row(pages: pd.DataFrame, path: str, record: int | None = None) -> pd.Series:
    sel = pages["path"] == path
    if record is not None:
        sel &= pages["record"] == record
    assert sel.sum() == 1, f"expected one row for {path}#{record}, found {sel.sum()}"
    return pages[sel].iloc[0]


def test_every_input_is_accounted_for(corpus_table):
    pages, summary, tmp = corpus_table
    assert summary["inputs"] == summary["accepted"] + summary["rejected"] == len(pages)
    # 8 single-page files + jsonl (5 non-blank lines) + csv (2) + nocol.csv (1) + tsv (1) + parquet (2)
    # + image, empty, undecodable, huge, notes.xyz
    assert len(pages) == 4 + 2 + 5 + 2 + 1 + 1 + 2 + 5
    manifest = pd.read_csv(tmp / "out" / "manifest.csv")
    assert len(manifest) == len(pages)
    assert set(manifest["status"]) == {"accepted", "rejected"}
    assert pages.loc[pages.status == "rejected", "status_reason"].notna().all()
    assert pages.loc[pages.status == "rejected", "raw_text"].isna().all()


def test_readers_produce_text_and_metadata(corpus_table):
    pages, _, _ = corpus_table
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
    pages, _, _ = corpus_table
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
        ("records.jsonl", 4, "missing_text", ["records.jsonl line 4", "'text' is missing"]),
        ("records.jsonl", 5, "malformed_json", ["records.jsonl line 5", "expected a JSON object"]),
        ("records.jsonl", 6, "empty", ["records.jsonl line 6", "empty text"]),
        ("table.csv", 2, "empty", ["table.csv row 2"]),
        ("nocol.csv", None, "no_text_column", ["nocol.csv", "no 'text' column", "'headline', 'body'"]),
    ],
)
def test_bad_inputs_are_rejected_with_a_clear_reason(corpus_table, path, record, code, fragments):
    pages, summary, _ = corpus_table
    r = row(pages, path, record)
    assert r["status"] == "rejected"
    assert r["reason_code"] == code
    for fragment in fragments:
        assert fragment in r["status_reason"], r["status_reason"]
    assert summary["rejected_by_reason"][code] >= 1


def test_good_rows_of_a_partly_bad_file_are_kept(corpus_table):
    pages, _, _ = corpus_table
    assert row(pages, "records.jsonl", 1)["status"] == "accepted"
    assert row(pages, "table.csv", 1)["status"] == "accepted"


def test_doc_ids_are_stable_and_unique(tmp_path):
    root = build_corpus(tmp_path / "corpus")
    params = IngestParams(max_bytes=1000, workers=1)
    ingest(CorpusParams(path=str(root)), params, tmp_path / "a.parquet")
    ingest(CorpusParams(path=str(root)), IngestParams(max_bytes=1000, workers=2), tmp_path / "b.parquet")
    a, b = pd.read_parquet(tmp_path / "a.parquet"), pd.read_parquet(tmp_path / "b.parquet")
    assert a["doc_id"].is_unique
    pd.testing.assert_frame_equal(a, b)  # parallel and serial runs agree row for row


def test_missing_and_empty_corpus_fail_clearly(tmp_path):
    with pytest.raises(IngestError, match="does-not-exist does not exist"):
        discover(CorpusParams(path=str(tmp_path / "does-not-exist")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="holds no documents"):
        discover(CorpusParams(path=str(tmp_path / "empty")))
    (tmp_path / "empty" / "gold.txt").write_text("x")
    with pytest.raises(IngestError, match=r"no files matching corpus.include \['\*.html'\]"):
        discover(CorpusParams(path=str(tmp_path / "empty"), include=["*.html"]))


def test_cli_reports_a_missing_corpus_with_exit_code_2(tmp_path, caplog):
    params = tmp_path / "params.yaml"
    params.write_text("corpus:\n  path: nowhere\n")
    code = cli.main(
        [
            "--params",
            str(params),
            "ingest",
            "--corpus",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path / "p.parquet"),
        ]
    )
    assert code == 2
    assert "nowhere does not exist" in caplog.text


def test_single_file_corpus(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"text": ARTICLE}) + "\n")
    summary = ingest(CorpusParams(path=str(path)), IngestParams(workers=1), tmp_path / "p.parquet")
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


def test_decode_rejects_bytes_no_encoding_fits():
    with pytest.raises(Rejection, match="undecodable"):
        decode_bytes(b"Hello \xff\xfe\xfa world \x81\x8d " * 20, "x.txt")
    assert decode_bytes("Привет, как дела? Это тест.".encode("cp1251"), "x.txt")[1] == "cp1251"


def test_source_from_name():
    assert source_from_name("bbc.co.uk_123.txt") == "bbc.co.uk"
    assert source_from_name("reuters.com/2024/story.txt") == "reuters.com"
    assert source_from_name("000_63b8cf13466a70d8.txt") is None
    assert source_from_name("notes.final.txt") is None


def test_html_to_text_matches_the_benchmark_dump(mirror):
    """Our HTML-to-text is the benchmark's own full-text dump (html-text), byte for byte."""
    bench = mirror / "scrapinghub-article-extraction-benchmark"
    dump = json.loads((bench / "output" / "html-text.json").read_text())
    dump = dump.get("output", dump)
    for page_id in sorted(dump)[:20]:
        html = gzip.decompress((bench / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8")
        expected = dump[page_id]["articleBody"] if isinstance(dump[page_id], dict) else dump[page_id]
        assert html_to_text(html) == expected


def test_utf8_page_with_a_few_corrupt_bytes_is_kept():
    data = ("Grüße aus München. " * 20).encode("utf-8") + b"\xe9 " + ("Straße " * 10).encode("utf-8")
    text, encoding = decode_bytes(data, "x.html")
    assert encoding == "utf-8-lossy"
    assert text.startswith("Grüße aus München") and "\ufffd" in text
