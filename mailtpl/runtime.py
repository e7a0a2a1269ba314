"""What compiled templates call at render time.

Generated code (see :mod:`mailtpl.codegen`) stays small by calling into the
functions here for anything beyond appending text: helper calls, blocks,
partials and strict lookups. Nothing here holds state between renders, so a
template can be rendered from many threads at once. Generated code reaches
these through :mod:`mailtpl.runtime_api`, whose names are the stable part; this
module imports nothing above it (no compiler: a partial given as source text is
compiled by the function the template's module hands its ``TemplateInfo``).

Names used by generated code:
``H`` the helpers of this render, ``c`` the context, ``d`` the @data frame,
``P`` the partials in scope, ``W`` a call site ``(template_info, line, column, path)``.
"""
from __future__ import annotations

import functools
import inspect
from contextvars import ContextVar
from collections.abc import Callable, Mapping
from types import MappingProxyType

from .access import OPTION_NAMES as ACCESS_OPTIONS, AccessPolicy, current as current_policy, denial
from .errors import HelperError, TemplateError, TemplateRuntimeError, UndefinedError
from .helpers import BUILTINS
from .helpers.if_ import condition
from .helpers.each import iterate
from .pybars_compat import Scope, strlist
from .values import MISSING, NoFrame, get, is_callable, is_empty, lookup, loose_equal, object_keys, to_str, truthy

Program = Callable[[object, dict, tuple, dict], str]  # (c, d, bp, P): object, not typing.Any (2 ms to import)


CODE_FILENAME = "<mailtpl template>"  # of all generated code: CPython keeps every distinct filename alive


class TemplateInfo:
    """Compile-time facts a running template needs: its name and source (for errors) and its options."""

    __slots__ = ("name", "source", "options", "strict", "assume_objects", "compat", "no_data", "policy",
                 "compile_partial")

    def __init__(self, name: str | None, source: str, options: dict, no_data: bool = False,
                 compile_partial: Callable[[str, str, dict], Template] | None = None) -> None:
        self.name = name
        self.source = source
        self.options = options
        self.strict = bool(options.get("strict"))
        self.assume_objects = bool(options.get("assume_objects"))
        self.compat = bool(options.get("compat"))
        self.no_data = no_data
        self.policy = AccessPolicy.from_options(options)
        self.compile_partial = compile_partial  # source text -> Template: given, so the runtime needs no compiler


def _where(W) -> dict:
    info, line, column = W[0], W[1], W[2]
    return {"name": info.name, "lineno": line, "column": column, "source": info.source}


# -- lookups -------------------------------------------------------------------
_PRIMITIVES = (str, int, float, bool)


def sget(obj, key, W):
    """Strict-mode terminal lookup: the key must exist (in an object: a string or number has no keys)."""
    value = MISSING if isinstance(obj, _PRIMITIVES) else lookup(obj, key)
    if value is MISSING:
        path = W[3]
        reason = denial(obj, key)
        if reason is not None:
            message = f'"{path}" is not defined: {reason}'
        elif isinstance(obj, _PRIMITIVES):
            message = f'"{path}" is not defined: cannot look up "{key}" in a {type(obj).__name__} ({obj!r})'
        elif path == key:
            message = f'"{key}" is not defined'
        else:
            message = f'"{path}" is not defined: nothing named "{key}" there'
        raise UndefinedError(message + " (strict mode)", path, **_where(W))
    return value


def oget(obj, key, W):
    """Strict / assume_objects intermediate lookup: the object read from must exist."""
    if obj is None or obj is MISSING:
        path = W[3]
        raise UndefinedError(f'"{path}" is not defined: cannot read "{key}" of a missing value', path, **_where(W))
    value = get(obj, key)
    if value is None and W[0].strict:
        reason = denial(obj, key)
        if reason is not None:
            raise UndefinedError(f'"{W[3]}" is not defined: {reason} (strict mode)', W[3], **_where(W))
    return value


def cfind(D: tuple, name: str):
    """compat: the nearest context up the ../ stack where ``name`` is neither missing nor null (else this one).

    handlebars.js 4.7.10 returns ``depths[i] && lookupProperty(depths[i], name)`` when it is not null, so
    a falsy context (0, false, "") ends the search with the context itself as the value: a one-key mapping
    stands for that.
    """
    for ctx in D:
        if ctx is None or ctx is MISSING:
            continue
        if not truthy(ctx):
            return {name: ctx}
        value = lookup(ctx, name)
        if value is not MISSING and value is not None:
            return ctx
    return D[0]


