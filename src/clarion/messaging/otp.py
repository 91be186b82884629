"""One-time passwords: SendOTPMessage texts a fresh code, VerifyOTPMessage checks it.

Only a salted PBKDF2 hash of a code is stored. A code is good for ValidityPeriod minutes and
AllowedAttempts wrong guesses, is used up by a right one, and is replaced by the next code
sent for the same ReferenceId and destination.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from clarion.clock import Clock, epoch_ms
from clarion.errors import BadRequest
from clarion.messaging.service import Messages
from clarion.store.otp import Guess, OtpKey, OtpRepository, StoredCode

CODE_LENGTHS = range(4, 9)
VALIDITY_MINUTES = range(5, 61)
ATTEMPTS = range(1, 6)
DEFAULTS = {"CodeLength": 6, "ValidityPeriod": 15, "AllowedAttempts": 3}
_ITERATIONS = 20_000
_PATH = "SendOTPMessageRequestParameters"

BODIES = {
    "en-US": "This is your one-time password for {brand}: {code}",
    "en-GB": "This is your one-time password for {brand}: {code}",
    "es-ES": "Esta es tu contraseña de un solo uso para {brand}: {code}",
    "es-US": "Esta es tu contraseña de un solo uso para {brand}: {code}",
    "fr-FR": "Voici votre mot de passe à usage unique pour {brand} : {code}",
    "fr-CA": "Voici votre mot de passe à usage unique pour {brand} : {code}",
    "de-DE": "Ihr Einmalpasswort für {brand}: {code}",
    "it-IT": "Questa è la tua password monouso per {brand}: {code}",
    "pt-BR": "Esta é a sua senha de uso único para {brand}: {code}",
    "nl-NL": "Dit is uw eenmalige wachtwoord voor {brand}: {code}",
    "ja-JP": "{brand} のワンタイムパスワード: {code}",
    "zh-CN": "您的 {brand} 一次性密码: {code}",
}
"""The message text per Language (en-US when none is given)."""


def parameters(request: Mapping[str, Any]) -> dict[str, Any]:
    """The request with defaults filled in; BadRequest naming the member that is out of range."""
    checked = {**DEFAULTS, **{k: v for k, v in request.items() if v is not None}}
    for member, allowed in (
        ("CodeLength", CODE_LENGTHS),
        ("ValidityPeriod", VALIDITY_MINUTES),
        ("AllowedAttempts", ATTEMPTS),
    ):
        if checked[member] not in allowed:
            raise BadRequest(
                f"{_PATH}.{member} must be from {allowed.start} to {allowed.stop - 1}; "
                f"got {checked[member]}"
            )
    if checked["Channel"].upper() != "SMS":
        raise BadRequest(f"{_PATH}.Channel must be SMS; got {checked['Channel']!r}")
    language = checked.get("Language") or "en-US"
    if language not in BODIES:
        raise BadRequest(
            f"{_PATH}.Language {language!r} is not supported; use one of {', '.join(BODIES)}"
        )
    checked["Language"] = language
    for member in ("BrandName", "ReferenceId", "DestinationIdentity", "OriginationIdentity"):
        if not str(checked.get(member) or "").strip():
            raise BadRequest(f"{_PATH}.{member} must not be empty")
    return checked


def new_code(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


def digest(code: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", code.encode(), salt, _ITERATIONS)


class Otp:
    def __init__(self, repo: OtpRepository, messages: Messages, clock: Clock) -> None:
        self.repo = repo
        self.messages = messages
        self.clock = clock

    def send(self, app_id: str, request: Mapping[str, Any], request_id: str) -> dict[str, Any]:
        checked = parameters(request)
        code = new_code(checked["CodeLength"])
        salt = secrets.token_bytes(16)
        self.repo.replace(
            OtpKey(app_id, checked["ReferenceId"], checked["DestinationIdentity"]),
            StoredCode(
                digest(code, salt),
                salt,
                epoch_ms(self.clock()) + checked["ValidityPeriod"] * 60_000,
                checked["AllowedAttempts"],
            ),
        )
        body = BODIES[checked["Language"]].format(
            brand="{{Attributes.BrandName}}", code="{{Attributes.Otp}}"
        )
        substitutions = {"Attributes.BrandName": [checked["BrandName"]], "Attributes.Otp": [code]}
        return self.messages.send(
            app_id,
            {
                "Addresses": {
                    checked["DestinationIdentity"]: {
                        "ChannelType": "SMS",
                        "Substitutions": substitutions,
                    }
                },
                "MessageConfiguration": {
                    "SMSMessage": {
                        "Body": body,
                        "MessageType": "TRANSACTIONAL",
                        "OriginationNumber": checked["OriginationIdentity"],
                        "EntityId": checked.get("EntityId"),
                        "TemplateId": checked.get("TemplateId"),
                    }
                },
            },
            request_id,
            sensitive=True,
        )

    def verify(self, app_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """Valid only for the right code, in time, within the attempts allowed; a right code
        is used up, a wrong one costs an attempt."""

        def judge(stored: StoredCode) -> Guess:
            if stored.expires_ms < epoch_ms(self.clock()) or stored.attempts_left < 1:
                return Guess.VOID
            right = hmac.compare_digest(digest(request["Otp"], stored.salt), stored.code_hash)
            return Guess.RIGHT if right else Guess.WRONG

        key = OtpKey(app_id, request["ReferenceId"], request["DestinationIdentity"])
        return {"Valid": self.repo.guess(key, judge) is Guess.RIGHT}
