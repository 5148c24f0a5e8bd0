"""Readers of the ingest step: one input file -> pages-table rows, accounting for every input.

A corpus is a folder (or one file) of pages: ``.txt`` dumps, ``.html``/``.htm``/``.html.gz`` pages
(turned into their full visible text, boilerplate kept), or JSONL / CSV / TSV / Parquet files with a
``text`` column (optional ``id`` and ``url``; :mod:`.records`). Every input document becomes one row
of ``pages.parquet``: accepted with its text, or rejected with a reason. Nothing is dropped silently:
``inputs == accepted + rejected`` is checked before anything is written.

Decoding and text: :mod:`newsaudit.lib.text` (one path for every reader). File names need not be
UTF-8: they are opened as the OS gives them and shown escaped (:func:`.doc.display_path`).
"""

from __future__ import annotations

import gzip
import logging
import os
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from newsaudit.core.errors import Rejection
from newsaudit.lib.text import (
    declared_charset,
    decode_bytes,
    domain_of,
    html_page,
    sniff_binary,
    source_from_name,
    url_from_html,
)
from newsaudit.steps.ingest.doc import (
    MANIFEST_COLUMNS,
    PAGES_SCHEMA,
    CorpusParams,
    Doc,
    IngestError,
    IngestParams,
    accept,
    display_path,
    rejected,
)
from newsaudit.steps.ingest.records import read_json, read_jsonl, read_table
from newsaudit.steps.ingest.warc import read_warc, warc_format

__all__ = [
    "MANIFEST_COLUMNS",
    "PAGES_SCHEMA",
    "CorpusParams",
    "IngestError",
    "IngestParams",
    "discover",
    "format_of",
    "read_input",
]

log = logging.getLogger(__name__)

PAGE_FORMATS = {".txt": "txt", ".html": "html", ".htm": "html"}
RECORD_FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
}
EXPECTED = ".txt, .html, .htm, .html.gz, .json, .jsonl, .csv, .tsv, .parquet, .warc(.gz) or .arc(.gz)"


def format_of(name: str) -> str | None:
    lower = name.lower()
    crawl = warc_format(lower)
    if crawl:
        return crawl
    if lower.endswith((".html.gz", ".htm.gz")):
        return "html"
    if lower.endswith(".txt.gz"):
        return "txt"
    suffix = PurePosixPath(lower).suffix
    return PAGE_FORMATS.get(suffix) or RECORD_FORMATS.get(suffix)


def read_page(path: Path, rel: str, fmt: str, params: IngestParams, name: str | None = None) -> Doc:
    doc = Doc(path=rel, format=fmt, source=source_from_name(rel), name=name)
    size = path.stat().st_size
    if size == 0:
        raise Rejection("empty", f"{rel}: empty file (0 bytes)")
    if size > params.max_bytes:
        raise Rejection("too_large", f"{rel}: {size:,} bytes, over ingest.max_bytes = {params.max_bytes:,}")
    data = path.read_bytes()
    if rel.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise Rejection("corrupt", f"{rel}: not a valid gzip file ({exc})") from None
        if len(data) > params.max_bytes:
            raise Rejection(
                "too_large",
                f"{rel}: {len(data):,} bytes uncompressed, over ingest.max_bytes = {params.max_bytes:,}",
            )
    if not data.strip():
        raise Rejection("empty", f"{rel}: no text (only white space)")
    binary = sniff_binary(data)
    if binary:
        raise Rejection("binary", f"{rel}: binary file ({binary}), not a text page")
    text, doc.encoding = decode_bytes(data, rel, declared_charset(data) if fmt == "html" else None)
    if fmt == "html":
        doc.url = url_from_html(text)
        doc.source = domain_of(doc.url) or doc.source
        text, doc.published_date = html_page(
            text, params.latest_published_date if params.published_dates else None
        )
        if not text.strip():
            raise Rejection(
                "no_text", f"{rel}: HTML without visible text (parsed by lxml, lxml huge_tree and lexbor)"
            )
    return accept(doc, text, params)


def read_input(args: tuple) -> list[dict]:
    """All documents of one input (a file, or a slice of a WARC's records) as pages-table rows
    (runs in a worker process). ``args``: ``(path, name, params)`` or, for a WARC slice,
    ``(path, name, params, (start byte, end byte, first record number))``."""
    path_str, name, params = args[:3]
    path = Path(path_str)
    rel = display_path(name)  # what rows and messages show; ``name`` opens the file and keys doc_id
    fmt = format_of(rel)
    if fmt is None:
        suffix = PurePosixPath(rel).suffix or "(no extension)"
        doc = Doc(path=rel, format="unknown", name=name)
        message = f"{rel}: unsupported format {suffix}; expected {EXPECTED}"
        return [rejected(doc, Rejection("unsupported_format", message)).to_row()]
    try:
        if fmt in ("txt", "html"):
            return [read_page(path, rel, fmt, params, name).to_row()]
        if fmt in ("warc", "arc"):
            docs = list(read_warc(path, rel, fmt, params, args[3] if len(args) > 3 else (0, None, 1), name))
        elif fmt == "jsonl":
            docs = list(read_jsonl(path, rel, params, name))
        elif fmt == "json":
            docs = list(read_json(path, rel, params, name))
        else:
            docs = list(read_table(path, rel, fmt, params, name))
        if not docs:
            raise Rejection("empty", f"{rel}: no records")
        return [d.to_row() for d in docs]
    except Rejection as rej:
        return [rejected(Doc(path=rel, format=fmt, name=name), rej).to_row()]
    except OSError as exc:
        rej = Rejection("unreadable", f"{rel}: cannot read ({exc})")
        return [rejected(Doc(path=rel, format=fmt, name=name), rej).to_row()]
    except Exception as exc:  # a hostile page must not stop the corpus; the reason is kept in its row
        log.debug("failed to parse %s", rel, exc_info=True)
        rej = Rejection("parse_error", f"{rel}: could not be parsed ({type(exc).__name__}: {exc})")
        return [rejected(Doc(path=rel, format=fmt, name=name), rej).to_row()]


# --------------------------------------------------------------------------------------------------
# The corpus: discover inputs in a stable order
# --------------------------------------------------------------------------------------------------


def discover(corpus: CorpusParams) -> list[tuple[Path, str]]:
    """Input files in a stable order, with their paths relative to the corpus root.

    Names are ``str`` as ``os.walk`` gives them: bytes that are not UTF-8 are surrogate escapes
    (:pep:`383`), so every file opens; the rows show them escaped (``display_path``).
    """
    root = Path(corpus.path)
    if not root.exists():
        raise IngestError(
            f"corpus path {display_path(str(root))} does not exist "
            "(corpus.path in params.yaml, or the CORPUS argument)"
        )
    if root.is_file():
        return [(root, root.name)]
    found: list[tuple[Path, str]] = []
    n_files = 0
    for dirpath, dirnames, filenames in os.walk(root):
        # Sorted by the names' bytes: one order whatever the names hold (str order of surrogate
        # escapes and of real characters need not agree with it).
        dirnames.sort(key=os.fsencode)
        for name in sorted(filenames, key=os.fsencode):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            n_files += 1
            if not corpus.include or any(fnmatch(rel, pat) or fnmatch(name, pat) for pat in corpus.include):
                found.append((full, rel))
    if not found:
        what = (
            f"no files matching corpus.include {corpus.include} ({n_files} files in all)"
            if corpus.include
            else "no files"
        )
        raise IngestError(f"corpus {display_path(str(root))} holds no documents: {what}")
    return found
