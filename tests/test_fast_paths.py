"""Render shortcuts against the slow path they skip, on random templates and data (exact before fast).

Compiled templates take shortcuts while the builtin helpers are in effect (the inlined ``if``/``unless``,
``each``/``with`` without the helper lookup and Options object, facts about the helpers computed once per
module) and for plain dicts, str and int values. Rendering with ``SLOW_HELPERS`` (the same builtins behind
wrappers, so no identity check passes) and the data's dicts as a dict subclass takes the general path
through ``block``/``call``/``amb``/``get``: both must give the same output or the same error. The templates come from tools/differential.py's generator (blocks, else chains, sections,
partials, partial blocks, inline partials, @data, ../); the seed rotates per run (set MAILTPL_SEED to replay).
"""
from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtpl import Compiler, TemplateError
from mailtpl.helpers import BUILTINS
from mailtpl.values import _ESCAPES

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("differential", ROOT / "tools" / "differential.py")
differential = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(differential)


def _wrapped(helper):
    def call(*args, **kw):
        return helper(*args, **kw)
    return call


SLOW_HELPERS = {name: _wrapped(helper) for name, helper in BUILTINS.items()}


def outcome(render) -> tuple[str, str]:
    try:
        return "ok", render()
    except TemplateError as exc:
        return type(exc).__name__, str(exc)


class _Dict(dict):
    """A dict subclass: compiled lookups take get()/lookup() for it, not the inlined dict.get."""


