"""Issue 10 (nodes): the AST's walks, locations and the compile entry point that takes an AST.

Every node carries the file it was parsed from, so an email compiled with its
partials written in (and CSS inlined at compile time) names the partial's
file:line:column in its errors, with no second render of the original templates.
"""
from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path

import pytest

from mailtpl import Compiler, Environment, TemplateError, TemplateRuntimeError, UndefinedError
from mailtpl import nodes as n

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
BASE = "https://fb.example.org"

EVERYTHING = """\
<p>{{title}} {{{raw}}} {{! a comment }}{{!-- another --}}</p>
{{#each items as |item i|}}{{item.name}} {{@index}} {{lookup ../names i}}{{else}}none{{/each}}
{{#if (eq a.b "x") includeZero=true}}yes{{else if c}}c{{else}}no{{/if}}
{{^missing}}inverted{{/missing}}
{{> footer who=user.name}}
{{> (pick "footer") this}}
{{#> layout title="t"}}inside {{> @partial-block}}{{/layout}}
{{#*inline "side"}}side {{x}}{{/inline}}
{{{{raw}}}} {{not parsed}} {{{{/raw}}}}
{{helper 1 2.5 true null undefined "s" key=(sub x y=1)}}
"""


def fields_walk(node: n.Node) -> list[n.Node]:
    """Every node inside ``node``, found through the dataclass fields (not through children())."""
    found = [node]
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            item = item[1] if isinstance(item, tuple) else item  # a hash pair
            if isinstance(item, n.Node):
                found.extend(fields_walk(item))
    return found


def test_walk_reaches_every_node_in_source_order():
    program = Compiler().parse(EVERYTHING, name="all.hbs")
    walked = list(n.walk(program))
    assert sorted(map(id, walked)) == sorted(map(id, fields_walk(program)))
    kinds = {type(node).__name__ for node in walked}
    assert kinds == {"Program", "Content", "Comment", "Mustache", "Block", "Partial", "PartialBlock", "PathExpr",
                     "Literal", "Hash", "SubExpr"}
    # depth first in source order: the tags come as they are written
    lines = [node.line for node in walked if isinstance(node, (n.Mustache, n.Block, n.Partial, n.PartialBlock))]
    assert lines == sorted(lines)


def test_a_node_visitor_dispatches_by_type_and_descends_by_default():
    class Paths(n.NodeVisitor):
        def __init__(self):
            self.seen = []

        def visit_PathExpr(self, node, prefix):
            self.seen.append(prefix + node.original)

    program = Compiler().parse(EVERYTHING)
    visitor = Paths()
    visitor.visit(program, "> ")
    assert visitor.seen == ["> " + node.original for node in n.walk(program) if isinstance(node, n.PathExpr)]
    assert "> item.name" in visitor.seen and "> x" in visitor.seen  # in a block's body, in a subexpression


def test_every_node_carries_its_file_line_and_column():
    program = Compiler().parse(EVERYTHING, name="all.hbs")
    lines = EVERYTHING.splitlines()
    for node in n.walk(program):
        assert node.file == "all.hbs" and node.line >= 1 and node.column >= 1, node
    for node in n.walk(program):
        if isinstance(node, n.PathExpr):  # a path starts where its text is written
            assert lines[node.line - 1][node.column - 1:].startswith(node.original), node
    assert all(node.file is None for node in n.walk(Compiler().parse("{{a}} {{#b}}c{{/b}}")))


def test_nodes_are_built_by_keyword():
    with pytest.raises(TypeError):
        n.Content(1, 1, "text", "text")  # noqa - positional construction is what is refused
    node = n.Content(line=1, column=1, value="text", original="text")
    assert node.file is None and list(node.children()) == []


def test_compile_takes_a_parsed_ast():
    compiler = Compiler()
    source = "<p>{{#each xs}}{{this}},{{/each}}</p>\n{{name}}"
    program = compiler.parse(source, name="list.hbs")
    template = compiler.compile(program, sources={"list.hbs": source}, strict=True)
    assert template({"xs": [1, 2], "name": "a"}) == compiler.compile(source)({"xs": [1, 2], "name": "a"})
    assert template.name == "list.hbs" and template.source == source
    with pytest.raises(UndefinedError) as info:
        template({"xs": []})
    assert str(info.value) == 'list.hbs:2:3: "name" is not defined (strict mode)\n    {{name}}\n      ^'
    # the name given names the template; the nodes still name the file they come from (no text: no line shown)
    again = compiler.template(compiler.precompile(program, name="other.hbs", strict=True))
    assert again.name == "other.hbs"
    with pytest.raises(UndefinedError, match=r'^list\.hbs:2:3: "name" is not defined \(strict mode\)$'):
        again({"xs": []})
    with pytest.raises(TypeError, match="str"):
        compiler.compile(b"{{x}}")


