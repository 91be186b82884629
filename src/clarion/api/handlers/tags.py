"""TagResource, UntagResource and ListTagsForResource for every taggable ARN kind."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output
from clarion.errors import Forbidden


def _arn_in_scope(ctx: Context, arn: str, *, changing: bool) -> str:
    """Tags are reached by ARN, not app id, so the key's scope is checked here. Templates are
    the account's: a limited key may read their tags but not change them (see
    ``ACCOUNT_WIDE_WRITES``)."""
    if ctx.app_scope is not None:
        resource = ctx.clarion.arns.parse(arn)
        if resource.kind == "template" and not changing:
            return arn
        if resource.app_id is None or not ctx.may_see(resource.app_id):
            raise Forbidden(f"This access key may not act on {arn}")
    return arn


def list_tags(ctx: Context, params: Input) -> Output:
    arn = _arn_in_scope(ctx, params["ResourceArn"], changing=False)
    return {"TagsModel": {"tags": ctx.clarion.tags.list(arn)}}


def tag_resource(ctx: Context, params: Input) -> Output:
    arn = _arn_in_scope(ctx, params["ResourceArn"], changing=True)
    ctx.clarion.tags.tag(arn, params["TagsModel"]["tags"])
    return {}


def untag_resource(ctx: Context, params: Input) -> Output:
    arn = _arn_in_scope(ctx, params["ResourceArn"], changing=True)
    ctx.clarion.tags.untag(arn, params.get("TagKeys") or [])
    return {}
