"""AST of a Handlebars template.

Every node records where it starts: ``file`` (the template's name, as the
loader gave it, None for a string), 1-based ``line`` and ``column``. Nodes are
built by keyword. Walks go through :meth:`Node.children` (direct children in
source order), :func:`walk` (every node) or a :class:`NodeVisitor` (by node type),
so no walk guesses which attributes hold nodes.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Union


@dataclass(slots=True)
class Strip:
    """Whitespace-control flags from ``~``: ``open`` strips before the tag, ``close`` after it."""

    open: bool = False
    close: bool = False


@dataclass(slots=True, kw_only=True)
class Node:
    line: int
    column: int
    file: str | None = None  # the template (or partial) the node was parsed from

    def children(self) -> Iterator[Node]:
        """The nodes directly inside this one, in source order."""
        return iter(())


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node inside it, depth first in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(tuple(current.children())))


class NodeVisitor:
    """Walks an AST by node type, as Jinja2's NodeVisitor: :meth:`visit` calls ``visit_<Class>(node, ...)``
    (``visit_Block``, ``visit_Content``, ...), else :meth:`generic_visit`; extra arguments are passed on."""

    def visit(self, node: Node, *args, **kwargs):
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            return self.generic_visit(node, *args, **kwargs)
        return method(node, *args, **kwargs)

    def generic_visit(self, node: Node, *args, **kwargs) -> None:
        """Visit the nodes inside ``node``, in source order."""
        for child in node.children():
            self.visit(child, *args, **kwargs)


def _call_children(path: Expr, params: list[Expr], hash_: Hash | None) -> Iterator[Node]:
    yield path
    yield from params
    if hash_ is not None:
        yield hash_


@dataclass(slots=True, kw_only=True)
class PathExpr(Node):
    data: bool  # starts with @
    depth: int  # number of ../
    parts: list[str]
    original: str
    scoped: bool  # starts with this or . (never a helper)


@dataclass(slots=True, kw_only=True)
class Literal(Node):
    value: object  # str, int, float, bool or None
    original: str


@dataclass(slots=True, kw_only=True)
class Hash(Node):
    pairs: list[tuple[str, Expr]]

    def children(self) -> Iterator[Node]:
        return (value for _, value in self.pairs)


@dataclass(slots=True, kw_only=True)
class SubExpr(Node):
    path: Expr
    params: list[Expr]
    hash: Hash | None

    def children(self) -> Iterator[Node]:
        return _call_children(self.path, self.params, self.hash)


Expr = Union[PathExpr, Literal, SubExpr]


@dataclass(slots=True, kw_only=True)
class Program(Node):
    body: list[Statement]
    block_params: list[str] = field(default_factory=list)
    chained: bool = False  # the inverse of an {{else if}} chain
    uses_depths: bool = False  # set on the root: some path climbs with ../
    uses_data: bool = False  # set on the root: some path reads @data

    def children(self) -> Iterator[Node]:
        return iter(self.body)


@dataclass(slots=True, kw_only=True)
class Content(Node):
    value: str
    original: str
    left_stripped: bool = False
    right_stripped: bool = False


@dataclass(slots=True, kw_only=True)
class Comment(Node):
    value: str
    strip: Strip


@dataclass(slots=True, kw_only=True)
class Mustache(Node):
    path: Expr
    params: list[Expr]
    hash: Hash | None
    escaped: bool
    strip: Strip
    indented: bool = False  # see Block.indented

    def children(self) -> Iterator[Node]:
        return _call_children(self.path, self.params, self.hash)


@dataclass(slots=True, kw_only=True)
class Block(Node):
    path: Expr
    params: list[Expr]
    hash: Hash | None
    program: Program | None
    inverse: Program | None
    open_strip: Strip = field(default_factory=Strip)
    inverse_strip: Strip = field(default_factory=Strip)
    close_strip: Strip = field(default_factory=Strip)
    decorator: bool = False  # {{#*inline "name"}}
    raw: bool = False  # {{{{raw}}}}...{{{{/raw}}}}: the body is text, and pybars3 hands it to the helper as a str
    # written into an indented partial by mailtpl.flatten, which indents text only: a line break in its output
    # stops the render (runtime.one_line), as the runtime would indent the line it starts
    indented: bool = False

    def children(self) -> Iterator[Node]:
        yield from _call_children(self.path, self.params, self.hash)
        if self.program is not None:
            yield self.program
        if self.inverse is not None:
            yield self.inverse


@dataclass(slots=True, kw_only=True)
class Partial(Node):
    name: Expr
    params: list[Expr]
    hash: Hash | None
    strip: Strip
    indent: str = ""  # a standalone partial's indentation, given to every line it renders

    def children(self) -> Iterator[Node]:
        return _call_children(self.name, self.params, self.hash)


@dataclass(slots=True, kw_only=True)
class PartialBlock(Node):
    name: Expr
    params: list[Expr]
    hash: Hash | None
    program: Program
    open_strip: Strip
    close_strip: Strip

    def children(self) -> Iterator[Node]:
        yield from _call_children(self.name, self.params, self.hash)
        yield self.program


Statement = Union[Content, Comment, Mustache, Block, Partial, PartialBlock]
