"""Static partial expansion: one AST for an email with its layout and partials written in.

``{{> footer}}`` and ``{{#> layout}}...{{/layout}}`` with a fixed name and no
arguments are replaced by the partial's own AST (indentation of standalone
partials applied to its text), so the whole email can be seen, and CSS-inlined,
as one HTML document at compile time. Anything whose output could differ once
written in place (arguments, dynamic names, inline partials, ``../`` inside a
partial) raises :class:`NotFlat` with the reason. :class:`Flat` also says which file each tag
came from, so that reasons and errors about the flattened email can name it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from . import nodes as n


class NotFlat(Exception):
    """The template cannot be expanded statically; the message says why."""


PartialSource = Callable[[str], "tuple[n.Program, str] | None"]  # partial name -> (AST, file name)


@dataclass
class Flat:
    """A flattened email: its AST, and the file every Mustache and Block node of it comes from."""

    program: n.Program
    files: dict[int, str]  # id(node) -> file name

    def file_of(self, node: n.Node) -> str | None:
        return self.files.get(id(node))


def flatten(program: n.Program, partial_source: PartialSource, name: str | None = None) -> Flat:
    """A copy of ``program`` (from file ``name``) with every static partial written in (the input
    is not modified)."""
    flat = Flat(program, {})
    flat.program = _Flattener(partial_source, flat.files).program(program, name, [], 0)
    return flat


class _Flattener:
    def __init__(self, partial_source: PartialSource, files: dict[int, str]) -> None:
        self.partial_source = partial_source
        self.files = files

    def program(self, program: n.Program, file: str | None, blocks: list, depth: int) -> n.Program:
        """``blocks``: the partial blocks being expanded, as (body, file), innermost last."""
        if depth > 20:
            raise NotFlat("partials nested more than 20 deep (recursive partial?)")
        body: list = []
        for stmt in program.body:
            if isinstance(stmt, n.Content):
                body.append(dataclasses.replace(stmt))
            elif isinstance(stmt, n.Comment):
                body.append(stmt)
            elif isinstance(stmt, n.Mustache):
                body.append(self._from(stmt, file))
            elif isinstance(stmt, n.Block):
                if stmt.decorator:
                    raise NotFlat(f"inline partial at {file}:{stmt.line}")
                body.append(self._from(dataclasses.replace(
                    stmt,
                    program=stmt.program and self.program(stmt.program, file, blocks, depth),
                    inverse=stmt.inverse and self.program(stmt.inverse, file, blocks, depth)), file))
            elif isinstance(stmt, (n.Partial, n.PartialBlock)):
                body.extend(self.partial(stmt, file, blocks, depth))
            else:  # pragma: no cover
                raise NotFlat(f"unexpected {type(stmt).__name__}")
        return dataclasses.replace(program, body=body)

    def _from(self, node, file: str | None):
        if file is not None:
            self.files[id(node)] = file
        return node

    def partial(self, stmt, file: str | None, blocks: list, depth: int) -> list:
        name = _static_name(stmt, file)
        if stmt.params or stmt.hash:
            raise NotFlat(f"partial {name!r} at {file}:{stmt.line} takes arguments")
        if name == "@partial-block":
            if not blocks:
                raise NotFlat(f"{{{{> @partial-block}}}} outside a partial block at {file}:{stmt.line}")
            body, body_file = blocks[-1]
            expanded = self.program(body, body_file, blocks[:-1], depth + 1)
        else:
            found = self.partial_source(name)
            if isinstance(stmt, n.PartialBlock):
                if found is None:  # failover content
                    return self.program(stmt.program, file, blocks, depth + 1).body
                source, source_file = found
                expanded = self.program(_checked(source, name), source_file, blocks + [(stmt.program, file)],
                                        depth + 1)
            elif found is None:
                raise NotFlat(f"partial {name!r} at {file}:{stmt.line} is not in the folder")
            else:
                source, source_file = found
                expanded = self.program(_checked(source, name), source_file, blocks, depth + 1)
        indent = getattr(stmt, "indent", "")
        return _indented(expanded.body, indent) if indent else expanded.body


def _static_name(stmt, file: str | None) -> str:
    name = stmt.name
    if isinstance(name, n.SubExpr):
        raise NotFlat(f"dynamic partial name at {file}:{stmt.line}")
    return name.original


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
                out.append(n.Content(stmt.line, stmt.column, indent, indent))
            out.append(stmt)
            at_line_start = False
    return out


def _has_newline(stmt) -> bool:
    if isinstance(stmt, n.Content):
        return "\n" in stmt.value
    programs = [p for p in (getattr(stmt, "program", None), getattr(stmt, "inverse", None)) if p]
    return any(_has_newline(s) for p in programs for s in p.body) if programs else True
