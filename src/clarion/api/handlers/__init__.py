"""The API's surface in one place: every Pinpoint operation Clarion answers, and Clarion's own
routes under ``/clarion/``, each with its handler — a plain function from a validated input
dict to an output dict. An operation not in the table answers 501 NotImplementedException.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clarion.api.context import Context

if TYPE_CHECKING:
    from clarion.api import native

Input = dict[str, Any]
Output = dict[str, Any]
Handler = Callable[[Context, Input], Output]


@dataclass(frozen=True)
class Operation:
    handler: Handler
    inline: bool = False
    """Work the API's own quotas keep to a few small queries (an endpoint, a PutEvents batch):
    on SQLite it may run on the event loop, where a thread hand-off would cost more than the
    request. Every other operation runs on a worker thread, so none can stall the others."""


def operations() -> dict[str, Operation]:
    """Pinpoint's operations that Clarion implements, by name."""
    from clarion.api.handlers import (
        analytics,
        apps,
        campaign_kpis,
        campaigns,
        channels,
        endpoints,
        events,
        inapp,
        jobs,
        journeys,
        messages,
        phone,
        segments,
        streams,
        tags,
        templates,
    )

    explicit = {
        "GetApplicationDateRangeKpi": Operation(analytics.get_application_date_range_kpi),
        "CreateApp": Operation(apps.create_app),
        "GetApp": Operation(apps.get_app, inline=True),
        "GetApps": Operation(apps.get_apps, inline=True),
        "DeleteApp": Operation(apps.delete_app),
        "GetApplicationSettings": Operation(apps.get_application_settings),
        "UpdateApplicationSettings": Operation(apps.update_application_settings),
        "GetCampaignDateRangeKpi": Operation(campaign_kpis.get_campaign_date_range_kpi),
        "CreateCampaign": Operation(campaigns.create_campaign),
        "UpdateCampaign": Operation(campaigns.update_campaign),
        "GetCampaign": Operation(campaigns.get_campaign),
        "GetCampaignVersion": Operation(campaigns.get_campaign_version),
        "GetCampaigns": Operation(campaigns.get_campaigns),
        "GetCampaignVersions": Operation(campaigns.get_campaign_versions),
        "DeleteCampaign": Operation(campaigns.delete_campaign),
        "GetCampaignActivities": Operation(campaigns.get_campaign_activities),
        "GetChannels": Operation(channels.get_channels),
        "UpdateEndpoint": Operation(endpoints.update_endpoint, inline=True),
        "UpdateEndpointsBatch": Operation(endpoints.update_endpoints_batch, inline=True),
        "GetEndpoint": Operation(endpoints.get_endpoint, inline=True),
        "DeleteEndpoint": Operation(endpoints.delete_endpoint, inline=True),
        "GetUserEndpoints": Operation(endpoints.get_user_endpoints, inline=True),
        "DeleteUserEndpoints": Operation(endpoints.delete_user_endpoints),
        "RemoveAttributes": Operation(endpoints.remove_attributes),
        "PutEvents": Operation(events.put_events, inline=True),
        "GetInAppMessages": Operation(inapp.get_in_app_messages),
        "CreateImportJob": Operation(jobs.create_import_job),
        "GetImportJob": Operation(jobs.get_import_job),
        "GetImportJobs": Operation(jobs.get_import_jobs),
        "GetSegmentImportJobs": Operation(jobs.get_segment_import_jobs),
        "CreateExportJob": Operation(jobs.create_export_job),
        "GetExportJob": Operation(jobs.get_export_job),
        "GetExportJobs": Operation(jobs.get_export_jobs),
        "GetSegmentExportJobs": Operation(jobs.get_segment_export_jobs),
        "CreateJourney": Operation(journeys.create_journey),
        "GetJourney": Operation(journeys.get_journey),
        "UpdateJourney": Operation(journeys.update_journey),
        "UpdateJourneyState": Operation(journeys.update_journey_state),
        "DeleteJourney": Operation(journeys.delete_journey),
        "ListJourneys": Operation(journeys.list_journeys),
        "GetJourneyRuns": Operation(journeys.get_journey_runs),
        "GetJourneyDateRangeKpi": Operation(journeys.get_journey_date_range_kpi),
        "GetJourneyExecutionMetrics": Operation(journeys.get_journey_execution_metrics),
        "GetJourneyExecutionActivityMetrics": Operation(
            journeys.get_journey_execution_activity_metrics
        ),
        "GetJourneyRunExecutionMetrics": Operation(journeys.get_journey_run_execution_metrics),
        "GetJourneyRunExecutionActivityMetrics": Operation(
            journeys.get_journey_run_execution_activity_metrics
        ),
        "SendMessages": Operation(messages.send_messages),
        "SendUsersMessages": Operation(messages.send_users_messages),
        "SendOTPMessage": Operation(messages.send_otp_message),
        "VerifyOTPMessage": Operation(messages.verify_otp_message),
        "PhoneNumberValidate": Operation(phone.phone_number_validate),
        "CreateSegment": Operation(segments.create_segment),
        "UpdateSegment": Operation(segments.update_segment),
        "GetSegment": Operation(segments.get_segment),
        "GetSegmentVersion": Operation(segments.get_segment_version),
        "GetSegments": Operation(segments.get_segments),
        "GetSegmentVersions": Operation(segments.get_segment_versions),
        "DeleteSegment": Operation(segments.delete_segment),
        "PutEventStream": Operation(streams.put_event_stream),
        "GetEventStream": Operation(streams.get_event_stream),
        "DeleteEventStream": Operation(streams.delete_event_stream),
        "ListTagsForResource": Operation(tags.list_tags),
        "TagResource": Operation(tags.tag_resource),
        "UntagResource": Operation(tags.untag_resource),
        "ListTemplates": Operation(templates.list_templates),
        "ListTemplateVersions": Operation(templates.list_template_versions),
        "UpdateTemplateActiveVersion": Operation(templates.update_template_active_version),
    }
    families = {**channels.FAMILY_OPERATIONS, **templates.FAMILY_OPERATIONS}
    twice = sorted(explicit.keys() & families.keys())
    if twice:
        raise ValueError(f"operations with two handlers: {', '.join(twice)}")
    return explicit | {name: Operation(handler) for name, handler in families.items()}


