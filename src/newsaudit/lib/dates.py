"""Dates of pages: ISO 8601 from record fields and HTTP/WARC headers, publication dates from HTML.

Publication dates of HTML pages come from `htmldate <https://pypi.org/project/htmldate/>`_ in its
fast mode (markup and metadata, no search of the text): about 8 ms a page on the tree the text was
extracted from, against 41 ms for trafilatura's metadata and 133 ms for htmldate's extensive search
(150 dragnet pages, docs/stages/ingest.md), which finds a date on 131 of the 150.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def iso_date(value: object) -> str | None:
    """An ISO 8601 form of a record's date (``2017-06-04 22:35:00``, ``2017-06-04T22:35:00Z``,
    an HTTP date, epoch seconds); None when it is not a date."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if value != value or not 0 < value < 32503680000:  # NaN, or not between 1970 and 3000
            return None
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if len(text) <= 10:
        return parsed.strftime("%Y-%m-%d")
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


def html_published_date(tree, latest: str) -> str | None:
    """The page's original publication date (``YYYY-MM-DD``) by htmldate's fast mode, or None.

    ``latest`` bounds what is plausible (the fetch date when known): never today's date, which
    would make the table depend on the day it was computed.
    """
    from htmldate import find_date  # optional heavy import, only for HTML pages

    logging.getLogger("htmldate").setLevel(logging.ERROR)
    try:
        return find_date(
            tree,
            extensive_search=False,
            original_date=True,
            outputformat="%Y-%m-%d",
            max_date=latest[:10],
        )
    except (ValueError, TypeError):  # htmldate refuses some malformed trees and bounds
        return None