def depth(D: tuple, n: int):
    """The context ``n`` levels up (``../``), or None above the root."""
    return D[n] if n < len(D) else None


def push(c, D: tuple) -> tuple:
    """Depth stack of a block: a new level only when the block's context differs from the current one by
    JavaScript's loose ``!=``, as handlebars.js tests it (false after "0" adds none), and not for the null
    context a helper got where the context was null."""
    top = D[0]
    if c is top or (c is NULL_CONTEXT and top is None) or loose_equal(c, top):  # `context != depths[0]`
        return D
    return (c,) + D


def data_up(d: dict, n: int):
    """``@../name``: the data frame ``n`` levels up."""
    while d is not None and n:
        d = d.get("_parent")
        n -= 1
    return d


def btxt(value) -> str:
    """Output of a block helper: never escaped; a list or tuple (pybars3 style) is joined, flattened."""
    if type(value) is str:
        return value
    if isinstance(value, (list, tuple)):
        return "".join(btxt(v) for v in value)
    return to_str(value)


class LineBreak(BaseException):
    """A line break in the output of a tag that :mod:`mailtpl.flatten` wrote into an indented partial: the
    runtime indents the line it starts, the flattened email cannot. Caught by the Environment, which renders
    that email with its partials instead. A BaseException, as asyncio's CancelledError: the ``except
    Exception`` of the runtime and of helpers lets it through."""


def one_line(text: str) -> str:
    """The output of a tag marked ``indented`` (see :class:`LineBreak`)."""
    if "\n" in text:
        raise LineBreak
    return text


def context_get(c):
    """``cg(key)`` for a context that is not a dict (a list, an object, a pybars3 Scope)."""
    return functools.partial(get, c)


def no_get(key):
    """Stands in for ``c.get`` when the fast path must not be taken: never returns a str."""
    return MISSING


def lam(value, c):
    """A function found in the data is called (handlebars "lambdas"): with the context if it takes an argument,
    so both ``lambda this: ...`` and a method like ``user.full_name`` work."""
    if not is_callable(value):
        return value
    try:
        return value(c) if _takes_argument(value) else value()
    except (TemplateError, RecursionError):
        raise
    except Exception as exc:
        raise TemplateRuntimeError(f"a function in the data ({getattr(value, '__name__', 'callable')}) raised "
                                   f"{type(exc).__name__}: {exc}") from exc


def _takes_argument(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: assume the handlebars convention
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params)


# -- helpers -------------------------------------------------------------------
NULL_CONTEXT = MappingProxyType({})  # handlebars.js's nullContext: a helper's `this` where the context is null


def _invoke(h, name: str, this, args: tuple, kw: dict, W):
    if this is None:
        this = NULL_CONTEXT
    try:
        return h(this, *args, **kw)
    except (TemplateError, RecursionError):
        raise
    except Exception as exc:
        raise _helper_error(name, exc, W) from exc


def _helper_error(name: str, exc: Exception, W) -> TemplateRuntimeError:
    """What an exception from a helper's call becomes: a HelperError's message at the call site; one that rose
    in template code the helper ran (its block) as a value in the data at the tag that read it, as the compiled
    if/unless, which call no helper, report it; else what the helper raised, at the call site."""
    if isinstance(exc, HelperError):
        return TemplateRuntimeError(str(exc), **_where(W))
    in_block = _located(f"a value in the data raised {type(exc).__name__}: {exc}", exc)
    if in_block.lineno is not None:
        return in_block
    return TemplateRuntimeError(f"helper {name!r} raised {type(exc).__name__}: {exc}", **_where(W))


def if_test(value, this, include_zero, name: str, W) -> bool:
    """``condition()`` for the compiled if/unless: what it raises (a data function) is what the helper raises."""
    try:
        return condition(value, this, include_zero)
    except (TemplateError, RecursionError):
        raise
    except Exception as exc:
        raise _helper_error(name, exc, W) from exc


HOOKS = frozenset({"helperMissing", "blockHelperMissing"})
allow_hooks: ContextVar[bool] = ContextVar("mailtpl_allow_calls_to_helper_missing", default=False)


