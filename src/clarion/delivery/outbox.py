"""The default channel: messages are written to DATA_DIR/outbox/CHANNEL.jsonl instead of sent.

Each message is one JSON line, appended with a single ``os.write`` on a file opened with
O_APPEND, so a crash never leaves half a line and several processes may share the file.
Operators and tests list what would have gone out with ``read_outbox``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import orjson

from clarion.delivery.base import Email, Outcome, Result, Sms, Voice

Channel = Literal["email", "sms", "voice"]
M = TypeVar("M", Email, Sms, Voice)


def outbox_path(data_dir: Path, channel: Channel) -> Path:
    return data_dir / "outbox" / f"{channel}.jsonl"


class Outbox(Generic[M]):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def send(self, message: M) -> Result:
        record: dict[str, Any] = {
            item.name: _plain(getattr(message, item.name)) for item in fields(message)
        }
        record["written_at"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        line = orjson.dumps(record) + b"\n"
        try:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            written = os.write(self._fd, line)
        except OSError as error:
            return Result(Outcome.TRANSIENT, 0, f"writing {self.path}: {error}")
        if written != len(line):
            with contextlib.suppress(OSError):
                os.write(self._fd, b"\n")
            return Result(
                Outcome.TRANSIENT, 0, f"writing {self.path}: {written} of {len(line)} bytes"
            )
        return Result(Outcome.DELIVERED, 0, f"written to {self.path}", message.message_id)

    async def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_outbox(data_dir: Path, channel: Channel) -> list[dict[str, Any]]:
    """Every message written to the channel's outbox, oldest first. A line cut short (a disk
    that filled up mid-write, which the writer closes with a newline) is left out."""
    try:
        content = outbox_path(data_dir, channel).read_bytes()
    except FileNotFoundError:
        return []
    records = []
    for line in content.splitlines():
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return records


def _plain(value: object) -> object:
    return dict(value) if isinstance(value, Mapping) else value
