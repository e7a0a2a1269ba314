"""Fuzzing: on any input the compiler raises nothing but TemplateSyntaxError, and a template that
compiles renders or raises a TemplateError (never a bare Python exception), whatever the data holds."""
import types
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtpl import Compiler, TemplateError, TemplateSyntaxError
from mailtpl.values import _ESCAPES, escape_html

FRAGMENTS = [
    "{{", "}}", "{{{", "}}}", "{{{{", "}}}}", "{{#", "{{/", "{{^", "{{else}}", "{{else ", "{{^}}", "{{>", "{{#>",
    "{{#*inline", "{{*", "{{!", "{{!--", "--}}", "{{&", "~", "(", ")", " as |", "|", "=", '"', "'", "[", "]",
    ".", "/", "../", "@", "@index", "@partial-block", "this", "if", "each", "with", "unless", "lookup", "log",
    "a", "b", "x.y", "raw", "\\", "\\\\", "\n", "\r\n", " ", "  ", "\t", "!", "1", "-2.5", "true", "null",
    "undefined", "includeZero=true", "é", "<p>", "&", "1.5", "-", "007", "@../", "@root", " as |x|", "x=", "k=1",
    "(x)", "{{#each a as |v k|}}", "\u2028", "\r", "helperMissing", "blockHelperMissing", "{{{{/raw}}}}", "..",
]

fragment_lists = st.lists(st.sampled_from(FRAGMENTS), max_size=30)
OPTIONS = st.fixed_dictionaries({}, optional={
    "strict": st.booleans(), "compat": st.booleans(), "data": st.booleans(), "assume_objects": st.booleans(),
    "known_helpers_only": st.booleans(), "known_helpers": st.just({"a": True, "if": False}),
    "explicit_partial_context": st.booleans(), "ignore_standalone": st.booleans(), "prevent_indent": st.booleans(),
})


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragment_lists, OPTIONS)
def test_compiler_raises_only_syntax_errors(parts, options):
    source = "".join(parts)
    try:
        template = Compiler().compile(source, name="fuzz.hbs", **options)
    except TemplateSyntaxError as err:
        assert err.name == "fuzz.hbs" and err.lineno and err.column
        return
    try:
        template({"a": True, "b": [1, {"x": 2}], "x": {"y": "z"}, "raw": "r"}, partials={"a": "{{b}}", "b": "B"})
    except TemplateError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes_the_parser(source):
    try:
        Compiler().compile(source)
    except TemplateSyntaxError:
        pass


# -- hostile data: objects whose dunders raise, odd types, interpreter internals --------------------------
class _Raises:
    """Raises from whichever protocol method ``where`` names."""

    def __init__(self, where):
        self.where = where

    def _maybe(self, name):
        if self.where == name:
            raise ValueError(f"{name} raised")

    def __str__(self):
        self._maybe("str")
        return "r"

    def __eq__(self, other):
        self._maybe("eq")
        return self is other

    __hash__ = object.__hash__

    def __bool__(self):
        self._maybe("bool")
        return True

    def __len__(self):
        self._maybe("len")
        return 1

    def __iter__(self):
        self._maybe("iter")
        return iter([1])

    def __getitem__(self, key):
        self._maybe("getitem")
        return 1

    def __getattr__(self, name):
        self._maybe("getattr")
        raise AttributeError(name)

    def __call__(self, *args):
        self._maybe("call")
        return "called"


def _generator():
    yield 1


_self_list: list = []
_self_list.append(_self_list)

ODD_VALUES = st.sampled_from([
    float("nan"), float("inf"), -0.0, 10 ** 400, 2 ** 63, b"bytes", complex(1, 2), {1, 2}, frozenset(), range(3),
    types.ModuleType("m"), _Raises, len, _generator(), _self_list, Decimal("1e-7"), Path("x"), object(),
    types.SimpleNamespace(a=1), lambda: 1 / 0, lambda this: this,
]) | st.builds(_Raises, st.sampled_from(["str", "eq", "bool", "len", "iter", "getitem", "getattr", "call"]))
DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | ODD_VALUES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "x", "y", "0"]), inner,
                                                                  max_size=3),
    max_leaves=8)
DATA_TEMPLATES = st.lists(st.sampled_from([
    "{{a}}", "{{{b}}}", "{{x.y}}", "{{a.length}}", "{{#if a}}1{{else}}0{{/if}}", "{{#each b}}{{@key}}{{this}}{{/each}}",
    "{{#with x}}{{y}}{{/with}}", "{{#a}}[{{.}}]{{/a}}", "{{^b}}!{{/b}}", "{{lookup a 'y'}}", "{{> p}}", "{{a.[0]}}",
    "{{#unless x}}u{{/unless}}", "{{#each a as |v k|}}{{k}}{{v.y}}{{/each}}", " ", "{{x.y.a}}",
]), min_size=1, max_size=6)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA_TEMPLATES, st.dictionaries(st.sampled_from(["a", "b", "x"]), DATA, max_size=3), st.booleans())
def test_hostile_data_raises_only_template_errors(parts, data, strict):
    template = Compiler().compile("".join(parts), name="data.hbs", strict=strict)
    try:
        template(data, partials={"p": "{{a}}{{x.y}}"})
    except TemplateError as err:
        assert err.name in ("data.hbs", "p"), str(err)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("&<>\"'`=a é\n"), max_size=30) | st.text(max_size=30))
def test_escape_html_equals_the_character_table(text):
    """The replace-chain fast path of escape_html against handlebars.js's table applied per character."""
    assert escape_html(text) == "".join(_ESCAPES.get(ch, ch) for ch in text)
