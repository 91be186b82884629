"""Maps a method and raw request path to an operation using the model's URI templates.

Templates are kept in a segment trie. Matching runs on the still percent-encoded path so that
an encoded "/" inside a label (an ARN, say) never splits a segment; label values are decoded
only after a template has matched. Literal segments are tried before labels, with backtracking,
so "/v1/templates/{template-name}/email" and "/v1/templates/{template-name}/{template-type}/
versions" both resolve as the model intends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote

from clarion.errors import BadRequest, MethodNotAllowed, NotFound


@dataclass(frozen=True)
class Route:
    """The operation a request addresses, with its path labels percent-decoded."""

    operation: str
    path_params: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Target:
    operation: str
    labels: tuple[str, ...]


@dataclass(slots=True)
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    label: _Node | None = None
    targets: dict[str, _Target] = field(default_factory=dict)


class Router:
    def __init__(self) -> None:
        self._root = _Node()

    def add(self, method: str, uri_template: str, operation: str) -> None:
        """Register one operation; a query part of the template is ignored."""
        node = self._root
        labels: list[str] = []
        for segment in _split_path(uri_template.split("?", 1)[0]):
            label = _label_name(segment, uri_template)
            if label is None:
                node = node.literals.setdefault(segment, _Node())
            else:
                labels.append(label)
                if node.label is None:
                    node.label = _Node()
                node = node.label
        if method in node.targets:
            clash = node.targets[method].operation
            raise ValueError(f"{operation} and {clash} share {method} {uri_template}")
        node.targets[method] = _Target(operation, tuple(labels))

    def route(self, method: str, raw_path: str) -> Route:
        path = raw_path.split("?", 1)[0]
        if not path.startswith("/"):
            raise NotFound(f"No route for {method} {raw_path}")
        allowed: set[str] = set()
        for node, values in _matches(self._root, _split_path(path), 0, []):
            target = node.targets.get(method)
            if target is not None:
                return Route(target.operation, _decode_labels(target.labels, values))
            allowed.update(node.targets)
        if allowed:
            methods = ", ".join(sorted(allowed))
            raise MethodNotAllowed(
                f"Method {method} is not allowed for {raw_path}; allowed: {methods}"
            )
        raise NotFound(f"No route for {method} {raw_path}")


def _split_path(path: str) -> list[str]:
    """Split an absolute path into segments, tolerating one trailing slash."""
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path[1:].split("/")


def _label_name(segment: str, uri_template: str) -> str | None:
    if not segment.startswith("{"):
        if "{" in segment:
            raise ValueError(f"unsupported partial label in {uri_template}")
        return None
    if not segment.endswith("}") or segment.endswith("+}"):
        raise ValueError(f"unsupported label {segment} in {uri_template}")
    return segment[1:-1]


def _matches(
    node: _Node, segments: list[str], index: int, captured: list[str]
) -> Iterator[tuple[_Node, tuple[str, ...]]]:
    """Yield every template node the path reaches, most literal first."""
    if index == len(segments):
        if node.targets:
            yield node, tuple(captured)
        return
    segment = segments[index]
    literal = node.literals.get(segment)
    if literal is not None:
        yield from _matches(literal, segments, index + 1, captured)
    if node.label is not None and segment:
        captured.append(segment)
        yield from _matches(node.label, segments, index + 1, captured)
        captured.pop()


def _decode_labels(labels: tuple[str, ...], values: tuple[str, ...]) -> dict[str, str]:
    try:
        decoded = [unquote(value, errors="strict") for value in values]
    except UnicodeDecodeError:
        raise BadRequest("The request path is not valid percent-encoded UTF-8") from None
    return dict(zip(labels, decoded, strict=True))
