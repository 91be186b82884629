"""Clarion's own routes under ``/clarion/…``: what Pinpoint's API lacks (engagement reports…).

They pass the same signature check and scope rules as the Pinpoint operations and answer errors
in the same format; handlers take the decoded path labels, the query and the body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from clarion.api.context import Context
from clarion.errors import MethodNotAllowed, NotFound

PREFIX = "/clarion/"


@dataclass(frozen=True)
class NativeRequest:
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes


NativeHandler = Callable[[Context, NativeRequest], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """``handler`` answers ``method`` on a template such as
    ``/clarion/v1/apps/{application-id}/reports/sessions``."""

    method: str
    template: str
    handler: NativeHandler


class Routes:
    """A table of routes; two for the same method and path shape are an error at start, not a
    silent replacement."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.table: dict[tuple[str, tuple[str, ...]], NativeHandler] = {}
        shapes: set[tuple[str, tuple[str, ...]]] = set()
        for route in routes:
            template = tuple(route.template.strip("/").split("/"))
            shape = (route.method, tuple("{}" if s.startswith("{") else s for s in template))
            if shape in shapes:
                raise ValueError(f"two handlers for {route.method} {route.template}")
            shapes.add(shape)
            self.table[(route.method, template)] = route.handler

    def match(self, method: str, raw_path: str) -> tuple[NativeHandler, dict[str, str]]:
        segments = [unquote(s) for s in raw_path.strip("/").split("/")]
        allowed = []
        for (route_method, template), handler in self.table.items():
            params = _bind(template, segments)
            if params is None:
                continue
            if route_method == method:
                return handler, params
            allowed.append(route_method)
        if allowed:
            raise MethodNotAllowed(
                f"{method} is not allowed on {raw_path}; use {', '.join(allowed)}"
            )
        raise NotFound(f"No route for {method} {raw_path}")


def query_of(query_string: str) -> dict[str, str]:
    return dict(parse_qsl(query_string, keep_blank_values=True))


def _bind(template: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(template, segments, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            if not actual:
                return None
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params
