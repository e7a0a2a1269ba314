"""Static partial expansion: one AST for an email with its layout and partials written in.

``{{> footer}}`` and ``{{#> layout}}...{{/layout}}`` with a fixed name and no
arguments are replaced by the partial's own AST (indentation of standalone
partials applied to its text), so the whole email can be seen, and CSS-inlined,
as one HTML document at compile time. Anything whose output could differ once
written in place (arguments, dynamic names, inline partials, ``../`` inside a
partial) raises :class:`NotFlat` with the reason. The nodes written in keep
their ``file``, so reasons and errors about the flattened email name the
partial they come from.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from . import nodes as n
from .parser import MAX_NESTING


class NotFlat(Exception):
    """The template cannot be expanded statically; the message says why."""


PartialSource = Callable[[str], "n.Program | None"]  # partial name -> its AST


def flatten(program: n.Program, partial_source: PartialSource) -> n.Program:
    """A copy of ``program`` with every static partial written in (the input is not modified)."""
    return _Flattener(partial_source).program(program, [], 0)


class _Flattener(n.NodeVisitor):
    """Visiting a statement gives the statements written in its place. ``blocks``: the bodies of the partial
    blocks being expanded, innermost last."""

    def __init__(self, partial_source: PartialSource) -> None:
        self.partial_source = partial_source
        self.nesting = 0  # blocks around the statement visited, across the partials written in

    def program(self, program: n.Program, blocks: list[n.Program], depth: int) -> n.Program:
        if depth > 20:
            raise NotFlat("partials nested more than 20 deep (recursive partial?)")
        body = [out for stmt in program.body for out in self.visit(stmt, blocks, depth)]
        return dataclasses.replace(program, body=body)

    def visit_Content(self, stmt: n.Content, blocks: list[n.Program], depth: int) -> list:
        return [dataclasses.replace(stmt)]

    def visit_Mustache(self, stmt: n.Mustache | n.Comment, blocks: list[n.Program], depth: int) -> list:
        return [stmt]

    visit_Comment = visit_Mustache

    def visit_Block(self, stmt: n.Block, blocks: list[n.Program], depth: int) -> list:
        if stmt.decorator:
            raise NotFlat(f"inline partial at {_where(stmt)}")
        self.nesting += 1
        if self.nesting > MAX_NESTING:  # each file is within the limit; written into each other, they may not be
            raise NotFlat(f"blocks nest more than {MAX_NESTING} deep once the partials are written in "
                          f"(at {_where(stmt)})")
        block = dataclasses.replace(stmt, program=stmt.program and self.program(stmt.program, blocks, depth),
                                    inverse=stmt.inverse and self.program(stmt.inverse, blocks, depth))
        self.nesting -= 1
        return [block]

    def visit_Partial(self, stmt: n.Partial | n.PartialBlock, blocks: list[n.Program], depth: int) -> list:
        if isinstance(stmt.name, n.SubExpr):
            raise NotFlat(f"dynamic partial name at {_where(stmt)}")
        name = stmt.name.original
        if stmt.params or stmt.hash:
            raise NotFlat(f"partial {name!r} at {_where(stmt)} takes arguments")
        if name == "@partial-block":
            if not blocks:
                raise NotFlat(f"{{{{> @partial-block}}}} outside a partial block at {_where(stmt)}")
            expanded = self.program(blocks[-1], blocks[:-1], depth + 1)
        else:
            found = self.partial_source(name)
            if isinstance(stmt, n.PartialBlock):
                if found is None:  # failover content
                    return self.program(stmt.program, blocks, depth + 1).body
                expanded = self.program(_checked(found, name), blocks + [stmt.program], depth + 1)
            elif found is None:
                raise NotFlat(f"partial {name!r} at {_where(stmt)} is not in the folder")
            else:
                expanded = self.program(_checked(found, name), blocks, depth + 1)
        indent = stmt.indent if isinstance(stmt, n.Partial) else ""
        return _indented(expanded.body, indent) if indent else expanded.body

    visit_PartialBlock = visit_Partial


def _where(node: n.Node) -> str:
    return f"{node.file}:{node.line}"


def _checked(program: n.Program, name: str) -> n.Program:
    if program.uses_depths:
        raise NotFlat(f"partial {name!r} uses ../ (its meaning would change when written in place)")
    return program


def _indented(body: list, indent: str) -> list:
    """Indent every line of a partial's output, as the runtime does for a standalone partial.

    Text is indented at the start and after each newline, except a newline that ends the
    partial's output. Values rendered into the partial are assumed to hold no newline.
    """
    if any(not isinstance(stmt, (n.Content, n.Comment, n.Mustache)) and _has_newline(stmt) for stmt in body):
        raise NotFlat("an indented partial contains blocks with line breaks")
    out = []
    at_line_start = True
    for stmt in body:
        if isinstance(stmt, n.Content) and stmt.value:
            lines = stmt.value.split("\n")
            text = ""
            for j, line in enumerate(lines):
                if j:
                    text += "\n"
                if j == len(lines) - 1 and line == "" and j:
                    break  # the next line starts in the next statement, which indents it
                if j or at_line_start:
                    text += indent
                text += line
            out.append(dataclasses.replace(stmt, value=text))
            at_line_start = stmt.value.endswith("\n")
        elif isinstance(stmt, n.Comment):
            out.append(stmt)
        else:  # a mustache, or a block without line breaks
            if at_line_start:
                out.append(n.Content(line=stmt.line, column=stmt.column, file=stmt.file, value=indent,
                                     original=indent))
            out.append(stmt)
            at_line_start = False
    return out


def _has_newline(stmt: n.Statement) -> bool:
    """Whether a statement may render a line break: it holds text with one, or a partial (not written in)."""
    return any(isinstance(node, n.Partial) or isinstance(node, n.Content) and "\n" in node.value
               for node in n.walk(stmt))
