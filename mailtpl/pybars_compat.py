"""pybars3's ``Scope`` and ``strlist``, without importing pybars3 (building its grammar takes ~230 ms).

Helpers written for pybars3 build their output in a ``strlist`` and give
``options['fn']`` a ``Scope`` to set ``@index`` and friends. These classes
behave as pybars3's do, and pybars3's own count as them: once pybars3 is
imported, ``isinstance(pybars.Scope(...), mailtpl.Scope)`` and
``isinstance(pybars.strlist(), mailtpl.strlist)`` hold, so helpers may use
either. The other way round does not hold: ``options['fn'](this)`` returns a
``mailtpl.strlist``, which is not a ``pybars.strlist``.
"""
from __future__ import annotations

import sys
from abc import ABCMeta


def _is_pybars(cls: type, subclass: type, name: str, own: type):
    """``__subclasshook__``: pybars3's class ``name`` (when pybars3 is loaded) is a virtual subclass of ``own``."""
    theirs = getattr(sys.modules.get("pybars._compiler"), name, None)
    if cls is own and theirs is not None and issubclass(subclass, theirs):
        return True
    return NotImplemented


class strlist(list, metaclass=ABCMeta):  # noqa: N801 - pybars3's name
    """A list of output strings; ``str()`` joins them."""

    def __str__(self) -> str:
        return "".join(self)

    def grow(self, thing) -> None:
        """Append a str; anything else is iterated and each item grown in turn."""
        if type(thing) is str:
            self.append(thing)
        else:
            for item in thing:
                self.grow(item)

    @classmethod
    def __subclasshook__(cls, subclass: type):
        return _is_pybars(cls, subclass, "strlist", strlist)


class Scope(metaclass=ABCMeta):
    """A context with its parent, the root and optional @index, @key, @first, @last and extra names."""

    def __init__(self, context, parent, root, overrides=None, index=None, key=None, first=None, last=None) -> None:
        self.context = context
        self.parent = parent
        self.root = root
        self.overrides = overrides
        self.index = index
        self.key = key
        self.first = first
        self.last = last

    def get(self, name, default=None):
        """pybars3's lookup: @root, @_parent, the set @data names, ``this``, the overrides, then the context."""
        if name == "@root":
            return self.root
        if name == "@_parent":
            return self.parent
        data = _DATA_NAMES.get(name) if isinstance(name, str) else None
        if data is not None and getattr(self, data) is not None:
            return getattr(self, data)
        if name == "this":
            return self.context
        if self.overrides and name in self.overrides:
            return self.overrides[name]
        return _pick(self.context, name, default)

    __getitem__ = get

    def __len__(self) -> int:
        return len(self.context)

    def __str__(self) -> str:
        return str(self.context)

    @classmethod
    def __subclasshook__(cls, subclass: type):
        return _is_pybars(cls, subclass, "Scope", Scope)


_DATA_NAMES = {"@index": "index", "@key": "key", "@first": "first", "@last": "last"}


def _pick(context, name, default):
    """An item, else an attribute (for a str name), else ``context.get(name)``, else ``default``."""
    try:
        return context[name]
    except (KeyError, TypeError, AttributeError):
        if isinstance(name, str) and hasattr(context, name):
            return getattr(context, name)
        if hasattr(context, "get"):
            return context.get(name)
        return default
