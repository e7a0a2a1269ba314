"""``{{#each items as |item key|}}``: lists by index, mappings and objects by key.

Sets ``@index``, ``@key``, ``@first`` and ``@last`` in a child @data frame,
which (as in handlebars.js) is reused across iterations; where there is no @data (the partials of a
data=false template that reads none) it sets nothing.
"""
from ..errors import HelperError
from ..values import NoFrame, is_callable, iterable_items, lookup, object_keys


def each(this, options, *args, **hash):
    if len(args) != 1:
        raise HelperError("#each takes exactly one argument, the list or object to iterate over")
    context = args[0]
    if is_callable(context):
        context = context(this)
    fn = options.fn
    out = iterate(context, options.data, lambda item, data, block_params, _: fn(item, data, block_params))
    return "".join(out) if out else options.inverse(this)


def iterate(context, frame: dict, render, partials=None) -> list[str]:
    """``render(item, data, block_params, partials)`` for each item of ``context`` (none: an empty list, and
    ``each`` renders its inverse); ``data`` is a child of ``frame`` with @index, @key, @first and @last.

    Compiled templates give it their block's body itself where ``each`` is the builtin
    (mailtpl.runtime.each_block): one call per item.
    """
    if context is None:
        return []
    out = []
    append = out.append
    counted = not isinstance(frame, NoFrame)  # handlebars.js: no @data, no frame and no @index
    data = dict(frame, _parent=frame) if counted else frame
    items = context if type(context) is list else iterable_items(context)
    if items is not None:
        last = len(items) - 1
        if not counted:
            for i, item in enumerate(items):
                append(render(item, data, (item, i), partials))
            return out
        for i, item in enumerate(items):  # item stores, not data.update(key=...): no keyword dict per item
            data["key"] = data["index"] = i
            data["first"] = i == 0
            data["last"] = i == last
            append(render(item, data, (item, i), partials))
        return out
    keys = object_keys(context) or ()
    last = len(keys) - 1
    for i, key in enumerate(keys):
        value = lookup(context, key)
        if counted:
            data["key"] = key
            data["index"] = i
            data["first"] = i == 0
            data["last"] = i == last
        append(render(value, data, (value, key), partials))
    return out
