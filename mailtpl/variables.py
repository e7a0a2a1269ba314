"""What an email reads from its data, and sample data that satisfies it.

Like ``jinja2.meta.find_undeclared_variables``, but it follows the template the
way a render does: into partials and layouts (``{{> name}}``, ``{{#> layout}}``
and ``{{> @partial-block}}``, inline partials, partial hash arguments),
through context changes (``with``, ``each``, sections) with ``../`` and
``@root``, and through block parameters (``as |item|``). Each path gets the
shape its uses imply:

==========  =====================================================================
kind        evidence
==========  =====================================================================
``list``    iterated by ``{{#each}}`` or read only by index (``item`` is the shape of its items)
``object``  read under (``user.name``), entered (``{{#with user}}``, ``{{#user}}...{{/user}}``)
``url``     written at the start of an ``href``/``src``-like attribute value
``text``    written out (``{{code}}``), or passed to a helper
``boolean`` only tested by ``{{#if}}``/``{{#unless}}``/``{{^x}}``
==========  =====================================================================

:func:`analyze` returns the tree of :class:`Variable`; :func:`sample_data`
turns it into data that renders the email in strict mode: ``[path]``
placeholders for text, URLs for URL slots, ``True`` for booleans, two items
per list (none where a partial that includes itself would go a third level
deep). Not followed: dynamic partials (``{{> (name)}}``) and what a custom
helper does with its block (assumed: renders it in the same context). As in
handlebars.js, entering the context that is already current does not count for
``../``; the analysis knows this only when both are the same path.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from . import nodes as n
from .errors import TemplateError
from .helpers import BUILTINS

KINDS = ("text", "url", "boolean", "object", "list")
PartialSource = Callable[[str], "tuple[n.Program, str] | None"]  # name -> (AST, file name) or None

# An attribute whose whole value is a URL, with the value still empty where a mustache starts.
_URL_ATTRIBUTE = re.compile(
    r"""<[a-zA-Z][^<>]*?\s(?:href|src|srcset|action|formaction|background|poster|cite|xlink:href)\s*=\s*["']?$""",
    re.IGNORECASE)
_OUTPUT = "\x00"  # stands for a mustache's output in the text seen so far
_MOST_ITEMS = 100  # items.[N] from here on is read as the key "N" (generating N items would be absurd)
_DEEPEST = 50  # levels of data under the root (the preview takes sample data 64 JSON levels deep)
_RECURSION = 2  # levels of a partial that includes itself that are followed
_MOST_STEPS = 1_000_000  # statements followed (partials count each time they are included): stop, don't hang
_SEEN_TEXT = 2000  # characters of template text kept to tell whether a mustache starts a URL attribute


@dataclass(frozen=True)
class Variable:
    """One path an email reads: ``name`` in its parent, ``path`` from the data's root (``items[].name``),
    its ``kind`` (one of :data:`KINDS`), ``fields`` of an object, ``item``: the shape of a list's items,
    ``min_items``: items a list must have (``items.[2]`` reads a third), ``recursive``: a partial that
    includes itself would render it one level deeper (the analysis follows two levels), and
    ``locations`` (``file:line:column``) where it is read."""

    name: str
    path: str
    kind: str
    fields: tuple[Variable, ...] = ()
    item: Variable | None = None
    min_items: int = 0
    recursive: bool = False
    locations: tuple[str, ...] = ()

    def to_json(self) -> dict:
        """A plain-JSON form (for the preview page)."""
        out: dict = {"name": self.name, "path": self.path, "kind": self.kind, "locations": list(self.locations)}
        if self.fields:
            out["fields"] = [f.to_json() for f in self.fields]
        if self.item is not None:
            out["item"] = self.item.to_json()
        if self.min_items:
            out["min_items"] = self.min_items
        if self.recursive:
            out["recursive"] = True
        return out


