"""The value rules every helper and plain ``{{variable}}`` share, and what a helper is handed.

* A missing value and JSON ``null`` are the same: nothing. A value helper whose first argument is
  missing or empty renders nothing, as Pinpoint "omits all text for the variable".
* A list renders as its items joined by commas, as Handlebars.js prints an array, so a one-value
  attribute such as ``["Jane"]`` renders ``Jane``. Comparisons and ``yesno`` look through a
  one-item list to its item, so ``{{eq Attributes.Plan "gold"}}`` works without ``.[0]``.
* Falsy, as Handlebars.js has it: nothing, ``false``, ``""``, zero and the empty list.
* Numbers: comparisons compare numerically when both sides read as numbers (``"18"`` and ``17``
  included), as text otherwise. Arithmetic is decimal, so ``{{multiply 5 2.3}}`` is ``11.5``;
  ``divide`` keeps 8 decimal places (the guide's ``{{divide 5 2.3}}`` is ``2.17391304``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from clarion.clock import Clock
from clarion.templates.handlebars.limits import MAX_OUTPUT, RenderError

DYNAMIC: Any = object()
"""Stands for an argument only known at render time when helpers check literals at compile time."""


@dataclass(slots=True)
class Call:
    """The evaluated arguments of one helper call."""

    args: list[Any]
    hash: dict[str, Any]
    clock: Clock


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


def number_arg(value: Any, what: str) -> Decimal:
    number = as_number(value)
    if number is None:
        raise RenderError(
            f"{what} must be a number below 1e{_NUMBER_LIMIT + 1}, got {to_text(value)!r}"
        )
    return number


def count_arg(value: Any, what: str) -> int:
    """A non-negative whole number argument such as a width or an offset."""
    number = number_arg(value, what)
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


def optional_arg(values: Sequence[Any], index: int, default: Any = None) -> Any:
    return values[index] if index < len(values) else default
