"""The adapter for each channel: the one a configuration URL names (CLARION_EMAIL_URL,
CLARION_SMS_URL and CLARION_VOICE_URL), and for push the one the app's channel calls for
(``push_adapter``).

E-mail:

- ``smtp://[USER:PASSWORD@]HOST[:PORT]`` (port 25): STARTTLS when the server offers it;
  ``?starttls=require`` refuses a server that does not, ``?starttls=off`` never upgrades.
- ``smtps://[USER:PASSWORD@]HOST[:PORT]`` (port 465): TLS from the start.
  Both take ``tls_ca=/path/ca.pem`` (trust a private CA), ``max_connections`` (default 4) and
  ``timeout`` (seconds, default 30). Percent-encode reserved characters in USER and PASSWORD.
- ``ses://REGION``: Amazon SES v2.

SMS:

- ``twilio://ACCOUNT_SID:AUTH_TOKEN@HOST[:PORT]`` (HOST is api.twilio.com for Twilio itself),
  optionally ``messaging_service_sid=MG…``; ``scheme=http`` only for loopback hosts.
- ``smpp://SYSTEM_ID:PASSWORD@HOST:PORT``: an SMSC over SMPP 3.4, one transceiver session;
  ``smpps://`` the same over TLS, which also takes ``tls_ca``. Both take ``system_type``,
  ``window`` (submit_sm awaiting their answers at once, default 10) and ``timeout``.
- ``sms-voice://REGION``: AWS End User Messaging SMS.

Voice:

- ``sms-voice://REGION``: AWS End User Messaging Voice.

All: ``outbox:`` (the default) writes messages to DATA_DIR/outbox/ instead of sending them.
The AWS ones take ``max_connections`` (default 10) and ``timeout`` too.

A URL that is not one of these raises ValueError saying what is wrong, with any password
replaced by ``***``.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from clarion.channels.kinds import APNS_CHANNELS, PUSH_CHANNELS, ChannelType
from clarion.delivery.apns import apns_adapter
from clarion.delivery.base import Adapter, Email, Sms, Voice
from clarion.delivery.fcm import fcm_adapter
from clarion.delivery.outbox import Outbox, outbox_path
from clarion.delivery.push import PUSH_PLATFORMS, Push
from clarion.delivery.ses import SesAdapter
from clarion.delivery.smpp import SmppAdapter
from clarion.delivery.sms_voice import SmsVoiceAdapter, VoiceMessageAdapter
from clarion.delivery.smtp import SmtpAdapter, SmtpSettings
from clarion.delivery.twilio import TwilioAdapter
from clarion.delivery.webpush import Vapid, WebPushAdapter
from clarion.numbers import integer
from clarion.outbound import OutboundPolicy, is_loopback

EMAIL_FORMS = (
    "smtp://[USER:PASSWORD@]HOST[:PORT], smtps://[USER:PASSWORD@]HOST[:PORT], "
    "ses://REGION or outbox:"
)
SMS_FORMS = (
    "twilio://ACCOUNT_SID:AUTH_TOKEN@HOST[:PORT], smpp://SYSTEM_ID:PASSWORD@HOST:PORT, "
    "smpps://SYSTEM_ID:PASSWORD@HOST:PORT, sms-voice://REGION or outbox:"
)
VOICE_FORMS = "sms-voice://REGION or outbox:"

_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
A = TypeVar("A", SesAdapter, SmsVoiceAdapter, VoiceMessageAdapter)


def email_adapter(url: str, *, data_dir: Path, aws_endpoint_url: str = "") -> Adapter[Email]:
    parts = _split(url, "e-mail")
    if parts.scheme in ("smtp", "smtps"):
        return SmtpAdapter(_smtp_settings(parts, url))
    if parts.scheme == "ses":
        return _aws(SesAdapter, parts, url, "e-mail", aws_endpoint_url)
    if parts.scheme == "outbox":
        _bare_outbox(parts, url, "e-mail")
        return Outbox[Email](outbox_path(data_dir, "email"))
    raise ValueError(f"e-mail URL {_redacted(url)!r} is not supported; use {EMAIL_FORMS}")


def sms_adapter(url: str, *, data_dir: Path, aws_endpoint_url: str = "") -> Adapter[Sms]:
    parts = _split(url, "SMS")
    if parts.scheme == "twilio":
        return _twilio(parts, url)
    if parts.scheme in ("smpp", "smpps"):
        return _smpp(parts, url)
    if parts.scheme == "sms-voice":
        return _aws(SmsVoiceAdapter, parts, url, "SMS", aws_endpoint_url)
    if parts.scheme == "outbox":
        _bare_outbox(parts, url, "SMS")
        return Outbox[Sms](outbox_path(data_dir, "sms"))
    raise ValueError(f"SMS URL {_redacted(url)!r} is not supported; use {SMS_FORMS}")


def voice_adapter(url: str, *, data_dir: Path, aws_endpoint_url: str = "") -> Adapter[Voice]:
    parts = _split(url, "voice")
    if parts.scheme == "sms-voice":
        return _aws(VoiceMessageAdapter, parts, url, "voice", aws_endpoint_url)
    if parts.scheme == "outbox":
        _bare_outbox(parts, url, "voice")
        return Outbox[Voice](outbox_path(data_dir, "voice"))
    raise ValueError(f"voice URL {_redacted(url)!r} is not supported; use {VOICE_FORMS}")


class _Options:
    """The query string of a URL, each option at most once and only the known ones."""

    def __init__(self, parts: SplitResult, url: str, channel: str, known: set[str]) -> None:
        self.url = f"{channel} URL {_redacted(url)!r}"
        values = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(values) - known)
        if unknown:
            allowed = ", ".join(sorted(known)) or "none"
            raise ValueError(f"{self.url}: unknown option {unknown[0]!r}; allowed: {allowed}")
        repeated = sorted(name for name, given in values.items() if len(given) > 1)
        if repeated:
            raise ValueError(f"{self.url}: option {repeated[0]!r} is given more than once")
        self.values = {name: given[0] for name, given in values.items()}

    def text(self, name: str) -> str | None:
        return self.values.get(name)

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.values.get(name, allowed[0])
        if value not in allowed:
            raise ValueError(f"{self.url}: {name} must be one of {', '.join(allowed)}")
        return value

    def count(self, name: str, default: int) -> int:
        value = self.values.get(name)
        if value is None:
            return default
        count = integer(value, 1, 100)
        if count is None:
            raise ValueError(f"{self.url}: {name} must be a whole number from 1 to 100")
        return count

    def seconds(self, name: str, default: float) -> float:
        value = self.values.get(name)
        if value is None:
            return default
        try:
            seconds = float(value)
        except ValueError:
            seconds = 0.0
        if not 0 < seconds <= 3600:
            raise ValueError(f"{self.url}: {name} must be a number of seconds from 0 to 3600")
        return seconds


def _split(url: str, channel: str) -> SplitResult:
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ValueError(f"{channel} URL {_redacted(url)!r} is malformed: {error}") from None
    if parts.fragment:
        raise ValueError(f"{channel} URL {_redacted(url)!r} must not have a #fragment")
    return parts


def _host_and_port(parts: SplitResult, where: str) -> tuple[str, int | None]:
    if not parts.hostname:
        raise ValueError(f"{where} has no host")
    if parts.path not in ("", "/"):
        raise ValueError(f"{where} must not have a path")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{where}: the port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValueError(f"{where}: the port must be a number from 1 to 65535")
    return parts.hostname, port


def _smtp_settings(parts: SplitResult, url: str) -> SmtpSettings:
    where = f"e-mail URL {_redacted(url)!r}"
    known = {"tls_ca", "max_connections", "timeout"}
    if parts.scheme == "smtp":
        known.add("starttls")
    options = _Options(parts, url, "e-mail", known)
    host, port = _host_and_port(parts, where)
    username, password = _credentials(parts)
    if (username is None) != (password is None):
        raise ValueError(f"{where} must give both a user and a password, or neither")
    tls_context = _private_ca(options, where)
    implicit_tls = parts.scheme == "smtps"
    starttls = "off" if implicit_tls else options.choice("starttls", ("auto", "require", "off"))
    return SmtpSettings(
        host=host,
        port=port or (465 if implicit_tls else 25),
        username=username,
        password=password,
        implicit_tls=implicit_tls,
        start_tls={"auto": None, "require": True, "off": False}[starttls],
        tls_context=tls_context,
        max_connections=options.count("max_connections", 4),
        timeout=options.seconds("timeout", 30.0),
    )


def _private_ca(options: _Options, where: str) -> ssl.SSLContext | None:
    ca = options.text("tls_ca")
    if ca is None:
        return None
    if not Path(ca).is_file():
        raise ValueError(f"{where}: tls_ca {ca!r} is not a readable file")
    try:
        return ssl.create_default_context(cafile=ca)
    except ssl.SSLError as error:
        raise ValueError(f"{where}: tls_ca {ca!r} holds no usable certificate: {error}") from None


def _twilio(parts: SplitResult, url: str) -> TwilioAdapter:
    where = f"SMS URL {_redacted(url)!r}"
    options = _Options(
        parts, url, "SMS", {"scheme", "messaging_service_sid", "max_connections", "timeout"}
    )
    account_sid, auth_token = _credentials(parts)
    if not account_sid or not auth_token:
        raise ValueError(f"{where} must give the account as ACCOUNT_SID:AUTH_TOKEN@HOST")
    host, port = _host_and_port(parts, where)
    scheme = options.choice("scheme", ("https", "http"))
    if scheme == "http" and not is_loopback(host):
        raise ValueError(f"{where}: scheme=http is allowed only for loopback hosts")
    authority = f"[{host}]" if ":" in host else host
    return TwilioAdapter(
        f"{scheme}://{authority}" + (f":{port}" if port else ""),
        account_sid,
        auth_token,
        messaging_service_sid=options.text("messaging_service_sid"),
        max_connections=options.count("max_connections", 10),
        timeout=options.seconds("timeout", 30.0),
    )


def _smpp(parts: SplitResult, url: str) -> SmppAdapter:
    where = f"SMS URL {_redacted(url)!r}"
    known = {"system_type", "window", "timeout"}
    if parts.scheme == "smpps":
        known.add("tls_ca")
    options = _Options(parts, url, "SMS", known)
    system_id, password = _credentials(parts)
    if not system_id or password is None:
        raise ValueError(f"{where} must give the account as SYSTEM_ID:PASSWORD@HOST:PORT")
    host, port = _host_and_port(parts, where)
    if port is None:
        raise ValueError(f"{where} must give the SMSC's port: HOST:PORT")
    system_type = options.text("system_type") or ""
    for name, value, longest in (
        ("system_id", system_id, 15),
        ("password", password, 8),
        ("system_type", system_type, 12),
    ):
        if len(value) > longest or not (value.isascii() and value.isprintable()):
            raise ValueError(
                f"{where}: the {name} must be at most {longest} printable ASCII characters"
            )
    tls = None
    if parts.scheme == "smpps":
        tls = _private_ca(options, where) or ssl.create_default_context()
    return SmppAdapter(
        host,
        port,
        system_id,
        password,
        system_type=system_type,
        tls=tls,
        window=options.count("window", 10),
        timeout=options.seconds("timeout", 30.0),
    )


def _aws(kind: type[A], parts: SplitResult, url: str, channel: str, endpoint_url: str) -> A:
    options = _Options(parts, url, channel, {"max_connections", "timeout"})
    return kind(
        _region(parts, url, channel),
        endpoint_url,
        max_connections=options.count("max_connections", 10),
        timeout=options.seconds("timeout", 30.0),
    )


def _region(parts: SplitResult, url: str, channel: str) -> str:
    region = parts.netloc
    if not _REGION.match(region) or parts.path not in ("", "/"):
        raise ValueError(
            f"{channel} URL {_redacted(url)!r} must name an AWS region: "
            f"{parts.scheme}://REGION, e.g. {parts.scheme}://us-east-1"
        )
    return region


def _bare_outbox(parts: SplitResult, url: str, channel: str) -> None:
    if parts.netloc or parts.path or parts.query:
        raise ValueError(
            f"{channel} URL {_redacted(url)!r}: write the outbox as just 'outbox:'; "
            "it is always DATA_DIR/outbox/"
        )


def _credentials(parts: SplitResult) -> tuple[str | None, str | None]:
    username = None if parts.username is None else unquote(parts.username)
    password = None if parts.password is None else unquote(parts.password)
    return username, password


def _redacted(url: str) -> str:
    """The URL with everything between ``//`` and the last ``@`` hidden: user names may be
    secrets too, and a password with an unescaped ``/`` or ``?`` still stays hidden."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def push_adapter(
    platform: str,
    credentials: Mapping[str, str],
    *,
    policy: OutboundPolicy,
    base_url: str | None = None,
    vapid: Vapid | None = None,
) -> Adapter[Push]:
    """The adapter for one app's push channel.

    ``credentials`` are the channel's stored members (``Channels.credentials``), plus its
    DefaultAuthenticationMethod setting when the caller has it. ``base_url`` replaces the
    provider's address (https, or http on a loopback host); for FCM the token URI comes from the
    ServiceJson. WEB needs the server's ``vapid`` key instead of credentials. ``policy`` governs
    the addresses users named: the token URI and web push subscriptions. Raises ValueError
    naming what is missing or malformed, never quoting a secret.
    """
    if platform == ChannelType.GCM:
        return fcm_adapter(credentials, policy=policy, base_url=base_url)
    if platform in APNS_CHANNELS:
        return apns_adapter(platform, credentials, base_url=base_url)
    if platform == "WEB":
        if vapid is None:
            raise ValueError("Web Push needs the server's VAPID key pair and subject")
        return WebPushAdapter(vapid, policy=policy)
    raise ValueError(
        f"push platform {platform!r} is not supported; use {', '.join(PUSH_PLATFORMS)}"
    )


