"""WARC and ARC crawl files (``.warc``, ``.warc.gz``, ``.arc``, ``.arc.gz``), streamed record by record.

Read with `warcio <https://pypi.org/project/warcio/>`_: it reads ARC as well as WARC (fastwarc,
2.5x faster at parsing, reads no ARC; parsing is under 3% of the cost of a page here, see
docs/stages/ingest.md), decodes chunked and gzip/deflate/brotli HTTP bodies, and writes the WARCs the
tests build. Records are read lazily; a large file is cut into jobs at record boundaries found by a
first pass (:func:`jobs_of`), so the rows in flight stay bounded whatever the file's size.

Every record becomes a row, so ``inputs == accepted + rejected`` holds per record:

* a ``response`` with an HTML payload is a page: ``url`` (WARC-Target-URI), ``source`` (its
  registered domain), ``fetch_date`` (WARC-Date), ``http_status``, ``content_type``; its body is
  decoded with the header's charset (``encoding`` says what was used) and turned into text by the
  same path as ``.html`` files. 4xx/5xx responses are pages too: the boilerplate step marks them
  as error pages by their status;
* rejected, with a code: 3xx responses (``redirect``, the message names the ``Location``), non-HTML
  payloads (``not_html``: images, PDF, JSON...), ``request``/``metadata``/``warcinfo``/``resource``
  /``conversion`` records (``warc_<type>``: counted, not pages), ``revisit`` records (``warc_revisit``,
  the message names the original's URL, date and record id), truncated or damaged records
  (``corrupt``: the rest of the file is read on from the next record that can be found).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from newsaudit.core.errors import Rejection
from newsaudit.lib.dates import iso_date
from newsaudit.lib.text import declared_charset, decode_bytes, html_page, registered_domain
from newsaudit.steps.ingest.doc import Doc, IngestParams, accept, guard, rejected

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
# Where a record can start: a gzip member (per-record gzip, as WARC writers do) or a WARC header.
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = re.compile(rb"(?:^|\r?\n)(WARC/1\.[01]\r?\n)")
_RESYNC_WINDOW = 1 << 20


def warc_format(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith((".warc", ".warc.gz")):
        return "warc"
    if lower.endswith((".arc", ".arc.gz")):
        return "arc"
    return None


def _iterator(fh):
    from warcio.archiveiterator import ArchiveIterator  # optional heavy import, only for crawls

    return ArchiveIterator(fh, arc2warc=True)


def jobs_of(path: Path, job_bytes: int) -> list[tuple[int, int | None, int]]:
    """``(start byte, end byte or None, number of the first record)`` of each job for one file.

    A file up to ``job_bytes`` is one job; a larger one is scanned once (records are skipped, not
    parsed) and cut at the first record boundary after each ``job_bytes``. A scan that meets a
    damaged record stops there: the last job reads from its start to the end of the file, and
    meets (and reports) the damage itself.
    """
    size = path.stat().st_size
    if size <= job_bytes:
        return [(0, None, 1)]
    cuts: list[tuple[int, int]] = [(0, 1)]
    number = 0
    try:
        with path.open("rb") as fh:
            it = _iterator(fh)
            for _ in it:
                number += 1
                offset = it.get_record_offset()
                if offset - cuts[-1][0] >= job_bytes:
                    cuts.append((offset, number))
    except Exception:  # any damage: the reading job meets it again and reports it with its reason
        log.debug("scan of %s stopped at a damaged record", path, exc_info=True)
    ends: list[int | None] = [start for start, _ in cuts[1:]]
    return [(start, end, first) for (start, first), end in zip(cuts, [*ends, None], strict=True)]


def read_warc(
    path: Path, rel: str, fmt: str, params: IngestParams, job: tuple[int, int | None, int], name: str | None
) -> Iterator[Doc]:
    """The rows of the records that start in ``[start, end)``, in order."""
    start, end, number = job
    size = path.stat().st_size
    with path.open("rb") as fh:
        pos = start
        while pos < size and (end is None or pos < end):
            fh.seek(pos)
            it = _iterator(fh)
            last_end = pos
            try:
                for rec in it:
                    # where this record starts (get_record_offset() would read it to its end first)
                    offset = it.offset
                    if end is not None and offset >= end:
                        return
                    doc = Doc(path=rel, format=fmt, record=number, name=name)
                    yield guard(lambda r=rec, d=doc, o=offset: _record(r, d, o, params), doc)
                    number += 1
                    it.read_to_end()
                    last_end = it.get_record_offset() + it.get_record_length()
            except Exception as exc:  # a damaged record rejects that record only, not the file
                where = f"{rel} record {number} (byte {last_end})"
                message = f"{where}: damaged record, not readable ({type(exc).__name__}: {str(exc)[:200]})"
                yield rejected(
                    Doc(path=rel, format=fmt, record=number, name=name), Rejection("corrupt", message)
                )
                number += 1
                pos = _resync(fh, last_end + 1, size)
                continue
            rest = _trailing(fh, last_end, size if end is None else min(end, size))
            if rest:
                where = f"{rel} record {number} (byte {last_end})"
                message = f"{where}: {rest:,} bytes at the end are not a complete record (truncated file?)"
                yield rejected(
                    Doc(path=rel, format=fmt, record=number, name=name), Rejection("corrupt", message)
                )
            return


def _trailing(fh, last_end: int, limit: int) -> int:
    """How many bytes after the last complete record are not padding."""
    fh.seek(last_end)
    rest = fh.read(max(0, limit - last_end))
    return len(rest.strip(b"\r\n \t\x00"))


def _resync(fh, after: int, size: int) -> int:
    """Offset of the next place a record can start at or after ``after`` (``size`` if none)."""
    pos = after
    while pos < size:
        fh.seek(pos)
        window = fh.read(_RESYNC_WINDOW + 16)
        hits = [i for i in (window.find(_GZIP_MAGIC),) if i >= 0]
        m = _WARC_MAGIC.search(window)
        if m:
            hits.append(m.start(1))
        if hits:
            return pos + min(hits)
        pos += _RESYNC_WINDOW
    return size


def _read_upto(stream, limit: int) -> bytes:
    """Up to ``limit`` bytes of the (decoded) payload; fewer only at its end."""
    parts, have = [], 0
    while have < limit:
        part = stream.read(min(1 << 16, limit - have))
        if not part:
            break
        parts.append(part)
        have += len(part)
    return b"".join(parts)


def _header(rec, name: str) -> str | None:
    value = rec.rec_headers.get_header(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _record(rec, doc: Doc, offset: int, params: IngestParams) -> Doc:
    where = f"{doc.path} record {doc.record} (byte {offset})"
    doc.record_id = _header(rec, "WARC-Record-ID")
    doc.url = _header(rec, "WARC-Target-URI")
    doc.source = registered_domain(doc.url)
    doc.fetch_date = iso_date(_header(rec, "WARC-Date"))
    kind = rec.rec_type or "unknown"
    if kind == "revisit":
        original = ", ".join(
            f"{label} {value}"
            for label, value in (
                ("of", _header(rec, "WARC-Refers-To-Target-URI") or doc.url),
                ("fetched", _header(rec, "WARC-Refers-To-Date")),
                ("record", _header(rec, "WARC-Refers-To")),
            )
            if value
        )
        raise Rejection(
            "warc_revisit", f"{where}: revisit record {original}; the page is the original record"
        )
    if kind != "response":
        raise Rejection(f"warc_{kind}", f"{where}: a {kind} record, counted, not a page")
    http = rec.http_headers
    if http is None or not http.get_statuscode():
        raise Rejection("not_http", f"{where}: a response without HTTP headers ({doc.url}), not a web page")
    try:
        doc.http_status = int(http.get_statuscode())
    except ValueError:
        raise Rejection(
            "corrupt", f"{where}: HTTP status {http.get_statuscode()!r} is not a number"
        ) from None
    doc.content_type = http.get_header("Content-Type")
    data = _read_upto(rec.content_stream(), params.max_bytes + 1)
    if len(data) <= params.max_bytes and getattr(rec.raw_stream, "limit", 0) > 0:
        raise Rejection(
            "corrupt", f"{where}: truncated record ({rec.raw_stream.limit:,} bytes of its block missing)"
        )
    if 300 <= doc.http_status < 400:
        target = http.get_header("Location") or "no Location header"
        raise Rejection(
            "redirect", f"{where}: HTTP {doc.http_status} redirect to {target}, counted, not a page"
        )
    if len(data) > params.max_bytes:
        raise Rejection("too_large", f"{where}: payload over ingest.max_bytes = {params.max_bytes:,}")
    mime = (doc.content_type or "").split(";")[0].strip().lower()
    if mime not in HTML_TYPES and not (not mime and data.lstrip()[:1] == b"<"):
        raise Rejection("not_html", f"{where}: {mime or 'untyped'} payload, not an HTML page")
    m = _CHARSET.search(doc.content_type or "")
    charset = m.group(1) if m else declared_charset(data)
    text, doc.encoding = decode_bytes(data, where, charset)
    latest = (doc.fetch_date or params.latest_published_date) if params.published_dates else None
    text, doc.published_date = html_page(text, latest)
    if not text.strip():
        raise Rejection(
            "no_text", f"{where}: HTML without visible text (parsed by lxml, lxml huge_tree and lexbor)"
        )
    return accept(doc, text, params)
