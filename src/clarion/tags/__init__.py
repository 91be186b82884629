"""Tags on apps, campaigns, segments, journeys and templates, with AWS's tagging rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from clarion.arns import Arns, Resource
from clarion.errors import BadRequest, NotFound
from clarion.store.tags import TagRepository

MAX_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
_ALLOWED_PUNCTUATION = set("_.:/=+-@ ")


def _allowed(text: str) -> bool:
    return all(ch.isalnum() or ch.isspace() or ch in _ALLOWED_PUNCTUATION for ch in text)


def validate_tags(tags: Mapping[str, str], path: str = "tags") -> None:
    """AWS's common tagging rules, so tags written here would be accepted by AWS too."""
    if len(tags) > MAX_TAGS:
        raise BadRequest(f"{path} has {len(tags)} tags; a resource can have at most {MAX_TAGS}")
    for key, value in tags.items():
        validate_tag_key(key, path)
        if len(value) > MAX_VALUE_LENGTH or not _allowed(value):
            raise BadRequest(
                f"{path}.{key}: a tag value is at most {MAX_VALUE_LENGTH} characters of letters, "
                "digits, spaces and _ . : / = + - @"
            )


def validate_tag_key(key: str, path: str = "tags") -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not _allowed(key):
        raise BadRequest(
            f"{path}: tag key {key!r} must be 1 to {MAX_KEY_LENGTH} characters of letters, "
            "digits, spaces and _ . : / = + - @"
        )
    if key.lower().startswith("aws:"):
        raise BadRequest(f"{path}: tag key {key!r} uses the reserved prefix aws:")


class Tags:
    def __init__(self, repo: TagRepository, arns: Arns, exists: Callable[[Resource], bool]) -> None:
        self.repo = repo
        self.arns = arns
        self.exists = exists

    def resource(self, arn: str) -> Resource:
        """The resource the ARN names, which must exist."""
        resource = self.arns.parse(arn)
        if not self.exists(resource):
            raise NotFound(f"Resource not found: {arn}")
        return resource

    def list(self, arn: str) -> dict[str, str]:
        self.resource(arn)
        return self.repo.get(arn)

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        resource = self.resource(arn)
        validate_tags(tags)
        merged = {**self.repo.get(arn), **tags}
        validate_tags(merged)
        self.repo.put(arn, resource.app_id, tags)

    def untag(self, arn: str, keys: Sequence[str]) -> None:
        self.resource(arn)
        if not keys:
            raise BadRequest("tagKeys: name at least one tag key to remove")
        self.repo.remove(arn, keys)
