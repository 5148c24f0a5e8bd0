"""One decode / HTML-to-text / language path for every reader (lib/text.py)."""

from __future__ import annotations

import gzip
import json

import pytest

from newsaudit.core.errors import Rejection
from newsaudit.lib.text import (
    decode_bytes,
    domain_of,
    html_to_text,
    identify_language,
    normalise_text,
    sniff_binary,
    source_from_name,
    url_from_html,
)

ARTICLE = (
    "Security forces repelled an attack on a police post near the border on Tuesday, officials said. "
    "Two attackers were killed and three officers were wounded in the exchange of fire that lasted an hour."
)


def test_decode_rejects_bytes_no_encoding_fits():
    with pytest.raises(Rejection, match="undecodable"):
        decode_bytes(b"Hello \xff\xfe\xfa world \x81\x8d " * 20, "x.txt")
    assert decode_bytes("Привет, как дела? Это тест.".encode("cp1251"), "x.txt")[1] == "cp1251"


def test_decode_order_bom_utf8_declared_cp1252():
    assert decode_bytes("Grüße".encode("utf-16"), "x.txt") == ("Grüße", "utf-16")
    assert decode_bytes("Grüße".encode(), "x.txt") == ("Grüße", "utf-8")
    assert decode_bytes("Grüße aus München".encode("cp1252"), "x.txt") == ("Grüße aus München", "cp1252")
    # a charset the page declares wins over the guesses
    text, encoding = decode_bytes("Ελληνικά νέα".encode("iso-8859-7"), "x.html", "iso-8859-7")
    assert (text, encoding) == ("Ελληνικά νέα", "iso8859-7")


def test_utf8_page_with_a_few_corrupt_bytes_is_kept():
    data = ("Grüße aus München. " * 20).encode("utf-8") + b"\xe9 " + ("Straße " * 10).encode("utf-8")
    text, encoding = decode_bytes(data, "x.html")
    assert encoding == "utf-8-lossy"
    assert text.startswith("Grüße aus München") and "\ufffd" in text


def test_normalise_text_repairs_mojibake_and_keeps_curly_quotes():
    assert normalise_text("The cafÃ© reopened") == "The café reopened"
    assert normalise_text("“quoted”") == "“quoted”"
    assert normalise_text("cafe\u0301") == "café"  # NFC


def test_sniff_binary():
    assert sniff_binary(b"\x89PNG\r\n\x1a\n" + bytes(10)) == "PNG image"
    assert sniff_binary(b"%PDF-1.7 ...") == "PDF document"
    assert sniff_binary(b"text\x00with a NUL") == "contains NUL bytes"
    assert sniff_binary("UTF-16 text".encode("utf-16")) is None  # NUL bytes, but a BOM says text
    assert sniff_binary(b"plain text") is None


def test_source_from_name():
    assert source_from_name("bbc.co.uk_123.txt") == "bbc.co.uk"
    assert source_from_name("reuters.com/2024/story.txt") == "reuters.com"
    assert source_from_name("000_63b8cf13466a70d8.txt") is None
    assert source_from_name("notes.final.txt") is None


def test_domain_and_url_of_a_page():
    assert domain_of("https://www.news.example.org/a/1") == "news.example.org"
    assert domain_of("not a url") is None and domain_of(None) is None
    head = '<html><head><link rel="canonical" href="https://www.news.example.org/a/1"></head>'
    assert url_from_html(head) == "https://www.news.example.org/a/1"
    assert (
        url_from_html('<meta property="og:url" content="https://x.example.com/p">')
        == "https://x.example.com/p"
    )
    assert url_from_html('<text id="http://cleaneval.example/7" title="t">') == "http://cleaneval.example/7"
    assert url_from_html("<html><body>no url</body></html>") is None


def test_html_to_text_drops_scripts_keeps_visible_text():
    html = (
        f"<html><head><script>var x = 1;</script></head><body><nav>Home</nav><p>{ARTICLE}</p></body></html>"
    )
    text = html_to_text(html)
    assert ARTICLE in text and "Home" in text and "var x" not in text
    assert ARTICLE in html_to_text(html.replace("<p>", "<p>\x00\x08"))  # control characters lxml refuses


def test_identify_language_reads_a_prefix_and_skips_short_texts():
    lang, prob = identify_language(ARTICLE)
    assert lang == "en" and 0.5 < prob <= 1.0
    assert identify_language("Too short", min_language_chars=20) == (None, None)
    french = (
        "Les forces de sécurité ont repoussé une attaque contre un poste de police près de la frontière. "
    )
    assert identify_language(french * 3)[0] == "fr"
    assert identify_language(ARTICLE + french * 3, language_chars=len(ARTICLE))[0] == "en"


@pytest.mark.mirror
def test_html_to_text_matches_the_benchmark_dump(mirror):
    """Our HTML-to-text is the benchmark's own full-text dump (html-text), byte for byte."""
    bench = mirror / "scrapinghub-article-extraction-benchmark"
    dump = json.loads((bench / "output" / "html-text.json").read_text())
    dump = dump.get("output", dump)
    for page_id in sorted(dump)[:20]:
        html = gzip.decompress((bench / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8")
        expected = dump[page_id]["articleBody"] if isinstance(dump[page_id], dict) else dump[page_id]
        assert html_to_text(html) == expected


def test_normalise_text_deletes_invisible_format_characters():
    """One rule (Cf and default-ignorable: deleted). Before the rule these stayed inside words."""
    assert (
        normalise_text("word\u200bword soft\u00adhyphen join\u2060er\ufeff") == "wordword softhyphen joiner"
    )
    assert normalise_text("a\u200cb\u200dc \u200e\u202bd\u202c\u2066e\u2069") == "abc de"
    assert normalise_text("tag\U000e0041\U000e007f") == "tag"
    assert normalise_text("\u0600١٢") == "\u0600١٢"  # a visible format character stays (Arabic number sign)


def test_html_to_text_retries_pages_lxml_cannot_build():
    """lxml stops at 256 levels (2,048 with huge_tree) and after a stray early </html>: before the
    retries these pages came out empty."""
    from newsaudit.lib.html_tree import MAX_DEPTH
    from newsaudit.lib.text import html_to_text_by

    def nested(n: int) -> str:
        return "<html><body>" + "<div>" * n + f"<p>{ARTICLE}</p>" + "</div>" * n + "</body></html>"

    assert html_to_text_by(nested(100)) == (ARTICLE, "lxml")
    assert html_to_text_by(nested(1000)) == (ARTICLE, "lxml-huge")
    assert html_to_text_by(nested(MAX_DEPTH * 8)) == (ARTICLE, "lexbor")
    early_end = (
        '<text id="http://x.example/1">\n</body>\n</html>\n<table><tr><td><font>'
        f"<p>{ARTICLE}</p><p>Second paragraph.</p></font></td></tr></table>"
    )
    text, parser = html_to_text_by(early_end)
    assert parser == "lexbor" and text == f"{ARTICLE}\n\nSecond paragraph."
    assert html_to_text_by("<html><script>x()</script></html>") == ("", "lexbor")
    assert html_to_text_by("plain words") == ("plain words", "lxml")