# -- the analysis: slots that collect evidence while the walker follows the template ----------------------
class _Slot:
    """A value the template reads, with how it was used."""

    __slots__ = ("uses", "fields", "item", "length", "recursive", "locations", "depth")

    def __init__(self, depth: int = 0) -> None:
        self.depth = depth  # levels under the root
        self.uses: set[str] = set()  # "text", "url", "condition", "list" (iterated), "indexed", "context"
        self.fields: dict[str, _Slot] = {}
        self.item: _Slot | None = None
        self.length = 0  # a list: 1 + the highest index the template reads (items.[5])
        self.recursive = False  # a partial that includes itself would render it again, one level deeper
        self.locations: set[tuple[str, int, int]] = set()

    def field(self, key: str) -> _Slot:
        if key.isascii() and key.isdigit() and int(key) < _MOST_ITEMS:  # items.[0].name: an item of a list
            self.length = max(self.length, int(key) + 1)
            return self.items(iterated=False)
        if key not in self.fields:
            self.fields[key] = _Slot(self.depth + 1)
        return self.fields[key]

    def items(self, iterated: bool = True) -> _Slot:
        self.uses.add("list" if iterated else "indexed")
        if self.item is None:
            self.item = _Slot(self.depth + 1)
        return self.item


@dataclass(frozen=True)
class _Frame:
    """A context: the value (None when unknown) and keys a partial's hash put over it."""

    slot: _Slot | None
    provided: dict[str, _Slot | None] = field(default_factory=dict)

    def get(self, key: str) -> _Slot | None:
        if key in self.provided:
            return self.provided[key]
        return None if self.slot is None else self.slot.field(key)


@dataclass(frozen=True)
class _Scope:
    stack: tuple[_Frame, ...]  # stack[0] is this; ../ climbs (only contexts that changed count)
    root: _Slot
    file: str
    params: dict[str, _Slot | None] = field(default_factory=dict)  # block parameters in scope
    inlines: dict[str, tuple[n.Program, str]] = field(default_factory=dict)  # {{#*inline}} partials
    partial_block: tuple[n.Program, _Scope] | None = None  # what {{> @partial-block}} renders

    def push(self, frame: _Frame) -> _Scope:
        if frame.slot is self.stack[0].slot and not frame.provided:
            return self
        return replace(self, stack=(frame, *self.stack))


