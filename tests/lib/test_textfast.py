"""The "needs repair?" test skips ftfy only where ftfy and NFC change nothing."""

from __future__ import annotations

import unicodedata

import ftfy
import numpy as np

from newsaudit.lib.textfast import needs_repair, normalise_text_fast

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
