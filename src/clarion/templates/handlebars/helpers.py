"""The helpers Pinpoint documents for message templates (their value rules are in ``values``).

Source: Amazon Pinpoint User Guide, "Using message template helpers"
(https://docs.aws.amazon.com/pinpoint/latest/userguide/message-template-helpers.html). Pinpoint
renders templates with a Java Handlebars engine, so where the guide is silent the helpers follow
that engine's string helpers (Apache Commons semantics for ``abbreviate``, ``center``, the
``*just`` helpers) and Java's date formats (``SimpleDateFormat`` patterns, ``en_US`` styles).

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal
from typing import Any

from clarion.templates.handlebars.date_helpers import check_date_format, check_now, date_format, now
from clarion.templates.handlebars.limits import MAX_OUTPUT, RenderError
from clarion.templates.handlebars.values import (
    DYNAMIC,
    Call,
    as_number,
    blank,
    compare,
    count_arg,
    decimal_text,
    equal,
    number_arg,
    optional_arg,
    scalar,
    to_text,
    truthy,
)


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


def _abbreviate(call: Call) -> str:
    text = to_text(call.args[0])
    width = _abbreviation_width(call.args[1])
    return text if len(text) <= width else text[: width - 3] + "..."


def _abbreviation_width(value: Any) -> int:
    width = count_arg(value, "abbreviate's width")
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
    size = options.get("size", optional_arg(args, 1))
    if size is None:
        raise RenderError(f"{helper} needs a size, e.g. {{{{{helper} value size=20}}}}")
    return size


def _check_size(helper: str) -> Callable[[Sequence[Any], Mapping[str, Any]], None]:
    def check(args: Sequence[Any], options: Mapping[str, Any]) -> None:
        size = _size(args, options, helper)
        if size is not DYNAMIC:
            count_arg(size, f"{helper}'s size")

    return check


def _room(call: Call, helper: str) -> tuple[str, int]:
    """The text and how much padding it needs to reach the size."""
    text = to_text(call.args[0])
    return text, count_arg(_size(call.args, call.hash, helper), f"{helper}'s size") - len(text)


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
    return to_text(call.args[0]).replace(to_text(optional_arg(call.args, 1, " ")), "")


def _inflect(call: Call) -> str:
    count = number_arg(call.args[0], "inflect's count")
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
    number = number_arg(call.args[0], "ordinalize's value")
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
    start = count_arg(call.args[1], "substring's startOffset")
    end = call.args[2] if len(call.args) > 2 else None
    return text[start:] if end is None else text[start : count_arg(end, "substring's endOffset")]


def _check_substring(args: Sequence[Any], options: Mapping[str, Any]) -> None:
    for value, what in zip(args[1:], ("startOffset", "endOffset"), strict=False):
        if value is not DYNAMIC:
            count_arg(value, f"substring's {what}")


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

_MATH = Context(prec=60, rounding=ROUND_HALF_UP)


def _arithmetic(
    operation: Callable[[Decimal, Decimal], Decimal], name: str
) -> Callable[[Call], Any]:
    def apply(call: Call) -> Any:
        if blank(call.args[1]):
            return ""
        left = number_arg(call.args[0], f"{name}'s first argument")
        right = number_arg(call.args[1], f"{name}'s second argument")
        if not right and name in ("divide", "modulo"):
            raise RenderError(f"{name} by zero")
        return operation(left, right)

    return apply


_EIGHT_PLACES = Decimal("1e-8")


def _divide(left: Decimal, right: Decimal) -> Decimal:
    return _MATH.divide(left, right).quantize(_EIGHT_PLACES, context=_MATH)


def _rounding(mode: str, name: str) -> Callable[[Call], Any]:
    def apply(call: Call) -> Any:
        return number_arg(call.args[0], f"{name}'s value").to_integral_value(rounding=mode)

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


# -- the table ----------------------------------------------------------------------------------

_DATE_OPTIONS = frozenset({"tz", "locale"})

HELPERS: dict[str, Helper] = {
    "abbreviate": Helper(_abbreviate, 2, 2, check=_check_abbreviate),
    "capitalize": Helper(_capitalize, 1, 1, frozenset({"fully"})),
    "capitalizeFirst": Helper(_capitalize_first, 1, 1),
    "center": Helper(_center, 1, 2, frozenset({"size", "pad"}), check=_check_size("center")),
    "cut": Helper(_cut, 1, 2),
    "dateFormat": Helper(
        date_format,
        1,
        2,
        frozenset({"inputFormat", "outputFormat"}) | _DATE_OPTIONS,
        words=_DATE_OPTIONS,
        check=check_date_format,
    ),
    "inflect": Helper(_inflect, 3, 3, frozenset({"includeCount"}), words=frozenset({1, 2})),
    "join": Helper(_join, 2, None, frozenset({"prefix", "suffix"}), blank_if_missing=False),
    "ljust": Helper(_ljust, 1, 2, frozenset({"size", "pad"}), check=_check_size("ljust")),
    "lower": Helper(lambda call: to_text(call.args[0]).lower(), 1, 1),
    "now": Helper(
        now,
        0,
        1,
        frozenset({"format"}) | _DATE_OPTIONS,
        words=_DATE_OPTIONS,
        blank_if_missing=False,
        check=check_now,
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
"""Value helpers by name; ``each`` and ``with`` change the context and live in ``compiler``."""
