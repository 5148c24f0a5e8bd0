"""Crawl formats (issue 16): WARC/ARC record by record, news-please/scrapy JSON, dates, HTTP status.

The WARCs are written by warcio's writer from mirrored benchmark pages (conftest.py), with real
HTTP headers: 200, 301, 404, 503, a gzip-encoded chunked body, a charset given only in the header,
images and PDF, request/metadata/revisit records."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from newsaudit.core.config import Execution, StepWorkers
from newsaudit.engines import memory
from newsaudit.engines.dispatch import run_step
from newsaudit.pipeline.reference import annotate_boilerplate
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.stats import http_status_stats
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams
from newsaudit.steps.ingest.step import IngestStep, summarise
from newsaudit.steps.ingest.warc import jobs_of

pytestmark = pytest.mark.mirror


def ingest(root: Path, params: IngestParams | None = None) -> pd.DataFrame:
    return memory.run(IngestStep(CorpusParams(path=str(root)), params or IngestParams()))[0]


@pytest.fixture(scope="module")
def warc_pages(crawl_warc) -> pd.DataFrame:
    return ingest(crawl_warc[0])


def test_every_record_is_a_row_and_only_html_responses_are_pages(crawl_warc, warc_pages):
    _, expected = crawl_warc
    pages = warc_pages
    summary = summarise(pages)
    assert summary["inputs"] == len(expected) == summary["accepted"] + summary["rejected"]
    assert pages["record"].tolist() == list(range(1, len(expected) + 1))
    for (_, row), want in zip(pages.iterrows(), expected, strict=True):
        code = row["reason_code"] if isinstance(row["reason_code"], str) else None
        assert code == want.get("code"), (row["record"], row["status_reason"])
        assert (row["status"] == "accepted") == ("code" not in want)
        if "status" in want:
            assert row["http_status"] == want["status"] and row["url"] == want["url"]
        if row["status"] == "rejected":
            assert row["status_reason"].startswith(f"crawl.warc.gz record {row['record']} (byte ")
    assert summary["rejected_by_reason"] == {
        "not_html": 2,
        "redirect": 1,
        "warc_metadata": 1,
        "warc_request": 1,
        "warc_revisit": 1,
        "warc_warcinfo": 1,
    }
    redirect = pages[pages["reason_code"] == "redirect"].iloc[0]
    assert "HTTP 301 redirect to https://www.example.co.uk/news/1" in redirect["status_reason"]
    revisit = pages[pages["reason_code"] == "warc_revisit"].iloc[0]["status_reason"]
    assert "revisit record of https://www.example.co.uk/news/1" in revisit and "record <urn:uuid:" in revisit
    assert (
        pages.loc[pages["reason_code"] == "not_html", "status_reason"]
        .str.contains("image/png|application/pdf")
        .all()
    )


def test_response_columns(crawl_facts, warc_pages):
    ok = warc_pages[warc_pages["status"] == "accepted"].set_index("url")
    first = ok.loc["https://www.example.co.uk/news/1"]
    assert first["source"] == "example.co.uk"  # the registered domain, by the Public Suffix List
    assert (
        first["fetch_date"] == crawl_facts["warc_date"]
        and first["content_type"] == "text/html; charset=utf-8"
    )
    assert first["published_date"] and first["published_date"] <= crawl_facts["warc_date"][:10]
    assert first["language"] == "en" and first["n_chars"] > 1000
    # a charset given only in the HTTP header decodes the page (no <meta>, not UTF-8)
    polish = ok.loc["https://pl.example.pl/wiadomosci"]
    assert polish["encoding"] == "iso8859-2" and polish["raw_text"] == crawl_facts["polish"]
    # a gzip Content-Encoding with chunked transfer is decoded (its text: the next test)
    assert ok.loc["https://gz.example.net/a", "n_chars"] > 1000


def test_the_same_page_from_html_and_from_warc_gives_the_same_clean_text(tmp_path, crawl_warc, crawl_pages):
    html_dir, warc_dir = tmp_path / "html", tmp_path / "warc"
    html_dir.mkdir()
    warc_dir.mkdir()
    (html_dir / "page.html").write_bytes(crawl_pages[2])
    shutil.copy(crawl_warc[0], warc_dir / "crawl.warc.gz")
    params = BoilerplateParams()
    from_html, _ = annotate_boilerplate(ingest(html_dir), params, None)
    from_warc, _ = annotate_boilerplate(ingest(warc_dir), params, None)
    page = from_html.iloc[0]
    gz = from_warc[from_warc["url"] == "https://gz.example.net/a"].iloc[0]
    assert gz["raw_text"] == page["raw_text"] and gz["clean_text"] == page["clean_text"]
    assert page["clean_text"] and not gz["is_error_page"]


def test_http_status_makes_error_pages_and_the_soft_404_rate(warc_pages):
    cleaned, _ = annotate_boilerplate(warc_pages, BoilerplateParams(), None)
    by_url = cleaned.set_index("url")
    busy = by_url.loc["https://news.example.org/busy"]  # a full article served with 503
    assert busy["is_error_page"] and busy["error_kind"] == "http_503" and busy["clean_text"] == ""
    assert by_url.loc["https://news.example.org/missing", "error_kind"] == "http_404"
    soft = by_url.loc["https://www.example.co.uk/gone"]  # 200, but its body says not found
    assert soft["is_error_page"] and not soft["error_kind"].startswith("http_")
    stats = http_status_stats(cleaned[cleaned["clean_status"].notna()])
    ok_200 = int(((cleaned["http_status"] == 200) & cleaned["clean_status"].notna()).sum())
    assert stats["error_status_pages"] == 2 and stats["soft_404_pages"] == 1
    assert stats["soft_404_rate"] == round(1 / ok_200, 4) and stats["by_class"] == {
        "2xx": ok_200,
        "4xx": 1,
        "5xx": 1,
    }
    # pages without an http_status column are judged by their text, as before
    without, _ = annotate_boilerplate(warc_pages.drop(columns=["http_status"]), BoilerplateParams(), None)
    assert not without.set_index("url").loc["https://news.example.org/busy", "is_error_page"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_truncated_warc_rejects_the_cut_record_not_the_file(tmp_path, crawl_warc, seed):
    data = crawl_warc[0].read_bytes()
    rng = np.random.default_rng(seed)
    cut = int(rng.integers(len(data) // 4, len(data) - 1))
    for name, blob in (("cut.warc.gz", data[:cut]), ("cut.warc", gzip.decompress(data)[: cut * 3])):
        root = tmp_path / f"{seed}-{name}"
        root.mkdir()
        (root / name).write_bytes(blob)
        pages = ingest(root)
        summary = summarise(pages)
        assert summary["inputs"] == summary["accepted"] + summary["rejected"] >= 2
        assert pages["record"].tolist() == list(range(1, len(pages) + 1))
        last = pages.iloc[-1]
        assert last["reason_code"] == "corrupt" and "truncated" in last["status_reason"], last[
            "status_reason"
        ]
        assert (pages.iloc[:-1]["reason_code"] != "corrupt").all()


def test_a_damaged_record_in_the_middle_keeps_the_records_after_it(tmp_path, crawl_warc, warc_pages):
    data = bytearray(crawl_warc[0].read_bytes())
    start = data.find(b"\x1f\x8b\x08", 100)  # the second record's gzip member
    data[start + 30 : start + 90] = b"x" * 60
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "damaged.warc.gz").write_bytes(bytes(data))
    pages = ingest(tmp_path / "c")
    assert pages.iloc[1]["reason_code"] == "corrupt" and "damaged record" in pages.iloc[1]["status_reason"]
    assert len(pages) == len(warc_pages)
    assert pages.iloc[2:]["status"].tolist() == warc_pages.iloc[2:]["status"].tolist()


def test_a_large_warc_is_read_in_slices_with_the_same_rows(tmp_path, crawl_warc):
    path, _ = crawl_warc
    slices = jobs_of(path, 40_000)
    assert len(slices) > 2 and slices[0][:1] == (0,) and slices[-1][1] is None
    assert [s[2] for s in slices] == sorted({s[2] for s in slices})
    whole = ingest(path)
    step = IngestStep(CorpusParams(path=str(path)), IngestParams(warc_job_bytes=40_000))
    dst = tmp_path / "pages.parquet"
    run_step(step, Execution(engine="stream", workers=StepWorkers(ingest=2)), None, dst, workers=2)
    pd.testing.assert_frame_equal(pd.read_parquet(dst), whole)


def test_arc_files_are_read(tmp_path, crawl_pages, arc_writer):
    arc_writer(tmp_path / "old.arc.gz", crawl_pages[3])
    pages = ingest(tmp_path)
    assert pages["reason_code"].tolist()[0] == "warc_warcinfo"
    page = pages.iloc[1]
    assert (
        page["status"] == "accepted"
        and page["format"] == "arc"
        and page["url"] == "http://www.example.com/old-page"
    )
    assert (
        page["fetch_date"] == "2001-02-03T04:05:06Z" and page["http_status"] == 200 and page["n_chars"] > 1000
    )


def test_news_please_and_scrapy_output_read_by_field_names(tmp_path, crawl_pages):
    root = tmp_path / "np"
    (root / "www.example.com").mkdir(parents=True)
    article = {
        "authors": ["A Reporter"],
        "date_download": "2024-03-05 10:00:00",
        "date_publish": "2024-03-04 22:35:00",
        "description": "Short",
        "language": "en",
        "maintext": "Gunmen attacked a police post on Monday, killing two officers, officials said.",
        "source_domain": "www.example.com",
        "text": None,
        "title": "Attack",
        "url": "https://www.example.com/a/1",
    }
    (root / "www.example.com" / "a1.json").write_text(json.dumps(article))
    (root / "www.example.com" / "a2.json").write_text(json.dumps({**article, "maintext": None, "url": "u2"}))
    items = [
        {"url": "https://scrapy.example.org/p", "body": crawl_pages[0].decode("utf-8")},
        ["not", "a", "dict"],
    ]
    (root / "items.json").write_text(json.dumps(items))
    pages = ingest(root).set_index(["path", "record"])
    a1 = pages.loc[("www.example.com/a1.json", 1)]
    assert a1["raw_text"] == article["maintext"] and a1["source"] == "example.com" and a1["format"] == "json"
    assert a1["published_date"] == "2024-03-04T22:35:00" and a1["fetch_date"] == "2024-03-05T10:00:00"
    a2 = pages.loc[("www.example.com/a2.json", 1)]
    assert a2["reason_code"] == "missing_text" and "ingest.record_fields.text" in a2["status_reason"]
    scrapy = pages.loc[("items.json", 1)]  # an HTML body, turned into text like an .html page
    html_text = ingest_html(tmp_path, crawl_pages[0])
    assert scrapy["raw_text"] == html_text and scrapy["published_date"]
    assert pages.loc[("items.json", 2), "reason_code"] == "malformed_json"


def ingest_html(tmp_path: Path, html: bytes) -> str:
    folder = tmp_path / "one-html"
    folder.mkdir()
    (folder / "p.html").write_bytes(html)
    return ingest(folder).iloc[0]["raw_text"]
