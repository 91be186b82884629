"""Signed JSON Web Tokens (RFC 7519) for the push providers' logins: RS256 for Google's
service-account assertions, ES256 for APNs provider tokens and VAPID.

Only signing: providers verify, Clarion never receives these tokens. Kept this small rather than
taking a JWT library, since ``cryptography`` already does the signing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWS and Web Push write it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Reads base64url with or without padding; raises ValueError for anything else."""
    text = text.strip()
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def load_signing_key(pem: str, what: str) -> SigningKey:
    """The RSA or P-256 key in an unencrypted PEM text. ``what`` names the setting in the error,
    which never quotes the key."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError(f"{what} is not an unencrypted PEM private key") from None
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise ValueError(f"{what} must be an RSA key or an elliptic-curve key on P-256")


def sign(claims: Mapping[str, Any], key: SigningKey, *, key_id: str | None = None) -> str:
    """A compact JWS over ``claims``: RS256 for an RSA key, ES256 for a P-256 key."""
    header: dict[str, str] = {"alg": "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"}
    header["typ"] = "JWT"
    if key_id is not None:
        header["kid"] = key_id
    signing_input = f"{_segment(header)}.{_segment(claims)}".encode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"


def _segment(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())
