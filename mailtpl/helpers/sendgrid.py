"""``Environment(helpers="sendgrid")``: SendGrid's dynamic-template helpers, to preview its templates locally.

As documented in SendGrid's "Using Handlebars" reference: ``equals`` and
``notEquals`` coerce numbers and numeric strings (``3`` equals ``"3"``);
``greaterThan``/``lessThan`` compare; ``and``/``or`` treat empty strings and
zero as false, any other string or number (negatives too) as true; ``length``
counts a string's characters or a list's items, 0 for anything else;
``formatDate`` takes an epoch or ISO 8601 time, moment-style tokens and an
optional offset (``"-0800"``); ``insert`` prints a value or its default
(``"default=Customer"`` or just ``"your business"``). Where the reference is
silent or contradicts itself, README's "SendGrid helpers" section says what
mailtpl does.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from types import MappingProxyType

from ..errors import HelperError
from .standard import and_, as_number, aware, comparison, length, or_, ordering, strict_equal, when

# SendGrid's tokens (moment.js's) and the CLDR pattern letters Babel formats them with.
_TOKENS = {"YYYY": "yyyy", "YY": "yy", "MMMM": "MMMM", "MMM": "MMM", "MM": "MM", "M": "M", "DD": "dd", "D": "d",
           "dddd": "EEEE", "ddd": "EEE", "hh": "hh", "h": "h", "HH": "HH", "H": "H", "mm": "mm", "m": "m",
           "ss": "ss", "s": "s", "A": "a", "ZZ": "xx", "Z": "xxx"}
_TOKEN = re.compile("|".join(sorted(_TOKENS, key=len, reverse=True)))
_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)")


def loose_equal(a, b) -> bool:
    """``equals``: numbers and numeric strings by value (``3`` equals ``"3"``), anything else strictly."""
    if strict_equal(a, b):
        return True
    x, y = as_number(a), as_number(b)
    return x is not None and y is not None and (isinstance(a, str) or isinstance(b, str)) and x == y


equals = comparison("equals", loose_equal)
not_equals = comparison("notEquals", lambda a, b: not loose_equal(a, b))
greater_than = ordering("greaterThan", lambda o: o > 0)
less_than = ordering("lessThan", lambda o: o < 0)


def cldr_pattern(tokens: str) -> str:
    """``"MMMM DD, YYYY h:mm:ss A"`` -> ``"MMMM dd', 'yyyy' 'h':'mm':'ss' 'a"`` (literal text quoted)."""
    parts, end = [], 0
    for match in _TOKEN.finditer(tokens):
        parts += [_literal(tokens[end:match.start()]), _TOKENS[match.group()]]
        end = match.end()
    parts.append(_literal(tokens[end:]))
    return "".join(parts)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'" if text else ""


def _offset(value) -> dt.timezone:
    match = _OFFSET.fullmatch(str(value).strip())
    if not match:
        raise HelperError(f"formatDate: {value!r} is not a time zone offset such as -0800 or +05:30")
    sign, hours, minutes = match.groups()
    delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
    return dt.timezone(-delta if sign == "-" else delta)


def format_date(this, *args, **hash) -> str:
    """``{{formatDate timeStamp dateFormat [timezoneOffset]}}``; UTC without an offset."""
    from babel.dates import format_datetime

    if not 1 <= len(args) <= 3:
        raise HelperError(f"formatDate takes a time, a format and an optional offset, got {len(args)} arguments")
    moment = when("formatDate", args[0])
    if moment is None:
        return ""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time(), dt.timezone.utc)
    zone = _offset(args[2]) if len(args) == 3 and args[2] not in (None, "") else dt.timezone.utc
    moment = aware(moment).astimezone(zone)
    if len(args) == 1 or args[1] in (None, ""):
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return format_datetime(moment, cldr_pattern(str(args[1])), locale="en_US")


def insert(this, *args, **hash):
    """``{{insert name "default=Customer"}}``: the value, or the default when it is missing or empty."""
    if len(args) not in (1, 2):
        raise HelperError(f"insert takes a value and an optional default, got {len(args)} arguments")
    if args[0] is not None and args[0] != "":
        return args[0]
    fallback = "" if len(args) == 1 or args[1] is None else str(args[1])
    return fallback.removeprefix("default=")


HELPERS: MappingProxyType[str, Callable] = MappingProxyType({
    "equals": equals, "notEquals": not_equals, "greaterThan": greater_than, "lessThan": less_than,
    "and": and_, "or": or_, "length": length, "formatDate": format_date, "insert": insert,
})
