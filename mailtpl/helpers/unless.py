"""``{{#unless value}}``: ``if`` with the branches swapped."""
from ..errors import HelperError
from ..values import is_callable, is_empty, truthy


def unless(this, options, *args, **hash):
    if len(args) != 1:
        raise HelperError(f"#unless takes exactly one argument, got {len(args)}")
    value = args[0]
    if is_callable(value):
        value = value(this)
    if (not hash.get("includeZero") and not truthy(value)) or is_empty(value):
        return options.fn.render(this)
    return options.inverse.render(this)
