"""CSS inlining with premailer: once per template at compile time where that gives the same
HTML as inlining every rendered email, else once per render.

Compile-time inlining works on the flattened AST (see :mod:`mailtpl.flatten`):
its text is joined with a placeholder in place of each Handlebars tag, premailer
inlines that document once, and the inlined text is written back into the AST.
That equals inlining each rendered email only when no CSS selector can depend on
the data, so the document is refused (and inlining happens per render) when:

- a tag sits inside markup other than an attribute value, or in a ``class``,
  ``id`` or ``style`` attribute, in ``<style>``/``<script>`` or in a comment;
- a block's opening, ``{{else}}`` and closing tags are not at the same place
  in the element tree (the block would add or remove ancestors);
- the stylesheet has sibling (``+``, ``~``) or attribute (``[...]``) selectors;
- premailer does not give every placeholder back, once and in order.
"""
from __future__ import annotations

import logging
import re
import secrets
from html.parser import HTMLParser

import premailer

from . import nodes as n

PREMAILER_OPTIONS = {
    "allow_network": False,  # never fetch stylesheets while rendering mail
    "disable_validation": True,
    "cssutils_logging_level": logging.CRITICAL,
    "strip_important": False,  # @media rules need their !important to beat inline styles
    "remove_classes": False,
    "keep_style_tags": False,  # class rules are inlined; @media and :hover rules stay in <style>
    "disable_link_rewrites": True,
}

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
         "track", "wbr"}
_RISKY_SELECTOR = re.compile(r"[+~\[]")


class NotStatic(Exception):
    """Compile-time inlining would not equal per-render inlining; the message says why."""


def inline_css(html: str) -> str:
    """Inline the ``<style>`` rules of a rendered email into style attributes."""
    if not html.strip():  # nothing to inline into (premailer raises AttributeError on an empty document)
        return html
    return premailer.Premailer(html, **PREMAILER_OPTIONS).transform()


def inline_program(program: n.Program) -> n.Program:
    """Inline CSS into the text of a flattened AST, in place. Raises NotStatic when that is not safe."""
    doc = _Document(program)
    _check_css(doc.html)
    checker = _ContextChecker(doc.pattern)
    checker.feed(doc.html)
    checker.close()
    if checker.problem:
        raise NotStatic(checker.problem)
    for tags in doc.blocks:
        places = {checker.contexts.get(tag) for tag in tags}
        if len(places) != 1 or None in places:
            raise NotStatic("a block adds or removes elements around others (its tags are not balanced in the HTML)")
    doc.write_back(inline_css(doc.html))
    return program


class _Document:
    """The text of an AST with a placeholder for every tag, and the way back."""

    def __init__(self, program: n.Program) -> None:
        self.prefix = "mtpl" + secrets.token_hex(4) + "x"
        self.pattern = re.compile(re.escape(self.prefix) + r"(\d+)y")
        self.parts: list[str] = []
        self.slots: list[list[n.Content]] = [[]]  # Content nodes between placeholder i-1 and i
        self.count = 0
        self.blocks: list[list[int]] = []  # placeholders of each block's open, else and close tags
        self._walk(program)
        self.html = "".join(self.parts)
        if self.prefix in "".join(c.value for slot in self.slots for c in slot):
            raise NotStatic("placeholder collision")  # pragma: no cover - 32 random bits

    def _tag(self) -> int:
        index = self.count
        self.parts.append(f"{self.prefix}{index}y")
        self.count += 1
        self.slots.append([])
        return index

    def _walk(self, program: n.Program) -> None:
        for stmt in program.body:
            if isinstance(stmt, n.Content):
                self.parts.append(stmt.value)
                self.slots[-1].append(stmt)
            elif isinstance(stmt, n.Mustache):
                self._tag()
            elif isinstance(stmt, n.Block):
                tags = [self._tag()]
                if stmt.program:
                    self._walk(stmt.program)
                if stmt.inverse:
                    tags.append(self._tag())
                    self._walk(stmt.inverse)
                tags.append(self._tag())
                self.blocks.append(tags)
            elif not isinstance(stmt, n.Comment):
                raise NotStatic(f"{type(stmt).__name__} left after flattening")

    def write_back(self, html: str) -> None:
        found = [int(m.group(1)) for m in self.pattern.finditer(html)]
        if found != list(range(self.count)):
            raise NotStatic("the inliner moved or dropped template tags")
        segments = self.pattern.split(html)[::2]
        for slot, text in zip(self.slots, segments):
            if not slot:
                if text:
                    raise NotStatic("the inliner added text between two template tags")
                continue
            slot[0].value = text
            for extra in slot[1:]:
                extra.value = ""


def _check_css(html: str) -> None:
    for css in re.findall(r"<style[^>]*>(.*?)</style>", html, re.S | re.I):
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        for selectors in re.findall(r"([^{}@]+)\{[^{}]*\}", _without_at_rules(css)):
            if _RISKY_SELECTOR.search(selectors):
                raise NotStatic(f"selector {selectors.strip()!r} may match differently once data is filled in")


def _without_at_rules(css: str) -> str:
    """Drop @media/@supports/... blocks: premailer leaves them in <style>, they are never inlined."""
    out, i = [], 0
    while True:
        at = css.find("@", i)
        if at == -1:
            out.append(css[i:])
            return "".join(out)
        out.append(css[i:at])
        brace = css.find("{", at)
        semi = css.find(";", at)
        if brace == -1 or (semi != -1 and semi < brace):
            i = (semi + 1) if semi != -1 else len(css)
            continue
        depth, j = 0, brace
        while j < len(css):
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
            if depth == 0:
                break
        i = j


class _ContextChecker(HTMLParser):
    """Where in the element tree each placeholder sits, and whether any is somewhere unsafe."""

    def __init__(self, pattern: re.Pattern) -> None:
        super().__init__(convert_charrefs=True)
        self.pattern = pattern
        self.stack: list[str] = []
        self.contexts: dict[int, tuple] = {}
        self.problem: str | None = None
        self.tags_seen = 0

    def _flag(self, message: str) -> None:
        if self.problem is None:
            line, _ = self.getpos()
            self.problem = f"{message} (line {line} of the flattened email)"

    def handle_starttag(self, tag, attrs):
        self._attributes(tag, attrs)
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._attributes(tag, attrs)

    def _attributes(self, tag, attrs):
        self.tags_seen += 1
        if self.pattern.search(tag):
            self._flag("a template tag makes an element name")
        for name, value in attrs:
            if self.pattern.search(name):
                self._flag(f"a template tag inside <{tag}> outside any attribute value")
            if value and self.pattern.search(value):
                if name in ("class", "id", "style"):
                    self._flag(f"a template tag in the {name} attribute of <{tag}>")
                for m in self.pattern.finditer(value):
                    self.contexts[int(m.group(1))] = ("attribute", self.tags_seen, name)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        for m in self.pattern.finditer(data):
            if self.stack and self.stack[-1] in ("style", "script"):
                self._flag(f"a template tag inside <{self.stack[-1]}>")
            self.contexts[int(m.group(1))] = ("text", tuple(self.stack))

    def handle_comment(self, data):
        if self.pattern.search(data):
            self._flag("a template tag inside an HTML comment")
