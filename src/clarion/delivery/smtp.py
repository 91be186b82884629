"""E-mail over SMTP (aiosmtplib), through a small pool of persistent connections.

A send borrows a connection, opening it first if it is new or was dropped, and returns it after
one transaction, so sequential sends reuse one connection and at most ``max_connections`` are
ever open. A connection is closed whenever its state is in doubt (timeout, lost connection,
cancelled send); the next send that borrows it reconnects.

Reply codes: 2xx DELIVERED, 4xx TRANSIENT, 5xx PERMANENT. A failure before the transaction
begins (connecting, greeting, STARTTLS, AUTH) is TRANSIENT whatever its code, and so is 530
(authentication or STARTTLS required): they concern the server or this configuration, never
the recipient, so they must not read as hard bounces.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

import aiosmtplib

from clarion.delivery.base import Email, Outcome, Result
from clarion.delivery.mime import InvalidAddress, Rendered, render


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    """smtps: TLS from the first byte."""
    start_tls: bool | None = None
    """None upgrades when the server offers STARTTLS, True fails a server that does not, False
    never upgrades."""
    tls_context: ssl.SSLContext | None = None
    max_connections: int = 4
    timeout: float = 30.0


class SmtpAdapter:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._idle: asyncio.LifoQueue[aiosmtplib.SMTP] = asyncio.LifoQueue()
        for _ in range(settings.max_connections):
            self._idle.put_nowait(self._client())
        self._closed = False

    async def send(self, message: Email) -> Result:
        if self._closed:
            raise RuntimeError("the SMTP adapter is closed")
        try:
            rendered = render(message)
        except InvalidAddress as error:
            return Result(Outcome.PERMANENT, 0, str(error))
        client = await self._idle.get()
        try:
            return await self._deliver(client, rendered, message.message_id)
        except BaseException:
            client.close()
            raise
        finally:
            self._idle.put_nowait(client)

    async def close(self) -> None:
        """Waits for sends in flight, then says QUIT on every open connection."""
        self._closed = True
        for _ in range(self.settings.max_connections):
            client = await self._idle.get()
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()

    def _client(self) -> aiosmtplib.SMTP:
        settings = self.settings
        return aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password,
            use_tls=settings.implicit_tls,
            start_tls=settings.start_tls,
            tls_context=settings.tls_context,
            timeout=settings.timeout,
        )

    async def _deliver(
        self, client: aiosmtplib.SMTP, rendered: Rendered, message_id: str
    ) -> Result:
        if not client.is_connected:
            try:
                await client.connect()
            except aiosmtplib.SMTPResponseException as error:
                return Result(Outcome.TRANSIENT, error.code, f"connecting: {error.message}")
            except (aiosmtplib.SMTPException, OSError) as error:
                return Result(Outcome.TRANSIENT, 0, f"connecting: {_describe(error)}")
        try:
            _, reply = await client.sendmail(
                rendered.mail_from,
                [rendered.rcpt_to],
                rendered.data,
                mail_options=["SMTPUTF8"] if rendered.smtputf8 else [],
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            refusal = error.recipients[0]
            return _by_code(refusal.code, refusal.message)
        except aiosmtplib.SMTPResponseException as error:
            return _by_code(error.code, error.message)
        except aiosmtplib.SMTPNotSupported as error:
            return Result(Outcome.PERMANENT, 0, str(error))
        except (aiosmtplib.SMTPException, OSError) as error:
            client.close()
            return Result(Outcome.TRANSIENT, 0, _describe(error))
        return Result(Outcome.DELIVERED, 250, reply, message_id)


def _by_code(code: int, message: str) -> Result:
    outcome = Outcome.PERMANENT if 500 <= code < 600 and code != 530 else Outcome.TRANSIENT
    return Result(outcome, code, message)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
