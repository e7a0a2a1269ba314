"""Modules imported on first use: for heavy dependencies that only some work needs.

premailer, cssutils, requests and lxml take ~150 ms to import; rendering a
compiled template, sending or the CLI's start need none of them, so
:mod:`mailtpl.inline` names them through :class:`LazyModule` and they load at
the first CSS inlining.
"""
from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """Stands for the module ``name``, which the first attribute read imports."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        module = self._module
        if module is None:  # importlib holds a lock per module: threads racing here import it once
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<LazyModule {self._name!r} ({'loaded' if self._module is not None else 'not loaded yet'})>"
