"""Issue 13 (library side): the variables an email reads, their shapes, and sample data generated from them
that renders the email in strict mode."""
import json
import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailtpl import Compiler, DataError, Environment, TemplateError, UndefinedError
from mailtpl.cli import main
from mailtpl.loader import FileSystemLoader, FixtureExists
from mailtpl.variables import analyze, sample_data

ROOT = Path(__file__).resolve().parents[1]


def shape(variables) -> dict:
    """{path: kind} over the whole tree."""
    out = {}
    for v in variables:
        out[v.path] = v.kind
        out.update(shape(v.fields))
        if v.item is not None:
            out.update(shape([v.item]))
    return out


@pytest.fixture
def bare(tmp_path):
    """The shipped templates without their sample data."""
    shutil.copytree(ROOT / "templates", tmp_path / "templates", ignore=shutil.ignore_patterns("*.preview.json"))
    return tmp_path / "templates"


def folder(tmp_path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


# -- the shipped emails --------------------------------------------------------------------------------
def test_variables_of_the_shipped_emails():
    env = Environment(ROOT / "templates")
    code, base = env.variables("verification")[1], env.variables("verification")[0]
    assert (code.name, code.kind) == ("code", "text")
    assert code.locations == ("verification.hbs:4:21", "verification.txt.hbs:5:7")
    assert (base.name, base.kind) == ("baseUrl", "url")  # src="{{baseUrl}}/assets/logo.png" in the layout
    assert "layouts/layout.hbs:37:55" in base.locations and "partials/footer.hbs:1:89" in base.locations
    for name in ("resetPassword", "invitation"):  # {{link}} is read in partials/button.hbs, in href="..."
        assert shape(env.variables(name)) == {"baseUrl": "url", "link": "url"}
        assert env.variables(name)[1].locations[0].startswith("partials/button.hbs:3:")


@pytest.mark.parametrize("name", ["verification", "resetPassword", "invitation"])
def test_generated_data_renders_the_shipped_emails_in_strict_mode(bare, name):
    env = Environment(bare)  # strict
    assert env.loader.fixtures(name) == {}
    data = env.sample_data(name)
    rendered = env.render(name, data, preview=True)
    if name == "verification":
        assert data == {"code": "[code]"} and '[code]</div>' in rendered.html
    else:
        assert data == {"link": "https://feedback.example.com/link"}
        assert 'href="https://feedback.example.com/link"' in rendered.html


def test_generated_data_renders_the_original_single_file_templates():
    env = Environment(ROOT / "tests" / "fixtures" / "original")  # the project's own emails: no sample data
    assert {name: shape(env.variables(name)) for name in env.names()} == {
        "verification": {"baseUrl": "url", "code": "text"},
        "resetPassword": {"baseUrl": "url", "link": "url"},
        "invitation": {"baseUrl": "url", "link": "url"},
    }
    for name in env.names():
        rendered = env.render(name, env.sample_data(name), preview=True)
        assert "https://feedback.example.com/assets/" in rendered.html


# -- shapes ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("source, expected", [
    ('<a href="{{home}}">{{label}}</a>', {"home": "url", "label": "text"}),
    ('<img src=\'{{logo}}\' alt="{{alt}}">', {"logo": "url", "alt": "text"}),
    ('<a href="{{base}}/x/{{id}}" title="{{t}}">', {"base": "url", "id": "text", "t": "text"}),
    ('<a href={{bare}}>', {"bare": "url"}),
    ("href={{notInATag}}", {"notInATag": "text"}),
    ("{{#if premium}}*{{/if}}{{#unless muted}}!{{/unless}}{{^off}}on{{/off}}",
     {"premium": "boolean", "muted": "boolean", "off": "boolean"}),
    ("{{#if note}}<p>{{note}}</p>{{/if}}", {"note": "text"}),
    ("{{#if user}}{{user.name}}{{/if}}", {"user": "object", "user.name": "text"}),
    ("{{#each tags}}{{this}}{{/each}}", {"tags": "list", "tags[]": "text"}),
    ("{{#each items}}{{name}} {{price.amount}}{{/each}}",
     {"items": "list", "items[]": "object", "items[].name": "text", "items[].price": "object",
      "items[].price.amount": "text"}),
    ("{{#with order}}{{id}}{{/with}}", {"order": "object", "order.id": "text"}),
    ("{{#order}}{{id}}{{/order}}", {"order": "object", "order.id": "text"}),
    ("{{#each xs as |x i|}}{{x.a}}{{i}}{{@index}}{{/each}}", {"xs": "list", "xs[]": "object", "xs[].a": "text"}),
    ("{{#each xs}}{{../title}}{{@root.brand}}{{/each}}", {"xs": "list", "xs[]": "text", "title": "text",
                                                          "brand": "text"}),
    ("{{#each xs}}{{#if flag}}{{../t}}{{/if}}{{/each}}",  # if does not change the context: ../ is the root
     {"xs": "list", "xs[]": "object", "xs[].flag": "boolean", "t": "text"}),
    ("{{items.[2].name}}", {"items": "list", "items[]": "object", "items[].name": "text"}),
    ("{{lookup dict key}}{{log level}}", {"dict": "text", "key": "text", "level": "text"}),
    ("{{this.a}} {{./b}} {{[c d]}}", {"a": "text", "b": "text", "c d": "text"}),
])
def test_shapes(source, expected):
    program = Compiler().parse(source, name="t.hbs")
    assert shape(analyze([(program, "t.hbs")], lambda name: None)) == expected


