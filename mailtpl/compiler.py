"""``mailtpl.Compiler``: a drop-in for ``pybars.Compiler`` that speaks all of Handlebars 4.7.

source -> :mod:`lexer` -> :mod:`parser` -> :mod:`whitespace` -> :mod:`codegen`
-> Python code object -> :class:`~mailtpl.runtime.Template`. A Compiler holds
no state between calls, so one instance can be shared by any number of threads.
"""
from __future__ import annotations

from .codegen import CodeGenerator
from .errors import TemplateSyntaxError
from .parser import parse
from .runtime import Template
from .whitespace import strip_whitespace


class Compiler:
    def compile(self, source: str, *, name: str | None = None, strict: bool = False,
                prevent_indent: bool = False, ignore_standalone: bool = False,
                known_helpers_only: bool = False, no_escape: bool = False,
                assume_objects: bool = False) -> Template:
        """Compile ``source`` into a template: ``template(context, helpers=None, partials=None) -> str``."""
        code = self.precompile(source, name=name, strict=strict, prevent_indent=prevent_indent,
                               ignore_standalone=ignore_standalone, known_helpers_only=known_helpers_only,
                               no_escape=no_escape, assume_objects=assume_objects)
        return load(code, name)

    def precompile(self, source: str, *, name: str | None = None, strict: bool = False,
                   prevent_indent: bool = False, ignore_standalone: bool = False,
                   known_helpers_only: bool = False, no_escape: bool = False,
                   assume_objects: bool = False) -> str:
        """Python source of a module whose ``template`` renders ``source`` with no compile step."""
        if not isinstance(source, str):
            raise TypeError(f"template source must be str, not {type(source).__name__}")
        options = {key: value for key, value in (
            ("strict", strict), ("prevent_indent", prevent_indent), ("ignore_standalone", ignore_standalone),
            ("known_helpers_only", known_helpers_only), ("no_escape", no_escape),
            ("assume_objects", assume_objects)) if value}
        program = strip_whitespace(parse(source, name), ignore_standalone=ignore_standalone)
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
