"""Client compatibility findings from caniemail's data (rule ids ``caniemail:<feature slug>``).

The rendered, inlined HTML is read: every element (tag, attributes, image
formats, its ``style`` attribute) and every ``<style>`` block that inlining
left (``@media``, ``:hover``...). A finding names the feature, the targeted
clients that lack it or support it in part (with caniemail's notes) and the
template place: the element's start tag; for a declaration that inlining moved
into the element, the ``<style>`` rule it came from (see :mod:`.cascade`); for
a rule of a ``<style>`` block the line of its text in the template (searched
from the ``<style>`` tag on, since the inliner rewrites the block; the
``<style>`` tag's line when not found).
"""
from __future__ import annotations

from collections.abc import Iterator

import tinycss2

from .css import declaration_hits, readable, stylesheet_hits
from .data import features
from .document import Document
from .findings import Finding
from .html import element_hits
from .support import gaps


Hit = tuple[str, str, object, "tuple[str, int] | None"]  # slug, the HTML or CSS using it, element, (file, line)


def check(doc: Document) -> Iterator[Finding]:
    for slug, detail, element, place in hits(doc):
        lacking = gaps(slug, doc.clients)
        if not lacking:
            continue
        feature = features()[slug]
        severity = "warning" if any(g.support == "unsupported" for g in lacking) else "info"
        yield doc.finding(f"caniemail:{slug}", severity, f"{feature['title'].strip()}: {detail}", element,
                          place=place, clients=lacking, url=feature["url"])


def hits(doc: Document) -> Iterator[Hit]:
    """Every caniemail feature the email uses, whatever the clients support."""
    docinfo = doc.traced.tree.getroottree().docinfo
    html = doc.traced.tree
    if (docinfo.doctype or "").strip().lower() == "<!doctype html>":
        found = doc.search(html, "<!DOCTYPE", 0)
        origin = doc.traced.origin(html)
        yield "html-doctype", "<!DOCTYPE html>", html, (origin.file, found[0]) if found and origin else None
    for element in doc.traced.tree.iter():
        if not isinstance(element.tag, str):
            if element.tag.__name__ == "Comment":
                yield "html-comments", "<!-- -->", element.getparent(), None
            continue
        for slug, detail in element_hits(element):
            yield slug, detail, element, None
        if element.get("style") and readable(element.get("style")):
            yield from _inline_style(doc, element)
        if element.tag.lower() == "style" and element.text and readable(element.text):
            yield from _stylesheet(doc, element)


def _inline_style(doc: Document, element) -> Iterator[Hit]:
    """Features of a ``style`` attribute, each at the template's own attribute or at the rule inlined into it."""
    for decl in tinycss2.parse_blocks_contents(element.get("style"), skip_whitespace=True, skip_comments=True):
        if decl.type != "declaration":
            continue
        rule = doc.declared_at(element, decl.lower_name)
        for slug, detail in declaration_hits(decl.name, decl.value, decl.important):
            if rule is None:
                yield slug, f'style="{detail}"', element, None
            else:
                yield slug, f"{detail} (from {rule[2]}, inlined into <{element.tag}>)", element, rule[:2]


def _stylesheet(doc: Document, style) -> Iterator[Hit]:
    """Features of a ``<style>`` block, each at the first match of its CSS in the template at or after the
    previous one's (the inliner keeps the rules in order, and may add ``!important``)."""
    cursor = None
    for slug, detail in stylesheet_hits(style.text):
        found = doc.search(style, detail, cursor) or doc.search(style, detail.removesuffix(" !important"), cursor)
        if found:
            cursor = found[1]
        origin = doc.traced.origin(style)
        yield slug, detail, style, (origin.file, found[0]) if found and origin else None