def test_helpers_are_not_variables_and_their_arguments_are():
    program = Compiler().parse("{{shout name}}{{now}}{{#if (eq a b)}}x{{/if}}{{#repeat n=count}}{{word}}{{/repeat}}",
                               name="t.hbs")
    variables = analyze([(program, "t.hbs")], lambda name: None, helpers=["shout", "now", "eq", "repeat"])
    assert shape(variables) == {"name": "text", "a": "text", "b": "text", "count": "text", "word": "text"}


# -- partials, layouts, and data that renders them ------------------------------------------------------------
TRICKY = {
    "order.hbs": """{{#> frame title=heading}}
{{#*inline "line"}}<li>{{name}}: {{@root.currency}} {{price}}{{#if @root.showSku}} ({{sku}}){{/if}}</li>{{/inline}}
<ul>{{#each order.items as |item i|}}{{> line}}{{#each item.options}}<i>{{label}} of {{item.name}} in {{../../shop.name}}</i>{{/each}}{{/each}}</ul>
{{#with order.customer}}<p>Hi {{first}} ({{../order.id}})</p>{{#if vip}}<b>{{@root.vipNote}}</b>{{/if}}{{/with}}
{{> address order.shipping kind="ship"}}
<a href="{{order.trackingUrl}}">track</a>
{{#unless paid}}<a href="{{payUrl}}">{{payLabel}}</a>{{else if overdue}}late{{else}}paid{{/unless}}
{{#coupons}}<s>{{code}}</s>{{/coupons}}
{{/frame}}
""",
    "layouts/frame.hbs": """<html><body><h1>{{title}}</h1>
{{#each banners}}<div>{{text}}</div>{{/each}}
{{> @partial-block}}
<img src="{{logoUrl}}">{{> footer}}</body></html>
""",
    "partials/address.hbs": "<address>{{kind}}: {{street}}, {{city}}<a href=\"{{mapUrl}}\">map</a></address>",
    "partials/footer.hbs": "<footer>{{company}} {{#if unsubscribe}}<a href=\"{{unsubscribe}}\">stop</a>{{/if}}</footer>",
}


