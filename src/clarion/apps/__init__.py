"""Apps (Pinpoint's projects): creation, listing, deletion and per-app settings."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from clarion import paging
from clarion.apps.settings import apply_settings_update
from clarion.arns import Arns
from clarion.clock import Clock, iso
from clarion.errors import BadRequest, NotFound
from clarion.outbound import OutboundPolicy
from clarion.store.apps import AppRecord, AppRepository
from clarion.tags import Tags, validate_tags

MAX_NAME_LENGTH = 256
CONTACT_CENTER = "ClarionContactCenterUrl"
"""The settings member that holds the contact-center web hook; never in Pinpoint's answers."""


class Apps:
    def __init__(
        self,
        repo: AppRepository,
        tags: Tags,
        arns: Arns,
        clock: Clock,
        policy: OutboundPolicy,
    ) -> None:
        self.policy = policy
        self.repo = repo
        self.tags = tags
        self.arns = arns
        self.clock = clock

    def create(self, name: str, tags: Mapping[str, str]) -> dict[str, Any]:
        if not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise BadRequest(
                f"CreateApplicationRequest.Name must be 1 to {MAX_NAME_LENGTH} characters"
            )
        validate_tags(tags, "CreateApplicationRequest.tags")
        app_id = uuid.uuid4().hex
        self.repo.insert(app_id, name, iso(self.clock()), {})
        self.tags.repo.put(self.arns.app(app_id), app_id, tags)
        return self.get(app_id)

    def exists(self, app_id: str) -> bool:
        return self.repo.exists(app_id)

    def record(self, app_id: str) -> AppRecord:
        record = self.repo.get(app_id)
        if record is None:
            raise NotFound(f"Application not found: {app_id}")
        return record

    def get(self, app_id: str) -> dict[str, Any]:
        return self._response(self.record(app_id))

    def page(
        self, page_size: str | None, token: str | None, only: frozenset[str] | None
    ) -> dict[str, Any]:
        """One page of apps in creation order; ``only`` hides apps outside a key's scope."""
        return paging.page(
            "apps",
            page_size,
            token,
            lambda after, limit: self.repo.page(after, limit, only),
            lambda record: record.seq,
            self._response,
        )

    def delete(self, app_id: str) -> dict[str, Any]:
        response = self.get(app_id)
        self.repo.delete(app_id)
        return response

    def settings(self, app_id: str) -> dict[str, Any]:
        return self._settings_response(app_id, self.record(app_id).settings)

    def update_settings(self, app_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        hook_url = (request.get("CampaignHook") or {}).get("WebUrl")
        if hook_url:
            self.policy.check_url(hook_url, "WriteApplicationSettingsRequest.CampaignHook.WebUrl")
        settings = apply_settings_update(self.record(app_id).settings, request, iso(self.clock()))
        self.repo.update_settings(app_id, settings)
        return self._settings_response(app_id, settings)

    def contact_center(self, app_id: str) -> dict[str, Any]:
        """Where journeys' ContactCenter activities hand participants off: Clarion's own
        setting, as there is no Amazon Connect here (``docs/journeys.md``)."""
        url = self.record(app_id).settings.get(CONTACT_CENTER)
        return {"WebUrl": url} if url else {}

    def set_contact_center(self, app_id: str, url: str | None) -> dict[str, Any]:
        if url is not None:
            if urlsplit(url).scheme not in ("https", "http"):
                raise BadRequest(f"WebUrl must be an http(s) URL; got {url[:200]!r}")
            self.policy.check_url(url, "WebUrl")
        settings = {k: v for k, v in self.record(app_id).settings.items() if k != CONTACT_CENTER}
        if url is not None:
            settings[CONTACT_CENTER] = url
        self.repo.update_settings(app_id, settings)
        return self.contact_center(app_id)

    def _settings_response(self, app_id: str, settings: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "ApplicationId": app_id,
            **{k: v for k, v in settings.items() if k != CONTACT_CENTER},
        }

    def _response(self, record: AppRecord) -> dict[str, Any]:
        arn = self.arns.app(record.id)
        return {
            "Arn": arn,
            "Id": record.id,
            "Name": record.name,
            "CreationDate": record.creation_date,
            "tags": self.tags.repo.get(arn),
        }
