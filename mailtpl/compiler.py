"""``mailtpl.Compiler``: a drop-in for ``pybars.Compiler`` that speaks all of Handlebars 4.7.

source -> :mod:`lexer` -> :mod:`parser` -> :mod:`whitespace` -> :mod:`codegen`
-> Python code object -> :class:`~mailtpl.runtime.Template`. A Compiler holds
no state between calls, so one instance can be shared by any number of threads.
"""
from __future__ import annotations

from . import nodes as n
from .codegen import CodeGenerator
from .errors import TemplateSyntaxError
from .parser import parse
from .runtime import Template
from .whitespace import strip_whitespace


def compile_options(*, strict: bool = False, prevent_indent: bool = False, ignore_standalone: bool = False,
                    known_helpers_only: bool = False, no_escape: bool = False,
                    assume_objects: bool = False) -> dict:
    """The options that are set, by their snake_case names (handlebars.js's, snake_cased)."""
    return {key: value for key, value in (
        ("strict", strict), ("prevent_indent", prevent_indent), ("ignore_standalone", ignore_standalone),
        ("known_helpers_only", known_helpers_only), ("no_escape", no_escape),
        ("assume_objects", assume_objects)) if value}


class Compiler:
    def compile(self, source: str, *, name: str | None = None, strict: bool = False,
                prevent_indent: bool = False, ignore_standalone: bool = False,
                known_helpers_only: bool = False, no_escape: bool = False,
                assume_objects: bool = False) -> Template:
        """Compile ``source`` into a template: ``template(context, helpers=None, partials=None) -> str``."""
        return load(self.precompile(source, name=name, strict=strict, prevent_indent=prevent_indent,
                                    ignore_standalone=ignore_standalone, known_helpers_only=known_helpers_only,
                                    no_escape=no_escape, assume_objects=assume_objects), name)

    def precompile(self, source: str, *, name: str | None = None, strict: bool = False,
                   prevent_indent: bool = False, ignore_standalone: bool = False,
                   known_helpers_only: bool = False, no_escape: bool = False,
                   assume_objects: bool = False) -> str:
        """Python source of a module whose ``template`` renders ``source`` with no compile step."""
        options = compile_options(strict=strict, prevent_indent=prevent_indent, ignore_standalone=ignore_standalone,
                                  known_helpers_only=known_helpers_only, no_escape=no_escape,
                                  assume_objects=assume_objects)
        return generate(self.parse(source, name=name, ignore_standalone=options.get("ignore_standalone", False)),
                        source, name, options)

    def parse(self, source: str, *, name: str | None = None, ignore_standalone: bool = False) -> n.Program:
        """The AST of ``source``, whitespace control applied."""
        if not isinstance(source, str):
            raise TypeError(f"template source must be str, not {type(source).__name__}")
        return strip_whitespace(parse(source, name), ignore_standalone=ignore_standalone)


def generate(program: n.Program, source: str, name: str | None, options: dict) -> str:
    """Module source for an AST (as :meth:`Compiler.parse` returns, possibly transformed)."""
    return CodeGenerator(name, source, options).module(program)


def load(code: str, name: str | None = None) -> Template:
    """The template of a precompiled module's source (what :meth:`Compiler.precompile` returned)."""
    try:
        # One filename for all: CPython keeps every distinct code filename alive.
        compiled = compile(code, "<mailtpl template>", "exec", dont_inherit=True)
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise TemplateSyntaxError(f"template too complex to compile ({type(exc).__name__}: {exc})",
                                  name=name) from None
    namespace: dict = {"__name__": "mailtpl._template"}
    exec(compiled, namespace)  # noqa: S102 - code we generated ourselves
    return namespace["template"]
