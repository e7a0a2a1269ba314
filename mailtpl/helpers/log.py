"""``{{log value... level="warn"}}``: writes to the ``mailtpl.template`` logger, renders nothing.

As in pybars3, ``pybars.log`` is called too (with the value, or the values as a tuple), so code that
replaced that hook keeps seeing what templates log; when pybars3 is not imported, nothing can have replaced it.
"""
import logging
import sys

from ..values import to_str

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "warning": logging.WARNING, "error": logging.ERROR}
_NUMERIC = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]

logger = logging.getLogger("mailtpl.template")


def log(this, *args, **hash):
    level = hash.get("level", "info")
    if isinstance(level, int) and 0 <= level < len(_NUMERIC):
        levelno = _NUMERIC[level]
    else:
        levelno = _LEVELS.get(str(level).lower(), logging.INFO)
    logger.log(levelno, " ".join(to_str(a) for a in args))
    pybars = sys.modules.get("pybars")
    if pybars is not None:
        pybars.log(args[0] if len(args) == 1 else args)
    return None
