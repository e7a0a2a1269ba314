"""``mailtpl.Compiler``: a drop-in for ``pybars.Compiler`` that speaks all of Handlebars 4.7.

source -> :mod:`lexer` -> :mod:`parser` -> :mod:`whitespace` -> :mod:`codegen`
-> Python code object -> :class:`~mailtpl.runtime.Template`. A Compiler holds
no state between calls, so one instance can be shared by any number of threads.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from types import CodeType

from . import nodes as n
from .codegen import SEGMENT_BREAK, CodeGenerator
from .errors import TemplateSyntaxError
from .options import CompileOptions
from .parser import parse
from .runtime import CODE_FILENAME, Template
from .whitespace import strip_whitespace


class Compiler:
    """``pybars.Compiler``'s API: ``compile(source, path=None, **options)``, ``template(code)``, ``precompile``."""

    def compile(self, source: str | n.Program, path: str | os.PathLike | None = None, *,
                name: str | os.PathLike | None = None, sources: Mapping[str, str] | None = None,
                **options) -> Template:
        """Compile ``source`` into a template: ``template(context, helpers=None, partials=None) -> str``.

        ``source`` is the template's text, or its AST as :meth:`parse` returns it (possibly transformed,
        e.g. an email with its partials written in). ``path`` (pybars3's name) and ``name`` both name the
        template in errors (for an AST, its ``file`` by default); ``sources`` gives an AST's files' text,
        shown under errors. ``options`` are :class:`CompileOptions`.
        """
        name = _name_of(source, name if name is not None else path)
        return load(self.precompile(source, name=name, sources=sources, **options), name)

    def template(self, code: str) -> Template:
        """pybars3's ``Compiler.template``: the template of a precompiled module's source."""
        return load(code)

    def precompile(self, source: str | n.Program, path: str | os.PathLike | None = None, *,
                   name: str | os.PathLike | None = None, sources: Mapping[str, str] | None = None,
                   **options) -> str:
        """Python source of a module whose ``template`` renders ``source`` with no compile step
        (arguments as :meth:`compile`)."""
        name = _name_of(source, name if name is not None else path)
        settings = CompileOptions(**options)
        if isinstance(source, n.Program):
            program, texts = source, dict(sources or {})
        else:
            program = self.parse(source, name=name, ignore_standalone=settings.ignore_standalone)
            texts = {name: source}
        return CodeGenerator(name, texts, settings).module(program)

    def parse(self, source: str, *, name: str | os.PathLike | None = None,
              ignore_standalone: bool = False) -> n.Program:
        """The AST of ``source``, whitespace control applied; every node's ``file`` is ``name``."""
        if not isinstance(source, str):
            raise TypeError(f"template source must be str (or a parsed Program), not {type(source).__name__}")
        return strip_whitespace(parse(source, _name(name)), ignore_standalone=ignore_standalone)


def _name(name: str | os.PathLike | None) -> str | None:
    """A template's name as text (a path is given as its string form)."""
    if name is None or isinstance(name, str):
        return name
    return os.fsdecode(os.fspath(name))


def _name_of(source: str | n.Program, name: str | os.PathLike | None) -> str | None:
    """The name errors give the template: ``name``, else an AST's file."""
    if name is None and isinstance(source, n.Program):
        return source.file
    return _name(name)


def load(code: str, name: str | None = None) -> Template:
    """The template of a precompiled module's source (what :meth:`Compiler.precompile` returned).

    The module is compiled one segment at a time (codegen marks where it may be cut), so that
    compiling a long template takes memory in proportion to a segment, not to the whole module.
    """
    namespace: dict = {"__name__": "mailtpl._template"}
    line = 0
    for segment in code.split(SEGMENT_BREAK):
        try:
            compiled = compile(segment, CODE_FILENAME, "exec", dont_inherit=True)
        except (SyntaxError, RecursionError, MemoryError) as exc:
            raise TemplateSyntaxError(f"template too complex to compile ({type(exc).__name__}: {exc})",
                                      name=name) from None
        exec(_shift_lines(compiled, line) if line else compiled, namespace)  # noqa: S102 - code we generated
        line += segment.count("\n") + SEGMENT_BREAK.count("\n")
    return namespace["template"]


def _shift_lines(code: CodeType, by: int) -> CodeType:
    """``code`` (and the functions in it) numbered as if it started ``by`` lines further down."""
    consts = tuple(_shift_lines(c, by) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + by, co_consts=consts)
