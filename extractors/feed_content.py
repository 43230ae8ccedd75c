"""The article a feed carries in its entries (content:encoded, Atom content), as clean text.

Feeds put the whole article in the entry more often than pages can be fetched (paywalls, pages
that are PDFs or apps, sites that block crawlers). The fragment is HTML; its block elements are
paragraphs, and the same boilerplate rules as a saved plain-text page drop the furniture feeds
append ("The post ... appeared first on ...", share lines, copyright)."""

from __future__ import annotations

import lxml.html
from lxml.etree import ParserError

from wirewatch.extractors.plaintext import clean_paragraphs

_BLOCKS = {"p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "td", "figcaption"}


def feed_article_text(fragment: str) -> str:
    """The fragment's paragraphs, one per line, furniture dropped; "" when it holds no text."""
    if not fragment.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ParserError, ValueError):
        return ""
    for dropped in root.xpath(".//script | .//style | .//figure/img | .//iframe"):
        dropped.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and (element.tag in _BLOCKS or element.tag == "br"):
            element.tail = "\n" + (element.tail or "")
            if element.tag != "br":
                element.text = "\n" + (element.text or "")
    lines = [" ".join(line.split()) for line in root.text_content().splitlines()]
    return "\n".join(clean_paragraphs([line for line in lines if line]))
