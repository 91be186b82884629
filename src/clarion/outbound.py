"""The outbound-address policy: where the server may connect on a user's behalf.

Every connection whose address comes from an API request or from data users stored (import
sources, export targets, event-stream destinations, campaign and application hooks, custom
delivery URIs, a service account's token_uri, a web push subscription) goes through one
``OutboundPolicy``. An address is permitted when it is global (public), or when it lies in a
network the operator allowed with ``CLARION_OUTBOUND_ALLOW``; loopback, private, link-local
(169.254.169.254, fd00:ec2::254), shared, reserved, multicast and unspecified addresses are
refused otherwise. Names are resolved and every address they resolve to must be permitted.

The rule is applied twice: when a URL is stored (BadRequest naming the member), and again when
each connection is opened — HTTP clients from ``http_client``/``async_http_client`` resolve and
check the name inside the connection itself and connect to the address they checked, so DNS
rebinding and redirects to other hosts meet the same rule. Plain ``http://`` is allowed only to
hosts in the operator's allowed networks: traffic to the open internet is encrypted.

Addresses from Clarion's own configuration (CLARION_EMAIL_URL, CLARION_SMS_URL,
CLARION_AWS_ENDPOINT_URL, CLARION_FCM_URL, …) are the operator's choice and are not checked.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

from clarion.errors import BadRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)


class Refused(Exception):
    """The policy does not let the server connect to this host."""


class Unresolved(Refused):
    """The name does not resolve now: nothing to connect to, and nothing to judge yet."""


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """``10.0.0.0/8,192.168.1.5,::1`` (commas, spaces or colons between IPv4 entries are not
    accepted: IPv6 needs the colons) as networks; ValueError names the entry that is not one."""
    networks = []
    for entry in text.replace(" ", ",").split(","):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (CIDR)") from None
    return tuple(networks)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is written as a loopback address (no lookup): for the operator's own
    provider URLs, where plain http is accepted only when nothing leaves the machine."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class OutboundPolicy:
    def __init__(self, allowed: Iterable[IPNetwork] = ()) -> None:
        self.allowed = tuple(allowed)

    def permits(self, address: IPAddress) -> bool:
        address = _unmapped(str(address))
        if any(address in network for network in self.allowed):
            return True
        return address.is_global and not address.is_multicast

    def operator_allowed(self, address: IPAddress) -> bool:
        address = _unmapped(str(address))
        return any(address in network for network in self.allowed)

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to, all of them permitted; Refused otherwise."""
        return self._checked(host, _lookup(host, port))

    async def resolve_async(self, host: str, port: int) -> list[IPAddress]:
        try:
            found = await anyio.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise Unresolved(f"{host} cannot be resolved: {error}") from None
        return self._checked(host, _addresses(found))

    def _checked(self, host: str, addresses: Sequence[IPAddress]) -> list[IPAddress]:
        refused = [a for a in addresses if not self.permits(a)]
        if refused:
            raise Refused(
                f"{host} resolves to {refused[0]}, {_kind(refused[0])} address the server may "
                "not connect to on a user's behalf (an operator can allow networks with "
                "CLARION_OUTBOUND_ALLOW)"
            )
        if not addresses:
            raise Refused(f"{host} resolves to no address")
        return list(addresses)

    def check_url(self, url: str, member: str, schemes: Sequence[str] = ("https", "http")) -> None:
        """BadRequest naming ``member`` unless ``url`` may be connected to: a scheme of
        ``schemes``, a host whose addresses are permitted (a name that does not resolve now is
        checked again when connecting), plain http only inside the operator's networks."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise BadRequest(f"{member} {url!r} is not a valid URL: {error}") from None
        if parts.scheme not in schemes:
            allowed = ", ".join(f"{scheme}://" for scheme in schemes)
            raise BadRequest(f"{member} {url!r} must be a URL of {allowed}")
        if not parts.hostname:
            raise BadRequest(f"{member} {url!r} has no host")
        port = port or _DEFAULT_PORTS.get(parts.scheme, 443)
        addresses = self.check_host(parts.hostname, port, member)
        if parts.scheme == "http":
            self._only_inside(addresses, member, url)

    def check_host(self, host: str, port: int, member: str) -> list[IPAddress]:
        """BadRequest unless ``host`` is permitted; what it resolves to now, nothing for a name
        that does not resolve now (it is checked again when connecting)."""
        if "\x00" in host:
            raise BadRequest(f"{member}: the host name holds a NUL character")
        try:
            return self.resolve(host, port)
        except Unresolved:
            return []
        except Refused as refusal:
            raise BadRequest(f"{member}: {refusal}") from None

    def check_plain(self, host: str, member: str, url: str) -> None:
        """Plain http only to hosts inside the operator's allowed networks."""
        try:
            addresses = _lookup(host, 80)
        except Unresolved:
            addresses = []
        self._only_inside(addresses, member, url)

    def _only_inside(self, addresses: Sequence[IPAddress], member: str, url: str) -> None:
        if not addresses or not all(self.operator_allowed(a) for a in addresses):
            raise BadRequest(
                f"{member} {url!r}: plain http is allowed only to hosts in the networks the "
                "operator allowed (CLARION_OUTBOUND_ALLOW); use https"
            )

    def http_client(self, **options: Any) -> httpx.Client:
        """An httpx client whose every connection, redirects included, obeys the policy."""

        def plain_only_inside(request: httpx.Request) -> None:
            if request.url.scheme == "http":
                try:
                    self.check_plain(request.url.host, "the request", str(request.url))
                except BadRequest as refusal:
                    raise httpx.ConnectError(refusal.message, request=request) from None

        return httpx.Client(
            transport=_Transport(self, http2=options.pop("http2", False)),
            trust_env=False,
            event_hooks={"request": [plain_only_inside]},
            **options,
        )

    def async_http_client(self, **options: Any) -> httpx.AsyncClient:
        limits = options.pop("limits", httpx.Limits())
        transport = _AsyncTransport(self, http2=options.pop("http2", False), limits=limits)
        return httpx.AsyncClient(transport=transport, trust_env=False, **options)


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _lookup(host: str, port: int) -> list[IPAddress]:
    try:
        found = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Unresolved(f"{host} cannot be resolved: {error}") from None
    return _addresses(found)


