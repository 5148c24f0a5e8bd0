"""Fixtures of the ingest tests: WARC (and ARC) files written with warcio's writer from mirrored
HTML pages, with real HTTP headers (issue 16)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

WARC_DATE = "2024-03-05T10:00:00Z"
POLISH = (
    "Wiadomości z Łodzi: żołnierze zatrzymali w poniedziałek trzech podejrzanych, a policja prowadzi "
    "śledztwo w tej sprawie. Według rzecznika prokuratury zatrzymani usłyszą zarzuty jeszcze w tym "
    "tygodniu, a mieszkańcy okolicznych ulic zostali poproszeni o zgłaszanie wszelkich informacji."
)
ERROR_BODY = (
    b"<html><body><h1>404 Not Found</h1><p>The page you requested could not be found.</p></body></html>"
)


def mirrored_pages(mirror: Path, n: int) -> list[bytes]:
    """The first ``n`` scrapinghub benchmark pages (UTF-8 HTML): real pages for ingest tests only."""
    folder = mirror / "scrapinghub-article-extraction-benchmark" / "html"
    return [gzip.decompress(p.read_bytes()) for p in sorted(folder.glob("*.html.gz"))[:n]]


def _chunked(data: bytes, size: int = 1000) -> bytes:
    parts = [
        b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size]) for i in range(0, len(data), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def write_warc(path: Path, pages: list[bytes]) -> list[dict]:
    """A crawl as a crawler writes it; returns what each record is (in file order)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    records: list[dict] = []

    def response(writer, url, status, headers, body, expect):
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        rec = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": WARC_DATE},
        )
        writer.write_record(rec)
        records.append({"url": url, **expect})
        return rec

    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=path.name.endswith(".gz"))
        # Fixed record ids (warcio draws uuid4s): the file's bytes, and so where a test damages it,
        # are the same on every run.
        ids = iter(range(1, 10_000))
        writer._make_warc_id = lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(ids):012d}>"
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "newsaudit tests"}))
        records.append({"code": "warc_warcinfo"})
        html = "text/html; charset=utf-8"
        first = response(
            writer,
            "https://www.example.co.uk/news/1",
            "200 OK",
            [("Content-Type", html)],
            pages[0],
            {"status": 200},
        )
        req = StatusAndHeaders("GET /news/1 HTTP/1.1", [("Host", "www.example.co.uk")], is_http_request=True)
        writer.write_record(
            writer.create_warc_record("https://www.example.co.uk/news/1", "request", http_headers=req)
        )
        records.append({"code": "warc_request"})
        response(
            writer,
            "http://example.co.uk/old",
            "301 Moved Permanently",
            [("Location", "https://www.example.co.uk/news/1"), ("Content-Type", "text/html")],
            b"<html><body>Moved</body></html>",
            {"status": 301, "code": "redirect"},
        )
        response(
            writer,
            "https://news.example.org/missing",
            "404 Not Found",
            [("Content-Type", html)],
            ERROR_BODY,
            {"status": 404},
        )
        response(
            writer,
            "https://news.example.org/busy",
            "503 Service Unavailable",
            [("Content-Type", html)],
            pages[1],
            {"status": 503},
        )
        response(
            writer,
            "https://gz.example.net/a",
            "200 OK",
            [("Content-Type", html), ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")],
            _chunked(gzip.compress(pages[2], mtime=0)),
            {"status": 200, "same_as": 2},
        )
        latin2 = f"<html><body><p>{POLISH}</p></body></html>".encode("iso-8859-2")
        response(
            writer,
            "https://pl.example.pl/wiadomosci",
            "200 OK",
            [("Content-Type", "text/html; charset=ISO-8859-2")],
            latin2,
            {"status": 200, "encoding": "iso8859-2"},
        )
        response(
            writer,
            "https://cdn.example.com/a.png",
            "200 OK",
            [("Content-Type", "image/png")],
            b"\x89PNG\r\n\x1a\n" + bytes(64),
            {"status": 200, "code": "not_html"},
        )
        response(
            writer,
            "https://x.example.com/r.pdf",
            "200 OK",
            [("Content-Type", "application/pdf")],
            b"%PDF-1.7\n",
            {"status": 200, "code": "not_html"},
        )
        soft = b"<html><body><h1>Page not found</h1><p>Sorry, this page does not exist.</p></body></html>"
        response(
            writer,
            "https://www.example.co.uk/gone",
            "200 OK",
            [("Content-Type", html)],
            soft,
            {"status": 200, "soft_404": True},
        )
        meta = writer.create_warc_record(
            "https://www.example.co.uk/news/1",
            "metadata",
            payload=io.BytesIO(b"outlinks: 3\r\n"),
            warc_content_type="application/warc-fields",
        )
        writer.write_record(meta)
        records.append({"code": "warc_metadata"})
        revisit = writer.create_revisit_record(
            "https://www.example.co.uk/news/1",
            digest=first.rec_headers.get_header("WARC-Payload-Digest"),
            refers_to_uri="https://www.example.co.uk/news/1",
            refers_to_date=WARC_DATE,
        )
        revisit.rec_headers.add_header("WARC-Refers-To", first.rec_headers.get_header("WARC-Record-ID"))
        writer.write_record(revisit)
        records.append({"code": "warc_revisit"})
    return records


def write_arc(path: Path, body: bytes) -> None:
    """A (gzipped) ARC file as the Internet Archive's crawlers wrote them before WARC."""
    head_body = b"1 0 newsaudit-tests\nURL IP-address Archive-date Content-type Archive-length\n\n"
    head = f"filedesc://{path.name} 0.0.0.0 20010101000000 text/plain {len(head_body)}\n".encode() + head_body
    http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    rec = (
        f"http://www.example.com/old-page 93.184.216.34 20010203040506 text/html {len(http)}\n".encode()
        + http
    )
    with path.open("wb") as fh:
        fh.write(gzip.compress(head + b"\n", mtime=0))
        fh.write(gzip.compress(rec + b"\n", mtime=0))


@pytest.fixture(scope="session")
def crawl_pages(mirror) -> list[bytes]:
    return mirrored_pages(mirror, 4)


@pytest.fixture(scope="session")
def crawl_warc(tmp_path_factory, crawl_pages) -> tuple[Path, list[dict]]:
    path = tmp_path_factory.mktemp("warc") / "crawl.warc.gz"
    return path, write_warc(path, crawl_pages)


@pytest.fixture(scope="session")
def crawl_facts() -> dict:
    """What the crawl fixture wrote that tests compare with (its WARC-Date, the Polish text)."""
    return {"warc_date": WARC_DATE, "polish": POLISH}


@pytest.fixture(scope="session")
def arc_writer():
    """``arc_writer(path, body)``: write a gzipped ARC file holding one HTML response."""
    return write_arc
