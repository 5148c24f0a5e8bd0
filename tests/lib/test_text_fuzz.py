"""Fuzz-style properties of the decoders and the line splitter (issue 15, item 2).

``decode_bytes`` on any bytes returns text UTF-8 can encode and a codec Python knows, or raises
:class:`Rejection`, nothing else; text it did not have to guess comes back exactly. ``split_lines``
(the boilerplate step's line splitter) keeps every non-blank line, in order, with its line number
and the blank lines before it. ``html_to_text`` and ``normalise_text`` never raise, and no
invisible format character survives normalisation."""

from __future__ import annotations

import codecs

from hypothesis import given, settings
from hypothesis import strategies as st

from newsaudit.core.errors import Rejection
from newsaudit.lib.text import INVISIBLE, decode_bytes, html_to_text, normalise_text
from newsaudit.steps.boilerplate.lines import split_lines

# derandomize: a fixed seed, the same examples every run; database=None: nothing written to disk
FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None)
ENCODINGS = ["utf-8", "utf-16", "utf-32", "cp1252", "cp1251", "shift_jis", "iso-8859-7", "koi8-r"]


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([None, "utf-8", "koi8-r", "no-such-codec", "utf-16"]))
def test_decode_bytes_returns_valid_text_or_a_rejection(data, declared):
    try:
        text, encoding = decode_bytes(data, "fuzz.bin", declared)
    except Rejection as rej:
        assert rej.code == "undecodable" and rej.message.startswith("fuzz.bin: ")
        return
    text.encode("utf-8")  # no lone surrogates
    assert encoding == "utf-8-lossy" or codecs.lookup(encoding)


@FUZZ
@given(st.text(max_size=300), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_decode_bytes_round_trips_utf_text(text, codec):
    encoded = text.encode(codec)
    if codec == "utf-8" and encoded.startswith(codecs.BOM_UTF8):
        return  # a leading U+FEFF in the text is a BOM to any reader
    assert decode_bytes(encoded, "x.txt")[0] == text


@FUZZ
@given(st.text(max_size=200), st.sampled_from(ENCODINGS))
def test_decode_bytes_never_fails_on_encoded_text_with_a_declared_charset(text, codec):
    data = text.encode(codec, errors="replace")
    decoded, _ = decode_bytes(data, "x.html", codec)
    decoded.encode("utf-8")


@FUZZ
@given(
    st.one_of(
        st.none(), st.text(alphabet=st.sampled_from(" \t\n\r\u00a0\u2028ab.\ufeff"), max_size=80), st.text()
    )
)
def test_split_lines_keeps_every_non_blank_line_in_order(text):
    page = split_lines(text)
    physical = (text or "").split("\n")
    assert len(page.texts) == len(page.blank_before) == len(page.line_no)
    assert page.texts == [line.strip() for line in physical if line.strip()]
    assert page.line_no == sorted(set(page.line_no)) and all(1 <= n <= len(physical) for n in page.line_no)
    previous = 0
    for line, no, blanks in zip(page.texts, page.line_no, page.blank_before, strict=True):
        assert physical[no - 1].strip() == line and line and "\n" not in line
        assert blanks == no - previous - 1  # every physical line between two kept lines was blank
        previous = no


@FUZZ
@given(st.text(max_size=300))
def test_normalise_text_leaves_no_invisible_character(text):
    out = normalise_text(text)
    assert not INVISIBLE.search(out)
    out.encode("utf-8")


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["<div>", "</div>", "<p>", "</html>", "<script>", "</script>", "&#xd800;", "<!--"]
            ),
            st.text(max_size=30),
        ),
        max_size=20,
    )
)
def test_html_to_text_never_raises(parts):
    html_to_text("".join(parts)).encode("utf-8")
