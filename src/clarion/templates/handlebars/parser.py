"""Tags read into the parse tree; every helper call is checked as soon as it is read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clarion.templates.handlebars.checker import check_block, check_output
from clarion.templates.handlebars.helpers import CONDITIONS, HELPERS
from clarion.templates.handlebars.lexer import Tag, Text, Where, scan
from clarion.templates.handlebars.limits import MAX_DEPTH, TemplateError
from clarion.templates.handlebars.nodes import (
    Block,
    Expr,
    HelperCall,
    Inline,
    Literal,
    Node,
    Output,
    Parsed,
    Partial,
    Path,
)

# -- expressions --------------------------------------------------------------------------------

_ID_STOP = frozenset(" \t\r\n!\"#%&'()*+,./;<=>@[\\]^`{|}~")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?=[\s)]|$)")
_NUMBER_DIGITS = 40
_KEYWORDS: dict[str, Any] = {"true": True, "false": False, "null": None, "undefined": None}


class _Reader:
    """Reads the expression inside one tag."""

    def __init__(self, text: str, at: int, where: Where) -> None:
        self.text = text
        self.index = 0
        self.at = at
        self.where = where

    def fail(self, reason: str, index: int | None = None) -> TemplateError:
        return self.where.error(reason, self.at + (self.index if index is None else index))

    def skip(self) -> None:
        while self.index < len(self.text) and self.text[self.index].isspace():
            self.index += 1

    def done(self) -> bool:
        self.skip()
        return self.index >= len(self.text)

    def call(self, depth: int) -> HelperCall:
        """A helper name followed by its arguments and options."""
        self.skip()
        start = self.index
        head = self.operand(depth)
        name = head.name if isinstance(head, Path) else None
        if name is None:
            raise self.fail("expected a helper name", start)
        params, options = self.arguments(depth)
        return HelperCall(name, params, options, self.at + start)

    def statement(self) -> Expr:
        """What a ``{{...}}`` outputs: a value, or a helper call when arguments follow."""
        self.skip()
        start = self.index
        head = self.operand(0)
        params, options = self.arguments(0)
        _end(self)
        name = head.name if isinstance(head, Path) else None
        if name is not None and (params or options or name in HELPERS or name in CONDITIONS):
            return HelperCall(name, params, options, self.at + start)
        if params or options:
            raise self.fail("only a helper name can take arguments", start)
        return head

    def arguments(self, depth: int) -> tuple[tuple[Expr, ...], tuple[tuple[str, Expr], ...]]:
        params: list[Expr] = []
        options: list[tuple[str, Expr]] = []
        while not self.done() and self.text[self.index] != ")":
            start = self.index
            key = self.option_key()
            if key is not None:
                options.append((key, self.operand(depth)))
            elif options:
                raise self.fail("arguments must come before key=value options", start)
            else:
                params.append(self.operand(depth))
        return tuple(params), tuple(options)

    def option_key(self) -> str | None:
        end = self.index
        while end < len(self.text) and self.text[end] not in _ID_STOP:
            end += 1
        if end > self.index and self.text.startswith("=", end):
            key = self.text[self.index : end]
            self.index = end + 1
            self.skip()
            return key
        return None

    def operand(self, depth: int) -> Expr:
        self.skip()
        if self.index >= len(self.text):
            raise self.fail("expected a value")
        char = self.text[self.index]
        start = self.index
        if char == "(":
            if depth >= MAX_DEPTH:
                raise self.fail(f"sub-expressions nest deeper than {MAX_DEPTH} levels")
            self.index += 1
            call = self.call(depth + 1)
            if self.done() or self.text[self.index] != ")":
                raise self.fail("this sub-expression is never closed with )", start)
            self.index += 1
            return call
        if char in "\"'":
            return Literal(self.string(char))
        number = _NUMBER.match(self.text, self.index)
        if number:
            text = number.group()
            if len(text) > _NUMBER_DIGITS:
                raise self.fail(f"numbers are at most {_NUMBER_DIGITS} characters long")
            self.index = number.end()
            return Literal(Decimal(text) if "." in text else int(text))
        word = self.text[start:].split(None, 1)[0].split(")", 1)[0]
        if word in _KEYWORDS:
            self.index += len(word)
            return Literal(_KEYWORDS[word])
        return self.path()

    def string(self, quote: str) -> str:
        start = self.index
        pieces: list[str] = []
        self.index += 1
        while self.index < len(self.text):
            char = self.text[self.index]
            if char == "\\" and self.text.startswith(quote, self.index + 1):
                pieces.append(quote)
                self.index += 2
            elif char == quote:
                self.index += 1
                return "".join(pieces)
            else:
                pieces.append(char)
                self.index += 1
        raise self.fail("this string is never closed", start)

    def path(self) -> Path:
        text, start = self.text, self.index
        data = text.startswith("@", start)
        if data:
            self.index += 1
        depth = 0
        while text.startswith("../", self.index):
            depth += 1
            self.index += 3
        if text.startswith("..", self.index) and self.at_end(self.index + 2):
            self.index += 2
            return Path(text[start : self.index], (), self.at + start, depth=depth + 1)
        if text.startswith(".", self.index) and self.at_end(self.index + 1):
            self.index += 1
            return Path(text[start : self.index], (), self.at + start, scoped=True)
        scoped = text.startswith("./", self.index)
        if scoped:
            self.index += 2
        parts: list[str] = []
        bracketed = False
        while True:
            if text.startswith("[", self.index):
                close = text.find("]", self.index)
                if close < 0:
                    raise self.fail("this [ is never closed with ]")
                parts.append(text[self.index + 1 : close])
                self.index = close + 1
                bracketed = True
            else:
                end = self.index
                while end < len(text) and text[end] not in _ID_STOP:
                    end += 1
                if end == self.index:
                    raise self.fail(f"expected a name, found {self.found(end)}")
                word = text[self.index : end]
                self.index = end
                if word == "this" and not parts and not data:
                    scoped = True
                else:
                    parts.append(word)
            if text.startswith((".", "/"), self.index) and not self.at_end(self.index + 1):
                self.index += 1
                continue
            break
        if not self.at_end(self.index) and text[self.index] != "=":
            raise self.fail(f"unexpected {self.found(self.index)}")
        return Path(
            text[start : self.index], tuple(parts), self.at + start, data, depth, scoped, bracketed
        )

    def found(self, index: int) -> str:
        if index >= len(self.text):
            return "the end of the tag"
        if self.text[index] == "|":
            return "'|': block parameters (as |x|) are not supported"
        return repr(self.text[index])

    def at_end(self, index: int) -> bool:
        return index >= len(self.text) or self.text[index].isspace() or self.text[index] == ")"


# -- parsing ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Open:
    """A block being read: its node, the tag that opened it, and where content goes now."""

    node: Block | Inline
    tag: Tag
    name: str
    chained: bool = False
    in_inverse: bool = False

    @property
    def content(self) -> list[Node]:
        if isinstance(self.node, Inline):
            return self.node.body
        if self.in_inverse:
            assert self.node.inverse is not None
            return self.node.inverse
        return self.node.program


def parse(source: str, where: Where) -> Parsed:
    root: list[Node] = []
    inlines: dict[str, Inline] = {}
    stack: list[_Open] = []
    for token in scan(source, where):
        content = stack[-1].content if stack else root
        if isinstance(token, Text):
            if token.value:
                content.append(token.value)
            continue
        reader = _Reader(token.body, token.body_at, where)
        if token.kind in ("output", "raw"):
            expr = reader.statement()
            check_output(expr, where)
            content.append(Output(expr, token.kind == "output"))
        elif token.kind == "open":
            if len(stack) >= MAX_DEPTH:
                raise where.error(f"blocks nest deeper than {MAX_DEPTH} levels", token.at)
            call = reader.call(0)
            _end(reader)
            check_block(call, where)
            block = Block(call)
            content.append(block)
            stack.append(_Open(block, token, call.name))
        elif token.kind == "else":
            _else(token, reader, stack, where)
        elif token.kind == "close":
            _close(token, stack, where)
        elif token.kind == "partial":
            content.append(_partial(token, reader))
        elif token.kind == "inline":
            inline = _inline(token, reader, where)
            if inline.name in inlines:
                raise where.error(f"the inline partial {inline.name!r} is defined twice", token.at)
            inlines[inline.name] = inline
            content.append(inline)
            stack.append(_Open(inline, token, "inline"))
    if stack:
        opened = stack[-1]
        raise where.error(
            f"{{{{#{opened.name}}}}} is never closed with {{{{/{opened.name}}}}}", opened.tag.at
        )
    return Parsed(root, inlines)


def _end(reader: _Reader) -> None:
    if not reader.done():
        raise reader.fail(f"unexpected {reader.text[reader.index]!r}")


def _else(token: Tag, reader: _Reader, stack: list[_Open], where: Where) -> None:
    opened = stack[-1] if stack else None
    if opened is None or isinstance(opened.node, Inline):
        raise where.error("{{else}} outside a block", token.at)
    if opened.in_inverse:
        raise where.error(f"{{{{#{opened.name}}}}} already has an {{{{else}}}}", token.at)
    opened.in_inverse = True
    opened.node.inverse = []
    if reader.done():
        return
    call = reader.call(0)
    _end(reader)
    check_block(call, where)
    chained = Block(call)
    opened.node.inverse.append(chained)
    stack.append(_Open(chained, token, opened.name, chained=True))


def _close(token: Tag, stack: list[_Open], where: Where) -> None:
    name = token.body.strip()
    while stack and stack[-1].chained:
        stack.pop()
    if not stack:
        raise where.error(f"{{{{/{name}}}}} closes nothing", token.at)
    opened = stack.pop()
    if name != opened.name:
        line, column = where(opened.tag.at)
        reason = (
            f"{{{{/{name}}}}} closes {{{{#{opened.name}}}}} opened at line {line}, column {column}"
        )
        raise where.error(reason, token.at)


def _partial(token: Tag, reader: _Reader) -> Partial:
    reader.skip()
    start = reader.index
    head = reader.operand(0)
    name = (
        head.value if isinstance(head, Literal) else head.text if isinstance(head, Path) else None
    )
    if not isinstance(name, str) or not name:
        raise reader.fail("expected a partial name", start)
    context = None if reader.done() else reader.operand(0)
    _end(reader)
    return Partial(name, context, token.at)


def _inline(token: Tag, reader: _Reader, where: Where) -> Inline:
    reader.skip()
    if not reader.text.startswith("inline", reader.index):
        raise where.error('only the inline decorator {{#* inline "name"}} is supported', token.at)
    reader.index += len("inline")
    name = reader.operand(0)
    if not isinstance(name, Literal) or not isinstance(name.value, str) or not name.value:
        raise where.error('an inline partial needs a quoted name: {{#* inline "name"}}', token.at)
    _end(reader)
    return Inline(name.value, token.at)
