"""The sandbox's bounds, and the errors a template fails to compile or to render with."""

from __future__ import annotations

MAX_OUTPUT = 1_000_000
"""Characters one message may render to; a larger one is refused, not truncated."""

MAX_STEPS = 100_000
MAX_DEPTH = 64
EACH_LIMIT = 15


class TemplateError(ValueError):
    """A template that cannot be compiled, with the line and column of the fault when known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(f"line {line}, column {column}: {reason}" if line else reason)
        self.reason = reason
        self.line = line
        self.column = column


class RenderError(TemplateError):
    """Rendering failed on one recipient's data; that message fails, the others go on."""
