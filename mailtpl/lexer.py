"""Tokenizer for Handlebars source, following the rules of handlebars.js 4.7.

The scanner alternates between *content* (text up to the next ``{{``) and
*mustache* mode (the tokens between ``{{`` and ``}}``). Like the jison lexer it
mirrors, the first matching rule wins, so the order of the patterns matters.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from typing import NamedTuple

from .errors import TemplateSyntaxError, line_starts


class Token(NamedTuple):
    kind: str
    text: str
    pos: int  # offset of the token's first character in the source


_ID = r'[^\s!"#%-,\.\/;->@\[-\^`\{-~]+(?=[=~}\s\/.)|])'
_LITERAL_END = r"(?=[~}\s)])"

# Openers tried at a "{{" in content mode, in handlebars.js's order.
_OPENERS = re.compile(
    r"""
      (?P<OPEN_RAW_BLOCK>\{\{\{\{)
    | (?P<OPEN_PARTIAL>\{\{~?>)
    | (?P<OPEN_PARTIAL_BLOCK>\{\{~?\#>)
    | (?P<OPEN_BLOCK>\{\{~?\#\*?)
    | (?P<OPEN_ENDBLOCK>\{\{~?/)
    | (?P<INVERSE>\{\{~?\^\s*~?\}\}|\{\{~?\s*else\s*~?\}\})
    | (?P<OPEN_INVERSE>\{\{~?\^)
    | (?P<OPEN_INVERSE_CHAIN>\{\{~?\s*else)
    | (?P<OPEN_UNESCAPED>\{\{~?\{)
    | (?P<OPEN_AMP>\{\{~?&)
    | (?P<LONG_COMMENT>\{\{~?!--[\s\S]*?--~?\}\})
    | (?P<UNCLOSED_LONG_COMMENT>\{\{~?!--)
    | (?P<COMMENT>\{\{~?![\s\S]*?\}\})
    | (?P<OPEN>\{\{~?\*?)
    """,
    re.VERBOSE,
)

# Tokens inside a mustache.
_MUSTACHE = re.compile(
    rf"""
      (?P<WS>\s+)
    | (?P<OPEN_SEXPR>\()
    | (?P<CLOSE_SEXPR>\))
    | (?P<CLOSE_RAW_BLOCK>\}}\}}\}}\}})
    | (?P<NESTED_OPEN>\{{\{{)
    | (?P<EQUALS>=)
    | (?P<DOTDOT>\.\.)
    | (?P<DOT>\.(?=[=~}}\s\/.)|]))
    | (?P<SEP>[\/.])
    | (?P<CLOSE_UNESCAPED>\}}~?\}}\}})
    | (?P<CLOSE>~?\}}\}})
    | (?P<STRING>"(?:\\"|[^"])*"|'(?:\\'|[^'])*')
    | (?P<DATA>@)
    | (?P<BOOLEAN>(?:true|false){_LITERAL_END})
    | (?P<UNDEFINED>undefined{_LITERAL_END})
    | (?P<NULL>null{_LITERAL_END})
    | (?P<NUMBER>-?[0-9]+(?:\.[0-9]+)?{_LITERAL_END})
    | (?P<OPEN_BLOCK_PARAMS>as\s+\|)
    | (?P<CLOSE_BLOCK_PARAMS>\|)
    | (?P<ID>{_ID})
    | (?P<LITERAL_ID>\[(?:\\\]|[^\]])*\])
    """,
    re.VERBOSE,
)

_NAME_NO_LOOKAHEAD = re.compile(r'[^\s!"#%-,\.\/;->@\[-\^`\{-~]+')
_RAW_CLOSE = re.compile(r"\{\{\{\{/([^\s!\"#%-,\.\/;->@\[-\^`\{-~]+)(?=[=}\s\/.])\}\}\}\}")


class Lexer:
    """Turns a template into a list of :class:`Token`.

    ``STRING`` tokens carry their unquoted text; ``ID`` tokens from ``[...]``
    keep their brackets so the parser can tell literal segments apart.
    """

    def __init__(self, source: str, name: str | None = None) -> None:
        self.source = source
        self.name = name
        self._line_starts = line_starts(source)

    # -- positions ---------------------------------------------------------
    def line_col(self, pos: int) -> tuple[int, int]:
        """1-based line and column of an offset."""
        line = bisect_right(self._line_starts, pos)
        return line, pos - self._line_starts[line - 1] + 1

    def error(self, message: str, pos: int) -> TemplateSyntaxError:
        """A syntax error at ``pos``; the message ends with handlebars.js's wording ("Parse error on line N")."""
        line, col = self.line_col(pos)
        return TemplateSyntaxError(f"{message} (Parse error on line {line})", name=self.name, lineno=line,
                                   column=col, source=self.source)

    # -- scanning ----------------------------------------------------------
    def tokenize(self) -> Iterator[Token]:
        """The tokens, made as the parser asks for them (a long template never has all of them at once)."""
        src, n = self.source, len(self.source)
        pos = 0
        while pos < n:
            start = src.find("{{", pos)
            if start == -1:
                yield Token("CONTENT", src[pos:], pos)
                break
            out: list[Token] = []
            text = src[pos:start]
            escaped = False
            if text.endswith("\\\\"):
                text = text[:-1]
            elif text.endswith("\\"):
                text, escaped = text[:-1], True
            if text:
                out.append(Token("CONTENT", text, pos))
            if escaped:
                pos = self._escaped_content(start, out)
            else:
                pos = self._mustache(start, out)
            yield from out
        yield Token("EOF", "", n)

    def _escaped_content(self, start: int, out: list[Token]) -> int:
        """``\\{{...``: literal text up to the next (possibly escaped) mustache."""
        src = self.source
        nxt = src.find("{{", start + 2)
        if nxt == -1:
            end = len(src)
        else:
            end = nxt
            for back in (2, 1):
                if nxt - back >= start + 2 and src[nxt - back:nxt] == "\\" * back:
                    end = nxt - back
                    break
        out.append(Token("CONTENT", src[start:end], start))
        return end

    def _mustache(self, pos: int, out: list[Token]) -> int:
        src = self.source
        m = _OPENERS.match(src, pos)
        kind = m.lastgroup
        if kind == "UNCLOSED_LONG_COMMENT":
            raise self.error("comment opened with '{{!--' is never closed with '--}}'", pos)
        if kind in ("LONG_COMMENT", "COMMENT"):
            out.append(Token("COMMENT", m.group(), pos))
            return m.end()
        if kind == "OPEN" and src.startswith("!", m.end()):
            raise self.error("comment opened with '{{!' is never closed with '}}'", pos)
        if kind == "OPEN_AMP":
            kind = "OPEN"
        out.append(Token(kind, m.group(), pos))
        if kind == "INVERSE":
            return m.end()
        opened_at = pos
        pos = m.end()
        n = len(src)
        while True:
            if pos >= n:
                line, col = self.line_col(opened_at)
                raise self.error(f"the mustache opened at {line}:{col} is never closed with '}}}}'", opened_at)
            m = _MUSTACHE.match(src, pos)
            if m is None:
                raise self._invalid(pos, opened_at)
            kind = m.lastgroup
            text = m.group()
            if kind == "WS":
                pos = m.end()
                continue
            if kind == "NESTED_OPEN":
                line, col = self.line_col(opened_at)
                raise self.error(f"'{{{{' inside a mustache: the one opened at {line}:{col} is not closed", pos)
            if kind in ("DOTDOT", "DOT"):
                kind = "ID"
            elif kind == "LITERAL_ID":
                kind = "ID"
                text = re.sub(r"\\([\\\]])", r"\1", text)
            elif kind == "STRING":
                quote = text[0]
                text = text[1:-1].replace("\\" + quote, quote)
            out.append(Token(kind, text, pos))
            pos = m.end()
            if kind in ("CLOSE", "CLOSE_UNESCAPED"):
                return pos
            if kind == "CLOSE_RAW_BLOCK":
                return self._raw(pos, out)

    def _invalid(self, pos: int, opened_at: int) -> TemplateSyntaxError:
        """Explain a character no mustache rule accepts."""
        name = _NAME_NO_LOOKAHEAD.match(self.source, pos)
        if name:
            end = name.end()
            if end >= len(self.source):
                line, col = self.line_col(opened_at)
                return self.error(f"the mustache opened at {line}:{col} is never closed with '}}}}'", opened_at)
            return self.error(f"unexpected character {self.source[end]!r} after {name.group()!r} "
                              "(names are separated by spaces, paths by '.' or '/')", end)
        return self.error(f"unexpected character {self.source[pos]!r} in a mustache", pos)

    def _raw(self, pos: int, out: list[Token]) -> int:
        """Content of a raw block up to its matching ``{{{{/name}}}}``."""
        src = self.source
        depth = 1
        start = pos
        while True:
            nxt = src.find("{{{{", pos)
            if nxt == -1:
                raise self.error("raw block opened with '{{{{' is never closed", start)
            if nxt > pos:
                out.append(Token("CONTENT", src[pos:nxt], pos))
            close = _RAW_CLOSE.match(src, nxt)
            if close:
                depth -= 1
                if depth == 0:
                    out.append(Token("END_RAW_BLOCK", close.group(1), nxt))
                    return close.end()
                out.append(Token("CONTENT", close.group(), nxt))
                pos = close.end()
            else:
                if not src.startswith("{{{{/", nxt):
                    depth += 1
                out.append(Token("CONTENT", "{{{{", nxt))
                pos = nxt + 4
