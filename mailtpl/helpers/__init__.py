"""The builtin helpers of Handlebars, one per module, written in pybars3's calling convention.

``BUILTINS`` is shared by every render and never modified; user helpers are
merged over it per render, so any builtin can be overridden.
"""
from types import MappingProxyType

from .block_helper_missing import block_helper_missing
from .each import each
from .helper_missing import helper_missing
from .if_ import if_
from .log import log
from .lookup import lookup
from .unless import unless
from .with_ import with_

BUILTINS = MappingProxyType({
    "if": if_,
    "unless": unless,
    "each": each,
    "with": with_,
    "lookup": lookup,
    "log": log,
    "helperMissing": helper_missing,
    "blockHelperMissing": block_helper_missing,
})

__all__ = ["BUILTINS"]
