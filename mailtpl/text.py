"""Plain-text body derived from an email's HTML: readable lines, links as ``text (url)``.

:func:`html_to_text` derives it from a rendered email. :func:`compile_text` derives
it once, from the email's placeholder document (see :mod:`mailtpl.placeholders`):
the result is a template whose output is the same walk over the same elements,
written as text with markers (``<1>`` a line break, ``<t>`` the start of a text
node, ...) and HTML-escaped values; :func:`finish_text` turns that output into the
text. Both end in the same :func:`_join`, so they agree wherever the values reach
the text as they are; where they would not (a NUL or CR in a value, which the HTML
parser changes), :func:`finish_text` returns None and the caller derives the text
from the HTML.
"""
from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass

from . import nodes as n
from .inline import into_body, parse_html
from .placeholders import Document

_SKIP = {"head", "style", "script", "title", "meta", "link", "template"}
_BLOCK = {"div", "tbody", "thead", "tfoot", "tr", "td", "th", "li", "section", "article", "header", "footer",
          "center", "address", "main", "nav", "aside", "figure", "figcaption", "dl", "dt", "dd"}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre", "hr"}
_WS = re.compile(r"[ \t\r\n\f\v]+")
_MARKER = re.compile(r"<(/?[12bstahiL])>")
_CHANGED_BY_PARSER = re.compile(r"[\x00\r\ud800-\udfff]")  # what libxml2 does not give back as it was


class _Break(int):
    """A line break between blocks: 1 ends a line, 2 leaves a blank line; neighbours merge."""


class _Mark:
    """A marker without data (compared by identity: a text part is never one)."""


_BR = _Mark()  # <br>: a hard break that adds up
_LINK = _Mark()  # an <a> starts


@dataclass
class _LinkEnd:
    href: str
    label: str | None = None  # known at compile time: the link's text has no tag (no _LINK before it)


@dataclass
class _Alt:
    """The alt text of an image: shown only when it is all a link has."""

    text: str


def html_to_text(html: str) -> str:
    """The text of an HTML email: no markup or CSS, a line per block, a blank line between paragraphs."""
    parts: list = []
    _walk(parse_html(into_body(html)), parts)
    return _join(parts)


def _walk(element, parts: list) -> None:
    tag = element.tag if isinstance(element.tag, str) else None
    if tag is None or tag in _SKIP:  # comments, processing instructions, <head>...
        _tail(element, parts)
        return
    if tag == "br":
        parts.append(_BR)
        _tail(element, parts)
        return
    if tag == "img":
        if element.get("alt"):
            parts.append(_Alt(element.get("alt")))
        _tail(element, parts)
        return
    brk = _Break(2) if tag in _PARAGRAPH else _Break(1) if tag in _BLOCK else None
    if brk:
        parts.append(brk)
    if tag == "li":
        parts.append("- ")
    if tag == "a":
        parts.append(_LINK)
    if element.text:
        parts.append(element.text)
    for child in element:
        _walk(child, parts)
    if tag == "a":
        parts.append(_LinkEnd(element.get("href") or ""))
    if brk:
        parts.append(brk)
    _tail(element, parts)


def _tail(element, parts: list) -> None:
    if element.tail:
        parts.append(element.tail)


def _join(parts: list) -> str:
    return _finish(_links(parts) if _LINK in parts or any(isinstance(p, _Alt) for p in parts) else parts)


class _Done(str):
    """Text the compile step already joined and spaced: taken as it is."""


def _finish(parts: list) -> str:
    out: list[str] = []
    pending, brs = 0, 0
    for part in parts:
        kind = type(part)
        if kind is _Break:
            if part > pending:
                pending = part
        elif part is _BR:
            brs += 1
        else:
            text = part if kind is _Done else _spaced(part)
            if pending or brs:
                if not text.strip():
                    continue
                if out:
                    out.append("\n" * (pending if pending > brs else brs))
                pending = brs = 0
            out.append(text)
    text = "".join(out)
    if " \n" in text or "\n " in text or "\u00a0" in text:  # else only the ends have spaces to strip
        text = "\n".join(line.strip(" \u00a0") for line in text.split("\n"))
    text = text.strip(" ").strip("\n")
    return text + "\n" if text else ""


def _spaced(text: str) -> str:
    """Each run of whitespace as one space (the check first: most texts have none to change)."""
    return text if text.isprintable() and "  " not in text else _WS.sub(" ", text)


def _links(parts: list, dynamic=None) -> list:
    """Links written as ``text (url)``, an image-only link as ``alt (url)``; other alt texts dropped.

    With ``dynamic`` (compile time), links whose text or address ``dynamic`` says depends on
    the data are left as they are, with their alt texts."""
    out: list = []
    starts: list[int] = []
    for part in parts:
        if part is _LINK:
            starts.append(len(out))
            out.append(part)
        elif isinstance(part, _LinkEnd):
            start = starts.pop()
            inner = out[start + 1:]
            if dynamic and any(p is _LINK or isinstance(p, _LinkEnd) or dynamic(p) for p in inner):
                out.append(part)
                continue
            label = _label(inner)
            if not label:
                inner = [p.text if isinstance(p, _Alt) else p for p in inner]
                label = _label(inner)
            if dynamic and dynamic(part.href):  # the address is filled in at render time
                inner.append(_LinkEnd(part.href, label))
            else:
                inner.append(_suffix(part.href, label))
            out[start:] = inner
        else:
            out.append(part)
    if not any(isinstance(part, _Alt) for part in out):
        return out
    kept, depth = [], 0
    for part in out:
        depth += 1 if part is _LINK else -1 if _is_end(part) else 0
        if depth or not isinstance(part, _Alt):
            kept.append(part)
    return kept


