"""Real protocol peers on 127.0.0.1 for the push adapters, and what they need to check what they
receive: ASGI servers (uvicorn for HTTP/1.1, hypercorn for HTTP/2) run in a thread and stopped
on exit, JWT verification, RFC 8291 decryption written from the RFC's own formulas, and keys
and certificates made on the spot."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from hypercorn.asyncio import serve
from hypercorn.config import Config
from hypercorn.typing import ASGIFramework
from starlette.types import ASGIApp

from tests.conftest import free_port


@contextmanager
def uvicorn_server(app: ASGIApp) -> Iterator[str]:
    """An HTTP/1.1 server on 127.0.0.1; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def hypercorn_server(
    app: ASGIApp,
    *,
    certificate: Path | None = None,
    key: Path | None = None,
    client_ca: Path | None = None,
) -> Iterator[int]:
    """An HTTP/2 server on 127.0.0.1: h2c with prior knowledge when plain, h2 by ALPN with a
    ``certificate``; with ``client_ca`` it demands a client certificate that CA signed. Yields
    its port."""
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.graceful_timeout = 1
    if certificate is not None:
        config.certfile, config.keyfile = str(certificate), str(key)
    if client_ca is not None:
        config.ca_certs = str(client_ca)
        config.verify_mode = ssl.CERT_REQUIRED
    started: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def main() -> None:
        stop = asyncio.Event()
        started.append((asyncio.get_running_loop(), stop))
        await serve(cast(ASGIFramework, app), config, shutdown_trigger=stop.wait)

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    _wait_for_port(port, thread)
    try:
        yield port
    finally:
        loop, stop = started[0]
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def _wait_for_port(port: int, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert thread.is_alive() and time.monotonic() < deadline, "hypercorn did not start"
            time.sleep(0.01)


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_jwt(
    token: str, key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a JWT whose signature ``key`` verifies; raises otherwise."""
    header_part, claims_part, signature_part = token.split(".")
    signed = f"{header_part}.{claims_part}".encode()
    signature = unb64url(signature_part)
    header: dict[str, Any] = json.loads(unb64url(header_part))
    if isinstance(key, rsa.RSAPublicKey):
        assert header["alg"] == "RS256"
        key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert header["alg"] == "ES256" and len(signature) == 64
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        key.verify(encode_dss_signature(r, s), signed, ec.ECDSA(hashes.SHA256()))
    claims: dict[str, Any] = json.loads(unb64url(claims_part))
    return header, claims


def decrypt_aes128gcm(
    body: bytes, browser_key: ec.EllipticCurvePrivateKey, auth_secret: bytes
) -> bytes:
    """RFC 8291 section 3.4 and RFC 8188, as a browser does it, in HMAC steps."""
    salt = body[:16]
    record_size, key_length = struct.unpack("!IB", body[16:21])
    server_point = body[21 : 21 + key_length]
    ciphertext = body[21 + key_length :]
    assert len(ciphertext) <= record_size, "more than one record"
    server_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), server_point)
    shared = browser_key.exchange(ec.ECDH(), server_key)
    browser_point = public_point(browser_key.public_key())
    key_info = b"WebPush: info\x00" + browser_point + server_point
    input_key = _hmac(_hmac(auth_secret, shared), key_info + b"\x01")
    pseudo_random_key = _hmac(salt, input_key)
    content_key = _hmac(pseudo_random_key, b"Content-Encoding: aes128gcm\x00\x01")[:16]
    nonce = _hmac(pseudo_random_key, b"Content-Encoding: nonce\x00\x01")[:12]
    padded = AESGCM(content_key).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
    assert padded.endswith(b"\x02"), "the last record lacks its delimiter"
    return padded[:-1]


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def public_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def private_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class ClientCertificate:
    """A certificate authority for clients and an APNs-style certificate it issued."""

    ca_file: Path
    certificate: str
    private_key: str


def apns_client_certificate(folder: Path, bundle_id: str) -> ClientCertificate:
    """Like the certificates Apple issues: the app's bundle id as the subject's UID."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Clarion test client CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.USER_ID, bundle_id),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"Apple Push Services: {bundle_id}"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "client-ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return ClientCertificate(
        ca_file,
        certificate.public_bytes(serialization.Encoding.PEM).decode(),
        private_pem(key),
    )


class MovableClock:
    """A clock that stands still until a test moves it."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
