"""Redis Streams destination: ``redis://HOST:PORT/DB?stream=NAME`` (``rediss://`` for TLS).

Each record is one XADD entry with the fields ``data`` (the JSON record) and ``key`` (the
endpoint id); a batch is one MULTI/EXEC, so it lands whole or not at all. ``maxlen=N`` in the
URL trims the stream to about N entries (``MAXLEN ~``).
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from redis.typing import EncodableT, FieldT

from clarion.streams.records import DeliveryError, Record


class RedisDestination:
    def __init__(self, url: str, stream: str, maxlen: int | None, timeout: float = 10.0) -> None:
        self.stream = stream
        self.maxlen = maxlen
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def send(self, records: Sequence[Record]) -> None:
        try:
            with self.client.pipeline(transaction=True) as pipe:
                for record in records:
                    fields: dict[FieldT, EncodableT] = {"data": record.data, "key": record.key}
                    pipe.xadd(self.stream, fields, maxlen=self.maxlen, approximate=True)
                pipe.execute()
        except redis.RedisError as failure:
            raise DeliveryError(f"Redis XADD to {self.stream}: {failure}") from failure

    def close(self) -> None:
        self.client.close()
