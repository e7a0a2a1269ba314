"""Recursive-descent parser from tokens to the AST of :mod:`mailtpl.nodes`.

It accepts the grammar of handlebars.js 4.7 (``handlebars.yy``) and reports
every problem as a :class:`~mailtpl.errors.TemplateSyntaxError` that names the
template, line and column.
"""
from __future__ import annotations

import re
from collections import deque

from . import nodes as n
from .errors import TemplateSyntaxError
from .lexer import Lexer, Token
from .values import js_number

MAX_NESTING = 80  # blocks (and {{else if}} links) inside each other; Python's own limit is 100
MAX_SUBEXPR_NESTING = 40

_PARAM_START = {"ID", "DATA", "STRING", "NUMBER", "BOOLEAN", "UNDEFINED", "NULL", "OPEN_SEXPR"}
_SCOPED = re.compile(r"^\.|this\b")

_DESCRIBE = {
    "EOF": "the end of the template",
    "CLOSE": "'}}'",
    "CLOSE_UNESCAPED": "'}}}'",
    "CLOSE_SEXPR": "')'",
    "OPEN_SEXPR": "'('",
    "EQUALS": "'='",
    "SEP": "a path separator",
    "CLOSE_BLOCK_PARAMS": "'|'",
    "OPEN_BLOCK_PARAMS": "'as |'",
    "CLOSE_RAW_BLOCK": "'}}}}'",
}


def _describe(tok: Token) -> str:
    if tok.kind in _DESCRIBE:
        return _DESCRIBE[tok.kind]
    if tok.kind == "CONTENT":
        return "text"
    return repr(tok.text) if tok.text else tok.kind


_STRIPS = {(o, c): n.Strip(o, c) for o in (False, True) for c in (False, True)}  # never modified: shared


def _strip_of(open_text: str, close_text: str) -> n.Strip:
    return _STRIPS[open_text[2:3] == "~", close_text[-3:-2] == "~"]


