"""Template text split into text and tags, with Handlebars' whitespace rules applied."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from clarion.templates.handlebars.limits import TemplateError


class Where:
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
class Text:
    value: str


@dataclass(slots=True)
class Tag:
    kind: str
    body: str
    at: int
    body_at: int
    strip_before: bool = False
    strip_after: bool = False


_STANDALONE = frozenset({"open", "close", "else", "comment", "inline"})


def scan(source: str, where: Where) -> list[Text | Tag]:
    """Alternating text and tags (text first and last, possibly empty), whitespace rules applied."""
    tokens: list[Text | Tag] = []
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
        tokens.append(Text("".join(text)))
        tokens.append(tag)
        text = []
    text.append(source[position:])
    tokens.append(Text("".join(text)))
    _strip_standalone(tokens)
    for index in range(1, len(tokens), 2):
        marker = tokens[index]
        assert isinstance(marker, Tag)
        before, after = tokens[index - 1], tokens[index + 1]
        assert isinstance(before, Text) and isinstance(after, Text)
        if marker.strip_before:
            before.value = before.value.rstrip()
        if marker.strip_after:
            after.value = after.value.lstrip()
    return tokens


def _strip_standalone(tokens: list[Text | Tag]) -> None:
    """A block, else or comment tag alone on its line takes the whole line with it."""
    original = [token.value if isinstance(token, Text) else "" for token in tokens]
    last = len(tokens) - 1
    cuts: dict[int, list[int]] = {}
    for index in range(1, last, 2):
        tag = tokens[index]
        assert isinstance(tag, Tag)
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
        assert isinstance(token, Text)
        token.value = original[index][start:end] if start < end else ""


def _read_tag(source: str, start: int, where: Where) -> tuple[Tag, int]:
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
        return Tag("comment", "", start, index, strip_before, strip_after), close + (
            5 if strip_after else 4
        )
    if source.startswith("!", index):
        close = source.find("}}", index)
        if close < 0:
            raise where.error("this {{! comment is never closed with }}", start)
        strip_after = source[close - 1] == "~"
        return Tag("comment", "", start, index, strip_before, strip_after), close + 2
    triple = source.startswith("{", index)
    body_at = index + 1 if triple else index
    body_end, end, strip_after = _find_close(source, body_at, triple, start, where)
    body = source[body_at:body_end]
    if triple:
        return Tag("raw", body, start, body_at, strip_before, strip_after), end
    kind, skip = _classify(body, start, where)
    tag = Tag(kind, body[skip:], start, body_at + skip, strip_before, strip_after)
    return tag, end


def _find_close(
    source: str, index: int, triple: bool, start: int, where: Where
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


def _classify(body: str, start: int, where: Where) -> tuple[str, int]:
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
