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
    counted = not isinstance(options.data, NoFrame)  # handlebars.js: no @data, no frame and no @index
    data = options.frame() if counted else options.data
    fn, out = options.fn, []
    items = iterable_items(context) if context is not None else None
    if items is not None:
        last = len(items) - 1
        for i, item in enumerate(items):
            if counted:
                data.update(key=i, index=i, first=i == 0, last=i == last)
            out.append(fn(item, data, (item, i)))
    elif context is not None:
        keys = object_keys(context) or ()
        last = len(keys) - 1
        for i, key in enumerate(keys):
            value = lookup(context, key)
            if counted:
                data.update(key=key, index=i, first=i == 0, last=i == last)
            out.append(fn(value, data, (value, key)))
    if not out:
        return options.inverse(this)
    return "".join(out)
