"""``Environment(helpers="standard")``: the helpers Handlebars email templates lean on, opt-in.

Comparisons and logic (``eq ne gt gte lt lte and or not``) return a boolean in
a subexpression (``{{#if (gt count 1)}}``) and choose the block in block
position (``{{#eq status "paid"}}...{{else}}...{{/eq}}``). ``eq``/``ne`` are
strict (``===``: ``1`` is not ``"1"``, ``true`` is not ``1``); ``gt`` and
friends compare numbers (numeric strings count as numbers) or two strings.
``default`` gives its first argument that is not null. ``length`` counts
UTF-16 code units of a string (as JavaScript's ``.length``), items of a list,
keys of an object, else 0. ``date`` and ``number`` format through Babel (CLDR
data: real month names, separators and currency signs for every locale, and
IANA time zones), ``locale="de_DE"``, ``tz="Europe/Berlin"``. ``json`` and
``urlencode`` (as ``encodeURIComponent``) print their argument.

Helpers follow pybars3's convention: ``helper(this, *args, **hash)``, and
``helper(this, options, *args, **hash)`` in block position.
"""
from __future__ import annotations

import datetime as dt
import functools
import json as json_module
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from ..errors import HelperError
from ..runtime import Options
from .if_ import condition

DEFAULT_LOCALE = "en_US"
DEFAULT_TIMEZONE = "UTC"
MAX_EXPONENT = 308  # as a float's: "1e999999999" in the data must not become a billion digits


# -- shared by the packs -----------------------------------------------------------------------------
def predicate(test: Callable[..., bool]) -> Callable:
    """A helper from a test: a boolean inline, the block or its ``{{else}}`` in block position."""
    @functools.wraps(test)
    def helper(this, *args, **hash):
        if args and isinstance(args[0], Options):
            options = args[0]
            return options.fn(this) if test(*args[1:], **hash) else options.inverse(this)
        return test(*args, **hash)
    return helper


def arity(name: str, args: tuple, count: int) -> None:
    if len(args) != count:
        raise HelperError(f"{name} takes {count} argument{'s' * (count != 1)}, got {len(args)}")


def as_number(value) -> float | None:
    """A number, or a string that is one (as JavaScript's comparison operators coerce); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            number = float(value)
        except ValueError:
            return None
        return None if math.isnan(number) else number
    return None


def order(name: str, a, b) -> int:
    """-1, 0 or 1: numbers (numeric strings included) by value, two strings by code point."""
    x, y = as_number(a), as_number(b)
    if x is None or y is None:
        if isinstance(a, str) and isinstance(b, str):
            x, y = a, b
        else:
            raise HelperError(f"{name} compares numbers or strings, not {type(a).__name__} and {type(b).__name__} "
                              f"({a!r}, {b!r})")
    return (x > y) - (x < y)


def strict_equal(a, b) -> bool:
    """JavaScript's ``===`` for JSON values: no coercion, ``true`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def truthy(value, this=None) -> bool:
    """What ``{{#if}}`` thinks: false, null, 0, "", NaN and empty lists are false."""
    if isinstance(value, float) and math.isnan(value):
        return False
    return condition(value, this)


def length(this, *args, **hash) -> int:
    arity("length", args, 1)
    value = args[0]
    if isinstance(value, str):
        return len(value.encode("utf-16-le")) // 2
    if isinstance(value, (Sequence, Mapping)) and not isinstance(value, (bytes, bytearray)):
        return len(value)
    return 0


def when(name: str, value) -> dt.datetime | dt.date | None:
    """A date from the data: a datetime or date, an ISO 8601 string, or seconds since the epoch (UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return dt.datetime.fromtimestamp(value, dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            pass  # past year 9999
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return dt.datetime.fromisoformat(text)
        except ValueError:
            pass
    raise HelperError(f"{name}: {value!r} is not a date (a datetime, an ISO 8601 string or seconds since 1970)")


def aware(moment: dt.datetime) -> dt.datetime:
    """Naive datetimes are taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


# -- the standard pack -------------------------------------------------------------------------------
def comparison(name: str, test: Callable[[Any, Any], bool]) -> Callable:
    """A two-argument predicate helper called ``name`` (the sendgrid pack builds its own on this)."""
    def compare(*args, **hash) -> bool:
        arity(name, args, 2)
        return test(*args)
    compare.__name__ = name
    return predicate(compare)


def ordering(name: str, test: Callable[[int], bool]) -> Callable:
    """A comparison on :func:`order`'s sign (-1, 0, 1)."""
    return comparison(name, lambda a, b: test(order(name, a, b)))


eq = comparison("eq", strict_equal)
ne = comparison("ne", lambda a, b: not strict_equal(a, b))


@predicate
def and_(*args, **hash) -> bool:
    if not args:
        raise HelperError("and takes at least one argument")
    return all(truthy(arg) for arg in args)


@predicate
def or_(*args, **hash) -> bool:
    if not args:
        raise HelperError("or takes at least one argument")
    return any(truthy(arg) for arg in args)


