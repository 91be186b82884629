"""Segments: create, update (new version), read, list, versions, delete."""

from __future__ import annotations

from typing import Any

from clarion.api.context import Context
from clarion.api.handlers import Input, Output
from clarion.api.native import NativeRequest


def create_segment(ctx: Context, params: Input) -> Output:
    segment = ctx.clarion.segments.create(params["ApplicationId"], params["WriteSegmentRequest"])
    return {"SegmentResponse": segment}


def update_segment(ctx: Context, params: Input) -> Output:
    segment = ctx.clarion.segments.update(
        params["ApplicationId"], params["SegmentId"], params["WriteSegmentRequest"]
    )
    return {"SegmentResponse": segment}


def get_segment(ctx: Context, params: Input) -> Output:
    return {
        "SegmentResponse": ctx.clarion.segments.get(params["ApplicationId"], params["SegmentId"])
    }


def get_segment_version(ctx: Context, params: Input) -> Output:
    segment = ctx.clarion.segments.version(
        params["ApplicationId"], params["SegmentId"], params["Version"]
    )
    return {"SegmentResponse": segment}


def get_segments(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.segments.page(
        params["ApplicationId"], params.get("PageSize"), params.get("Token")
    )
    return {"SegmentsResponse": page}


def get_segment_versions(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.segments.versions(
        params["ApplicationId"], params["SegmentId"], params.get("PageSize"), params.get("Token")
    )
    return {"SegmentsResponse": page}


def delete_segment(ctx: Context, params: Input) -> Output:
    segment = ctx.clarion.segments.delete(params["ApplicationId"], params["SegmentId"])
    return {"SegmentResponse": segment}


def segment_estimate(ctx: Context, request: NativeRequest) -> dict[str, Any]:
    """Clarion's own: the segment's size now and a sample of its endpoint ids."""
    return ctx.clarion.segments.estimate(
        request.path_params["application-id"], request.path_params["segment-id"]
    )
