"""mailtpl.flatten: an email with its partials written in renders what the email renders with its partials,
under every compile option (or flatten refuses, and the email is rendered with its partials).

The differential test draws random emails, partials and a layout (standalone and indented partials,
``{{#> layout}}`` with ``@partial-block`` at the top of the layout or inside its blocks, ``../``, ``@../``,
``@root``, ``@index``, block parameters, values escaped or not) and random compile options, and compares the
flattened AST compiled with the options against the email compiled with them and rendered with its partials
(compiled with them too): the same output, or the same error at the same file:line:column.
"""
from __future__ import annotations

import os
import random
import time

from mailtpl import Compiler, TemplateError
from mailtpl.flatten import NotFlat, flatten
from mailtpl import nodes as n
from mailtpl.options import CompileOptions
from mailtpl.runtime import LineBreak

COMPILER = Compiler()
# every compile option that changes what a template renders (the access options are runtime policy)
OPTIONS = {"strict": True, "assume_objects": True, "compat": True, "data": False, "no_escape": True,
           "prevent_indent": True, "ignore_standalone": True, "explicit_partial_context": True,
           "known_helpers_only": True}


class Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, *options):
        return self.rng.choice(options)

    def value(self, scope: str) -> str:
        common = ["{{name}}", "{{{raw}}}", "{{@root.name}}", "{{x}}", "{{obj.label}}", "{{missing}}"]
        extra = {"top": [], "item": ["{{n}}", "{{@index}}", "{{../name}}", "{{@../index}}", "{{x.n}}"],
                 "with": ["{{label}}", "{{../name}}"]}[scope]
        return self.pick(*common, *extra)

    def chunk(self, scope: str, depth: int, partials: list[str], block: bool) -> str:
        out = []
        for _ in range(self.rng.randint(1, 3)):
            r = self.rng.random()
            if r < 0.3 or depth <= 0:
                out.append(self.pick("a", " b ", "\n", "c\n  ", "<i>&</i>") + self.value(scope))
            elif r < 0.45 and partials:
                name = self.pick(*partials)
                out.append(self.pick(f"{{{{> {name}}}}}", f"\n  {{{{> {name}}}}}\n", f"\n{{{{> {name}}}}}\n"))
            elif r < 0.55 and block:
                out.append(self.pick("{{> @partial-block}}", "\n    {{> @partial-block}}\n"))
            elif r < 0.65:
                inner = self.chunk(scope, depth - 1, partials, block)
                other = self.pick("", "{{else}}" + self.chunk(scope, depth - 1, partials, block))
                out.append(f"{{{{#if {self.pick('flag', 'name', 'missing')}}}}}{inner}{other}{{{{/if}}}}")
            elif r < 0.8:
                params = self.pick("", " as |x|", " as |x i|")
                out.append(f"{{{{#each items{params}}}}}\n{self.chunk('item', depth - 1, partials, block)}"
                           "{{/each}}")
            elif r < 0.9:
                out.append(f"{{{{#with obj}}}}{self.chunk('with', depth - 1, partials, block)}{{{{/with}}}}")
            elif partials:
                body = self.chunk(scope, depth - 1, [p for p in partials if p != "layout"], False)
                name = self.pick("layout", "absent")  # absent: the failover content renders
                out.append(f"{{{{#> {name}}}}}{body}{{{{/{name}}}}}")
        return "".join(out)

    def files(self) -> dict[str, str]:
        # r: lines of values (no block spans a line break), which flatten writes in indented too
        return {"r": self.pick("<b>{{name}}</b>", "[{{#if flag}}{{x}}{{else}}{{{raw}}}{{/if}}]", "{{x}}|{{{raw}}}\n",
                               "a\n{{name}} b\n", "{{#each items}}<{{n}}>{{/each}}", "{{#with obj}}{{label}}{{/with}}"),
                "q": self.chunk("top", 1, ["r"], False),
                "p": self.chunk("top", 2, ["q", "r"], False),
                "layout": "<html>\n" + self.chunk("top", 2, ["q", "r"], True) +
                          self.pick("{{> @partial-block}}\n", "\n  {{> @partial-block}}\n") + "</html>\n",
                "e": self.chunk("top", 3, ["p", "q", "r", "layout"], False) + self.pick("", "\n  {{> r}}\n")}

    def options(self) -> dict:
        return {key: value for key, value in OPTIONS.items() if self.rng.random() < 0.3}

    def data(self) -> dict:
        # line breaks: in an indented partial the runtime indents the line a value starts (see flatten._indented)
        text = lambda: self.pick("", "Ada", "<b>x</b>", "a & b", 0, "x\ny", "a\r\nb", "\n", "c\r", "z\n")  # noqa: E731
        data = {"name": text(), "raw": text(), "flag": self.pick(True, False), "x": text(),
                "obj": self.pick({"label": text(), "name": "on"}, {"label": "L"}, None),
                "items": [self.pick({"n": text()}, {"n": 1, "x": "ix"}) for _ in range(self.rng.randint(0, 2))]}
        return {key: value for key, value in data.items() if self.rng.random() < 0.9}


