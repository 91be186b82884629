"""A loopback SMSC speaking enough SMPP 3.4 to test the SMPP adapter against.

It binds transceivers, records every submit_sm, answers with the command_status values a test
queues, and on request hangs up, stays silent or sends requests of its own. PDUs are read and
written here with struct, so the adapter's encoding is checked by code it does not share.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from smpplib.gsm import GSM_CHARACTER_TABLE

BIND_TRANSCEIVER = 0x00000009
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
ENQUIRE_LINK = 0x00000015
GENERIC_NACK = 0x80000000
RESPONSE = 0x80000000

ESME_ROK = 0x00
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
UDHI = 0x40

_HEADER = struct.Struct(">LLLL")


@dataclass(frozen=True)
class Bind:
    system_id: str
    password: str
    system_type: str
    interface_version: int


@dataclass(frozen=True)
class Submit:
    source: tuple[int, int, str]
    """TON, NPI and address."""
    destination: tuple[int, int, str]
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes
    connection: int
    """Which TCP connection carried it, counted from 1."""

    @property
    def udh(self) -> bytes:
        if not self.esm_class & UDHI:
            return b""
        return self.short_message[: 1 + self.short_message[0]]

    @property
    def payload(self) -> bytes:
        return self.short_message[len(self.udh) :]

    def concatenation(self) -> tuple[int, int, int]:
        """Reference, total and number of this part, from the UDH's 8-bit concatenation IE."""
        elements = self.udh[1:]
        while elements:
            identifier, length = elements[0], elements[1]
            if identifier == 0x00 and length == 3:
                reference, total, number = elements[2:5]
                return reference, total, number
            elements = elements[2 + length :]
        raise AssertionError(f"no concatenation element in UDH {self.udh.hex()}")

    def text(self) -> str:
        if self.data_coding == 8:
            return self.payload.decode("utf-16-be")
        assert self.data_coding == 0, self.data_coding
        characters = []
        escaped = False
        for code in self.payload:
            if code == 0x1B and not escaped:
                escaped = True
                continue
            characters.append(GSM_CHARACTER_TABLE[code + 0x80 if escaped else code])
            escaped = False
        assert not escaped, "a GSM escape ends the part"
        return "".join(characters)


