"""What one render carries (its budget, clock and scopes) and lookups that only index data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from clarion.numbers import INT64_MAX, integer
from clarion.templates.handlebars.limits import MAX_OUTPUT, MAX_STEPS, RenderError


class Run:
    """What one render counts and shares: escaping, the root values, its budget and clock."""

    __slots__ = ("escape", "moment", "root", "size", "steps")

    def __init__(self, escape: bool, root: Any, moment: datetime | None) -> None:
        self.escape = escape
        self.root = root
        self.moment = moment
        self.steps = 0
        self.size = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise RenderError(f"the template takes more than {MAX_STEPS} steps to render")

    def grow(self, size: int) -> None:
        self.size += size
        if self.size > MAX_OUTPUT:
            raise RenderError(f"the message is longer than {MAX_OUTPUT} characters")

    def clock(self) -> datetime:
        if self.moment is None:
            self.moment = datetime.now(UTC)
        return self.moment


class Scope:
    """One context on the stack: the value ``this`` names, the scope around it, loop data."""

    __slots__ = ("context", "data", "parent", "run")

    def __init__(self, context: Any, parent: Scope | None, data: Any, run: Run) -> None:
        self.context = context
        self.parent = parent
        self.data = data
        self.run = run


Render = Callable[[Scope], str]
Evaluate = Callable[[Scope], Any]
Key = tuple[str, int | None]


@lru_cache(maxsize=4096)
def as_keys(parts: tuple[str, ...]) -> tuple[Key, ...]:
    return tuple((part, integer(part, 0, INT64_MAX)) for part in parts)


def child(container: Any, key: Key) -> Any:
    if type(container) is dict or isinstance(container, Mapping):
        return container.get(key[0])
    index = key[1]
    if index is not None and isinstance(container, list | tuple) and index < len(container):
        return container[index]
    return None


def dig(value: Any, keys: tuple[Key, ...]) -> Any:
    for key in keys:
        value = child(value, key)
        if value is None:
            return None
    return value
