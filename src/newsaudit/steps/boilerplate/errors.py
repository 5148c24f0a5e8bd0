"""Error pages and error blocks, and line patterns of page furniture no model needs to learn.

Scraped pages are often not pages at all: a 403/404/5xx response, a "page not found" template,
a bot wall, a "please enable JavaScript" shell, a cookie wall or a paywall stub. Sometimes such a
block is glued before real content (a dump of a redirect followed by the article). Each kind has
several phrasings; a line matches a kind when one of its regexes matches the lower-cased line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Kind -> regexes on the lower-cased line. Order matters: the first kind found names the page.
ERROR_PATTERNS: dict[str, list[str]] = {
    "403": [r"^\W*(error\W*)?403\b", r"\b403\W+forbidden\b", r"\berror 403\b", r"^forbidden\W*$"],
    "404": [r"^\W*(error\W*)?404\b", r"\b404\W+(error|not found|page)\b", r"\berror 404\b"],
    "410": [r"^\W*(error\W*)?410\b", r"\b410\W+gone\b", r"\bpage (is|has) (gone|been removed)\b"],
    "5xx": [
        r"^\W*(error\W*)?50[0-4]\b",
        r"\b50[0-4]\W+(internal server error|bad gateway|service unavailable|gateway time-?out)\b",
        r"\binternal server error\b",
        r"\bservice (is )?(temporarily )?unavailable\b",
        r"\bbad gateway\b",
        r"\bgateway time-?out\b",
    ],
    "not_found": [
        r"\bpage (you (were|are) looking for|you requested|requested) "
        r"(doesn.?t|does not|could not|cannot|can.?t|was not|no longer|might|may|is not)",
        r"\b(page|article|content|story) (was )?not found\b",
        r"\b(we|i) (can.?t|cannot|could ?n.?t|were unable to) find (the|that|this) page\b",
        r"\bthis page (doesn.?t|does not|no longer) exist",
        r"\bnothing (was )?found (here|at this location)\b",
        r"\bseite (wurde )?nicht gefunden\b",
        r"\bpage (introuvable|non trouvée)\b",
        r"\bpágina no encontrada\b",
    ],
    "access_denied": [
        r"\baccess (is )?denied\b",
        r"\byou (don.?t|do not) have (the )?permission to (access|view)\b",
        r"\b(are you a robot|verify (that )?you are (a )?human|complete the security check|captcha)\b",
        r"\bchecking (if the site connection is secure|your browser before accessing)\b",
        r"\b(request|access) (has been )?(blocked|unsuccessful)\b",
        r"\bunusual (traffic|activity) from your (computer|network)\b",
        r"\bnot available in your (country|region)\b",
    ],
    "enable_js": [
        r"\b(please )?(enable|turn on|activate) javascript\b",
        r"\bjavascript (is|seems to be) (disabled|turned off|required)\b",
        r"\brequires? javascript\b",
        r"\byour browser (does not|doesn.?t) support javascript\b",
        r"\bjavascript aktivieren\b",
    ],
    "cookie_wall": [
        r"\b(accept|allow|agree to) (all )?cookies (to|before) (continue|continuing|access|view)",
        r"\bto (continue|view this (page|content)),? (please )?(accept|allow|enable) cookies\b",
        r"\bcookies? (are|is) (disabled|required)\b",
        r"\bplease enable cookies\b",
        r"\bwe value your privacy\b",
    ],
    "paywall": [
        r"\b(subscribe|sign in|log in|register) (now )?to (continue|keep) reading\b",
        r"\b(this (article|content|story) is|is only) (only )?(available|exclusive) (to|for) "
        r"(subscribers|members)",
        r"\balready (a )?(subscriber|member)\W*(sign|log) in\b",
        r"\byou have reached (your|the) (limit|maximum) of free articles\b",
        r"\b(to read the full (article|story)|continue reading with a subscription)\b",
        r"\bsubscriber[- ]only content\b",
    ],
}
# Short lines that belong to an error block when next to an error line ("Sorry!!", "Error!", "Oops").
ERROR_FILLER = (
    r"^\W*(sorry|we.?re sorry|oops|whoops|uh[- ]oh|error|an error (has )?occurred|hmm+|go back|back to home"
    r"(page)?|return to (the )?home ?page|click here to go back|try again( later)?|page not available)\W*$"
)

# Page-furniture lines removed wherever they are (reason "pattern"), only when they are short
# enough to be furniture and not an article sentence that mentions the same words.
FURNITURE_PATTERNS: list[str] = [
    r"^\W*(\d+\s+)?comments?\W*$",
    r"^\W*no comments?( yet)?\W*$",
    r"^\W*(leave|post|add|write) a (comment|reply)\b",
    r"^\W*(be the first to comment|comments are closed|show comments|view comments)\b",
    r"^\W*(legal )?disclaimer\W*$",
    r"^\W*legal disclaimer\W",
    r"\bprovides? (the|this) information .{0,3}as is.{0,3} without warranty\b",
    r"\bwithout warranty of any kind\b",
    r"\ball rights reserved\b",
    r"^\W*(copyright|©)\s*(\(c\)\s*)?\d{4}",
    r"^\W*share (this|on|via)\b",
    r"^\W*(share|tweet|email|print|facebook|twitter|linkedin|whatsapp|pinterest|reddit)\W*$",
    r"^\W*follow us( on)?\b",
    r"^\W*(related|recommended|more) (articles|stories|posts|news|content)\W*$",
    r"^\W*(you may|you might|we think you.?ll) also (like|be interested)\b",
    r"^\W*(advertisement|advertising|sponsored( content)?|anzeige)\W*$",
    r"^\W*(read more|continue reading|click here|more\.\.\.)\W*$",
    r"^\W*(sign up|subscribe) (for|to) (our|the) (free )?newsletter\b",
    r"^\W*(tags?|topics?|filed under|categories)\s*:",
    r"\bwe use cookies\b",
    r"\b(by (continuing|using) (to use )?this (site|website)),? you (agree|consent)\b",
    r"^\W*(skip to (main )?content|jump to navigation|toggle navigation|main menu)\W*$",
]


@dataclass(frozen=True)
class ErrorScan:
    kinds: list[str | None]  # per line: the error kind it announces
    prefix_end: int  # number of leading lines forming an error block (0 = none)
    prefix_kind: str | None
    first_kind: str | None  # first kind found anywhere in the scanned lines


# --------------------------------------------------------------------------------------------
# The tests over a whole batch of lines: RE2 through pyarrow (the patterns are written once, in
# Python syntax, and translated; there is no second, Python-``re`` implementation to drift)


def re2_pattern(pattern: str) -> str:
    """A Python ``re`` pattern of this module for RE2, whose ``\\w \\W \\d \\s`` are ASCII-only.

    ``\\b`` stays ASCII in RE2 (it has no Unicode word boundary); the patterns here put it next to
    ASCII letters, where both engines agree.
    """
    return (
        pattern.replace(r"\W", r"[^\p{L}\p{N}_]")
        .replace(r"\w", r"[\p{L}\p{N}_]")
        .replace(r"\d", r"\p{Nd}")
        .replace(r"\s", r"[\s\p{Z}]")
    )


def _any_of(patterns: list[str]) -> str:
    return "|".join(f"(?:{re2_pattern(p)})" for p in patterns)


_ERROR_RE2 = {kind: _any_of(rxs) for kind, rxs in ERROR_PATTERNS.items()}
_FILLER_RE2 = re2_pattern(ERROR_FILLER)
_FURNITURE_RE2 = _any_of(FURNITURE_PATTERNS)


def _matches(lower: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(lower, pattern).to_numpy(zero_copy_only=False)


def error_kinds_batch(lower: pa.Array, n_words: np.ndarray, max_words: int) -> np.ndarray:
    """The error kind each lower-cased, stripped line announces (the first kind of
    ``ERROR_PATTERNS`` that matches; None for lines over ``max_words`` words)."""
    kinds = np.full(len(lower), None, dtype=object)
    short = n_words <= max_words
    for kind, pattern in reversed(_ERROR_RE2.items()):  # the first kind in dict order wins
        kinds[short & _matches(lower, pattern)] = kind
    return kinds


def fillers_batch(lower: pa.Array) -> np.ndarray:
    return _matches(lower, _FILLER_RE2)


def furniture_batch(lower: pa.Array, n_words: np.ndarray, max_words: int) -> np.ndarray:
    """Whether each lower-cased, stripped line of at most ``max_words`` words is page furniture."""
    return (n_words <= max_words) & _matches(lower, _FURNITURE_RE2)


def scan_errors_flags(kinds: list[str | None], fillers: np.ndarray, scan_lines: int) -> ErrorScan:
    """Error lines and the error block that starts within the first ``scan_lines`` lines of a page.

    Only short lines count (``error_kinds_batch``), so an article that reports on a "404 page" does
    not turn into an error page. The block starts at an error line within the scanned top and extends
    over further error and filler lines ("Sorry!!", "Error!"); lines before the first error line
    stay in the block only when they are filler themselves.
    """
    first = next((k for k in kinds if k), None)
    end, prefix_kind, i = 0, None, 0
    while i < min(scan_lines, len(kinds)):
        if kinds[i] or fillers[i]:
            if kinds[i] and prefix_kind is None:
                prefix_kind = kinds[i]
            i += 1
            if prefix_kind is not None:
                end = i
            continue
        break
    if prefix_kind is None:
        end = 0
    return ErrorScan(list(kinds), end, prefix_kind, first)
