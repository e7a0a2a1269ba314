"""CSS inlining with premailer: once per template at compile time where that gives the same
HTML as inlining every rendered email, else once per render.

Compile time works on the flattened email as one HTML document with a placeholder
for every Handlebars tag (:class:`~mailtpl.placeholders.Document`): premailer
inlines that document once and the template is rebuilt around the placeholders.
That equals inlining each rendered email when the data cannot change which
element a rule matches. :func:`check_structure` makes sure the data can only
change text, attribute values and whole runs of sibling elements (blocks that
open and close in the same element); :func:`dynamic_rule` then looks at each
rule premailer inlines, as premailer's own parser (cssutils) and selector engine
(cssselect) read it:

- a class, id or attribute selector depends on the data only when a tag writes
  that attribute;
- ``+``, ``~``, ``:first-child`` and ``:last-child`` only around elements that a
  block adds, removes or repeats;
- everything else (types, descendants, children) is fixed by the markup.

``:hover``, ``:not()``, ``@media`` and other rules premailer does not inline stay
in ``<style>`` as written, whatever the data.
"""
from __future__ import annotations

import contextlib
import copy as _copy
import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from .errors import TemplateError
from .lazy import LazyModule
from .placeholders import Document, Tag

# loaded at the first inlining (their import takes ~150 ms, which rendering and sending need not pay)
cssselect = LazyModule("cssselect")
etree = LazyModule("lxml.etree")
lxml_cssselect = LazyModule("lxml.cssselect")
premailer = LazyModule("premailer")
tinycss2 = LazyModule("tinycss2")

PREMAILER_OPTIONS = {
    "allow_network": False,  # never fetch stylesheets while rendering mail
    "disable_validation": True,
    "cssutils_logging_level": logging.CRITICAL,
    "strip_important": False,  # @media rules need their !important to beat inline styles
    "remove_classes": False,
    "keep_style_tags": False,  # class rules are inlined; @media and :hover rules stay in <style>
    "disable_link_rewrites": True,
}
BUILTIN_BLOCKS = frozenset({"if", "unless", "each", "with"})
TEXT_HELPERS = frozenset({"lookup", "log"})  # builtin helpers that return data, never markup
_SIBLING_COMBINATORS = {"+", "~"}
_POSITION_PSEUDOS = {"first-child", "last-child"}
_END_TAGS = re.compile(r"</(?:body|html)\s*>", re.I)
_ONLY_END_TAGS = re.compile(r"(?:\s|</(?:body|html)\s*>)*\Z", re.I)
_END_TAG_DROPPED = ("li",)  # libxml2 writes these without an end tag when they are empty
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")


_TOO_LONG = "a selector of the stylesheet is too long for premailer (thousands of compound selectors)"
MAX_SELECTORS = 4000  # premailer matches each selector against the whole document: bound the work


class MarkupError(TemplateError):
    """The HTML cannot be read as the email's reader would read it."""


class NotStatic(Exception):
    """Compile-time inlining would not equal per-render inlining; the message says why."""


class CssError(TemplateError):
    """The stylesheet has a selector premailer cannot apply."""


# -- per render -------------------------------------------------------------------------------------
def inline_css(html: str) -> str:
    """Inline the ``<style>`` rules of a rendered email into style attributes."""
    stripped = into_body(html).strip()
    root = parse_html(stripped)
    check_selector_count(root)
    with _premailer_errors("the stylesheet"):
        premailer.Premailer(**PREMAILER_OPTIONS).transform(root)
    tree = root.getroottree()
    # as premailer does with a string: the doctype only when the document starts with it
    top = tree if tree.docinfo.doctype and stripped.startswith(tree.docinfo.doctype) else root
    return etree.tostring(top, method="html", pretty_print=True, encoding="unicode")