def _helper(H: dict, name: str, W):
    """The helper a template calls by name. handlebars.js 4.6+ hides helperMissing and blockHelperMissing
    from templates unless the render sets allow_calls_to_helper_missing."""
    h = H.get(name)
    if h is not None and name in HOOKS:
        if not allow_hooks.get():
            raise TemplateRuntimeError(f"{name} cannot be called from a template (it is what runs when a helper "
                                       "is missing); render with allow_calls_to_helper_missing=True to allow it",
                                       **_where(W))
        if name == "helperMissing":  # called as if the helper named helperMissing were missing, as handlebars.js
            return functools.partial(_call_as_missing, h)
    return h


def _call_as_missing(missing, this, *args, **kw):
    return missing(this, "helperMissing", *args, **kw)


def _find_helper(H: dict, name: str, c, W, simple: bool, value=MISSING):
    """helpers[name] || context[name] (a function) || helperMissing, as handlebars.js resolves a call."""
    h = _helper(H, name, W) if simple else None
    if h is not None:
        if not callable(h):
            raise TemplateRuntimeError(f"the helper {name!r} is a {type(h).__name__}, not a function, and this tag "
                                       "calls it (it has arguments or a block, or the name is a builtin or known "
                                       "helper)", **_where(W))
        return h
    if value is MISSING:
        value = sget(c, name, W) if W[0].strict else get(c, name)
    if is_callable(value):
        return value
    if truthy(value) or (value is not None and W[0].strict):  # handlebars.js: a truthy value is called, and throws
        raise TemplateRuntimeError(f'"{W[3]}" is not a helper or a function ({type(value).__name__})', **_where(W))
    return None


def _missing(H: dict, name: str, c, args: tuple, kw: dict, W):
    missing = H.get("helperMissing")
    return _invoke(missing, "helperMissing", c, (name,) + args, kw, W)


def call(H: dict, name: str, c, args: tuple, kw: dict, W, simple: bool = True, value=MISSING):
    """``{{name arg... key=value}}``: a simple helper, pybars3 convention ``helper(this, *args, **hash)``."""
    h = _find_helper(H, name, c, W, simple, value)
    if h is None:
        return _missing(H, name, c, args, kw, W)
    return _invoke(h, name, c, args, kw, W)


def amb(H: dict, name: str, c, base, W):
    """``{{name}}``: a helper if one is registered (a helper that is not a function is its value), else the
    value (a function in the data is called)."""
    h = _helper(H, name, W)
    if h is not None and (callable(h) or truthy(h)):  # handlebars.js: helpers[name] || context[name]
        return _invoke(h, name, c, (), {}, W) if callable(h) else h
    value = _value(base, name, W)
    if is_callable(value):
        return _invoke(lambda this: lam(value, this), name, c, (), {}, W)
    if value is None and H.get("helperMissing") is not BUILTINS["helperMissing"]:
        return _missing(H, name, c, (), {}, W)
    return value


class ProgramFn:
    """``options['fn']`` / ``options['inverse']`` for pybars3-style helpers: ``fn(this)`` -> strlist."""

    __slots__ = ("options", "program")

    def __init__(self, options: Options, program: Program | None) -> None:
        self.options = options
        self.program = program

    def __call__(self, this=None, data: dict | None = None, block_params=None) -> strlist | str:
        if isinstance(self.program, Raw):
            return self.program.text
        return strlist((self.options.run(self.program, this, data, block_params),))


def _unscope(scope, frame: dict):
    """A pybars3 Scope(item, parent, root, overrides=..., index=...) becomes the item (extended with the
    overrides, names that shadow its own) plus an @data frame."""
    extra, overrides = {}, {}
    while isinstance(scope, Scope):
        for attr in ("index", "key", "first", "last"):
            value = getattr(scope, attr)
            if value is not None and attr not in extra:
                extra[attr] = value
        for name, value in (scope.overrides or {}).items():
            overrides.setdefault(name, value)
        scope = scope.context
    if overrides:
        scope = _partial_context(scope, overrides)
    if extra:
        frame = dict(frame, _parent=frame, **extra)
    return scope, frame


def run(program: Program | None, this, frame: dict, P: dict, block_params=None) -> str:
    """A block's program (or None: nothing) on ``this``, as ``options.fn(this)`` runs it."""
    if program is None:
        return ""
    if type(this) is not dict and isinstance(this, Scope):
        this, frame = _unscope(this, frame)
    return program(this, frame, tuple(block_params) if block_params else (), P)


_OPTION_KEYS = ("fn", "inverse", "hash", "data", "name", "helpers", "partials", "root")


