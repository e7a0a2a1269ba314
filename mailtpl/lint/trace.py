"""Render an email with the template place of every element attached.

A second :class:`~mailtpl.environment.Environment` with every setting of the first
(:meth:`~mailtpl.environment.Environment.with_compiler`) parses
each HTML template (email, layouts, partials) as usual, then writes
``data-mtpl-src="N"`` into every start tag of its text, where N indexes the
(file, line, column) of that tag's ``<``. Rendering and inlining (at compile time
where the email allows it, as for the real render) run unchanged,
so each element of the result names the template text it came from, whichever
partial, layout or loop produced it. ``tests/test_lint.py`` proves that the
traced HTML without the markers is the HTML :meth:`Environment.render` gives.

Start tags are found in the template text with a regular expression; a
``<name`` inside an HTML comment, a ``<script>`` or an attribute value is marked
too (it changes only that text in the traced copy, which the checks do not read
as elements). Elements that the template does not write (a
``{{{html}}}`` value) carry no marker and are reported at the email's file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.etree
import lxml.html

from .. import nodes as n
from ..compiler import Compiler
from ..environment import Environment
from ..rendered import RenderedEmail

MARKER = "data-mtpl-src"
_START_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9:-]*)(?=[\s/>])")
_MARKERS = re.compile(r' data-mtpl-src="\d+"')


@dataclass(frozen=True)
class Origin:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class _TracingCompiler(Compiler):
    def __init__(self) -> None:
        self.origins: list[Origin] = []

    def parse(self, source: str, *, name: str | None = None, ignore_standalone: bool = False) -> n.Program:
        program = super().parse(source, name=name, ignore_standalone=ignore_standalone)
        if name and name.endswith(".hbs") and not name.endswith(".txt.hbs"):
            self._mark(program, name)
        return program

    def _mark(self, program: n.Program, file: str) -> None:
        for node in n.walk(program):
            if isinstance(node, n.Content):
                node.value = self._marked(node, file)

    def _marked(self, content: n.Content, file: str) -> str:
        value = content.value
        skipped = max(content.original.find(value), 0)  # whitespace control may have cut the start

        def mark(match: re.Match) -> str:
            before = content.original[:skipped + match.start()]
            line = content.line + before.count("\n")
            column = len(before) - before.rfind("\n") if "\n" in before else content.column + len(before)
            self.origins.append(Origin(file, line, column))
            return f'{match.group(0)} {MARKER}="{len(self.origins) - 1}"'

        return _START_TAG.sub(mark, value)


@dataclass
class Traced:
    """An email rendered twice: as sent (``rendered``) and with origins (``tree``, elements marked).

    A finished email (``file`` None: caught mail, another tool's output) has no origins: its ``tree`` is
    its own HTML."""

    rendered: RenderedEmail
    tree: lxml.html.HtmlElement
    origins: list[Origin]
    file: str | None  # the email's own template

    def origin(self, element) -> Origin | None:
        index = element.get(MARKER)  # data can carry a look-alike attribute: only known indexes count
        return self.origins[int(index)] if index and index.isdigit() and int(index) < len(self.origins) else None


def traced_environment(env: Environment) -> Environment:
    """An environment like ``env`` (every setting) whose HTML templates mark their elements."""
    return env.with_compiler(_TracingCompiler())


def trace(env: Environment, tracer: Environment, name: str, context=None, **render_options) -> Traced:
    """The email as :meth:`Environment.render` gives it with ``render_options``, and traced."""
    rendered = env.render(name, context, **render_options)
    marked = tracer.render(name, context, **render_options).html
    return Traced(rendered, parse(marked), tracer.compiler.origins, f"{name}.hbs")


def finished(email: RenderedEmail, *, read: bool = True) -> Traced:
    """A finished email as the rules read it: its own HTML (unless not ``read``: too large), no template places."""
    return Traced(email, parse(email.html if read else ""), [], None)


def parse(html: str) -> lxml.html.HtmlElement:
    """The ``<html>`` element of an email's HTML (the preview's highlight counts elements in the same tree).

    Any text parses: as UTF-8 bytes (lxml refuses text with an ``<?xml encoding?>`` declaration; a lone
    surrogate becomes ``?``), and a document without elements is an empty ``<html>``. libxml2 reads
    elements 256 levels deep at most: deeper ones are not in the tree."""
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "replace"),
                                             parser=lxml.html.HTMLParser(encoding="utf-8"))
    except lxml.etree.ParserError:  # "Document is empty": blank, or nothing but comments
        return lxml.html.document_fromstring("<html></html>")


def unmarked(html: str) -> str:
    """Traced HTML without its markers (what the differential test compares with the real render)."""
    return _MARKERS.sub("", html)
