"""Inputs a real crawl delivers that used to stop or damage an audit (issue 15, item 1).

Each test names what the code before the fix did with the same input; run against that code, each
fails (the first two with an exception that stopped the whole corpus)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from newsaudit.core.config import Execution, StepWorkers
from newsaudit.engines import memory
from newsaudit.engines.dispatch import run_step
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams
from newsaudit.steps.ingest.step import IngestStep, summarise

ARTICLE = (
    "Security forces repelled an attack on a police post near the border on Tuesday, officials said. "
    "Two attackers were killed and three officers were wounded in the exchange of fire that lasted an hour."
)
BAD_NAME = b"caf\xe9 \xff report.txt"  # Latin-1 bytes in a name: not UTF-8


def write_bytes_name(folder: Path, name: bytes, data: bytes) -> None:
    with open(os.path.join(os.fsencode(folder), name), "wb") as fh:
        fh.write(data)


def ingest(root: Path, params: IngestParams | None = None, engine: str = "memory", tmp: Path | None = None):
    step = IngestStep(CorpusParams(path=str(root)), params or IngestParams())
    if engine == "memory":
        return memory.run(step)[0]
    dst = tmp / "pages.parquet"
    run_step(step, Execution(engine="stream", workers=StepWorkers(ingest=2)), None, dst, workers=2)
    return pd.read_parquet(dst)


@pytest.mark.parametrize("engine", ["memory", "stream"])
def test_a_file_name_that_is_not_utf8_is_read_and_shown_escaped(tmp_path, engine):
    """Before: ``UnicodeEncodeError: surrogates not allowed`` from doc_id, the whole ingest lost."""
    root = tmp_path / "crawl"
    root.mkdir()
    write_bytes_name(root, BAD_NAME, ARTICLE.encode())
    (root / "good.txt").write_text(ARTICLE)
    sub = os.path.join(os.fsencode(root), b"dir\x80")
    os.mkdir(sub)
    write_bytes_name(Path(os.fsdecode(sub)), b"page.html", f"<p>{ARTICLE}</p>".encode())
    pages = ingest(root, engine=engine, tmp=tmp_path)
    assert summarise(pages)["accepted"] == 3
    shown = pages.set_index("path")
    assert "caf\\xe9 \\xff report.txt" in shown.index and "dir\\x80/page.html" in shown.index
    assert shown.loc["caf\\xe9 \\xff report.txt", "raw_text"] == ARTICLE
    # doc_id hashes the name's bytes: stable from run to run, and unchanged for UTF-8 names
    again = ingest(root)
    assert pages["doc_id"].tolist() == again["doc_id"].tolist() and pages["doc_id"].is_unique
    import hashlib

    assert shown.loc["good.txt", "doc_id"] == hashlib.blake2b(b"good.txt", digest_size=8).hexdigest()


def test_a_csv_field_over_the_csv_module_limit_keeps_the_other_rows(tmp_path):
    """Before: ``parse_error: field larger than field limit (131072)``, the good rows went with it."""
    root = tmp_path / "crawl"
    root.mkdir()
    long_text = ("A long live blog entry with many updates. " * 5000).strip()  # 210,000 characters
    frame = pd.DataFrame({"id": ["a", "b", "c"], "text": [ARTICLE, long_text, "Third. " + ARTICLE]})
    frame.to_csv(root / "big.csv", index=False)
    frame.to_csv(root / "big.tsv", index=False, sep="\t")
    pages = ingest(root)
    assert (pages["status"] == "accepted").all() and len(pages) == 6
    assert pages.loc[pages["record"] == 2, "n_chars"].tolist() == [len(long_text)] * 2
    # over ingest.max_bytes: that row is rejected, naming row and field; the others stay
    pages = ingest(root, IngestParams(max_bytes=100_000))
    rej = pages[pages["status"] == "rejected"]
    assert rej["record"].tolist() == [2, 2] and set(rej["reason_code"]) == {"too_large"}
    assert "big.csv row 2: field 'text' is 209,999 bytes, over ingest.max_bytes = 100,000" in set(
        rej["status_reason"]
    )
    assert (pages.loc[pages["record"] != 2, "status"] == "accepted").all()


def test_a_jsonl_line_with_a_lone_surrogate_rejects_that_line_only(tmp_path):
    """Before: the whole file rejected (``parse_error``), its good lines included."""
    root = tmp_path / "crawl"
    root.mkdir()
    lines = [
        json.dumps({"id": "a", "text": ARTICLE}),
        '{"id": "b", "text": "broken \\ud800 text"}',
        '{"id": "c\\udfff", "text": "fine text, bad id"}',
        json.dumps({"id": "d", "text": "Fourth. " + ARTICLE}),
    ]
    (root / "feed.jsonl").write_text("\n".join(lines) + "\n")
    pages = ingest(root)
    assert pages["status"].tolist() == ["accepted", "rejected", "rejected", "accepted"]
    reasons = pages.loc[pages["status"] == "rejected", "status_reason"].tolist()
    assert reasons[0] == (
        "feed.jsonl line 2: 'text' holds a lone surrogate (U+D800 at character 7), which UTF-8 cannot encode"
    )
    assert reasons[1].startswith("feed.jsonl line 3: 'id' holds a lone surrogate (U+DFFF")
    assert set(pages["reason_code"].dropna()) == {"unencodable"}


@pytest.mark.parametrize("depth", [300, 3000])
def test_deeply_nested_html_keeps_its_article(tmp_path, depth):
    """Before: accepted with empty text (lxml stops at 256 levels), the article lost without a reason."""
    root = tmp_path / "crawl"
    root.mkdir()
    html = "<html><body>" + "<div>" * depth + f"<p>{ARTICLE}</p>" + "</div>" * depth + "</body></html>"
    (root / "deep.html").write_text(html)
    pages = ingest(root)
    assert pages["status"].tolist() == ["accepted"] and pages["raw_text"].iloc[0] == ARTICLE


def test_html_without_visible_text_is_rejected_with_a_reason(tmp_path):
    """Before: accepted with empty text and no reason (``accepted_empty_text`` counted it)."""
    root = tmp_path / "crawl"
    root.mkdir()
    (root / "app.html").write_text("<html><head><script>render()</script></head><body></body></html>")
    pages = ingest(root)
    assert pages["status"].tolist() == ["rejected"] and pages["reason_code"].tolist() == ["no_text"]
    assert pages["status_reason"].iloc[0] == (
        "app.html: HTML without visible text (parsed by lxml, lxml huge_tree and lexbor)"
    )
    assert summarise(pages)["accepted_empty_text"] == 0


def test_invisible_characters_leave_words_whole(tmp_path):
    """Before: ``word\\u200bword`` and soft hyphens stayed in raw_text (two tokens for the model)."""
    root = tmp_path / "crawl"
    root.mkdir()
    text = "Secu\u00adrity for\u200bces re\u2060pelled an\u200d attack\ufeff. " + ARTICLE
    (root / "page.txt").write_text(text)
    (root / "page.html").write_text(
        f"<p>Secu&shy;rity for&#8203;ces re\u2060pelled an attack.</p><p>{ARTICLE}</p>"
    )
    pages = ingest(root).set_index("path")
    assert pages.loc["page.txt", "raw_text"] == "Security forces repelled an attack. " + ARTICLE
    assert pages.loc["page.html", "raw_text"].startswith("Security forces repelled an attack.\n\n")
