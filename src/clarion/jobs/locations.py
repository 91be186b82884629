"""Where import jobs read and export jobs write: S3, the web, and local directories.

A location is checked twice: its form when the job is created (BadRequest names what is
wrong), and again when the job runs (LocationError fails the job), because what a URL points
at can change in between. ``file://`` is allowed only under the configured roots
(CLARION_FILE_ROOTS), after links are resolved; plain ``http://`` only to loopback hosts.
AWS credentials come from botocore's usual chain; the RoleArn of a job is stored, not assumed.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

import httpx
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.session import get_session

from clarion.errors import BadRequest
from clarion.jobs.formats import Readable
from clarion.urls import is_loopback, within_roots


class LocationError(Exception):
    """A location that passed the checks at creation cannot be read or written now."""


@dataclass(frozen=True)
class Source:
    """One file of an import: a local file, an S3 object or a web resource."""

    url: str
    open: Callable[[], AbstractContextManager[Readable]]


class Sink:
    """Where an export writes its files, each whole or not at all."""

    def __init__(self, put: Callable[[str, bytes], None], describe: Callable[[str], str]) -> None:
        self._put = put
        self.url_of = describe

    def put(self, name: str, data: bytes) -> None:
        self._put(name, data)


class Locations:
    def __init__(
        self, *, file_roots: Sequence[Path] = (), aws_endpoint_url: str = "", region: str
    ) -> None:
        self.file_roots = tuple(Path(root).resolve() for root in file_roots)
        self.aws_endpoint_url = aws_endpoint_url
        self.region = region

    # --- checks at creation -------------------------------------------------------------

    def check_source(self, url: str, member: str) -> None:
        self._parsed(url, member, ("s3", "https", "http", "file"))

    def check_sink(self, url: str, member: str) -> None:
        parsed = self._parsed(url, member, ("s3", "file"))
        if parsed.scheme == "file":
            path = self._local(parsed, member)
            if path.exists() and not path.is_dir():
                raise BadRequest(f"{member} {url!r} names a file; exports write into a directory")

    # --- reading ------------------------------------------------------------------------

    def sources(self, url: str, *, trusted: bool = False) -> list[Source]:
        """The files an import reads, in a stable order: an S3 prefix or a local directory
        stands for every file under it. ``trusted`` lifts the roots rule for the CLI, whose
        user reads their own files."""
        parsed = urlsplit(url)
        if parsed.scheme == "s3":
            return self._s3_sources(parsed)
        if parsed.scheme in ("https", "http"):
            return [Source(url, lambda: _web(url))]
        path = Path(unquote(parsed.path)) if trusted else self._local(parsed, "S3Url")
        return self._local_sources(path, trusted)

    def _local_sources(self, path: Path, trusted: bool) -> list[Source]:
        if path.is_file():
            files = [path]
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
        else:
            raise LocationError(f"{path} does not exist")
        allowed = [f for f in files if trusted or within_roots(f, self.file_roots) is not None]
        return [Source(f.as_uri(), functools.partial(_local_file, f)) for f in allowed]

    def _s3_sources(self, url: SplitResult) -> list[Source]:
        bucket, prefix = url.netloc, unquote(url.path).removeprefix("/")
        client = self._s3()
        keys: list[str] = []
        try:
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            ):
                keys.extend(
                    o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")
                )
        except (BotoCoreError, ClientError) as error:
            raise LocationError(f"s3://{bucket}/{prefix} cannot be listed: {error}") from None
        if not keys:
            raise LocationError(f"s3://{bucket}/{prefix} holds no objects")

        @contextmanager
        def body(key: str) -> Iterator[Readable]:
            try:
                response = client.get_object(Bucket=bucket, Key=key)
            except (BotoCoreError, ClientError) as error:
                raise LocationError(f"s3://{bucket}/{key} cannot be read: {error}") from None
            stream = response["Body"]
            try:
                yield stream
            finally:
                stream.close()

        return [
            Source(f"s3://{bucket}/{key}", functools.partial(body, key)) for key in sorted(keys)
        ]

    # --- writing ------------------------------------------------------------------------

    def sink(self, url: str, folder: str) -> Sink:
        """Files go under ``url``/``folder``/ (the job id, so jobs never overwrite each other)."""
        parsed = urlsplit(url)
        if parsed.scheme == "s3":
            bucket = parsed.netloc
            prefix = "/".join(p for p in (unquote(parsed.path).strip("/"), folder) if p)
            client = self._s3()

            def put_object(name: str, data: bytes) -> None:
                try:
                    client.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=data)
                except (BotoCoreError, ClientError) as error:
                    raise LocationError(f"s3://{bucket}/{prefix}/{name}: {error}") from None

            return Sink(put_object, lambda name: f"s3://{bucket}/{prefix}/{name}")
        directory = self._local(parsed, "S3UrlPrefix") / folder

        def write_file(name: str, data: bytes) -> None:
            try:
                directory.mkdir(parents=True, exist_ok=True)
                _write_atomically(directory / name, data)
            except OSError as error:
                raise LocationError(f"{directory / name}: {error}") from None

        return Sink(write_file, lambda name: (directory / name).as_uri())

    # --- shared -------------------------------------------------------------------------

    def _parsed(self, url: str, member: str, schemes: Sequence[str]) -> SplitResult:
        parsed = urlsplit(url)
        if parsed.scheme not in schemes:
            allowed = ", ".join(f"{scheme}://" for scheme in schemes)
            raise BadRequest(f"{member} {url!r} is not a supported location; use {allowed}")
        if parsed.scheme == "s3" and not parsed.netloc:
            raise BadRequest(f"{member} {url!r} names no bucket; write s3://BUCKET/PREFIX")
        if parsed.scheme in ("https", "http"):
            if not parsed.hostname:
                raise BadRequest(f"{member} {url!r} has no host")
            if parsed.scheme == "http" and not is_loopback(parsed.hostname):
                raise BadRequest(
                    f"{member} {url!r}: plain http is allowed only to loopback hosts "
                    "(localhost, 127.0.0.0/8, ::1); use https"
                )
        if parsed.scheme == "file":
            self._local(parsed, member)
        return parsed

    def _local(self, url: SplitResult, member: str) -> Path:
        if url.netloc not in ("", "localhost") or url.query or url.fragment:
            raise BadRequest(
                f"{member} {url.geturl()!r}: write a file URL as file:///ABSOLUTE/PATH"
            )
        path = Path(unquote(url.path))
        if not path.is_absolute():
            raise BadRequest(f"{member} {url.geturl()!r} is not an absolute path")
        if not self.file_roots:
            raise BadRequest(
                "file:// locations are disabled on this server: no directory is allowed for "
                "them (setting CLARION_FILE_ROOTS)"
            )
        resolved = within_roots(path, self.file_roots)
        if resolved is None:
            allowed = ", ".join(str(root) for root in self.file_roots)
            raise BadRequest(
                f"{member} {url.geturl()!r} resolves to {path.resolve()}, outside the "
                f"directories this server may use: {allowed}"
            )
        return resolved

    def _s3(self) -> Any:
        return get_session().create_client(
            "s3",
            region_name=self.region,
            endpoint_url=self.aws_endpoint_url or None,
            config=Config(
                connect_timeout=10,
                read_timeout=60,
                retries={"max_attempts": 5, "mode": "standard"},
                s3={"addressing_style": "path"} if self.aws_endpoint_url else {},
            ),
        )


@contextmanager
def _local_file(path: Path) -> Iterator[Readable]:
    try:
        stream = path.open("rb")
    except OSError as error:
        raise LocationError(f"{path} cannot be read: {error.strerror}") from None
    with stream:
        yield stream


@contextmanager
def _web(url: str) -> Iterator[Readable]:
    try:
        with httpx.stream("GET", url, timeout=60, follow_redirects=True) as response:
            if response.status_code != 200:
                raise LocationError(f"{url} answered HTTP {response.status_code}")
            yield _Chunks(response.iter_bytes())
    except httpx.HTTPError as error:
        raise LocationError(f"{url} cannot be read: {error}") from None


class _Chunks:
    """An iterator of byte chunks as a stream with ``read(n)``."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = b""

    def read(self, size: int = -1, /) -> bytes:
        while size < 0 or len(self.pending) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.pending += chunk
        if size < 0:
            size = len(self.pending)
        data, self.pending = self.pending[:size], self.pending[size:]
        return data


def _write_atomically(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