def _has_line_break(value) -> bool:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return any(map(_has_line_break, value))
    return isinstance(value, str) and "\n" in value


def outcome(render):
    try:
        return render()
    except TemplateError as exc:
        return type(exc).__name__, exc.name, exc.lineno, exc.column
    except LineBreak:  # the flattened email gives up: the Environment renders the email with its partials
        return LineBreak


def parsed(files: dict[str, str], options: dict) -> dict:
    return {name: COMPILER.parse(text, name=f"{name}.hbs", ignore_standalone=bool(options.get("ignore_standalone")))
            for name, text in files.items()}


def test_flattened_email_renders_as_the_email_with_its_partials_under_every_option():
    seed = int(os.environ.get("MAILTPL_SEED", time.time_ns() % 2**32))
    print(f"MAILTPL_SEED={seed}")
    rng = random.Random(seed)
    gen = Gen(rng)
    flat_cases = line_breaks = 0
    flat_by_option = dict.fromkeys(OPTIONS, 0)
    for case in range(400):
        files, options = gen.files(), gen.options()
        asts = parsed(files, options)
        sources = {f"{name}.hbs": text for name, text in files.items()}
        try:
            partials = {name: COMPILER.compile(asts[name], sources=sources, **options)
                        for name in ("p", "q", "r", "layout")}
            email = COMPILER.compile(asts["e"], sources=sources, **options)
            flat = flatten(asts["e"], lambda name: asts.get(name) if name != "e" else None, CompileOptions(**options))
        except NotFlat:
            continue
        except TemplateError:  # known_helpers_only refuses some templates: per render too
            continue
        flattened = COMPILER.compile(flat, sources=sources, **options)
        flat_cases += 1
        for key in options:
            flat_by_option[key] += 1
        indented = any(getattr(node, "indented", False) for node in n.walk(flat))
        for _ in range(4):
            data = gen.data()
            expected = outcome(lambda: email(data, partials=partials))
            got = outcome(lambda: flattened(data))
            if got is LineBreak:  # only where a value with a line break was written into an indented partial
                assert indented and _has_line_break(data), (seed, case, options, files, data)
                line_breaks += 1
            else:
                assert got == expected, (seed, case, options, files, data)
    print(f"{flat_cases} flattened; by option: {flat_by_option}; {line_breaks} renders stopped at a line break "
          "in an indented partial")
    assert line_breaks >= 5
    # no_escape is seldom flattened: a value anywhere may insert markup (test_no_escape_values_... below)
    assert flat_cases >= 60 and all(count >= 3 for key, count in flat_by_option.items() if key != "no_escape")


def _env_render(tmp_path, files: dict[str, str], context: dict, **options):
    """The email rendered with CSS inlined at compile time, per render and not at all (a str, or the error)."""
    from mailtpl import Environment

    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    results = []
    for inline in (True, "per-render", False):
        env = Environment(tmp_path, inline_css=inline, **options)
        results.append(outcome(lambda: env.render("e", context).html))
    return results


LAYOUT = {"e.hbs": '{{#> layout}}\n<p class="t">{{code}}</p>\n{{/layout}}',
          "layouts/layout.hbs": '<html><head><style>.t { color: red; }</style></head><body>'
                                '<img src="{{baseUrl}}/x.png">\n{{> @partial-block}}\n</body></html>'}


def test_explicit_partial_context_is_honoured_with_inlining_at_compile_time(tmp_path):
    data = {"code": "X", "baseUrl": "B"}
    fast, slow, off = _env_render(tmp_path, LAYOUT, data, strict=False, explicit_partial_context=True)
    assert 'src="/x.png"' in fast and '<p class="t" style="color:red"></p>' in fast
    assert 'src="/x.png"' in off and '<p class="t"></p>' in off
    assert fast == slow


