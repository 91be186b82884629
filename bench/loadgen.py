"""A small HTTP/1.1 load generator: keep-alive connections replaying pre-built requests.

It does no parsing beyond the status line and Content-Length, so nearly all of its core is
left for the server being measured.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field


@dataclass
class Result:
    label: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    failures: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.label:<34} {self.rate:>9.0f} req/s   p50 {self.percentile(50):6.2f} ms   "
            f"p99 {self.percentile(99):6.2f} ms   "
            f"mean {statistics.fmean(self.latencies or [math.nan]) * 1000:6.2f} ms   "
            f"failures {self.failures}"
        )


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    host: str,
    port: int,
    requests: Iterator[bytes],
    stop_at: float,
    record: bool,
    result: Result,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            request = next(requests, None)
            if request is None:
                return
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            if not record:
                continue
            if 200 <= status < 300:
                result.latencies.append(time.perf_counter() - started)
            else:
                result.failures += 1
    finally:
        writer.close()


async def _run(
    host: str,
    port: int,
    requests: Iterator[bytes],
    concurrency: int,
    seconds: float,
    record: bool,
    label: str,
) -> Result:
    result = Result(label, seconds)
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(_connection(host, port, requests, stop_at, record, result) for _ in range(concurrency))
    )
    result.seconds = time.perf_counter() - started
    return result


def hammer(
    label: str,
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    concurrency: int = 16,
    seconds: float = 5.0,
    warmup: float = 1.0,
    repeat: bool = True,
) -> Result:
    """Send raw HTTP/1.1 ``requests`` on ``concurrency`` connections for ``seconds`` (after a
    warm-up); with ``repeat`` they cycle, otherwise each is sent once and the run ends early
    when they run out."""
    stream: Iterator[bytes] = itertools.cycle(requests) if repeat else iter(requests)
    asyncio.run(_run(host, port, stream, concurrency, warmup, False, label))
    return asyncio.run(_run(host, port, stream, concurrency, seconds, True, label))
