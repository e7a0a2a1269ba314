"""The names precompiled templates use: the stable contract between generated code and the runtime.

A module made by :meth:`mailtpl.Compiler.precompile` starts with
``from mailtpl.runtime_api import *`` and uses nothing else of mailtpl. So a
template precompiled by one release renders with any later release of the same
major version: the names in ``__all__`` are only ever added to, and each keeps
its signature and meaning. Everything else in :mod:`mailtpl.runtime`,
:mod:`mailtpl.values` and :mod:`mailtpl.helpers` may change.

Importing this module loads the runtime only (no compiler, no pybars3,
premailer or lxml). The compiler is loaded the first time a render is given a
partial as source text, by :func:`compile_partial`, which every template
module hands its :class:`TemplateInfo` (as handlebars.js's full build gives its
runtime ``env.compile``).
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from .helpers import BUILTINS
from .helpers.if_ import condition
from .runtime import (
    NULL_CONTEXT, InlinePartial, Raw, Static, Template, TemplateInfo, ablock, amb, block, btxt, call, cfind,
    context_get, data_up, depth, each_block, each_list, if_test, lam, no_get, oget, one_line, partial, push, section,
    sget, with_block,
)
from .values import escape as esc, escape_html as esc_str, get, needs_escape, replace_escapes, to_str as txt

__all__ = [
    # what a template module builds: its facts, block bodies, inline partials, the template itself
    "TemplateInfo", "Template", "Static", "Raw", "InlinePartial", "compile_partial",
    # lookups: non-strict, strict (sget: must exist; oget: the object read from must exist), ../, @../, compat
    "get", "sget", "oget", "depth", "data_up", "cfind", "push", "context_get", "no_get",
    # output: escaped, as text, a block helper's result, a function in the data
    "esc", "esc_str", "txt", "btxt", "lam",
    # helpers, blocks, sections and partials
    "BUILTINS", "NULL_CONTEXT", "condition", "call", "amb", "block", "ablock", "section", "partial",
    # shortcuts while the builtin helper is in effect, and for a str value (mailtpl 0.2)
    "each_block", "each_list", "with_block", "if_test", "needs_escape", "replace_escapes",
    # the output of a tag written into an indented partial at compile time (mailtpl 0.2)
    "one_line",
]

_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 256


def compile_partial(source: str, name: str, options: dict) -> Template:
    """A partial given to a render as source text, compiled with the calling template's options (and cached)."""
    key = (source, name, repr(sorted(options.items())))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    from .compiler import Compiler  # the first string partial loads the compiler; templates alone never do

    template = Compiler().compile(source, name=name, **options)
    with _CACHE_LOCK:
        _CACHE[key] = template
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return template
