"""Import and export jobs."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output


def create_import_job(ctx: Context, params: Input) -> Output:
    job, _ = ctx.clarion.jobs.create_import(params["ApplicationId"], params["ImportJobRequest"])
    return {"ImportJobResponse": job}


def get_import_job(ctx: Context, params: Input) -> Output:
    job = ctx.clarion.jobs.get(params["ApplicationId"], params["JobId"], "IMPORT")
    return {"ImportJobResponse": job}


def get_import_jobs(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.jobs.page(
        params["ApplicationId"], "IMPORT", params.get("PageSize"), params.get("Token")
    )
    return {"ImportJobsResponse": page}


def get_segment_import_jobs(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.jobs.page(
        params["ApplicationId"],
        "IMPORT",
        params.get("PageSize"),
        params.get("Token"),
        segment_id=params["SegmentId"],
    )
    return {"ImportJobsResponse": page}


def create_export_job(ctx: Context, params: Input) -> Output:
    job = ctx.clarion.jobs.create_export(params["ApplicationId"], params["ExportJobRequest"])
    return {"ExportJobResponse": job}


def get_export_job(ctx: Context, params: Input) -> Output:
    job = ctx.clarion.jobs.get(params["ApplicationId"], params["JobId"], "EXPORT")
    return {"ExportJobResponse": job}


def get_export_jobs(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.jobs.page(
        params["ApplicationId"], "EXPORT", params.get("PageSize"), params.get("Token")
    )
    return {"ExportJobsResponse": page}


def get_segment_export_jobs(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.jobs.page(
        params["ApplicationId"],
        "EXPORT",
        params.get("PageSize"),
        params.get("Token"),
        segment_id=params["SegmentId"],
    )
    return {"ExportJobsResponse": page}