def native_routes() -> list[native.Route]:
    """Clarion's own routes, for what Pinpoint's API lacks."""
    from clarion.api import native
    from clarion.api.handlers import (
        campaign_kpis,
        journeys,
        reports,
        segments,
        tracking,
        webpush,
    )

    return [
        native.Route(
            "GET",
            "/clarion/v1/apps/{application-id}/campaigns/{campaign-id}/treatments/{treatment-id}/kpis/{kpi-name}",
            campaign_kpis.treatment_kpi,
        ),
        native.Route(
            "GET", "/clarion/v1/apps/{application-id}/reports/{report}", reports.engagement_report
        ),
        native.Route(
            "POST", "/clarion/v1/apps/{application-id}/reports/funnel", reports.funnel_report
        ),
        native.Route(
            "GET",
            "/clarion/v1/apps/{application-id}/segments/{segment-id}/estimate",
            segments.segment_estimate,
        ),
        native.Route(
            "GET", "/clarion/v1/apps/{application-id}/email-tracking", tracking.get_email_tracking
        ),
        native.Route(
            "PUT", "/clarion/v1/apps/{application-id}/email-tracking", tracking.put_email_tracking
        ),
        native.Route("GET", "/clarion/v1/web-push/public-key", webpush.web_push_public_key),
        native.Route(
            "POST",
            "/clarion/v1/apps/{application-id}/journeys/{journey-id}/simulate",
            journeys.simulate_journey,
        ),
        native.Route(
            "GET", "/clarion/v1/apps/{application-id}/contact-center", journeys.get_contact_center
        ),
        native.Route(
            "PUT", "/clarion/v1/apps/{application-id}/contact-center", journeys.put_contact_center
        ),
    ]