@contextlib.contextmanager
def _premailer_errors(what: str):
    """A selector premailer cannot apply, or one too long for it, as a CssError."""
    try:
        yield
    except (cssselect.SelectorError, cssselect.xpath.ExpressionError) as exc:
        raise CssError(f"premailer cannot apply {what}: {exc}") from None
    except RecursionError:  # cssselect and cssutils recurse once per compound of a selector
        raise CssError(_TOO_LONG) from None


def parse_html(html: str):
    """The document's root element as premailer parses it (libxml2); an empty body when the
    document has no element or text at all."""
    parser = etree.HTMLParser(huge_tree=True)  # else libxml2 drops what nests over 256 deep
    root = etree.fromstring(html, parser) if html.strip() else None
    if any(error.message.startswith("Excessive depth") for error in parser.error_log):
        raise MarkupError("the HTML nests elements too deep (libxml2 drops what is over 2048 levels deep)")
    return root if root is not None else etree.fromstring("<body>" + html, etree.HTMLParser())


def into_body(html: str) -> str:
    """The document with ``</body>`` and ``</html>`` dropped when anything follows them.

    A browser puts markup after ``</html>`` into the body; libxml2 drops it. Without the
    end tags libxml2 closes both at the end of the document, as a browser does.
    """
    first = _END_TAGS.search(html)
    if first is None or _ONLY_END_TAGS.match(html, first.start()):
        return html
    finder = _EndTags()
    finder.feed(html)
    finder.close()
    out, last = [], 0
    for start, end in finder.spans:
        out.append(html[last:start])
        last = end
    out.append(html[last:])
    return "".join(out)


