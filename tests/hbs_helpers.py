"""Python equivalents, in pybars3's calling convention, of the test helpers of the conformance corpora
(../shared/conformance/HELPERS.md; the JavaScript originals are in oracle.js)."""
import json as _json

from pybars import Scope, strlist

from mailtpl import SafeString
from mailtpl.values import escape, to_str

_OPTIONS_AS_TEXT = "[object Object]"  # what String(options) gives when JS passes no argument


def upper(this, *args):
    return (to_str(args[0]) if args else _OPTIONS_AS_TEXT).upper()


def concat(this, *args):
    return "".join(to_str(a) for a in args)


def eq(this, a=None, b=None):
    numbers = (int, float)
    same_type = type(a) is type(b) or (isinstance(a, numbers) and isinstance(b, numbers)
                                       and not isinstance(a, bool) and not isinstance(b, bool))
    return same_type and a == b


def default(this, value=None, fallback=None):
    return fallback if value is None or value == "" else value


def link(this, text, url):
    return SafeString(f'<a href="{escape(url)}">{escape(text)}</a>')


def greet(this, **hash):
    return f"{hash.get('greeting') or 'Hello'}, {to_str(hash.get('name'))}"


def bold(this, options):
    return strlist(["<b>"]) + options["fn"](this) + ["</b>"]


def list_(this, options, items=None):
    if not items:
        return options["inverse"](this)
    result = ["<ul>"]
    for i, item in enumerate(items):
        result.append("<li>")
        result.extend(options["fn"](Scope(item, this, options["root"], index=i)))
        result.append("</li>")
    result.append("</ul>")
    return result


def raw(this, options):
    return options["fn"]()


def count(this, items=None):
    return len(items) if items else 0


def json(this, value=None):
    return _json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def noop(this, options):
    return options["fn"](this)


HELPERS = {"upper": upper, "concat": concat, "eq": eq, "default": default, "link": link, "greet": greet,
           "bold": bold, "list": list_, "raw": raw, "count": count, "json": json, "noop": noop}