def test_explicit_partial_context_strict_error_is_the_same_with_inlining_at_compile_time(tmp_path):
    results = _env_render(tmp_path, LAYOUT, {"code": "X", "baseUrl": "B"}, strict=True,
                          explicit_partial_context=True)
    assert results == [("UndefinedError", "layouts/layout.hbs", 1, 71)] * 3


def test_prevent_indent_is_honoured_with_inlining_at_compile_time(tmp_path):
    files = {"e.hbs": "<pre>\n    {{> p}}\n</pre>", "partials/p.hbs": "a\nb\n"}
    fast, slow, off = _env_render(tmp_path, files, {}, prevent_indent=True)
    assert "<pre>\n    a\nb\n</pre>" in off and fast == slow


def test_data_false_is_honoured_with_inlining_at_compile_time(tmp_path):
    files = {"e.hbs": "<p>{{> p}}</p>", "partials/p.hbs": "[{{@root.code}}]"}
    fast, slow, off = _env_render(tmp_path, files, {"code": "C"}, strict=False, data=False)
    assert "<p>[]</p>" in off and "<p>[]</p>" in fast


def test_no_escape_values_are_inlined_per_render(tmp_path):
    """With no_escape a {{value}} may insert markup, which the stylesheet applies to per render."""
    files = {"e.hbs": '<html><head><style>.t { color: red; }</style></head><body>{{x}}</body></html>'}
    fast, slow, off = _env_render(tmp_path, files, {"x": '<p class="t">a</p>'}, no_escape=True)
    assert '<p class="t" style="color:red">a</p>' in fast and fast == slow


def test_flatten_refuses_what_would_change_written_in_place():
    cases = {  # email, partials -> the start of the reason
        "block parameter": ("{{#each items as |x|}}{{> p}}{{/each}}", {"p": "[{{x}}]"}, "partial 'p' reads 'x'"),
        "layout's block parameter": ("{{#> layout}}[{{x}}]{{/layout}}",
                                     {"layout": "{{#each items as |x|}}{{> @partial-block}}{{/each}}"},
                                     "the partial block's body written in at layout.hbs:1 reads 'x'"),
        "@../": ("{{#each items}}{{#> layout}}x{{/layout}}{{/each}}", {"layout": "[{{@../index}}]"},
                 "partial 'layout' uses @../"),
        "../ in a body inside the layout's blocks": (
            "{{#> layout}}[{{../x}}]{{/layout}}",
            {"layout": "{{#with o}}{{#with p}}{{> @partial-block}}{{/with}}{{/with}}"},
            "the partial block's body written in at layout.hbs:1 uses ../"),
        "indented, its last line only a tag": ("<pre>\n  {{> p}}\n</pre>", {"p": "a\n{{x}}"},
                                               "partial 'p' at e.hbs:2 is indented and ends with a line"),
    }
    for label, (email, partials, reason) in cases.items():
        asts = parsed(partials, {})
        try:
            flatten(COMPILER.parse(email, name="e.hbs"), asts.get)
        except NotFlat as exc:
            assert str(exc).startswith(reason), (label, str(exc))
        else:
            raise AssertionError(f"{label}: flattened")


def test_flatten_writes_the_indentation_as_text_with_prevent_indent():
    program = COMPILER.parse("<pre>\n    {{> p}}", name="e.hbs")
    asts = {"p": COMPILER.parse("a\nb\n", name="p.hbs")}
    for prevent, expected in ((False, "<pre>\n    a\n    b\n"), (True, "<pre>\n    a\nb\n")):
        flat = flatten(program, asts.get, CompileOptions(prevent_indent=prevent))
        assert COMPILER.compile(flat, prevent_indent=prevent)({}) == expected
        assert "".join(stmt.value for stmt in flat.body) == expected