@dataclass
class Smsc:
    """Binds ``system_id``/``password`` as a transceiver on 127.0.0.1; stops on exit."""

    system_id: str = "clarion"
    password: str = "s3cret"
    port: int = 0
    tls: ssl.SSLContext | None = None
    binds: list[Bind] = field(default_factory=list)
    submits: list[Submit] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """command_status for the coming submit_sm, in order; ESME_ROK once they run out."""
    hang_ups: int = 0
    """How many of the coming submit_sm end their connection unanswered."""
    silences: int = 0
    """How many of the coming submit_sm are never answered."""
    enquire_links: int = 0
    unbinds: int = 0
    replies: list[tuple[int, int, int]] = field(default_factory=list)
    """command_id, command_status and sequence of each answer to the SMSC's own requests."""

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Lock] = {}
        self._opened = 0
        self._sequence = 1000
        smsc = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                smsc._serve(self.request)

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Smsc:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        with self.lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join()

    def request(self, command_id: int, body: bytes = b"") -> int:
        """Send a request of the SMSC's own on every open connection; returns its sequence."""
        with self.lock:
            self._sequence += 1
            sequence = self._sequence
            connections = list(self._connections.items())
        for connection, writing in connections:
            with writing:
                connection.sendall(_pdu(command_id, ESME_ROK, sequence, body))
        return sequence

    def _serve(self, connection: socket.socket) -> None:
        if self.tls is not None:
            try:
                connection = self.tls.wrap_socket(connection, server_side=True)
            except (ssl.SSLError, OSError):
                return
        writing = threading.Lock()
        with self.lock:
            self._opened += 1
            number = self._opened
            self._connections[connection] = writing

        def answer(command_id: int, status: int, sequence: int, body: bytes = b"") -> None:
            with writing:
                connection.sendall(_pdu(command_id | RESPONSE, status, sequence, body))

        bound = False
        try:
            while True:
                header = _read_exactly(connection, _HEADER.size)
                if header is None:
                    return
                length, command_id, status, sequence = _HEADER.unpack(header)
                body = _read_exactly(connection, length - _HEADER.size) or b""
                if command_id & RESPONSE:
                    with self.lock:
                        self.replies.append((command_id, status, sequence))
                elif command_id == BIND_TRANSCEIVER:
                    refusal = self._bind(_Fields(body))
                    bound = refusal == ESME_ROK
                    answer(command_id, refusal, sequence, b"smsc\0")
                elif command_id == SUBMIT_SM:
                    if not bound:
                        answer(command_id, ESME_RINVBNDSTS, sequence)
                        continue
                    reply = self._submit(_Fields(body), number)
                    if reply == "hang up":
                        return
                    if reply != "silence":
                        status, message_id = reply
                        answer(command_id, status, sequence, message_id)
                elif command_id == ENQUIRE_LINK:
                    with self.lock:
                        self.enquire_links += 1
                    answer(command_id, ESME_ROK, sequence)
                elif command_id == UNBIND:
                    with self.lock:
                        self.unbinds += 1
                    answer(command_id, ESME_ROK, sequence)
                    return
                else:
                    answer(GENERIC_NACK, ESME_RINVCMDID, sequence)
        except OSError:
            return
        finally:
            with self.lock:
                self._connections.pop(connection, None)
            connection.close()

    def _bind(self, fields: _Fields) -> int:
        bind = Bind(fields.text(), fields.text(), fields.text(), fields.byte())
        with self.lock:
            self.binds.append(bind)
        return self._bind_refusal(bind)

    def _bind_refusal(self, bind: Bind) -> int:
        if bind.system_id != self.system_id:
            return ESME_RINVSYSID
        if bind.password != self.password:
            return ESME_RINVPASWD
        return ESME_ROK

    def _submit(
        self, fields: _Fields, connection: int
    ) -> tuple[int, bytes] | Literal["hang up", "silence"]:
        """Records the submit_sm; returns the status and body to answer with."""
        fields.text()
        source = (fields.byte(), fields.byte(), fields.text())
        destination = (fields.byte(), fields.byte(), fields.text())
        esm_class = fields.byte()
        fields.byte(), fields.byte(), fields.text(), fields.text()
        registered_delivery = fields.byte()
        fields.byte()
        data_coding = fields.byte()
        fields.byte()
        short_message = fields.octets(fields.byte())
        submit = Submit(
            source,
            destination,
            esm_class,
            registered_delivery,
            data_coding,
            short_message,
            connection,
        )
        with self.lock:
            self.submits.append(submit)
            if self.hang_ups:
                self.hang_ups -= 1
                return "hang up"
            if self.silences:
                self.silences -= 1
                return "silence"
            status = self.answers.pop(0) if self.answers else ESME_ROK
            message_id = f"msg-{len(self.submits)}\0".encode() if status == ESME_ROK else b""
        return status, message_id


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True


class _Fields:
    """Reads a PDU body field by field."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.at = 0

    def byte(self) -> int:
        self.at += 1
        return self.body[self.at - 1]

    def text(self) -> str:
        end = self.body.index(b"\0", self.at)
        value = self.body[self.at : end].decode("ascii")
        self.at = end + 1
        return value

    def octets(self, count: int) -> bytes:
        self.at += count
        return self.body[self.at - count : self.at]


def _pdu(command_id: int, status: int, sequence: int, body: bytes) -> bytes:
    return _HEADER.pack(_HEADER.size + len(body), command_id, status, sequence) + body


def _read_exactly(connection: socket.socket, count: int) -> bytes | None:
    chunks = []
    while count:
        chunk = connection.recv(count)
        if not chunk:
            return None
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