class Options(Mapping):
    """What a block helper receives as ``options``.

    handlebars.js style: ``options.fn(this)`` and ``options.inverse(this)`` render to a str,
    ``options.hash``, ``options.data``. pybars3 style: ``options['fn'](this)`` returns a strlist,
    and ``options['helpers']``, ``options['partials']``, ``options['root']``.
    """

    __slots__ = ("name", "program", "inverse_program", "data", "partials", "helpers", "hash")

    def __init__(self, name: str, fn: Program | None, inverse: Program | None, d: dict, P: dict, H: dict,
                 kw: dict) -> None:
        self.name = name
        self.program = fn
        self.inverse_program = inverse
        self.data = d
        self.partials = P
        self.helpers = H
        self.hash = kw

    def run(self, program: Program | None, this, data: dict | None = None, block_params=None) -> str:
        return run(program, this, self.data if data is None else data, self.partials, block_params)

    def fn(self, this=None, data: dict | None = None, block_params=None) -> str:
        return self.run(self.program, this, data, block_params)

    def inverse(self, this=None, data: dict | None = None, block_params=None) -> str:
        return self.run(self.inverse_program, this, data, block_params)

    def frame(self) -> dict:
        """A child @data frame (handlebars.js createFrame)."""
        return dict(self.data, _parent=self.data)

    def __getitem__(self, key: str):
        if key == "fn":
            return ProgramFn(self, self.program)
        if key == "inverse":
            return ProgramFn(self, self.inverse_program)
        if key == "root":
            return self.data.get("root")
        if key in _OPTION_KEYS:
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self):
        return iter(_OPTION_KEYS)

    def __len__(self) -> int:
        return len(_OPTION_KEYS)


def block(H: dict, name: str, c, d: dict, P: dict, fn, inv, args: tuple, kw: dict, W,
          simple: bool = True, value=MISSING):
    """``{{#name args...}}``: a block helper, pybars3 convention ``helper(this, options, *args, **hash)``."""
    h = _find_helper(H, name, c, W, simple, value)
    if h is None:
        return _missing(H, name, c, args, kw, W)
    return _invoke(h, name, c, (Options(name, fn, inv, d, P, H, kw),) + args, kw, W)


# Compiled {{#each x}} and {{#with x}} call these while the builtin helper is in effect (a check made once per
# render): the builtin's work and errors without the helper lookup and the Options object.
def each_block(value, c, d: dict, P: dict, fn: Program, inv: Program | None, W) -> str:
    this = NULL_CONTEXT if c is None else c
    try:
        if type(value) is not list and is_callable(value):  # (a list is never a function: no call to ask)
            value = value(this)
        out = iterate(value, d, fn, P)
        return "".join(out) if out else run(inv, this, d, P)
    except (TemplateError, RecursionError):
        raise
    except Exception as exc:
        raise _helper_error("each", exc, W) from exc


def each_list(loop, items: list, d: dict, P: dict, W) -> str:
    """``each_block`` for a non-empty list in a @data frame: the compiled body's own loop (codegen.each_loop)."""
    try:
        return "".join(loop(items, d, P))
    except (TemplateError, RecursionError):
        raise
    except Exception as exc:
        raise _helper_error("each", exc, W) from exc


def with_block(value, c, d: dict, P: dict, fn: Program, inv: Program | None, W) -> str:
    this = NULL_CONTEXT if c is None else c
    try:
        if type(value) is not dict and is_callable(value):
            value = value(this)
        return run(inv, this, d, P) if is_empty(value) else run(fn, value, d, P, (value,))
    except (TemplateError, RecursionError):
        raise
    except Exception as exc:
        raise _helper_error("with", exc, W) from exc


def ablock(H: dict, name: str, c, base, d: dict, P: dict, fn, inv, W):
    """``{{#name}}`` with no arguments: a helper if registered, else a section over the value."""
    h = _helper(H, name, W)
    if h is not None and callable(h):
        return _invoke(h, name, c, (Options(name, fn, inv, d, P, H, {}),), {}, W)
    if h is not None and truthy(h):  # a helper that is a value is the output, as in handlebars.js
        return to_str(h)
    value = _value(base, name, W)
    if is_callable(value):  # a function in the data: (this, options), or by its arity (lambda this: ...)
        arity = _positional(value)
        if arity == 0:
            value = _invoke(lambda this: value(), name, c, (), {}, W)
        else:
            value = _invoke(value, name, c, (Options(name, fn, inv, d, P, H, {}),) if arity > 1 else (), {}, W)
    return section(H, value, name, c, d, P, fn, inv, W)


