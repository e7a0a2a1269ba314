"""``{{log value... level="warn"}}``: writes to the ``mailtpl.template`` logger, renders nothing."""
import logging

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
    return None
