"""Where import jobs read and export jobs write: S3, the web, and local directories.

A location is checked twice: when the job is created (BadRequest names what is wrong: its
form, and for ``s3://`` that botocore finds AWS credentials and the bucket answers), and again
when the job runs (LocationError fails the job), because what a URL points at can change in
between. ``file://`` follows the file-roots rule (``clarion.file_roots``: only
the app's own folder under each CLARION_FILE_ROOTS directory); web sources follow the
outbound-address policy (``clarion.outbound``), on every connection and redirect.
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
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.session import get_session

from clarion.errors import BadRequest
from clarion.file_roots import FileRoots
from clarion.jobs.formats import Readable
from clarion.outbound import OutboundPolicy


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
        self,
        *,
        file_roots: FileRoots,
        policy: OutboundPolicy,
        aws_endpoint_url: str = "",
        region: str,
    ) -> None:
        self.file_roots = file_roots
        self.policy = policy
        self.aws_endpoint_url = aws_endpoint_url
        self.region = region

    # --- checks at creation -------------------------------------------------------------

    def check_source(self, url: str, member: str, app_id: str) -> None:
        parsed = self._parsed(url, member, ("s3", "https", "http", "file"), app_id)
        if parsed.scheme == "s3":
            self._check_s3(parsed, member)

    def check_sink(self, url: str, member: str, app_id: str) -> None:
        parsed = self._parsed(url, member, ("s3", "file"), app_id)
        if parsed.scheme == "s3":
            self._check_s3(parsed, member)
        elif parsed.scheme == "file":
            path = self.file_roots.local_path(parsed, member, app_id)
            if path.exists() and not path.is_dir():
                raise BadRequest(f"{member} {url!r} names a file; exports write into a directory")

    def _check_s3(self, url: SplitResult, member: str) -> None:
        """That the job could reach the bucket now: credentials, then one ListObjectsV2 of the
        location's prefix with short timeouts. Listing needs only the permission an import
        needs anyway (s3:ListBucket, which a policy may limit to the prefix), where HeadBucket
        would need it on the whole bucket; and unlike HEAD, its errors say which they are."""
        bucket, prefix = url.netloc, unquote(url.path).removeprefix("/")
        where = f"{member} {url.geturl()!r}"
        if get_session().get_credentials() is None:
            raise BadRequest(
                f"{where}: no AWS credentials are configured for s3:// locations; give the "
                "server AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE and a shared "
                "credentials or config file) in its environment, or run it with an instance or "
                "task role"
            )
        try:
            self._s3(checking=True).list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        except ClientError as error:
            found = error.response.get("Error", {})
            code = found.get("Code") or ""
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            said = f"{code}: {found.get('Message') or 'no message'}"
            if code == "NoSuchBucket" or status == 404:
                raise BadRequest(f"{where}: there is no S3 bucket {bucket!r} ({said})") from None
            if status == 403:
                raise BadRequest(
                    f"{where}: S3 refuses the server's AWS credentials access to bucket "
                    f"{bucket!r} ({said})"
                ) from None
            raise BadRequest(f"{where}: S3 answered {said}") from None
        except (BotoConnectionError, HTTPClientError) as error:
            raise BadRequest(f"{where}: S3 cannot be reached: {error}") from None
        except BotoCoreError as error:
            raise BadRequest(f"{where}: {error}") from None

    # --- reading ------------------------------------------------------------------------

    def sources(self, url: str, app_id: str, *, trusted: bool = False) -> list[Source]:
        """The files an import for ``app_id`` reads, in a stable order: an S3 prefix or a local
        directory stands for every file under it. ``trusted`` lifts the file-roots rule for the
        CLI, whose user reads their own files."""
        parsed = urlsplit(url)
        if parsed.scheme == "s3":
            return self._s3_sources(parsed)
        if parsed.scheme in ("https", "http"):
            return [Source(url, lambda: _web(self.policy, url))]
        if trusted:
            return self._local_sources(Path(unquote(parsed.path)), None)
        try:
            path = self.file_roots.local_path(parsed, "S3Url", app_id)
        except BadRequest as refusal:
            raise LocationError(refusal.message) from None
        return self._local_sources(path, app_id)

    def _local_sources(self, path: Path, app_id: str | None) -> list[Source]:
        if path.is_file():
            files = [path]
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
        else:
            raise LocationError(f"{path} does not exist")
        if app_id is not None:
            files = [f for f in files if self.file_roots.contains(f, app_id) is not None]
        return [Source(f.as_uri(), functools.partial(_local_file, f)) for f in files]

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

    def sink(self, url: str, folder: str, app_id: str) -> Sink:
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
        try:
            directory = self.file_roots.local_path(parsed, "S3UrlPrefix", app_id) / folder
        except BadRequest as refusal:
            raise LocationError(refusal.message) from None

        def write_file(name: str, data: bytes) -> None:
            try:
                directory.mkdir(parents=True, exist_ok=True)
                _write_atomically(directory / name, data)
            except OSError as error:
                raise LocationError(f"{directory / name}: {error}") from None

        return Sink(write_file, lambda name: (directory / name).as_uri())

    # --- shared -------------------------------------------------------------------------

    def _parsed(self, url: str, member: str, schemes: Sequence[str], app_id: str) -> SplitResult:
        try:
            parsed = urlsplit(url)
        except ValueError as error:
            raise BadRequest(f"{member} {url!r} is not a valid URL: {error}") from None
        if parsed.scheme not in schemes:
            allowed = ", ".join(f"{scheme}://" for scheme in schemes)
            raise BadRequest(f"{member} {url!r} is not a supported location; use {allowed}")
        if parsed.scheme == "s3" and not parsed.netloc:
            raise BadRequest(f"{member} {url!r} names no bucket; write s3://BUCKET/PREFIX")
        if parsed.scheme in ("https", "http"):
            self.policy.check_url(url, member)
        if parsed.scheme == "file":
            self.file_roots.local_path(parsed, member, app_id)
        return parsed

    def _s3(self, *, checking: bool = False) -> Any:
        """A client for jobs, or with short timeouts and no retry for the checks a request
        waits on."""
        return get_session().create_client(
            "s3",
            region_name=self.region,
            endpoint_url=self.aws_endpoint_url or None,
            config=Config(
                connect_timeout=3 if checking else 10,
                read_timeout=5 if checking else 60,
                retries={"max_attempts": 1 if checking else 5, "mode": "standard"},
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
def _web(policy: OutboundPolicy, url: str) -> Iterator[Readable]:
    """Redirects are followed, each hop's connection checked by the policy like the first."""
    try:
        with (
            policy.http_client(timeout=60, follow_redirects=True, max_redirects=5) as client,
            client.stream("GET", url) as response,
        ):
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
