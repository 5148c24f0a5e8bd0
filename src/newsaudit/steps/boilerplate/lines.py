"""Lines of a plain-text page dump and the per-line features the line model uses.

A page is split into its non-blank lines; the number of blank lines before each line is kept
because ``html_text``'s layout mode puts blank lines between block elements, which is one of the
few structure signals a text dump still carries. Features describe the line itself (length,
punctuation, stop words, keywords typical of navigation, sharing, cookies, copyright...), its
neighbours and its place in the page (the article is usually one contiguous run of long lines, so
the distance to the densest run of text is a strong signal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from newsaudit.steps.boilerplate.segments import (
    FIXED_POINT,
    Segments,
    seg_distance_to_run,
    seg_max_subarray,
    seg_shift,
    seg_window_mean,
)

TOKEN_RE = re.compile(r"\w+", re.UNICODE)
_NORM_DIGITS = re.compile(r"\d+")
_NORM_SPACE = re.compile(r"\s+")

# Function words of the training and test languages (English news mostly, German in trafilatura-eval,
# some French/Spanish/Polish): a prose line has many of them, a menu or a byline has few.
_STOP_WORDS_TEXT = (
    "a about after all also an and any are as at be been but by can could did do does for from had "
    "has have he her his how i if in into is it its just may more most my no not of on one only or "
    "other our out over said she so some such than that the their them then there these they this "
    "those to up was we were what when which while who will with would you your der die das und ist "
    "nicht ein eine einer eines dem den des zu im in mit von auf für sich auch es als an bei nach "
    "wie aus noch wird werden wurde sind hat haben oder aber so dass man vor zum zur sie er wir le "
    "la les et est un une des du dans pour que qui sur pas au avec ce il elle sont el los las y en "
    "de que por con para una es del se al lo como más i w na z że do się nie jest to od za po jak "
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_STOP_WORDS_ARRAY = pa.array(sorted(STOP_WORDS), type=pa.large_string())

# Keyword groups: each is one feature (does the line contain a word of the group). Lower-case
# regexes matched on the lower-cased line.
KEYWORD_GROUPS: dict[str, str] = {
    "nav": r"\b(home|menu|search|navigation|skip to|sections?|sitemap|back to top|next|previous|prev)\b",
    "share": r"\b(share|shares|tweet|facebook|twitter|linkedin|whatsapp|pinterest|reddit|e-?mail|print|"
    r"teilen|flipboard|copy link)\b",
    "cookie": r"\b(cookies?|privacy|consent|gdpr|datenschutz|tracking)\b",
    "copyright": r"(©|\(c\)|\bcopyright\b|all rights reserved|\bterms of (use|service)\b|\bimpressum\b|"
    r"\bdisclaimer\b|\bwithout warranty\b)",
    "account": r"\b(subscribe|subscription|subscriber|newsletter|sign ?up|sign ?in|log ?in|login|log out|"
    r"register|account|password|abonn\w*|anmelden)\b",
    "comment": r"\b(comments?|reply|replies|kommentar\w*|discussion|posted by)\b",
    "related": r"\b(related|recommended|you may also|you might also|read more|most popular|most read|"
    r"trending|more stories|more from|see also|weiterlesen|mehr zum|latest news|top stories)\b",
    "advert": r"\b(advertisement|advertising|sponsored|anzeige|promoted|ad choices)\b",
    "media": r"\b(photo|image|video|getty|reuters|afp|ap photo|caption|gallery|watch|play|listen)\b",
    "date": r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b(updated|published|posted)\b|\b\d{1,2}:\d{2}\b",
    "byline": r"^(by|von|par|por)\s|\b(author|staff writer|correspondent|reporter|editor)\b",
    "contact": r"\b(contact|about us|careers|advertise|help|faq|feedback|follow us)\b",
}

# RE2 patterns (matched through pyarrow over a whole batch of lines)
_SENTENCE_END = r"[.!?…][\"'”’)\]]*$"
_SENTENCE_INNER = r"[.!?][\"'”’]?\s+[A-ZÄÖÜ\"“]"
_BULLET = r"^\s*([-–•*·|»›>]|\d+[.)])\s"
_URLISH = r"https?://|www\.|\.com\b|@\w"

NEIGHBOUR_OFFSETS = (-3, -2, -1, 1, 2, 3)
WINDOWS = (2, 5, 10)
MARKER_GROUPS = ("comment", "related", "copyright", "share")
MARKER_MAX_TOKENS = 6
DENSE_LINE_TOKENS = 10  # a line must carry more tokens than this to count towards the densest run


@dataclass(frozen=True)
class PageLines:
    """The non-blank lines of one page, with the number of blank lines that preceded each."""

    texts: list[str]
    blank_before: list[int]
    line_no: list[int]  # 1-based physical line number in the page text, for the removed-lines record


def split_lines(text: str | None) -> PageLines:
    texts: list[str] = []
    blanks: list[int] = []
    numbers: list[int] = []
    pending = 0
    for no, raw in enumerate((text or "").split("\n"), start=1):
        line = raw.strip()
        if not line:
            pending += 1
            continue
        texts.append(line)
        blanks.append(pending)
        numbers.append(no)
        pending = 0
    return PageLines(texts, blanks, numbers)


def normalize_line(line: str) -> str:
    """Case-, digit- and whitespace-folded form used to count repeats and site templates."""
    return normalize_lines([line])[0]


# Python's ``\\d`` and ``\\s`` on str, spelled for RE2 (whose own classes are ASCII)
_RE2_DIGITS = r"\p{Nd}+"
_RE2_SPACE = r"[\s\p{Z}\x{85}\x{1c}-\x{1f}]+"


def normalize_lines(lines: list[str] | pa.Array) -> list[str]:
    """:func:`normalize_line` of many lines in one pyarrow pass (lower-case, digits to 0, spaces folded)."""
    arr = lines if isinstance(lines, pa.Array) else pa.array(lines, type=pa.large_string())
    arr = pc.replace_substring_regex(pc.utf8_lower(arr), _RE2_DIGITS, "0")
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, _RE2_SPACE, " "))
    return arr.to_pylist()


def tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


# Character classes by code point, with Python's own str predicates (so the counts are exactly
# what ``sum(c.isupper() for c in t)`` would give) but looked up in numpy over a whole batch.
_UPPER, _ALPHA, _DIGIT, _ALNUM, _SPACE = 1, 2, 4, 8, 16  # bit order matters: see _class_counts


@lru_cache(maxsize=1)
def _bmp_classes() -> np.ndarray:
    return np.array([_char_class(chr(c)) for c in range(0x10000)], dtype=np.uint8)


def _char_class(c: str) -> int:
    return (
        _UPPER * c.isupper()
        | _ALPHA * c.isalpha()
        | _DIGIT * c.isdigit()
        | _ALNUM * c.isalnum()
        | _SPACE * c.isspace()
    )


def _class_counts(texts: list[str]) -> dict[str, np.ndarray]:
    """Per line: characters that are upper / alpha / digit / alnum / space, word-character chars,
    ``\\w+`` tokens and tokens starting with an upper-case letter (Python's definitions, exactly)."""
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    names = ("space", "alnum", "digit", "alpha", "upper", "word", "token", "cap_token")
    if not texts or not lengths.any():
        return {k: np.zeros(len(texts), dtype=np.int64) for k in names}
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    classes = np.zeros(len(cps), dtype=np.uint8)
    bmp = cps < 0x10000
    classes[bmp] = _bmp_classes()[cps[bmp]]
    if not bmp.all():  # emoji and other astral characters: rare, classified one by one
        astral = np.flatnonzero(~bmp)
        classes[astral] = [_char_class(chr(int(c))) for c in cps[astral]]
    starts = np.cumsum(lengths) - lengths
    # \w is alnum or underscore; a token starts at a word character not preceded by one in its line
    word = ((classes & _ALNUM) > 0) | (cps == 0x5F)
    first = np.zeros(len(cps), dtype=bool)
    first[starts[lengths > 0]] = True
    token_start = word & (first | ~np.concatenate([[False], word[:-1]]))
    columns = [(classes & flag) > 0 for flag in (_SPACE, _ALNUM, _DIGIT, _ALPHA, _UPPER)]
    columns += [word, token_start, token_start & ((classes & _UPPER) > 0)]
    sums = np.zeros((len(texts), len(names)), dtype=np.int64)
    filled = lengths > 0  # reduceat needs strictly increasing starts: empty lines count zero
    for col, values in enumerate(columns):
        sums[filled, col] = np.add.reduceat(values.view(np.uint8), starts[filled], dtype=np.int64)
    return {k: sums[:, col] for col, k in enumerate(names)}


def _stop_word_counts(lower: pa.Array) -> np.ndarray:
    """Tokens of each (lower-cased) line that are function words."""
    parts = pc.split_pattern_regex(lower, r"[^\p{L}\p{N}_]+")
    flat = pc.is_in(pc.list_flatten(parts), value_set=_STOP_WORDS_ARRAY).to_numpy(zero_copy_only=False)
    offsets = parts.offsets.to_numpy()
    csum = np.concatenate([[0], np.cumsum(flat, dtype=np.int64)])
    return csum[offsets[1:]] - csum[offsets[:-1]]


def _regex_flags(lines: pa.Array, pattern: str) -> np.ndarray:
    """Whether each line matches ``pattern`` (RE2 through pyarrow: one C++ pass over the batch).

    RE2 differs from Python's ``re`` in one way that matters here: ``\\b`` and ``\\w`` are ASCII.
    Training and inference both go through this function, so the model sees the same features.
    """
    return pc.match_substring_regex(lines, pattern).to_numpy(zero_copy_only=False).astype(float)


def _own_features(texts: list[str]) -> dict[str, np.ndarray]:
    """Features of each line on its own, computed for all lines of a batch at once."""
    f: dict[str, np.ndarray] = {}
    n_chars = np.array([len(t) for t in texts], dtype=float)
    cls = _class_counts(texts)
    n_tok = cls["token"].astype(float)
    per_tok = np.maximum(n_tok, 1.0)
    upper, alpha, digit = cls["upper"], cls["alpha"], cls["digit"]
    punct = n_chars - cls["alnum"] - cls["space"]
    raw = pa.array(texts, type=pa.large_string())
    lower = pc.utf8_lower(raw)
    f["log_chars"] = np.log1p(n_chars)
    f["log_tokens"] = np.log1p(n_tok)
    f["mean_token_len"] = np.where(n_tok > 0, cls["word"] / per_tok, 0.0)
    f["stop_ratio"] = np.where(n_tok > 0, _stop_word_counts(lower) / per_tok, 0.0)
    f["cap_word_ratio"] = np.where(n_tok > 0, cls["cap_token"] / per_tok, 0.0)
    f["upper_char_ratio"] = upper / np.maximum(1, alpha)
    f["digit_ratio"] = digit / np.maximum(1.0, n_chars)
    f["punct_ratio"] = punct / np.maximum(1.0, n_chars)
    f["alpha_ratio"] = alpha / np.maximum(1.0, n_chars)
    f["ends_sentence"] = _regex_flags(raw, _SENTENCE_END)
    f["ends_colon"] = pc.ends_with(raw, ":").to_numpy(zero_copy_only=False).astype(float)
    f["n_sentences"] = pc.count_substring_regex(raw, _SENTENCE_INNER).to_numpy().astype(float)
    f["has_comma"] = pc.count_substring(raw, ",").to_numpy().astype(float)
    f["bullet"] = _regex_flags(raw, _BULLET)
    f["pipes"] = sum(pc.count_substring(raw, c).to_numpy() for c in "|»›").astype(float)
    f["urlish"] = _regex_flags(lower, _URLISH)
    f["quote_start"] = np.array([t[:1] in "\"“‘'«„" for t in texts], dtype=float)
    for name, rx in KEYWORD_GROUPS.items():
        f[f"kw_{name}"] = _regex_flags(lower, rx)
    f["_n_tokens"] = n_tok  # raw count, used below and by the caller for weights
    return f


def _repeats_in_page(texts: list[str], page: np.ndarray) -> np.ndarray:
    """How many other lines of the same page have the same normalised form."""
    if not texts:
        return np.zeros(0)
    keys = pd.DataFrame({"page": page, "norm": normalize_lines(texts)})
    return (keys.groupby(["page", "norm"], sort=False)["norm"].transform("size") - 1).to_numpy(float)


def line_features_batch(pages: list[PageLines]) -> tuple[np.ndarray, list[str]]:
    """Feature matrix (all lines of all pages, in order x features) and the feature names.

    A line's features depend on its own page only, so any batching gives the same rows.
    """
    matrix, names, _ = line_features_and_tokens(pages)
    return matrix, names


def line_features_and_tokens(pages: list[PageLines]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """:func:`line_features_batch` plus each line's ``\\w+`` token count."""
    sizes = np.array([len(p.texts) for p in pages], dtype=np.int64)
    texts = [t for p in pages for t in p.texts]
    seg = Segments.of(sizes)
    n_all = len(texts)
    own = _own_features(texts)
    own["repeats_in_page"] = _repeats_in_page(texts, seg.page)
    n_tok = own.pop("_n_tokens")
    feats: dict[str, np.ndarray] = dict(own)
    blank = np.array([b for p in pages for b in p.blank_before], dtype=float)
    feats["blank_before"] = np.minimum(blank, 5)
    feats["blank_after"] = seg_shift(feats["blank_before"], 1, seg)
    idx = (seg.idx - seg.start).astype(float)  # line number within its page
    n = (seg.end - seg.start).astype(float)
    feats["rel_pos"] = idx / np.maximum(1, n - 1)
    feats["log_line_no"] = np.log1p(idx)
    feats["log_lines_to_end"] = np.log1p(n - 1 - idx)
    page_tok = np.bincount(seg.page, weights=n_tok, minlength=len(pages)) if n_all else np.zeros(len(pages))
    total_tok = np.maximum(1.0, page_tok)[seg.page]
    cum_tok = np.cumsum(n_tok)
    base = (cum_tok - n_tok)[seg.start] if n_all else cum_tok
    feats["tokens_before_frac"] = (cum_tok - n_tok - base) / total_tok
    feats["page_log_lines"] = np.log1p(n)
    feats["page_log_tokens"] = np.log1p(total_tok)
    feats["line_token_share"] = n_tok / total_tok
    # Prose-like: long, with stop words; the article is a run of such lines.
    prose = ((n_tok >= 15) & (own["stop_ratio"] >= 0.2)).astype(float)
    feats["prose"] = prose
    for off in NEIGHBOUR_OFFSETS:
        for name in ("log_tokens", "stop_ratio", "ends_sentence", "prose", "kw_share", "kw_nav"):
            feats[f"{name}@{off:+d}"] = seg_shift(feats[name], off, seg)
    for half in WINDOWS:
        feats[f"prose_win{half}"] = seg_window_mean(prose, half, seg)
        feats[f"log_tokens_win{half}"] = seg_window_mean(feats["log_tokens"], half, seg)
    # Section markers: a short "Comments" / "Related stories" / copyright / share line starts a
    # region that is not article (visitor comments read like prose, so the line alone cannot tell).
    gidx = seg.idx.astype(float)
    for group in MARKER_GROUPS:
        marker = (feats[f"kw_{group}"] > 0) & (n_tok <= MARKER_MAX_TOKENS)
        last = np.maximum.accumulate(np.where(marker, gidx, -1.0)) if n_all else gidx
        last = np.where(last >= seg.start, last, -1.0)
        feats[f"since_{group}_marker"] = np.where(last >= 0, np.log1p(gidx - last), np.nan)
        nxt = np.minimum.accumulate(np.where(marker, gidx, np.inf)[::-1])[::-1] if n_all else gidx
        nxt = np.where(nxt < seg.end, nxt, np.inf)
        feats[f"until_{group}_marker"] = np.where(np.isfinite(nxt), np.log1p(nxt - gidx), np.nan)
    # Densest run: tokens beyond DENSE_LINE_TOKENS count for it, shorter lines against it.
    lo, hi = seg_max_subarray(np.minimum(n_tok, 80.0) - DENSE_LINE_TOKENS, sizes)
    dist = seg_distance_to_run(seg, lo, hi)
    feats["dense_dist"] = np.log1p(dist)
    feats["dense_inside"] = (dist == 0).astype(float)
    in_run = dist == 0
    run_tok = np.bincount(seg.page[in_run], weights=n_tok[in_run], minlength=len(pages))
    run_tok[lo < 0] = 0.0
    feats["dense_run_share"] = run_tok[seg.page] / total_tok
    feats["dense_before"] = (idx < lo[seg.page]).astype(float)
    names = list(feats)
    matrix = np.column_stack([feats[k] for k in names]) if n_all else np.zeros((0, len(names)))
    return matrix, names, n_tok


def line_features(page: PageLines) -> tuple[np.ndarray, list[str]]:
    """Feature matrix (lines x features) and the feature names, for one page."""
    return line_features_batch([page])


def context_features_batch(
    prob: np.ndarray, n_tok: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Second-pass features from first-pass probabilities, for the lines of consecutive pages.

    They let the second model smooth isolated decisions: a short line between two article
    paragraphs is kept, a long line in the middle of a link list is dropped.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    seg = Segments.of(sizes)
    n = len(prob)
    feats: dict[str, np.ndarray] = {"p": prob}
    for off in (-5, -4, -3, -2, -1, 1, 2, 3, 4, 5):
        feats[f"p@{off:+d}"] = seg_shift(prob, off, seg)
    w = np.log1p(n_tok)
    for half in (1, 3, 6, 12, 25):
        num = seg_window_mean(prob * w, half, seg)
        den = seg_window_mean(w, half, seg)
        feats[f"pw_win{half}"] = np.divide(num, den, out=np.zeros(n), where=den > 0)
    for thr in (0.5, 0.3):
        lo, hi = seg_max_subarray((prob - thr) * np.maximum(w, 0.5), sizes)
        dist = seg_distance_to_run(seg, lo, hi)
        feats[f"run{thr}_dist"] = np.log1p(dist)
        feats[f"run{thr}_inside"] = (dist == 0).astype(float)
    mass = prob * n_tok
    fixed = np.rint(mass * FIXED_POINT).astype(np.int64)
    csum = np.cumsum(fixed)
    base = (csum - fixed)[seg.start] if n else csum
    page_mass = np.bincount(seg.page, weights=mass, minlength=len(sizes)) if n else np.zeros(len(sizes))
    total = np.maximum(1.0, page_mass)[seg.page]
    before = (csum - fixed - base) / FIXED_POINT
    feats["pmass_before"] = before / total
    feats["pmass_after"] = 1.0 - (before + fixed / FIXED_POINT) / total
    names = list(feats)
    matrix = np.column_stack([feats[k] for k in names]) if n else np.zeros((0, len(names)))
    return matrix, names


def context_features(prob: np.ndarray, n_tok: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """:func:`context_features_batch` for the lines of one page."""
    return context_features_batch(prob, n_tok, np.array([len(prob)]))


def contiguous_filter(keep: np.ndarray, n_tok: np.ndarray, gap: int, min_mass_frac: float) -> np.ndarray:
    """Drop kept lines that lie outside the page's main run(s) of kept text.

    Kept lines separated by at most ``gap`` dropped lines form one run; a run is kept when its
    token mass is at least ``min_mass_frac`` of the largest run's. Teasers, captions and comment
    snippets that the line model keeps far from the article body go; the article, usually one
    contiguous run, stays. ``min_mass_frac=0`` keeps everything (no filtering).
    """
    keep = np.asarray(keep, dtype=bool)
    if min_mass_frac <= 0 or not keep.any():
        return keep
    run_id = np.full(len(keep), -1)
    current, last_kept = -1, -(10**9)
    for i in np.flatnonzero(keep):
        if i - last_kept - 1 > gap:
            current += 1
        run_id[i] = current
        last_kept = i
    mass = np.bincount(run_id[keep], weights=n_tok[keep], minlength=current + 1)
    good = mass >= min_mass_frac * mass.max()
    return keep & (run_id >= 0) & good[np.maximum(run_id, 0)]
