"""One Pinpoint request, start to finish: verify the signature, route, parse, check scope,
call the handler, serialise. Synchronous, so it runs whole on a worker thread."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from clarion.api import native, sigv4
from clarion.api.context import Context
from clarion.api.handlers import Operation
from clarion.api.protocol import HttpResponse, Protocol
from clarion.core import Clarion
from clarion.errors import (
    ClarionError,
    Forbidden,
    InternalServerError,
    NotFound,
    NotImplementedYet,
)
from clarion.keys import ActiveKey

log = logging.getLogger("clarion.api")


ACCOUNT_WIDE_WRITES = frozenset(
    [
        *(
            f"{verb}{family}Template"
            for verb in ("Create", "Update", "Delete")
            for family in ("Email", "Sms", "Push", "Voice", "InApp")
        ),
        "UpdateTemplateActiveVersion",
        "CreateRecommenderConfiguration",
        "UpdateRecommenderConfiguration",
        "DeleteRecommenderConfiguration",
    ]
)
"""Templates and recommenders belong to the account, as in Pinpoint, and campaigns of any app
may use them: a key limited to apps may read and use them, never change them."""


class Pipeline:
    def __init__(
        self,
        clarion: Clarion,
        protocol: Protocol,
        operations: Mapping[str, Operation],
        routes: native.Routes,
    ) -> None:
        self.clarion = clarion
        self.protocol = protocol
        self.operations = operations
        self.routes = routes

    def may_run_inline(self, method: str, raw_path: str) -> bool:
        """Whether the request's work is small enough for the event loop (``Operation.inline``);
        native routes (reports, estimates) never are."""
        if raw_path.startswith(native.PREFIX):
            return False
        try:
            found = self.operations.get(self.protocol.route(method, raw_path).operation)
        except ClarionError:
            return True
        return found is not None and found.inline

    def handle(
        self,
        method: str,
        raw_path: str,
        query_string: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
    ) -> HttpResponse:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        facts: dict[str, Any] = {"request_id": request_id, "method": method, "path": raw_path}
        try:
            with self.clarion.db.read():
                response = self._answer(
                    request_id, method, raw_path, query_string, headers, body, facts
                )
        except ClarionError as error:
            facts["error"] = error.code
            response = self.protocol.serialize_error(error, request_id)
        except Exception:
            log.exception("unhandled error", extra={"facts": facts})
            response = self.protocol.serialize_error(
                InternalServerError("Internal server error"), request_id
            )
        facts["status"] = response.status
        facts["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        log.info("request", extra={"facts": facts})
        return response

    def _answer(
        self,
        request_id: str,
        method: str,
        raw_path: str,
        query_string: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        facts: dict[str, Any],
    ) -> HttpResponse:
        key = self._authenticate(method, raw_path, query_string, headers, body, facts)
        if raw_path.startswith(native.PREFIX):
            return self._answer_native(request_id, key, method, raw_path, query_string, body, facts)
        route = self.protocol.route(method, raw_path)
        facts["operation"] = route.operation
        found = self.operations.get(route.operation)
        if found is None:
            raise NotImplementedYet(f"{route.operation} is not implemented in Clarion yet")
        params = self.protocol.parse(route, query_string, dict(headers), body)
        ctx = Context(self.clarion, request_id, facts["access_key_id"], key.app_ids, len(body))
        app_id = params.get("ApplicationId")
        if app_id is not None:
            self._check_app(ctx, app_id)
        if route.operation in ACCOUNT_WIDE_WRITES and ctx.app_scope is not None:
            raise Forbidden(
                f"{route.operation} changes a resource every app of the account shares; "
                "only an access key not limited to apps may do that"
            )
        output = found.handler(ctx, params)
        response = self.protocol.serialize(route.operation, output)
        response.headers.append(("x-amzn-RequestId", request_id))
        return response

    def _answer_native(
        self,
        request_id: str,
        key: ActiveKey,
        method: str,
        raw_path: str,
        query_string: str,
        body: bytes,
        facts: dict[str, Any],
    ) -> HttpResponse:
        handler, params = self.routes.match(method, raw_path)
        facts["operation"] = handler.__name__
        ctx = Context(self.clarion, request_id, facts["access_key_id"], key.app_ids, len(body))
        if "application-id" in params:
            self._check_app(ctx, params["application-id"])
        output = handler(ctx, native.NativeRequest(params, native.query_of(query_string), body))
        return HttpResponse(
            200,
            [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)],
            orjson.dumps(output),
        )

    def _authenticate(
        self,
        method: str,
        raw_path: str,
        query_string: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        facts: dict[str, Any],
    ) -> ActiveKey:
        found: dict[str, ActiveKey] = {}

        def lookup(access_key_id: str) -> str | None:
            key = self.clarion.keys.active(access_key_id)
            if key is None:
                return None
            found[access_key_id] = key
            return key.secret

        request = sigv4.SignedRequest(method, raw_path, query_string, headers, body)
        credential = sigv4.verify(request, lookup, now=self.clarion.clock())
        facts["access_key_id"] = credential.access_key_id
        return found[credential.access_key_id]

    def _check_app(self, ctx: Context, app_id: str) -> None:
        """Scope before existence, so a limited key learns nothing about other apps."""
        if not ctx.may_see(app_id):
            raise Forbidden(f"This access key may not act on app {app_id}")
        if not self.clarion.apps.exists(app_id):
            raise NotFound(f"Application not found: {app_id}")
