"""Which caniemail features a piece of CSS uses, read with tinycss2 (a real CSS tokenizer and parser).

Each function yields ``(slug, detail)``: the caniemail feature and the CSS
that uses it. Properties map to their own feature, else to the feature of the
shorthand they are a longhand of (``margin-top`` is ``css-margin``), except
features caniemail names "shorthand" (``font-size`` is not ``font``).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import tinycss2

from .data import features

Hit = tuple[str, str]

PROPERTY_GROUPS = {
    "css-block-inline-size": ("block-size", "inline-size"),
    "css-border-inline-block": ("border-inline", "border-block"),
    "css-border-inline-block-individual": ("border-block-end", "border-block-start", "border-inline-end",
                                           "border-inline-start"),
    "css-border-inline-block-longhand": ("border-block-color", "border-block-style", "border-block-width",
                                         "border-inline-color", "border-inline-style", "border-inline-width"),
    "css-border-radius-logical": ("border-end-end-radius", "border-end-start-radius", "border-start-end-radius",
                                  "border-start-start-radius"),
    "css-color-scheme": ("color-scheme",),
    "css-column-layout-properties": ("column-count", "column-fill", "column-gap", "column-rule",
                                     "column-rule-color", "column-rule-style", "column-rule-width", "column-span",
                                     "column-width", "columns"),
    "css-gap": ("gap", "column-gap", "row-gap"),
    "css-grid-template": ("grid-template", "grid-template-areas", "grid-template-columns", "grid-template-rows"),
    "css-margin-block-start-end": ("margin-block-start", "margin-block-end"),
    "css-margin-inline-block": ("margin-inline", "margin-block"),
    "css-margin-inline-start-end": ("margin-inline-start", "margin-inline-end"),
    "css-padding-block-start-end": ("padding-block-start", "padding-block-end"),
    "css-padding-inline-block": ("padding-inline", "padding-block"),
    "css-padding-inline-start-end": ("padding-inline-start", "padding-inline-end"),
    "css-left-right-top-bottom": ("left", "right", "top", "bottom"),
    "css-scroll-snap": ("scroll-snap-type", "scroll-snap-align", "scroll-snap-stop"),
}
PROPERTY_VALUES = {  # property -> {keyword: slug}
    "display": {"flex": "css-display-flex", "inline-flex": "css-display-flex", "grid": "css-display-grid",
                "inline-grid": "css-display-grid", "none": "css-display-none"},
    "flex-direction": {"column": "css-flex-direction", "column-reverse": "css-flex-direction"},
    "flex-wrap": {"wrap": "css-flex-wrap", "wrap-reverse": "css-flex-wrap"},
}
KEYWORDS = {"fit-content": "css-intrinsic-size", "min-content": "css-intrinsic-size",
            "max-content": "css-intrinsic-size", "system-ui": "css-sytem-ui", "ui-serif": "css-sytem-ui",
            "ui-sans-serif": "css-sytem-ui", "ui-rounded": "css-sytem-ui", "ui-monospace": "css-sytem-ui",
            "initial": "css-unit-initial"}
FUNCTIONS = {"clamp": "css-function-clamp", "light-dark": "css-function-light-dark", "max": "css-function-max",
             "min": "css-function-min", "conic-gradient": "css-conic-gradient",
             "repeating-conic-gradient": "css-conic-gradient", "linear-gradient": "css-linear-gradient",
             "repeating-linear-gradient": "css-linear-gradient", "radial-gradient": "css-radial-gradient",
             "repeating-radial-gradient": "css-radial-gradient", "rgb": "css-rgb", "rgba": "css-rgba",
             "calc": "css-unit-calc", "lch": "css-modern-color", "oklch": "css-modern-color",
             "lab": "css-modern-color", "oklab": "css-modern-color", "var": "css-variables"}
AT_RULES = {"font-face": "css-at-font-face", "import": "css-at-import", "keyframes": "css-at-keyframes",
            "-webkit-keyframes": "css-at-keyframes", "media": "css-at-media", "supports": "css-at-supports"}
MEDIA_FEATURES = {"device-pixel-ratio": "css-at-media-device-pixel-ratio", "hover": "css-at-media-hover",
                  "any-hover": "css-at-media-hover", "orientation": "css-at-media-orientation",
                  "prefers-color-scheme": "css-at-media-prefers-color-scheme",
                  "prefers-reduced-motion": "css-at-media-prefers-reduced-motion"}
LEGACY_PSEUDO_ELEMENTS = {"before", "after", "first-letter", "first-line"}


@functools.cache
def _property_features() -> tuple[dict[str, str], frozenset[str]]:
    """property -> slug for features named after one property, and the shorthand-only ones."""
    exact, shorthand_only = {}, set()
    for slug, feature in features().items():
        title = feature["title"].strip()
        name = re.sub(r" (property|shorthand)$", "", title)
        if slug == f"css-{name}" and re.fullmatch(r"[a-z-]+", name):
            exact[name] = slug
            if title.endswith(" shorthand"):
                shorthand_only.add(name)
    return exact, frozenset(shorthand_only)


MAX_DEPTH = 32  # brackets CSS may nest; real CSS nests a few, tinycss2's serializer recurses per level
_BRACKETS = re.compile(r"[^()[\]{}]+")


def depth(css: str) -> int:
    """How deep ``css`` nests brackets (at least; quoted brackets count too): CSS deeper than :data:`MAX_DEPTH`
    is not read (rule ``css-depth``)."""
    deepest = level = 0
    for bracket in _BRACKETS.sub("", css):
        level = level + 1 if bracket in "([{" else max(level - 1, 0)
        deepest = max(deepest, level)
    return deepest


def readable(css: str) -> bool:
    return depth(css) <= MAX_DEPTH


def property_slugs(name: str) -> list[str]:
    exact, shorthand_only = _property_features()
    found = [slug for slug, names in PROPERTY_GROUPS.items() if name in names]
    if name in exact:
        found.append(exact[name])
    elif not found:
        parts = name.split("-")
        for end in range(len(parts) - 1, 0, -1):
            prefix = "-".join(parts[:end])
            if prefix in exact and prefix not in shorthand_only:
                found.append(exact[prefix])
                break
    if name.startswith("--"):
        found.append("css-variables")
    return found


def declaration_hits(name: str, value: list, important: bool) -> Iterator[Hit]:
    """Features of one declaration (``value`` is tinycss2 component values)."""
    name = name.lower()
    text = tinycss2.serialize(value).strip()
    detail = f"{name}: {text}{' !important' if important else ''}"
    for slug in property_slugs(name):
        yield slug, detail
    if important:
        yield "css-important", detail
    for slug in value_slugs(name, value):
        yield slug, detail


def value_slugs(name: str, value: list) -> list[str]:
    found: list[str] = []
    for token in _flat(value):
        if token.type == "ident":
            keyword = token.lower_value
            slug = PROPERTY_VALUES.get(name, {}).get(keyword) or KEYWORDS.get(keyword)
        elif token.type == "function" and token.lower_name == "url":
            slug = None
            found.extend(image_slugs("".join(t.value for t in token.arguments if t.type == "string")))
        elif token.type == "function":
            slug = FUNCTIONS.get(token.lower_name)
        elif token.type == "dimension":
            slug = f"css-unit-{token.lower_unit}"
        elif token.type == "percentage":
            slug = "css-unit-percent"
        elif token.type == "url":
            slug = None
            found.extend(image_slugs(token.value))
        else:
            slug = None
        if slug in features() and slug not in found:
            found.append(slug)
    return found


def _flat(tokens: list) -> Iterator:
    for token in tokens:
        yield token
        if token.type == "function":
            yield from _flat(token.arguments)
        elif token.type in ("() block", "[] block", "{} block"):
            yield from _flat(token.content)


def stylesheet_hits(css: str) -> Iterator[Hit]:
    """Features of a ``<style>`` element's text."""
    yield from _rules(tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=False), nested=False)


