"""The import graph of mailtpl/: no cycles, and a runtime that imports nothing above it.

Imports are read with ``ast`` from every module, at module level and inside
functions alike (an import in a function is a dependency that only waits);
``if TYPE_CHECKING:`` blocks are not imports.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mailtpl"

# What a render needs: a precompiled template loads these and nothing else of mailtpl.
RUNTIME_LAYER = {
    "mailtpl", "mailtpl.runtime", "mailtpl.access", "mailtpl.errors", "mailtpl.values",
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
