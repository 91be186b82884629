"""Pinpoint message templates: Handlebars parsed once, rendered per recipient by a sandboxed walker.

``compile_template`` turns template text into a ``Template`` (or a ``TemplateError`` naming the
line and column); ``Template.render`` fills it from one recipient's lookup data, which
``recipient_values`` builds from the endpoint, the template's DefaultSubstitutions and the
message's Substitutions.

The language is the part of Handlebars that Pinpoint documents ("Using message template helpers"):
``{{path}}`` (HTML-escaped when ``escape`` is set: the e-mail HTML part), ``{{{path}}}`` and
``{{& path}}`` (never escaped), helpers with arguments, ``key=value`` options and ``(sub
expressions)``, the blocks ``#if``/``#unless``/``#each``/``#with`` and every conditional helper with
``{{else}}`` and ``{{else if ...}}`` chains, ``@index``/``@key``/``@first``/``@last``/``@root``,
``../`` and ``this``, comments, ``\\{{`` for literal braces, ``~`` whitespace control and standalone
block lines, and inline partials (``{{#* inline "name"}}`` / ``{{> name}}``). Helpers are listed in
``helpers.py``. A name not found in the current context is looked up in the enclosing ones, as
Pinpoint's Java Handlebars engine does, so ``{{User.UserId}}`` works inside ``{{#each}}``.

``{{#each}}`` visits at most 15 items (the guide's "maximum list size is 15 items"), and a single
value, not a list, once. The built-in ``lookup`` and ``log`` (which prints nothing) are there too.

Sandbox: templates are data. Rendering walks closures built from the parse tree; lookups only
index mappings and lists; nothing evaluates Python, reads attributes, files or the network. A
render stops with ``RenderError`` after ``MAX_STEPS`` loop turns, partial calls and helper calls,
or once the message passes ``MAX_OUTPUT`` characters; templates nest at most ``MAX_DEPTH`` levels
(blocks, partial calls and sub-expressions together) and partials cannot include themselves.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from typing import Any

import orjson

from clarion.numbers import INT64_MAX, integer
from clarion.templates.helpers import (
    CONDITIONS,
    DYNAMIC,
    HELPERS,
    MAX_OUTPUT,
    Call,
    Helper,
    RenderError,
    TemplateError,
    blank,
    to_text,
    truthy,
)

__all__ = [
    "MAX_OUTPUT",
    "RenderError",
    "Template",
    "TemplateError",
    "compile_template",
    "parse_defaults",
    "recipient_values",
]

MAX_STEPS = 100_000
MAX_DEPTH = 64
EACH_LIMIT = 15
_CONTEXT_BLOCKS = frozenset({"each", "with"})


# -- the parse tree -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Literal:
    value: Any


@dataclass(frozen=True, slots=True)
class _Path:
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
class _Call:
    name: str
    params: tuple[_Expr, ...]
    options: tuple[tuple[str, _Expr], ...]
    at: int


_Expr = _Literal | _Path | _Call


@dataclass(frozen=True, slots=True)
class _Output:
    expr: _Expr
    escaped: bool


@dataclass(slots=True)
class _Block:
    call: _Call
    program: list[_Node] = field(default_factory=list)
    inverse: list[_Node] | None = None


@dataclass(frozen=True, slots=True)
class _Partial:
    name: str
    context: _Expr | None
    at: int


@dataclass(slots=True)
class _Inline:
    name: str
    at: int
    body: list[_Node] = field(default_factory=list)


_Node = str | _Output | _Block | _Partial | _Inline


# -- reading the source -------------------------------------------------------------------------


class _Where:
    """Offsets to (line, column), computed only when an error needs them."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._starts: list[int] | None = None

    def __call__(self, offset: int) -> tuple[int, int]:
        if self._starts is None:
            self._starts = [0] + [match.end() for match in re.finditer("\n", self.source)]
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def error(self, reason: str, offset: int) -> TemplateError:
        return TemplateError(reason, *self(offset))


@dataclass(slots=True)
class _Text:
    value: str


@dataclass(slots=True)
class _Tag:
    kind: str
    body: str
    at: int
    body_at: int
    strip_before: bool = False
    strip_after: bool = False


_STANDALONE = frozenset({"open", "close", "else", "comment", "inline"})