def test_tricky_template_variables(tmp_path):
    env = Environment(folder(tmp_path, TRICKY))
    got = shape(env.variables("order"))
    assert got == {
        "banners": "list", "banners[]": "object", "banners[].text": "text",
        "company": "text", "currency": "text", "heading": "text", "logoUrl": "url", "overdue": "boolean",
        "paid": "boolean", "payLabel": "text", "payUrl": "url", "showSku": "boolean", "unsubscribe": "url",
        "vipNote": "text", "coupons": "object", "coupons.code": "text",
        "order": "object", "order.id": "text", "order.trackingUrl": "url",
        "order.customer": "object", "order.customer.first": "text", "order.customer.vip": "boolean",
        "order.items": "list", "order.items[]": "object", "order.items[].name": "text",
        "order.items[].price": "text", "order.items[].sku": "text", "order.items[].options": "list",
        "order.items[].options[]": "object", "order.items[].options[].label": "text",
        "order.shipping": "object", "order.shipping.street": "text", "order.shipping.city": "text",
        "order.shipping.mapUrl": "url",
        "shop": "object", "shop.name": "text",
    }
    assert "title" not in got and "kind" not in got  # given by the partials' hash arguments


def test_generated_data_renders_the_tricky_template_in_strict_mode(tmp_path):
    env = Environment(folder(tmp_path, TRICKY))
    data = env.sample_data("order")
    assert len(data["order"]["items"]) == 2 and data["payUrl"] == "https://feedback.example.com/payurl"
    assert data["order"]["trackingUrl"] == "https://feedback.example.com/order-trackingurl"
    html = env.render("order", data, preview=True).html
    for text in ("[order.items.1.options.0.label] of [order.items.1.name] in [shop.name]", "Hi [order.customer.first]",
                 "ship: [order.shipping.street]", "[company]",
                 "[order.items.0.sku]", "[vipNote]", "<s>[coupons.code]</s>"):
        assert text in html
    with pytest.raises(UndefinedError, match="shop"):  # each variable is needed: without one, strict mode fails
        env.render("order", {k: v for k, v in data.items() if k != "shop"}, preview=True)


def test_partial_block_inside_each_sees_the_item_and_climbs_from_where_it_was_written(tmp_path):
    env = Environment(folder(tmp_path, {"card.hbs": "{{#> row}}{{text}} / {{../title}}{{/row}}",
                                        "layouts/row.hbs": "{{#each rows}}<p>{{> @partial-block}}</p>{{/each}}"}))
    assert shape(env.variables("card")) == {"rows": "list", "rows[]": "object", "rows[].text": "text",
                                            "title": "text"}
    html = env.render("card", env.sample_data("card"), preview=True).html
    assert "<p>[rows.0.text] / [title]</p>" in html and "<p>[rows.1.text] / [title]</p>" in html


def test_recursive_partial_is_followed_two_levels_and_its_data_ends_there(tmp_path):
    env = Environment(folder(tmp_path, {"tree.hbs": "{{> node}}",
                                        "partials/node.hbs": "({{name}}{{#each children}}{{> node}}{{/each}})"}))
    assert shape(env.variables("tree")) == {"name": "text", "children": "list", "children[]": "object",
                                            "children[].name": "text", "children[].children": "list",
                                            "children[].children[]": "text"}
    data = env.sample_data("tree")
    assert data["children"][0] == {"name": "[children.0.name]", "children": []}
    html = env.render("tree", data, preview=True).html
    assert "([name]([children.0.name])([children.1.name]))" in html


def test_partials_that_include_each_other_endlessly_are_one_error(tmp_path):
    names = [f"p{i}" for i in range(8)]
    files = {f"partials/{name}.hbs": "".join(f"{{{{> {other}}}}}" for other in names) for name in names}
    env = Environment(folder(tmp_path, {"bomb.hbs": "{{> p0}}", **files}))
    with pytest.raises(TemplateError, match="following the partials means reading more than 1,000,000 statements"):
        env.variables("bomb")


