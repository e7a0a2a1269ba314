"""Exceptions raised by mailtpl.

Every template error is a ``pybars.PybarsError`` once pybars3 is imported, so
that code written for pybars3 keeps catching them, while mailtpl itself never
imports pybars3 (building its grammar takes ~230 ms). Until then their base is
a plain Exception subclass; the first error mailtpl makes after pybars3 has
been imported (by anyone), or reading ``mailtpl.PybarsError``, moves that base
under ``pybars.PybarsError`` (:func:`_link_pybars`), so ``except
pybars.PybarsError`` catches every mailtpl error raised while pybars3 is loaded.

Errors that point into a template carry ``name``, ``lineno`` and ``column``
(both 1-based) and format themselves as ``name:line:col: message`` followed by
the offending line and a caret.

Every error's ``args`` are its constructor's arguments, so ``type(err)(*err.args)``
rebuilds it: that is how pickle and Celery's result backend (which keeps only
the type's name and ``args``) give the caller the same error back.
"""
from __future__ import annotations

import re
import sys


# Where lines break, for every position and shown line: the terminators str.splitlines() knows.
LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def line_starts(source: str) -> list[int]:
    """Offsets at which the lines of ``source`` start (the first is 0)."""
    return [0] + [m.end() for m in LINE_BREAK.finditer(source)]


def source_line(source: str, lineno: int) -> str | None:
    """Line ``lineno`` (1-based) of ``source``, without its terminator."""
    pos = 0
    for _ in range(lineno - 1):
        m = LINE_BREAK.search(source, pos)
        if m is None:
            return None
        pos = m.end()
    if pos == len(source) and lineno > 1:
        return None
    end = LINE_BREAK.search(source, pos)
    return source[pos:end.start() if end else len(source)]


class _Unlinked(Exception):
    """The base of mailtpl's errors while pybars3 is not loaded."""


class _PybarsBase(_Unlinked):
    """Becomes a subclass of ``pybars.PybarsError`` instead of ``_Unlinked`` once pybars3 is loaded.

    (``__bases__`` can only move between classes of the same layout defined in Python, hence the
    intermediate ``_Unlinked`` rather than ``Exception`` itself.)
    """


def _link_pybars() -> None:
    """Make every mailtpl template error a ``pybars.PybarsError`` if pybars3 has been imported."""
    pybars_error = getattr(sys.modules.get("pybars._compiler"), "PybarsError", None)
    if pybars_error is not None and _PybarsBase.__bases__[0] is not pybars_error:
        _PybarsBase.__bases__ = (pybars_error,)


def __getattr__(name: str):
    """``PybarsError`` is pybars3's own class: reading it loads pybars3 (and links mailtpl's errors under it)."""
    if name == "PybarsError":
        from pybars import PybarsError

        _link_pybars()
        return PybarsError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class TemplateError(_PybarsBase):
    """Base class of errors that point at a place in a template."""

    def __init__(
        self,
        message: str,
        name: str | None = None,
        lineno: int | None = None,
        column: int | None = None,
        source: str | None = None,
        line: str | None = None,
    ) -> None:
        """``source`` is the template's text, of which only line ``lineno`` is kept; or give that ``line``."""
        self.message = message
        self.name = name
        self.lineno = lineno
        self.column = column
        self.source_line = source_line(source, lineno) if source and lineno else line
        _link_pybars()
        super().__init__(str(self))

    _after_message: tuple[str, ...] = ()  # the attributes a subclass's constructor takes after ``message``

    @property
    def args(self) -> tuple:
        """The constructor's arguments (the source reduced to its ``line``): ``type(err)(*err.args)`` rebuilds it."""
        extra = tuple(getattr(self, attribute) for attribute in self._after_message)
        return (self.message, *extra, self.name, self.lineno, self.column, None, self.source_line)

    @property
    def location(self) -> str:
        parts = [self.name or "<template>"]
        if self.lineno:
            parts.append(str(self.lineno))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        if self.source_line is None:
            return f"{self.location}: {self.message}"
        caret = " " * max((self.column or 1) - 1, 0) + "^"
        return f"{self.location}: {self.message}\n    {self.source_line.replace(chr(9), ' ')}\n    {caret}"

    def __reduce__(self):  # pickle (multiprocessing, pytest-xdist) rebuilds it from its arguments
        return (type(self), self.args)


class TemplateSyntaxError(TemplateError):
    """The template cannot be parsed."""


class UndefinedError(TemplateError):
    """Strict mode: a variable the template uses is not in the data."""

    _after_message = ("path",)

    def __init__(self, message: str, path: str, *where, **where_named) -> None:
        self.path = path
        super().__init__(message, *where, **where_named)


class TemplateRuntimeError(TemplateError):
    """A helper or partial failed while rendering (missing helper, missing partial, ...)."""


class TemplateNotFound(TemplateError, LookupError):
    """No email or partial of that name; the message lists the names there are."""

    def __init__(self, name: str, available: list[str] | tuple[str, ...] = (), what: str = "template") -> None:
        self.available = sorted(available)
        self.what = what
        listing = ", ".join(self.available) if self.available else "none"
        super().__init__(f"no {what} named {name!r} (available: {listing})", name=name)

    @property
    def args(self) -> tuple:
        return (self.name, self.available, self.what)

    @property
    def location(self) -> str:
        return self.name or "<template>"

    def __str__(self) -> str:
        return self.message


class DataError(TemplateError, ValueError):
    """Sample data or context that cannot be used (bad JSON, wrong type)."""


class HelperError(Exception):
    """Raise from a helper to report a usage error; mailtpl adds the template, line and column."""


_link_pybars()  # pybars3 imported before mailtpl
