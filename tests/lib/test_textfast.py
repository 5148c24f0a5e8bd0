"""The "needs repair?" test skips ftfy only where ftfy and NFC change nothing."""

from __future__ import annotations

import unicodedata

import ftfy
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from newsaudit.lib.textfast import fix_text_fast, needs_repair, normalise_text_fast

CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, normalization="NFC")


def _ftfy(text: str) -> str:
    return unicodedata.normalize("NFC", ftfy.fix_text(text, config=CONFIG))


def test_same_output_as_ftfy_on_hard_cases_and_random_ascii():
    cases = [
        "Plain news text.\nSecond line\twith a tab.",
        "Fish &amp; chips &lt;b&gt;",  # entities: repaired by ftfy
        "windows\r\nline breaks\r",
        "mojibake: cafÃ© and â€œquotesâ€\x9d",
        "e\u0301 decomposed",  # NFC composes it
        "bell \x07 and escape \x1b[31mred\x1b[0m",
        "ﬁne ligature and ｆｕｌｌwidth",
        "“curly quotes” stay",
    ]
    rng = np.random.default_rng(0)
    cases += ["".join(chr(c) for c in rng.integers(32, 127, 300)) for _ in range(200)]
    cases += ["".join(chr(c) for c in rng.integers(0, 0x2FF, 80)) for _ in range(200)]
    for text in cases:
        assert normalise_text_fast(text, CONFIG) == _ftfy(text), repr(text)
    assert not needs_repair("Plain ASCII text, 100% printable.\n")
    assert needs_repair("a &amp; b") and needs_repair("caf\u00e9") and needs_repair("x\ry")


# Lines that exercise every repair ftfy makes and the state it carries from line to line
# (an HTML "<" turns entity unescaping off for the rest of the text).
LINES = [
    "Plain ASCII news line.",
    "<p>markup with a tag</p>",
    "Fish &amp; chips &eacute; &lt;b&gt;",
    "cafÃ© and â€œmojibakeâ€\x9d",
    "windows line\r",
    "e\u0301 decomposed",
    "\x1b[31mterminal escape\x1b[0m",
    "ﬁne ligature ｆｕｌｌwidth",
    "“curly” — dash",
    "",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=12), st.sampled_from(["\n", "\r\n", "\n\n"]))
def test_line_by_line_repair_equals_ftfy_fix_text(lines, sep):
    text = sep.join(lines)
    assert fix_text_fast(text, CONFIG) == ftfy.fix_text(text, config=CONFIG)


def test_long_runs_are_cut_where_ftfy_cuts_them():
    config = CONFIG._replace(max_decode_length=7)
    for text in ["abc &amp; defghij cafÃ© <b> &amp; end", "x" * 20 + "&amp;" + "Ã©" * 5]:
        assert fix_text_fast(text, config) == ftfy.fix_text(text, config=config)
