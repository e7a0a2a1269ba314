"""The import graph of mailtpl/: no cycles, and a runtime that imports nothing above it.

Imports are read with ``ast`` from every module, at module level and inside
functions alike (an import in a function is a dependency that only waits);
``if TYPE_CHECKING:`` blocks are not imports.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pybars
import pytest

import mailtpl
from mailtpl.compiler import load

PACKAGE = Path(__file__).resolve().parents[1] / "mailtpl"
HEAVY = ("pybars", "pymeta", "premailer", "cssutils", "requests", "lxml", "cssselect", "tinycss2")

# What a render needs: a precompiled template loads these and nothing else of mailtpl.
RUNTIME_LAYER = {
    "mailtpl", "mailtpl.runtime", "mailtpl.access", "mailtpl.errors", "mailtpl.values", "mailtpl.pybars_compat",
    "mailtpl.helpers", "mailtpl.helpers.block_helper_missing", "mailtpl.helpers.each",
    "mailtpl.helpers.helper_missing", "mailtpl.helpers.if_", "mailtpl.helpers.log", "mailtpl.helpers.lookup",
    "mailtpl.helpers.unless", "mailtpl.helpers.with_",
}


def modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module of the package at ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path], module_level_only: bool = False) -> set[str]:
    """The package's modules that module ``name`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in known:  # from . import nodes: the submodule
                    found.add(target)
                elif base in known:
                    found.add(base)
        if module_level_only and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(name)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def graph(root: Path, module_level_only: bool = False) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports(name, path, known, module_level_only) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan; the package's import depth is far below the recursion limit
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in edges.get(v, ()):
                groups.append(group)

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return [_path_through(edges, set(group), min(group)) for group in groups]


def _path_through(edges: dict[str, set[str]], group: set[str], start: str) -> list[str]:
    """A shortest import path from ``start`` back to itself inside ``group`` (for the failure message)."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(edges[v] & group):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    following.append(w)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a group always has one


def closure(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for w in edges[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


# -- the package ---------------------------------------------------------------------------------------
def test_mailtpl_has_no_import_cycles():
    edges = graph(PACKAGE)
    assert {"mailtpl.codegen", "mailtpl.parser"} <= edges["mailtpl.compiler"]  # the walk sees the imports
    # the package's names load lazily (importlib, unseen here): no module may read them, so it is on no cycle
    assert [name for name, targets in edges.items() if "mailtpl" in targets] == []
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_runtime_imports_nothing_above_it():
    reached = closure(graph(PACKAGE), "mailtpl.runtime")
    assert "mailtpl.compiler" not in reached
    assert reached <= RUNTIME_LAYER, f"the runtime reaches {sorted(reached - RUNTIME_LAYER)}"


def test_runtime_api_loads_only_the_runtime_when_imported():
    """What a precompiled template module loads; the compiler waits for the first string partial."""
    reached = closure(graph(PACKAGE, module_level_only=True), "mailtpl.runtime_api")
    assert reached <= RUNTIME_LAYER | {"mailtpl.runtime_api"}, sorted(reached - RUNTIME_LAYER)
    assert "mailtpl.compiler" in graph(PACKAGE)["mailtpl.runtime_api"]  # only inside compile_partial


# -- what importing loads, in a fresh interpreter ---------------------------------------------------------
def fresh(code: str, *path: Path) -> list:
    """``code`` run by a new interpreter with this checkout's mailtpl (and ``path``) importable: what it prints
    as JSON on its last line."""
    prelude = f"import sys, json; sys.path[:0] = {[str(PACKAGE.parent), *map(str, path)]!r}\n"
    loaded = "\ndef loaded(): return sorted(m for m in sys.modules if m.split('.')[0] in " \
             f"{HEAVY!r} or m.startswith('mailtpl.'))\n"
    result = subprocess.run([sys.executable, "-c", prelude + loaded + code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_import_mailtpl_loads_nothing_else():
    assert fresh("import mailtpl\nprint(json.dumps(loaded()))") == []


def test_environment_loads_premailer_and_lxml_only_to_inline_css():
    loaded = fresh("from mailtpl import Environment\nprint(json.dumps(loaded()))")
    assert "mailtpl.environment" in loaded and not [m for m in loaded if m.split(".")[0] in HEAVY]


def test_precompiled_template_loads_the_runtime_until_a_partial_is_source(tmp_path):
    source = "{{#each xs}}<{{this}}>{{/each}}{{#if more}}{{> p}}{{/if}}"
    (tmp_path / "tpl_list.py").write_text(mailtpl.Compiler().precompile(source, name="list.hbs", strict=True))
    code = (
        "import tpl_list\nout = [tpl_list.template({'xs': [1, '&'], 'more': False})]\nbefore = loaded()\n"
        "out.append(tpl_list.template({'xs': [], 'more': True}, partials={'p': '[{{xs.length}}]'}))\n"
        "print(json.dumps([out, before, 'mailtpl.compiler' in sys.modules]))"
    )
    out, before, compiler_after = fresh(code, tmp_path)
    assert out == ["<1><&amp;>", "[0]"]
    assert "mailtpl.runtime_api" in before and "mailtpl.compiler" not in before
    assert not [m for m in before if m.split(".")[0] in HEAVY]
    assert compiler_after  # the string partial loaded the compiler




def test_module_precompiled_by_0_1_renders_and_asks_for_compiled_partials():
    """0.1 wrote its own import list and gave the runtime no compiler: string partials are a clear error."""
    # what 0.1 (a4ffd09) wrote for this template, kept as it was: today's code may use names 0.1 did not have
    old = (Path(__file__).parent / "fixtures" / "precompiled_0_1.py.txt").read_text()
    assert "runtime_api" not in old and "compile_partial" not in old and "{{#each xs}}[{{this}}]{{/each}}{{> p}}" in old
    template = load(old)
    assert template({"xs": [1, 2]}, partials={"p": mailtpl.Compiler().compile("!")}) == "[1][2]!"
    with pytest.raises(mailtpl.TemplateRuntimeError) as info:
        template({"xs": []}, partials={"p": "!"})
    assert str(info.value).startswith("old.hbs:1:32: the partial p is source text, and this template was "
                                      "precompiled without a compiler for partials")


@pytest.mark.parametrize("first", ["mailtpl", "pybars"])
def test_except_pybars_error_catches_mailtpl_errors(first):
    """Whichever is imported first: mailtpl's errors are pybars.PybarsError once pybars3 is loaded."""
    code = (
        f"import {first}\nfrom mailtpl import Compiler, TemplateError\nimport pybars\ncaught = []\n"
        "for source in ['{{#if a}}', '{{x}}']:\n"
        "    try:\n        Compiler().compile(source, name='t.hbs', strict=True)({})\n"
        "    except pybars.PybarsError as exc:\n        caught.append(str(exc).splitlines()[0])\n"
        "print(json.dumps([caught, issubclass(TemplateError, pybars.PybarsError)]))"
    )
    caught, subclass = fresh(code)
    assert caught[0].startswith("t.hbs:1:") and caught[1] == 't.hbs:1:3: "x" is not defined (strict mode)'
    assert subclass


