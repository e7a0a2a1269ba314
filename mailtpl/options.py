"""``CompileOptions``: the one spelling of the compile options, used by the compiler, code generator and
:class:`~mailtpl.Environment`."""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields


class OptionError(ValueError, TypeError):
    """A compile option that does not exist, or a value it cannot take; the message names the option. (A
    TypeError too, which Python raises for an unknown keyword argument.)"""


@dataclass(frozen=True, init=False)
class CompileOptions:
    """handlebars.js 4.7's compile options in Python spelling, plus the data access options of
    :mod:`mailtpl.access` (runtime options in handlebars.js; set here they are the template's defaults).

    Given by keyword; :class:`OptionError` for a name that is not an option (with the close spelling) or a
    value of the wrong kind (``strict="no"`` is not taken for true)."""

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

    def __init__(self, **options) -> None:
        known = {f.name: f for f in fields(self)}
        for key in options:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"the options are {', '.join(known)}"
                raise OptionError(f"{key!r} is not a compile option ({hint})")
        for name, f in known.items():
            value = options.get(name, f.default)
            _check(name, value)
            object.__setattr__(self, name, value)

    def as_dict(self) -> dict:
        """The options that differ from the defaults (what generated code records), by name."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) != f.default}


_MAYBE_BOOL = ("allow_proto_properties_by_default", "allow_proto_methods_by_default")
_TABLES = ("allowed_proto_properties", "allowed_proto_methods")


def _check(name: str, value) -> None:
    if name == "known_helpers":
        ok = value is None or _is_table(value) or (
            isinstance(value, (set, frozenset, list, tuple)) and all(isinstance(k, str) for k in value))
        accepted = "a dict of helper names to True/False, or a set (list) of names"
    elif name in _TABLES:
        ok, accepted = value is None or _is_table(value), "a dict of names to True/False"
    elif name in _MAYBE_BOOL:
        ok, accepted = value is None or isinstance(value, bool), "True, False or None"
    else:
        ok, accepted = isinstance(value, bool), "True or False"
    if not ok:
        raise OptionError(f"{name}={value!r}: the compile option {name} takes {accepted}")


def _is_table(value) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, bool) for k, v in value.items())


def _plain(value):
    """Option values as plain data (they are written into generated code with repr)."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset, list, tuple)):
        return sorted(value)
    return value
