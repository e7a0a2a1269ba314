"""Static partial expansion: one AST for an email with its layout and partials written in.

``{{> footer}}`` and ``{{#> layout}}...{{/layout}}`` with a fixed name and no
arguments are replaced by the partial's own AST (indentation of standalone
partials applied to its text; its tags marked ``indented``, as a line break in
their output would need indenting per render: see :func:`_indented`), so the
whole email can be seen, and CSS-inlined,
as one HTML document at compile time. The flattened AST, compiled with the
compile options, renders what the email renders with them (its partials compiled
with them too). Anything whose output could differ once written in place raises
:class:`NotFlat` with the reason: arguments, dynamic names, inline partials,
``../`` or ``@../`` that would climb other blocks, names that blocks around the
place would take as their block parameters, and what the options make differ
(``explicit_partial_context``: partials render with no context; ``data=False``:
without @data; ``no_escape``: values may insert markup, which compile-time work
on the HTML cannot see). ``prevent_indent`` writes the indentation of a
standalone partial as text before it, as the code generator does. The nodes
written in keep their ``file``, so reasons and errors about the flattened email
name the partial they come from.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from . import nodes as n
from .options import CompileOptions
from .parser import MAX_NESTING


class NotFlat(Exception):
    """The template cannot be expanded statically; the message says why."""


PartialSource = Callable[[str], "n.Program | None"]  # partial name -> its AST


def flatten(program: n.Program, partial_source: PartialSource,
            options: CompileOptions = CompileOptions()) -> n.Program:
    """A copy of ``program`` with every static partial written in (the input is not modified); ``options``:
    what the email and its partials are compiled with (the partials' ASTs parsed with ``ignore_standalone``)."""
    return _Flattener(partial_source, options).program(program, [], 0)


@dataclasses.dataclass(frozen=True)
class _Pending:
    """The body of a partial block being expanded, and where its tag stands in the output."""

    program: n.Program
    nesting: int  # blocks around the tag
    params: int  # programs with block parameters around the tag


class _Flattener(n.NodeVisitor):
    """Visiting a statement gives the statements written in its place. ``blocks``: the bodies of the partial
    blocks being expanded, innermost last."""

    def __init__(self, partial_source: PartialSource, options: CompileOptions) -> None:
        self.partial_source = partial_source
        self.options = options
        self.nesting = 0  # blocks around the statement visited, across the partials written in
        self.params: list[list[str]] = []  # block parameters of the programs around it, outermost first

    def program(self, program: n.Program, blocks: list[_Pending], depth: int) -> n.Program:
        if depth > 20:
            raise NotFlat("partials nested more than 20 deep (recursive partial?)")
        self.params.append(program.block_params)
        body = [out for stmt in program.body for out in self.visit(stmt, blocks, depth)]
        self.params.pop()
        return dataclasses.replace(program, body=body)

    def visit_Content(self, stmt: n.Content, blocks: list[_Pending], depth: int) -> list:
        return [dataclasses.replace(stmt)]

    def visit_Mustache(self, stmt: n.Mustache, blocks: list[_Pending], depth: int) -> list:
        if self.options.no_escape and stmt.escaped:
            raise NotFlat(f"no_escape=True: the value at {_where(stmt)} is not escaped, so it may insert markup")
        return [stmt]

    def visit_Comment(self, stmt: n.Comment, blocks: list[_Pending], depth: int) -> list:
        return [stmt]

    def visit_Block(self, stmt: n.Block, blocks: list[_Pending], depth: int) -> list:
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

    def visit_Partial(self, stmt: n.Partial | n.PartialBlock, blocks: list[_Pending], depth: int) -> list:
        if isinstance(stmt.name, n.SubExpr):
            raise NotFlat(f"dynamic partial name at {_where(stmt)}")
        name = stmt.name.original
        if stmt.params or stmt.hash:
            raise NotFlat(f"partial {name!r} at {_where(stmt)} takes arguments")
        if name == "@partial-block":
            if not blocks:
                raise NotFlat(f"{{{{> @partial-block}}}} outside a partial block at {_where(stmt)}")
            pending = blocks[-1]
            what = f"the partial block's body written in at {_where(stmt)}"
            # its ../ climbs from its tag: not the same once blocks of the layout are around it
            self.check(pending.program, what, self.params[pending.params:], depths=self.nesting > pending.nesting)
            expanded = self.program(pending.program, blocks[:-1], depth + 1)
        else:
            found = self.partial_source(name)
            if isinstance(stmt, n.PartialBlock):
                if found is None:  # failover content
                    self.check(stmt.program, f"the failover content of {name!r} at {_where(stmt)}", [], depths=False)
                    return self.program(stmt.program, blocks, depth + 1).body
                pending = _Pending(stmt.program, self.nesting, len(self.params))
                self.check(found, f"partial {name!r}", self.params, depths=True)
                expanded = self.program(found, blocks + [pending], depth + 1)
            elif found is None:
                raise NotFlat(f"partial {name!r} at {_where(stmt)} is not in the folder")
            else:
                self.check(found, f"partial {name!r}", self.params, depths=True)
                expanded = self.program(found, blocks, depth + 1)
        indent = stmt.indent if isinstance(stmt, n.Partial) else ""
        if indent and self.options.prevent_indent:  # the indentation stays as text, the lines as they are
            return [n.Content(line=stmt.line, column=stmt.column, file=stmt.file, value=indent, original=indent),
                    *expanded.body]
        if indent:
            return _indented(expanded.body, indent, f"partial {name!r} at {_where(stmt)}")
        return expanded.body

    visit_PartialBlock = visit_Partial

    def check(self, program: n.Program, what: str, captured: list[list[str]], depths: bool) -> None:
        """NotFlat unless ``program`` (a partial, or the body of a partial block) renders the same written in
        place as the runtime renders it as a partial. ``captured``: block parameters around the place that
        its names must not meet; ``depths``: whether ``../`` would climb other blocks there."""
        nodes = list(n.walk(program))
        names = {id(node.name) for node in nodes if isinstance(node, (n.Partial, n.PartialBlock))}
        paths = [node for node in nodes if isinstance(node, n.PathExpr) and id(node) not in names]
        if depths and any(path.depth and not path.data for path in paths):
            raise NotFlat(f"{what} uses ../ (its meaning would change when written in place)")
        if any(path.data and path.depth for path in paths):
            raise NotFlat(f"{what} uses @../ (a partial starts @data frames of its own)")
        params = {name for scope in captured for name in scope}
        taken = next((path for path in paths if _simple_name(path) in params), None)
        if taken is not None:
            raise NotFlat(f"{what} reads {taken.original!r} at {_where(taken)}, which a block around it "
                          "names as a block parameter")
        if self.options.explicit_partial_context and any(
                not isinstance(stmt, (n.Content, n.Comment, n.Partial, n.PartialBlock)) for stmt in program.body):
            raise NotFlat(f"explicit_partial_context=True: {what} renders with no context, and reads it")
        if not self.options.data and (any(path.data for path in paths) or
                                      any(isinstance(node, n.Block) for node in nodes)):
            raise NotFlat(f"data=False: {what} may get no @data, and reads it (or has blocks, whose helpers do)")


def _simple_name(path: n.PathExpr) -> str | None:
    """The name a path starts with when it could be a block parameter (``x`` or ``x.y``, not ``this.x``)."""
    return path.parts[0] if path.parts and not (path.data or path.depth or path.scoped) else None


def _where(node: n.Node) -> str:
    return f"{node.file}:{node.line}"


def _indented(body: list, indent: str, what: str) -> list:
    """Indent every line of a partial's output, as the runtime does for a standalone partial.

    Text is indented at the start and after each newline, except a newline that ends the
    partial's output. The tags are marked ``indented``: a line break in what one renders
    (a value's, a helper's) would start a line the runtime indents, so it stops the render
    (see runtime.LineBreak) and the email is rendered with its partials.
    """
    if any(not isinstance(stmt, (n.Content, n.Comment, n.Mustache)) and _has_newline(stmt) for stmt in body):
        raise NotFlat(f"{what} is indented and contains blocks with line breaks")
    out = []
    at_line_start = True
    last_line = None  # a tag starting a line that no text follows: whether that line is indented is up to it
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
            last_line = None
        elif isinstance(stmt, (n.Content, n.Comment)):
            out.append(stmt)
        else:  # a mustache, or a block without line breaks
            if at_line_start:
                out.append(n.Content(line=stmt.line, column=stmt.column, file=stmt.file, value=indent,
                                     original=indent))
                last_line = stmt
            out.append(dataclasses.replace(stmt, indented=True))
            at_line_start = False
    if last_line is not None:  # the runtime does not indent an empty last line
        raise NotFlat(f"{what} is indented and ends with a line that only the tag at {_where(last_line)} "
                      "writes (indented only when it writes something)")
    return out


def _has_newline(stmt: n.Statement) -> bool:
    """Whether a statement may render a line break: it holds text with one, or a partial (not written in)."""
    return any(isinstance(node, n.Partial) or isinstance(node, n.Content) and "\n" in node.value
               for node in n.walk(stmt))
