"""The helpers Pinpoint documents for message templates, and the value rules they share.

Source: Amazon Pinpoint User Guide, "Using message template helpers"
(https://docs.aws.amazon.com/pinpoint/latest/userguide/message-template-helpers.html). Pinpoint
renders templates with a Java Handlebars engine, so where the guide is silent the helpers follow
that engine's string helpers (Apache Commons semantics for ``abbreviate``, ``center``, the
``*just`` helpers) and Java's date formats (``SimpleDateFormat`` patterns, ``en_US`` styles).

Value rules, shared by every helper and by plain ``{{variables}}``:

* A missing value and JSON ``null`` are the same: nothing. A value helper whose first argument is
  missing or empty renders nothing, as Pinpoint "omits all text for the variable".
* A list renders as its items joined by commas, as Handlebars.js prints an array, so a one-value
  attribute such as ``["Jane"]`` renders ``Jane``. Comparisons and ``yesno`` look through a
  one-item list to its item, so ``{{eq Attributes.Plan "gold"}}`` works without ``.[0]``.
* Falsy, as Handlebars.js has it: nothing, ``false``, ``""``, zero and the empty list.
* Numbers: comparisons compare numerically when both sides read as numbers (``"18"`` and ``17``
  included), as text otherwise. Arithmetic is decimal, so ``{{multiply 5 2.3}}`` is ``11.5``;
  ``divide`` keeps 8 decimal places (the guide's ``{{divide 5 2.3}}`` is ``2.17391304``).

Where the guide's own examples are wrong the tests follow the real result: ``md5``, ``encode64``
and ``decode64`` examples hash or encode "Hello world" (lower-case w) while showing "Hello World";
September 19, 2020 was a Saturday, not a Tuesday; Java's ``en_US`` medium date is "Sep 19, 2020",
not "Sept". Only English (``en``/``en_US``) dates are produced; another ``locale`` is refused rather
than silently formatted in English.

Undocumented choices: ``substring`` offsets past the end are clamped; a blank ``pad`` is a space;
a bare word where a helper expects a word (``inflect``'s forms, ``tz``, ``locale``) stands for
itself when no variable has that name, which the guide's examples ``{{inflect 3 apple apples}}``
and ``tz=America/Los_Angeles`` rely on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
import uuid
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from clarion.templates.dates import (
    STYLES,
    DateError,
    format_date,
    input_pattern,
    parse_date,
    split_pattern,
)

MAX_OUTPUT = 1_000_000
"""Characters one message may render to; a larger one is refused, not truncated."""


class TemplateError(ValueError):
    """A template that cannot be compiled, with the line and column of the fault when known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(f"line {line}, column {column}: {reason}" if line else reason)
        self.reason = reason
        self.line = line
        self.column = column


class RenderError(TemplateError):
    """Rendering failed on one recipient's data; that message fails, the others go on."""


DYNAMIC: Any = object()
"""Stands for an argument only known at render time when helpers check literals at compile time."""


@dataclass(slots=True)
class Call:
    """The evaluated arguments of one helper call."""

    args: list[Any]
    hash: dict[str, Any]
    clock: Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Helper:
    """A value helper: its function, arity, options and what the compiler may check early."""

    fn: Callable[[Call], Any]
    min_args: int
    max_args: int | None
    options: frozenset[str] = frozenset()
    words: frozenset[int | str] = frozenset()
    blank_if_missing: bool = True
    check: Callable[[Sequence[Any], Mapping[str, Any]], None] | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """A conditional helper: a block when used with ``#``, yes/no text when used inline."""

    test: Callable[[Sequence[Any]], bool]
    min_args: int
    max_args: int | None


# -- value rules --------------------------------------------------------------------------------


def to_text(value: Any) -> str:
    """The text a value renders as."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return _float_text(value)
    if kind is Decimal:
        return decimal_text(value)
    if isinstance(value, list | tuple):
        return ",".join([to_text(item) for item in value])
    if isinstance(value, str):
        return str.__str__(value)
    return ""


def _float_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def decimal_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def truthy(value: Any) -> bool:
    return True if isinstance(value, Mapping) else bool(value)


def blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | tuple) and not value)


def scalar(value: Any) -> Any:
    """A one-item list stands for its item where a single value is expected."""
    if isinstance(value, list | tuple) and len(value) == 1:
        return value[0]
    return value


_MATH = Context(prec=60, rounding=ROUND_HALF_UP)
_NUMBER_LIMIT = 30


def as_number(value: Any) -> Decimal | None:
    """The number a value reads as, or None for text that isn't one."""
    value = scalar(value)
    kind = type(value)
    if kind is bool or value is None:
        return None
    if kind is int or kind is Decimal:
        number = Decimal(value)
    elif kind is float:
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text or "_" in text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite() or (number and abs(number.adjusted()) > _NUMBER_LIMIT):
        return None
    return number


