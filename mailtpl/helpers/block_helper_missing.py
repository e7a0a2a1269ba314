"""A mustache section ``{{#value}}...{{/value}}`` when ``value`` is data, not a helper.

true renders the block in the current context, false/null the inverse, a
list iterates (empty: the inverse), anything else becomes the context.
"""


def block_helper_missing(this, options, value):
    if value is True:
        return options.fn(this)
    if value is False or value is None:
        return options.inverse(this)
    if isinstance(value, (list, tuple)):
        if not value:
            return options.inverse(this)
        return options["helpers"]["each"](this, options, value)
    return options.fn(value)
