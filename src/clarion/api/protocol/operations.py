"""The rest-json protocol for every operation in a botocore service model.

Everything the model says about an operation (route, where each input member travels, which
member is the body, response status) is compiled once into plans; ``parse`` and ``serialize``
then only walk the request and response data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import botocore.loaders
import botocore.model
import orjson

from clarion.api.protocol.routing import Route, Router
from clarion.api.protocol.scalars import InvalidValue, ValueSpec, json_type_name
from clarion.api.protocol.shapes import ListSpec, Member, ShapeCompiler, StructureSpec
from clarion.errors import BadRequest, ClarionError

JSON_CONTENT_TYPE = ("Content-Type", "application/json")


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@functools.cache
def load_pinpoint_model() -> botocore.model.ServiceModel:
    """The bundled Pinpoint model; loading it is slow, so it is read once per process."""
    loader = botocore.loaders.create_loader()
    raw = loader.load_service_model("pinpoint", "service-2", api_version="2016-12-01")
    return botocore.model.ServiceModel(raw, service_name="pinpoint")


@dataclass(frozen=True, slots=True)
class _InputPlan:
    uri: tuple[Member, ...]
    query: tuple[Member, ...]
    headers: tuple[Member, ...]
    payload: Member | None
    body: StructureSpec | None
    """The members read from a JSON object body when there is no payload member."""
    required: StructureSpec
    """Only used for its top-level required-member check."""


@dataclass(frozen=True, slots=True)
class _OutputPlan:
    status: int
    headers: tuple[Member, ...]
    payload: Member | None
    body: StructureSpec | None


@dataclass(frozen=True, slots=True)
class _OperationPlan:
    method: str
    uri_template: str
    input: _InputPlan | None
    output: _OutputPlan


class Protocol:
    """Routes, parses and serialises requests for one rest-json service model."""

    def __init__(self, service_model: botocore.model.ServiceModel | None = None) -> None:
        model = service_model if service_model is not None else load_pinpoint_model()
        if model.protocol != "rest-json":
            raise ValueError(f"only rest-json models are supported, not {model.protocol}")
        compiler = ShapeCompiler()
        self._router = Router()
        self._plans: dict[str, _OperationPlan] = {}
        for name in model.operation_names:
            operation = model.operation_model(name)
            http = operation.http
            method = http.get("method", "POST")
            self._router.add(method, http["requestUri"], name)
            self._plans[name] = _OperationPlan(
                method=method,
                uri_template=http["requestUri"],
                input=_plan_input(compiler, operation.input_shape),
                output=_plan_output(compiler, operation.output_shape, http),
            )

    @property
    def operation_names(self) -> list[str]:
        return list(self._plans)

    def http_of(self, operation: str) -> tuple[str, str]:
        """The operation's HTTP method and URI template, for documentation and tooling."""
        plan = self._plans[operation]
        return plan.method, plan.uri_template

    def route(self, method: str, raw_path: str) -> Route:
        """Find the operation for a request; raises NotFound or MethodNotAllowed."""
        return self._router.route(method, raw_path)

    def parse(
        self, route: Route, query_string: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        """Build the operation's validated input, keyed by member name; raises BadRequest."""
        plan = self._plans[route.operation].input
        if plan is None:
            return {}
        params: dict[str, Any] = {}
        try:
            _read_strings(plan.uri, route.path_params, params)
            if plan.query:
                _read_query(plan.query, query_string, params)
            if plan.headers:
                lowered = {name.lower(): value for name, value in headers.items()}
                _read_strings(plan.headers, lowered, params)
            _read_body(plan, body, params)
            plan.required.check_required(params)
        except InvalidValue as error:
            raise BadRequest(error.describe()) from None
        return params

    def serialize(self, operation: str, output: Mapping[str, Any]) -> HttpResponse:
        """Render handler output as the operation's success response."""
        plan = self._plans[operation].output
        body = _write_body(plan, output)
        headers = [JSON_CONTENT_TYPE] if body else []
        for member in plan.headers:
            value = output.get(member.name)
            if value is not None:
                headers.append((member.wire_name, member.spec.write_text(value)))
        return HttpResponse(plan.status, headers, body)

    def serialize_error(self, error: ClarionError, request_id: str) -> HttpResponse:
        """Render an error the way Pinpoint does, so SDKs surface its code and message."""
        headers = [
            JSON_CONTENT_TYPE,
            ("x-amzn-ErrorType", error.code),
            ("x-amzn-RequestId", request_id),
        ]
        body = orjson.dumps({"Message": error.message, "RequestID": request_id})
        return HttpResponse(error.status, headers, body)


def _located(members: list[Member], location: str) -> tuple[Member, ...]:
    return tuple(member for member in members if member.location == location)


def _check_locations(members: list[Member], supported: set[str | None]) -> None:
    for member in members:
        if member.location not in supported:
            raise ValueError(f"member {member.name} has unsupported location {member.location}")


def _plan_input(compiler: ShapeCompiler, shape: Any) -> _InputPlan | None:
    if shape is None:
        return None
    members = compiler.members_of(shape)
    _check_locations(members, {None, "uri", "querystring", "header"})
    payload_name = shape.serialization.get("payload")
    required = StructureSpec()
    required.define(members, shape.required_members)
    return _InputPlan(
        uri=_located(members, "uri"),
        query=_located(members, "querystring"),
        headers=tuple(
            Member(m.name, m.spec, m.location, m.wire_name.lower())
            for m in _located(members, "header")
        ),
        payload=required.by_name[payload_name] if payload_name else None,
        body=None if payload_name else _body_structure(members),
        required=required,
    )


def _plan_output(compiler: ShapeCompiler, shape: Any, http: Mapping[str, Any]) -> _OutputPlan:
    status = int(http.get("responseCode", 200))
    if shape is None:
        return _OutputPlan(status, (), None, None)
    members = compiler.members_of(shape)
    _check_locations(members, {None, "header"})
    payload_name = shape.serialization.get("payload")
    return _OutputPlan(
        status=status,
        headers=_located(members, "header"),
        payload=next(m for m in members if m.name == payload_name) if payload_name else None,
        body=None if payload_name else _body_structure(members),
    )


def _body_structure(members: list[Member]) -> StructureSpec | None:
    body_members = [member for member in members if member.location is None]
    if not body_members:
        return None
    body = StructureSpec()
    body.define(body_members, ())
    return body


def _read_strings(
    members: tuple[Member, ...], values: Mapping[str, str], params: dict[str, Any]
) -> None:
    for member in members:
        text = values.get(member.wire_name)
        if text is not None:
            params[member.name] = _read_member(member.spec.read_text, text, member)


def _read_query(members: tuple[Member, ...], query_string: str, params: dict[str, Any]) -> None:
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, errors="strict")
    except ValueError:
        raise BadRequest("The query string is not valid percent-encoded UTF-8") from None
    collected: dict[str, list[str]] = {}
    for key, value in pairs:
        collected.setdefault(key, []).append(value)
    for member in members:
        texts = collected.get(member.wire_name)
        if texts is None:
            continue
        spec = member.spec
        if isinstance(spec, ListSpec):
            params[member.name] = _read_member(spec.read_texts, texts, member)
        else:
            params[member.name] = _read_member(spec.read_text, texts[0], member)


