"""Whitespace control: ``~`` stripping and standalone lines, as handlebars.js does them.

A block tag, ``{{else}}``, partial or comment that sits alone on its line
("standalone") takes that line's indentation and line break with it. A
standalone partial remembers the indentation so that every line it renders is
indented the same way.
"""
from __future__ import annotations

import re

from . import nodes as n

# JavaScript's "$" (no m flag) matches only at the very end: Python's \Z.
_PREV_WS_SIBLING = re.compile(r"\r?\n\s*?\Z")
_PREV_WS_ROOT = re.compile(r"(?:^|\r?\n)\s*?\Z")
_NEXT_WS_SIBLING = re.compile(r"^\s*?\r?\n")
_NEXT_WS_ROOT = re.compile(r"^\s*?(?:\r?\n|\Z)")
_TRAILING_INDENT = re.compile(r"([ \t]+)\Z")


class WhitespaceControl(n.NodeVisitor):
    def __init__(self, ignore_standalone: bool = False) -> None:
        self.do_standalone = not ignore_standalone
        self.root_seen = False

    def program(self, program: n.Program) -> n.Program:
        is_root = not self.root_seen
        self.root_seen = True
        body = program.body
        for i, current in enumerate(body):
            strip = self.visit(current)
            if strip is None:
                continue
            prev_ws = _is_prev_whitespace(body, i, is_root)
            next_ws = _is_next_whitespace(body, i, is_root)
            open_standalone = strip.get("open_standalone") and prev_ws
            close_standalone = strip.get("close_standalone") and next_ws
            inline_standalone = strip.get("inline_standalone") and prev_ws and next_ws

            if strip.get("close"):
                _omit_right(body, i, True)
            if strip.get("open"):
                _omit_left(body, i, True)

            if self.do_standalone and inline_standalone:
                _omit_right(body, i)
                if _omit_left(body, i) and isinstance(current, n.Partial):
                    m = _TRAILING_INDENT.search(body[i - 1].original)
                    current.indent = m.group(1) if m else ""
            if self.do_standalone and open_standalone:
                inner, inverse = _bodies(current)
                _omit_right((inner or inverse).body)
                _omit_left(body, i)
            if self.do_standalone and close_standalone:
                inner, inverse = _bodies(current)
                _omit_right(body, i)
                _omit_left((inverse or inner).body)
        return program

    # visit_*: what a statement strips around itself (None: text, which strips nothing)
    def visit_Content(self, node: n.Content) -> None:
        return None

    def visit_Mustache(self, node: n.Mustache) -> dict:
        return {"open": node.strip.open, "close": node.strip.close}

    def visit_Partial(self, node: n.Partial | n.Comment) -> dict:
        return {"inline_standalone": True, "open": node.strip.open, "close": node.strip.close}

    visit_Comment = visit_Partial

    def visit_Block(self, block: n.Block | n.PartialBlock) -> dict:
        program, inverse_prog = _bodies(block)
        for child in (program, inverse_prog):
            if child is not None:
                self.program(child)
        inverse = inverse_prog if program is not None else None
        program = program or inverse_prog
        first_inverse = last_inverse = inverse
        if inverse is not None and inverse.chained:
            first_inverse = inverse.body[0].program
            while last_inverse.chained:
                last_inverse = last_inverse.body[-1].program
        strip = {
            "open": block.open_strip.open,
            "close": block.close_strip.close,
            "open_standalone": _is_next_whitespace(program.body),
            "close_standalone": _is_prev_whitespace((first_inverse or program).body),
        }
        if block.open_strip.close:
            _omit_right(program.body, None, True)
        if inverse is not None:
            inverse_strip = block.inverse_strip
            if inverse_strip.open:
                _omit_left(program.body, None, True)
            if inverse_strip.close:
                _omit_right(first_inverse.body, None, True)
            if block.close_strip.open:
                _omit_left(last_inverse.body, None, True)
            if (self.do_standalone and _is_prev_whitespace(program.body)
                    and _is_next_whitespace(first_inverse.body)):
                _omit_left(program.body)
                _omit_right(first_inverse.body)
        elif block.close_strip.open:
            _omit_left(program.body, None, True)
        return strip

    visit_PartialBlock = visit_Block


def _bodies(block: n.Block | n.PartialBlock) -> tuple[n.Program | None, n.Program | None]:
    """A block's program and inverse (a partial block has no inverse)."""
    return (block.program, block.inverse) if isinstance(block, n.Block) else (block.program, None)


def _is_prev_whitespace(body: list, i: int | None = None, is_root: bool = False) -> bool | None:
    if i is None:
        i = len(body)
    prev = body[i - 1] if i - 1 >= 0 else None
    sibling = body[i - 2] if i - 2 >= 0 else None
    if prev is None:
        return is_root
    if isinstance(prev, n.Content):
        pattern = _PREV_WS_SIBLING if (sibling is not None or not is_root) else _PREV_WS_ROOT
        return bool(pattern.search(prev.original))
    return None


def _is_next_whitespace(body: list, i: int | None = None, is_root: bool = False) -> bool | None:
    if i is None:
        i = -1
    nxt = body[i + 1] if i + 1 < len(body) else None
    sibling = body[i + 2] if i + 2 < len(body) else None
    if nxt is None:
        return is_root
    if isinstance(nxt, n.Content):
        pattern = _NEXT_WS_SIBLING if (sibling is not None or not is_root) else _NEXT_WS_ROOT
        return bool(pattern.match(nxt.original))
    return None


def _omit_right(body: list, i: int | None = None, multiple: bool = False) -> None:
    idx = 0 if i is None else i + 1
    current = body[idx] if idx < len(body) else None
    if not isinstance(current, n.Content) or (not multiple and current.right_stripped):
        return
    original = current.value
    current.value = re.sub(r"^\s+" if multiple else r"^[ \t]*\r?\n?", "", current.value, count=1)
    current.right_stripped = current.value != original


def _omit_left(body: list, i: int | None = None, multiple: bool = False) -> bool | None:
    idx = len(body) - 1 if i is None else i - 1
    current = body[idx] if idx >= 0 else None
    if not isinstance(current, n.Content) or (not multiple and current.left_stripped):
        return None
    original = current.value
    current.value = re.sub(r"\s+\Z" if multiple else r"[ \t]+\Z", "", current.value, count=1)
    current.left_stripped = current.value != original
    return current.left_stripped


def strip_whitespace(program: n.Program, ignore_standalone: bool = False) -> n.Program:
    return WhitespaceControl(ignore_standalone).program(program)