def _scan(source: str, where: _Where) -> list[_Text | _Tag]:
    """Alternating text and tags (text first and last, possibly empty), whitespace rules applied."""
    tokens: list[_Text | _Tag] = []
    text: list[str] = []
    position = 0
    while (start := source.find("{{", position)) >= 0:
        escaped = start > 0 and source[start - 1] == "\\"
        if escaped and not (start > 1 and source[start - 2] == "\\"):
            text.append(source[position : start - 1] + "{{")
            position = start + 2
            continue
        text.append(source[position : start - 1 if escaped else start])
        tag, position = _read_tag(source, start, where)
        tokens.append(_Text("".join(text)))
        tokens.append(tag)
        text = []
    text.append(source[position:])
    tokens.append(_Text("".join(text)))
    _strip_standalone(tokens)
    for index in range(1, len(tokens), 2):
        marker = tokens[index]
        assert isinstance(marker, _Tag)
        before, after = tokens[index - 1], tokens[index + 1]
        assert isinstance(before, _Text) and isinstance(after, _Text)
        if marker.strip_before:
            before.value = before.value.rstrip()
        if marker.strip_after:
            after.value = after.value.lstrip()
    return tokens


def _strip_standalone(tokens: list[_Text | _Tag]) -> None:
    """A block, else or comment tag alone on its line takes the whole line with it."""
    original = [token.value if isinstance(token, _Text) else "" for token in tokens]
    last = len(tokens) - 1
    cuts: dict[int, list[int]] = {}
    for index in range(1, last, 2):
        tag = tokens[index]
        assert isinstance(tag, _Tag)
        if tag.kind not in _STANDALONE:
            continue
        before, after = original[index - 1], original[index + 1]
        line_start = before.rfind("\n") + 1
        line_end = after.find("\n")
        if before[line_start:].strip(" \t") or (line_start == 0 and index - 1 != 0):
            continue
        if after[: line_end if line_end >= 0 else len(after)].strip(" \t\r"):
            continue
        if line_end < 0 and index + 1 != last:
            continue
        cuts.setdefault(index - 1, [0, len(before)])[1] = line_start
        cuts.setdefault(index + 1, [0, len(after)])[0] = (
            line_end + 1 if line_end >= 0 else len(after)
        )
    for index, (start, end) in cuts.items():
        token = tokens[index]
        assert isinstance(token, _Text)
        token.value = original[index][start:end] if start < end else ""


def _read_tag(source: str, start: int, where: _Where) -> tuple[_Tag, int]:
    index = start + 2
    strip_before = source.startswith("~", index)
    if strip_before:
        index += 1
    if source.startswith("!--", index):
        close = source.find("--", index + 3)
        while close >= 0 and not source.startswith(("--}}", "--~}}"), close):
            close = source.find("--", close + 1)
        if close < 0:
            raise where.error("this {{!-- comment is never closed with --}}", start)
        strip_after = source.startswith("--~}}", close)
        return _Tag("comment", "", start, index, strip_before, strip_after), close + (
            5 if strip_after else 4
        )
    if source.startswith("!", index):
        close = source.find("}}", index)
        if close < 0:
            raise where.error("this {{! comment is never closed with }}", start)
        strip_after = source[close - 1] == "~"
        return _Tag("comment", "", start, index, strip_before, strip_after), close + 2
    triple = source.startswith("{", index)
    body_at = index + 1 if triple else index
    body_end, end, strip_after = _find_close(source, body_at, triple, start, where)
    body = source[body_at:body_end]
    if triple:
        return _Tag("raw", body, start, body_at, strip_before, strip_after), end
    kind, skip = _classify(body, start, where)
    tag = _Tag(kind, body[skip:], start, body_at + skip, strip_before, strip_after)
    return tag, end


