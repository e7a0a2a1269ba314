"""Plain-text body derived from an email's HTML: readable lines, links as ``text (url)``."""
from __future__ import annotations

import re

import lxml.html

_SKIP = {"head", "style", "script", "title", "meta", "link", "template"}
_BLOCK = {"div", "tbody", "thead", "tfoot", "tr", "td", "th", "li", "section", "article", "header", "footer",
          "center", "address", "main", "nav", "aside", "figure", "figcaption", "dl", "dt", "dd"}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre", "hr"}
_WS = re.compile(r"[ \t\r\n\f\v]+")


class _Break(int):
    """A line break between blocks: 1 ends a line, 2 leaves a blank line; neighbours merge."""


_BR = "\n"  # <br>: a hard break that adds up


def html_to_text(html: str) -> str:
    """The text of an HTML email: no markup or CSS, a line per block, a blank line between paragraphs."""
    if not html.strip():
        return ""
    parts: list = []
    _walk(lxml.html.document_fromstring(html), parts)
    out: list[str] = []
    pending, brs = 0, 0
    for part in parts:
        if isinstance(part, _Break):
            pending = max(pending, part)
        elif part is _BR:
            brs += 1
        else:
            text = _WS.sub(" ", part)
            if not text.strip() and (pending or brs):
                continue
            if out and (pending or brs):
                out.append("\n" * max(pending, brs))
            pending = brs = 0
            out.append(text)
    lines = [line.strip(" \u00a0") for line in "".join(out).split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def _walk(element, parts: list) -> None:
    tag = element.tag if isinstance(element.tag, str) else None
    if tag is None or tag in _SKIP:  # comments, processing instructions, <head>...
        _tail(element, parts)
        return
    if tag == "br":
        parts.append(_BR)
        _tail(element, parts)
        return
    brk = _Break(2) if tag in _PARAGRAPH else _Break(1) if tag in _BLOCK else None
    if brk:
        parts.append(brk)
    if tag == "li":
        parts.append("- ")
    start = len(parts)
    if element.text:
        parts.append(element.text)
    for child in element:
        _walk(child, parts)
    if tag == "a":
        href = (element.get("href") or "").strip()
        label = _WS.sub(" ", "".join(p for p in parts[start:] if isinstance(p, str) and p is not _BR)).strip()
        target = href[7:] if href.startswith("mailto:") else href
        if target and not href.startswith("#") and target != label:
            parts.append(f" ({target})")
    if brk:
        parts.append(brk)
    _tail(element, parts)


def _tail(element, parts: list) -> None:
    if element.tail:
        parts.append(element.tail)