def _is_end(part) -> bool:
    """The end of a link whose text is only known at render time."""
    return isinstance(part, _LinkEnd) and part.label is None


def _suffix(href: str, label: str) -> str:
    """What follows a link's text: `` (address)`` unless the text says it already."""
    href = href.strip()
    target = href[7:] if href.startswith("mailto:") else href
    return f" ({target})" if target and not href.startswith("#") and target != label else ""


def _label(parts: list) -> str:
    return _WS.sub(" ", "".join(p for p in parts if isinstance(p, str))).strip()


def _reduce(parts: list, dynamic) -> list:
    """The parts with each run that does not depend on the data joined as :func:`_finish` would:
    what comes before its first text, that text and all after it as one :class:`_Done`, and
    the breaks after its last text."""
    out: list = []
    run: list = []
    depth = 0
    for part in parts:
        depth += 1 if part is _LINK else 0
        if depth or isinstance(part, (_LinkEnd, _Alt)) or dynamic(part):
            out += _reduced(run)
            run = []
            out.append(part)
        else:
            run.append(part)
        depth -= 1 if _is_end(part) else 0
    return out + _reduced(run)


def _reduced(run: list) -> list:
    head: list = []
    done: list[str] | None = None  # the text from the first one on
    pending = brs = 0
    for part in run:
        if isinstance(part, _Break):
            pending = max(pending, part)
        elif part is _BR:
            brs += 1
        else:
            text = _WS.sub(" ", part)
            if not text.strip() and (pending or brs):
                continue  # skipped whatever came before the run
            if done is None:
                if not text.strip():
                    head.append(part)
                    continue
                head += ([_Break(pending)] if pending else []) + [_BR] * brs
                done = []
            elif pending or brs:
                done.append("\n" * max(pending, brs))
            pending = brs = 0
            done.append(text)
    if done is not None:
        head.append(_Done("".join(done)))
    return head + ([_Break(pending)] if pending else []) + [_BR] * brs


# -- compiled once ----------------------------------------------------------------------------------
def compile_text(doc: Document, html: str) -> n.Program:
    """The text template of an email whose HTML with placeholders is ``html`` (raises
    NotRebuilt when its tags cannot be put back in order)."""
    parts: list = []
    _walk(parse_html(into_body(html)), parts)

    def dynamic(part) -> bool:
        text = part.text if isinstance(part, _Alt) else part if isinstance(part, str) else ""
        return doc.pattern.search(text) is not None

    tokens: list = []
    reduced = _reduce(_links(parts, dynamic), dynamic)
    while reduced and type(reduced[0]) is str and _WS.fullmatch(reduced[0]):
        del reduced[0]  # spaces before the first text: the first line is stripped of them anyway
    for part in reduced:
        if isinstance(part, _Break):
            tokens.append(f"<{int(part)}>")
        elif part is _BR:
            tokens.append("<b>")
        elif part is _LINK:
            tokens.append("<a>")
        elif isinstance(part, _LinkEnd):
            label = [] if part.label is None else ["<L>", *_escaped(doc, part.label)]
            tokens += [*label, "<h>", *_escaped(doc, part.href), "</a>"]
        elif isinstance(part, _Alt):
            tokens += ["<i>", *_escaped(doc, part.text), "</i>"]
        else:
            tokens += ["<s>" if type(part) is _Done else "<t>", *_escaped(doc, part)]
    return doc.rebuild(tokens)


def _escaped(doc: Document, text: str) -> list:
    return [t if isinstance(t, int) else t.replace("&", "&amp;").replace("<", "&lt;") for t in doc.tokens(text)]


def finish_text(rendered: str) -> str | None:
    """The text from the output of a :func:`compile_text` template; None when a value holds
    what the HTML parser would have changed (derive the text from the HTML then)."""
    pieces = _MARKER.split(rendered)
    checked = _unchanged_by_parser(rendered)  # then no piece needs the check
    escaped = "&" in rendered
    parts: list = []
    append = parts.append
    href: list[str] | None = None  # inside <h>...</a>
    label: str | None = None  # after <L>: the text of the link, known at compile time
    linked = False  # an <a> or <i> came: links are written out by _links
    for i in range(1, len(pieces), 2):
        mark, piece = pieces[i], pieces[i + 1]
        if mark == "s":  # compile-time text, joined and spaced
            if piece:
                append(_Done(htmllib.unescape(piece) if escaped and "&" in piece else piece))
            continue
        if mark in _MARKS:
            append(_MARKS[mark])
            linked = linked or mark == "a"
        elif mark == "h":
            href = []
        elif mark == "/a":
            address = "".join(href or ())
            append(_LinkEnd(address) if label is None else _suffix(address, label))
            href = label = None
        elif mark == "L":
            label = htmllib.unescape(piece) if escaped else piece
            continue
        elif mark == "i":
            append(_Alt(""))
            linked = True
        if not piece:
            continue
        if escaped and "&" in piece:
            piece = htmllib.unescape(piece)
        if not checked and _CHANGED_BY_PARSER.search(piece):  # text from values
            return None
        if href is not None:
            href.append(piece)
        elif mark == "i":
            parts[-1].text = piece
        else:
            append(piece)
    return _finish(_links(parts) if linked else parts)


def _unchanged_by_parser(text: str) -> bool:
    if text.isascii():  # the quick answer for most emails
        return "\r" not in text and "\x00" not in text
    return _CHANGED_BY_PARSER.search(text) is None


_MARKS = {"1": _Break(1), "2": _Break(2), "b": _BR, "a": _LINK}
