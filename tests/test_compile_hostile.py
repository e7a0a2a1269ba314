"""Hostile input to the compile entry points gets one typed error naming the file (or the option), never a
RecursionError, KeyError or TypeError traceback."""
from __future__ import annotations

import pytest

from mailtpl import Compiler, Environment, TemplateError, TemplateRuntimeError, TemplateSyntaxError
from mailtpl import nodes as n


def _path(name: str, line: int = 1, column: int = 1) -> n.PathExpr:
    return n.PathExpr(line=line, column=column, data=False, depth=0, parts=[name], original=name, scoped=False)


def _nested_ifs(depth: int, file: str | None = None) -> n.Program:
    body: list = [n.Content(line=1, column=1, file=file, value="x", original="x")]
    for _ in range(depth):
        block = n.Block(line=1, column=1, file=file, path=_path("if"), params=[_path("a")], hash=None,
                        program=n.Program(line=1, column=1, file=file, body=body), inverse=None)
        body = [block]
    return n.Program(line=1, column=1, file=file, body=body)


def test_a_hand_built_ast_nested_too_deep_is_a_syntax_error():
    with pytest.raises(TemplateSyntaxError, match="blocks nested more than 80 levels deep") as info:
        Compiler().compile(_nested_ifs(1200, file="deep.hbs"))
    assert info.value.name == "deep.hbs"
    assert Compiler().compile(_nested_ifs(80))({"a": 1}) == "x"


def test_a_hand_built_ast_with_subexpressions_nested_too_deep_is_a_syntax_error():
    expr: n.Expr = _path("a")
    for _ in range(1200):
        expr = n.SubExpr(line=1, column=1, path=_path("h"), params=[expr], hash=None)
    mustache = n.Mustache(line=1, column=1, path=_path("h"), params=[expr], hash=None, escaped=True, strip=n.Strip())
    with pytest.raises(TemplateSyntaxError, match="subexpressions nested more than 40 levels deep") as info:
        Compiler().compile(n.Program(line=1, column=1, body=[mustache]), name="sub.hbs")
    assert info.value.name == "sub.hbs"


@pytest.mark.parametrize("inline_css", [False, True])
def test_partials_nested_deeper_than_python_can_render_give_a_typed_error(tmp_path, inline_css):
    """15 partials, each 70 ifs deep around the next: 1,050 blocks once written into each other."""
    (tmp_path / "partials").mkdir()
    for i in range(15):
        inner = f"{{{{> p{i + 1}}}}}" if i + 1 < 15 else "{{a}}"
        (tmp_path / "partials" / f"p{i}.hbs").write_text("{{#if a}}" * 70 + inner + "{{/if}}" * 70)
    (tmp_path / "e.hbs").write_text("{{> p0}}")
    env = Environment(tmp_path, inline_css=inline_css)
    with pytest.raises(TemplateRuntimeError, match="nested too deeply") as info:
        env.render("e", {"a": "1"})
    assert info.value.name == "e.hbs"
    assert env.render("e", {"a": ""}).text.strip() == ""  # the email itself renders


def test_pybars3_precompiled_code_and_other_python_are_not_loaded():
    pybars = pytest.importorskip("pybars")
    for code in (pybars.Compiler().precompile("hi {{x}}"), "def (:", "template = 1", ""):
        with pytest.raises(TemplateSyntaxError, match="not a module precompiled by mailtpl"):
            Compiler().template(code)
    assert Compiler().template(Compiler().precompile("hi {{x}}"))({"x": 1}) == "hi 1"


@pytest.mark.parametrize("options, message", [
    ({"stirct": True}, "'stirct' is not a compile option (did you mean 'strict'?)"),
    ({"known_helper": {"a": True}}, "did you mean 'known_helpers'?"),
    ({"zzz": 1}, "'zzz' is not a compile option (the options are strict, "),
    ({"strict": "no"}, "strict='no': the compile option strict takes True or False"),
    ({"known_helpers": "ab"}, "known_helpers='ab': the compile option known_helpers takes a dict of helper names"),
    ({"known_helpers": {"a": "yes"}}, "known_helpers={'a': 'yes'}"),
    ({"allowed_proto_methods": ["m"]}, "allowed_proto_methods=['m']: the compile option allowed_proto_methods takes"),
    ({"allow_proto_methods_by_default": 1}, "takes True, False or None"),
])
def test_bad_compile_options_are_a_typed_error_naming_the_option(tmp_path, options, message):
    from mailtpl.options import OptionError

    (tmp_path / "e.hbs").write_text("x")
    for make in (lambda: Compiler().compile("x", **options), lambda: Environment(tmp_path, **options)):
        with pytest.raises(OptionError) as info:
            make()
        assert message in str(info.value)
        assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    assert Compiler().compile("{{a}}", known_helpers={"a"}, strict=False, allow_proto_methods_by_default=None)(
        {}, helpers={"a": lambda this: "h"}) == "h"


def test_errors_name_the_nodes_own_file_and_name_for_nodes_without_one():
    compiler = Compiler()
    parsed = compiler.parse("a\n{{y.z}}", name="a.hbs")
    template = compiler.compile(parsed, name="other.hbs", strict=True)
    assert template.name == "other.hbs"
    with pytest.raises(TemplateError) as info:
        template({})
    assert (info.value.name, info.value.lineno) == ("a.hbs", 2)
    built = n.Program(line=1, column=1, body=[
        n.Mustache(line=2, column=3, path=_path("q", 2, 3), params=[], hash=None, escaped=True, strip=n.Strip())])
    for named in ({"name": "other.hbs"}, {"path": "other.hbs"}):
        with pytest.raises(TemplateError) as info:
            compiler.compile(built, strict=True, sources={"other.hbs": "l1\n  {{q}}"}, **named)({})
        assert (info.value.name, info.value.lineno, info.value.column) == ("other.hbs", 2, 3)
        assert "  {{q}}" in str(info.value)