def _number(value: Any, what: str) -> Decimal:
    number = as_number(value)
    if number is None:
        raise RenderError(
            f"{what} must be a number below 1e{_NUMBER_LIMIT + 1}, got {to_text(value)!r}"
        )
    return number


def _count(value: Any, what: str) -> int:
    """A non-negative whole number argument such as a width or an offset."""
    number = _number(value, what)
    if number != number.to_integral_value() or number < 0:
        raise RenderError(f"{what} must be a whole number of 0 or more, got {to_text(value)!r}")
    if number > MAX_OUTPUT:
        raise RenderError(f"{what} must be at most {MAX_OUTPUT}, got {to_text(value)!r}")
    return int(number)


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1; numerically when both read as numbers, as text when both are text."""
    left, right = as_number(a), as_number(b)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    a, b = scalar(a), scalar(b)
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    return None


def equal(a: Any, b: Any) -> bool:
    a, b = scalar(a), scalar(b)
    if a == b and type(a) is type(b):
        return True
    if isinstance(a, str) and isinstance(b, str):
        return False
    return compare(a, b) == 0


# -- conditions ---------------------------------------------------------------------------------


def _gt(args: Sequence[Any]) -> bool:
    return compare(args[0], args[1]) == 1


def _gte(args: Sequence[Any]) -> bool:
    return compare(args[0], args[1]) in (0, 1)


def _lt(args: Sequence[Any]) -> bool:
    return compare(args[0], args[1]) == -1


def _lte(args: Sequence[Any]) -> bool:
    return compare(args[0], args[1]) in (-1, 0)


CONDITIONS: dict[str, Condition] = {
    "if": Condition(lambda args: truthy(args[0]), 1, 1),
    "unless": Condition(lambda args: not truthy(args[0]), 1, 1),
    "not": Condition(lambda args: not truthy(args[0]), 1, 1),
    "and": Condition(lambda args: all(truthy(arg) for arg in args), 2, None),
    "or": Condition(lambda args: any(truthy(arg) for arg in args), 2, None),
    "eq": Condition(lambda args: equal(args[0], args[1]), 2, 2),
    "neq": Condition(lambda args: not equal(args[0], args[1]), 2, 2),
    "gt": Condition(_gt, 2, 2),
    "gte": Condition(_gte, 2, 2),
    "lt": Condition(_lt, 2, 2),
    "lte": Condition(_lte, 2, 2),
}


# -- string helpers -----------------------------------------------------------------------------


def _arg(values: Sequence[Any], index: int, default: Any = None) -> Any:
    return values[index] if index < len(values) else default


def _abbreviate(call: Call) -> str:
    text = to_text(call.args[0])
    width = _abbreviation_width(call.args[1])
    return text if len(text) <= width else text[: width - 3] + "..."


def _abbreviation_width(value: Any) -> int:
    width = _count(value, "abbreviate's width")
    if width < 4:
        raise RenderError(f"abbreviate's width must be at least 4 to fit the ellipsis, got {width}")
    return width


def _check_abbreviate(args: Sequence[Any], options: Mapping[str, Any]) -> None:
    if args[1] is not DYNAMIC:
        _abbreviation_width(args[1])


def _capitalize(call: Call) -> str:
    fully = truthy(_flag(call.hash.get("fully")))
    pieces: list[str] = []
    start = True
    for char in to_text(call.args[0]):
        if char.isspace():
            start = True
            pieces.append(char)
        elif start:
            start = False
            pieces.append(char.upper())
        else:
            pieces.append(char.lower() if fully else char)
    return "".join(pieces)


def _flag(value: Any) -> Any:
    """Option flags may be written ``true`` or ``"true"``."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value


def _capitalize_first(call: Call) -> str:
    text = to_text(call.args[0])
    return text[:1].upper() + text[1:]


def _size(args: Sequence[Any], options: Mapping[str, Any], helper: str) -> Any:
    """The width, given as ``size=`` or as the second argument."""
    size = options.get("size", _arg(args, 1))
    if size is None:
        raise RenderError(f"{helper} needs a size, e.g. {{{{{helper} value size=20}}}}")
    return size