def test_an_ast_from_two_files_names_each_file_in_errors():
    compiler = Compiler()
    outer, inner = "<b>{{a}}</b>\n", "x\n  {{b.c}}{{> p}}\n"
    first = compiler.parse(outer, name="outer.hbs")
    second = compiler.parse(inner, name="partials/inner.hbs")
    both = dataclasses.replace(first, body=first.body + second.body)
    template = compiler.compile(both, sources={"outer.hbs": outer, "partials/inner.hbs": inner}, strict=True)
    assert template({"a": 1, "b": {"c": 2}}, partials={"p": "[{{a}}]"}) == "<b>1</b>\nx\n  2[1]\n"
    with pytest.raises(UndefinedError) as info:
        template({"a": 1, "b": {}}, partials={"p": ""})
    assert (info.value.name, info.value.lineno, info.value.column) == ("partials/inner.hbs", 2, 5)
    assert str(info.value).endswith("\n      {{b.c}}{{> p}}\n        ^")
    with pytest.raises(UndefinedError) as info:
        template({})
    assert (info.value.name, info.value.lineno, info.value.column) == ("outer.hbs", 1, 6)


# -- errors of emails whose partials are written in at compile time ------------------------------------
@pytest.fixture
def folder(tmp_path):
    shutil.copytree(TEMPLATES, tmp_path / "t")
    return tmp_path / "t"


def test_an_error_inside_an_inlined_partial_names_the_partial(folder):
    footer = folder / "partials" / "footer.hbs"
    footer.write_text(footer.read_text() + "Sent to {{recipient.address}}.\n")
    env = Environment(folder, base_url=BASE)
    assert env.info("verification").inlining == "compile-time"
    with pytest.raises(UndefinedError) as info:
        env.render("verification", {"code": "1"})
    err = info.value
    assert (err.name, err.lineno, err.column, err.path) == ("partials/footer.hbs", 3, 11, "recipient.address")
    assert str(err).endswith("\n    Sent to {{recipient.address}}.\n              ^")
    rendered = env.render("verification", {"code": "1", "recipient": {"address": "a@b.io"}})
    assert rendered.inlining == "compile-time" and "Sent to a@b.io." in rendered.html


def test_a_value_that_raises_inside_an_inlined_partial_names_the_partial(folder):
    (folder / "partials" / "footer.hbs").write_text("<p>one</p>\n<p>{{who}}</p>\n")

    class Broken:
        def __str__(self):
            raise RuntimeError("no name today")

    env = Environment(folder, base_url=BASE)
    with pytest.raises(TemplateRuntimeError) as info:
        env.render("verification", {"code": "1", "who": Broken()})
    err = info.value
    assert env.render("verification", {"code": "1", "who": "x"}).inlining == "compile-time"
    assert (err.name, err.lineno, err.column) == ("partials/footer.hbs", 2, 4)
    assert "RuntimeError: no name today" in str(err)


def test_reading_from_a_missing_object_inside_an_inlined_layout_names_the_layout(folder):
    layout = folder / "layouts" / "layout.hbs"
    layout.write_text(layout.read_text().replace("{{> footer}}", "{{#if banner}}<p>{{banner.text.value}}</p>{{/if}}"
                                                 "{{> footer}}", 1))
    env = Environment(folder, base_url=BASE)
    ok = env.render("verification", {"code": "1", "banner": {"text": {"value": "Hi"}}})
    assert ok.inlining == "compile-time" and "<p>Hi</p>" in ok.html
    with pytest.raises(UndefinedError) as info:
        env.render("verification", {"code": "1", "banner": {"text": None}})
    line, column = next((i, row.index("banner.text.value") + 1)
                        for i, row in enumerate(layout.read_text().splitlines(), 1) if "banner.text.value" in row)
    assert (info.value.name, info.value.lineno, info.value.column) == ("layouts/layout.hbs", line, column)
    assert str(info.value).startswith(f'layouts/layout.hbs:{line}:{column}: "banner.text.value" is not defined')