class _EndTags(HTMLParser):
    """Where ``</body>`` and ``</html>`` end tags are (not in comments, scripts or attribute values)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.spans: list[tuple[int, int]] = []
        self._lines: list[int] = []

    def feed(self, data: str) -> None:
        self._lines = [0] + [i + 1 for i, c in enumerate(data) if c == "\n"]
        self._data = data
        super().feed(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("body", "html"):
            line, column = self.getpos()
            start = self._lines[line - 1] + column
            end = self._data.find(">", start) + 1 or len(self._data)
            self.spans.append((start, end))


# -- compile time -----------------------------------------------------------------------------------
@dataclass
class Structure:
    """What the data can change in the placeholder document (see :func:`check_structure`)."""

    root: object  # the lxml root of the placeholder document
    attributes: dict[str, Tag] = field(default_factory=dict)  # attribute name -> a tag writing it
    styled: dict[object, Tag] = field(default_factory=dict)  # element -> tag in its style attribute
    varied: dict[object, Tag] = field(default_factory=dict)  # element -> block making its siblings vary
    in_blocks: dict[object, Tag] = field(default_factory=dict)  # element -> block adding or repeating it
    optional: set = field(default_factory=set)  # children that a block of their parent adds or repeats


def check_structure(doc: Document, helpers: Iterable[str] = ()) -> Structure:
    """Raise NotStatic unless the data can change only text, attribute values and runs of
    sibling elements; say which attributes and siblings it can change."""
    helpers = set(helpers)
    for tag in doc.tags:
        _check_tag(tag, helpers)
    text_tags = _check_markup(doc)
    html = into_body(doc.html).strip()
    root = parse_html(html)
    commented = doc.pattern.sub(lambda m: f"<!--{m.group(0)}-->" if int(m.group(1)) in text_tags else m.group(0),
                                html)
    if _shape(root) != _shape(parse_html(commented)):
        culprit = doc.tags[min(text_tags)] if text_tags else "a tag"
        raise NotStatic(f"text from {culprit} or another tag changes how the HTML parses (text before <body>?)")
    structure = Structure(root)
    places = _places(doc, root)
    for index, tag in enumerate(doc.tags):
        element, slot = places[index]
        if tag.role == "open":
            _check_block(doc, index, places, structure)
        if isinstance(slot, str):  # an attribute
            structure.attributes.setdefault(slot[1:], tag)
            if slot == "@style":
                structure.styled.setdefault(element, tag)
    for element, tag in structure.styled.items():
        if element.tag == "img":  # premailer sets align from a float in the style of any image
            raise NotStatic(f"{tag} writes the style of an <img>")
    for element in root.iter(*_END_TAG_DROPPED):
        tokens = doc.tokens((element.text or "") + "".join(child.tail or "" for child in element))
        tags = [token for token in tokens if isinstance(token, int)]
        if (tags or len(element)) and all(child in structure.optional for child in element) \
                and not _outside_blocks(doc, tokens).strip():
            raise NotStatic(f"<{element.tag}> is empty when {doc.tags[tags[0]] if tags else 'a block'} renders "
                            "nothing, and premailer then writes it without its end tag")
    return structure


def _outside_blocks(doc: Document, tokens: list) -> str:
    """The literal text of ``tokens`` that no block can leave out."""
    depth, out = 0, []
    for token in tokens:
        if isinstance(token, str):
            out.append(token if depth == 0 else "")
        elif doc.tags[token].role in ("open", "close"):
            depth += 1 if doc.tags[token].role == "open" else -1
    return "".join(out)


def _check_tag(tag: Tag, helpers: set[str]) -> None:
    node = tag.node
    name = node.path.original if hasattr(node.path, "original") else None
    if tag.role == "value":
        if not node.escaped:
            raise NotStatic(f"{tag} can insert markup")
        if name in helpers or ((node.params or node.hash) and name not in TEXT_HELPERS):
            raise NotStatic(f"{tag} calls a helper, which can return markup")
    elif tag.role == "open" and (name in helpers or (name not in BUILTIN_BLOCKS and (
            node.params or node.hash or "blockHelperMissing" in helpers))):
        raise NotStatic(f"{tag} calls a block helper, which can change the markup")


def _check_markup(doc: Document) -> set[int]:
    """Raise NotStatic for a tag inside markup itself; return the tags that sit in text."""
    checker = _MarkupChecker(doc)
    checker.feed(doc.html)
    checker.close()
    return checker.text_tags


class _MarkupChecker(HTMLParser):
    def __init__(self, doc: Document) -> None:
        super().__init__(convert_charrefs=False)
        self.doc = doc
        self.text_tags: set[int] = set()

    def _tags(self, text: str) -> list[int]:
        return [int(m.group(1)) for m in self.doc.pattern.finditer(text)]

    def handle_starttag(self, tag, attrs):
        outside_values = _QUOTED.sub("", self.get_starttag_text() or "")
        for index in self._tags(outside_values):
            raise NotStatic(f"{self.doc.tags[index]} is part of the markup of <{tag}> (not in a quoted "
                            "attribute value)")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if self.doc.pattern.search(tag):
            raise NotStatic(f"{self.doc.tags[self._tags(tag)[0]]} is part of the markup of </...>")

    def handle_data(self, data):
        self.text_tags.update(self._tags(data))

    def unknown_decl(self, data):
        self.handle_decl(data)

    def handle_decl(self, decl):
        for index in self._tags(decl):
            raise NotStatic(f"{self.doc.tags[index]} is inside <!{decl[:20]}...>")

    handle_pi = handle_decl


def _shape(root) -> list[tuple]:
    """The element tree without text: tag and attributes of every element, with its depth."""
    return [(element.tag, dict(element.attrib), len(list(element.iterancestors())))
            for element in root.iter(etree.Element)]


def _places(doc: Document, root) -> list[tuple]:
    """Where each placeholder sits: (element, slot). The slot is ``i`` for the text before
    child ``i``, ``"@name"`` for attribute ``name``; comments are their own element."""
    places: list = [None] * len(doc.tags)

    def put(text: str | None, element, slot) -> None:
        for match in doc.pattern.finditer(text or ""):
            index = int(match.group(1))
            if places[index] is not None:
                raise NotStatic(f"the HTML parser copied {doc.tags[index]}")
            places[index] = (element, slot)

    for element in root.iter():
        if not isinstance(element.tag, str):  # comments, processing instructions
            put(element.text, element, None)
        else:
            put(element.text, element, 0)
            for name, value in element.attrib.items():
                put(value, element, "@" + name)
            for i, child in enumerate(element):
                put(child.tail, element, i + 1)
    for index, place in enumerate(places):
        if place is None:
            raise NotStatic(f"the HTML parser dropped {doc.tags[index]}")
    return places


def _check_block(doc: Document, index: int, places: list, structure: Structure) -> None:
    """A block must open, else and close in the same text of one element (then it varies
    the children in between) or in the same attribute value or comment."""
    (element, first), (middle_element, middle), (last_element, last) = (
        places[i] for i in (index, *_else_and_close(doc, index)))
    slots = (first, middle, last)
    if not (element is middle_element is last_element
            and (all(isinstance(slot, int) for slot in slots) or first == middle == last)):
        raise NotStatic(f"{doc.tags[index]} opens and closes in different places of the HTML (the block adds "
                        "or removes elements around others)")
    if isinstance(first, int) and last > first:
        structure.varied.setdefault(element, doc.tags[index])
        for child in element[first:last]:
            structure.optional.add(child)
            for inner in child.iter():
                structure.in_blocks.setdefault(inner, doc.tags[index])


def _else_and_close(doc: Document, index: int) -> list[int]:
    return [i for i in range(index + 1, len(doc.tags)) if doc.tags[i].block == index][:2]


def dynamic_rule(doc: Document, structure: Structure) -> str | None:
    """The first rule premailer inlines whose matches can change with the data, and why."""
    root = structure.root
    check_selector_count(root)
    inliner = premailer.Premailer(**PREMAILER_OPTIONS)
    for index, style in enumerate(_stylesheets(root)):
        owner = structure.in_blocks.get(style)
        found = doc.pattern.search((style.text or "") + " ".join(style.attrib.values()))
        if found or owner:
            raise NotStatic(f"the <style> block depends on {owner or doc.tags[int(found.group(1))]}")
        with _premailer_errors("the stylesheet"):
            reason = _first_dynamic(inliner, style, index, structure)
        if reason:
            return reason
    return None


def check_selector_count(root) -> None:
    """Refuse a stylesheet so large that inlining it would take minutes (a CssError, not a hang)."""
    count = sum(_stylesheet_selectors(style.text or "") for style in _stylesheets(root)) if root is not None else 0
    if count > MAX_SELECTORS:
        raise CssError(f"the stylesheet has {count} selectors; mailtpl inlines at most {MAX_SELECTORS} "
                       "(split it, or drop the rules the email does not use)")


@functools.lru_cache(maxsize=256)
def _stylesheet_selectors(css: str) -> int:
    """How many selectors a stylesheet has; cached, as every render of an email inlined per render
    brings the same stylesheet again."""
    return _selector_count(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))


def _selector_count(rules) -> int:
    count = 0
    for rule in rules:
        if rule.type == "qualified-rule":
            count += 1 + sum(1 for token in rule.prelude if token.type == "literal" and token.value == ",")
        elif rule.type == "at-rule" and rule.content is not None:
            count += _selector_count(tinycss2.parse_rule_list(rule.content, skip_comments=True,
                                                              skip_whitespace=True))
    return count


def _first_dynamic(inliner, style, index: int, structure: Structure) -> str | None:
    # premailer's own parse of the block: exactly the rules it will inline
    rules, _ = inliner._parse_style_rules(style.text, index)
    for selector in dict.fromkeys(selector for _, selector, _ in rules):
        reason = _rule_reason(selector, structure)
        if reason:
            return f"rule {selector!r} {reason}"
    return None


def _stylesheets(root) -> list:
    """The <style> elements premailer reads (media all or screen, not data-premailer="ignore")."""
    return [style for style in root.iter("style")
            if style.get("media") in (None, "", "all", "screen") and style.get("data-premailer") != "ignore"]


def _rule_reason(selector: str, structure: Structure) -> str | None:
    with _premailer_errors(f"the selector {selector!r}"):
        parsed = cssselect.parse(selector)
        matches = set(premailer.premailer._create_cssselector(selector)(structure.root))
    for element, tag in structure.styled.items():
        if element in matches:
            return f"is merged with the style attribute that {tag} writes"
    for compound, positional in _compounds(parsed):
        for name in compound.attributes:
            if name == "*" and structure.attributes:
                tag = next(iter(structure.attributes.values()))
                return f"reads attributes, and {tag} writes one"
            if name in structure.attributes:
                return f"reads the {name} attribute, which {structure.attributes[name]} writes"
        if positional and structure.varied:
            candidates = set(structure.root.xpath("descendant-or-self::" + str(_translator().xpath(compound.tree))))
            for parent, tag in structure.varied.items():
                if any(child in candidates for child in parent):
                    kind = f"<{compound.element}>" if compound.element else "elements"
                    return f"depends on the position of {kind} among siblings that {tag} adds, removes or repeats"
    return None


@dataclass
class _Compound:
    tree: object  # the compound selector without :first-child / :last-child
    element: str | None = None  # the type selector, None for any
    attributes: set[str] = field(default_factory=set)  # attributes read; "*" for unknown ones


@functools.cache
def _translator():
    return lxml_cssselect.LxmlHTMLTranslator()


def _compounds(selectors) -> Iterable[tuple[_Compound, bool]]:
    """Each compound selector with whether its match depends on the element's siblings."""
    for selector in selectors:
        yield from _walk_selector(selector.parsed_tree, False)