def _find_close(
    source: str, index: int, triple: bool, start: int, where: _Where
) -> tuple[int, int, bool]:
    """Where the tag's body ends, where the tag ends, and whether it ends with ``~``."""
    quote, quoted_at = "", 0
    size = len(source)
    while index < size:
        char = source[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote, quoted_at = char, index
        elif char == "}":
            if triple:
                if source.startswith("}}}", index):
                    return index, index + 3, False
                if source.startswith("}~}}", index):
                    return index, index + 4, True
            elif source.startswith("}}", index):
                tilde = source[index - 1] == "~"
                return index - 1 if tilde else index, index + 2, tilde
        index += 1
    if quote:
        raise where.error("this string is never closed", quoted_at)
    closer = "}}}" if triple else "}}"
    raise where.error(f"this tag is never closed with {closer}", start)


def _classify(body: str, start: int, where: _Where) -> tuple[str, int]:
    """The tag's kind and how many characters of sigil precede its expression."""
    stripped = body.lstrip()
    skip = len(body) - len(stripped)
    sigil = stripped[:1]
    if sigil == "#":
        rest = stripped[1:].lstrip()
        if rest.startswith("*"):
            return "inline", len(body) - len(rest) + 1
        if rest.startswith(">"):
            raise where.error("partial blocks {{#> name}} are not supported", start)
        return "open", skip + 1
    if sigil == "/":
        return "close", skip + 1
    if sigil == "^":
        if stripped[1:].strip():
            raise where.error(
                "inverse sections {{^name}} are not supported; use {{#unless}}", start
            )
        return "else", len(body)
    if sigil == ">":
        return "partial", skip + 1
    if sigil == "&":
        return "raw", skip + 1
    if stripped.startswith("else") and (len(stripped) == 4 or stripped[4].isspace()):
        return "else", skip + 4
    return "output", 0


# -- expressions --------------------------------------------------------------------------------

_ID_STOP = frozenset(" \t\r\n!\"#%&'()*+,./;<=>@[\\]^`{|}~")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?=[\s)]|$)")
_NUMBER_DIGITS = 40
_KEYWORDS: dict[str, Any] = {"true": True, "false": False, "null": None, "undefined": None}


