"""The WARC row of ``newsaudit bench``: a crawl as a crawler writes it, audited in bounded memory.

The benchmark corpus's pages (:mod:`newsaudit.benchmarks.scale.corpus`) are written into one
``crawl.warc.gz`` with warcio's writer, the way Heritrix or wget ``--warc-file`` lay out a crawl: a
``warcinfo`` record, then per page a ``response`` (HTTP 200, ``text/html; charset=utf-8``, the page
as HTML paragraphs) followed by its ``request``; every ``error_every``-th page is preceded by a
404 answer with an error body and every ``redirect_every``-th by a 301 pointing at it. The audit
then reads that one file (:func:`newsaudit.pipeline.audit.audit`, as ``newsaudit audit crawl.warc.gz``)
and the row reports records, pages/s per step and overall, and the peak RSS of the process tree:
the figure that shows a multi-gigabyte WARC is streamed record by record, not loaded.
"""

from __future__ import annotations

import html
import io
import json
import logging
import time
from pathlib import Path
from typing import Any

from newsaudit.core.errors import NewsauditError
from newsaudit.pipeline.audit import audit

log = logging.getLogger(__name__)

WARC_DATE = "2024-05-01T12:00:00Z"
ERROR_BODY = (
    b"<html><head><title>404 Not Found</title></head><body><h1>Sorry!!</h1>"
    b"<p>Error! We're sorry, but the page you were looking for doesn't exist.</p></body></html>"
)


def page_html(text: str) -> bytes:
    """A page's lines as the paragraphs of an HTML document (escaped: the lines are text)."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    title = html.escape(lines[0] if lines else "")
    body = "".join(f"<p>{html.escape(ln)}</p>\n" for ln in lines)
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>\n{body}</body></html>".encode()


def write_crawl_warc(
    corpus: Path, path: Path, error_every: int = 50, redirect_every: int = 50
) -> dict[str, int]:
    """Write every JSONL page under ``corpus`` into the gzipped WARC ``path`` (reused when already
    complete: a finished file is renamed into place from ``path.partial``). Returns record counts."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    counts_path = path.with_name(path.name + ".counts.json")
    if path.is_file() and counts_path.is_file():
        log.info("bench warc: reusing %s", path)
        return json.loads(counts_path.read_text(encoding="utf-8"))
    counts = {"pages": 0, "responses": 0, "requests": 0, "error_404": 0, "redirect_301": 0}
    partial = path.with_name(path.name + ".partial")

    def response(writer: WARCWriter, url: str, status: str, headers: list, body: bytes) -> None:
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": WARC_DATE},
            )
        )
        counts["responses"] += 1

    with partial.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "newsaudit bench"}))
        for shard in sorted(corpus.glob("*.jsonl")):
            with shard.open(encoding="utf-8") as lines:
                for line in lines:
                    rec = json.loads(line)
                    url, i = rec["url"] + f"/{rec['id']}", counts["pages"]
                    if error_every and i % error_every == 0:
                        response(
                            writer, url + "-old", "404 Not Found", [("Content-Type", "text/html")], ERROR_BODY
                        )
                        counts["error_404"] += 1
                    if redirect_every and i % redirect_every == 1:
                        moved = [("Location", url), ("Content-Type", "text/html")]
                        response(
                            writer, url + "?ref=rss", "301 Moved Permanently", moved, b"<html>Moved</html>"
                        )
                        counts["redirect_301"] += 1
                    html_type = [("Content-Type", "text/html; charset=utf-8")]
                    response(writer, url, "200 OK", html_type, page_html(rec["text"]))
                    req = StatusAndHeaders(
                        f"GET {url} HTTP/1.1", [("Host", rec["source"])], is_http_request=True
                    )
                    writer.write_record(writer.create_warc_record(url, "request", http_headers=req))
                    counts["requests"] += 1
                    counts["pages"] += 1
    if not counts["pages"]:
        partial.unlink()
        raise NewsauditError(f"bench warc: no JSONL pages under {corpus}")
    partial.replace(path)
    counts_path.write_text(json.dumps(counts), encoding="utf-8")
    return counts


def run_warc(corpus: Path, folder: Path, params: dict, models: Path, engine: str = "local") -> dict[str, Any]:
    """Write (or reuse) the WARC of ``corpus`` under ``folder`` and audit it with measurements."""
    warc = folder / "crawl.warc.gz"
    t0 = time.perf_counter()
    counts = write_crawl_warc(corpus, warc)
    built_s = time.perf_counter() - t0
    mb = warc.stat().st_size / 1e6
    log.info("bench warc: %d responses (%.0f MB gzipped) in %s; auditing", counts["responses"], mb, warc)
    out = folder / f"audit-warc-{engine}"
    ctx = audit(warc, out, params, models, force=True, measure_steps=True, engine=engine)
    n = counts["pages"]
    stages = {
        name: {
            "seconds": round(m.seconds, 2),
            "pages_per_s": round(n / m.seconds, 1),
            "peak_rss_mb": round(m.peak_rss_mb, 1),
        }
        for name, m in ctx.measurements.items()
    }
    total = sum(m.seconds for m in ctx.measurements.values())
    ingest = ctx.summary["ingest"]
    return {
        "file": str(warc),
        "gzipped_mb": round(mb, 1),
        "build_seconds": round(built_s, 1),
        "records_written": {**counts, "warcinfo": 1},
        "ingest": {k: ingest[k] for k in ("inputs", "accepted", "rejected", "rejected_by_reason")},
        "stages": stages,
        "overall": {
            "seconds": round(total, 2),
            "pages_per_s": round(n / total, 1),
            "peak_rss_mb": round(max(m.peak_rss_mb for m in ctx.measurements.values()), 1),
        },
    }