class Parser:
    def __init__(self, source: str, name: str | None = None) -> None:
        self.lexer = Lexer(source, name)
        self._tokens = self.lexer.tokenize()
        self._eof = Token("EOF", "", len(source))
        self._ahead: deque[Token] = deque()  # tokens made but not consumed yet, after the current one
        self.tok: Token = next(self._tokens)  # the current token
        self.previous: Token | None = None  # the last token consumed
        self.nesting = 0
        self.sexpr_nesting = 0
        self.uses_depths = False
        self.uses_data = False

    # -- token helpers -----------------------------------------------------
    def peek(self, ahead: int) -> Token:
        """The token ``ahead`` places after the current one (EOF past the end)."""
        if ahead == 0:
            return self.tok
        while len(self._ahead) < ahead:
            token = next(self._tokens, None)
            if token is None:
                return self._eof
            self._ahead.append(token)
        return self._ahead[ahead - 1]

    def advance(self) -> Token:
        tok = self.tok
        if self._ahead:
            self.tok = self._ahead.popleft()
        elif tok is not self._eof:
            self.tok = next(self._tokens, self._eof)
        self.previous = tok
        return tok

    def error(self, message: str, tok: Token | int) -> TemplateSyntaxError:
        pos = tok if isinstance(tok, int) else tok.pos
        return self.lexer.error(message, pos)

    def expect(self, kind: str, context: str) -> Token:
        tok = self.tok
        if tok.kind != kind:
            raise self.error(f"expected {_DESCRIBE.get(kind, kind)} {context}, found {_describe(tok)}", tok)
        return self.advance()

    def where(self, pos: int) -> tuple[int, int]:
        return self.lexer.line_col(pos)

    def at(self, pos: int) -> dict:
        """The location fields of a node that starts at ``pos``: ``file``, ``line`` and ``column``."""
        line, column = self.lexer.line_col(pos)
        return {"file": self.lexer.name, "line": line, "column": column}

    # -- program -----------------------------------------------------------
    def parse(self) -> n.Program:
        program = self.program(0)
        program.uses_depths = self.uses_depths
        program.uses_data = self.uses_data
        tok = self.tok
        if tok.kind == "OPEN_ENDBLOCK":
            name = self._peek_name()
            raise self.error(f"{{{{/{name}}}}} closes a block that was never opened", tok)
        if tok.kind in ("INVERSE", "OPEN_INVERSE_CHAIN"):
            raise self.error("{{else}} outside of a block", tok)
        return program

    def _peek_name(self) -> str:
        nxt = self.peek(1)
        return nxt.text if nxt.kind == "ID" else "?"

    def nest(self, tok: Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.error(f"blocks nested more than {MAX_NESTING} levels deep", tok)

    def program(self, pos: int) -> n.Program:
        where = self.at(pos)
        body: list[n.Statement] = []
        while True:
            kind = self.tok.kind
            if kind in ("EOF", "OPEN_ENDBLOCK", "INVERSE", "OPEN_INVERSE_CHAIN"):
                return n.Program(**where, body=body)
            body.append(self.statement())

    def statement(self) -> n.Statement:
        tok = self.tok
        kind = tok.kind
        if kind == "CONTENT":
            self.advance()
            return n.Content(**self.at(tok.pos), value=tok.text, original=tok.text)
        if kind == "COMMENT":
            self.advance()
            text = re.sub(r"-?-?~?\}\}$", "", re.sub(r"^\{\{~?!-?-?", "", tok.text))
            return n.Comment(**self.at(tok.pos), value=text, strip=_strip_of(tok.text, tok.text))
        if kind in ("OPEN", "OPEN_UNESCAPED"):
            return self.mustache()
        if kind == "OPEN_BLOCK":
            return self.block(inverted=False)
        if kind == "OPEN_INVERSE":
            return self.block(inverted=True)
        if kind == "OPEN_PARTIAL":
            return self.partial()
        if kind == "OPEN_PARTIAL_BLOCK":
            return self.partial_block()
        if kind == "OPEN_RAW_BLOCK":
            return self.raw_block()
        raise self.error(f"unexpected {_describe(tok)}", tok)

    # -- statements ----------------------------------------------------------
    def mustache(self) -> n.Mustache:
        open_tok = self.advance()
        unescaped = open_tok.kind == "OPEN_UNESCAPED"
        if "*" in open_tok.text:
            raise self.error("decorators ({{* ...}}) are not supported; use {{#*inline \"name\"}} for inline partials", open_tok)
        path, params, hash_ = self.call(open_tok, "in {{...}}")
        close_kind = "CLOSE_UNESCAPED" if unescaped else "CLOSE"
        close = self.expect(close_kind, f"to close the mustache opened at {self._at(open_tok)}")
        escaped = not unescaped and not open_tok.text.rstrip().endswith("&")
        return n.Mustache(**self.at(open_tok.pos), path=path, params=params, hash=hash_, escaped=escaped,
                          strip=_strip_of(open_tok.text, close.text))

    def _at(self, tok: Token) -> str:
        line, col = self.where(tok.pos)
        return f"{line}:{col}"

    def call(self, open_tok: Token, context: str) -> tuple[n.Expr, list[n.Expr], n.Hash | None]:
        """``helperName param* hash?``"""
        if self.tok.kind not in _PARAM_START or self.tok.kind == "OPEN_SEXPR":
            tok = self.tok
            raise self.error(f"expected a name {context}, found {_describe(tok)}", tok)
        path = self.helper_name()
        params, hash_ = self.params_and_hash()
        return path, params, hash_

    def params_and_hash(self) -> tuple[list[n.Expr], n.Hash | None]:
        params: list[n.Expr] = []
        while self.tok.kind in _PARAM_START:
            if self.tok.kind == "ID" and self.peek(1).kind == "EQUALS":
                return params, self.hash()
            params.append(self.param())
        return params, None

    def hash(self) -> n.Hash:
        where = self.at(self.tok.pos)
        pairs: list[tuple[str, n.Expr]] = []
        while self.tok.kind == "ID" and self.peek(1).kind == "EQUALS":
            key = _unbracket(self.advance().text)
            self.advance()
            if self.tok.kind not in _PARAM_START:
                raise self.error(f"expected a value after '{key}=', found {_describe(self.tok)}", self.tok)
            pairs.append((key, self.param()))
        if self.tok.kind in _PARAM_START:
            raise self.error("positional arguments must come before hash arguments (name=value)", self.tok)
        return n.Hash(**where, pairs=pairs)

    def param(self) -> n.Expr:
        if self.tok.kind == "OPEN_SEXPR":
            return self.sexpr()
        return self.helper_name()

    def sexpr(self) -> n.SubExpr:
        open_tok = self.advance()
        self.sexpr_nesting += 1
        if self.sexpr_nesting > MAX_SUBEXPR_NESTING:
            raise self.error(f"subexpressions nested more than {MAX_SUBEXPR_NESTING} levels deep", open_tok)
        path, params, hash_ = self.call(open_tok, "in a subexpression")
        self.expect("CLOSE_SEXPR", f"to close the subexpression opened at {self._at(open_tok)}")
        self.sexpr_nesting -= 1
        return n.SubExpr(**self.at(open_tok.pos), path=path, params=params, hash=hash_)

    def helper_name(self) -> n.Expr:
        tok = self.tok
        kind = tok.kind
        if kind == "STRING":
            self.advance()
            return n.Literal(**self.at(tok.pos), value=tok.text, original=tok.text)
        if kind == "NUMBER":
            self.advance()
            value = _js_number_literal(tok.text)
            return n.Literal(**self.at(tok.pos), value=value, original=js_number(value))
        if kind == "BOOLEAN":
            self.advance()
            return n.Literal(**self.at(tok.pos), value=tok.text == "true", original=tok.text)
        if kind in ("UNDEFINED", "NULL"):
            self.advance()
            return n.Literal(**self.at(tok.pos), value=None, original=tok.text)
        data = False
        if kind == "DATA":
            self.advance()
            data = True
            if self.tok.kind != "ID":
                raise self.error(f"expected a name after '@', found {_describe(self.tok)}", self.tok)
        elif kind != "ID":
            raise self.error(f"expected a name, found {_describe(tok)}", tok)
        segments = [(self.advance().text, "")]
        while self.tok.kind == "SEP":
            sep = self.advance().text
            if self.tok.kind != "ID":
                raise self.error(f"expected a name after '{sep}', found {_describe(self.tok)}", self.tok)
            segments.append((self.advance().text, sep))
        return self.make_path(data, segments, tok)

    def make_path(self, data: bool, segments: list[tuple[str, str]], tok: Token) -> n.PathExpr:
        original = "@" if data else ""
        parts: list[str] = []
        depth = 0
        for raw, sep in segments:
            part = _unbracket(raw)
            literal = part != raw
            original += sep + part
            if not literal and part in ("..", ".", "this"):
                if parts:
                    raise self.error(f"invalid path {original!r}: '{part}' may only start a path", tok)
                if part == "..":
                    depth += 1
            else:
                parts.append(part)
        scoped = not data and bool(_SCOPED.search(original))
        self.uses_depths = self.uses_depths or (depth > 0 and not data)
        self.uses_data = self.uses_data or data
        return n.PathExpr(**self.at(tok.pos), data=data, depth=depth, parts=parts, original=original, scoped=scoped)

    def block_params(self) -> list[str]:
        if self.tok.kind != "OPEN_BLOCK_PARAMS":
            return []
        open_tok = self.advance()
        names = []
        while self.tok.kind == "ID":
            names.append(_unbracket(self.advance().text))
        if not names:
            raise self.error("block parameters 'as |...|' need at least one name", open_tok)
        self.expect("CLOSE_BLOCK_PARAMS", "to close the block parameters")
        return names

    def open_tag(self, context: str):
        open_tok = self.advance()
        path, params, hash_ = self.call(open_tok, context)
        bparams = self.block_params()
        close = self.expect("CLOSE", f"to close the tag opened at {self._at(open_tok)}")
        return open_tok, path, params, hash_, bparams, _strip_of(open_tok.text, close.text)

    def block(self, inverted: bool) -> n.Block:
        open_tok, path, params, hash_, bparams, open_strip = self.open_tag("after '{{#'")
        self.nest(open_tok)
        decorator = "*" in open_tok.text
        if decorator:
            self._check_inline(path, params, open_tok)
        program = self.program(self.previous.pos)
        program.block_params = bparams
        inverse, inverse_strip = self.inverse_chain(open_tok, path)
        if decorator and inverse is not None:
            raise self.error("{{else}} is not allowed inside {{#*inline}}", open_tok)
        close_strip = self.close_block(open_tok, path)
        self.nesting -= 1
        if inverse is not None and inverse.chained:
            _set_chain_close(inverse, close_strip)
        if inverted:
            program, inverse = inverse, program
        return n.Block(**self.at(open_tok.pos), path=path, params=params, hash=hash_, program=program,
                       inverse=inverse, open_strip=open_strip, inverse_strip=inverse_strip, close_strip=close_strip,
                       decorator=decorator)

    def _check_inline(self, path: n.Expr, params: list[n.Expr], tok: Token) -> None:
        if not isinstance(path, n.PathExpr) or path.original != "inline":
            raise self.error(f"unknown decorator {{{{#*{getattr(path, 'original', '?')}}}}}; only {{{{#*inline \"name\"}}}} is supported", tok)
        if len(params) != 1:
            raise self.error("{{#*inline}} needs exactly one argument, the partial's name", tok)

    def inverse_chain(self, open_tok: Token, path: n.Expr) -> tuple[n.Program | None, n.Strip]:
        tok = self.tok
        if tok.kind == "INVERSE":
            self.advance()
            strip = _strip_of(tok.text, tok.text)
            return self.program(tok.pos + len(tok.text)), strip
        if tok.kind == "OPEN_INVERSE_CHAIN":
            c_open, c_path, c_params, c_hash, c_bparams, c_strip = self.open_tag("after '{{else'")
            self.nest(c_open)
            c_program = self.program(self.previous.pos)
            c_program.block_params = c_bparams
            c_inverse, c_inverse_strip = self.inverse_chain(open_tok, path)
            self.nesting -= 1
            where = self.at(c_open.pos)
            chained = n.Block(**where, path=c_path, params=c_params, hash=c_hash, program=c_program,
                              inverse=c_inverse, open_strip=c_strip, inverse_strip=c_inverse_strip)
            return n.Program(**where, body=[chained], chained=True), c_strip
        return None, n.Strip()

    def close_block(self, open_tok: Token, path: n.Expr) -> n.Strip:
        name = getattr(path, "original", "?")
        tok = self.tok
        if tok.kind == "EOF":
            raise self.error(f"{{{{#{name}}}}} is never closed: expected {{{{/{name}}}}} before the end of the template", open_tok)
        end = self.advance()
        close_path = self.helper_name() if self.tok.kind in _PARAM_START else None
        if close_path is None:
            raise self.error(f"expected a name after '{{{{/', found {_describe(self.tok)}", self.tok)
        close = self.expect("CLOSE", "to close the end tag")
        close_name = getattr(close_path, "original", "?")
        if close_name != name:
            raise self.error(f"{{{{#{name}}}}} (opened at {self._at(open_tok)}) closed by {{{{/{close_name}}}}}", end)
        return _strip_of(end.text, close.text)

    def partial(self) -> n.Partial:
        open_tok = self.advance()
        name, params, hash_ = self.partial_call(open_tok)
        close = self.expect("CLOSE", f"to close the partial opened at {self._at(open_tok)}")
        return n.Partial(**self.at(open_tok.pos), name=name, params=params, hash=hash_,
                         strip=_strip_of(open_tok.text, close.text))

    def partial_call(self, open_tok: Token):
        if self.tok.kind == "OPEN_SEXPR":
            name: n.Expr = self.sexpr()
        elif self.tok.kind in _PARAM_START:
            name = self.helper_name()
        else:
            raise self.error(f"expected a partial name after '{{{{>', found {_describe(self.tok)}", self.tok)
        params, hash_ = self.params_and_hash()
        if len(params) > 1:
            raise self.error(f"a partial takes at most one context argument, got {len(params)}", open_tok)
        return name, params, hash_

    def partial_block(self) -> n.PartialBlock:
        open_tok = self.advance()
        name, params, hash_ = self.partial_call(open_tok)
        close = self.expect("CLOSE", f"to close the partial block opened at {self._at(open_tok)}")
        self.nest(open_tok)
        program = self.program(close.pos + len(close.text))
        if self.tok.kind in ("INVERSE", "OPEN_INVERSE_CHAIN"):
            raise self.error("{{else}} is not allowed in a partial block", self.tok)
        close_strip = self.close_block(open_tok, name)
        self.nesting -= 1
        return n.PartialBlock(**self.at(open_tok.pos), name=name, params=params, hash=hash_, program=program,
                              open_strip=_strip_of(open_tok.text, close.text), close_strip=close_strip)

    def raw_block(self) -> n.Block:
        open_tok = self.advance()
        path, params, hash_ = self.call(open_tok, "after '{{{{'")
        self.expect("CLOSE_RAW_BLOCK", "to close the raw block tag")
        body: list[n.Statement] = []
        while self.tok.kind == "CONTENT":
            tok = self.advance()
            body.append(n.Content(**self.at(tok.pos), value=tok.text, original=tok.text))
        end = self.expect("END_RAW_BLOCK", "to end the raw block")
        name = getattr(path, "original", "?")
        if end.text != name:
            raise self.error("{{{{%s}}}} closed by {{{{/%s}}}}" % (name, end.text), end)
        where = self.at(open_tok.pos)
        return n.Block(**where, path=path, params=params, hash=hash_, program=n.Program(**where, body=body),
                       inverse=None, raw=True)


def _js_number_literal(text: str) -> int | float:
    """The value JavaScript's ``Number(text)`` gives: a double, kept as an int where that is exact."""
    value = float(text)  # overflows to inf as Number() does
    if value.is_integer() and abs(value) <= 2 ** 53:
        return int(value)
    return value


def _unbracket(text: str) -> str:
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        return text[1:-1]
    return text


def _set_chain_close(inverse: n.Program, strip: n.Strip) -> None:
    while inverse is not None and inverse.chained:
        block = inverse.body[0]
        block.close_strip = strip
        inverse = block.inverse


def parse(source: str, name: str | None = None) -> n.Program:
    return Parser(source, name).parse()