def _walk_selector(tree, after_sibling: bool) -> Iterable[tuple[_Compound, bool]]:
    if isinstance(tree, cssselect.parser.CombinedSelector):
        yield from _walk_selector(tree.selector, False)
        yield from _walk_selector(tree.subselector, tree.combinator in _SIBLING_COMBINATORS)
        return
    compound, positional = _Compound(_without_position(tree)), after_sibling
    while tree is not None:
        if isinstance(tree, cssselect.parser.Element):
            compound.element = tree.element.lower() if tree.element else None
        elif isinstance(tree, cssselect.parser.Class):
            compound.attributes.add("class")
        elif isinstance(tree, cssselect.parser.Hash):
            compound.attributes.add("id")
        elif isinstance(tree, cssselect.parser.Attrib):
            compound.attributes.add(tree.attrib.lower())
        elif isinstance(tree, cssselect.parser.Pseudo) and tree.ident in _POSITION_PSEUDOS:
            positional = True
        else:  # not inlined by premailer today; assume the worst
            compound.attributes.add("*")
            positional = True
        tree = getattr(tree, "selector", None)
    yield compound, positional


def _without_position(tree):
    """A copy of a compound selector without its :first-child / :last-child."""
    if isinstance(tree, cssselect.parser.Pseudo) and tree.ident in _POSITION_PSEUDOS:
        return _without_position(tree.selector)
    if not hasattr(tree, "selector"):
        return tree
    copy = _copy.copy(tree)
    copy.selector = _without_position(tree.selector)
    return copy


def compile_time(doc: Document, structure: Structure) -> tuple[str, str | None]:
    """The placeholder document inlined once, and why that cannot be used (None when it can)."""
    reason = dynamic_rule(doc, structure)
    inlined = inline_css(doc.html)
    if reason is None:
        found = [int(m.group(1)) for m in doc.pattern.finditer(inlined)]
        if found != list(range(len(doc.tags))):
            missing = sorted(set(range(len(doc.tags))) - set(found)) or [0]
            reason = f"the inliner moved or dropped {doc.tags[missing[0]]}"
    return inlined, reason
