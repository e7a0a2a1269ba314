"""Where an inlined declaration came from: the element's own ``style`` attribute or a ``<style>`` rule.

Inlining moves class rules into ``style`` attributes. For a declaration of the
rendered element that its start tag in the template does not write, the rule
is the last rule of the templates' ``<style>`` blocks (in the files the email
is made of) that sets the property and whose selector matches the element.
Specificity is not weighed: with two matching rules the later one is named.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import tinycss2
from lxml.cssselect import CSSSelector, SelectorError

from .css import readable

_STYLE_START = re.compile(r"<style\b[^<>]*>", re.I)
_STYLE_END = re.compile(r"</style\s*>", re.I)
_START_TAG = re.compile(r"""<[A-Za-z][^\s/>]*(?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*\s*/?>""")
_STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)


@dataclass(frozen=True)
class Rule:
    file: str
    line: int
    selector: str
    properties: frozenset[str]


def _style_blocks(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each ``<style>`` block of ``source``, in one pass (no rescan per unclosed tag)."""
    at, counted, line = 0, 0, 1  # line is the line of offset counted
    while (start := _STYLE_START.search(source, at)) is not None:
        end = _STYLE_END.search(source, start.end())
        if end is None:
            return
        line += source.count("\n", counted, start.end())
        counted, at = start.end(), end.end()
        yield line, source[start.end():end.start()]


@functools.lru_cache(maxsize=64)
def rules_of(file: str, source: str) -> tuple[Rule, ...]:
    """The style rules of a template's ``<style>`` blocks (top level: what inlining can move); kept per
    (file, text), so a layout is parsed once, not again for every email and sample-data set that uses it."""
    found = []
    for first_line, css in _style_blocks(source):
        if not readable(css):
            continue
        for rule in tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True):
            if rule.type != "qualified-rule":
                continue
            names = frozenset(d.lower_name for d in tinycss2.parse_blocks_contents(rule.content, skip_whitespace=True,
                                                                                   skip_comments=True)
                              if d.type == "declaration")
            found.append(Rule(file, first_line + rule.source_line - 1, tinycss2.serialize(rule.prelude).strip(),
                              names))
    return tuple(found)


def own_properties(source: str, line: int, column: int) -> frozenset[str]:
    """The properties the start tag at ``line``:``column`` of ``source`` sets in its own ``style`` attribute."""
    lines = source.split("\n")
    offset = sum(len(text) + 1 for text in lines[:line - 1]) + column - 1
    tag = _START_TAG.match(source, offset)
    style = _STYLE_ATTRIBUTE.search(tag.group(0)) if tag else None
    if not style or not readable(style.group(1) or style.group(2) or ""):
        return frozenset()
    return frozenset(d.lower_name for d in tinycss2.parse_blocks_contents(style.group(1) or style.group(2) or "",
                                                                         skip_whitespace=True, skip_comments=True)
                     if d.type == "declaration")


@functools.lru_cache(maxsize=512)
def _selector(text: str) -> CSSSelector | None:
    try:
        return CSSSelector(text)
    except (SelectorError, ValueError):
        return None


def matched(rule: Rule, tree) -> list:
    """The elements of ``tree`` the rule's selector matches (none for a selector cssselect cannot run)."""
    selector = _selector(rule.selector)
    try:
        return selector(tree) if selector is not None else []
    except Exception:  # noqa: BLE001 - a selector cssselect translates but lxml cannot run
        return []
