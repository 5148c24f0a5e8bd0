"""The benchmark's WARC row: the generated crawl is a real WARC that the audit reads record by record."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from newsaudit.benchmarks.scale.warc import page_html, run_warc, write_crawl_warc
from newsaudit.core.config import load_params


def _corpus(root, n: int = 12):
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    with (corpus / "pages-00000.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(n):
            body = "\n".join(
                f"Paragraph {k} of story {i}: the council met the harbour board about the bridge <b>{k}</b>."
                for k in range(6)
            )
            fh.write(
                json.dumps(
                    {
                        "id": f"p{i}",
                        "url": f"https://site{i % 3}.example/{i}",
                        "source": f"site{i % 3}.example",
                        "text": body,
                    }
                )
                + "\n"
            )
    return corpus


def test_page_html_escapes_the_text():
    out = page_html("Title <script>\nsecond & last").decode()
    assert "<script>" not in out and "&lt;script&gt;" in out and "<p>second &amp; last</p>" in out


def test_warc_written_once_with_the_counts_then_reused(tmp_path):
    corpus = _corpus(tmp_path)
    warc = tmp_path / "crawl.warc.gz"
    counts = write_crawl_warc(corpus, warc, error_every=5, redirect_every=5)
    assert counts == {"pages": 12, "responses": 12 + 3 + 3, "requests": 12, "error_404": 3, "redirect_301": 3}
    assert not (tmp_path / "crawl.warc.gz.partial").exists()
    from warcio.archiveiterator import ArchiveIterator

    with warc.open("rb") as fh:
        types = [r.rec_type for r in ArchiveIterator(fh)]
    assert types.count("response") == 18 and types.count("request") == 12 and types[0] == "warcinfo"
    stamp = warc.stat().st_mtime_ns
    assert write_crawl_warc(corpus, warc) == counts and warc.stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_run_warc_audits_every_record(tmp_path):
    corpus = _corpus(tmp_path, n=60)
    row = run_warc(corpus, tmp_path, load_params("params.yaml"), tmp_path / "no-models")
    written = row["records_written"]
    ingest = row["ingest"]
    # each record is accounted for: pages and the 404 answers accepted, the rest rejected with a reason
    assert ingest["inputs"] == ingest["accepted"] + ingest["rejected"]
    assert ingest["accepted"] >= written["pages"]
    pages = pd.read_parquet(tmp_path / "audit-warc-local" / "pages.parquet")
    ok = pages[(pages["status"] == "accepted") & (pages["http_status"] == 200)]
    assert len(ok) == written["pages"] and ok["url"].str.startswith("https://site").all()
    assert (pages.loc[pages["http_status"] == 404, "clean_status"] == "error_page").all()
    assert row["overall"]["pages_per_s"] > 0 and row["overall"]["peak_rss_mb"] > 0