def _read_member(reader: Callable[[Any], Any], value: Any, member: Member) -> Any:
    try:
        return reader(value)
    except InvalidValue as error:
        raise error.at(member.name) from None


def _read_body(plan: _InputPlan, body: bytes, params: dict[str, Any]) -> None:
    if plan.payload is not None:
        _read_payload(plan.payload, body, params)
    elif plan.body is not None:
        document = _load_json_object(body)
        if document is not None:
            params.update(plan.body.read_json(document))


def _read_payload(payload: Member, body: bytes, params: dict[str, Any]) -> None:
    spec = payload.spec
    if spec.type_label == "blob":
        if body:
            params[payload.name] = bytes(body)
    elif spec.type_label == "string":
        if body:
            params[payload.name] = _read_member(_decode_text, body, payload)
    else:
        document = _load_json_object(body)
        if document is not None:
            params[payload.name] = _read_member(spec.read_json, document, payload)


def _decode_text(body: bytes) -> str:
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidValue("Invalid value for parameter", "body is not valid UTF-8") from None


def _load_json_object(body: bytes) -> dict[str, Any] | None:
    """Parse a JSON object body; a blank body or ``null`` means no body."""
    if not body or body.isspace():
        return None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"The request body is not valid JSON: {error}") from None
    if document is None:
        return None
    if not isinstance(document, dict):
        raise BadRequest(f"The request body must be a JSON object, not {json_type_name(document)}")
    return document


def _write_body(plan: _OutputPlan, output: Mapping[str, Any]) -> bytes:
    if plan.payload is not None:
        return _write_payload(plan.payload.spec, output.get(plan.payload.name))
    if plan.body is not None:
        document = plan.body.write(output)
        return orjson.dumps(document) if document else b""
    return b""


def _write_payload(spec: ValueSpec, value: Any) -> bytes:
    if value is None:
        return b""
    if spec.type_label == "blob":
        return bytes(value)
    if spec.type_label == "string":
        return str(value).encode("utf-8")
    return orjson.dumps(spec.write(value))
