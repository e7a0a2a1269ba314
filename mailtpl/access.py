"""What a template may read from a Python object: handlebars.js 4.6+'s prototype rule in Python terms.

A template reads an object's *own data*: its instance ``__dict__`` and
``__slots__`` values (which covers dataclasses, attrs and pydantic models), a
pydantic model's extra fields and a namedtuple's fields. Everything the object
gets from its class (methods, properties, class attributes, names served by
``__getattr__``) is denied unless the render allows it, with handlebars.js's
runtime options in Python spelling: ``allow_proto_properties_by_default``,
``allow_proto_methods_by_default``, ``allowed_proto_properties`` and
``allowed_proto_methods`` (name -> bool).
Names starting with ``_``, and any name of a module, class, frame, code object,
generator, coroutine, traceback or function, are never read, whatever is allowed.

The policy of the render in progress is a context variable, so partials and
helpers called from it see the same policy and threads do not share it.
"""
from __future__ import annotations

import functools
import logging
import sys
import types
import weakref
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field

logger = logging.getLogger("mailtpl")

OPTION_NAMES = ("allow_proto_properties_by_default", "allow_proto_methods_by_default",
                "allowed_proto_properties", "allowed_proto_methods")

# Objects whose attributes lead to the interpreter itself: never traversed.
NEVER_TRAVERSED = (
    types.ModuleType, type, types.FrameType, types.CodeType, types.GeneratorType, types.CoroutineType,
    types.AsyncGeneratorType, types.TracebackType, types.FunctionType, types.BuiltinFunctionType,
    types.MethodType, types.MethodWrapperType, types.WrapperDescriptorType, types.MethodDescriptorType,
    types.ClassMethodDescriptorType, types.GetSetDescriptorType, types.MemberDescriptorType, types.CellType,
    property, classmethod, staticmethod, functools.partial, functools.partialmethod,
)
_METHODS = (types.FunctionType, types.BuiltinFunctionType, types.MethodDescriptorType, types.WrapperDescriptorType,
            types.ClassMethodDescriptorType, classmethod, staticmethod, functools.partialmethod)


@dataclass(frozen=True)
class AccessPolicy:
    """handlebars.js's prototype-access options. ``None`` for a default means "not set": denied, with a warning."""

    allow_proto_properties_by_default: bool | None = None
    allow_proto_methods_by_default: bool | None = None
    allowed_proto_properties: Mapping[str, bool] = field(default_factory=dict)
    allowed_proto_methods: Mapping[str, bool] = field(default_factory=dict)

    @classmethod
    def from_options(cls, *layers: Mapping | None) -> AccessPolicy:
        """The policy of option mappings, later layers (runtime) over earlier ones (compile time)."""
        merged: dict = {}
        for layer in layers:
            for key in OPTION_NAMES:
                if layer and layer.get(key) is not None:
                    merged[key] = layer[key]
        if not merged:
            return DEFAULT
        for key in ("allowed_proto_properties", "allowed_proto_methods"):
            table = merged.get(key)
            if table is not None and not isinstance(table, Mapping):
                raise TypeError(f"{key} must map names to True/False, not {type(table).__name__}")
        return cls(**merged)

    def allows(self, kind: str, name: str) -> bool:
        """Whether a class attribute of this kind ("method" or "property") may be read; warns once if unset."""
        table = self.allowed_proto_methods if kind == "method" else self.allowed_proto_properties
        explicit = table.get(name)
        if explicit is not None:
            return bool(explicit)
        default = self.allow_proto_methods_by_default if kind == "method" else self.allow_proto_properties_by_default
        if default is not None:
            return bool(default)
        _warn_once(name, kind)
        return False


DEFAULT = AccessPolicy()
current: ContextVar[AccessPolicy] = ContextVar("mailtpl_access_policy", default=DEFAULT)

_warned: set[str] = set()


def _warn_once(name: str, kind: str) -> None:
    if name in _warned:  # as handlebars.js: one warning per property name per process
        return
    _warned.add(name)
    logger.warning('access denied to the %s "%s": it is not an object\'s own data; allow it with %s={"%s": True} '
                   "(see the README's data access policy)", kind, name, _option(kind), name)


def _option(kind: str) -> str:
    return "allowed_proto_methods" if kind == "method" else "allowed_proto_properties"


_SLOTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _slots(cls: type) -> dict:
    """The slot descriptors of a class, by name, from every class of its MRO that declares ``__slots__``."""
    try:
        return _SLOTS[cls]
    except (KeyError, TypeError):
        pass
    found = {}
    for klass in reversed(cls.__mro__):
        own = vars(klass)
        declared = own.get("__slots__", ())
        for name in [declared] if isinstance(declared, str) else declared:
            if isinstance(own.get(name), types.MemberDescriptorType):
                found[name] = own[name]
    try:
        _SLOTS[cls] = found
    except TypeError:  # a class that cannot be weakly referenced: just not cached
        pass
    return found


_NOT_OWN = object()


def own_value(obj, key: str, missing):
    """The object's own data under ``key``; ``missing`` when it has that slot or field but no value; else _NOT_OWN."""
    try:
        d = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        d = None
    if type(d) is dict and key in d:
        return d[key]
    slots = _slots(type(obj))
    slot = slots.get(key)
    if slot is not None:
        try:
            return slot.__get__(obj, type(obj))
        except AttributeError:  # an unset slot
            return missing
    if "__pydantic_extra__" in slots:
        extra = extra_fields(obj)
        if key in extra:
            return extra[key]
    if isinstance(obj, tuple) and key in getattr(type(obj), "_fields", ()):  # a namedtuple
        return obj[type(obj)._fields.index(key)]
    return _NOT_OWN


def set_slots(obj) -> list[str]:
    """The names of the object's ``__slots__`` that hold a value."""
    names = []
    for name, slot in _slots(type(obj)).items():
        try:
            slot.__get__(obj, type(obj))
        except AttributeError:  # an unset slot
            continue
        names.append(name)
    return names


def extra_fields(obj) -> dict:
    """A pydantic model's extra fields (``extra="allow"``): own data that pydantic keeps beside ``__dict__``."""
    slot = _slots(type(obj)).get("__pydantic_extra__")
    try:
        extra = slot.__get__(obj, type(obj)) if slot is not None else None
    except AttributeError:  # not set yet (a model still being built)
        return {}
    return extra if type(extra) is dict else {}


def is_model(obj) -> bool:
    """A pydantic model: an object with fields, though it iterates as (name, value) pairs."""
    return is_model_class(type(obj))


def is_model_class(cls: type) -> bool:
    """A pydantic model class (v2, v1, or v2's pydantic.v1), without importing pydantic."""
    for module in ("pydantic", "pydantic.v1"):
        base = getattr(sys.modules.get(module), "BaseModel", None)
        if isinstance(base, type) and issubclass(cls, base):
            return True
    return False


def kind_of(cls: type, key: str) -> str | None:
    """Whether a name the class provides is a "method" or a "property" (anything else, __getattr__'s names
    included); None when the class has nothing of that name."""
    for klass in cls.__mro__:
        attr = vars(klass).get(key, _NOT_OWN)
        if attr is not _NOT_OWN:
            callable_ = isinstance(attr, _METHODS) or (callable(attr) and not isinstance(attr, (type, property)))
            return "method" if callable_ else "property"
    # pydantic's __getattr__ serves only private attributes ("_name", never read): other names are just missing
    return "property" if hasattr(cls, "__getattr__") and not is_model_class(cls) else None


def read_attribute(obj, key, missing):
    """``obj[key]`` for an object that is not a mapping or a list: own data, or what the policy allows."""
    if type(key) is not str or not key or key[0] == "_" or isinstance(obj, NEVER_TRAVERSED):
        return missing
    value = own_value(obj, key, missing)
    if value is not _NOT_OWN:
        return value
    kind = kind_of(type(obj), key)
    if kind is None or not current.get().allows(kind, key):
        return missing
    return getattr(obj, key, missing)


def denial(obj, key) -> str | None:
    """Why a lookup found nothing because it was denied (for strict mode's message), or None."""
    if type(key) is not str or not key or obj is None or isinstance(obj, (Mapping, list, str)):
        return None  # read by key or index: missing is simply missing
    what = type(obj).__name__
    if isinstance(obj, NEVER_TRAVERSED):
        return f'templates never read attributes of a {what} (modules, classes, functions, frames, generators, ...)'
    if key[0] == "_":
        return f'templates never read names starting with "_" ("{key}" of a {what})'
    if own_value(obj, key, None) is not _NOT_OWN:
        return None
    kind = kind_of(type(obj), key)
    if kind is None:
        return None
    return (f'access to "{key}" of a {what} is denied: it is a {kind} of its class, not the object\'s own data; '
            f'allow it with {_option(kind)}={{"{key}": True}}')