# -- differential: compile-time inlining raises the error the per-render path raises ---------------------
def _random_folder(rng: random.Random, root: Path) -> None:
    names = ["title", "user.name", "user.email", "link", "count", "items"]

    def value() -> str:
        return "{{" + rng.choice(names[:-1]) + "}}"

    def chunk(depth: int) -> str:
        parts = []
        for _ in range(rng.randint(1, 3)):
            kind = rng.random()
            if kind < 0.4:
                parts.append(f'<p class="t">{rng.choice(["a", "b"])} {value()}</p>\n')
            elif kind < 0.55 and depth < 2:
                parts.append("{{#each items}}<span>{{name}} {{@index}}</span>{{/each}}\n")
            elif kind < 0.7 and depth < 2:
                parts.append("{{#if " + rng.choice(names) + "}}\n" + chunk(depth + 1) + "{{else}}<i>no</i>{{/if}}\n")
            elif kind < 0.85 and depth < 2:
                parts.append("{{> part}}\n")
            else:
                parts.append(f'<a href="{{{{link}}}}/x" class="b">{value()}</a>\n')
        return "".join(parts)

    (root / "partials").mkdir(parents=True)
    (root / "layouts").mkdir()
    (root / "partials" / "part.hbs").write_text("<div class=\"a\">\n" + chunk(2) + "</div>\n")
    (root / "layouts" / "frame.hbs").write_text(
        "<html><head><style>.a { color: red } .b { font-weight: bold } p.t { margin: 0 }</style></head>\n"
        "<body>\n" + chunk(1) + "{{> @partial-block}}\n" + chunk(1) + "</body></html>\n")
    (root / "e.hbs").write_text("{{#> frame}}\n" + chunk(0) + "{{/frame}}\n")


def _data(rng: random.Random) -> dict:
    full = {"title": "T", "user": {"name": "Ada", "email": "a@b.io"}, "link": "https://x.io", "count": 2,
            "items": [{"name": "one"}, {"name": "two"}]}
    data = {key: value for key, value in full.items() if rng.random() < 0.75}
    if "user" in data and rng.random() < 0.4:
        data["user"] = {key: value for key, value in data["user"].items() if rng.random() < 0.5}
    if "items" in data and rng.random() < 0.3:
        data["items"] = [{}]
    return data


def _outcome(env: Environment, data: dict):
    try:
        return env.render("e", data).html is not None
    except TemplateError as exc:
        return type(exc).__name__, exc.name, exc.lineno, exc.column, str(exc)


def test_inlined_errors_equal_per_render_errors(tmp_path):
    rng = random.Random(1010)
    compared = errors = 0
    for case in range(30):
        root = tmp_path / str(case)
        _random_folder(rng, root)
        fast = Environment(root, base_url=BASE)
        slow = Environment(root, base_url=BASE, inline_css="per-render")
        if fast.info("e").inlining != "compile-time":
            continue
        for _ in range(6):
            data = _data(rng)
            expected = _outcome(slow, data)
            assert _outcome(fast, data) == expected, (case, data)
            compared += 1
            errors += expected is not True
    assert compared >= 100 and errors >= 30  # the cases are compiled at compile time and fail often


def test_partials_that_nest_blocks_too_deep_once_written_in_render_per_render(tmp_path):
    """Each file nests 79 blocks (the parser allows 80); written into each other they would nest hundreds
    deep, which Python cannot compile (a TemplateSyntaxError for an email that renders) or flatten recursed
    through (a RecursionError traceback). The email is inlined per render instead."""
    (tmp_path / "partials").mkdir()
    chain = 8
    for i in range(chain):
        inner = f"{{{{> p{i + 1}}}}}" if i + 1 < chain else '<b class="x">{{a}}</b>'
        (tmp_path / "partials" / f"p{i}.hbs").write_text("{{#if a}}" * 79 + inner + "{{/if}}" * 79)
    (tmp_path / "e.hbs").write_text("<style>.x { color: red }</style>{{> p0}}")
    env = Environment(tmp_path, base_url=BASE)
    rendered = env.render("e", {"a": "1"})
    assert rendered.inlining == "per-render" and '<b class="x" style="color:red">1</b>' in rendered.html
    assert env.info("e").inline_reason.startswith("blocks nest more than 80 deep once the partials are written in")
    assert rendered.text.strip() == "1"
