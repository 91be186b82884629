"""Typed reads of a journey request's members.

Each read names the member it refuses and what it should have been, so every 400 a journey
request earns points at one member (``WriteJourneyRequest.Activities.a1.Wait.WaitTime``) and
a number where a string belongs is refused, not coerced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from clarion.errors import BadRequest


def describe(value: Any) -> str:
    """A JSON value's kind, and the value itself when it is short enough to show."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return repr(value[:100])
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadRequest(f"{path} must be an object; got {describe(value)}")
    return value


def optional_mapping(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    value = parent.get(key)
    return None if value is None else mapping(value, f"{path}.{key}")


def string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{path} must be a string; got {describe(value)}")
    return value


def optional_string(parent: Mapping[str, Any], key: str, path: str) -> str | None:
    value = parent.get(key)
    return None if value is None else string(value, f"{path}.{key}")


def required_string(parent: Mapping[str, Any], key: str, path: str, why: str) -> str:
    """A string member that must be given and not empty; ``why`` tells what it is for."""
    value = optional_string(parent, key, path)
    if not value:
        raise BadRequest(f"{path}.{key} is required: {why}")
    return value


def boolean(parent: Mapping[str, Any], key: str, path: str) -> bool | None:
    value = parent.get(key)
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"{path}.{key} must be true or false; got {describe(value)}")
    return value


def integer(value: Any, path: str, low: int | None = None, high: int | None = None) -> int:
    """A whole number; JSON's true and false, and numbers with a fraction, are refused."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{path} must be a whole number; got {describe(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadRequest(f"{path} must be {_range(low, high)}; got {value}")
    return value


def _range(low: int | None, high: int | None) -> str:
    if high is None:
        return f"at least {low}"
    return f"at most {high}" if low is None else f"from {low} to {high}"


def optional_integer(
    parent: Mapping[str, Any], key: str, path: str, low: int | None = None, high: int | None = None
) -> int | None:
    value = parent.get(key)
    return None if value is None else integer(value, f"{path}.{key}", low, high)


def listing(value: Any, path: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise BadRequest(f"{path} must be a list; got {describe(value)}")
    return value


def choice(value: Any, path: str, allowed: Iterable[str]) -> str:
    options = tuple(allowed)
    if value not in options:
        raise BadRequest(f"{path} must be one of {', '.join(options)}; got {describe(value)}")
    chosen: str = value
    return chosen


def one_of(parent: Mapping[str, Any], members: Sequence[str], path: str) -> str | None:
    """The one member of ``members`` that ``parent`` gives (None: it gives none); giving two
    is refused, since each names a different meaning of the same object."""
    given = [member for member in members if parent.get(member) is not None]
    if len(given) > 1:
        raise BadRequest(
            f"{path} must have exactly one of {', '.join(members)}; got {' and '.join(given)}"
        )
    return given[0] if given else None
