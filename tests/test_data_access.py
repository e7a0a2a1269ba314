"""The data access policy (mailtpl.access): what a template may read from Python objects in the data.

Each gadget of issue 9 is tried for real: the method, file operation or code must not run.
"""
import dataclasses
import logging
import os
import types
from collections import namedtuple
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import attrs
import pytest

from mailtpl import Compiler, Environment, SafeString, TemplateRuntimeError, UndefinedError

ALLOW_ALL = {"allow_proto_properties_by_default": True, "allow_proto_methods_by_default": True}


def render(source, data, strict=False, **options):
    return Compiler().compile(source, name="t.hbs", strict=strict)(data, **options)


class Account:
    kind = "class attribute"

    def __init__(self, name):
        self.name = name
        self.deleted = False

    def delete(self):
        self.deleted = True
        return "deleted"

    @property
    def shout(self):
        return self.name.upper()


# -- the gadgets -------------------------------------------------------------------------------------
def test_method_is_not_called():
    account = Account("ada")
    assert render("{{a.name}}[{{a.delete}}][{{#with a}}{{delete}}{{/with}}][{{#if a.delete}}x{{/if}}]",
                  {"a": account}) == "ada[][][]"
    assert account.deleted is False


def test_method_denied_in_strict_mode_says_how_to_allow_it():
    account = Account("ada")
    with pytest.raises(UndefinedError) as info:
        render("{{a.delete}}", {"a": account}, strict=True)
    assert 'allowed_proto_methods={"delete": True}' in str(info.value) and info.value.lineno == 1
    assert account.deleted is False


def test_allowed_method_is_called_and_allowed_property_read():
    account = Account("ada")
    out = render("{{a.delete}} {{a.shout}} {{a.kind}}", {"a": account},
                 allowed_proto_methods={"delete": True}, allowed_proto_properties={"shout": True})
    assert out == "deleted ADA " and account.deleted
    assert render("{{a.kind}}", {"a": account}, allow_proto_properties_by_default=True) == "class attribute"
    # an explicit False wins over the default
    assert render("{{a.shout}}", {"a": account}, allow_proto_properties_by_default=True,
                  allowed_proto_properties={"shout": False}) == ""


def test_policy_set_at_compile_time():
    account = Account("ada")
    template = Compiler().compile("{{a.shout}}", allowed_proto_properties={"shout": True})
    assert template({"a": account}) == "ADA"
    assert template({"a": account}, allowed_proto_properties={"shout": False}) == ""  # the render's own wins


