"""The pages table's rows: one :class:`Doc` per input document, accepted or rejected with a reason.

File names are kept as the operating system gives them (``str`` with surrogate escapes for bytes
that are not UTF-8, :pep:`383`), so any name can be opened; the table shows them in an escaped form
(:func:`display_path`: each undecodable byte as ``\\xNN``) and ``doc_id`` hashes the name's bytes,
so ids are stable and names that are valid UTF-8 keep the ids they always had.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import pyarrow as pa

from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError, Rejection
from newsaudit.lib.text import domain_of, identify_language, normalise_text


class CorpusParams(Section):
    # Folder (or single file) holding the corpus; relative paths are relative to the project root.
    path: str = "data/external"
    # Glob patterns (relative to ``path``) that select the inputs; empty means every file.
    include: list[str] = []


class RecordFields(Section):
    """Field names of JSON/JSONL records per column, first present (non-null) field wins; the
    defaults read news-please output (and scrapy items with ``url``/``body``)."""

    text: list[str] = ["maintext", "text", "html", "body"]  # a value holding HTML tags is parsed as HTML
    url: list[str] = ["url"]
    id: list[str] = ["id"]
    source: list[str] = ["source_domain"]
    published_date: list[str] = ["date_publish"]
    fetch_date: list[str] = ["date_download"]


class IngestParams(Section):
    max_bytes: int = 20_000_000  # per page file, or per record's text (a WARC record's payload)
    min_language_chars: int = 20  # shorter texts get no language (identification is noise there)
    language_chars: int = 3000  # how much of a page the language identifier reads
    row_group_size: int = 500
    # CSV/TSV/Parquet columns (JSON/JSONL records: ``record_fields``)
    text_column: str = "text"
    id_column: str = "id"
    url_column: str = "url"
    record_fields: RecordFields = RecordFields()
    # A WARC larger than this is read as several jobs of about this many bytes (record boundaries
    # found by a first pass), so parsed rows in flight stay bounded whatever the file's size.
    warc_job_bytes: int = 64_000_000
    published_dates: bool = True  # htmldate on each HTML page (about 8 ms a page)
    # Latest publication date htmldate accepts when the page has no fetch date: a fixed bound, not
    # today's date, so a rerun gives the same table.
    latest_published_date: str = "2035-12-31"


PAGES_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("path", pa.string()),
        ("record", pa.int64()),
        ("record_id", pa.string()),
        ("format", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("encoding", pa.string()),
        ("raw_text", pa.string()),
        ("n_chars", pa.int64()),
        ("language", pa.string()),
        ("language_score", pa.float64()),
        ("status", pa.string()),
        ("reason_code", pa.string()),
        ("status_reason", pa.string()),
        # added with the crawl formats (issue 16); older columns keep their order
        ("http_status", pa.int64()),
        ("content_type", pa.string()),
        ("fetch_date", pa.string()),
        ("published_date", pa.string()),
    ]
)
MANIFEST_COLUMNS = ["doc_id", "path", "record", "format", "status", "reason_code", "status_reason", "n_chars"]


class IngestError(NewsauditError):
    """The corpus as a whole cannot be ingested (missing path, no documents)."""


def display_path(name: str) -> str:
    """``name`` as the table shows it: valid UTF-8 as is, any other byte as ``\\xNN``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def doc_id(name: str, record: int | None) -> str:
    """Stable id of a document: a hash of its file name's bytes (and record number)."""
    key = os.fsencode(name) if record is None else os.fsencode(name) + f"#{record}".encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


def unencodable(value: str) -> int | None:
    """Position of the first character UTF-8 cannot encode (a lone surrogate), or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


@dataclass
class Doc:
    path: str  # as shown (display_path)
    format: str
    record: int | None = None
    record_id: str | None = None
    source: str | None = None
    url: str | None = None
    encoding: str | None = None
    raw_text: str | None = None
    language: str | None = None
    language_score: float | None = None
    status: str = "accepted"
    reason_code: str | None = None
    status_reason: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    fetch_date: str | None = None  # ISO 8601, UTC when the source says so
    published_date: str | None = None  # ISO 8601 date (or date and time, as the record gives it)
    name: str | None = None  # the file name as the OS gives it (doc_id); None = ``path``

    def to_row(self) -> dict:
        return {
            "doc_id": doc_id(self.path if self.name is None else self.name, self.record),
            "path": self.path,
            "record": self.record,
            "record_id": self.record_id,
            "format": self.format,
            "source": self.source,
            "url": self.url,
            "encoding": self.encoding,
            "raw_text": self.raw_text,
            "n_chars": len(self.raw_text) if self.raw_text is not None else 0,
            "language": self.language,
            "language_score": self.language_score,
            "status": self.status,
            "reason_code": self.reason_code,
            "status_reason": self.status_reason,
            "http_status": self.http_status,
            "content_type": self.content_type,
            "fetch_date": self.fetch_date,
            "published_date": self.published_date,
        }


def at(doc: Doc) -> str:
    """Where a record sits in its file, for messages (`` line 3``, `` row 2``)."""
    if doc.record is None:
        return ""
    if doc.format in ("warc", "arc", "json"):
        return f" record {doc.record}"
    return f" line {doc.record}" if doc.format == "jsonl" else f" row {doc.record}"


def accept(doc: Doc, text: str, params: IngestParams) -> Doc:
    doc.raw_text = normalise_text(text)
    if not doc.raw_text.strip():
        raise Rejection("empty", f"{doc.path}{at(doc)}: no text (only white space)")
    doc.language, doc.language_score = identify_language(
        doc.raw_text, params.language_chars, params.min_language_chars
    )
    if doc.source is None:
        doc.source = domain_of(doc.url)
    return doc


def rejected(doc: Doc, rej: Rejection) -> Doc:
    doc.status, doc.reason_code, doc.status_reason = "rejected", rej.code, rej.message
    doc.raw_text = None
    return doc


def guard(read, doc: Doc) -> Doc:
    try:
        return read()
    except Rejection as rej:
        return rejected(doc, rej)