def test_partials_nested_too_deeply_are_one_error(tmp_path):
    nest = "{{#if a}}" * 60 + "{{> next}}" + "{{/if}}" * 60  # (nested withs: data 50 levels deep, one error)
    files = {f"partials/p{i}.hbs": nest.replace("next", f"p{i + 1}") for i in range(60)}
    env = Environment(folder(tmp_path, {"deep.hbs": "{{> p0}}", **files}))
    with pytest.raises(TemplateError, match="deep.hbs: blocks and partials nest too deeply to analyse"):
        env.variables("deep")


def test_to_json_is_plain_json(tmp_path):
    env = Environment(folder(tmp_path, TRICKY))
    text = json.dumps([v.to_json() for v in env.variables("order")])
    order = next(v for v in json.loads(text) if v["name"] == "order")
    items = next(f for f in order["fields"] if f["name"] == "items")
    assert items["kind"] == "list" and items["item"]["kind"] == "object" and items["locations"]


def test_sample_data_for_indexed_items_and_skip():
    program = Compiler().parse("{{items.[3].name}}{{baseUrl}}", name="t.hbs")
    variables = analyze([(program, "t.hbs")], lambda name: None)
    data = sample_data(variables, skip=["baseUrl"])
    assert data == {"items": [{"name": f"[items.{i}.name]"} for i in range(4)]}
    Compiler().compile("{{items.[3].name}}", strict=True)(data)


# -- random templates: what the analysis finds is enough to render in strict mode -------------------------
SCALARS, OBJECTS = ["a", "b", "s"], ["o", "o.o"]


