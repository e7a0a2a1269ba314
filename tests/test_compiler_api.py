"""The Compiler's API: pybars3 compatibility, precompile, errors, threads and memory."""
import gc
import sys
import tracemalloc
import types

import pybars
import pytest

from mailtpl import (Compiler, Environment, PybarsError, SafeString, TemplateRuntimeError, TemplateSyntaxError,
                     UndefinedError)
from mailtpl.compiler import load
from tests.threads import run_in_threads


# -- pybars3 compatibility: the same helpers give the same output on both engines ------------------
def _list(this, options, items):
    """The block helper from pybars3's README, unchanged."""
    result = ["<ul>"]
    for thing in items:
        result.append("<li>")
        result.extend(options["fn"](thing))
        result.append("</li>")
    result.append("</ul>")
    return result


def _bold(this, options):
    return pybars.strlist(["<b>"]) + options["fn"](this) + ["</b>"]


def _full_name(this, person):
    return f"{person['firstName']} {person['lastName']}"


def _each_with_scope(this, options, items):
    out = pybars.strlist()
    for i, item in enumerate(items):
        out.grow(options["fn"](pybars.Scope(item, this, options["root"], index=i)))
    return out


def _safe(this, text):
    return pybars.strlist([f"<i>{text}</i>"])


PYBARS_CASES = [
    ("{{>header}}{{#list people}}{{firstName}} {{lastName}}{{/list}}",
     {"people": [{"firstName": "Yehuda", "lastName": "Katz"}, {"firstName": "Carl", "lastName": "Lerche"}]}),
    ("{{#bold}}{{name}}{{/bold}}", {"name": "A & B"}),
    ("{{full_name person}}!", {"person": {"firstName": "Ada", "lastName": "L"}}),
    ("{{#scoped items}}{{@index}}:{{this}} {{/scoped}}", {"items": ["a", "b"]}),
    ("{{safe name}}", {"name": "x"}),
    ("{{#if ok}}yes{{else}}no{{/if}} {{#each xs}}{{this}}{{/each}}", {"ok": True, "xs": [1, 2]}),
]
PYBARS_HELPERS = {"list": _list, "bold": _bold, "full_name": _full_name, "scoped": _each_with_scope, "safe": _safe}


@pytest.mark.parametrize("source, context", PYBARS_CASES)
def test_pybars3_helpers_work_unchanged(source, context):
    expected = str(pybars.Compiler().compile(source)(
        context, helpers=PYBARS_HELPERS, partials={"header": pybars.Compiler().compile("<h1>People</h1>")}))
    ours = Compiler().compile(source)(
        context, helpers=PYBARS_HELPERS, partials={"header": Compiler().compile("<h1>People</h1>")})
    assert ours == expected


def test_pybars3_compiled_partial_is_accepted():
    partial = pybars.Compiler().compile("<h1>{{title}}</h1>")
    assert Compiler().compile("{{> head}}")({"title": "T"}, partials={"head": partial}) == "<h1>T</h1>"


def test_safe_string_is_not_escaped_and_str_is():
    template = Compiler().compile("{{a}} {{b}}")
    helpers = {"a": lambda this: SafeString("<br>"), "b": lambda this: "<br>"}
    assert template({}, helpers=helpers) == "<br> &lt;br&gt;"


def test_options_carry_hash_data_and_name():
    seen = {}

    def spy(this, options, *args, **hash):
        seen.update(hash=options["hash"], name=options["name"], root=options["root"], args=args, kw=hash)
        return options["fn"](this)

    out = Compiler().compile("{{#spy 1 'two' k=v}}{{v}}{{/spy}}")({"v": "V"}, helpers={"spy": spy})
    assert out == "V"
    assert seen == {"hash": {"k": "V"}, "name": "spy", "root": {"v": "V"}, "args": (1, "two"), "kw": {"k": "V"}}


def test_builtin_helpers_can_be_overridden():
    template = Compiler().compile("{{#if x}}y{{/if}}")
    assert template({"x": False}, helpers={"if": lambda this, options, v: options["fn"](this)}) == "y"


