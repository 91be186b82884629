"""Access keys: the credentials SigV4 requests are signed with, optionally limited to apps."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from clarion.clock import Clock, iso
from clarion.errors import NotFound
from clarion.store.keys import ActiveKey, KeyRecord, KeyRepository

__all__ = ["ActiveKey", "KeyRecord", "Keys"]

_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_access_key_id() -> str:
    """20 characters shaped like an AWS access key id, so SDKs and tools accept it as one."""
    return "AKCL" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret() -> str:
    return secrets.token_urlsafe(30)


class Keys:
    def __init__(self, repo: KeyRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    def create(self, name: str, app_ids: Sequence[str] = ()) -> tuple[str, str]:
        """A new key; the secret is returned once and never shown again."""
        access_key_id, secret = new_access_key_id(), new_secret()
        self.repo.insert(access_key_id, secret, name, iso(self.clock()), app_ids)
        return access_key_id, secret

    def active(self, access_key_id: str) -> ActiveKey | None:
        return self.repo.active(access_key_id)

    def all(self) -> list[KeyRecord]:
        return self.repo.all()

    def active_named(self, name: str) -> list[KeyRecord]:
        """Keys not revoked that carry the label ``name``, oldest first, so a caller that labels
        its key (``serve --new-key``) finds it again instead of making another."""
        return [r for r in self.repo.all() if r.name == name and r.revoked_at is None]

    def revoke(self, access_key_id: str) -> None:
        if not self.repo.revoke(access_key_id, iso(self.clock())):
            raise NotFound(f"No active access key {access_key_id}")
