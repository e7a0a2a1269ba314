"""One rendered, traced email as the rules see it: elements with their template places."""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import tinycss2

from . import cascade
from .css import readable
from .data import Client
from .findings import Finding
from .trace import Traced


@dataclass(eq=False)  # one per lint run, compared by identity
class Document:
    email: str
    traced: Traced
    clients: tuple[Client, ...]
    placeholder_url: str  # preview_base_url: addresses under it stand for {{baseUrl}}
    source: Callable[[str], str]  # template file -> its text
    elements: list = field(init=False)
    _index: dict = field(init=False)  # element -> (tag, its index among the email's elements with that tag)
    _of_type: dict = field(init=False)  # element -> its number among its parent's children with that tag, from 1
    _siblings: dict = field(init=False)  # (parent, tag) -> how many children of parent have that tag

    def __post_init__(self) -> None:
        self.elements = [el for el in self.traced.tree.iter() if isinstance(el.tag, str)]
        counts: dict[str, int] = {}
        self._index, self._of_type, self._siblings = {}, {}, {}
        for el in self.elements:
            tag = el.tag.lower()
            self._index[el] = (tag, counts.get(tag, 0))
            counts[tag] = counts.get(tag, 0) + 1
            key = (el.getparent(), tag)
            self._siblings[key] = self._of_type[el] = self._siblings.get(key, 0) + 1

    @property
    def templated(self) -> bool:
        """Whether the email comes from templates (a traced render), not finished HTML."""
        return self.traced.file is not None

    @property
    def html(self) -> str:
        return self.traced.rendered.html

    @functools.cached_property
    def size(self) -> int:
        """Bytes of the HTML as sent."""
        return len(self.html.encode("utf-8", "replace"))

    def find(self, tag: str) -> list:
        return [el for el in self.elements if el.tag.lower() == tag]

    def finding(self, rule: str, severity: str, message: str, element=None, *,
                place: tuple[str, int | None] | None = None, **extra) -> Finding:
        """A finding at ``place`` (file, line), else at ``element``'s start tag in the template, else at the
        email's file."""
        origin = self.traced.origin(element) if element is not None else None
        file, line, column = (origin.file, origin.line, origin.column) if origin else (self.traced.file, None, None)
        if place is not None:
            (file, line), column = place, None
        return Finding(rule, severity, message, self.email, file, line, column,
                       self._index.get(element) if element is not None else None,
                       selector=self.selector(element) if element is not None else None, **extra)

    def selector(self, element, steps: int = 16) -> str:
        """A CSS selector of ``element`` from ``<html>`` down (``body > table:nth-of-type(2) > tr > td``),
        its last ``steps`` steps after "... >" when deeper."""
        path = self._path(element)
        return " > ".join(path if len(path) <= steps else ("...", *path[-steps:]))

    @functools.cache  # noqa: B019 - a Document lives for one lint run only
    def _path(self, element) -> tuple[str, ...]:
        parent, tag = element.getparent(), element.tag.lower()
        if not re.fullmatch(r"[a-z][a-z0-9_-]*", tag):
            tag = re.sub(r"[^a-z0-9_-]", lambda m: "\\" + m.group(0), tag)  # o:p -> o\:p
        step = f"{tag}:nth-of-type({self._of_type[element]})" if self._siblings[(parent, element.tag.lower())] > 1 \
            else tag
        return (*(self._path(parent) if parent is not None else ()), step)

    def declared_at(self, element, prop: str) -> tuple[str, int, str] | None:
        """(file, line, selector) of the ``<style>`` rule an inlined ``prop`` of ``element`` came from; None
        when the element's start tag sets it itself (or nothing is known)."""
        origin = self.traced.origin(element)
        if origin is None or prop in self._own_properties(origin):
            return None
        rule = self._declarations.get((element, prop))
        return (rule.file, rule.line, rule.selector) if rule else None

    @functools.cache  # noqa: B019 - a Document lives for one lint run only
    def _own_properties(self, origin) -> frozenset[str]:
        return cascade.own_properties(self.source(origin.file), origin.line, origin.column)

    @functools.cached_property
    def _declarations(self) -> dict[tuple, cascade.Rule]:
        """(element, property) -> the last ``<style>`` rule of the email's template files that sets the
        property and matches the element."""
        files = sorted({o.file for el in self.elements if (o := self.traced.origin(el)) is not None})
        tree = self.traced.tree.getroottree()
        found = {}
        for rule in (rule for file in files for rule in cascade.rules_of(file, self.source(file))):
            for element in cascade.matched(rule, tree):
                found.update(dict.fromkeys(((element, prop) for prop in rule.properties), rule))
        return found

    def search(self, element, text: str, start: int | None = None) -> tuple[int, int] | None:
        """(line, offset) of ``text`` (whitespace-insensitive) in the template of ``element``, searched
        from ``start`` (default: the element's own place): where a rule of a ``<style>`` block came from,
        since the inliner rewrites the block."""
        origin = self.traced.origin(element)
        if origin is None:
            return None
        source = self.source(origin.file)
        if start is None:
            start = sum(len(line) + 1 for line in source.split("\n")[:origin.line - 1])
        words = [re.escape(word) for word in re.split(r"\s+|(?<=[:;,>{(])|(?=[:;,>{)])", text) if word]
        match = re.compile(r"\s*".join(words), re.I).search(source, start) if words else None
        return (source.count("\n", 0, match.start()) + 1, match.start()) if match else None


@functools.lru_cache(maxsize=1024)
def _parsed(style: str) -> dict[str, str]:
    found = {}
    for decl in tinycss2.parse_blocks_contents(style, skip_whitespace=True, skip_comments=True):
        if decl.type == "declaration":
            found[decl.lower_name] = tinycss2.serialize(decl.value).strip()
    return found


def declarations(element) -> dict[str, str]:
    """The inline style of an element, property -> value (the last one wins)."""
    style = element.get("style")
    return _parsed(style) if style and readable(style) else {}
