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

import numpy as np

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
_KEYWORD_RES = {name: re.compile(rx) for name, rx in KEYWORD_GROUPS.items()}

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_SENTENCE_INNER = re.compile(r"[.!?][\"'”’]?\s+[A-ZÄÖÜ\"“]")
_BULLET = re.compile(r"^\s*([-–•*·|»›>]|\d+[.)])\s")
_URLISH = re.compile(r"https?://|www\.|\.com\b|@\w")

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
    return _NORM_SPACE.sub(" ", _NORM_DIGITS.sub("0", line.lower())).strip()


def tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def _max_subarray(values: np.ndarray) -> tuple[int, int]:
    """Inclusive bounds of the contiguous run with the largest sum (Kadane); (-1, -1) if all <= 0."""
    best, best_lo, best_hi = 0.0, -1, -1
    run, lo = 0.0, 0
    for i, v in enumerate(values):
        if run <= 0:
            run, lo = v, i
        else:
            run += v
        if run > best:
            best, best_lo, best_hi = run, lo, i
    return best_lo, best_hi


def _distance_to_run(n: int, lo: int, hi: int) -> np.ndarray:
    idx = np.arange(n)
    if lo < 0:
        return np.full(n, float(n))
    return np.where(idx < lo, lo - idx, np.where(idx > hi, idx - hi, 0)).astype(float)


def _shift(values: np.ndarray, offset: int) -> np.ndarray:
    """values[i + offset], NaN outside the page (the gradient-boosted model handles NaN natively)."""
    out = np.full(values.shape, np.nan)
    n = len(values)
    if offset > 0:
        out[: n - offset] = values[offset:] if offset < n else out[:0]
    elif offset < 0:
        out[-offset:] = values[: n + offset] if -offset < n else out[:0]
    else:
        out[:] = values
    return out


def window_mean(values: np.ndarray, half: int) -> np.ndarray:
    """Mean over lines i-half..i+half, clipped at the page edges."""
    n = len(values)
    if n == 0:
        return values.astype(float)
    csum = np.concatenate([[0.0], np.cumsum(values, dtype=float)])
    idx = np.arange(n)
    lo = np.clip(idx - half, 0, n)
    hi = np.clip(idx + half + 1, 0, n)
    return (csum[hi] - csum[lo]) / (hi - lo)


def _own_features(texts: list[str]) -> dict[str, np.ndarray]:
    n = len(texts)
    f: dict[str, np.ndarray] = {}
    n_chars = np.array([len(t) for t in texts], dtype=float)
    toks = [tokens(t) for t in texts]
    n_tok = np.array([len(t) for t in toks], dtype=float)
    lower = [t.lower() for t in texts]
    f["log_chars"] = np.log1p(n_chars)
    f["log_tokens"] = np.log1p(n_tok)
    f["mean_token_len"] = np.array([np.mean([len(w) for w in tt]) if tt else 0.0 for tt in toks])
    f["stop_ratio"] = np.array(
        [sum(w.lower() in STOP_WORDS for w in tt) / len(tt) if tt else 0.0 for tt in toks]
    )
    f["cap_word_ratio"] = np.array([sum(w[:1].isupper() for w in tt) / len(tt) if tt else 0.0 for tt in toks])
    f["upper_char_ratio"] = np.array(
        [sum(c.isupper() for c in t) / max(1, sum(c.isalpha() for c in t)) for t in texts]
    )
    f["digit_ratio"] = np.array([sum(c.isdigit() for c in t) / max(1, len(t)) for t in texts])
    f["punct_ratio"] = np.array(
        [sum((not c.isalnum()) and (not c.isspace()) for c in t) / max(1, len(t)) for t in texts]
    )
    f["alpha_ratio"] = np.array([sum(c.isalpha() for c in t) / max(1, len(t)) for t in texts])
    f["ends_sentence"] = np.array([bool(_SENTENCE_END.search(t)) for t in texts], dtype=float)
    f["ends_colon"] = np.array([t.endswith(":") for t in texts], dtype=float)
    f["n_sentences"] = np.array([len(_SENTENCE_INNER.findall(t)) for t in texts], dtype=float)
    f["has_comma"] = np.array([t.count(",") for t in texts], dtype=float)
    f["bullet"] = np.array([bool(_BULLET.match(t)) for t in texts], dtype=float)
    f["pipes"] = np.array([t.count("|") + t.count("»") + t.count("›") for t in texts], dtype=float)
    f["urlish"] = np.array([bool(_URLISH.search(t)) for t in lower], dtype=float)
    f["quote_start"] = np.array([t[:1] in "\"“‘'«„" for t in texts], dtype=float)
    for name, rx in _KEYWORD_RES.items():
        f[f"kw_{name}"] = np.array([bool(rx.search(t)) for t in lower], dtype=float)
    norms = [normalize_line(t) for t in texts]
    counts: dict[str, int] = {}
    for s in norms:
        counts[s] = counts.get(s, 0) + 1
    f["repeats_in_page"] = np.array([counts[s] - 1 for s in norms], dtype=float)
    f["_n_tokens"] = n_tok  # raw count, used below and by the caller for weights
    del n
    return f