def test_mailtpl_pybars_error_is_pybars3s():
    assert mailtpl.PybarsError is pybars.PybarsError
    assert issubclass(mailtpl.DataError, pybars.PybarsError) and issubclass(mailtpl.DataError, ValueError)


# -- pybars3's Scope and strlist without pybars3 ----------------------------------------------------------------
def test_pybars3_scope_and_strlist_count_as_mailtpl_ones():
    assert isinstance(pybars.Scope({}, None, None), mailtpl.Scope)
    assert isinstance(pybars.strlist(["a"]), mailtpl.strlist)
    assert not isinstance({}, mailtpl.Scope) and not isinstance(["a"], mailtpl.strlist)


class _Obj:
    title = "from an attribute"

    def get(self, name):
        return f"get({name})"


@pytest.mark.parametrize("context", [{"x": 1, "this": "t"}, ["a", "b"], "text", _Obj(), None])
def test_mailtpl_scope_answers_as_pybars3s(context):
    args = (context, {"parent": True}, {"root": True})
    kwargs = {"overrides": {"o": 2}, "index": 0, "key": "k", "first": True, "last": None}
    theirs, ours = pybars.Scope(*args, **kwargs), mailtpl.Scope(*args, **kwargs)
    for name in ["@root", "@_parent", "@index", "@key", "@first", "@last", "this", "o", "x", 0, 5, "title",
                 "upper", "missing"]:
        assert _answer(ours.get, name, "dflt") == _answer(theirs.get, name, "dflt"), name
        assert _answer(ours.__getitem__, name) == _answer(theirs.__getitem__, name), name
    assert _answer(str, ours) == _answer(str, theirs) and _answer(len, ours) == _answer(len, theirs)


def _answer(fn, *args) -> str:
    """What ``fn(*args)`` returns, or the type of what it raises."""
    try:
        return repr(fn(*args))
    except Exception as exc:  # noqa: BLE001 - the exception is the answer compared
        return type(exc).__name__


def test_mailtpl_strlist_grows_as_pybars3s():
    items = ["a", ["b", ("c", mailtpl.SafeString("de"))], pybars.strlist(["f"])]
    theirs, ours = pybars.strlist(["<"]), mailtpl.strlist(["<"])
    for item in items:
        theirs.grow(item)
        ours.grow(item)
    assert list(ours) == list(theirs) == ["<", "a", "b", "c", "d", "e", "f"] and str(ours) == str(theirs)


# -- the walk itself -------------------------------------------------------------------------------------
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("b_source", [
    "from . import a\n",
    "def later():\n    from .a import f\n",
    "class K:\n    def m(self):\n        import pkg.a\n",
    "from .sub import c\n",  # b -> pkg.sub.c -> a
])
def test_a_cycle_is_found_through_any_kind_of_import(tmp_path, b_source):
    root = _package(tmp_path, {"a.py": "from .b import x\ndef f(): pass\n", "b.py": b_source + "x = 1\n",
                               "sub/__init__.py": "", "sub/c.py": "from ..a import f\n"})
    found = cycles(graph(root))
    assert len(found) == 1 and found[0][0] == found[0][-1] == "pkg.a" and "pkg.b" in found[0]


def test_type_checking_imports_and_outside_modules_are_not_edges(tmp_path):
    root = _package(tmp_path, {"a.py": "import os\nfrom .b import x\n",
                               "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import y\nx = 1\n"})
    edges = graph(root)
    assert edges == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": set()} and cycles(edges) == []
