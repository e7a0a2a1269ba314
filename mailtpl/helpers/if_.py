"""``{{#if value}}...{{else}}...{{/if}}``: falsy values and empty lists take the else branch."""
from ..errors import HelperError
from ..values import is_callable, is_empty, truthy


def if_(this, options, *args, **hash):
    if len(args) != 1:
        raise HelperError(f"#if takes exactly one argument, got {len(args)}")
    value = args[0]
    if is_callable(value):
        value = value(this)
    if (not hash.get("includeZero") and not truthy(value)) or is_empty(value):
        return options.inverse.render(this)
    return options.fn.render(this)