# -- precompile ------------------------------------------------------------------------------------
def test_precompiled_module_renders_without_compiling(tmp_path, monkeypatch):
    source = "{{#each xs as |x i|}}{{i}}:{{x.name}}{{#unless @last}}, {{/unless}}{{/each}}"
    code = Compiler().precompile(source, name="list.hbs", strict=True)
    (tmp_path / "list_tpl.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    import list_tpl  # noqa: PLC0415

    monkeypatch.setattr(Compiler, "compile", None)  # a precompiled template never compiles
    context = {"xs": [{"name": "a"}, {"name": "b<"}]}
    assert list_tpl.template(context) == "0:a, 1:b&lt;"
    with pytest.raises(UndefinedError) as info:
        list_tpl.template({"xs": [{}]})
    assert info.value.name == "list.hbs" and (info.value.lineno, info.value.column) == (1, 30)


def test_precompile_equals_compile():
    source = "{{#> layout}}{{#*inline 'x'}}X{{/inline}}{{v}}{{/layout}}"
    partials = {"layout": "[{{> x}}|{{> @partial-block}}]"}
    assert load(Compiler().precompile(source))({"v": 1}, partials=partials) == \
        Compiler().compile(source)({"v": 1}, partials=partials) == "[X|1]"


# -- errors ----------------------------------------------------------------------------------------
def test_syntax_error_names_file_line_column_and_shows_the_line():
    source = "<p>\n  {{#if user}}\n    {{name}}\n  {{/each}}\n"
    with pytest.raises(TemplateSyntaxError) as info:
        Compiler().compile(source, name="verification.hbs")
    err = info.value
    assert isinstance(err, PybarsError)
    assert (err.name, err.lineno, err.column) == ("verification.hbs", 4, 3)
    assert str(err).splitlines() == [
        "verification.hbs:4:3: {{#if}} (opened at 2:3) closed by {{/each}} (Parse error on line 4)",
        "      {{/each}}",
        "      ^",
    ]


def test_strict_miss_names_path_template_line_column():
    template = Compiler().compile("Hi {{user.name}}\nCode: {{code}}", name="verification.hbs", strict=True)
    with pytest.raises(UndefinedError) as info:
        template({"user": {"name": "A"}})
    err = info.value
    assert (err.path, err.name, err.lineno, err.column) == ("code", "verification.hbs", 2, 9)
    assert str(err).startswith('verification.hbs:2:9: "code" is not defined')


def test_helper_exception_is_reported_with_location():
    def broken(this, value):
        raise ValueError("bad value")

    with pytest.raises(TemplateRuntimeError) as info:
        Compiler().compile("\n  {{broken 1}}", name="t.hbs")({}, helpers={"broken": broken})
    assert str(info.value).startswith("t.hbs:2:5: helper 'broken' raised ValueError: bad value")
    assert isinstance(info.value.__cause__, ValueError)


def test_recursive_partial_without_end_is_a_clear_error():
    with pytest.raises(TemplateRuntimeError, match="nested too deeply"):
        Compiler().compile("{{> me}}", name="t.hbs")({}, partials={"me": "x{{> me}}"})


def test_blocks_nested_too_deep_is_a_syntax_error():
    with pytest.raises(TemplateSyntaxError, match="nested more than"):
        Compiler().compile("{{#if a}}" * 120 + "{{/if}}" * 120)


# -- threads and memory ----------------------------------------------------------------------------
def test_compile_and_render_from_eight_threads():
    compiler = Compiler()
    wrong = []

    def work(n):
        for i in range(40):
            template = compiler.compile(f"{{{{#each xs}}}}{n}-{{{{this}}}}-{i};{{{{/each}}}}{{{{> p}}}}")
            out = template({"xs": [n, i], "v": n}, partials={"p": "[{{v}}]"})
            if out != f"{n}-{n}-{i};{n}-{i}-{i};[{n}]":
                wrong.append(out)

    assert run_in_threads(work, 8) == [] and wrong == []


def test_compile_registers_no_modules():
    before = set(sys.modules)
    Compiler().compile("{{x}}", name="a.hbs")
    assert set(sys.modules) == before
    assert not any(isinstance(m, types.ModuleType) and "template" in name for name, m in sys.modules.items()
                   if name.startswith("mailtpl._"))


def test_memory_stays_flat_over_5000_compiles():
    source = "<p>{{#each xs as |x|}}{{x.name}}{{#if @last}}.{{/if}}{{/each}}</p>{{> footer}}" * 3
    compiler = Compiler()

    def compile_many(count):
        for i in range(count):
            compiler.compile(source, name=f"t{i}.hbs")({"xs": [{"name": i}]}, partials={"footer": "f"})

    def small_blocks(snapshot):
        # A leak is many small blocks; the interpreter's own tables (interned names) are single
        # large blocks that CPython reallocates now and then, so they are left out.
        return sum(trace.size for trace in snapshot.traces if trace.size < 64 * 1024)

    tracemalloc.start()
    try:
        compile_many(1000)  # warm up
        gc.collect()
        objects_before, before = len(gc.get_objects()), small_blocks(tracemalloc.take_snapshot())
        compile_many(5000)
        gc.collect()
        objects_after, after = len(gc.get_objects()), small_blocks(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    assert after - before < 128 * 1024, f"memory grew by {after - before} bytes over 5000 compiles"
    assert objects_after - objects_before < 100, f"{objects_after - objects_before} objects more after 5000 compiles"


# -- Python data ---------------------------------------------------------------------------------
class User:
    def __init__(self, first, last, tags):
        self.first, self.last, self.tags = first, last, tags
        self._secret = "hidden"

    def full_name(self):
        return f"{self.first} {self.last}"

    @property
    def initials(self):
        return self.first[0] + self.last[0]


def test_objects_attributes_methods_tuples():
    template = Compiler().compile(
        "{{user.first}}|{{user.full_name}}|{{user.initials}}|[{{user._secret}}]|{{user.tags.length}}|"
        "{{#each user.tags}}{{@index}}={{this}};{{/each}}|{{#with user}}{{last}}{{/with}}|{{t.[1]}}|"
        "{{#each m}}{{@key}}:{{first}} {{/each}}|{{greet}}")
    ada = User("Ada", "Lovelace", ("math", "code"))
    data = {"user": ada, "t": (1, 2.5), "m": {"a": ada}, "greet": lambda this: f"hi {this['t'][0]}"}
    assert template(data) == "Ada|||[]|2|0=math;1=code;|Lovelace|2.5|a:Ada |hi 1"  # methods, properties denied
    allowed = template(data, allowed_proto_methods={"full_name": True}, allowed_proto_properties={"initials": True})
    assert allowed == "Ada|Ada Lovelace|AL|[]|2|0=math;1=code;|Lovelace|2.5|a:Ada |hi 1"


def test_strict_mode_on_objects():
    template = Compiler().compile("{{user.first}} {{user.middle}}", strict=True, name="o.hbs")
    with pytest.raises(UndefinedError, match='"user.middle" is not defined'):
        template({"user": User("A", "B", ())})


# -- hostile input: names, line terminators, size ------------------------------------------------------
def test_name_may_be_a_path():
    from pathlib import Path

    template = Compiler().compile("ok {{x}}", name=Path("emails") / "x.hbs")
    assert template.name == "emails/x.hbs" and template({"x": 1}) == "ok 1"
    with pytest.raises(TemplateSyntaxError) as info:
        Compiler().compile("{{#if a}}", name=Path("x.hbs"))
    assert info.value.name == "x.hbs"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\v", "\f", "\x1c"])
def test_error_line_agrees_with_the_shown_line(newline):
    source = newline.join(["first", "second {{x}}", "third {{#if}}", "fourth"])
    with pytest.raises(TemplateSyntaxError) as info:
        Compiler().compile(source, name="nl.hbs")
    err = info.value
    assert err.lineno == 3 and err.source_line == "third {{#if}}"
    assert err.source_line[err.column - 1:].startswith("}}") or err.source_line[err.column - 1:].startswith("{{")


def test_runtime_error_line_agrees_with_the_shown_line():
    source = "a\r\nb\u2028c {{x.y}}"
    with pytest.raises(UndefinedError) as info:
        Compiler().compile(source, name="nl.hbs", strict=True)({"x": {}})
    assert info.value.lineno == 3 and info.value.source_line == "c {{x.y}}"
    assert info.value.source_line[info.value.column - 1:].startswith("x.y")


def test_long_template_compiles_in_segments_with_the_same_output():
    """A long top level is compiled in module-level segments; its output equals that of its lines compiled
    one by one (each short enough to be compiled whole)."""
    from mailtpl import codegen

    body = "{{#if a}}%d{{x}}{{else}}{{#with o}}{{../y}}{{v}}{{/with}}{{/if}}"
    lines = [f"<p>{body % i}</p>\n" for i in range(1000)]
    code = Compiler().precompile("".join(lines))
    assert code.count(codegen.SEGMENT_BREAK) > 3 and "def _g2(" in code
    for data in ({"a": True, "x": "<x>"}, {"a": False, "y": "Y", "o": {"v": 1}}):
        assert load(code)(data) == "".join(Compiler().compile(line)(data) for line in lines)



@pytest.mark.parametrize("wrap", [
    "{{#if a}}%s{{/if}}",
    "{{#> layout}}%s{{/layout}}",
    "{{#each rows as |row i|}}{{#with row}}%s{{/with}}{{/each}}",
    "{{#*inline 'p'}}%s{{/inline}}{{#each rows}}{{> p}}{{/each}}",
])
@pytest.mark.parametrize("compat", [False, True])
def test_long_block_body_compiles_in_segments_with_the_same_output(monkeypatch, wrap, compat):
    """A long program inside a block is cut into segments too; the output equals that of the same template
    compiled unsegmented (block parameters, ../ and @data read across the cut)."""
    from mailtpl import codegen

    line = "<p>%d {{x}}{{#if a}}{{../y}}{{/if}}{{@index}}{{i}}{{row.v}}{{#each ../rows}}{{@key}}{{/each}}</p>\n"
    source = wrap % "".join(line % n for n in range(150))
    options = {"compat": compat, "name": "long.hbs"}
    segmented = Compiler().precompile(source, **options)
    monkeypatch.setattr(codegen, "_STATEMENTS_PER_SEGMENT", 10 ** 9)
    whole = Compiler().precompile(source, **options)
    assert segmented.count("def _g") >= 3 and "def _g" not in whole
    partials = {"layout": Compiler().compile("[{{> @partial-block}}]")}
    for data in ({"a": True, "x": "<x>", "y": "Y", "rows": [{"v": 1, "x": 2}, {"v": 3}]},
                 {"a": 1, "rows": [{"a": 0, "y": "z"}], "y": "top"}):
        expected = load(whole)(data, partials=partials)
        assert "<p>149 " in expected and load(segmented)(data, partials=partials) == expected


def test_loose_equal_is_javascripts():
    """The ../ stack grows when ``context != depths[0]`` in JavaScript; the pairs that are == were printed by
    node for these values (``vals[i] == vals[j]``, i != j)."""
    from mailtpl.values import loose_equal

    values = [None, False, True, 0, 1, -0.0, 2.5, float("nan"), "", "0", "1", " 1 ", "0x10", "16", "1e3", "Infinity",
              "abc", "true", "false", [], [1], ["a"], [None], [1, 2], "1,2", {}, "[object Object]", 1000]
    node = {
        (1, 3), (1, 5), (1, 8), (1, 9), (1, 19), (1, 22), (2, 4), (2, 10), (2, 11), (2, 20), (3, 1), (3, 5), (3, 8),
        (3, 9), (3, 19), (3, 22), (4, 2), (4, 10), (4, 11), (4, 20), (5, 1), (5, 3), (5, 8), (5, 9), (5, 19), (5, 22),
        (8, 1), (8, 3), (8, 5), (8, 19), (8, 22), (9, 1), (9, 3), (9, 5), (10, 2), (10, 4), (10, 20), (11, 2),
        (11, 4), (14, 27), (19, 1), (19, 3), (19, 5), (19, 8), (20, 2), (20, 4), (20, 10), (22, 1), (22, 3), (22, 5),
        (22, 8), (23, 24), (24, 23), (25, 26), (26, 25), (27, 14)
    }
    assert {(i, j) for i, a in enumerate(values) for j, b in enumerate(values) if i != j and loose_equal(a, b)} == node
    assert loose_equal("0x" + "f" * 400, float("inf")) and loose_equal(10 ** 400, "1e400")  # too big: Infinity

# -- issue 12: handlebars.js semantics and pybars3's API ----------------------------------------------
def test_helper_hash_arrives_in_handlebars_order():
    """handlebars.js 4.7.10 gives {{keys a=1 b=2 c=3}} the hash keys c,b,a (checked with node)."""
    template = Compiler().compile("{{keys a=1 b=2 c=3}}|{{#bkeys x=1 y=2}}{{/bkeys}}")
    helpers = {"keys": lambda this, **hash: ",".join(hash),
               "bkeys": lambda this, options, **hash: ",".join(options.hash)}
    assert template({}, helpers=helpers) == "c,b,a|y,x"


@pytest.mark.parametrize("source, helpers, expected", [
    ("{{world}}", {"world": "world"}, "world"),            # handlebars.js 4.7.10 (node): "world"
    ("{{#list}}[{{this}}]{{/list}}", {"list": [1, 2]}, "1,2"),  # the value itself, not the block
    ("{{#flag}}yes{{else}}no{{/flag}}", {"flag": False}, "no"),
    ("[{{n}}]", {"n": 0}, "[own]"),                      # a falsy helper falls back to the context
])
def test_helpers_that_are_not_functions(source, helpers, expected):
    assert Compiler().compile(source)({"n": "own"}, helpers=helpers) == expected


def test_helper_value_with_arguments_is_an_error():
    with pytest.raises(TemplateRuntimeError, match="not a function"):
        Compiler().compile("{{world 1}}", name="h.hbs")({}, helpers={"world": "world"})


def test_compile_takes_pybars3_path_and_template_loads_code():
    compiler = Compiler()
    template = compiler.compile("{{a}}", "x.hbs")
    assert template.name == "x.hbs" and template({"a": 1}) == "1"
    with pytest.raises(TemplateSyntaxError, match="y.hbs"):
        compiler.compile("{{#if a}}", path="y.hbs")
    assert compiler.template(compiler.precompile("<{{a}}>"))({"a": "&"}) == "<&amp;>"


def test_precompiled_module_has_pybars3_shape(tmp_path):
    """pybars3's precompiled modules define render(context, helpers=, partials=, root=)."""
    import importlib.util

    (tmp_path / "hello_tpl.py").write_text(Compiler().precompile("Hi {{name}} {{@root.x}}"))
    spec = importlib.util.spec_from_file_location("hello_tpl", tmp_path / "hello_tpl.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render({"name": "Ada"}, helpers={}, partials={}, root={"x": "R"}) == "Hi Ada R"


def test_pybars_log_hook_is_called(monkeypatch):
    seen = []
    monkeypatch.setattr(pybars, "log", seen.append)
    assert Compiler().compile("{{log a}}x")({"a": 1}) == "x"
    assert seen == [1]


def test_raw_block_fn_returns_str_as_in_pybars3():
    template = Compiler().compile("{{{{raw}}}}{{red}}{{{{/raw}}}}")
    assert template({}, helpers={"raw": lambda this, options: options["fn"](this) + " blue"}) == "{{red}} blue"


def test_data_function_in_block_position_called_by_arity():
    template = Compiler().compile("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{#opt}}O{{/opt}}{{#zero}}Z{{/zero}}")
    data = {"yes": lambda this: True, "no": lambda this: False,
            "opt": lambda this, options: options.fn(this) + "!", "zero": lambda: [1]}
    assert template(data) == "YOZ"  # a function's result is a section, as in handlebars.js


def test_missing_partial_message_has_pybars3_wording():
    with pytest.raises(TemplateRuntimeError) as info:
        Compiler().compile("{{> missing}}", name="p.hbs")({})
    assert "The partial missing could not be found" in str(info.value) and info.value.lineno == 1


def test_compile_options_are_checked():
    with pytest.raises(TypeError):
        Compiler().compile("x", compatt=True)
    from mailtpl.compiler import CompileOptions

    assert CompileOptions(compat=True, data=False).as_dict() == {"compat": True, "data": False}


def test_environment_passes_compile_options_through(tmp_path):
    (tmp_path / "order.txt.hbs").write_text("{{#with transaction}}{{marketplace.url}}{{/with}}")
    (tmp_path / "order.hbs").write_text("<p>{{#with transaction}}{{marketplace.url}}{{/with}}</p>")
    (tmp_path / "lines.hbs").write_text("<p>\n  {{#if a}}\nx\n  {{/if}}\n</p>")
    data = {"transaction": {"id": 1}, "marketplace": {"url": "https://m.example"}}
    kept = Environment(tmp_path, strict=False, inline_css=False, ignore_standalone=True).render("lines", {"a": 1})
    assert kept.html == "<p>\n  \nx\n  \n</p>"  # the standalone lines keep their whitespace
    env = Environment(tmp_path, strict=False, inline_css=False, compat=True)
    email = env.render("order", data)
    assert "https://m.example" in email.html and email.text == "https://m.example"
    assert "https://m.example" not in Environment(tmp_path, strict=False, inline_css=False).render("order", data).html
    with pytest.raises(TypeError):
        Environment(tmp_path, compatt=True)


def test_known_helpers_as_a_set_of_names_as_pybars3_callers_pass_it():
    template = Compiler().compile("{{{typeof hello}}} {{#unless foo}}bar{{/unless}}", known_helpers={"typeof"},
                                  known_helpers_only=True)
    helpers = {"typeof": lambda this, arg: type(arg).__name__, "hello": lambda this: "foo"}
    assert template({}, helpers=helpers) == "NoneType bar"  # hello is a plain lookup, not a helper call