class _Reader:
    """Reads the expression inside one tag."""

    def __init__(self, text: str, at: int, where: _Where) -> None:
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

    def call(self, depth: int) -> _Call:
        """A helper name followed by its arguments and options."""
        self.skip()
        start = self.index
        head = self.operand(depth)
        name = head.name if isinstance(head, _Path) else None
        if name is None:
            raise self.fail("expected a helper name", start)
        params, options = self.arguments(depth)
        return _Call(name, params, options, self.at + start)

    def statement(self) -> _Expr:
        """What a ``{{...}}`` outputs: a value, or a helper call when arguments follow."""
        self.skip()
        start = self.index
        head = self.operand(0)
        params, options = self.arguments(0)
        _end(self)
        name = head.name if isinstance(head, _Path) else None
        if name is not None and (params or options or name in HELPERS or name in CONDITIONS):
            return _Call(name, params, options, self.at + start)
        if params or options:
            raise self.fail("only a helper name can take arguments", start)
        return head

    def arguments(self, depth: int) -> tuple[tuple[_Expr, ...], tuple[tuple[str, _Expr], ...]]:
        params: list[_Expr] = []
        options: list[tuple[str, _Expr]] = []
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

    def operand(self, depth: int) -> _Expr:
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
            return _Literal(self.string(char))
        number = _NUMBER.match(self.text, self.index)
        if number:
            text = number.group()
            if len(text) > _NUMBER_DIGITS:
                raise self.fail(f"numbers are at most {_NUMBER_DIGITS} characters long")
            self.index = number.end()
            return _Literal(Decimal(text) if "." in text else int(text))
        word = self.text[start:].split(None, 1)[0].split(")", 1)[0]
        if word in _KEYWORDS:
            self.index += len(word)
            return _Literal(_KEYWORDS[word])
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

    def path(self) -> _Path:
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
            return _Path(text[start : self.index], (), self.at + start, depth=depth + 1)
        if text.startswith(".", self.index) and self.at_end(self.index + 1):
            self.index += 1
            return _Path(text[start : self.index], (), self.at + start, scoped=True)
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
        return _Path(
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

    node: _Block | _Inline
    tag: _Tag
    name: str
    chained: bool = False
    in_inverse: bool = False

    @property
    def content(self) -> list[_Node]:
        if isinstance(self.node, _Inline):
            return self.node.body
        if self.in_inverse:
            assert self.node.inverse is not None
            return self.node.inverse
        return self.node.program


@dataclass(slots=True)
class _Parsed:
    nodes: list[_Node]
    inlines: dict[str, _Inline]


def _parse(source: str, where: _Where) -> _Parsed:
    root: list[_Node] = []
    inlines: dict[str, _Inline] = {}
    stack: list[_Open] = []
    for token in _scan(source, where):
        content = stack[-1].content if stack else root
        if isinstance(token, _Text):
            if token.value:
                content.append(token.value)
            continue
        reader = _Reader(token.body, token.body_at, where)
        if token.kind in ("output", "raw"):
            expr = reader.statement()
            _check_output(expr, where)
            content.append(_Output(expr, token.kind == "output"))
        elif token.kind == "open":
            if len(stack) >= MAX_DEPTH:
                raise where.error(f"blocks nest deeper than {MAX_DEPTH} levels", token.at)
            call = reader.call(0)
            _end(reader)
            _check_block(call, where)
            block = _Block(call)
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
    return _Parsed(root, inlines)


def _end(reader: _Reader) -> None:
    if not reader.done():
        raise reader.fail(f"unexpected {reader.text[reader.index]!r}")


def _else(token: _Tag, reader: _Reader, stack: list[_Open], where: _Where) -> None:
    opened = stack[-1] if stack else None
    if opened is None or isinstance(opened.node, _Inline):
        raise where.error("{{else}} outside a block", token.at)
    if opened.in_inverse:
        raise where.error(f"{{{{#{opened.name}}}}} already has an {{{{else}}}}", token.at)
    opened.in_inverse = True
    opened.node.inverse = []
    if reader.done():
        return
    call = reader.call(0)
    _end(reader)
    _check_block(call, where)
    chained = _Block(call)
    opened.node.inverse.append(chained)
    stack.append(_Open(chained, token, opened.name, chained=True))


def _close(token: _Tag, stack: list[_Open], where: _Where) -> None:
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


def _partial(token: _Tag, reader: _Reader) -> _Partial:
    reader.skip()
    start = reader.index
    head = reader.operand(0)
    name = (
        head.value if isinstance(head, _Literal) else head.text if isinstance(head, _Path) else None
    )
    if not isinstance(name, str) or not name:
        raise reader.fail("expected a partial name", start)
    context = None if reader.done() else reader.operand(0)
    _end(reader)
    return _Partial(name, context, token.at)


def _inline(token: _Tag, reader: _Reader, where: _Where) -> _Inline:
    reader.skip()
    if not reader.text.startswith("inline", reader.index):
        raise where.error('only the inline decorator {{#* inline "name"}} is supported', token.at)
    reader.index += len("inline")
    name = reader.operand(0)
    if not isinstance(name, _Literal) or not isinstance(name.value, str) or not name.value:
        raise where.error('an inline partial needs a quoted name: {{#* inline "name"}}', token.at)
    _end(reader)
    return _Inline(name.value, token.at)


def _check_output(expr: _Expr, where: _Where) -> None:
    if isinstance(expr, _Call):
        if expr.name in _CONTEXT_BLOCKS:
            raise where.error(
                f"{expr.name} is a block helper: use {{{{#{expr.name} ...}}}}", expr.at
            )
        _check_call(expr, where)


def _check_block(call: _Call, where: _Where) -> None:
    if call.name in _CONTEXT_BLOCKS:
        if len(call.params) != 1 or call.options:
            raise where.error(f"{call.name} takes one value and no options", call.at)
        _check_operands(call, where)
        return
    if call.name in HELPERS:
        raise where.error(
            f"{call.name} is not a block helper; use {{{{{call.name} ...}}}}", call.at
        )
    if call.name not in CONDITIONS:
        raise where.error(f"unknown block helper {call.name!r}", call.at)
    if call.options:
        raise where.error(f"{call.name} takes no options when used as a block", call.at)
    _check_call(call, where)


def _check_call(call: _Call, where: _Where) -> None:
    helper = HELPERS.get(call.name)
    rule = helper or CONDITIONS.get(call.name)
    if rule is None:
        raise where.error(f"unknown helper {call.name!r}", call.at)
    count = len(call.params)
    if count < rule.min_args or (rule.max_args is not None and count > rule.max_args):
        expected = _arity(rule.min_args, rule.max_args)
        raise where.error(f"{call.name} takes {expected}, got {count}", call.at)
    allowed = helper.options if helper else frozenset({"yes", "no"})
    for key, _ in call.options:
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise where.error(f"{call.name} has no option {key!r} (options: {known})", call.at)
    if helper and helper.check:
        params = [_literal(param) for param in call.params]
        try:
            helper.check(params, {key: _literal(value) for key, value in call.options})
        except RenderError as error:
            raise where.error(error.reason, call.at) from None
    _check_operands(call, where)


def _check_operands(call: _Call, where: _Where) -> None:
    for operand in [*call.params, *(value for _, value in call.options)]:
        if isinstance(operand, _Call):
            if operand.name in _CONTEXT_BLOCKS:
                raise where.error(f"{operand.name} cannot be a sub-expression", operand.at)
            _check_call(operand, where)


def _arity(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} arguments"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


def _literal(expr: _Expr) -> Any:
    return expr.value if isinstance(expr, _Literal) else DYNAMIC


def _check_partials(parsed: _Parsed, where: _Where) -> None:
    """Every partial exists, none includes itself, and nesting stays within MAX_DEPTH."""
    depths: dict[str, int] = {}

    def depth(nodes: Sequence[_Node], level: int, calling: tuple[str, ...]) -> int:
        deepest = 0
        for node in nodes:
            if isinstance(node, _Block):
                inner = max(depth(node.program, level + 1, calling), _expr_depth(node.call))
                if node.inverse is not None:
                    inner = max(inner, depth(node.inverse, level + 1, calling))
                deepest = max(deepest, 1 + inner)
            elif isinstance(node, _Partial):
                deepest = max(deepest, 1 + partial(node, level + 1, calling))
            elif isinstance(node, _Output):
                deepest = max(deepest, _expr_depth(node.expr))
            if level + deepest > MAX_DEPTH:
                raise where.error(f"the template nests deeper than {MAX_DEPTH} levels", _at(node))
        return deepest

    def partial(node: _Partial, level: int, calling: tuple[str, ...]) -> int:
        inline = parsed.inlines.get(node.name)
        if inline is None:
            raise where.error(f"no inline partial named {node.name!r}", node.at)
        if node.name in calling:
            raise where.error(f"the partial {node.name!r} includes itself", node.at)
        if node.name not in depths:
            depths[node.name] = depth(inline.body, level, (*calling, node.name))
        return depths[node.name]

    depth(parsed.nodes, 0, ())
    for inline in parsed.inlines.values():
        depth(inline.body, 0, (inline.name,))


def _at(node: _Node) -> int:
    if isinstance(node, _Block):
        return node.call.at
    if isinstance(node, _Output):
        return node.expr.at if isinstance(node.expr, _Path | _Call) else 0
    return 0 if isinstance(node, str) else node.at


def _expr_depth(expr: _Expr) -> int:
    if not isinstance(expr, _Call):
        return 0
    operands = [*expr.params, *(value for _, value in expr.options)]
    return 1 + max((_expr_depth(operand) for operand in operands), default=0)


# -- rendering ----------------------------------------------------------------------------------


class _Run:
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


class _Scope:
    """One context on the stack: the value ``this`` names, the scope around it, loop data."""

    __slots__ = ("context", "data", "parent", "run")

    def __init__(self, context: Any, parent: _Scope | None, data: Any, run: _Run) -> None:
        self.context = context
        self.parent = parent
        self.data = data
        self.run = run


_Render = Callable[[_Scope], str]
_Evaluate = Callable[[_Scope], Any]
_Key = tuple[str, int | None]


@lru_cache(maxsize=4096)
def _keys(parts: tuple[str, ...]) -> tuple[_Key, ...]:
    return tuple((part, integer(part, 0, INT64_MAX)) for part in parts)


def _get(container: Any, key: _Key) -> Any:
    if type(container) is dict or isinstance(container, Mapping):
        return container.get(key[0])
    index = key[1]
    if index is not None and isinstance(container, list | tuple) and index < len(container):
        return container[index]
    return None


def _dig(value: Any, keys: tuple[_Key, ...]) -> Any:
    for key in keys:
        value = _get(value, key)
        if value is None:
            return None
    return value


def _getter(path: _Path) -> _Evaluate:
    keys = _keys(path.parts)
    if path.data:
        name, rest = (keys[0][0], keys[1:]) if keys else ("", ())
        if name == "root":
            return lambda scope: _dig(scope.run.root, rest)

        def data(scope: _Scope) -> Any:
            found = scope.data.get(name) if scope.data else None
            return _dig(found, rest) if rest else found

        return data
    if path.depth:
        levels = path.depth

        def above(scope: _Scope) -> Any:
            for _ in range(levels):
                scope = scope.parent or scope
            return _dig(scope.context, keys)

        return above
    if path.scoped or not keys:
        return lambda scope: _dig(scope.context, keys)
    head, rest = keys[0], keys[1:]

    def walk(scope: _Scope | None) -> Any:
        while scope is not None:
            found = _get(scope.context, head)
            if found is not None:
                return _dig(found, rest) if rest else found
            scope = scope.parent
        return None

    return walk


def _wordlike(path: _Path) -> bool:
    """``apple`` or ``America/Los_Angeles``, but not ``Demographic.Timezone`` or ``@index``."""
    plain = not (path.data or path.depth or path.scoped or path.bracketed)
    return plain and "." not in path.text


def _word(path: _Path, evaluate: _Evaluate) -> _Evaluate:
    """A bare word where a helper wants a word stands for itself unless it names a value."""
    text = path.text

    def word(scope: _Scope) -> Any:
        found = evaluate(scope)
        return text if found is None else found

    return word


def _escape(text: str) -> str:
    if (
        "&" in text
        or "<" in text
        or ">" in text
        or '"' in text
        or "'" in text
        or "`" in text
        or "=" in text
    ):
        return text.translate(_ESCAPES)
    return text


_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "`": "&#x60;",
        "=": "&#x3D;",
    }
)