class Templates:
    """Random templates over the constructs the analysis follows. Each path has one role (text, object or
    list), ../ goes only where a context was entered, and each / with enter a path below this, never one
    through a block parameter, so no context is entered twice (in handlebars.js a context that is
    already the current one does not count for ../)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def below(self, params: list[str], names: list[str]) -> str:
        prefix = self.rng.choice(["", "", "o.", *(f"{p}." for p in params)])
        return prefix + self.rng.choice(names)

    def path(self, depth: int, params: list[str]) -> str:
        r = self.rng.random()
        if depth and r < 0.25:
            return "../" * self.rng.randint(1, depth) + self.below([], SCALARS)
        if r < 0.35:
            return "@root." + self.below([], SCALARS)
        return self.below(params, SCALARS)

    def body(self, depth: int, params: list[str], level: int) -> str:
        return "".join(self.stmt(depth, params, level + 1) for _ in range(self.rng.randint(1, 3)))

    def stmt(self, depth: int, params: list[str], level: int) -> str:
        r = self.rng.random()
        if level > 3 or r < 0.25:
            return self.rng.choice(["x", '<a href="{{' + self.path(depth, params) + '}}">'])
        if r < 0.45:
            return "{{" + self.path(depth, params) + "}}"
        if r < 0.55:
            inverse = "{{else}}" + self.body(depth, params, level) if self.rng.random() < 0.4 else ""
            helper = self.rng.choice(["if", "unless"])
            return f"{{{{#{helper} {self.path(depth, params)}}}}}{self.body(depth, params, level)}{inverse}{{{{/{helper}}}}}"
        if r < 0.7:
            name = self.rng.choice(["v", "w"])
            block_params = f" as |{name} i|" if self.rng.random() < 0.4 else ""
            inner = params + [name] if block_params else params
            return (f"{{{{#each {self.below([], ['xs'])}{block_params}}}}}{self.body(depth + 1, inner, level)}"
                    "{{/each}}")
        if r < 0.8:
            return f"{{{{#with {self.below([], ['o'])}}}}}{self.body(depth + 1, params, level)}{{{{/with}}}}"
        if r < 0.9:
            arg = self.rng.choice(["", " k=" + self.path(depth, params), " " + self.below(params, ["o"])])
            return f"{{{{> {self.rng.choice(['p', 'q'])}{arg}}}}}"
        return "{{#> lay}}" + self.body(depth, params, level) + "{{/lay}}"


PARTIALS = {"p": "P{{a}}{{#each xs}}<{{this}}>{{/each}}", "q": "{{k}}{{#with o}}{{b}}{{/with}}",
            "lay": "<L>{{#each xs}}{{> @partial-block}}{{/each}}{{s}}</L>"}


def test_generated_data_renders_random_templates_in_strict_mode():
    compiler = Compiler()
    partial_asts = {name: compiler.parse(source, name=name) for name, source in PARTIALS.items()}
    for seed in range(400):
        source = Templates(seed).body(0, [], 0)
        variables = analyze([(compiler.parse(source, name="t.hbs"), "t.hbs")],
                            lambda name: (partial_asts[name], name) if name in partial_asts else None)
        data = sample_data(variables)
        try:
            compiler.compile(source, strict=True)(data, partials=PARTIALS)
        except UndefinedError as exc:
            pytest.fail(f"seed {seed}: {source!r}\ndata {json.dumps(data)}\n{exc}")


# -- mailtpl sample ------------------------------------------------------------------------------------------
def test_sample_command_writes_refuses_to_overwrite_and_keeps_other_sets(bare):
    runner = CliRunner()
    result = runner.invoke(main, ["sample", "verification", "--templates", str(bare)])
    assert result.exit_code == 0, result.output
    path = bare / "verification.preview.json"
    assert json.loads(path.read_text()) == {"default": {"code": "[code]"}}
    path.write_text(json.dumps({"default": {"code": "111111"}, "long": {"code": "9" * 40}}))
    refused = runner.invoke(main, ["sample", "verification", "--templates", str(bare)])
    assert refused.exit_code == 1
    assert "the sample-data set 'default' is already there (sets: default, long)" in refused.output
    assert json.loads(path.read_text())["default"] == {"code": "111111"}
    added = runner.invoke(main, ["sample", "verification", "--set", "generated", "--templates", str(bare)])
    assert added.exit_code == 0
    forced = runner.invoke(main, ["sample", "verification", "--force", "--templates", str(bare)])
    assert forced.exit_code == 0
    assert json.loads(path.read_text()) == {"default": {"code": "[code]"}, "long": {"code": "9" * 40},
                                            "generated": {"code": "[code]"}}


def test_sample_command_refuses_a_set_name_build_could_not_use(bare):
    result = CliRunner().invoke(main, ["sample", "verification", "--set", "../../x", "--templates", str(bare)])
    assert result.exit_code == 1 and "sample-data set '../../x' cannot name a snapshot file" in result.output
    assert not (bare / "verification.preview.json").exists()


def test_generated_sets_build_snapshots(bare, monkeypatch):
    for name in ("verification", "resetPassword", "invitation"):
        assert CliRunner().invoke(main, ["sample", name, "--templates", str(bare)]).exit_code == 0
    monkeypatch.chdir(bare.parent)
    assert CliRunner().invoke(main, ["build"]).exit_code == 0
    assert "[code]</div>" in (bare.parent / "previews" / "verification.default.html").read_text()


def test_save_fixture_api(bare):
    env = Environment(bare)
    env.loader.save_fixture("invitation", "default", {"link": "https://x.io"})
    with pytest.raises(FixtureExists):
        env.loader.save_fixture("invitation", "default", {"link": "https://y.io"})
    assert env.loader.fixtures("invitation") == {"default": {"link": "https://x.io"}}


def test_save_fixture_that_cannot_be_written_leaves_the_file_as_it_was(tmp_path):
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    path = tmp_path / "templates" / "verification.preview.json"
    before = path.read_bytes()
    env = Environment(tmp_path / "templates")
    with pytest.raises(DataError, match="not Unicode"):
        env.loader.save_fixture("verification", "default", {"code": "\ud800"}, overwrite=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".mailtpl-")) == []


def test_save_fixture_keeps_the_file_as_written_when_it_adds_a_set(tmp_path):
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    path = tmp_path / "templates" / "verification.preview.json"
    before = path.read_text()
    env = Environment(tmp_path / "templates")
    env.loader.save_fixture("verification", "zoë", {"code": "7"})
    after = path.read_text()
    assert after.startswith(before.rstrip()[:-1].rstrip() + ",\n")  # the sets already there, byte for byte
    assert json.loads(after) == {**json.loads(before), "zoë": {"code": "7"}}
    env.loader.save_fixture("verification", "zoë", {"code": "8"}, overwrite=True)  # replacing: only that set's value
    assert path.read_text() == after.replace('{"code": "7"}', '{"code": "8"}')
    assert list(json.loads(path.read_text())) == ["default", "leading-zeros", "zoë"]


@pytest.mark.parametrize("text, expected", [
    ('{\n  "default": {"code": "1"},\n  "b": {"x": [1, "}"]},\n  "c": {"code": "\\"default\\": {"}\n}\n',
     '{\n  "default": {"code": "9"},\n  "b": {"x": [1, "}"]},\n  "c": {"code": "\\"default\\": {"}\n}\n'),
    ('{"default":{"code":"1"},"c":{}}', '{"default":{"code": "9"},"c":{}}'),
    ('{ "a" : {} ,\n\t"default" :\n   {"code": "1"} }', '{ "a" : {} ,\n\t"default" :\n   {"code": "9"} }'),
    ('{"default": {"code": "1"}, "default": {"code": "2"}}',  # json.loads keeps the last of duplicate keys
     '{"default": {"code": "1"}, "default": {"code": "9"}}'),
])
def test_replacing_a_set_keeps_every_other_byte_of_the_file(tmp_path, text, expected):
    (tmp_path / "e.hbs").write_text("<p>{{code}}</p>")
    path = tmp_path / "e.preview.json"
    path.write_text(text, encoding="utf-8")
    FileSystemLoader(tmp_path).save_fixture("e", "default", {"code": "9"}, overwrite=True)
    assert path.read_text(encoding="utf-8") == expected


# -- review: hostile paths --------------------------------------------------------------------------------
@pytest.mark.parametrize("source, where", [
    ("<p>{{a" + ".b" * 3000 + "}}</p>", "t.hbs:1:6"),  # one path (a RecursionError before)
    ("{{#with a}}" * 40 + "{{#with b}}" * 40 + "{{c}}" + "{{/with}}" * 80, "t.hbs:1:"),  # contexts entered
])
def test_data_nested_deeper_than_data_can_be_is_one_error_with_its_location(tmp_path, source, where):
    env = Environment(folder(tmp_path, {"t.hbs": source}))
    with pytest.raises(TemplateError, match="reads data nested more than 50 levels deep") as caught:
        env.variables("t")
    assert str(caught.value).startswith(where)


@pytest.mark.parametrize("source", ["<p>{{a.[²]}}</p>", "<p>{{a.[١]}}</p>", "<p>{{a.[٣].b}}</p>"])
def test_only_ascii_digits_are_list_indexes(tmp_path, source):
    """The runtime reads ``a.[١]`` as the key "١" (as JavaScript does), not as item 1."""
    env = Environment(folder(tmp_path, {"t.hbs": source}))
    data = env.sample_data("t")
    assert isinstance(data["a"], dict)
    env.render("t", data, preview=True)  # strict mode


def test_an_index_past_the_generated_items_is_a_key(tmp_path):
    env = Environment(folder(tmp_path, {"t.hbs": "<p>{{a.[100].x}} {{a.[99999999999999999999].y}}</p>"}))
    data = env.sample_data("t")
    assert data == {"a": {"100": {"x": "[a.100.x]"}, "99999999999999999999": {"y": "[a.99999999999999999999.y]"}}}
    assert "[a.100.x] [a.99999999999999999999.y]" in env.render("t", data, preview=True).html


@pytest.mark.parametrize("target_exists", [True, False])
def test_save_fixture_does_not_write_through_a_symbolic_link(bare, tmp_path, target_exists):
    outside = tmp_path / "outside.json"
    if target_exists:
        outside.write_text('{"default": {"code": "1"}}')
    (bare / "verification.preview.json").symlink_to(outside)
    result = CliRunner().invoke(main, ["sample", "verification", "--set", "x", "--templates", str(bare)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "verification.preview.json: is a symbolic link" in result.output
    assert outside.read_text() == '{"default": {"code": "1"}}' if target_exists else not outside.exists()


def test_large_partials_included_thousands_of_times_are_one_error_not_minutes_of_work(tmp_path):
    """4,095 inclusions (under the old cap of 5,000) of partials of 600 statements: 2.4 million statements
    to follow, a minute of work holding the environment's lock; now one error at the statement past the budget."""
    files = {f"partials/p{i}.hbs": f"{{{{> p{i + 1}}}}}{{{{> p{i + 1}}}}}" + "{{x}} " * 300 for i in range(11)}
    env = Environment(folder(tmp_path, {"wide.hbs": "{{> p0}}", **files, "partials/p11.hbs": "{{y}}"}))
    with pytest.raises(TemplateError, match="following the partials means reading more than 1,000,000") as caught:
        env.variables("wide")
    assert str(caught.value).startswith("partials/p")


