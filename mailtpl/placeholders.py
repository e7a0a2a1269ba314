"""A flattened email as one HTML document, with a placeholder in place of every Handlebars tag.

Compile-time work on the HTML of an email (CSS inlining, deriving the plain text)
runs once on this document; the result, still holding the placeholders, is turned
back into a template by :meth:`Document.rebuild`, which puts the original tags
where their placeholders ended up. Every tag has its own placeholder: a
``{{value}}`` one, a block three (open, ``{{else}}``, close; the else one also
when the block has no ``{{else}}``, so a rebuilt block can get one).
"""
from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from . import nodes as n


class NotRebuilt(Exception):
    """The placeholders did not come back in an order a template can be made of."""


@dataclass(frozen=True)
class Tag:
    """One placeholder: the node it stands for and its role in it."""

    node: n.Mustache | n.Block
    role: str  # "value", "open", "else" or "close"
    block: int | None = None  # for block roles: the index of the block's "open" tag

    @property
    def where(self) -> str:
        return f"{self.node.file or '<template>'}:{self.node.line}"

    def __str__(self) -> str:
        return f"{describe(self.node)} at {self.where}"


def describe(node: n.Mustache | n.Block) -> str:
    """The tag as written, shortened: ``{{code}}``, ``{{{html}}}``, ``{{#each rows}}``."""
    words = " ".join([_expr(node.path), *(_expr(p) for p in node.params)])
    if isinstance(node, n.Block):
        return "{{#" + words + "}}"
    return ("{{" if node.escaped else "{{{") + words + ("}}" if node.escaped else "}}}")


def _expr(expr) -> str:
    if isinstance(expr, n.SubExpr):
        return "(" + " ".join([_expr(expr.path), *(_expr(p) for p in expr.params)]) + ")"
    return expr.original


class Document:
    """``html``: the email's text with ``{prefix}{i}y`` in place of tag ``tags[i]``."""

    def __init__(self, program: n.Program) -> None:
        """``program``: a flattened email (see :mod:`mailtpl.flatten`)."""
        self.prefix = "mtpl" + secrets.token_hex(4) + "x"
        self.pattern = re.compile(re.escape(self.prefix) + r"(\d+)y")
        self._program = program
        writer = _Writer(self.prefix)
        writer.visit(program)
        self.tags: list[Tag] = writer.tags
        self.html = "".join(writer.parts)
        if len(self.pattern.findall(self.html)) != len(self.tags):
            raise NotRebuilt("the template's text contains a placeholder")  # pragma: no cover - 32 random bits

    def helper_call(self) -> Tag | None:
        """The first tag that runs a helper other than the pure builtins (a subexpression,
        ``{{log ...}}``): a second template made of these tags would run it a second time."""
        return next((tag for tag in self.tags if tag.role in ("value", "open") and _calls_helper(tag.node)), None)

    def tokens(self, text: str) -> list[str | int]:
        """``text`` split into literal strings and tag indices."""
        pieces = self.pattern.split(text)
        return [int(p) if i % 2 else p for i, p in enumerate(pieces) if p or i % 2]

    def rebuild(self, tokens: Iterable[str | int], literal=lambda text: text) -> n.Program:
        """A template of literal text (passed through ``literal``) and the original tags.

        Tags may be left out (their output is not wanted), but a block only as a whole,
        and the tags of each block must come in their order, properly nested.
        """
        stack: list[tuple[int | None, list, list | None]] = [(None, [], None)]  # open index, body, inverse
        for token in tokens:
            body = stack[-1][2] if stack[-1][2] is not None else stack[-1][1]
            if isinstance(token, str):
                if token:
                    body.append(n.Content(line=0, column=0, value=literal(token), original=token))
                continue
            tag = self.tags[token]
            if tag.role == "value":
                body.append(tag.node)
            elif tag.role == "open":
                stack.append((token, [], None))
            elif stack[-1][0] != tag.block or (tag.role == "else") != (stack[-1][2] is None):
                raise NotRebuilt(f"{tag} does not close where it opened")
            elif tag.role == "else":
                stack[-1] = (tag.block, stack[-1][1], [])
            else:
                _, program, inverse = stack.pop()
                if inverse is None:
                    raise NotRebuilt(f"{tag} lost its else")
                parent = stack[-1][2] if stack[-1][2] is not None else stack[-1][1]
                parent.append(_with_bodies(tag.node, program, inverse))
        if len(stack) != 1:
            raise NotRebuilt(f"{self.tags[stack[-1][0]]} is not closed")
        root = self._program
        return n.Program(line=root.line, column=root.column, file=root.file, body=stack[0][1],
                         uses_depths=root.uses_depths)


class _Writer(n.NodeVisitor):
    """The text of a flattened email in ``parts``, with ``{prefix}{i}y`` in place of tag ``tags[i]``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.parts: list[str] = []
        self.tags: list[Tag] = []

    def tag(self, node: n.Mustache | n.Block, role: str, block: int | None = None) -> int:
        index = len(self.tags)
        self.tags.append(Tag(node, role, index if role == "open" else block))
        self.parts.append(f"{self.prefix}{index}y")
        return index

    def visit_Content(self, node: n.Content) -> None:
        self.parts.append(node.value)

    def visit_Comment(self, node: n.Comment) -> None:
        pass

    def visit_Mustache(self, node: n.Mustache) -> None:
        self.tag(node, "value")

    def visit_Block(self, node: n.Block) -> None:
        opened = self.tag(node, "open")
        if node.program:
            self.visit(node.program)
        self.tag(node, "else", opened)
        if node.inverse:
            self.visit(node.inverse)
        self.tag(node, "close", opened)

    def visit_Partial(self, node: n.Partial | n.PartialBlock) -> None:  # pragma: no cover - flatten leaves none
        raise NotRebuilt(f"{type(node).__name__} left after flattening")

    visit_PartialBlock = visit_Partial


_PURE = frozenset({"if", "unless", "each", "with", "lookup"})


def _calls_helper(node: n.Mustache | n.Block) -> bool:
    exprs = [*node.params, *(value for _, value in (node.hash.pairs if node.hash else ()))]
    if exprs and getattr(node.path, "original", None) not in _PURE:
        return True
    return any(isinstance(expr, n.SubExpr) for expr in exprs) or isinstance(node.path, n.SubExpr)


def _with_bodies(block: n.Block, program: list, inverse: list) -> n.Block:
    return dataclasses.replace(block, program=_with_body(block, block.program, program),
                               inverse=_with_body(block, block.inverse, inverse))


def _with_body(block: n.Block, old: n.Program | None, body: list) -> n.Program | None:
    if old is not None:
        return dataclasses.replace(old, body=body)
    return n.Program(line=block.line, column=block.column, file=block.file, body=body) if body else None
