"""Container shapes (list, map, structure) and the compiler that builds specs from a model.

Each botocore shape is compiled once into a spec; per request the work is a walk over the
data itself. Error paths are assembled only when validation fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from clarion.api.protocol.scalars import (
    BlobSpec,
    BooleanSpec,
    FloatSpec,
    IntegerSpec,
    InvalidValue,
    StringSpec,
    TimestampSpec,
    ValueSpec,
    check_bounds,
)


class ListSpec(ValueSpec):
    type_label = "list"

    def __init__(self, member: ValueSpec, minimum: int | None, maximum: int | None) -> None:
        self.member = member
        self.minimum = minimum
        self.maximum = maximum

    def read_json(self, value: object) -> list[Any]:
        if not isinstance(value, list):
            raise InvalidValue.wrong_type("list", value)
        self._check_size(len(value))
        items = []
        for index, item in enumerate(value):
            try:
                if item is None:
                    raise InvalidValue.wrong_type(self.member.type_label, item)
                items.append(self.member.read_json(item))
            except InvalidValue as error:
                raise error.at(f"[{index}]") from None
        return items

    def read_texts(self, texts: list[str]) -> list[Any]:
        """Read a list sent as repeated query parameters."""
        self._check_size(len(texts))
        items = []
        for index, text in enumerate(texts):
            try:
                items.append(self.member.read_text(text))
            except InvalidValue as error:
                raise error.at(f"[{index}]") from None
        return items

    def _check_size(self, size: int) -> None:
        if self.minimum is not None or self.maximum is not None:
            check_bounds(size, self.minimum, self.maximum, "length")

    def write(self, value: Any) -> list[Any]:
        if self.member.passthrough:
            return [item for item in value if item is not None]
        return [self.member.write(item) for item in value if item is not None]

    def write_text(self, value: Any) -> str:
        return ",".join(self.member.write_text(item) for item in value if item is not None)


class MapSpec(ValueSpec):
    type_label = "map"

    def __init__(
        self, key: ValueSpec, value: ValueSpec, minimum: int | None, maximum: int | None
    ) -> None:
        self.key = key
        self.value = value
        self.minimum = minimum
        self.maximum = maximum

    def read_json(self, value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise InvalidValue.wrong_type("map", value)
        if self.minimum is not None or self.maximum is not None:
            check_bounds(len(value), self.minimum, self.maximum, "size")
        entries = {}
        for key, item in value.items():
            if item is None:
                continue
            try:
                entries[self.key.read_json(key)] = self.value.read_json(item)
            except InvalidValue as error:
                raise error.at(f".{key}") from None
        return entries

    def write(self, value: Any) -> dict[str, Any]:
        if self.value.passthrough:
            return {key: item for key, item in value.items() if item is not None}
        return {key: self.value.write(item) for key, item in value.items() if item is not None}


@dataclass(frozen=True, slots=True)
class Member:
    """A structure member: its Python name, where it travels, and its value spec."""

    name: str
    spec: ValueSpec
    location: str | None
    wire_name: str
    """JSON key, path label, query parameter or header name."""


class StructureSpec(ValueSpec):
    """A structure; members are attached after creation so recursive shapes can refer back."""

    type_label = "structure"

    def __init__(self) -> None:
        self.by_wire_name: dict[str, Member] = {}
        self.by_name: dict[str, Member] = {}
        self.required: tuple[str, ...] = ()

    def define(self, members: Iterable[Member], required: Iterable[str]) -> None:
        for member in members:
            self.by_wire_name[member.wire_name] = member
            self.by_name[member.name] = member
        self.required = tuple(name for name in required if name in self.by_name)

    def read_json(self, value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise InvalidValue.wrong_type("structure", value)
        result = {}
        for key, item in value.items():
            member = self.by_wire_name.get(key)
            if member is None or item is None:
                continue
            try:
                result[member.name] = member.spec.read_json(item)
            except InvalidValue as error:
                raise error.at(f".{member.name}") from None
        self.check_required(result)
        return result

    def check_required(self, result: Mapping[str, Any]) -> None:
        for name in self.required:
            if name not in result:
                raise InvalidValue.missing().at(f".{name}")

    def write(self, value: Any) -> dict[str, Any]:
        document = {}
        for name, item in value.items():
            member = self.by_name.get(name)
            if member is None or item is None:
                continue
            spec = member.spec
            document[member.wire_name] = item if spec.passthrough else spec.write(item)
        return document


class ShapeCompiler:
    """Turns botocore shapes into specs, sharing one spec per shape."""

    def __init__(self) -> None:
        self._specs: dict[tuple[str, str | None], ValueSpec] = {}

    def compile(self, shape: Any) -> ValueSpec:
        key = (shape.name, shape.serialization.get("timestampFormat"))
        spec = self._specs.get(key)
        if spec is None:
            if shape.type_name == "structure":
                structure = StructureSpec()
                self._specs[key] = structure
                structure.define(self.members_of(shape), shape.required_members)
                return structure
            spec = self._create(shape)
            self._specs[key] = spec
        return spec

    def members_of(self, shape: Any) -> list[Member]:
        return [self.member(name, member) for name, member in shape.members.items()]

    def member(self, name: str, shape: Any) -> Member:
        serialization = shape.serialization
        wire_name = serialization.get("name", name)
        return Member(name, self.compile(shape), serialization.get("location"), wire_name)

    def _create(self, shape: Any) -> ValueSpec:
        kind = shape.type_name
        minimum = shape.metadata.get("min")
        maximum = shape.metadata.get("max")
        if kind == "string":
            return StringSpec(shape.enum, minimum, maximum)
        if kind in ("integer", "long", "short", "byte"):
            bits = {"integer": 32, "long": 64, "short": 16, "byte": 8}[kind]
            return IntegerSpec(kind, bits, minimum, maximum)
        if kind in ("double", "float"):
            return FloatSpec(kind, minimum, maximum)
        if kind == "boolean":
            return BooleanSpec()
        if kind == "timestamp":
            return TimestampSpec(shape.serialization.get("timestampFormat"))
        if kind == "blob":
            return BlobSpec()
        if kind == "list":
            return ListSpec(self.compile(shape.member), minimum, maximum)
        if kind == "map":
            return MapSpec(self.compile(shape.key), self.compile(shape.value), minimum, maximum)
        raise ValueError(f"shape {shape.name} has unsupported type {kind}")
