"""Client compatibility findings from caniemail's data (rule ids ``caniemail:<feature slug>``).

The rendered, inlined HTML is read: every element (tag, attributes, image
formats, its ``style`` attribute) and every ``<style>`` block that inlining
left (``@media``, ``:hover``...). A finding names the feature, the targeted
clients that lack it or support it in part (with caniemail's notes) and the
template place: the element's start tag, or for a ``<style>`` rule the line of
its text in the template (searched from the ``<style>`` tag on, since the
inliner rewrites the block; the ``<style>`` tag's line when not found).
"""
from __future__ import annotations

from collections.abc import Iterator

from .css import style_attribute_hits, stylesheet_hits
from .data import features
from .document import Document
from .findings import Finding
from .html import element_hits
from .support import gaps


Hit = tuple[str, str, object, "int | None"]  # slug, the HTML or CSS using it, element, template line or None


def check(doc: Document) -> Iterator[Finding]:
    for slug, detail, element, line in hits(doc):
        lacking = gaps(slug, doc.clients)
        if not lacking:
            continue
        feature = features()[slug]
        severity = "warning" if any(g.support == "unsupported" for g in lacking) else "info"
        yield doc.finding(f"caniemail:{slug}", severity, f"{feature['title'].strip()}: {detail}", element,
                          line_in_source=line, clients=lacking, url=feature["url"])


def hits(doc: Document) -> Iterator[Hit]:
    """Every caniemail feature the email uses, whatever the clients support."""
    docinfo = doc.traced.tree.getroottree().docinfo
    html = doc.traced.tree
    if (docinfo.doctype or "").strip().lower() == "<!doctype html>":
        found = doc.search(html, "<!DOCTYPE", 0)
        yield "html-doctype", "<!DOCTYPE html>", html, found and found[0]
    for element in doc.traced.tree.iter():
        if not isinstance(element.tag, str):
            if element.tag.__name__ == "Comment":
                yield "html-comments", "<!-- -->", element.getparent(), None
            continue
        for slug, detail in element_hits(element):
            yield slug, detail, element, None
        if element.get("style"):
            for slug, detail, _, _ in style_attribute_hits(element.get("style")):
                yield slug, f'style="{detail}"', element, None
        if element.tag.lower() == "style" and element.text:
            yield from _stylesheet(doc, element)


def _stylesheet(doc: Document, style) -> Iterator[Hit]:
    """Features of a ``<style>`` block, each at the first match of its CSS in the template at or after the
    previous one's (the inliner keeps the rules in order, and may add ``!important``)."""
    cursor = None
    for slug, detail, _, _ in stylesheet_hits(style.text):
        found = doc.search(style, detail, cursor) or doc.search(style, detail.removesuffix(" !important"), cursor)
        if found:
            cursor = found[1]
        yield slug, detail, style, found[0] if found else None
