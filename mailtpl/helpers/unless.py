"""``{{#unless value}}``: ``if`` with the branches swapped."""
from ..errors import HelperError
from .if_ import condition


def unless(this, options, *args, **hash):
    if len(args) != 1:
        raise HelperError(f"#unless takes exactly one argument, got {len(args)}")
    if condition(args[0], this, hash.get("includeZero")):
        return options.inverse(this)
    return options.fn(this)
