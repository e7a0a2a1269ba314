"""``{{#with value as |v|}}``: render the block with ``value`` as the context, else the inverse."""
from ..errors import HelperError
from ..values import is_callable, is_empty


def with_(this, options, *args, **hash):
    if len(args) != 1:
        raise HelperError(f"#with takes exactly one argument, got {len(args)}")
    value = args[0]
    if is_callable(value):
        value = value(this)
    if is_empty(value):
        return options.inverse(this)
    return options.fn(value, block_params=(value,))