def line_features(page: PageLines) -> tuple[np.ndarray, list[str]]:
    """Feature matrix (lines x features) and the feature names, for one page."""
    texts = page.texts
    n = len(texts)
    own = _own_features(texts)
    n_tok = own.pop("_n_tokens")
    feats: dict[str, np.ndarray] = dict(own)
    feats["blank_before"] = np.minimum(np.array(page.blank_before, dtype=float), 5)
    feats["blank_after"] = _shift(feats["blank_before"], 1)
    idx = np.arange(n, dtype=float)
    feats["rel_pos"] = idx / max(1, n - 1)
    feats["log_line_no"] = np.log1p(idx)
    feats["log_lines_to_end"] = np.log1p(n - 1 - idx)
    total_tok = max(1.0, float(n_tok.sum()))
    feats["tokens_before_frac"] = (np.cumsum(n_tok) - n_tok) / total_tok
    feats["page_log_lines"] = np.full(n, np.log1p(n))
    feats["page_log_tokens"] = np.full(n, np.log1p(total_tok))
    feats["line_token_share"] = n_tok / total_tok
    # Prose-like: long, with stop words; the article is a run of such lines.
    prose = ((n_tok >= 15) & (own["stop_ratio"] >= 0.2)).astype(float)
    feats["prose"] = prose
    for off in NEIGHBOUR_OFFSETS:
        for name in ("log_tokens", "stop_ratio", "ends_sentence", "prose", "kw_share", "kw_nav"):
            feats[f"{name}@{off:+d}"] = _shift(feats[name], off)
    for half in WINDOWS:
        feats[f"prose_win{half}"] = window_mean(prose, half)
        feats[f"log_tokens_win{half}"] = window_mean(feats["log_tokens"], half)
    # Section markers: a short "Comments" / "Related stories" / copyright / share line starts a
    # region that is not article (visitor comments read like prose, so the line alone cannot tell).
    for group in MARKER_GROUPS:
        marker = (feats[f"kw_{group}"] > 0) & (n_tok <= MARKER_MAX_TOKENS)
        last = np.maximum.accumulate(np.where(marker, idx, -1.0)) if n else idx
        feats[f"since_{group}_marker"] = np.where(last >= 0, np.log1p(idx - last), np.nan)
        nxt = np.minimum.accumulate(np.where(marker, idx, np.inf)[::-1])[::-1] if n else idx
        feats[f"until_{group}_marker"] = np.where(np.isfinite(nxt), np.log1p(nxt - idx), np.nan)
    # Densest run: tokens beyond DENSE_LINE_TOKENS count for it, shorter lines against it.
    lo, hi = _max_subarray(np.minimum(n_tok, 80.0) - DENSE_LINE_TOKENS)
    dist = _distance_to_run(n, lo, hi)
    feats["dense_dist"] = np.log1p(dist)
    feats["dense_inside"] = (dist == 0).astype(float)
    run_tok = float(n_tok[lo : hi + 1].sum()) if lo >= 0 else 0.0
    feats["dense_run_share"] = np.full(n, run_tok / total_tok)
    feats["dense_before"] = (idx < lo).astype(float)
    names = list(feats)
    matrix = np.column_stack([feats[k] for k in names]) if n else np.zeros((0, len(names)))
    return matrix, names


def context_features(prob: np.ndarray, n_tok: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Second-pass features from first-pass probabilities of the lines of one page.

    They let the second model smooth isolated decisions: a short line between two article
    paragraphs is kept, a long line in the middle of a link list is dropped.
    """
    n = len(prob)
    feats: dict[str, np.ndarray] = {"p": prob}
    for off in (-5, -4, -3, -2, -1, 1, 2, 3, 4, 5):
        feats[f"p@{off:+d}"] = _shift(prob, off)
    w = np.log1p(n_tok)
    for half in (1, 3, 6, 12, 25):
        num = window_mean(prob * w, half)
        den = window_mean(w, half)
        feats[f"pw_win{half}"] = np.divide(num, den, out=np.zeros(n), where=den > 0)
    for thr in (0.5, 0.3):
        lo, hi = _max_subarray((prob - thr) * np.maximum(w, 0.5))
        dist = _distance_to_run(n, lo, hi)
        feats[f"run{thr}_dist"] = np.log1p(dist)
        feats[f"run{thr}_inside"] = (dist == 0).astype(float)
    mass = prob * n_tok
    total = max(1.0, float(mass.sum()))
    feats["pmass_before"] = (np.cumsum(mass) - mass) / total
    feats["pmass_after"] = 1.0 - np.cumsum(mass) / total
    names = list(feats)
    matrix = np.column_stack([feats[k] for k in names]) if n else np.zeros((0, len(names)))
    return matrix, names


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
