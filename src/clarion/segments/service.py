"""Segments: CreateSegment, UpdateSegment (each update a new version), the reads, DeleteSegment.

A segment's definition — Name, Dimensions, SegmentGroups — is stored per version, as Pinpoint
keeps it, so campaigns can pin a version and GetSegmentVersion answers old ones unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from clarion import paging
from clarion.arns import Arns
from clarion.clock import Clock, epoch_ms, iso
from clarion.errors import BadRequest, NotFound
from clarion.numbers import version_number
from clarion.segments import membership
from clarion.segments.dimensions import count_dimensions
from clarion.store.segments import SegmentRepository, SegmentVersion
from clarion.tags import Tags, validate_tags

_DEFINITION = ("Name", "Dimensions", "SegmentGroups")
_CARRIED = (*_DEFINITION, "ImportDefinition")
SAMPLE_SIZE = 20


class Segments:
    def __init__(
        self,
        repo: SegmentRepository,
        tags: Tags,
        arns: Arns,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self._listings = paging.VersionListings(
            "segments", "segment-versions", repo, self._response
        )
        self.tags = tags
        self.arns = arns
        self.clock = clock

    def create(self, app_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        definition = self._definition({}, request, app_id, None)
        tags = request.get("tags") or {}
        validate_tags(tags, "WriteSegmentRequest.tags")
        segment_id = uuid.uuid4().hex
        self.repo.insert(app_id, segment_id, "DIMENSIONAL", iso(self.clock()), definition)
        self.tags.repo.put(self.arns.segment(app_id, segment_id), app_id, tags)
        return self.get(app_id, segment_id)

    def create_import(self, app_id: str, name: str, import_definition: Mapping[str, Any]) -> str:
        """A new IMPORT segment; its members are what import jobs list for it."""
        segment_id = uuid.uuid4().hex
        definition = {"Name": name, "ImportDefinition": dict(import_definition)}
        self.repo.insert(app_id, segment_id, "IMPORT", iso(self.clock()), definition)
        return segment_id

    def set_import_size(self, app_id: str, segment_id: str) -> None:
        """ImportDefinition.Size and ChannelCounts after an import job added members."""
        counts = self.repo.import_channel_counts(app_id, segment_id)
        self.repo.amend_import_definition(
            app_id, segment_id, {"Size": sum(counts.values()), "ChannelCounts": counts}
        )

    def update(self, app_id: str, segment_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        current = self._latest(app_id, segment_id)
        definition = self._definition(current.definition, request, app_id, segment_id)
        if "tags" in request:
            validate_tags(request["tags"] or {}, "WriteSegmentRequest.tags")
        if self.repo.add_version(app_id, segment_id, iso(self.clock()), definition) is None:
            raise NotFound(f"Segment not found: {segment_id}")
        if request.get("tags"):
            self.tags.tag(self.arns.segment(app_id, segment_id), request["tags"])
        return self.get(app_id, segment_id)

    def get(self, app_id: str, segment_id: str) -> dict[str, Any]:
        return self._response(app_id, self._latest(app_id, segment_id))

    def version(self, app_id: str, segment_id: str, version: str) -> dict[str, Any]:
        found = self.repo.version(app_id, segment_id, version_number(version, "Version"))
        if found is None:
            self._latest(app_id, segment_id)
            raise NotFound(f"Segment {segment_id} has no version {version}")
        return self._response(app_id, found)

    def page(self, app_id: str, size: str | None, token: str | None) -> dict[str, Any]:
        return self._listings.latest(app_id, size, token)

    def versions(
        self, app_id: str, segment_id: str, size: str | None, token: str | None
    ) -> dict[str, Any]:
        self._latest(app_id, segment_id)
        return self._listings.versions(app_id, segment_id, size, token)

    def delete(self, app_id: str, segment_id: str) -> dict[str, Any]:
        response = self.get(app_id, segment_id)
        self.repo.delete(app_id, segment_id)
        self.repo.delete_members(app_id, segment_id)
        self.tags.repo.remove_all(self.arns.segment(app_id, segment_id))
        return response

    def estimate(self, app_id: str, segment_id: str) -> dict[str, Any]:
        """The segment's size now and up to 20 member endpoint ids, for the console."""
        count, sample = self.repo.estimate(app_id, self.condition(app_id, segment_id), SAMPLE_SIZE)
        return {"Count": count, "SampleEndpointIds": sample}

    def condition(
        self, app_id: str, segment_id: str, version: int | None = None
    ) -> sa.ColumnElement[bool]:
        """Membership of the segment (at ``version``, else its latest) as one SQL condition."""
        found = (
            self._latest(app_id, segment_id)
            if version is None
            else self.repo.version(app_id, segment_id, version)
        )
        if found is None:
            raise NotFound(f"Segment {segment_id} has no version {version}")
        return membership.condition(segment_id, found.definition, self._scope(app_id))

    def dimensions_condition(
        self, app_id: str, dimensions: Mapping[str, Any]
    ) -> sa.ColumnElement[bool]:
        """Endpoints that meet SegmentDimensions as one SQL condition (a journey split's)."""
        return membership.condition("", {"Dimensions": dimensions}, self._scope(app_id))

    def revision(self, app_id: str, segment_id: str) -> str:
        """What changes when the segment's members may have: a new version, or an import
        into an imported segment (its ImportDefinition's size and channel counts)."""
        found = self._latest(app_id, segment_id)
        imported = found.definition.get("ImportDefinition") or {}
        return f"{found.version}:{found.last_modified_date}:{sorted(imported.items())}"

    def _scope(self, app_id: str) -> membership.Scope:
        return membership.Scope(
            app_id,
            lambda source, at: self._definition_of(app_id, source, at),
            epoch_ms(self.clock()),
            self.repo.db.dialect,
        )

    def exists(self, app_id: str, segment_id: str) -> bool:
        return self.repo.latest(app_id, segment_id) is not None

    def _definition_of(
        self, app_id: str, segment_id: str, version: int | None
    ) -> dict[str, Any] | None:
        found = self.repo.at(app_id, segment_id, version)
        return found.definition if found else None

    def _latest(self, app_id: str, segment_id: str) -> SegmentVersion:
        found = self.repo.latest(app_id, segment_id)
        if found is None:
            raise NotFound(f"Segment not found: {segment_id}")
        return found

    def _definition(
        self,
        current: Mapping[str, Any],
        request: Mapping[str, Any],
        app_id: str,
        segment_id: str | None,
    ) -> dict[str, Any]:
        """Members the request names replace the current version's; the rest carry over."""
        definition = {k: current[k] for k in _CARRIED if k in current}
        definition |= {k: request[k] for k in _DEFINITION if k in request}
        if not any(definition.get(k) for k in ("Dimensions", "SegmentGroups", "ImportDefinition")):
            raise BadRequest(
                "WriteSegmentRequest needs Dimensions or SegmentGroups to say who is in the segment"
            )
        self._check_sources(definition.get("SegmentGroups") or {}, app_id, segment_id)
        count_dimensions(definition, now_ms=epoch_ms(self.clock()))
        return definition

    def _check_sources(
        self, groups: Mapping[str, Any], app_id: str, segment_id: str | None
    ) -> None:
        for g, group in enumerate(groups.get("Groups") or []):
            for s, source in enumerate(group.get("SourceSegments") or []):
                path = f"WriteSegmentRequest.SegmentGroups.Groups[{g}].SourceSegments[{s}]"
                if source["Id"] == segment_id:
                    raise BadRequest(f"{path}: a segment cannot be built from itself")
                version = source.get("Version")
                if self.repo.at(app_id, source["Id"], version) is None:
                    named = source["Id"] if version is None else f"{source['Id']} version {version}"
                    raise BadRequest(f"{path}: there is no segment {named} in this app")

    def _response(self, app_id: str, version: SegmentVersion) -> dict[str, Any]:
        arn = self.arns.segment(app_id, version.segment_id)
        return {
            **version.definition,
            "ApplicationId": app_id,
            "Arn": arn,
            "Id": version.segment_id,
            "CreationDate": version.creation_date,
            "LastModifiedDate": version.last_modified_date,
            "SegmentType": version.segment_type,
            "Version": version.version,
            "tags": self.tags.repo.get(arn),
        }
