"""SMS over SMPP 3.4, the protocol of carriers' and aggregators' SMS centres (SMSCs).

One transceiver session per adapter carries every send: it is bound on the first send, bound
again after the link drops, and kept alive with enquire_link. Up to ``window`` submit_sm wait
for their answers at once. smpplib writes the PDUs; the socket is asyncio's rather than
smpplib's blocking client, so concurrent sends share the session without a thread, and
``smpps`` can check the SMSC's certificate against its host name, which that client's TLS
socket cannot.

Text the GSM 7-bit default alphabet holds goes as data_coding 0, anything else as UCS-2
(data_coding 8); text too long for one message goes as concatenated parts, each with a UDH.
All parts answered ESME_ROK is DELIVERED with the first part's message_id. Throttling, a full
queue, a system error, a refused bind, a lost link and a timeout are TRANSIENT; any other
command_status is PERMANENT. The first part that fails ends the send, so no part goes twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import re
import ssl
import struct
from dataclasses import dataclass
from typing import Any

from smpplib import command_codes, consts, gsm, smpp
from smpplib.client import SimpleSequenceGenerator
from smpplib.exceptions import UnknownCommandError

from clarion.delivery.base import Outcome, Result, Sms

GSM_7BIT = consts.SMPP_ENCODING_DEFAULT
UCS2 = consts.SMPP_ENCODING_ISO10646
_CONCATENATED = 0x00
"""The UDH information element for concatenated messages with an 8-bit reference."""
_GSM_UNSAFE = frozenset("`\x1b")
"""smpplib's GSM table writes ` for unassigned codes and 0x1B is the escape itself: text with
either goes as UCS-2 rather than arriving as something else."""
_TRANSIENT = frozenset(
    {
        consts.SMPP_ESME_RINVBNDSTS,
        consts.SMPP_ESME_RSYSERR,
        consts.SMPP_ESME_RMSGQFUL,
        consts.SMPP_ESME_RTHROTTLED,
        consts.SMPP_ESME_RX_T_APPN,
    }
)
_STATUS_NAMES = {
    value: name.removeprefix("SMPP_")
    for name, value in vars(consts).items()
    if name.startswith("SMPP_ESME_")
}
_RESPONSE = 0x80000000
_HEADER = struct.Struct(">LLLL")
_LARGEST_PDU = 65536
_E164 = re.compile(r"^\+([1-9]\d{1,14})$")
_SHORT_CODE = re.compile(r"^\d{3,8}$")
_DIGITS = re.compile(r"^\d{1,20}$")
_SENDER_ID = re.compile(r"^[ -~]{1,11}$")


class SmppAdapter:
    def __init__(
        self,
        host: str,
        port: int,
        system_id: str,
        password: str,
        *,
        system_type: str = "",
        tls: ssl.SSLContext | None = None,
        window: int,
        timeout: float,
        enquire_link_interval: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.system_id = system_id
        self.password = password
        self.system_type = system_type
        self.tls = tls
        self.window = window
        self.timeout = timeout
        self.enquire_link_interval = enquire_link_interval
        self._session: _Session | None = None
        self._binding = asyncio.Lock()
        self._binds_finished = 0
        self._bind_failure: Result | None = None
        self._submitting = asyncio.Semaphore(window)
        self._references = itertools.count(random.randrange(256))

    async def send(self, message: Sms) -> Result:
        try:
            source = _source(message.sender)
            destination = _destination(message.recipient)
            coding, parts = _parts(message.body, next(self._references) % 256)
        except _Unsendable as error:
            return Result(Outcome.PERMANENT, 0, str(error))
        session = await self._bound_session()
        if isinstance(session, Result):
            return session
        first_id = None
        for number, part in enumerate(parts, start=1):
            which = f"part {number} of {len(parts)}" if len(parts) > 1 else "the message"
            sent = f" ({number - 1} accepted before it)" if number > 1 else ""
            try:
                async with self._submitting:
                    answer = await session.request(
                        "submit_sm",
                        source_addr_ton=source[0],
                        source_addr_npi=source[1],
                        source_addr=source[2],
                        dest_addr_ton=consts.SMPP_TON_INTL,
                        dest_addr_npi=consts.SMPP_NPI_ISDN,
                        destination_addr=destination,
                        esm_class=consts.SMPP_GSMFEAT_UDHI if len(parts) > 1 else 0,
                        registered_delivery=0,
                        data_coding=coding,
                        short_message=part,
                    )
            except _LinkLost as error:
                return Result(Outcome.TRANSIENT, 0, f"{which} went unanswered{sent}: {error}")
            if answer.status != consts.SMPP_ESME_ROK:
                if answer.status == consts.SMPP_ESME_RINVBNDSTS:
                    session.drop("the SMSC no longer counts the session as bound")
                outcome = Outcome.TRANSIENT if answer.status in _TRANSIENT else Outcome.PERMANENT
                detail = f"the SMSC refused {which}{sent}: {_describe(answer.status)}"
                return Result(outcome, answer.status, detail)
            if number == 1:
                first_id = answer.message_id or None
        accepted = "accepted" if len(parts) == 1 else f"accepted in {len(parts)} parts"
        return Result(Outcome.DELIVERED, consts.SMPP_ESME_ROK, accepted, first_id)

    async def close(self) -> None:
        async with self._binding:
            session, self._session = self._session, None
        if session is not None:
            await session.end()

    async def _bound_session(self) -> _Session | Result:
        """The bound session, bound anew when there is none. Sends that waited while a bind
        failed share that failure instead of each knocking on the SMSC again at once."""
        finished = self._binds_finished
        async with self._binding:
            if self._session is not None and self._session.lost is None:
                return self._session
            if self._binds_finished != finished and self._bind_failure is not None:
                return self._bind_failure
            bound = await self._bind()
            self._binds_finished += 1
            if isinstance(bound, Result):
                self._session, self._bind_failure = None, bound
            else:
                self._session, self._bind_failure = bound, None
            return bound

    async def _bind(self) -> _Session | Result:
        where = f"the SMSC at {self.host}:{self.port}"
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self.tls)
        except OSError as error:
            return Result(Outcome.TRANSIENT, 0, f"cannot connect to {where}: {_explain(error)}")
        session = _Session(reader, writer, self.timeout)
        try:
            answer = await session.request(
                "bind_transceiver",
                system_id=self.system_id,
                password=self.password,
                system_type=self.system_type,
                addr_ton=consts.SMPP_TON_UNK,
                addr_npi=consts.SMPP_NPI_UNK,
                address_range="",
            )
        except _LinkLost as error:
            await session.end()
            return Result(Outcome.TRANSIENT, 0, f"{where} did not answer the bind: {error}")
        except asyncio.CancelledError:
            session.drop("the bind was cancelled")
            raise
        if answer.status != consts.SMPP_ESME_ROK:
            session.drop("the bind was refused")
            await session.end()
            detail = f"{where} refused the bind: {_describe(answer.status)}"
            return Result(Outcome.TRANSIENT, answer.status, detail)
        session.keep_alive(self.enquire_link_interval)
        return session


class _Unsendable(Exception):
    """The message cannot be put into SMPP at all, so no attempt will ever succeed."""


class _LinkLost(Exception):
    """The session ended, or never answered; a later attempt on a new session may succeed."""


@dataclass(frozen=True)
class _Answer:
    status: int
    message_id: str
    """submit_sm_resp's message_id, bind_transceiver_resp's system_id; empty for the rest."""


class _Session:
    """One bound connection. Each request waits for the answer with its sequence number; the
    SMSC's own requests are answered as they arrive."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout
        self.lost: str | None = None
        """Why the session ended; None while it lasts."""
        self._sequences = SimpleSequenceGenerator()
        self._waiting: dict[int, asyncio.Future[_Answer]] = {}
        self._tasks = [asyncio.create_task(self._read())]

    def keep_alive(self, interval: float) -> None:
        self._tasks.append(asyncio.create_task(self._enquire(interval)))

    async def request(self, command: str, **fields: Any) -> _Answer:
        """Send one request and wait for its answer. Silence past the timeout ends the session:
        the link is gone or the SMSC is stuck, and the next send binds afresh."""
        if self.lost is not None:
            raise _LinkLost(self.lost)
        pdu = smpp.make_pdu(command, client=self._sequences, **fields)
        sequence: int = pdu.sequence
        answer: asyncio.Future[_Answer] = asyncio.get_running_loop().create_future()
        self._waiting[sequence] = answer
        try:
            self.writer.write(pdu.generate())
            async with asyncio.timeout(self.timeout):
                await self.writer.drain()
                return await answer
        except TimeoutError:
            self.drop(f"no answer to {command} within {self.timeout:g} s")
            raise _LinkLost(self.lost) from None
        except OSError as error:
            self.drop(f"{command} could not be written: {_explain(error)}")
            raise _LinkLost(self.lost) from None
        finally:
            self._waiting.pop(sequence, None)

    def drop(self, reason: str) -> None:
        """End the session at once; requests still waiting fail with ``reason``."""
        if self.lost is not None:
            return
        self.lost = reason
        self.writer.close()
        for answer in self._waiting.values():
            if not answer.done():
                answer.set_exception(_LinkLost(reason))
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()

    async def end(self) -> None:
        """Unbind if still bound, then close and wait for the connection to go."""
        if self.lost is None:
            with contextlib.suppress(_LinkLost):
                await self.request("unbind")
            self.drop("the session was closed")
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()

    async def _read(self) -> None:
        try:
            while True:
                header = await self.reader.readexactly(_HEADER.size)
                length, command_id, status, sequence = _HEADER.unpack(header)
                if not _HEADER.size <= length <= _LARGEST_PDU:
                    self.drop(f"the SMSC sent a PDU {length} bytes long")
                    return
                body = await self.reader.readexactly(length - _HEADER.size)
                self._take(command_id, status, sequence, body)
        except asyncio.IncompleteReadError:
            self.drop("the SMSC closed the connection")
        except OSError as error:
            self.drop(f"the connection failed: {_explain(error)}")

    def _take(self, command_id: int, status: int, sequence: int, body: bytes) -> None:
        if command_id & _RESPONSE:
            answer = self._waiting.get(sequence)
            if answer is not None and not answer.done():
                text = body.partition(b"\0")[0].decode("ascii", "replace")
                answer.set_result(_Answer(status, text))
            return
        try:
            command = command_codes.get_command_name(command_id)
        except UnknownCommandError:
            command = None
        if command == "enquire_link":
            self._reply("enquire_link_resp", sequence)
        elif command in ("deliver_sm", "data_sm"):
            # Clarion does not take inbound messages or receipts yet: a temporary error leaves
            # them with the SMSC to deliver later, where accepting them would lose them.
            self._reply(f"{command}_resp", sequence, consts.SMPP_ESME_RX_T_APPN)
        elif command == "unbind":
            self._reply("unbind_resp", sequence)
            self.drop("the SMSC unbound the session")
        elif command != "alert_notification":
            self._reply("generic_nack", sequence, consts.SMPP_ESME_RINVCMDID)

    def _reply(self, command: str, sequence: int, status: int = consts.SMPP_ESME_ROK) -> None:
        pdu = smpp.make_pdu(command, sequence=sequence, status=status)
        pdu.sequence = sequence
        self.writer.write(pdu.generate())

    async def _enquire(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.request("enquire_link")
            except _LinkLost:
                return


def _source(sender: str | None) -> tuple[int, int, str]:
    """TON, NPI and address for the sender: E.164 is international, a short code network
    specific, other digits left to the SMSC, anything else an alphanumeric sender id."""
    if sender is None:
        return consts.SMPP_TON_UNK, consts.SMPP_NPI_UNK, ""
    if number := _E164.match(sender):
        return consts.SMPP_TON_INTL, consts.SMPP_NPI_ISDN, number[1]
    if _SHORT_CODE.match(sender):
        return consts.SMPP_TON_NWSPEC, consts.SMPP_NPI_UNK, sender
    if _DIGITS.match(sender):
        return consts.SMPP_TON_UNK, consts.SMPP_NPI_ISDN, sender
    if _SENDER_ID.match(sender):
        return consts.SMPP_TON_ALNUM, consts.SMPP_NPI_UNK, sender
    raise _Unsendable(
        f"sender {sender!r} is neither a phone number nor a sender id of 1 to 11 printable "
        "ASCII characters"
    )


def _destination(recipient: str) -> str:
    number = _E164.match(recipient)
    if number is None:
        raise _Unsendable(f"recipient {recipient!r} is not an E.164 number (+ and digits)")
    return number[1]


def _parts(text: str, reference: int) -> tuple[int, list[bytes]]:
    """The data_coding and the short_message of each part. Parts break between characters,
    never inside a GSM escape or a UTF-16 surrogate pair."""
    coding, characters = _encode(text)
    if coding == GSM_7BIT:
        whole, part = consts.SEVENBIT_LENGTH, consts.SEVENBIT_PART_SIZE
    else:
        whole, part = consts.UCS2_LENGTH, consts.UCS2_PART_SIZE
    if sum(map(len, characters)) <= whole:
        return coding, [b"".join(characters)]
    chunks = [b""]
    for character in characters:
        if len(chunks[-1]) + len(character) > part:
            chunks.append(b"")
        chunks[-1] += character
    if len(chunks) > 255:
        raise _Unsendable(f"the text needs {len(chunks)} parts; an SMS has at most 255")
    return coding, [
        bytes((5, _CONCATENATED, 3, reference, len(chunks), number)) + chunk
        for number, chunk in enumerate(chunks, start=1)
    ]


def _encode(text: str) -> tuple[int, list[bytes]]:
    if not _GSM_UNSAFE.intersection(text):
        with contextlib.suppress(UnicodeError):
            return GSM_7BIT, [gsm.gsm_encode(character) for character in text]
    return UCS2, [character.encode("utf-16-be", "replace") for character in text]


def _describe(status: int) -> str:
    name = _STATUS_NAMES.get(status, "command_status")
    description = consts.DESCRIPTIONS.get(status)
    return f"{name} (0x{status:08X})" + (f": {description}" if description else "")


def _explain(error: BaseException) -> str:
    return str(error) or type(error).__name__