class _Compiler:
    """Turns the parse tree into nested closures, so rendering does no parsing or dispatch."""

    def __init__(self, where: _Where, partials: dict[str, _Render]) -> None:
        self.where = where
        self.partials = partials

    def fail(self, error: RenderError, at: int) -> RenderError:
        if error.line is not None:
            return error
        return RenderError(error.reason, *self.where(at))

    def nodes(self, nodes: Sequence[_Node]) -> _Render:
        pieces: list[str] = []
        dynamic: list[tuple[int, _Render]] = []
        for node in nodes:
            if isinstance(node, _Inline):
                continue
            if isinstance(node, str):
                if pieces and not (dynamic and dynamic[-1][0] == len(pieces) - 1):
                    pieces[-1] += node
                else:
                    pieces.append(node)
            else:
                dynamic.append((len(pieces), self.node(node)))
                pieces.append("")
        if not dynamic:
            constant = "".join(pieces)
            return lambda scope: constant
        if len(pieces) == 1:
            return dynamic[0][1]
        template = tuple(pieces)
        slots = tuple(dynamic)

        def render(scope: _Scope) -> str:
            out = list(template)
            for index, part in slots:
                out[index] = part(scope)
            return "".join(out)

        return render

    def node(self, node: _Output | _Block | _Partial) -> _Render:
        if isinstance(node, _Output):
            return self.output(node)
        if isinstance(node, _Partial):
            return self.partial(node)
        return self.block(node)

    def output(self, node: _Output) -> _Render:
        evaluate = self.expr(node.expr)
        escaped = node.escaped

        def output(scope: _Scope) -> str:
            value = evaluate(scope)
            text = value if type(value) is str else to_text(value)
            return _escape(text) if escaped and scope.run.escape else text

        return output

    def expr(self, expr: _Expr) -> _Evaluate:
        if isinstance(expr, _Literal):
            value = expr.value
            return lambda scope: value
        if isinstance(expr, _Path):
            return _getter(expr)
        if expr.name in CONDITIONS:
            return self.condition(expr)
        return self.helper(expr, HELPERS[expr.name])

    def operands(
        self, call: _Call, words: frozenset[int | str] = frozenset()
    ) -> tuple[list[_Evaluate], list[tuple[str, _Evaluate]]]:
        params = [self.operand(param, index in words) for index, param in enumerate(call.params)]
        options = [(key, self.operand(value, key in words)) for key, value in call.options]
        return params, options

    def operand(self, expr: _Expr, word: bool) -> _Evaluate:
        evaluate = self.expr(expr)
        if word and isinstance(expr, _Path) and _wordlike(expr):
            return _word(expr, evaluate)
        return evaluate

    def helper(self, call: _Call, helper: Helper) -> _Evaluate:
        params, options = self.operands(call, helper.words)
        fn, blank_if_missing, at = helper.fn, helper.blank_if_missing, call.at

        def evaluate(scope: _Scope) -> Any:
            run = scope.run
            args = [param(scope) for param in params]
            if blank_if_missing and blank(args[0]):
                return ""
            named = {key: value(scope) for key, value in options}
            try:
                run.step()
                result = fn(Call(args, named, run.clock))
                if type(result) is str:
                    run.grow(len(result))
            except RenderError as error:
                raise self.fail(error, at) from None
            return result

        return evaluate

    def condition(self, call: _Call) -> _Evaluate:
        test = CONDITIONS[call.name].test
        params, options = self.operands(call)
        yes = next((value for key, value in options if key == "yes"), None)
        no = next((value for key, value in options if key == "no"), None)

        def evaluate(scope: _Scope) -> Any:
            scope.run.step()
            if test([param(scope) for param in params]):
                return yes(scope) if yes else True
            return no(scope) if no else False

        return evaluate

    def block(self, node: _Block) -> _Render:
        program = self.nodes(node.program)
        inverse = self.nodes(node.inverse) if node.inverse else None
        params, _ = self.operands(node.call)
        if node.call.name == "each":
            return self.each(params[0], program, inverse, node.call.at)
        if node.call.name == "with":
            return _with(params[0], program, inverse)
        test = CONDITIONS[node.call.name].test

        def conditional(scope: _Scope) -> str:
            scope.run.step()
            if test([param(scope) for param in params]):
                return program(scope)
            return inverse(scope) if inverse else ""

        return conditional

    def each(
        self, evaluate: _Evaluate, program: _Render, inverse: _Render | None, at: int
    ) -> _Render:
        def each(scope: _Scope) -> str:
            run = scope.run
            items = list(islice(_items(evaluate(scope)), EACH_LIMIT))
            if not items:
                return inverse(scope) if inverse else ""
            last = len(items) - 1
            mark, total, out = run.size, 0, []
            try:
                for index, (key, item) in enumerate(items):
                    run.step()
                    data = {"index": index, "key": key, "first": index == 0, "last": index == last}
                    piece = program(_Scope(item, scope, data, run))
                    total += len(piece)
                    run.size = mark
                    run.grow(total)
                    out.append(piece)
            except RenderError as error:
                raise self.fail(error, at) from None
            return "".join(out)

        return each

    def partial(self, node: _Partial) -> _Render:
        partials, name, at = self.partials, node.name, node.at
        context = self.expr(node.context) if node.context is not None else None

        def partial(scope: _Scope) -> str:
            run = scope.run
            try:
                run.step()
                inner = scope if context is None else _Scope(context(scope), scope, scope.data, run)
                mark = run.size
                text = partials[name](inner)
                run.size = mark
                run.grow(len(text))
            except RenderError as error:
                raise self.fail(error, at) from None
            return text

        return partial


