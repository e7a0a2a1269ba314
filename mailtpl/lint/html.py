"""Which caniemail HTML and image features an element uses (elements, attributes, image formats)."""
from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from .css import image_slugs
from .data import features
from .trace import MARKER

ELEMENT_GROUPS = {
    "html-h1-h6": ("h1", "h2", "h3", "h4", "h5", "h6"),
    "html-lists": ("ul", "ol", "dl"),
    "html-semantics": ("article", "aside", "details", "figcaption", "figure", "footer", "header", "main", "mark",
                       "nav", "section", "summary", "time"),
    "html-image-maps": ("map",),
    "html-svg": ("svg",),
    "html-address": ("address",),
}
ATTRIBUTE_GROUPS = {"html-srcset": ("srcset", "sizes"), "css-inert-attribute": ("inert",)}


@functools.cache
def _tables() -> tuple[dict[str, list[str]], dict[str, list[str]], dict[tuple[str, str, str], str]]:
    """tag -> slugs, attribute -> slugs, (tag, attribute, value) -> slug, from caniemail's titles."""
    elements: dict[str, list[str]] = {}
    attributes: dict[str, list[str]] = {}
    pairs: dict[tuple[str, str, str], str] = {}
    for slug, tags in ELEMENT_GROUPS.items():
        for tag in tags:
            elements.setdefault(tag, []).append(slug)
    for slug, names in ATTRIBUTE_GROUPS.items():
        for name in names:
            attributes.setdefault(name, []).append(slug)
    for slug, feature in features().items():
        if feature["category"] != "html" or slug in ELEMENT_GROUPS or slug in ATTRIBUTE_GROUPS:
            continue
        title = feature["title"]
        pair = re.fullmatch(r'<(\w+) (\w+)="(\w+)"> element', title)
        element = re.fullmatch(r"<(\w+)>( element)?", title)
        attribute = re.fullmatch(r"([a-z-]+) attribute", title)
        if pair:
            pairs[pair.groups()] = slug
        elif element:
            elements.setdefault(element.group(1), []).append(slug)
        elif attribute:
            attributes.setdefault(attribute.group(1), []).append(slug)
    return elements, attributes, pairs


def element_hits(element) -> Iterator[tuple[str, str]]:
    """(slug, detail) for an lxml element: the element, its attributes, and image formats it loads."""
    elements, attributes, pairs = _tables()
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    for slug in elements.get(tag, ()):
        yield slug, f"<{tag}>"
    names = [name.lower() for name in element.attrib if name != MARKER]
    for name in names:
        for slug in attributes.get(name, ()):
            yield slug, f"<{tag} {name}>"
    kind = (element.get("type") or "").lower()
    if (tag, "type", kind) in pairs:
        yield pairs[(tag, "type", kind)], f'<{tag} type="{kind}">'
    if tag == "a":
        href = (element.get("href") or "").strip()
        if href.startswith("#") or "name" in names:
            yield "html-anchor-links", f'<a href="{href}">' if href.startswith("#") else "<a name>"
        if href.lower().startswith("mailto:"):
            yield "html-mailto-links", f'<a href="{href}">'
    if tag == "meta" and (element.get("name") or "").lower() == "color-scheme":
        yield "html-meta-color-scheme", '<meta name="color-scheme">'
    if tag == "html" and ("amp4email" in names or "⚡4email" in names):
        yield "amp", "<html amp4email>"
    for url in image_urls(element, tag):
        for slug in image_slugs(url):
            yield slug, f'<{tag} src="{_short(url)}">'


def image_urls(element, tag: str) -> list[str]:
    urls = []
    if tag == "img" and element.get("src"):
        urls.append(element.get("src"))
    if element.get("srcset"):
        urls.extend(candidate.strip().split()[0] for candidate in element.get("srcset").split(",")
                    if candidate.strip())
    if element.get("background"):
        urls.append(element.get("background"))
    return urls


def _short(url: str) -> str:
    return url if len(url) <= 60 else url[:57] + "..."