@pytest.mark.parametrize("source, data", [
    ("<p>{{user.[first-name]}} {{user.[0]}}</p>", {"user": {"0": "[user.0]", "first-name": "[user.first-name]"}}),
    ("<p>{{#with pair}}{{[1]}} {{name}}{{/with}}</p>", {"pair": {"0": "[pair.0]", "1": "[pair.1]", "name": "[pair.name]"}}),
    ("<p>{{#with pair}}{{[1]}}{{/with}}</p>", {"pair": ["[pair.0]", "[pair.1]"]}),
    ("<p>{{rows.[1].x}}</p>", {"rows": [{"x": "[rows.0.x]"}, {"x": "[rows.1.x]"}]}),
    ("<p>{{#each rows}}{{x}}{{/each}}{{rows.[2].x}}</p>", {"rows": [{"x": f"[rows.{i}.x]"} for i in range(3)]}),
])
def test_an_index_read_beside_named_fields_is_a_key(tmp_path, source, data):
    """``user.[0]`` next to ``user.name`` (and not iterated) is an object with a key "0", as JavaScript reads it."""
    env = Environment(folder(tmp_path, {"t.hbs": source}))
    assert env.sample_data("t") == data
    env.render("t", data, preview=True)  # strict mode


@pytest.mark.parametrize("source", ["{{^ok}}not ok{{/ok}}", "{{#each rows}}{{else}}no rows{{/each}}", "{{log note}}"])
def test_generated_data_that_renders_an_empty_email_is_not_a_crash(tmp_path, source):
    """The generated data (True, two items) renders nothing here; premailer raised AttributeError on empty
    HTML, a traceback out of mailtpl sample and mailtpl build."""
    bare = folder(tmp_path, {"t.hbs": source})
    result = CliRunner().invoke(main, ["sample", "t", "--templates", str(bare)])
    assert result.exit_code == 0, result.output
    env = Environment(bare)
    html = env.render("t", env.sample_data("t"), preview=True).html
    assert html.strip() in ("", "<html>\n<head></head>\n<body></body>\n</html>")


def test_variables_are_kept_until_a_file_they_read_changes(tmp_path):
    (tmp_path / "partials").mkdir()
    (tmp_path / "e.hbs").write_text("{{a}} {{> p}}")
    (tmp_path / "partials" / "p.hbs").write_text("{{b}}")
    env = Environment(tmp_path)
    first = env.variables("e")
    assert env.variables("e") is first  # analysed once
    (tmp_path / "partials" / "p.hbs").write_text("{{c}}")
    env.invalidate([tmp_path / "partials" / "p.hbs"])
    assert {v.name for v in env.variables("e")} == {"a", "c"}
    (tmp_path / "e.hbs").write_text("{{d}} {{> p}}")
    env.invalidate([tmp_path / "e.hbs"])
    assert {v.name for v in env.variables("e")} == {"c", "d"}