def _check_size(helper: str) -> Callable[[Sequence[Any], Mapping[str, Any]], None]:
    def check(args: Sequence[Any], options: Mapping[str, Any]) -> None:
        size = _size(args, options, helper)
        if size is not DYNAMIC:
            _count(size, f"{helper}'s size")

    return check


def _room(call: Call, helper: str) -> tuple[str, int]:
    """The text and how much padding it needs to reach the size."""
    text = to_text(call.args[0])
    return text, _count(_size(call.args, call.hash, helper), f"{helper}'s size") - len(text)


def _padding(call: Call, width: int) -> str:
    """``width`` characters of the ``pad`` text repeated; a blank pad is a space, as documented."""
    pad = to_text(call.hash.get("pad")) or " "
    return (pad * (width // len(pad) + 1))[:width]


def _center(call: Call) -> str:
    text, room = _room(call, "center")
    if room <= 0:
        return text
    left = room // 2
    return _padding(call, left) + text + _padding(call, room - left)


def _ljust(call: Call) -> str:
    text, room = _room(call, "ljust")
    return text + _padding(call, room) if room > 0 else text


def _rjust(call: Call) -> str:
    text, room = _room(call, "rjust")
    return _padding(call, room) + text if room > 0 else text


def _cut(call: Call) -> str:
    return to_text(call.args[0]).replace(to_text(_arg(call.args, 1, " ")), "")


def _inflect(call: Call) -> str:
    count = _number(call.args[0], "inflect's count")
    word = to_text(call.args[1] if count == 1 else call.args[2])
    if truthy(_flag(call.hash.get("includeCount"))):
        return f"{decimal_text(count)} {word}"
    return word


def _join(call: Call) -> str:
    items: list[str] = []
    for value in call.args[:-1]:
        if isinstance(value, list | tuple):
            items.extend(to_text(item) for item in value if item is not None)
        elif value is not None:
            items.append(to_text(value))
    joined = to_text(call.args[-1]).join(items)
    return to_text(call.hash.get("prefix")) + joined + to_text(call.hash.get("suffix"))


def _ordinalize(call: Call) -> str:
    number = _number(call.args[0], "ordinalize's value")
    if number != number.to_integral_value():
        raise RenderError(f"ordinalize needs a whole number, got {to_text(call.args[0])!r}")
    whole = int(number)
    last_two = abs(whole) % 100
    suffix = "th" if 11 <= last_two <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(last_two % 10, "th")
    return f"{whole}{suffix}"


def _replace(call: Call) -> str:
    text, old, new = to_text(call.args[0]), to_text(call.args[1]), to_text(call.args[2])
    hits = text.count(old) if old else len(text) + 1
    if len(text) + hits * (len(new) - len(old)) > MAX_OUTPUT:
        raise RenderError(f"replace would produce more than {MAX_OUTPUT} characters")
    return text.replace(old, new)


_NON_WORD = re.compile(r"[^\w\s-]")
_SEPARATORS = re.compile(r"[-\s]+")
_TAG = re.compile(r"<[^>]*>")


def _slugify(call: Call) -> str:
    text = unicodedata.normalize("NFKC", to_text(call.args[0]))
    return _SEPARATORS.sub("-", _NON_WORD.sub("", text).strip().lower()).strip("-")


def _strip_tags(call: Call) -> str:
    return _TAG.sub("", to_text(call.args[0]))


def _substring(call: Call) -> str:
    text = to_text(call.args[0])
    start = _count(call.args[1], "substring's startOffset")
    end = call.args[2] if len(call.args) > 2 else None
    return text[start:] if end is None else text[start : _count(end, "substring's endOffset")]


def _check_substring(args: Sequence[Any], options: Mapping[str, Any]) -> None:
    for value, what in zip(args[1:], ("startOffset", "endOffset"), strict=False):
        if value is not DYNAMIC:
            _count(value, f"substring's {what}")


def _yesno(call: Call) -> str:
    value = scalar(call.args[0])
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"
    if blank(value):
        return to_text(call.hash.get("maybe", "maybe"))
    return to_text(call.hash.get("yes", "yes") if truthy(value) else call.hash.get("no", "no"))


def _lookup(call: Call) -> Any:
    container, key = call.args
    if isinstance(container, Mapping):
        return container.get(to_text(key))
    if isinstance(container, list | tuple):
        index = as_number(key)
        if index is not None and index == index.to_integral_value() and 0 <= index < len(container):
            return container[int(index)]
    return None


# -- math and encoding helpers ------------------------------------------------------------------


def _arithmetic(
    operation: Callable[[Decimal, Decimal], Decimal], name: str
) -> Callable[[Call], Any]:
    def apply(call: Call) -> Any:
        if blank(call.args[1]):
            return ""
        left = _number(call.args[0], f"{name}'s first argument")
        right = _number(call.args[1], f"{name}'s second argument")
        if not right and name in ("divide", "modulo"):
            raise RenderError(f"{name} by zero")
        return operation(left, right)

    return apply


_EIGHT_PLACES = Decimal("1e-8")


def _divide(left: Decimal, right: Decimal) -> Decimal:
    return _MATH.divide(left, right).quantize(_EIGHT_PLACES, context=_MATH)


def _rounding(mode: str, name: str) -> Callable[[Call], Any]:
    def apply(call: Call) -> Any:
        return _number(call.args[0], f"{name}'s value").to_integral_value(rounding=mode)

    return apply


def _digest(algorithm: str) -> Callable[[Call], Any]:
    def apply(call: Call) -> Any:
        return hashlib.new(algorithm, to_text(call.args[0]).encode()).hexdigest()

    return apply


def _encode64(call: Call) -> str:
    return base64.b64encode(to_text(call.args[0]).encode()).decode("ascii")


def _decode64(call: Call) -> str:
    text = to_text(call.args[0])
    try:
        return base64.b64decode(text, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise RenderError(f"decode64 needs base64 of UTF-8 text, got {text[:40]!r}") from None


# -- dates --------------------------------------------------------------------------------------

_ZONE_NAME = re.compile(r"[A-Za-z][\w+-]*(?:/[A-Za-z][\w+-]*)*")
_ENGLISH = re.compile(r"en(?:[_-]us)?", re.IGNORECASE)


@contextmanager
def _date_faults() -> Iterator[None]:
    """The date code knows nothing of templates; what it refuses fails this message."""
    try:
        yield
    except DateError as error:
        raise RenderError(str(error)) from None


def _style(fmt: Any) -> str:
    text = to_text(scalar(fmt))
    return STYLES.get(text, text)


def _parse_date(value: Any, pattern: Any, zone: tzinfo, today: datetime) -> datetime:
    if pattern is not None:
        return parse_date(to_text(value), _style(pattern), zone, today)
    if not isinstance(value, str):
        return _from_millis(float(_number(value, "dateFormat's date")), to_text(value))
    text = value.strip()
    if text.isascii() and text.isdigit():
        return _from_millis(float(text), text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RenderError(f"{text!r} is not an ISO 8601 date; pass inputFormat") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _from_millis(millis: float, shown: str) -> datetime:
    """Milliseconds since 1970, as Java reads a date given as a number."""
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        raise RenderError(
            f"{shown[:40]!r} milliseconds since 1970 is before year 1 or after 9999"
        ) from None


@lru_cache(maxsize=512)
def _zone_named(name: str) -> tzinfo:
    if name.upper() in ("UTC", "GMT", "Z"):
        return UTC
    if not _ZONE_NAME.fullmatch(name):
        raise RenderError(f"{name!r} is not a time zone ID")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise RenderError(f"{name!r} is not a time zone ID") from None


def _zone(value: Any) -> tzinfo:
    return UTC if blank(value) else _zone_named(to_text(scalar(value)).strip())


def _check_locale(value: Any) -> None:
    if not blank(value) and not _ENGLISH.fullmatch(to_text(scalar(value)).strip()):
        raise RenderError(
            f"locale {to_text(value)!r} is not supported; dates are in English (en_US)"
        )


def _check_dates(options: Mapping[str, Any], formats: Sequence[Any], reading: Any = None) -> None:
    with _date_faults():
        for fmt in formats:
            if fmt is not None and fmt is not DYNAMIC:
                split_pattern(_style(fmt))
        if reading is not None and reading is not DYNAMIC:
            input_pattern(_style(reading))
    for key, check in (("tz", _zone), ("locale", _check_locale)):
        value = options.get(key)
        if value is not None and value is not DYNAMIC:
            check(value)


def _date_format(call: Call) -> str:
    zone = _zone(call.hash.get("tz"))
    _check_locale(call.hash.get("locale"))
    fmt = call.hash.get("outputFormat", _arg(call.args, 1, "medium"))
    with _date_faults():
        moment = _parse_date(scalar(call.args[0]), call.hash.get("inputFormat"), zone, call.clock())
        return format_date(moment, _style(fmt), zone)


def _check_date_format(args: Sequence[Any], options: Mapping[str, Any]) -> None:
    formats = [options.get("outputFormat"), _arg(args, 1)]
    _check_dates(options, formats, options.get("inputFormat"))


def _now(call: Call) -> str:
    zone = _zone(call.hash.get("tz"))
    _check_locale(call.hash.get("locale"))
    fmt = call.hash.get("format", _arg(call.args, 0, "medium"))
    with _date_faults():
        return format_date(call.clock(), _style(fmt), zone)


def _check_now(args: Sequence[Any], options: Mapping[str, Any]) -> None:
    _check_dates(options, [options.get("format"), _arg(args, 0)])


# -- the table ----------------------------------------------------------------------------------

_DATE_OPTIONS = frozenset({"tz", "locale"})

HELPERS: dict[str, Helper] = {
    "abbreviate": Helper(_abbreviate, 2, 2, check=_check_abbreviate),
    "capitalize": Helper(_capitalize, 1, 1, frozenset({"fully"})),
    "capitalizeFirst": Helper(_capitalize_first, 1, 1),
    "center": Helper(_center, 1, 2, frozenset({"size", "pad"}), check=_check_size("center")),
    "cut": Helper(_cut, 1, 2),
    "dateFormat": Helper(
        _date_format,
        1,
        2,
        frozenset({"inputFormat", "outputFormat"}) | _DATE_OPTIONS,
        words=_DATE_OPTIONS,
        check=_check_date_format,
    ),
    "inflect": Helper(_inflect, 3, 3, frozenset({"includeCount"}), words=frozenset({1, 2})),
    "join": Helper(_join, 2, None, frozenset({"prefix", "suffix"}), blank_if_missing=False),
    "ljust": Helper(_ljust, 1, 2, frozenset({"size", "pad"}), check=_check_size("ljust")),
    "lower": Helper(lambda call: to_text(call.args[0]).lower(), 1, 1),
    "now": Helper(
        _now,
        0,
        1,
        frozenset({"format"}) | _DATE_OPTIONS,
        words=_DATE_OPTIONS,
        blank_if_missing=False,
        check=_check_now,
    ),
    "ordinalize": Helper(_ordinalize, 1, 1),
    "replace": Helper(_replace, 3, 3),
    "rjust": Helper(_rjust, 1, 2, frozenset({"size", "pad"}), check=_check_size("rjust")),
    "slugify": Helper(_slugify, 1, 1),
    "stripTags": Helper(_strip_tags, 1, 1),
    "substring": Helper(_substring, 2, 3, check=_check_substring),
    "upper": Helper(lambda call: to_text(call.args[0]).upper(), 1, 1),
    "yesno": Helper(_yesno, 1, 1, frozenset({"yes", "no", "maybe"}), blank_if_missing=False),
    "add": Helper(_arithmetic(lambda a, b: _MATH.add(a, b), "add"), 2, 2),
    "subtract": Helper(_arithmetic(lambda a, b: _MATH.subtract(a, b), "subtract"), 2, 2),
    "multiply": Helper(_arithmetic(lambda a, b: _MATH.multiply(a, b), "multiply"), 2, 2),
    "divide": Helper(_arithmetic(_divide, "divide"), 2, 2),
    "modulo": Helper(_arithmetic(lambda a, b: _MATH.remainder(a, b), "modulo"), 2, 2),
    "ceiling": Helper(_rounding(ROUND_CEILING, "ceiling"), 1, 1),
    "floor": Helper(_rounding(ROUND_FLOOR, "floor"), 1, 1),
    "round": Helper(_rounding(ROUND_HALF_UP, "round"), 1, 1),
    "encode64": Helper(_encode64, 1, 1),
    "decode64": Helper(_decode64, 1, 1),
    "md5": Helper(_digest("md5"), 1, 1),
    "sha256": Helper(_digest("sha256"), 1, 1),
    "sha512": Helper(_digest("sha512"), 1, 1),
    "uuid": Helper(lambda call: str(uuid.uuid4()), 0, 0, blank_if_missing=False),
    "lookup": Helper(_lookup, 2, 2, blank_if_missing=False),
    "log": Helper(lambda call: "", 0, None, frozenset({"level"}), blank_if_missing=False),
}
"""Value helpers by name; ``each`` and ``with`` change the context and live in the renderer."""