def _rules(rules: list, nested: bool) -> Iterator[Hit]:
    for rule in rules:
        if rule.type == "comment":
            yield "css-comments", "/* ... */"
        elif rule.type == "at-rule":
            yield from _at_rule(rule)
        elif rule.type == "qualified-rule":
            selector = tinycss2.serialize(rule.prelude).strip()
            if nested:
                yield "css-nesting", selector
            for slug in selector_slugs(rule.prelude):
                yield slug, selector
            yield from _block(rule.content)


def _block(content: list) -> Iterator[Hit]:
    for item in tinycss2.parse_blocks_contents(content, skip_whitespace=True, skip_comments=False):
        if item.type == "declaration":
            yield from declaration_hits(item.name, item.value, item.important)
        elif item.type == "comment":
            yield "css-comments", "/* ... */"
        elif item.type in ("qualified-rule", "at-rule"):
            yield from _rules([item], nested=True)


def _at_rule(rule) -> Iterator[Hit]:
    name = rule.lower_at_keyword
    prelude = tinycss2.serialize(rule.prelude).strip()
    detail = f"@{name} {prelude}".strip()
    slug = AT_RULES.get(name)
    if slug:
        yield slug, detail
    if name == "media":
        for feature in media_features(rule.prelude):
            yield MEDIA_FEATURES[feature], detail
    if rule.content is not None and name in ("media", "supports", "document"):
        yield from _rules(tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=False),
                          nested=False)
    elif rule.content is not None and name not in ("keyframes", "-webkit-keyframes", "font-face", "page"):
        yield from _block(rule.content)


