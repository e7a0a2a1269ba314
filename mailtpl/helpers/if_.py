"""``{{#if value}}...{{else}}...{{/if}}``: falsy values and empty lists take the else branch."""
from ..errors import HelperError
from ..values import is_callable, is_empty, truthy


def condition(value, this, include_zero=False) -> bool:
    """Whether ``{{#if value}}`` renders its block (also used by compiled templates' fast path)."""
    if value is True:
        return True
    if value is False or value is None:
        return False
    if type(value) is str:
        return value != ""
    if is_callable(value):
        value = value(this)
    return not ((not include_zero and not truthy(value)) or is_empty(value))


def if_(this, options, *args, **hash):
    if len(args) != 1:
        raise HelperError(f"#if takes exactly one argument, got {len(args)}")
    if condition(args[0], this, hash.get("includeZero")):
        return options.fn(this)
    return options.inverse(this)
