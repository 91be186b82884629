"""The lookup data one recipient's message renders from: endpoint, defaults and substitutions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson

from clarion.templates.handlebars.limits import TemplateError
from clarion.templates.handlebars.runtime import as_keys, dig
from clarion.templates.handlebars.values import blank

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
        if blank(dig(values, as_keys(path))):
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