# -- a line break in a value of an indented partial ----------------------------------------------------------------
# handlebars.js indents every line of a standalone partial's output, the lines a value starts too (not an empty last
# line); flatten writes the indentation into the text, so such a render leaves the compile-time path.
INDENTED = {  # the partial, the value, the HTML the email renders (handlebars.js 4.7.10's, by conformance/oracle.js)
    "a value in an if": ("<b>{{#if a}}{{v}}{{/if}}</b>", "x\ny", "<div>\n  <b>x\n  y</b></div>"),
    "a value": ("<b>{{v}}</b>", "x\ny", "<div>\n  <b>x\n  y</b></div>"),
    "CRLF": ("<b>{{v}}</b>", "x\r\ny", "<div>\n  <b>x\r\n  y</b></div>"),
    "a value in each": ("<b>{{#each items}}{{this}}{{/each}}</b>", "x\ny", "<div>\n  <b>x\n  y</b></div>"),
    "the empty last line": ("<b>{{v}}", "x\n", "<div>\n  <b>x\n</div>"),
    "a triple-stash": ("<b>{{{v}}}</b>", "x\ny", "<div>\n  <b>x\n  y</b></div>"),
    "a helper's output": ("<b>{{shout v}}</b>", "x\ny", "<div>\n  <b>X\n  Y</b></div>"),
    "a lone CR": ("<b>{{v}}</b>", "x\ry", "<div>\n  <b>x\ry</b></div>"),  # no line break: no fallback
}


def _render_all(folder, name: str, data: dict) -> list:
    """The email rendered with CSS inlined at compile time, per render and not at all."""
    from mailtpl import Environment

    helpers = {"shout": lambda this, value: value.upper()}
    return [Environment(folder, inline_css=inline, helpers=helpers).render(name, data)
            for inline in (True, "per-render", False)]


def test_a_line_break_in_a_value_of_an_indented_partial_renders_as_per_render(tmp_path):
    from mailtpl.text import html_to_text

    for i, (label, (partial, value, expected)) in enumerate(INDENTED.items()):
        (tmp_path / str(i) / "partials").mkdir(parents=True)
        (tmp_path / str(i) / "e.hbs").write_text("<div>\n  {{> p}}\n</div>")
        (tmp_path / str(i) / "partials" / "p.hbs").write_text(partial)
        fast, slow, off = _render_all(tmp_path / str(i), "e", {"a": 1, "v": value, "items": [value]})
        assert off.html == expected, label
        if label == "a lone CR":  # premailer's parser normalises a CR to a line feed, as every HTML parser does
            assert fast.inlining == "compile-time" and fast.html.replace("\r", "\n") == slow.html
        else:
            assert fast.inlining == slow.inlining == "per-render" and fast.html == slow.html, label
        for out in (fast, slow, off):
            assert out.text == html_to_text(out.html), label


def test_an_indented_partial_with_values_stays_inlined_at_compile_time(tmp_path):
    from mailtpl import Environment

    (tmp_path / "partials").mkdir()
    (tmp_path / "e.hbs").write_text("<div>\n  {{> p}}\n</div>")
    (tmp_path / "partials" / "p.hbs").write_text("<b>{{#if a}}{{v}}{{/if}}</b>")
    env = Environment(tmp_path)
    assert env.info("e").inlining == "compile-time"
    assert env.render("e", {"a": 1, "v": "x y"}).inlining == "compile-time"
    assert env.render("e", {"a": 1, "v": "x\ry"}).inlining == "compile-time"
    assert env.render("e", {"a": 1, "v": "x\ny"}).inlining == "per-render"  # this render only
    assert env.render("e", {"a": 1, "v": "x y"}).inlining == "compile-time"


def test_the_shipped_layout_indents_the_lines_of_a_value_with_a_line_break():
    """templates/layouts/layout.hbs indents {{> @partial-block}} (the email's body) and {{> footer}}."""
    from pathlib import Path

    from mailtpl import Environment

    templates = Path(__file__).resolve().parents[1] / "templates"
    base = {"baseUrl": "https://fb.example.org"}
    for name, data in (("verification", {"code": "48\n29"}), ("invitation", {"link": "https://x.io/a\nb"}),
                       ("resetPassword", {"link": "l", "baseUrl": "https://fb.example.org/\nx"})):
        assert Environment(templates).info(name).inlining == "compile-time"
        fast, slow, off = _render_all(templates, name, {**base, **data})
        assert fast.html == slow.html and fast.text == slow.text, name
        assert fast.inlining == "per-render", name
    assert '<div class="code">48\n            29</div>' in _render_all(templates, "verification",
                                                                    {**base, "code": "48\n29"})[2].html
