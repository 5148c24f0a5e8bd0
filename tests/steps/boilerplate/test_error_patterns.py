"""Error pages and furniture lines: each phrasing through the batch functions the step runs (the
patterns written once in Python syntax, translated for RE2 and run over pyarrow arrays)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from newsaudit.steps.boilerplate.errors import (
    ErrorScan,
    error_kinds_batch,
    fillers_batch,
    furniture_batch,
    re2_pattern,
    scan_errors_flags,
)

ERROR_LINES = [
    ("404", "404"),
    ("Error 404 - Page not found", "404"),
    ("403 Forbidden", "403"),
    ("410 Gone", "410"),
    ("503 Service Unavailable", "5xx"),
    ("Internal Server Error", "5xx"),
    ("Oops! We can't find that page.", "not_found"),
    ("The page you requested could not be found.", "not_found"),
    ("Seite nicht gefunden", "not_found"),
    ("Página no encontrada", "not_found"),
    ("Access denied", "access_denied"),
    ("Please verify you are a human", "access_denied"),
    ("Please enable JavaScript to view this site.", "enable_js"),
    ("JavaScript is disabled in your browser.", "enable_js"),
    ("Please enable cookies to continue.", "cookie_wall"),
    ("Subscribe to continue reading.", "paywall"),
    ("This article is only available to subscribers.", "paywall"),
    ("The minister said the report was published in 2019.", None),
]
FURNITURE_LINES = [
    ("Comments", True),
    ("12 comments", True),
    ("No comment", True),
    ("Legal Disclaimer:", True),
    ("Copyright 2024 Example Media. All rights reserved.", True),
    ("© 2024 Example", True),
    ("Share this article", True),
    ("Follow us on Twitter", True),
    ("Advertisement", True),
    ("Tags: politics, elections", True),
    ("We use cookies to improve your experience", True),
    ("Skip to main content", True),
    ("The council said comments from residents would be heard on Tuesday.", False),
    ("Müller sagte, die Kommentare seien willkommen.", False),
]
FILLER_LINES = [
    ("Sorry!!", True),
    ("Error!", True),
    ("Oops", True),
    ("Return to the homepage", True),
    ("Try again later.", True),
    ("Sorry, the minister said, but the talks will go on.", False),
]


def _lower(lines: list[str]) -> tuple[pa.Array, np.ndarray]:
    """Lines as the step prepares them: stripped, lower-cased, with their word counts."""
    lower = pc.utf8_lower(pa.array([line.strip() for line in lines], type=pa.large_string()))
    n_words = pc.list_value_length(pc.utf8_split_whitespace(lower)).to_numpy(zero_copy_only=False)
    return lower, n_words.astype(np.int64)


def kinds_of(lines: list[str], max_words: int = 25) -> list[str | None]:
    lower, n_words = _lower(lines)
    return error_kinds_batch(lower, n_words, max_words).tolist()


def scan(lines: list[str], scan_lines: int = 12, max_words: int = 25) -> ErrorScan:
    """One page's error scan, as the step computes it from the batch functions."""
    lower, n_words = _lower(lines)
    kinds = list(error_kinds_batch(lower, n_words, max_words))
    return scan_errors_flags(kinds, fillers_batch(lower), scan_lines)


@pytest.mark.parametrize(("line", "kind"), ERROR_LINES)
def test_error_phrasings(line, kind):
    assert kinds_of([line]) == [kind]


def test_error_kinds_of_many_lines_at_once_are_each_lines_kind():
    lines = [line for line, _ in ERROR_LINES]
    assert kinds_of(lines) == [kind for _, kind in ERROR_LINES]
    assert kinds_of(lines[::-1]) == [kind for _, kind in ERROR_LINES[::-1]]


def test_long_lines_announce_no_error():
    long_line = "An article about a 404 error " + "word " * 40
    assert kinds_of([long_line, "404"]) == [None, "404"]
    assert kinds_of([long_line], max_words=100) == ["404"]


@pytest.mark.parametrize(("line", "expected"), FURNITURE_LINES)
def test_furniture_phrasings(line, expected):
    lower, n_words = _lower([line])
    assert furniture_batch(lower, n_words, 60).tolist() == [expected]


def test_furniture_needs_a_short_line():
    lower, n_words = _lower(["All rights reserved " + "word " * 70])
    assert furniture_batch(lower, n_words, 60).tolist() == [False]
    assert furniture_batch(lower, n_words, 100).tolist() == [True]


@pytest.mark.parametrize(("line", "expected"), FILLER_LINES)
def test_error_filler_lines(line, expected):
    assert fillers_batch(_lower([line])[0]).tolist() == [expected]


def test_re2_translation_keeps_unicode_letters_in_word_classes():
    """RE2's ``\\W`` is ASCII-only: translated, a non-ASCII letter is a word character, as in ``re``."""
    assert re2_pattern(r"^\W*comments?\W*$") == r"^[^\p{L}\p{N}_]*comments?[^\p{L}\p{N}_]*$"
    lower, n_words = _lower(["é comments", "— comments —"])
    assert furniture_batch(lower, n_words, 60).tolist() == [False, True]


def test_error_prefix_needs_top_of_page_and_short_lines():
    assert scan(["Intro paragraph " * 5, "404", "Sorry!!"]).prefix_end == 0
    long_line = "An article about a 404 error " + "word " * 40
    assert scan([long_line]).first_kind is None


def test_error_prefix_spans_error_and_filler_lines():
    lines = ["Sorry!!", "403", "Error! We're sorry, but the page you were looking for doesn't exist.", "Body"]
    s = scan(lines)
    assert (s.prefix_end, s.prefix_kind, s.first_kind) == (3, "403", "403")
    assert s.kinds == [None, "403", "not_found", None]
    # filler alone is no error block
    assert scan(["Sorry!!", "Oops", "Body"]).prefix_end == 0
    # beyond the scanned top, an error line starts no block (but is still found)
    s = scan(["Body"] * 12 + ["404"])
    assert (s.prefix_end, s.first_kind) == (0, "404")
