"""The ASGI application: Pinpoint's API at the root, plus Clarion's own health check."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio.to_thread
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from clarion.api import native
from clarion.api.handlers import native_routes, operations
from clarion.api.pipeline import Pipeline
from clarion.api.protocol import Protocol
from clarion.core import Clarion
from clarion.errors import PayloadTooLarge
from clarion.messaging.tracking import CLICK_PATH, OPEN_PATH, PIXEL


class PinpointEndpoint:
    """Reads the request off the wire and hands it whole to the pipeline.

    On SQLite the small, hot operations (``handlers.INLINE``: endpoints, PutEvents) run on the
    event loop: their queries take microseconds, and handing each to a thread costs more than
    the request (the GIL hand-off between the loop and a worker adds milliseconds under load).
    Everything else — rendering, segment estimates, reports, sending — runs on worker threads,
    so one heavy request cannot keep /healthz or anyone else waiting. On PostgreSQL, where
    queries wait on the network, every request runs on a worker thread.
    """

    def __init__(
        self, pipeline: Pipeline, max_body_bytes: int, *, inline: bool, connections: int
    ) -> None:
        self.pipeline = pipeline
        self.max_body_bytes = max_body_bytes
        self.inline = inline
        self.threads = anyio.CapacityLimiter(max(1, connections // 2))
        """A request may hold a read and a write connection at once: with at most half the
        pool's connections in requests, all of them can always get both, so a burst of writes
        waits its turn instead of starving the pool and failing after the pool timeout."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        raw_path = scope.get("raw_path") or scope["path"].encode()
        try:
            body = await self._read_body(receive, headers)
        except PayloadTooLarge as error:
            response = self.pipeline.protocol.serialize_error(error, "-")
        else:
            request = (
                scope["method"],
                raw_path.decode("latin-1").partition("?")[0],
                scope["query_string"].decode("latin-1"),
                headers,
                body,
            )
            if self.inline and self.pipeline.may_run_inline(request[0], request[1]):
                response = self.pipeline.handle(*request)
            else:
                response = await anyio.to_thread.run_sync(
                    self.pipeline.handle, *request, limiter=self.threads
                )
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    *((k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers),
                    (b"content-length", str(len(response.body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def _read_body(self, receive: Receive, headers: list[tuple[str, str]]) -> bytes:
        declared = next((v for k, v in headers if k == "content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"Request body is larger than {self.max_body_bytes} bytes")


def build_app(clarion: Clarion) -> Starlette:
    """The whole HTTP surface of one Clarion process. The caller has run migrations."""
    pipeline = Pipeline(clarion, Protocol(), operations(), native.Routes(native_routes()))

    async def healthz(_request: Request) -> Response:
        def check() -> None:
            with clarion.db.read() as conn:
                conn.execute(sa.text("SELECT 1"))

        try:
            await anyio.to_thread.run_sync(check)
        except sa.exc.SQLAlchemyError:
            return JSONResponse({"status": "unavailable", "store": "unreachable"}, 503)
        return JSONResponse({"status": "ok"})

    async def opened(request: Request) -> Response:
        """The tracking pixel of an e-mail: record the open, answer a transparent GIF."""
        await anyio.to_thread.run_sync(clarion.engagement.opened, request.path_params["token"])
        return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})

    async def clicked(request: Request) -> Response:
        """A tracked link: record the click and send the reader on to where it led."""
        target = await anyio.to_thread.run_sync(
            clarion.engagement.clicked, request.path_params["token"]
        )
        if target is None:
            return Response("Unknown link", status_code=404, media_type="text/plain")
        return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store"})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        clarion.release_leases()
        clarion.exporter.start()
        clarion.job_worker.start()
        clarion.dispatcher.start()
        clarion.retries.start()
        clarion.campaign_loop.start()
        clarion.journey_loop.start()
        yield
        clarion.journey_loop.stop()
        clarion.campaign_loop.stop()
        clarion.retries.stop()
        clarion.dispatcher.stop()
        clarion.job_worker.stop()
        clarion.exporter.stop()
        clarion.close()

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route(OPEN_PATH + "{token}", opened, methods=["GET"]),
            Route(CLICK_PATH + "{token}", clicked, methods=["GET"]),
            Mount(
                "/",
                app=PinpointEndpoint(
                    pipeline,
                    clarion.settings.max_body_bytes,
                    inline=clarion.db.dialect == "sqlite",
                    connections=clarion.db.max_connections,
                ),
            ),
        ],
        lifespan=lifespan,
    )
