"""AST of a Handlebars template. Every node records the 1-based line and column it starts at."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(slots=True)
class Strip:
    """Whitespace-control flags from ``~``: ``open`` strips before the tag, ``close`` after it."""

    open: bool = False
    close: bool = False


@dataclass(slots=True)
class Node:
    line: int
    column: int


@dataclass(slots=True)
class PathExpr(Node):
    data: bool  # starts with @
    depth: int  # number of ../
    parts: list[str]
    original: str
    scoped: bool  # starts with this or . (never a helper)


@dataclass(slots=True)
class Literal(Node):
    value: object  # str, int, float, bool or None
    original: str


@dataclass(slots=True)
class Hash(Node):
    pairs: list[tuple[str, Expr]]


@dataclass(slots=True)
class SubExpr(Node):
    path: Expr
    params: list[Expr]
    hash: Hash | None


Expr = Union[PathExpr, Literal, SubExpr]


@dataclass(slots=True)
class Program(Node):
    body: list[Statement]
    block_params: list[str] = field(default_factory=list)
    chained: bool = False  # the inverse of an {{else if}} chain
    uses_depths: bool = False  # set on the root: some path climbs with ../
    uses_data: bool = False  # set on the root: some path reads @data


@dataclass(slots=True)
class Content(Node):
    value: str
    original: str
    left_stripped: bool = False
    right_stripped: bool = False


@dataclass(slots=True)
class Comment(Node):
    value: str
    strip: Strip


@dataclass(slots=True)
class Mustache(Node):
    path: Expr
    params: list[Expr]
    hash: Hash | None
    escaped: bool
    strip: Strip


@dataclass(slots=True)
class Block(Node):
    path: Expr
    params: list[Expr]
    hash: Hash | None
    program: Program | None
    inverse: Program | None
    open_strip: Strip
    inverse_strip: Strip
    close_strip: Strip
    decorator: bool = False  # {{#*inline "name"}}
    raw: bool = False  # {{{{raw}}}}...{{{{/raw}}}}: the body is text, and pybars3 hands it to the helper as a str


@dataclass(slots=True)
class Partial(Node):
    name: Expr
    params: list[Expr]
    hash: Hash | None
    strip: Strip
    indent: str = ""


@dataclass(slots=True)
class PartialBlock(Node):
    name: Expr
    params: list[Expr]
    hash: Hash | None
    program: Program
    open_strip: Strip
    close_strip: Strip
    inverse: Program | None = None  # never set: partial blocks have no {{else}}
    inverse_strip: Strip = field(default_factory=Strip)


Statement = Union[Content, Comment, Mustache, Block, Partial, PartialBlock]
