"""The handlebars.js 4.7.10 conformance corpora: every case must render exactly as handlebars.js does.

tests/data holds copies of ../shared/conformance (so a clone without ../shared
still runs them) plus our own cases (extra.json), all with oracle output.
"""
import json
import re
from pathlib import Path

import pytest

from mailtpl import Compiler, PybarsError, TemplateError
from tests.hbs_helpers import HELPERS

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "conformance"
CORPORA = ["cases.json", "mustache.json", "extra.json"]


def _load(name):
    return [pytest.param(case, id=f"{name}:{case['name']}") for case in json.loads((DATA / name).read_text())]


ALL_CASES = [p for name in CORPORA for p in _load(name)]


def _snake(name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), name)


def render_case(case):
    options = {_snake(k): v for k, v in (case.get("options") or {}).items()}
    template = Compiler().compile(case["template"], name=case["name"], **options)
    helpers = {name: HELPERS[name] for name in case.get("helpers") or []}
    runtime = {_snake(k): v for k, v in (case.get("runtimeOptions") or {}).items()}
    return template(case["data"], helpers=helpers, partials=case.get("partials") or {}, **runtime)


@pytest.mark.parametrize("case", ALL_CASES)
def test_case(case):
    if "error" in case:
        with pytest.raises(PybarsError) as info:
            render_case(case)
        err = info.value
        assert isinstance(err, TemplateError), f"{type(err).__name__} is not a TemplateError: {err}"
        names = {case["name"], *(case.get("partials") or {})}
        assert err.name in names and err.lineno and err.column, f"error does not say where: {err}"
    else:
        assert render_case(case) == case["expected"]


@pytest.mark.parametrize("name", ["cases.json", "mustache.json"])
def test_copies_match_shared(name):
    """The copies in tests/data are the corpora of ../shared/conformance (when it is beside the clone)."""
    shared = SHARED / name
    if not shared.exists():
        pytest.skip("../shared/conformance is not beside this clone")
    assert json.loads((DATA / name).read_text()) == json.loads(shared.read_text())