def slow_data(value):
    """``value`` with every dict a _Dict (lists and tuples rebuilt around them)."""
    if isinstance(value, dict):
        return _Dict({k: slow_data(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return type(value)(slow_data(v) for v in value)
    return value


def assert_fast_equals_slow(template, data, **render_options) -> str:
    """The builtins' shortcuts and the inlined dict and int cases against the general path."""
    fast = outcome(lambda: template(data, **render_options))
    slow = outcome(lambda: template(slow_data(data), helpers=SLOW_HELPERS, **render_options))
    assert fast == slow
    return fast[1]


@pytest.mark.parametrize("options", [{}, {"strict": True}, {"compat": True}, {"assume_objects": True},
                                     {"data": False}, {"explicit_partial_context": True}], ids=repr)
def test_builtin_shortcuts_render_as_the_general_path(options):
    seed = int(os.environ.get("MAILTPL_SEED", time.time_ns() % 2**32))
    generator = differential.Generator(seed)
    for i in range(400):
        case = generator.case(i)
        try:
            template = Compiler().compile(case["template"], **options)
        except TemplateError:
            continue
        try:
            assert_fast_equals_slow(template, case["data"], partials=case["partials"])
        except AssertionError:
            raise AssertionError(f"MAILTPL_SEED={seed} case {i}: {case['template']!r} data {case['data']!r}")


def test_benchmark_templates_render_as_the_general_path():
    bench = importlib.util.spec_from_file_location("compile_render", ROOT / "bench" / "compile_render.py")
    module = importlib.util.module_from_spec(bench)
    bench.loader.exec_module(module)
    for source, data in ((module.EMAIL, module.EMAIL_DATA), (module.ROWS, module.ROWS_DATA)):
        assert "<" in assert_fast_equals_slow(Compiler().compile(source), data)


class _Fails:
    def __iter__(self):
        raise ValueError("no items")


@pytest.mark.parametrize("source", ["{{#each xs}}a{{else}}b{{/each}}", "{{#with xs}}a{{else}}b{{/with}}",
                                    "{{#each xs as |x i|}}{{i}}{{x}}{{/each}}", "{{#with xs as |x|}}{{x}}{{/with}}",
                                    "{{#each xs}}{{@index}}{{@first}}{{@last}}{{@key}}{{.}}{{/each}}"])
@pytest.mark.parametrize("xs", [None, [], [1, 2], (3,), {"b": 1, "2": 2}, {}, "", "s", 0, True, _Fails(),
                                lambda this: [this["k"]], lambda this: 1 / 0, iter([5, 6])], ids=repr)
def test_each_and_with_shortcuts_on_odd_values(source, xs):
    template = Compiler().compile(source, name="t.hbs")
    if type(xs).__name__ == "list_iterator":  # consumed by the first render: one per path
        fast = outcome(lambda: template({"xs": iter([5, 6]), "k": 7}))
        slow = outcome(lambda: template({"xs": iter([5, 6]), "k": 7}, helpers=SLOW_HELPERS))
        assert fast == slow
        return
    assert_fast_equals_slow(template, {"xs": xs, "k": 7})


class _User:
    @property
    def full(self):
        return "Ada L."


def test_nested_renders_keep_their_own_access_policy():
    """A render sets the access policy only when it differs from the one in effect: a render inside a helper
    with another policy gets it, and the outer render has its own back afterwards."""
    inner = Compiler().compile("[{{u.full}}]")
    outer = Compiler().compile("{{u.full}}{{nest}}{{u.full}}{{plain}}")
    helpers = {"nest": lambda this: inner(this, allowed_proto_properties={"full": True}),
               "plain": lambda this: inner(this)}
    assert outer({"u": _User()}, helpers=helpers) == "[Ada L.][]"
    assert outer({"u": _User()}, helpers=helpers, allowed_proto_properties={"full": True}) == "Ada L.[Ada L.]Ada L.[]"


class _Text(str):
    """A str subclass: compiled {{x}} takes the general escape() path for it, not the str shortcut."""


ESCAPED = Compiler().compile("{{x}}|{{o.x}}|{{#each xs}}{{.}}{{/each}}")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("&<>\"'`=a é\n"), max_size=30) | st.text(max_size=30))
def test_escaping_shortcut_equals_the_general_path_and_the_table(text):
    """{{x}} of a str (needs_escape, then replace_escapes) against escape() on a str subclass and
    handlebars.js's table applied per character."""
    expected = "".join(_ESCAPES.get(ch, ch) for ch in text)
    fast = ESCAPED({"x": text, "o": {"x": text}, "xs": [text]})
    slow = ESCAPED({"x": _Text(text), "o": {"x": _Text(text)}, "xs": [_Text(text)]})
    assert fast == slow == f"{expected}|{expected}|{expected}"


class _Int(int):
    """An int subclass: compiled {{x}} takes the general path for it, not the int shortcut."""


@pytest.mark.parametrize("n", [0, 7, -12, 10**30])
def test_int_shortcut_equals_the_general_path(n):
    template = Compiler().compile("{{n}} {{{n}}} {{o.n}} {{{o.n}}} {{#each xs}}{{@index}}{{.}}{{/each}} {{data.n}}")
    data = {"n": n, "o": {"n": n}, "xs": [n, n], "data": _Dict(n=n)}
    slow = {"n": _Int(n), "o": {"n": _Int(n)}, "xs": [_Int(n), _Int(n)], "data": _Dict(n=_Int(n))}
    assert template(data) == template(slow, helpers=SLOW_HELPERS)


class _BadStr:
    def __str__(self):
        raise ValueError("no text")


@pytest.mark.parametrize("source, options", [
    ("{{#each xs}}\n  {{.}}{{/each}}", {}),
    ("{{#each xs as |x i|}}{{i}}:{{x.name}}{{/each}}", {}),
    ("{{#each xs}}{{#each ../xs}}{{@../index}}{{@index}}{{/each}}{{/each}}", {}),
    ("{{#each xs}}\n{{nope}}{{/each}}", {"strict": True}),
    ("{{#each xs}}{{../top}}{{top}}{{/each}}", {"compat": True}),
])
@pytest.mark.parametrize("xs", [[_BadStr()], [{"name": "a"}, {"name": "<b>"}], [1, None, "s"]], ids=repr)
def test_each_loop_over_a_list_equals_the_general_path_errors_included(source, options, xs):
    """The compiled loop over a list (codegen.each_loop), its error positions included."""
    assert_fast_equals_slow(Compiler().compile(source, name="loop.hbs", **options), {"xs": xs, "top": "T"})


def test_each_body_too_long_to_write_twice_renders_through_each_block():
    """A long each body is not copied into a loop (compile time and memory); the output is the same."""
    body = "<p>" + "x" * 20000 + "{{name}}</p>"
    template = Compiler().compile("{{#each xs}}" + body + "{{/each}}")
    assert "each_list" not in Compiler().precompile("{{#each xs}}" + body + "{{/each}}")
    assert assert_fast_equals_slow(template, {"xs": [{"name": "a"}, {"name": "<b>"}]}).endswith("&lt;b&gt;</p>")


@pytest.mark.parametrize("source", ["{{#if a}}{{b}}{{/if}}", "{{#unless x}}{{b}}{{/unless}}", "{{#if f}}y{{/if}}"])
def test_inlined_if_errors_equal_the_general_paths(source):
    data = {"a": True, "b": _BadStr(), "f": lambda this: 1 / 0}
    assert_fast_equals_slow(Compiler().compile(source, name="t.hbs"), data)
