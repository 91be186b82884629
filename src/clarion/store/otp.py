"""One-time password codes, one per app, ReferenceId and destination, in ``otp_codes``."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from clarion.store.database import Database
from clarion.store.schema import otp_codes


@dataclass(frozen=True)
class OtpKey:
    app_id: str
    reference_id: str
    destination: str


@dataclass(frozen=True)
class StoredCode:
    """A code as stored: only its salted hash, with its expiry and the wrong guesses left."""

    code_hash: bytes
    salt: bytes
    expires_ms: int
    attempts_left: int


class Guess(enum.Enum):
    """What a guess at a stored code was, and so what becomes of the code."""

    RIGHT = "right"
    """Used up."""
    WRONG = "wrong"
    """Costs an attempt."""
    VOID = "void"
    """No code, or one that takes no guesses (expired, no attempts left): left as it is."""


def _matching(key: OtpKey) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        otp_codes.c.app_id == key.app_id,
        otp_codes.c.reference_id == key.reference_id,
        otp_codes.c.destination == key.destination,
    )


class OtpRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def replace(self, key: OtpKey, code: StoredCode) -> None:
        """Store ``code`` in place of any code the key had."""
        with self.db.write() as conn:
            conn.execute(otp_codes.delete().where(*_matching(key)))
            conn.execute(
                otp_codes.insert().values(**dataclasses.asdict(key), **dataclasses.asdict(code))
            )

    def guess(self, key: OtpKey, judge: Callable[[StoredCode], Guess]) -> Guess:
        """Read the key's code, have ``judge`` tell what the guess at it was, and use it up or
        take an attempt off it accordingly, all in one transaction."""
        with self.db.write() as conn:
            row = conn.execute(sa.select(otp_codes).where(*_matching(key))).first()
            if row is None:
                return Guess.VOID
            verdict = judge(StoredCode(row.code_hash, row.salt, row.expires_ms, row.attempts_left))
            if verdict is Guess.RIGHT:
                conn.execute(otp_codes.delete().where(*_matching(key)))
            elif verdict is Guess.WRONG:
                conn.execute(
                    otp_codes.update()
                    .where(*_matching(key))
                    .values(attempts_left=otp_codes.c.attempts_left - 1)
                )
        return verdict
