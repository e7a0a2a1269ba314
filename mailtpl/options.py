"""``CompileOptions``: the one spelling of the compile options, used by the compiler, code generator and
:class:`~mailtpl.Environment`."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class CompileOptions:
    """handlebars.js 4.7's compile options in Python spelling, plus the data access options of
    :mod:`mailtpl.access` (runtime options in handlebars.js; set here they are the template's defaults)."""

    strict: bool = False
    assume_objects: bool = False
    compat: bool = False
    data: bool = True
    known_helpers: Mapping[str, bool] | Iterable[str] | None = None  # a map, or names (pybars3's set)
    known_helpers_only: bool = False
    no_escape: bool = False
    prevent_indent: bool = False
    ignore_standalone: bool = False
    explicit_partial_context: bool = False
    allow_proto_properties_by_default: bool | None = None
    allow_proto_methods_by_default: bool | None = None
    allowed_proto_properties: Mapping[str, bool] | None = None
    allowed_proto_methods: Mapping[str, bool] | None = None

    def as_dict(self) -> dict:
        """The options that differ from the defaults (what generated code records), by name."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) != f.default}


def _plain(value):
    """Option values as plain data (they are written into generated code with repr)."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset, list, tuple)):
        return sorted(value)
    return value
