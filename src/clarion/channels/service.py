"""Get, update and delete an app's channels; the delivery layer reads credentials here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from clarion.channels.rules import PLATFORMS, ChannelState, Platform, apply_update, shown
from clarion.clock import Clock, iso
from clarion.errors import NotFound
from clarion.outbound import OutboundPolicy
from clarion.store.channels import ChannelRecord, ChannelRepository

_IN_APP = {"Enabled": True, "IsArchived": False, "Version": 0}
"""Pinpoint lists the in-app channel of every app in GetChannels; it has nothing to configure."""


class Channels:
    def __init__(self, repo: ChannelRepository, clock: Clock, policy: OutboundPolicy) -> None:
        self.repo = repo
        self.clock = clock
        self.policy = policy

    def get(self, app_id: str, platform: str) -> dict[str, Any]:
        return _response(PLATFORMS[platform], self._record(app_id, platform))

    def update(
        self, app_id: str, platform: str, request: Mapping[str, Any], modified_by: str
    ) -> dict[str, Any]:
        """Create the channel or change it; each write is a new Version."""
        rules = PLATFORMS[platform]
        if isinstance(request.get("ServiceJson"), str):
            self._check_token_uri(request["ServiceJson"], platform)

        def change(current: ChannelRecord | None) -> ChannelRecord:
            state = apply_update(rules, _state(current) if current else None, request)
            now = iso(self.clock())
            return ChannelRecord(
                app_id=app_id,
                channel_type=platform,
                enabled=state.enabled,
                version=current.version + 1 if current else 1,
                creation_date=current.creation_date if current else now,
                last_modified_date=now,
                last_modified_by=modified_by,
                settings=state.settings,
                credentials=state.credentials,
            )

        return _response(rules, self.repo.put(app_id, platform, change))

    def _check_token_uri(self, service_json: str, platform: str) -> None:
        """The service account names the address Clarion fetches tokens from: a user's
        address, so the outbound policy decides (the form is the channel rules' business)."""
        try:
            document = json.loads(service_json)
        except ValueError:
            return
        token_uri = document.get("token_uri") if isinstance(document, dict) else None
        if isinstance(token_uri, str) and token_uri:
            member = f"{PLATFORMS[platform].request}.ServiceJson token_uri"
            self.policy.check_url(token_uri, member)

    def delete(self, app_id: str, platform: str) -> dict[str, Any]:
        """Remove the channel and its credentials; answer it as it was."""
        record = self.repo.delete(app_id, platform)
        if record is None:
            raise _not_configured(app_id, platform)
        return _response(PLATFORMS[platform], record)

    def all(self, app_id: str) -> dict[str, dict[str, Any]]:
        """GetChannels: each configured channel by Platform, in the ChannelResponse shape."""
        channels: dict[str, dict[str, Any]] = {"IN_APP": dict(_IN_APP)}
        for record in self.repo.all(app_id):
            channels[record.channel_type] = _summary(PLATFORMS[record.channel_type], record)
        return channels

    def credentials(self, app_id: str, platform: str) -> dict[str, str]:
        """The stored secrets of a channel (keys, certificates, ServiceJson, BundleId…), for
        delivery only; never answer them."""
        return dict(self._record(app_id, platform).credentials)

    def _record(self, app_id: str, platform: str) -> ChannelRecord:
        record = self.repo.get(app_id, platform)
        if record is None:
            raise _not_configured(app_id, platform)
        return record


def _state(record: ChannelRecord) -> ChannelState:
    return ChannelState(record.enabled, record.settings, record.credentials)


def _not_configured(app_id: str, platform: str) -> NotFound:
    return NotFound(f"The {platform} channel is not configured for application {app_id}")


def _summary(platform: Platform, record: ChannelRecord) -> dict[str, Any]:
    summary = {
        "ApplicationId": record.app_id,
        "CreationDate": record.creation_date,
        "Enabled": record.enabled,
        "Id": platform.id,
        "IsArchived": False,
        "LastModifiedBy": record.last_modified_by,
        "LastModifiedDate": record.last_modified_date,
        "Version": record.version,
    }
    has_credential = platform.shown(record.credentials).get("HasCredential")
    if has_credential is not None:
        summary["HasCredential"] = has_credential
    return summary


def _response(platform: Platform, record: ChannelRecord) -> dict[str, Any]:
    return {
        **_summary(platform, record),
        **shown(platform, _state(record)),
        "Platform": platform.name,
    }
