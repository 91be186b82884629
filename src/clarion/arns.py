"""Pinpoint ARNs: building them with the configured region and account, and reading them back."""

from __future__ import annotations

import re
from dataclasses import dataclass

from clarion.errors import BadRequest

_APP_CHILD_KINDS = {"campaigns": "campaign", "segments": "segment", "journeys": "journey"}
_TEMPLATE_TYPES = {"EMAIL", "SMS", "PUSH", "VOICE", "INAPP"}
_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):mobiletargeting:(?P<region>[a-z0-9-]+):"
    r"(?P<account>\d{12}):(?P<resource>.+)$"
)
_ROLE_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$"
)


def check_role_arn(role_arn: str, path: str) -> None:
    """RoleArn members name an IAM role; Clarion stores it but does not assume it."""
    if not _ROLE_ARN.match(role_arn):
        raise BadRequest(
            f"{path} {role_arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
        )


@dataclass(frozen=True)
class Resource:
    """A taggable resource named by an ARN: an app, something inside an app, or a template."""

    kind: str
    app_id: str | None
    resource_id: str


@dataclass(frozen=True)
class Arns:
    region: str
    account_id: str

    def app(self, app_id: str) -> str:
        return f"arn:aws:mobiletargeting:{self.region}:{self.account_id}:apps/{app_id}"

    def segment(self, app_id: str, segment_id: str) -> str:
        return f"{self.app(app_id)}/segments/{segment_id}"

    def campaign(self, app_id: str, campaign_id: str) -> str:
        return f"{self.app(app_id)}/campaigns/{campaign_id}"

    def journey(self, app_id: str, journey_id: str) -> str:
        return f"{self.app(app_id)}/journeys/{journey_id}"

    def parse(self, arn: str) -> Resource:
        """The resource an ARN names; BadRequest unless it is one of Pinpoint's taggable kinds
        in this Clarion's region and account."""
        match = _ARN.match(arn)
        if not match:
            raise BadRequest(f"Invalid ARN: {arn}")
        if match["region"] != self.region or match["account"] != self.account_id:
            raise BadRequest(
                f"ARN {arn} is not in this service's region {self.region} "
                f"and account {self.account_id}"
            )
        parts = match["resource"].split("/")
        if len(parts) == 2 and parts[0] == "apps" and parts[1]:
            return Resource("app", parts[1], parts[1])
        if len(parts) == 4 and parts[0] == "apps" and parts[2] in _APP_CHILD_KINDS and parts[3]:
            return Resource(_APP_CHILD_KINDS[parts[2]], parts[1], parts[3])
        if len(parts) == 3 and parts[0] == "templates" and parts[1] and parts[2] in _TEMPLATE_TYPES:
            return Resource("template", None, f"{parts[1]}/{parts[2]}")
        raise BadRequest(f"ARN {arn} does not name a taggable Amazon Pinpoint resource")