def test_path_is_not_read_written_or_unlinked(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    source = ("[{{p.read_text}}][{{p.unlink}}][{{#with p}}{{write_text}}{{unlink}}{{/with}}]"
              "[{{p.parent.name}}][{{#each p}}{{this}}{{/each}}]")
    assert render(source, {"p": secret}) == "[][][][][]"
    assert secret.read_text() == "s3cret"


def test_generator_frame_exec_is_not_reachable(tmp_path):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').close()"

    def gen():
        yield 1

    source = '{{#with code}}{{../g.gi_frame.f_builtins.exec}}{{../g.gi_code.co_name}}{{/with}}'
    assert render(source, {"g": gen(), "code": code}, **ALLOW_ALL) == ""
    with pytest.raises(UndefinedError, match="never read attributes of a generator"):
        render(source, {"g": gen(), "code": code}, strict=True, **ALLOW_ALL)
    assert not marker.exists()


def test_module_is_not_traversed():
    calls = []
    module = types.ModuleType("fake_os")
    module.system = lambda *args: calls.append(args) or "ran"
    source = "[{{m.system}}][{{#each m}}{{@key}}{{this}}{{/each}}][{{#with m}}{{system}}{{/with}}][{{m.path.sep}}]"
    assert render(source, {"m": module}, **ALLOW_ALL) == "[][][][]"
    assert render("[{{m.sep}}]", {"m": os.path}, **ALLOW_ALL) == "[]"
    assert calls == []


@pytest.mark.parametrize("value", [Account, len, print, Account("a").delete, types.SimpleNamespace.__init__,
                                   (lambda: 1).__code__, Path.read_text, property(lambda self: 1)],
                         ids=["class", "builtin", "print", "bound-method", "wrapper", "code", "function", "property"])
def test_classes_functions_and_code_are_never_traversed(value):
    source = "[{{v.__name__}}{{v.mro}}{{v.func_globals}}{{v.im_self}}{{v.co_code}}{{v.fget}}{{v.name}}]"
    assert render(source, {"v": value}, **ALLOW_ALL) == "[]"


def test_traceback_and_frame_are_never_traversed():
    try:
        raise ValueError("x")
    except ValueError as exc:
        tb = exc.__traceback__
    assert render("[{{tb.tb_frame.f_globals}}{{f.f_builtins}}]", {"tb": tb, "f": tb.tb_frame}, **ALLOW_ALL) == "[]"


def test_underscore_names_are_never_read():
    account = Account("ada")
    account._token = "t"
    assert render("[{{a._token}}{{a.__class__}}{{a.__dict__}}]", {"a": account}, **ALLOW_ALL) == "[]"


# -- own data -----------------------------------------------------------------------------------------
@dataclasses.dataclass
class Plain:
    x: int
    y: str = "y"

    def method(self):
        return "m"


@dataclasses.dataclass(slots=True)
class Slotted:
    x: int
    y: str = "y"


@attrs.define
class AttrsSlots:
    x: int
    y: str = "y"


@attrs.define(slots=False)
class AttrsDict:
    x: int
    y: str = "y"


Point = namedtuple("Point", "x y")


class Partly:
    __slots__ = ("x", "y")

    def __init__(self):
        self.x = 1  # y stays unset


@pytest.mark.parametrize("value", [Plain(1), Slotted(1), AttrsSlots(1), AttrsDict(1), Point(1, "y")],
                         ids=["dataclass", "slots-dataclass", "attrs-slots", "attrs-dict", "namedtuple"])
def test_fields_are_own_data(value):
    assert render("{{v.x}}{{v.y}}[{{v.method}}]", {"v": value}) == "1y[]"


def test_unset_slot_is_missing():
    assert render("{{v.x}}[{{v.y}}]", {"v": Partly()}) == "1[]"
    with pytest.raises(UndefinedError):
        render("{{v.y}}", {"v": Partly()}, strict=True)


def test_pydantic_fields_are_own_data():
    """A model's fields are read; what BaseModel and the model class give it (methods, properties, computed
    fields, class attributes, the model_* API, pydantic's dunder state) is not."""
    import pydantic  # a test dependency: the test must not skip silently

    class Model(pydantic.BaseModel):
        x: int
        y: str = "y"
        kind: ClassVar[str] = "class attribute"

        def method(self):
            raise AssertionError("a template ran a model's method")

        @property
        def p(self):
            raise AssertionError("a template ran a model's property")

        @pydantic.computed_field
        @property
        def computed(self) -> str:
            raise AssertionError("a template ran a computed field")

    model = Model(x=1)
    assert render("{{v.x}}{{v.y}}", {"v": model}) == "1y"
    denied = ["method", "p", "computed", "kind", "model_dump", "model_dump_json", "model_copy", "model_fields",
              "model_config", "model_fields_set", "model_extra", "model_computed_fields", "model_construct",
              "model_validate", "model_json_schema", "schema", "json", "dict", "copy", "__dict__",
              "__pydantic_fields_set__", "__class__"]
    assert render("".join(f"[{{{{v.{name}}}}}]" for name in denied), {"v": model}) == "[]" * len(denied)
    for name in denied:
        with pytest.raises(UndefinedError):
            render(f"{{{{v.{name}}}}}", {"v": model}, strict=True)


def test_functions_stored_as_data_are_called():
    account = Account("ada")
    account.greet = lambda this: "hi"
    assert render("{{f}} {{a.greet}} {{m}}", {"f": lambda: "called", "a": account, "m": account.delete}) == \
        "called hi deleted"


def test_each_over_an_object_lists_own_data_only():
    assert render("{{#each a}}{{@key}}={{this}};{{/each}}", {"a": Account("ada")}) == "name=ada;deleted=false;"


# -- warnings -----------------------------------------------------------------------------------------
def test_one_warning_per_property_name(caplog):
    class Once:
        @property
        def warn_me_once(self):
            return 1

    with caplog.at_level(logging.WARNING, logger="mailtpl"):
        render("{{o.warn_me_once}}{{o.warn_me_once}}", {"o": Once()})
        render("{{o.warn_me_once}}", {"o": Once()})
    assert [r.getMessage() for r in caplog.records].count(
        next(r.getMessage() for r in caplog.records if "warn_me_once" in r.getMessage())) == 1


def test_no_warning_when_the_default_is_set(caplog):
    class Quiet:
        @property
        def quiet_property(self):
            return 1

    with caplog.at_level(logging.WARNING, logger="mailtpl"):
        assert render("[{{o.quiet_property}}]", {"o": Quiet()}, allow_proto_properties_by_default=False) == "[]"
    assert not [r for r in caplog.records if "quiet_property" in r.getMessage()]


# -- __html__ and exceptions from data objects --------------------------------------------------------
class Chameleon:
    """Answers every attribute with a function, ``__html__`` included (only through __getattr__)."""

    def __getattr__(self, name):
        return lambda *args: "<b>raw</b>"

    def __str__(self):
        return "<i>text</i>"


def test_html_only_when_the_type_defines_it():
    fake = Account("x")
    fake.__html__ = lambda: "<script>"
    assert render("{{c}} {{f.name}}", {"c": Chameleon(), "f": fake}) == "&lt;i&gt;text&lt;/i&gt; x"
    assert render("{{s}}", {"s": SafeString("<b>ok</b>")}) == "<b>ok</b>"


class Raising:
    def __init__(self, where):
        self.where = where

    def __str__(self):
        if self.where == "str":
            raise ValueError("no str")
        return "r"

    def __eq__(self, other):
        if self.where == "eq":
            raise RuntimeError("no eq")
        return False

    __hash__ = object.__hash__

    def __getattr__(self, name):
        if self.where == "getattr":
            raise KeyError(name)
        raise AttributeError(name)


class RaisingMapping(Mapping):
    def __getitem__(self, key):
        raise ZeroDivisionError("no item")

    def __iter__(self):
        return iter(["a"])

    def __len__(self):
        return 1


@pytest.mark.parametrize("source, data, options", [
    ("ok\n  {{x}}", {"x": Raising("str")}, {}),
    ("ok\n  {{#if x}}y{{/if}}", {"x": Raising("eq")}, {}),
    ("ok\n  {{x.a}}", {"x": RaisingMapping()}, {}),
    ("ok\n  {{x.anything}}", {"x": Raising("getattr")}, ALLOW_ALL),
    ("ok\n  {{#each x}}{{this}}{{/each}}", {"x": RaisingMapping()}, {}),
    ("ok\n  {{> p}}", {"x": Raising("str")}, {}),
], ids=["str", "eq", "getitem", "getattr", "each", "in-partial"])
def test_exceptions_from_data_objects_are_template_errors(source, data, options):
    with pytest.raises(TemplateRuntimeError) as info:
        Compiler().compile(source, name="t.hbs")(data, partials={"p": "\n {{x}}"}, **options)
    err = info.value
    assert err.lineno == 2 and err.column and err.name in ("t.hbs", "p"), str(err)
    assert err.source_line is not None and err.source_line.strip().startswith("{{")


def test_exception_located_in_a_long_template():
    source = "{{x}}\n" * 3000 + "{{bad}}\n"
    with pytest.raises(TemplateRuntimeError) as info:
        Compiler().compile(source, name="long.hbs")({"x": 1, "bad": Raising("str")})
    assert (info.value.lineno, info.value.column) == (3001, 1)


def test_environment_passes_the_policy_through(tmp_path):
    (tmp_path / "hello.hbs").write_text("<p>{{a.shout}}</p>")
    env = Environment(tmp_path, strict=False, inline_css=False, allowed_proto_properties={"shout": True})
    assert "ADA" in env.render("hello", {"a": Account("ada")}).html
    assert "ADA" not in Environment(tmp_path, strict=False, inline_css=False).render(
        "hello", {"a": Account("ada")}).html
