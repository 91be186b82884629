"""The parse tree: expressions, the nodes a template reads into, and its inline partials."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any


@dataclass(frozen=True, slots=True)
class Path:
    text: str
    parts: tuple[str, ...]
    at: int
    data: bool = False
    depth: int = 0
    scoped: bool = False
    bracketed: bool = False

    @property
    def name(self) -> str | None:
        """The bare word this path is, when it is one, which may name a helper."""
        if self.data or self.depth or self.scoped or self.bracketed or len(self.parts) != 1:
            return None
        return self.parts[0]


@dataclass(frozen=True, slots=True)
class HelperCall:
    name: str
    params: tuple[Expr, ...]
    options: tuple[tuple[str, Expr], ...]
    at: int


Expr = Literal | Path | HelperCall


@dataclass(frozen=True, slots=True)
class Output:
    expr: Expr
    escaped: bool


@dataclass(slots=True)
class Block:
    call: HelperCall
    program: list[Node] = field(default_factory=list)
    inverse: list[Node] | None = None


@dataclass(frozen=True, slots=True)
class Partial:
    name: str
    context: Expr | None
    at: int


@dataclass(slots=True)
class Inline:
    name: str
    at: int
    body: list[Node] = field(default_factory=list)


Node = str | Output | Block | Partial | Inline


@dataclass(slots=True)
class Parsed:
    nodes: list[Node]
    inlines: dict[str, Inline]
