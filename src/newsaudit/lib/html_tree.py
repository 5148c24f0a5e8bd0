"""Tolerant HTML parsing for the pages lxml's parser gives up on (depth limit, broken structure).

libxml2, under lxml, stops building the tree at 256 nested elements (2,048 with ``huge_tree``) and
drops everything after a stray early ``</html>``; a page nested deeper, or built that way, comes
out with no text. `lexbor <https://lexbor.com>`_ (through selectolax) builds the HTML5 tree the way
browsers do, with no depth limit. :func:`lexbor_tree` turns its tree into an lxml tree (an
iterative walk, so depth costs no recursion) that ``html_text`` then reads with the same layout
rules as any other page.
"""

from __future__ import annotations

import contextlib

import lxml.etree
import lxml.html

# Elements whose content is never visible text; dropped here (html_text's cleaner would drop
# them too, but skipping them early keeps the rebuilt tree small).
_SKIP = frozenset({"script", "style", "noscript", "template", "head"})
# Elements nested deeper than this keep their text in their ancestor at this depth, as Chromium's
# parser does (kMaximumHTMLParserDOMTreeDepth = 512): lxml checks ancestry on every insertion, so
# an unbounded depth would cost time quadratic in it.
MAX_DEPTH = 512


def huge_tree(html: str) -> lxml.html.HtmlElement | None:
    """lxml's parser with ``huge_tree`` (depth up to 2,048 instead of 256, no text-node size cap)."""
    body = html.strip().replace("\x00", "").encode("utf-8")
    if not body:
        return None
    parser = lxml.html.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    return lxml.etree.fromstring(body, parser=parser)


def lexbor_tree(html: str) -> lxml.html.HtmlElement:
    """The page's HTML5 ``<body>`` (per lexbor) as an lxml tree: tags and text, no attributes."""
    from selectolax.lexbor import LexborHTMLParser  # optional heavy parser, only for failed pages

    doc = LexborHTMLParser(html)
    root = lxml.html.Element("html")
    body = doc.body
    if body is None:
        return root
    out = lxml.etree.SubElement(root, "body")
    # Explicit stack of (lexbor node, lxml parent, depth): no recursion, so any depth works.
    stack = [(child, out, 2) for child in reversed(list(body.iter(include_text=True)))]
    while stack:
        node, parent, depth = stack.pop()
        if node.is_text_node:
            _append_text(parent, node.text_content or "")
            continue
        if not node.is_element_node or node.tag in _SKIP:
            continue
        element = parent  # too deep, or a tag name XML cannot hold ("a<b"): content goes to the parent
        if depth < MAX_DEPTH:
            with contextlib.suppress(ValueError):
                element, depth = lxml.etree.SubElement(parent, node.tag), depth + 1
        stack.extend((child, element, depth) for child in reversed(list(node.iter(include_text=True))))
    return root


def _append_text(parent: lxml.etree._Element, text: str) -> None:
    if not text:
        return
    children = len(parent)
    if children:
        last = parent[children - 1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
