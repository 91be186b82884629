"""Where an event stream's records go, chosen from its DestinationStreamArn.

``Destinations.check`` refuses, with BadRequest, a destination this server cannot or may not
write to; PutEventStream calls it, and the exporter opens destinations through the same rules,
so a destination that became forbidden after it was stored is not written to either.

Supported:

- ``arn:aws:kinesis:REGION:ACCOUNT:stream/NAME``: Kinesis PutRecords, partition key = endpoint id.
- ``arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME``: Firehose PutRecordBatch, each record
  ending in a newline so the objects Firehose writes are JSON lines.
- ``https://…`` (``http://`` only inside the operator's allowed networks): one POST per batch,
  newline-delimited JSON (``Content-Type: application/x-ndjson``); a 2xx answer acknowledges the
  whole batch.
- ``file:///path/NAME.jsonl``: JSON lines appended to ``NAME.000001.jsonl``, ``NAME.000002.jsonl``,
  … (a new file once one passes the size limit), only in the app's own folder under the
  configured roots (``clarion.file_roots``).
- ``nats://HOST:PORT/SUBJECT`` (JetStream) and ``redis://HOST:PORT/DB?stream=NAME``, when their
  client libraries are installed; see ``nats_destination`` and ``redis_destination``.

Web, NATS and Redis hosts obey the outbound-address policy (``clarion.outbound``) when the
stream is put and again when a connection is opened; NATS and plain Redis connect to the very
address that was checked.

AWS credentials come from botocore's usual chain (environment, shared files, instance role); the
RoleArn of the stream is stored but not assumed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit, urlunsplit

import httpx
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.session import get_session

from clarion.errors import BadRequest
from clarion.file_roots import FileRoots
from clarion.numbers import INT64_MAX, integer
from clarion.outbound import OutboundPolicy, Refused
from clarion.streams.records import DeliveryError, Destination, Record

FILE_MAX_BYTES = 64 * 1024 * 1024
SUPPORTED = (
    "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME, "
    "arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME, "
    "https://..., http://... (loopback hosts), file:///PATH, "
    "nats://HOST:PORT/SUBJECT, redis://HOST:PORT/DB?stream=NAME"
)

_AWS_STREAM = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):(?P<service>kinesis|firehose):"
    r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+):(?P<account>\d{12}):"
    r"(?P<kind>stream|deliverystream)/(?P<name>[A-Za-z0-9_.-]+)$"
)
_AWS_KINDS = {"kinesis": ("stream", 128), "firehose": ("deliverystream", 64)}
_NATS_TOKEN = re.compile(r"^[^\s*>.]+$")


Opener = Callable[[], Destination]


class Destinations:
    """Turns a DestinationStreamArn into a Destination, within what this server allows."""

    def __init__(
        self,
        *,
        policy: OutboundPolicy,
        file_roots: FileRoots,
        aws_endpoint_url: str = "",
        file_max_bytes: int = FILE_MAX_BYTES,
    ) -> None:
        self.policy = policy
        self.aws_endpoint_url = aws_endpoint_url
        self.file_roots = file_roots
        self.file_max_bytes = file_max_bytes

    def check(self, target: str, app_id: str) -> None:
        """BadRequest, naming what is wrong, unless ``app_id``'s records can be sent to
        ``target``."""
        self._opener(target, app_id)

    def open(self, target: str, app_id: str) -> Destination:
        return self._opener(target, app_id)()

    def _opener(self, target: str, app_id: str) -> Opener:
        if target.startswith("arn:"):
            return self._aws(target)
        try:
            url = urlsplit(target)
            _ = url.port
        except ValueError as error:
            raise BadRequest(
                f"DestinationStreamArn {target!r} is not a valid URL: {error}"
            ) from None
        if url.scheme == "file":
            return self._file(url, app_id)
        openers: dict[str, Callable[[SplitResult], Opener]] = {
            "https": self._web,
            "http": self._web,
            "nats": self._nats,
            "redis": self._redis,
            "rediss": self._redis,
        }
        opener = openers.get(url.scheme)
        if opener is None:
            raise BadRequest(
                f"DestinationStreamArn {target!r} is not a supported destination; "
                f"use one of: {SUPPORTED}"
            )
        return opener(url)

    def _aws(self, target: str) -> Opener:
        match = _AWS_STREAM.match(target)
        if not match:
            raise BadRequest(
                f"DestinationStreamArn {target!r} is not a Kinesis stream ARN "
                "(arn:aws:kinesis:REGION:ACCOUNT:stream/NAME) or a Firehose delivery stream ARN "
                "(arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME)"
            )
        service, name, region = match["service"], match["name"], match["region"]
        kind, longest = _AWS_KINDS[service]
        if match["kind"] != kind:
            raise BadRequest(
                f"DestinationStreamArn {target!r}: a {service} ARN names a {kind}/NAME resource"
            )
        if len(name) > longest:
            raise BadRequest(
                f"DestinationStreamArn {target!r}: the {kind} name is {len(name)} characters "
                f"long; the maximum is {longest}"
            )
        endpoint_url = self.aws_endpoint_url
        if service == "kinesis":
            return lambda: KinesisDestination(name, region, endpoint_url)
        return lambda: FirehoseDestination(name, region, endpoint_url)

    def _web(self, url: SplitResult) -> Opener:
        target = url.geturl()
        self.policy.check_url(target, "DestinationStreamArn")
        policy = self.policy
        return lambda: WebDestination(target, policy)

    def _file(self, url: SplitResult, app_id: str) -> Opener:
        if Path(unquote(url.path)).name in ("", ".", ".."):
            raise BadRequest(
                f"DestinationStreamArn {url.geturl()!r} does not name a file by an absolute path"
            )
        resolved = self.file_roots.local_path(url, "DestinationStreamArn", app_id)
        if resolved.is_dir():
            raise BadRequest(f"DestinationStreamArn {url.geturl()!r} names a directory, not a file")
        max_bytes = self.file_max_bytes
        return lambda: FileDestination(resolved, max_bytes)

    def _nats(self, url: SplitResult) -> Opener:
        subject = unquote(url.path).removeprefix("/")
        if not url.hostname or not subject or url.query or url.fragment:
            raise BadRequest(
                f"DestinationStreamArn {url.geturl()!r}: write a NATS destination as "
                "nats://HOST:PORT/SUBJECT"
            )
        if not all(_NATS_TOKEN.match(token) for token in subject.split(".")):
            raise BadRequest(
                f"DestinationStreamArn {url.geturl()!r}: {subject!r} is not a NATS subject to "
                "publish to (dot-separated tokens, no spaces or wildcards)"
            )
        _require_library("nats", "nats-py", "nats://")
        from clarion.streams.nats_destination import NatsDestination

        self.policy.check_host(url.hostname, url.port or 4222, "DestinationStreamArn")
        pinned = self._pinned

        def connect() -> Destination:
            return NatsDestination(urlunsplit(("nats", pinned(url, 4222), "", "", "")), subject)

        return connect

    def _redis(self, url: SplitResult) -> Opener:
        query = parse_qs(url.query)
        streams, limits = query.pop("stream", []), query.pop("maxlen", [])
        if not url.hostname or len(streams) != 1 or not streams[0] or query or url.fragment:
            raise BadRequest(
                f"DestinationStreamArn {url.geturl()!r}: write a Redis destination as "
                "redis://HOST:PORT/DB?stream=NAME (optionally &maxlen=N)"
            )
        maxlen = integer(limits[0], 1, INT64_MAX) if len(limits) == 1 else None
        if len(limits) > 1 or (limits and maxlen is None):
            raise BadRequest(
                f"DestinationStreamArn {url.geturl()!r}: maxlen must be one positive integer"
            )
        _require_library("redis", "redis", "redis://")
        from clarion.streams.redis_destination import RedisDestination

        self.policy.check_host(url.hostname, url.port or 6379, "DestinationStreamArn")
        stream = streams[0]
        pinned = self._pinned

        def connect() -> Destination:
            checked = pinned(url, 6379)
            # TLS verifies the name, so rediss:// keeps it (checked just now).
            netloc = url.netloc if url.scheme == "rediss" else checked
            server = urlunsplit((url.scheme, netloc, url.path, "", ""))
            return RedisDestination(server, stream, maxlen)

        return connect

    def _pinned(self, url: SplitResult, default_port: int) -> str:
        """The URL's authority with its host replaced by the checked address it resolves to
        now (DeliveryError, so the exporter retries later, when the policy refuses it)."""
        port = url.port or default_port
        try:
            address = self.policy.resolve(url.hostname or "", port)[0]
        except Refused as refusal:
            raise DeliveryError(f"{url.scheme}://{url.hostname}: {refusal}") from None
        host = f"[{address}]" if address.version == 6 else str(address)
        credentials = url.netloc.rpartition("@")[0]
        return f"{credentials}@{host}:{port}" if credentials else f"{host}:{port}"


def _require_library(module: str, package: str, scheme: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise BadRequest(
            f"{scheme} destinations need the Python package {package}, which this server "
            "does not have installed"
        )


def _batches(records: Sequence[Record], most: int, max_bytes: int) -> Iterator[list[Record]]:
    """Consecutive runs of at most ``most`` records and ``max_bytes`` of data and keys."""
    batch: list[Record] = []
    size = 0
    for record in records:
        weight = len(record.data) + len(record.key.encode())
        if batch and (len(batch) == most or size + weight > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += weight
    if batch:
        yield batch


class _AwsBatchDestination(ABC):
    """PutRecords / PutRecordBatch: partly failed batches are retried for the failed records
    only, a few times, before the batch counts as not delivered."""

    service = ""
    most = 500
    max_bytes = 4 * 1024 * 1024
    attempts = 3
    pause = 0.2

    def __init__(self, name: str, region: str, endpoint_url: str) -> None:
        self.name = name
        self.client: Any = get_session().create_client(
            self.service,
            region_name=region,
            endpoint_url=endpoint_url or None,
            config=Config(
                connect_timeout=5, read_timeout=30, retries={"max_attempts": 1, "mode": "standard"}
            ),
        )

    def send(self, records: Sequence[Record]) -> None:
        for batch in _batches(records, self.most, self.max_bytes):
            self._send_batch(batch)

    def close(self) -> None:
        self.client.close()

    def _send_batch(self, batch: list[Record]) -> None:
        pending, error = batch, ""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.pause * 2 ** (attempt - 1))
            try:
                results = self._put(pending)
            except (BotoCoreError, ClientError) as failure:
                raise DeliveryError(f"{self.service} {self.name}: {failure}") from failure
            failed = [
                (record, result)
                for record, result in zip(pending, results, strict=True)
                if result.get("ErrorCode")
            ]
            if not failed:
                return
            pending = [record for record, _ in failed]
            error = f"{failed[0][1]['ErrorCode']}: {failed[0][1].get('ErrorMessage', '')}"
        raise DeliveryError(
            f"{self.service} {self.name} refused {len(pending)} of {len(batch)} records "
            f"after {self.attempts} attempts; first error {error}"
        )

    @abstractmethod
    def _put(self, records: list[Record]) -> list[dict[str, Any]]:
        """One request; the per-record results, in order."""


class KinesisDestination(_AwsBatchDestination):
    service = "kinesis"
    max_bytes = 5 * 1024 * 1024

    def _put(self, records: list[Record]) -> list[dict[str, Any]]:
        response = self.client.put_records(
            StreamName=self.name,
            Records=[{"Data": record.data, "PartitionKey": record.key} for record in records],
        )
        results: list[dict[str, Any]] = response["Records"]
        return results


class FirehoseDestination(_AwsBatchDestination):
    service = "firehose"

    def _put(self, records: list[Record]) -> list[dict[str, Any]]:
        response = self.client.put_record_batch(
            DeliveryStreamName=self.name,
            Records=[{"Data": record.data + b"\n"} for record in records],
        )
        results: list[dict[str, Any]] = response["RequestResponses"]
        return results


class WebDestination:
    """POSTs a batch as newline-delimited JSON; connection errors, 429 and 5xx are retried a few
    times with backoff, any other non-2xx answer fails the batch at once."""

    attempts = 3
    pause = 0.2

    def __init__(self, url: str, policy: OutboundPolicy) -> None:
        self.url = url
        self.client = policy.http_client(timeout=httpx.Timeout(30, connect=5))

    def send(self, records: Sequence[Record]) -> None:
        body = b"".join(record.data + b"\n" for record in records)
        error = ""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.pause * 2 ** (attempt - 1))
            try:
                response = self.client.post(
                    self.url, content=body, headers={"Content-Type": "application/x-ndjson"}
                )
            except httpx.TransportError as failure:
                error = f"{type(failure).__name__}: {failure}"
                continue
            if response.is_success:
                return
            error = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                break
        raise DeliveryError(f"POST {_without_credentials(self.url)} failed: {error}")

    def close(self) -> None:
        self.client.close()


class FileDestination:
    """Appends JSON lines, flushed to disk before a batch counts as delivered.

    A line cut short by a crash is closed with a newline before the next write, so the batch
    written again after it stays whole. Files are never renamed or deleted; keeping them in
    check is the operator's business.
    """

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.directory = path.parent
        self.stem, self.suffix = path.stem, path.suffix
        self.max_bytes = max_bytes
        self.number = self._last_number() or 1

    def segment(self, number: int) -> Path:
        return self.directory / f"{self.stem}.{number:06d}{self.suffix}"

    def send(self, records: Sequence[Record]) -> None:
        lines = [record.data + b"\n" for record in records]
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            while lines:
                written = self._append(lines)
                lines = lines[written:]
                if lines:
                    self.number += 1
        except OSError as failure:
            raise DeliveryError(f"writing {self.segment(self.number)}: {failure}") from failure

    def close(self) -> None:
        """Nothing stays open between batches."""

    def _append(self, lines: list[bytes]) -> int:
        """Append as many lines as fit in the current file (at least one if it is empty)."""
        with open(self.segment(self.number), "a+b", opener=_open_no_follow) as out:
            size = out.seek(0, os.SEEK_END)
            if size:
                out.seek(size - 1)
                if out.read(1) != b"\n":
                    out.write(b"\n")
                    size += 1
            count = 0
            for line in lines:
                if (size or count) and size + len(line) > self.max_bytes:
                    break
                size += len(line)
                count += 1
            out.write(b"".join(lines[:count]))
            out.flush()
            os.fsync(out.fileno())
        return count

    def _last_number(self) -> int:
        pattern = re.compile(re.escape(self.stem) + r"\.(\d{6})" + re.escape(self.suffix) + "$")
        if not self.directory.is_dir():
            return 0
        found = (pattern.match(entry.name) for entry in self.directory.iterdir())
        return max((int(match[1]) for match in found if match), default=0)


def _open_no_follow(path: str, flags: int) -> int:
    """A segment that is a symbolic link is refused rather than followed out of the roots."""
    return os.open(path, flags | os.O_NOFOLLOW, 0o644)


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