def media_features(prelude: list) -> list[str]:
    found = []
    for token in _flat(prelude):
        if token.type == "() block":
            names = [t.lower_value for t in token.content if t.type == "ident"]
            if names:
                name = re.sub(r"^(-webkit-|-moz-|-o-)?((min|max)-(-webkit-)?)?", "", names[0])
                name = re.sub(r"^(-webkit-|-moz-)", "", name)
                if name in MEDIA_FEATURES and name not in found:
                    found.append(name)
    return found


def selector_slugs(prelude: list) -> list[str]:
    """Selector features of a rule's prelude (a selector list)."""
    found: list[str] = []

    def add(slug: str) -> None:
        if slug in features() and slug not in found:
            found.append(slug)

    tokens = [t for t in prelude if t.type != "comment"]
    groups: list[list] = [[]]
    for token in tokens:
        if token.type == "literal" and token.value == ",":
            groups.append([])
        else:
            groups[-1].append(token)
    if len([g for g in groups if g]) > 1:
        add("css-selector-grouping")
    for group in groups:
        _selector(group, add)
    return found


def _selector(tokens: list, add) -> None:
    classes = 0
    pending_space = False
    started = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "whitespace":
            pending_space = started
            i += 1
            continue
        if token.type == "literal" and token.value in (">", "+", "~"):
            add({">": "css-selector-child", "+": "css-selector-adjacent-sibling",
                 "~": "css-selector-general-sibling"}[token.value])
            pending_space, classes, started = False, 0, False
            i += 1
            continue
        if pending_space:
            add("css-selector-descendant")
            pending_space, classes = False, 0
        started = True
        if token.type == "literal" and token.value == "&":
            add("css-nesting")
        elif token.type == "literal" and token.value == "*":
            add("css-selector-universal")
        elif token.type == "literal" and token.value == "." and i + 1 < len(tokens) and tokens[i + 1].type == "ident":
            classes += 1
            add("css-selector-class")
            if classes >= 2:
                add("css-selector-chaining")
            i += 1
        elif token.type == "hash":
            add("css-selector-id")
        elif token.type == "[] block":
            name = next((t.lower_value for t in token.content if t.type == "ident"), "")
            add("css-selector-class" if name == "class" else "css-selector-id" if name == "id"
                else "css-selector-attribute")
        elif token.type == "ident":
            add("css-selector-type")
        elif token.type == "literal" and token.value == ":":
            element = i + 1 < len(tokens) and tokens[i + 1].type == "literal" and tokens[i + 1].value == ":"
            if element:
                i += 1
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            name = nxt.lower_value if nxt is not None and nxt.type == "ident" else \
                nxt.lower_name if nxt is not None and nxt.type == "function" else None
            if name:
                if element or name in LEGACY_PSEUDO_ELEMENTS:
                    add(f"css-pseudo-element-{name}")
                else:
                    add(f"css-pseudo-class-{name}")
                if nxt.type == "function":
                    _selector(list(nxt.arguments), add)  # :not(.a > .b)
                i += 1
        i += 1


IMAGE_EXTENSIONS = {"apng": "image-apng", "avif": "image-avif", "bmp": "image-bmp", "gif": "image-gif",
                    "heic": "image-heif", "heif": "image-heif", "hdr": "image-hdr", "ico": "image-ico",
                    "jpeg": "image-jpg", "jpg": "image-jpg", "png": "image-png", "svg": "image-svg",
                    "svgz": "image-svg", "tif": "image-tiff", "tiff": "image-tiff", "webp": "image-webp",
                    "mp4": "image-mp4"}
IMAGE_TYPES = {"image/apng": "image-apng", "image/avif": "image-avif", "image/bmp": "image-bmp",
               "image/gif": "image-gif", "image/heic": "image-heif", "image/heif": "image-heif",
               "image/x-icon": "image-ico", "image/vnd.microsoft.icon": "image-ico", "image/jpeg": "image-jpg",
               "image/jpg": "image-jpg", "image/png": "image-png", "image/svg+xml": "image-svg",
               "image/tiff": "image-tiff", "image/webp": "image-webp", "video/mp4": "image-mp4"}


def image_slugs(url: str) -> list[str]:
    """Image-format features of an image address (by data: type, else by the path's extension)."""
    url = url.strip()
    data = re.match(r"data:([^;,]*)(;[^,]*)?,", url, re.I)
    if data:
        found = [IMAGE_TYPES[data.group(1).lower()]] if data.group(1).lower() in IMAGE_TYPES else []
        if "base64" in (data.group(2) or "").lower():
            found.append("image-base64")
        return found
    path = re.split(r"[?#]", url, maxsplit=1)[0]
    extension = re.search(r"\.([A-Za-z0-9]+)$", path)
    slug = IMAGE_EXTENSIONS.get(extension.group(1).lower()) if extension else None
    return [slug] if slug else []