def _items(value: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(value, Mapping):
        return iter(value.items())
    if isinstance(value, list | tuple):
        return enumerate(value)
    return iter([(0, value)] if truthy(value) else [])


def _with(evaluate: _Evaluate, program: _Render, inverse: _Render | None) -> _Render:
    def with_(scope: _Scope) -> str:
        value = evaluate(scope)
        if truthy(value):
            return program(_Scope(value, scope, scope.data, scope.run))
        return inverse(scope) if inverse else ""

    return with_


class Template:
    """A compiled template: immutable, safe to share between threads, rendered many times."""

    __slots__ = ("_render",)

    def __init__(self, render: _Render) -> None:
        self._render = render

    def render(
        self, values: Mapping[str, Any], *, escape: bool = True, now: datetime | None = None
    ) -> str:
        """Fill the template from one recipient's lookup data.

        ``escape`` HTML-escapes ``{{...}}`` output (e-mail HTML parts); plain-text, SMS, push and
        voice parts pass ``escape=False``. ``now`` is the moment ``{{now}}`` prints and
        ``dateFormat`` reads two-digit years against; the current time when not given.
        """
        run = _Run(escape, values, now)
        text = self._render(_Scope(values, None, None, run))
        if len(text) > MAX_OUTPUT:
            raise RenderError(f"the message is longer than {MAX_OUTPUT} characters")
        return text


def compile_template(source: str) -> Template:
    """Parse and check a template once; raises ``TemplateError`` with the line and column."""
    where = _Where(source)
    parsed = _parse(source, where)
    _check_partials(parsed, where)
    partials: dict[str, _Render] = {}
    compiler = _Compiler(where, partials)
    for name, inline in parsed.inlines.items():
        partials[name] = compiler.nodes(inline.body)
    return Template(compiler.nodes(parsed.nodes))


# -- lookup data --------------------------------------------------------------------------------

_LIST_VALUED = (("Attributes",), ("User", "UserAttributes"))
Defaults = tuple[tuple[tuple[str, ...], Any], ...]


@lru_cache(maxsize=256)
def parse_defaults(text: str | None) -> Defaults:
    """A template's DefaultSubstitutions as (path, value) pairs; ``TemplateError`` if malformed.

    Keys are variable paths, written flat (``{"User.UserAttributes.FirstName": "there"}``) or
    nested the way the console writes them (``{"Attributes": {"Plan": "free"}}``).
    """
    if text is None or not text.strip():
        return ()
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise TemplateError(f"DefaultSubstitutions is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise TemplateError("DefaultSubstitutions must be a JSON object")
    entries: list[tuple[tuple[str, ...], Any]] = []
    _flatten(document, (), entries)
    return tuple(entries)


def _flatten(document: dict[str, Any], prefix: tuple[str, ...], out: list[Any]) -> None:
    for key, value in document.items():
        path = (*prefix, *_key_path(key))
        if isinstance(value, dict):
            _flatten(value, path, out)
        elif value is not None:
            out.append((path, tuple(value) if isinstance(value, list) else value))


@lru_cache(maxsize=4096)
def _key_path(key: str) -> tuple[str, ...]:
    """A variable name as path parts: dots separate, ``[...]`` quotes a part with dots or spaces."""
    parts: list[str] = []
    index = 0
    while index <= len(key):
        if key.startswith("[", index) and (close := key.find("]", index)) > 0:
            parts.append(key[index + 1 : close])
            index = close + 2
            continue
        end = key.find(".", index)
        end = len(key) if end < 0 else end
        parts.append(key[index:end])
        index = end + 1
    return tuple(part for part in parts if part) or (key,)


def recipient_values(
    endpoint: Mapping[str, Any],
    *,
    defaults: str | None = None,
    substitutions: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The lookup data one recipient's message renders from.

    Precedence, highest first, as Pinpoint documents it: ``substitutions`` (the message's
    Substitutions with the address's or endpoint's own merged over them: "the variables specified
    in this map take precedence over all other variables"), then the endpoint's own values, then
    the template's ``defaults`` (DefaultSubstitutions: used "if an attribute value doesn't exist
    for a recipient"; an empty value counts as missing).

    Values keep the endpoint's shapes: a default or substitution for a custom attribute
    (``Attributes.x``, ``User.UserAttributes.x``) becomes a list like the endpoint's own, anything
    else a single value (a list when a substitution has several). The endpoint is not modified.
    """
    values = dict(endpoint)
    owned = {id(values)}
    for path, value in parse_defaults(defaults):
        if blank(_dig(values, _keys(path))):
            _put(values, path, _shaped(path, value), owned)
    for key, items in (substitutions or {}).items():
        path = _key_path(key)
        listed = list(items)
        _put(values, path, _shaped(path, listed if len(listed) != 1 else listed[0]), owned)
    return values


def _shaped(path: tuple[str, ...], value: Any) -> Any:
    attribute = any(path[:-1] == prefix for prefix in _LIST_VALUED)
    if attribute:
        return list(value) if isinstance(value, list | tuple) else [value]
    return list(value) if isinstance(value, tuple) else value


def _put(values: dict[str, Any], path: tuple[str, ...], value: Any, owned: set[int]) -> None:
    """Set a path, copying the mappings on the way so the endpoint document stays untouched."""
    current = values
    for part in path[:-1]:
        child = current.get(part)
        if not isinstance(child, dict) or id(child) not in owned:
            child = dict(child) if isinstance(child, Mapping) else {}
            owned.add(id(child))
            current[part] = child
        current = child
    current[path[-1]] = value