@dataclass(frozen=True)
class Providers:
    """Where each channel's messages go: the operator's provider settings (CLARION_EMAIL_URL,
    CLARION_SMS_URL, CLARION_VOICE_URL, the push provider addresses) and the outbound policy
    for the addresses users name."""

    email_url: str
    sms_url: str
    voice_url: str
    data_dir: Path
    aws_endpoint_url: str
    fcm_url: str
    apns_url: str
    apns_sandbox_url: str
    policy: OutboundPolicy

    def adapter(
        self,
        channel: str,
        push_credentials: Callable[[], dict[str, str]],
        vapid: Callable[[], Vapid],
    ) -> Adapter[Any]:
        """The adapter for ``channel``: e-mail, SMS and voice as the settings say; device push
        through the app's channel credentials (read only when needed); web push signed with
        the server's VAPID key."""
        data_dir, aws = self.data_dir, self.aws_endpoint_url
        if channel == ChannelType.EMAIL:
            return email_adapter(self.email_url, data_dir=data_dir, aws_endpoint_url=aws)
        if channel == ChannelType.SMS:
            return sms_adapter(self.sms_url, data_dir=data_dir, aws_endpoint_url=aws)
        if channel == ChannelType.VOICE:
            return voice_adapter(self.voice_url, data_dir=data_dir, aws_endpoint_url=aws)
        if channel == ChannelType.PUSH:
            return push_adapter("WEB", {}, policy=self.policy, vapid=vapid())
        if channel in PUSH_CHANNELS:
            base_url = self.fcm_url if channel == ChannelType.GCM else self.apns_url
            if channel.endswith("SANDBOX"):
                base_url = self.apns_sandbox_url
            return push_adapter(
                channel, push_credentials(), policy=self.policy, base_url=base_url or None
            )
        raise ValueError(f"Clarion cannot deliver {channel} messages")