@predicate
def not_(*args, **hash) -> bool:
    arity("not", args, 1)
    return not truthy(args[0])


def default(this, *args, **hash):
    """``{{default nickname name "friend"}}``: the first argument that is not null."""
    if not args:
        raise HelperError("default takes at least one argument")
    return next((arg for arg in args if arg is not None), None)


def upper(this, *args, **hash) -> str:
    arity("upper", args, 1)
    return "" if args[0] is None else str(args[0]).upper()


def lower(this, *args, **hash) -> str:
    arity("lower", args, 1)
    return "" if args[0] is None else str(args[0]).lower()


def _locale(name: str, hash: dict, fallback: str):
    from babel import Locale, UnknownLocaleError

    code = hash.get("locale") or fallback
    try:
        return Locale.parse(str(code).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise HelperError(f"{name}: unknown locale {code!r} (a CLDR locale such as en_US, de_DE, fr)") from None


def _timezone(name: str, hash: dict, fallback: str):
    from babel.dates import get_timezone

    zone = hash.get("tz") or fallback
    try:
        return get_timezone(str(zone))
    except LookupError:
        raise HelperError(f"{name}: unknown time zone {zone!r} (an IANA name such as Europe/Berlin)") from None


def make_date(locale: str, timezone: str) -> Callable:
    def date(this, *args, **hash) -> str:
        """``{{date value ["short"|"medium"|"long"|"full"|CLDR pattern] tz=... locale=...}}``."""
        from babel.dates import format_date, format_datetime

        if len(args) not in (1, 2):
            raise HelperError(f"date takes a value and an optional format, got {len(args)} arguments")
        moment = when("date", args[0])
        if moment is None:
            return ""
        form = args[1] if len(args) == 2 and args[1] is not None else "medium"
        where = _locale("date", hash, locale)
        try:
            if isinstance(moment, dt.datetime):
                return format_datetime(aware(moment), str(form), tzinfo=_timezone("date", hash, timezone),
                                       locale=where)
            return format_date(moment, str(form), locale=where)  # a calendar day has no time zone
        except (ValueError, KeyError, AttributeError) as exc:
            raise HelperError(f"date: cannot format {args[0]!r} as {form!r} ({exc})") from None
    return date


def make_number(locale: str) -> Callable:
    def number(this, *args, **hash) -> str:
        """``{{number value [CLDR pattern] style="percent" currency="EUR" locale=...}}``."""
        from babel.numbers import format_currency, format_decimal, format_percent

        if len(args) not in (1, 2):
            raise HelperError(f"number takes a value and an optional pattern, got {len(args)} arguments")
        value, pattern = args[0], (args[1] if len(args) == 2 else None)
        if value is None or value == "":
            return ""
        try:
            amount = Decimal(str(value)) if isinstance(value, str) else value
            if isinstance(amount, bool) or not isinstance(amount, (int, float, Decimal)):
                raise InvalidOperation
        except InvalidOperation:
            raise HelperError(f"number: {value!r} is not a number") from None
        if isinstance(amount, Decimal) and not (amount.is_finite() and abs(amount.adjusted()) <= MAX_EXPONENT):
            raise HelperError(f"number: {value!r} is out of range (finite, at most 1e{MAX_EXPONENT})")
        where = _locale("number", hash, locale)
        try:
            if hash.get("currency"):
                return format_currency(amount, str(hash["currency"]), pattern, locale=where)
            if hash.get("style") == "percent":
                return format_percent(amount, pattern, locale=where)
            return format_decimal(amount, pattern, locale=where)
        except (ValueError, KeyError) as exc:
            raise HelperError(f"number: cannot format {value!r} ({exc})") from None
    return number


def json(this, *args, **hash) -> str:
    arity("json", args, 1)
    try:
        return json_module.dumps(args[0], ensure_ascii=False, separators=(",", ":"))  # as JSON.stringify
    except (TypeError, ValueError) as exc:
        raise HelperError(f"json: {exc}") from None
    except RecursionError:
        raise HelperError("json: the value is nested too deeply") from None


def urlencode(this, *args, **hash) -> str:
    """As JavaScript's ``encodeURIComponent``: all but ``A-Z a-z 0-9 - _ . ! ~ * ' ( )`` percent-encoded."""
    arity("urlencode", args, 1)
    return "" if args[0] is None else quote(str(args[0]), safe="!~*'()")


def helpers(locale: str = DEFAULT_LOCALE, timezone: str = DEFAULT_TIMEZONE) -> dict[str, Callable]:
    """The pack, with the locale and time zone ``date`` and ``number`` use when a template names none."""
    return {
        "eq": eq, "ne": ne, "gt": ordering("gt", lambda o: o > 0), "gte": ordering("gte", lambda o: o >= 0),
        "lt": ordering("lt", lambda o: o < 0), "lte": ordering("lte", lambda o: o <= 0),
        "and": and_, "or": or_, "not": not_, "default": default, "length": length, "upper": upper, "lower": lower,
        "date": make_date(locale, timezone), "number": make_number(locale), "json": json, "urlencode": urlencode,
    }


HELPERS = MappingProxyType(helpers())