class _Walker(n.NodeVisitor):
    """Follows the statements of a template in document order, as a render would."""

    def __init__(self, partials: PartialSource, helpers: Iterable[str]) -> None:
        self.partials = partials
        self.helpers = set(BUILTINS) | set(helpers)
        self.text = ""  # the template text so far, to tell when a mustache starts a URL attribute
        self.active: list[str] = []  # partials being followed, to stop one that includes itself
        self.steps = 0

    def program(self, program: n.Program | None, scope: _Scope) -> None:
        if program is None:
            return
        inlines = _inline_partials(program, scope.file)
        if inlines:
            scope = replace(scope, inlines={**scope.inlines, **inlines})
        for statement in program.body:
            self.statement(statement, scope)

    def statement(self, s: n.Statement, scope: _Scope) -> None:
        self.steps += 1
        if self.steps > _MOST_STEPS:
            raise TemplateError(f"following the partials means reading more than {_MOST_STEPS:,} statements "
                                "(partials that include each other many times over?); mailtpl stops analysing "
                                "the variables here", name=scope.file, lineno=s.line, column=s.column)
        self.visit(s, scope)

    # -- expressions --------------------------------------------------------------------------------
    def resolve(self, path: n.PathExpr, scope: _Scope) -> _Slot | None:
        """The slot a path reads (created on first use); None for what is not data (@index, above the root)."""
        parts = path.parts
        if path.data:
            if not parts or parts[0] != "root":
                return None
            slot: _Slot | None = scope.root
            parts = parts[1:]
        elif not path.depth and not path.scoped and parts and parts[0] in scope.params:
            slot, parts = scope.params[parts[0]], parts[1:]
        elif path.depth >= len(scope.stack):
            return None
        else:
            frame = scope.stack[path.depth]
            if not parts:
                return frame.slot
            slot, parts = frame.get(parts[0]), parts[1:]
        for part in parts:
            if slot is None:
                return None
            slot = slot.field(part)
        return slot

    def read(self, expr: n.Expr, scope: _Scope, use: str | None) -> _Slot | None:
        """Note a read of ``expr`` (``use``: how it is used); subexpression arguments are read as text."""
        if isinstance(expr, n.SubExpr):
            self.arguments(expr.params, expr.hash, scope)
            return None
        if not isinstance(expr, n.PathExpr):
            return None
        slot = self.resolve(expr, scope)
        if slot is not None:
            if slot.depth > _DEEPEST:
                raise TemplateError(f"reads data nested more than {_DEEPEST} levels deep; mailtpl stops "
                                    "analysing the variables here", name=scope.file, lineno=expr.line,
                                    column=expr.column)
            slot.locations.add((scope.file, expr.line, expr.column))
            if use:
                slot.uses.add(use)
        return slot

    def arguments(self, params: list[n.Expr], hash_: n.Hash | None, scope: _Scope) -> None:
        for expr in [*params, *(value for _, value in (hash_.pairs if hash_ else ()))]:
            self.read(expr, scope, "text")

    def is_helper(self, path: n.Expr, scope: _Scope) -> bool:
        return isinstance(path, n.PathExpr) and _simple(path) and path.parts[0] in self.helpers \
            and path.parts[0] not in scope.params

    # -- statements (visit_* by node type; a comment reads nothing) ----------------------------------------
    def visit_Content(self, s: n.Content, scope: _Scope) -> None:
        self.see(s.value)

    def visit_Comment(self, s: n.Comment, scope: _Scope) -> None:
        pass

    def visit_Mustache(self, s: n.Mustache, scope: _Scope) -> None:
        if s.params or s.hash or self.is_helper(s.path, scope):
            self.arguments(s.params, s.hash, scope)
        else:
            self.read(s.path, scope, "url" if _URL_ATTRIBUTE.search(self.text) else "text")
        self.see(_OUTPUT)

    def see(self, text: str) -> None:
        self.text = (self.text + text)[-_SEEN_TEXT:]

    def visit_Block(self, s: n.Block, scope: _Scope) -> None:
        if s.decorator:  # {{#*inline}}: read where the partial is used (see _inline_partials)
            return
        helper = s.path.parts[0] if self.is_helper(s.path, scope) else None
        if helper in ("if", "unless") and len(s.params) == 1:
            self.read(s.params[0], scope, "condition")
            self.arguments([], s.hash, scope)
            self.program(s.program, scope)
        elif helper == "each" and len(s.params) == 1:
            listed = self.read(s.params[0], scope, None)
            item = listed.items() if listed is not None else None
            self.program(s.program, self.with_params(scope.push(_Frame(item)), s.program, [item]))
        elif helper == "with" and len(s.params) == 1:
            value = self.read(s.params[0], scope, "context")
            self.program(s.program, self.with_params(scope.push(_Frame(value)), s.program, [value]))
        elif helper is not None or s.params or s.hash:  # a custom helper: its block, we assume, sees this
            self.arguments(s.params, s.hash, scope)
            self.program(s.program, self.with_params(scope, s.program, []))
        else:  # a section {{#value}}: iterates a list, enters an object, or renders once when true
            value = self.read(s.path, scope, "context" if s.program else "condition")
            self.program(s.program, self.with_params(scope.push(_Frame(value)), s.program, [value]))
        self.program(s.inverse, scope)

    @staticmethod
    def with_params(scope: _Scope, program: n.Program | None, values: list[_Slot | None]) -> _Scope:
        names = program.block_params if program is not None else []
        if not names:
            return scope
        given = {name: values[i] if i < len(values) else None for i, name in enumerate(names)}
        return replace(scope, params={**scope.params, **given})

    def visit_PartialBlock(self, s: n.PartialBlock, scope: _Scope) -> None:
        self.visit_Partial(s, scope, block=s.program)

    def visit_Partial(self, s: n.Partial | n.PartialBlock, scope: _Scope, block: n.Program | None = None) -> None:
        name = _name(s.name)
        if name is None:  # dynamic: {{> (expr)}}
            self.read(s.name, scope, None)
        frame = scope.stack[0]
        if s.params:
            frame = _Frame(self.read(s.params[0], scope, "context"))
        if s.hash:
            frame = _Frame(frame.slot, {**frame.provided, **{key: self.read(value, scope, None)
                                                              for key, value in s.hash.pairs}})
        if name == "@partial-block":  # the block, where it was written, with the context it is given here
            if scope.partial_block is not None:
                body, defined = scope.partial_block
                self.program(body, defined.push(frame))
            return
        if name is None:
            return
        if self.active.count(name) == _RECURSION:  # a partial that includes itself: its data ends here
            if frame.slot is not None:
                frame.slot.recursive = True
            return
        found = scope.inlines.get(name) or self.partials(name)
        inner = replace(scope, stack=(frame,), params={})
        if block is not None:
            inlines = {**scope.inlines, **_inline_partials(block, scope.file)}  # the layout sees them too
            inner = replace(inner, partial_block=(block, scope), inlines=inlines)
            if found is None:  # {{#> missing}}...{{/missing}} renders its own block
                self.program(block, scope)
                return
        if found is not None:
            program, file = found
            self.active.append(name)
            self.program(program, replace(inner, file=file))
            self.active.pop()


