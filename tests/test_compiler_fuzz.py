"""Fuzzing: on any input the compiler raises nothing but TemplateSyntaxError, and a template that
compiles renders or raises a TemplateError (never a bare Python exception)."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtpl import Compiler, TemplateError, TemplateSyntaxError

FRAGMENTS = [
    "{{", "}}", "{{{", "}}}", "{{{{", "}}}}", "{{#", "{{/", "{{^", "{{else}}", "{{else ", "{{^}}", "{{>", "{{#>",
    "{{#*inline", "{{*", "{{!", "{{!--", "--}}", "{{&", "~", "(", ")", " as |", "|", "=", '"', "'", "[", "]",
    ".", "/", "../", "@", "@index", "@partial-block", "this", "if", "each", "with", "unless", "lookup", "log",
    "a", "b", "x.y", "raw", "\\", "\\\\", "\n", "\r\n", " ", "  ", "\t", "!", "1", "-2.5", "true", "null",
    "undefined", "includeZero=true", "é", "<p>", "&",
]

fragment_lists = st.lists(st.sampled_from(FRAGMENTS), max_size=30)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragment_lists)
def test_compiler_raises_only_syntax_errors(parts):
    source = "".join(parts)
    try:
        template = Compiler().compile(source, name="fuzz.hbs")
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