def _value(base, name: str, W):
    """The data value of an ambiguous name: strict requires it; assume_objects requires the context."""
    info = W[0]
    if info.strict:
        return sget(base, name, W)
    if info.assume_objects:
        return oget(base, name, W)
    return get(base, name)


def _positional(fn) -> int:
    """How many positional arguments ``fn`` takes (2 for any number: the handlebars convention)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return 2
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return 2
    return min(2, sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
                      for p in params))


def section(H: dict, value, name: str, c, d: dict, P: dict, fn, inv, W):
    """A mustache section over ``value``: the blockHelperMissing helper decides (true, false/null, list, object)."""
    options = Options(name, fn, inv, d, P, H, {})
    return _invoke(H["blockHelperMissing"], "blockHelperMissing", c, (options, value), {}, W)


class Static:
    """A block body that is only text: a program with nothing to compute."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, c, d, bp, P) -> str:
        return self.text


class Raw(Static):
    """The body of a raw block ``{{{{name}}}}...{{{{/name}}}}``: pybars3 gives it to the helper as a str."""

    __slots__ = ()


# -- partials ------------------------------------------------------------------
class InlinePartial:
    """A ``{{#*inline "name"}}`` body registered as a partial."""

    __slots__ = ("program",)

    def __init__(self, program: Program) -> None:
        self.program = program

    def render_partial(self, c, d: dict, P: dict, H: dict, D: tuple | None = None) -> str:
        return self.program(c, d, (), P)


class PartialBlock:
    """``@partial-block``: the body of ``{{#> layout}}...{{/layout}}`` as seen from inside the layout."""

    __slots__ = ("program", "outer")

    def __init__(self, program: Program, outer) -> None:
        self.program = program
        self.outer = outer

    def render_partial(self, c, d: dict, P: dict, H: dict, D: tuple | None = None) -> str:
        # Inside the block, @partial-block means the enclosing one again.
        return self.program(c, dict(d, _parent=d, **{"partial-block": self.outer}), (), P)


def _partial_context(c, kw: dict):
    """``{{> name context key=value}}``: the context extended with the hash (a copy)."""
    if isinstance(c, Mapping):
        merged = dict(c)
    elif isinstance(c, (list, tuple)):
        merged = {str(i): v for i, v in enumerate(c)}
    else:  # an object's own data (see mailtpl.access)
        merged = {k: lookup(c, k) for k in (object_keys(c) if c is not None else None) or ()}
    merged.update(kw)
    return merged


def _indent(text: str, indent: str) -> str:
    lines = text.split("\n")
    last = len(lines) - 1
    for i, line in enumerate(lines):
        if not line and i == last:
            break
        lines[i] = indent + line
    return "\n".join(lines)


def partial(H: dict, name, c, kw: dict | None, d: dict, P: dict, indent: str, W,
            fn: Program | None = None, fn_partials: dict | None = None, D: tuple | None = None):
    """``{{> name}}`` and ``{{#> name}}...{{/name}}``."""
    if kw:
        c = _partial_context(c, kw)
    if callable(name) and not isinstance(name, str):
        target, label = name, getattr(name, "name", "<dynamic partial>")
    else:
        label = to_str(name)
        target = d.get("partial-block") if label == "@partial-block" else P.get(label)
    if fn is not None:
        d = dict(d, _parent=d)
        d["partial-block"] = PartialBlock(fn, d["_parent"].get("partial-block"))
        if fn_partials:
            P = {**P, **fn_partials}
        if target is None:
            target = d["partial-block"]
    if target is None:
        available = ", ".join(sorted(k for k in P)) or "none"
        what = "no @partial-block here (only inside a {{#> layout}} block)" if label == "@partial-block" \
            else f'The partial {label} could not be found (partials: {available})'
        raise TemplateRuntimeError(what, **_where(W))
    if W[0].no_data:  # data=false: handlebars.js gives partials no @data (no @root, no @index) but @partial-block
        d = {"partial-block": d["partial-block"]} if "partial-block" in d else NoFrame()
    if type(target) is str:
        target = _compile(target, label, W)
    render = getattr(target, "render_partial", None)
    if render is not None:
        out = render(c, d, P, H) if D is None else render(c, d, P, H, D)
    else:  # a callable written for pybars3: partial(context, helpers=, partials=, root=)
        out = to_str(target(c, helpers=H, partials=P, root=d.get("root")))
    return _indent(out, indent) if indent else out