def _inline_partials(program: n.Program, file: str) -> dict[str, tuple[n.Program, str]]:
    """The ``{{#*inline "name"}}`` partials a program defines (for the whole program, as in handlebars.js)."""
    return {_name(s.params[0]): (s.program, file) for s in program.body
            if isinstance(s, n.Block) and s.decorator and s.params and _name(s.params[0])}


def _simple(path: n.PathExpr) -> bool:
    return not path.data and not path.depth and not path.scoped and len(path.parts) == 1


def _name(expr: n.Expr) -> str | None:
    """The fixed name of a partial (``{{> footer}}``, ``{{> "footer"}}``), or None when it is computed."""
    if isinstance(expr, n.Literal):
        return str(expr.value)
    if isinstance(expr, n.PathExpr):
        return expr.original
    return None


# -- from slots to variables ----------------------------------------------------------------------------
def _kind(slot: _Slot) -> str:
    if "list" in slot.uses or "indexed" in slot.uses and not slot.fields:  # user.[0] beside user.name: a key
        return "list"
    if slot.fields or "context" in slot.uses:
        return "object"
    if "url" in slot.uses:
        return "url"
    if "text" in slot.uses or "condition" not in slot.uses:
        return "text"
    return "boolean"


def _variable(name: str, path: str, slot: _Slot) -> Variable:
    kind = _kind(slot)
    fields: tuple[Variable, ...] = ()
    if kind == "object":
        indexes = [_variable(str(i), f"{path}.{i}", slot.item) for i in range(slot.length)] if slot.item else []
        fields = (*indexes, *(_variable(key, f"{path}.{key}", slot.fields[key]) for key in sorted(slot.fields)))
    item = _variable("[]", f"{path}[]", slot.item or _Slot()) if kind == "list" else None
    locations = tuple(f"{file}:{line}:{column}" for file, line, column in sorted(slot.locations))
    return Variable(name, path, kind, fields, item, slot.length if kind == "list" else 0, slot.recursive,
                    locations)


def analyze(programs: Iterable[tuple[n.Program, str]], partials: PartialSource,
            helpers: Iterable[str] = ()) -> tuple[Variable, ...]:
    """The variables that ``programs`` (``(AST, file name)``: an email's HTML, text and subject) read,
    following partials that ``partials(name)`` returns; ``helpers``: names of the environment's helpers."""
    root = _Slot()
    walker = _Walker(partials, helpers)
    for program, file in programs:
        walker.text = ""
        try:
            walker.program(program, _Scope(stack=(_Frame(root),), root=root, file=file))
        except RecursionError:
            raise TemplateError("blocks and partials nest too deeply to analyse", name=file) from None
    return tuple(_variable(key, key, root.fields[key]) for key in sorted(root.fields))


# -- sample data --------------------------------------------------------------------------------------------
def sample_data(variables: Iterable[Variable], *, base_url: str = "https://example.com",
                skip: Iterable[str] = ()) -> dict:
    """Data that gives every variable a value of its kind: ``"[user.name]"`` for text (the path to it),
    ``base_url/link`` for a URL, True for a boolean, two items per list. ``skip``: top-level names the
    caller provides itself (``baseUrl``)."""
    skipped = set(skip)
    return {v.name: _sample(v, v.name, base_url.rstrip("/")) for v in variables if v.name not in skipped}


def _sample(variable: Variable, label: str, base_url: str):
    if variable.recursive:  # where a partial would include itself again: nothing, so the render ends
        return None
    if variable.kind == "list":
        if variable.item is not None and variable.item.recursive:
            return []
        item = variable.item or Variable("[]", variable.path + "[]", "text")
        return [_sample(item, f"{label}.{i}", base_url) for i in range(max(2, variable.min_items))]
    if variable.kind == "object":
        return {f.name: _sample(f, f"{label}.{f.name}", base_url) for f in variable.fields}
    if variable.kind == "boolean":
        return True
    if variable.kind == "url":
        return f"{base_url}/{re.sub(r'[^A-Za-z0-9]+', '-', label).strip('-').lower() or 'link'}"
    return f"[{label}]"