def _addresses(found: Sequence[tuple[Any, ...]]) -> list[IPAddress]:
    """getaddrinfo's answers as addresses, once each, zone ids dropped."""
    return list(dict.fromkeys(_unmapped(str(info[4][0]).partition("%")[0]) for info in found))


def _unmapped(text: str) -> IPAddress:
    """The address, IPv4-mapped IPv6 (::ffff:a.b.c.d) judged as the IPv4 address it is."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _kind(address: IPAddress) -> str:
    for attribute, name in (
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_unspecified", "an unspecified"),
        ("is_multicast", "a multicast"),
        ("is_private", "a private"),
    ):
        if getattr(address, attribute):
            return name
    return "a non-public"


class _CheckedBackend(httpcore.NetworkBackend):
    """Resolves and checks the host inside the connection, then connects to the address it
    checked: what was checked is what is connected to. TLS still verifies the host name."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.policy.resolve(host, port)
        except Refused as refusal:
            raise httpcore.ConnectError(str(refusal)) from None
        return self.inner.connect_tcp(
            str(addresses[0]), port, timeout, local_address, socket_options
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not an outbound address")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _AsyncCheckedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self.policy.resolve_async(host, port)
        except Refused as refusal:
            raise httpcore.ConnectError(str(refusal)) from None
        return await self.inner.connect_tcp(
            str(addresses[0]), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not an outbound address")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    """httpx's transport (its request and error mapping) over a pool on the checked backend."""

    def __init__(self, policy: OutboundPolicy, *, http2: bool) -> None:
        super().__init__(trust_env=False, http2=http2)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(),
            http1=True,
            http2=http2,
            network_backend=_CheckedBackend(policy),
        )


class _AsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: OutboundPolicy, *, http2: bool, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, http2=http2)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            network_backend=_AsyncCheckedBackend(policy),
        )