def _compile(source: str, label: str, W) -> Template:
    """A partial given as source text, through the compile function its caller's module was given."""
    compile_partial = W[0].compile_partial
    if compile_partial is None:
        raise TemplateRuntimeError(f"the partial {label} is source text, and this template was precompiled without "
                                   "a compiler for partials: precompile it again, or pass compiled partials",
                                   **_where(W))
    return compile_partial(source, label, W[0].options)


# -- templates -----------------------------------------------------------------
class Template:
    """A compiled template: ``template(context, helpers=None, partials=None) -> str``."""

    __slots__ = ("_main", "info", "__weakref__")

    def __init__(self, main, info: TemplateInfo) -> None:
        self._main = main
        self.info = info

    @property
    def name(self) -> str | None:
        return self.info.name

    @property
    def source(self) -> str:
        return self.info.source

    def __call__(self, context=None, helpers: Mapping | None = None, partials: Mapping | None = None,
                 root=None, *, data: Mapping | None = None, allow_calls_to_helper_missing: bool = False,
                 **access) -> str:
        """Render with handlebars.js's runtime options: ``data`` (@data variables), ``helpers``, ``partials``,
        ``allow_calls_to_helper_missing``, and the data access options of :mod:`mailtpl.access`."""
        H = _merge_helpers(helpers)
        d = {"root": context if root is None else root}
        if data:
            d.update(data)
        policy = AccessPolicy.from_options(self.info.options, _access_options(access)) if access else self.info.policy
        # Setting a context variable to the value it has already changes nothing and costs a third of a
        # small render: set (and reset) only what differs.
        token = current_policy.set(policy) if current_policy.get() is not policy else None
        allow = bool(allow_calls_to_helper_missing)
        hooks = allow_hooks.set(allow) if allow_hooks.get() is not allow else None
        try:
            return self._main(context, d, partials if partials is not None else {}, H)  # never modified
        except RecursionError:
            raise TemplateRuntimeError("templates nested too deeply (a partial that includes itself?)",
                                       name=self.info.name) from None
        except TemplateError as exc:
            if exc.lineno is None and isinstance(exc, TemplateRuntimeError):
                raise _located(exc.message, exc) from exc
            raise
        except Exception as exc:  # raised by a data object (__str__, __eq__, __getitem__, a property, ...)
            raise _located(f"a value in the data raised {type(exc).__name__}: {exc}", exc) from exc
        finally:
            if token is not None:
                current_policy.reset(token)
            if hooks is not None:
                allow_hooks.reset(hooks)

    render = __call__

    def render_partial(self, c, d: dict, P: dict, H: dict, D: tuple | None = None) -> str:
        """Render as a partial; ``D`` is the caller's ../ stack, which compat templates look up names in."""
        if D is not None and self.info.compat:
            return self._main(c, d, P, H, D)
        return self._main(c, d, P, H)

    def __repr__(self) -> str:
        return f"<mailtpl.Template {self.info.name or '<string>'}>"


def _access_options(options: dict) -> dict:
    unknown = set(options).difference(ACCESS_OPTIONS)
    if unknown:
        raise TypeError(f"unknown render option(s) {', '.join(sorted(unknown))}")
    return options


def _located(message: str, exc: BaseException) -> TemplateRuntimeError:
    """A TemplateRuntimeError at the template position whose generated code was running when ``exc`` rose."""
    frame, lineno = None, 0
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == CODE_FILENAME:
            frame, lineno = tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next
    if frame is None:
        return TemplateRuntimeError(message)
    line, column, file = _position(frame.f_globals.get("LINES", ""), lineno)
    info = frame.f_globals.get(f"T{file}" if file else "T")
    return TemplateRuntimeError(message, name=info.name, lineno=line, column=column, source=info.source)


def _position(lines: str, lineno: int) -> tuple[int | None, int | None, int]:
    """Template line, column and file of a generated line, from a module's LINES map ("gen:line:col ...", with
    ":i" after the column for a node of file ``Ti`` of the module, else of its own ``T``)."""
    for entry in lines.split():
        gen, line, column, *file = entry.split(":")
        if int(gen) == lineno:
            return int(line), int(column), int(file[0]) if file else 0
    return None, None, 0


def _merge_helpers(helpers: Mapping | None) -> dict:
    if not helpers:
        return BUILTINS
    return {**BUILTINS, **helpers}
