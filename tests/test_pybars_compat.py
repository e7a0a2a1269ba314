"""Where pybars3's suite meets data a JSON corpus cannot hold: Python objects, pydantic models, helper values.

Each expected output is handlebars.js 4.7.10's for the JavaScript equivalent named in the test
(a class with a getter, a prototype attribute, an object with fields); the JSON-shaped cases are
oracle cases in tests/data/extra.json ("pybars3/..."). tools/pybars3_suite.py runs pybars3's own
suite against mailtpl.
"""
import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import pybars
import pydantic
import pytest

from mailtpl import Compiler, Scope, TemplateRuntimeError, UndefinedError

ROOT = Path(__file__).resolve().parents[1]


def render(source, data, strict=False, **options):
    return Compiler().compile(source, name="t.hbs", strict=strict)(data, **options)


class Extra(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")
    name: str = "Ada"
    age: int = 36


# -- pydantic models are objects with fields ------------------------------------------------------
def test_each_over_a_model_visits_its_fields_by_name():
    """JavaScript: {{#each}} over {name: "Ada", age: 36} gives key=value pairs (pydantic's __iter__ gives tuples)."""
    source = "{{#each m}}{{@index}}:{{@key}}={{this}}{{#if @last}}.{{/if}};{{/each}}"
    assert render(source, {"m": Extra()}) == "0:name=Ada;1:age=36.;"
    assert render(source, {"m": Extra()}) == render(source, {"m": Extra().model_dump()})


def test_each_over_a_model_with_block_params():
    assert render("{{#each m as |v k|}}{{k}}-{{v}} {{/each}}", {"m": Extra(name="Bo")}) == "name-Bo age-36 "


def test_model_extra_fields_are_data():
    model = Extra(plan="pro", **{"10": "ten", "2": "two"})
    assert render("{{m.plan}} {{m.name}} {{m.[10]}}", {"m": model}) == "pro Ada ten"
    assert render("{{m.plan}}", {"m": model}, strict=True) == "pro"  # read, not denied
    # after the fields, integer-like keys first as in a JavaScript object
    assert render("{{#each m}}{{@key}},{{/each}}", {"m": model}) == "2,10,name,age,plan,"


def test_model_api_stays_denied_with_extra_fields():
    model = Extra(plan="pro")
    assert render("[{{m.model_extra}}][{{m.model_dump}}][{{m.__pydantic_extra__}}]", {"m": model}) == "[][][]"
    with pytest.raises(UndefinedError):
        render("{{m.model_extra}}", {"m": model}, strict=True)


def test_a_name_a_model_does_not_have_is_missing_not_denied(caplog):
    """BaseModel's __getattr__ serves private attributes only: a typo is a missing name, not a denied property."""
    assert render("[{{m.nmae}}]", {"m": Extra()}) == "[]"
    assert not caplog.records
    with pytest.raises(UndefinedError) as info:
        render("{{m.nmae}}", {"m": Extra()}, strict=True)
    assert "denied" not in str(info.value) and '"m.nmae" is not defined' in str(info.value)


def test_model_without_extra_fields_and_pydantic_v1_models():
    from pydantic import v1

    class Old(v1.BaseModel):
        class Config:
            extra = "allow"

        name: str = "Ada"

    assert render("{{#each m}}{{@key}}={{this}};{{/each}}{{m.plan}}", {"m": Old(plan="pro")}) == "name=Ada;plan=pro;pro"
    assert render("{{#each m}}{{@key}};{{/each}}", {"m": pydantic.create_model("Plain", x=(int, 1))()}) == "x;"


def test_each_over_a_slots_object_visits_its_set_slots():
    @dataclasses.dataclass(slots=True)
    class Point:
        x: int = 1
        y: str = "y"

    class Partly:
        __slots__ = ("a", "b")

        def __init__(self):
            self.a = 1

    assert render("{{#each p}}{{@key}}={{this}};{{/each}}", {"p": Point()}) == "x=1;y=y;"
    assert render("{{#each p}}{{@key}}={{this}};{{/each}}", {"p": Partly()}) == "a=1;"


# -- pybars3 resolves names on objects that handlebars.js would not -------------------------------
def test_class_attribute_of_a_dict_subclass_is_not_read():
    """JavaScript: an object whose prototype has `world` (handlebars.js 4.6+ denies it) -> ''."""
    class Greeting(dict):
        world = "class attribute"

    assert render("[{{g.world}}]", {"g": Greeting()}) == "[]"
    assert render("[{{g.world}}]", {"g": Greeting(world="key")}) == "[key]"


def test_property_and_get_method_are_not_read():
    """JavaScript: a class with a getter `text`, and one with a method `get` -> '! ! own! ' in handlebars.js."""
    class WithProperty:
        @property
        def text(self):
            raise AssertionError("a template read a property")

    class WithGet:
        def get(self, name):
            raise AssertionError("a template called get()")

    data = [{"o": WithProperty()}, {"o": WithGet()}, {"o": {"text": "own"}}]
    assert render("{{#each .}}{{o.text}}! {{/each}}", data) == "! ! own! "


def test_builtin_helper_replaced_by_a_value_is_an_error():
    """handlebars.js calls a known helper directly: helpers={lookup: 'x'} throws
    'lookupProperty(...).call is not a function'; pybars3 prints the value."""
    for source in ("{{lookup}}", "{{{lookup}}}", "{{#lookup}}x{{/lookup}}"):
        with pytest.raises(TemplateRuntimeError, match="builtin or known helper"):
            render(source, {"lookup": "context"}, helpers={"lookup": "helper value"})
    assert render("{{world}}", {"world": "context"}, helpers={"world": "helper value"}) == "helper value"


def test_block_helper_may_return_a_tuple_as_pybars3_documents():
    """pybars3's README: helpers return a list, tuple, str or strlist; a block helper's list or tuple is joined."""
    def wrap(this, options):
        return ("<b>", options["fn"](this), ["</b>", ("!",)])

    assert render("{{#wrap}}{{x}}{{/wrap}}", {"x": "&"}, helpers={"wrap": wrap}) == "<b>&amp;</b>!"


def test_scope_overrides_shadow_the_context_names():
    """pybars.Scope(context, parent, root, overrides={...}): the overrides are names over the context's own
    (pybars3's own Scope inside mailtpl's)."""
    def shadow(this, options):
        inner = pybars.Scope({"a": 1, "b": "own"}, this, options["root"], overrides={"b": "inner"}, index=3)
        return options["fn"](Scope(inner, this, options["root"], overrides={"b": "outer", "c": "c"}))

    assert render("{{#shadow}}{{a}} {{b}} {{c}} {{@index}} {{@root.top}}{{/shadow}}", {"top": "T"},
                  helpers={"shadow": shadow}) == "1 outer c 3 T"


def test_each_over_a_scope_iterates_what_it_wraps():
    """A pybars.Scope in the data is its context: each visited Scope's own attributes (context, parent, ...)."""
    assert render("{{#each xs}}{{@index}}{{this}};{{/each}}", {"xs": Scope(["a", "b"], None, None)}) == "0a;1b;"
    assert render("{{#each o}}{{@key}}={{this}};{{/each}}", {"o": Scope({"k": 1}, None, None)}) == "k=1;"


def test_one_letter_hash_keys_reach_the_helper():
    """pybars3 0.9.7 refuses {{h x=1}} as a syntax error (two letters work); handlebars.js takes any name."""
    assert render("{{h x=1 y='b'}}", {}, helpers={"h": lambda this, **hash: f"{hash['y']}{hash['x']}"}) == "b1"


def test_helpers_get_the_plain_context_as_this_and_a_mailtpl_strlist_from_fn():
    """handlebars.js calls a helper with the current context as ``this`` (``{{#each}}`` and ``{{#with}}`` included);
    pybars3 passes a ``pybars.Scope`` (so ``this.context`` works there, not here). ``options['fn'](this)`` returns a
    ``mailtpl.strlist``; pybars3's strlist counts as mailtpl's, not the other way round (README, The compiler)."""
    pybars = pytest.importorskip("pybars")
    import mailtpl

    seen = []

    def block(this, options):
        seen.append(this)
        out = options["fn"](this)
        assert isinstance(out, mailtpl.strlist) and not isinstance(out, pybars.strlist)
        return out

    def inline(this):
        seen.append(this)
        return ""

    data = {"xs": [{"a": 1}], "o": {"z": 1}}
    render("{{i}}{{#b}}{{i}}{{/b}}{{#each xs}}{{i}}{{/each}}{{#with o}}{{i}}{{/with}}", data,
           helpers={"b": block, "i": inline})
    assert seen == [data, data, data, {"a": 1}, {"z": 1}] and all(type(this) is dict for this in seen)
    assert isinstance(pybars.strlist(), mailtpl.strlist) and not isinstance(mailtpl.strlist(), pybars.strlist)
    with pytest.raises(TemplateRuntimeError, match="has no attribute 'context'"):
        render("{{h}}", {"a": 1}, helpers={"h": lambda this: this.context["a"]})


# -- tools/pybars3_suite.py's classification points at proofs that exist ----------------------------
def _suite_tool():
    spec = importlib.util.spec_from_file_location("pybars3_suite", ROOT / "tools" / "pybars3_suite.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_class_a_failure_has_its_proof_here():
    tool = _suite_tool()
    cases = {case["name"] for case in json.loads((ROOT / "tests" / "data" / "extra.json").read_text())}
    for name, known in tool.KNOWN.items():
        assert known.kind in ("a", "c"), name
        if known.kind == "a" and known.case:
            assert known.case in cases, f"{name}: no oracle case {known.case} in extra.json"
        elif known.kind == "a":
            assert known.js, f"{name}: no JavaScript twin to render in handlebars.js"
            assert callable(globals().get(known.test)), f"{name}: no test {known.test} in this module"
