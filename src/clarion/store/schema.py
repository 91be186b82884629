"""The one schema. Alembic migrations create it; a test checks they agree."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

apps = sa.Table(
    "apps",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("settings", Json, nullable=False),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("arn", sa.String(1024), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
    sa.Column("app_id", sa.String(64), nullable=True, index=True),
)

endpoints = sa.Table(
    "endpoints",
    metadata,
    sa.Column("ordinal", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("endpoint_id", sa.String(128), nullable=False),
    sa.Column("user_id", sa.String(128), nullable=True),
    sa.Column("channel_type", sa.String(32), nullable=True),
    sa.Column("address", sa.String(1024), nullable=True),
    sa.Column("opt_out", sa.String(16), nullable=True),
    sa.Column("endpoint_status", sa.String(16), nullable=True),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("document", Json, nullable=False),
    sa.UniqueConstraint("app_id", "endpoint_id"),
    sa.Index("ix_endpoints_app_user", "app_id", "user_id"),
    sa.Index("ix_endpoints_app_address", "app_id", "address"),
    sa.Index("ix_endpoints_app_ordinal", "app_id", "ordinal"),
)

attribute_names = sa.Table(
    "attribute_names",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
)

# Endpoints per demographic facet, kept current by every endpoint write (see
# clarion.store.facets): ``dimension`` is the report's dimension ("Platform",
# "Attributes.team", …). A row exists only while its count is above zero.
endpoint_facets = sa.Table(
    "endpoint_facets",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("dimension", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), primary_key=True),
    sa.Column("endpoints", sa.BigInteger, nullable=False),
)

access_keys = sa.Table(
    "access_keys",
    metadata,
    sa.Column("access_key_id", sa.String(32), primary_key=True),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("revoked_at", sa.String(32), nullable=True),
)

access_key_apps = sa.Table(
    "access_key_apps",
    metadata,
    sa.Column(
        "access_key_id",
        sa.String(32),
        sa.ForeignKey("access_keys.access_key_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("app_id", sa.String(64), primary_key=True),
)

# --- Events and analytics -------------------------------------------------------------------
# Raw events are kept (for event streams and re-computation); every standard report reads the
# per-app, per-day rollups below instead. ``day`` is the UTC date of the event's own timestamp
# as "YYYY-MM-DD", so late events land on their own day.

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("endpoint_key", sa.String(256), nullable=False),
    sa.Column("event_id", sa.String(256), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("arrival_ms", sa.BigInteger, nullable=False),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("session_id", sa.String(256), nullable=True),
    sa.Column("event", Json, nullable=False),
    sa.UniqueConstraint("app_id", "endpoint_key", "event_id"),
    sa.Index("ix_events_app_seq", "app_id", "seq"),
    sa.Index("ix_events_app_type_time", "app_id", "event_type", "timestamp_ms"),
)

event_types = sa.Table(
    "event_types",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("event_type", sa.String(64), primary_key=True),
)

endpoint_activity = sa.Table(
    "endpoint_activity",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("ordinal", sa.BigInteger, primary_key=True),
    sa.Column("first_day", sa.String(10), nullable=False),
    sa.Column("last_event_ms", sa.BigInteger, nullable=False),
    sa.Column("session_id", sa.String(256), nullable=True),
    sa.Column("session_start_ms", sa.BigInteger, nullable=True),
    sa.Column("session_stop_ms", sa.BigInteger, nullable=True),
    sa.Index("ix_endpoint_activity_first_day", "app_id", "first_day"),
)

daily_active = sa.Table(
    "daily_active",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("endpoints", sa.LargeBinary, nullable=False),
)

daily_sessions = sa.Table(
    "daily_sessions",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("sessions", sa.BigInteger, nullable=False),
    sa.Column("ended", sa.BigInteger, nullable=False),
    sa.Column("duration_ms", sa.BigInteger, nullable=False),
)

daily_events = sa.Table(
    "daily_events",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("event_type", sa.String(64), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)

daily_attributes = sa.Table(
    "daily_attributes",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("event_type", sa.String(64), primary_key=True),
    sa.Column("attribute", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)

daily_metrics = sa.Table(
    "daily_metrics",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("event_type", sa.String(64), primary_key=True),
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("total", sa.Float, nullable=False),
    sa.Column("minimum", sa.Float, nullable=False),
    sa.Column("maximum", sa.Float, nullable=False),
)

daily_revenue = sa.Table(
    "daily_revenue",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("currency", sa.String(16), primary_key=True),
    sa.Column("purchases", sa.BigInteger, nullable=False),
    sa.Column("quantity", sa.Float, nullable=False),
    sa.Column("revenue", sa.Float, nullable=False),
)

# Message events (``_email.*``, ``_SMS.*``, ``_push.*``, ``_campaign.*``) only, for the
# application KPIs: ``campaign_id`` is the sending campaign, "" for a transactional message
# (see clarion.events.messages). Campaign ids and attribute values are client data of up to 200
# characters; the attribute columns hold codes cut to 64.

daily_message_endpoints = sa.Table(
    "daily_message_endpoints",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("event_type", sa.String(64), primary_key=True),
    sa.Column("campaign_id", sa.String(256), primary_key=True),
    sa.Column("endpoints", sa.LargeBinary, nullable=False),
)

daily_message_facts = sa.Table(
    "daily_message_facts",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("event_type", sa.String(64), primary_key=True),
    sa.Column("campaign_id", sa.String(256), primary_key=True),
    sa.Column("iso_country_code", sa.String(64), primary_key=True),
    sa.Column("record_status", sa.String(64), primary_key=True),
    sa.Column("delivery_type", sa.String(64), primary_key=True),
    sa.Column("campaign_send_status", sa.String(64), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("parts", sa.BigInteger, nullable=False),
    sa.Column("priced", sa.BigInteger, nullable=False),
    sa.Column("price", sa.Float, nullable=False),
)

event_streams = sa.Table(
    "event_streams",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("destination_stream_arn", sa.String(1024), nullable=False),
    sa.Column("role_arn", sa.String(1024), nullable=False),
    sa.Column("last_modified_date", sa.String(32), nullable=False),
    sa.Column("last_updated_by", sa.String(256), nullable=True),
    sa.Column("exported_seq", sa.BigInteger, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
)

# --- Segments -------------------------------------------------------------------------------
# Each UpdateSegment writes a new version; the segment row points at the latest one.

segments = sa.Table(
    "segments",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("segment_type", sa.String(16), nullable=False),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.UniqueConstraint("app_id", "id"),
)

segment_versions = sa.Table(
    "segment_versions",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("segment_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("last_modified_date", sa.String(32), nullable=False),
    sa.Column("definition", Json, nullable=False),
)

# An IMPORT segment is the endpoints (kind "E", by lower-cased id) and users (kind "U") its
# import jobs listed, whatever they hold later.

segment_members = sa.Table(
    "segment_members",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("segment_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(1), primary_key=True),
    sa.Column("value", sa.String(128), primary_key=True),
)

# --- Import and export jobs -----------------------------------------------------------------
# ``position`` is where a resumed job carries on; a job is worked on by whoever holds an
# unexpired lease (``lease_until_ms``), renewed as it makes progress.

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("job_type", sa.String(8), nullable=False),
    sa.Column("segment_id", sa.String(64), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("completion_date", sa.String(32), nullable=True),
    sa.Column("definition", Json, nullable=False),
    sa.Column("total_pieces", sa.Integer, nullable=False),
    sa.Column("completed_pieces", sa.Integer, nullable=False),
    sa.Column("failed_pieces", sa.Integer, nullable=False),
    sa.Column("total_processed", sa.BigInteger, nullable=False),
    sa.Column("total_failures", sa.BigInteger, nullable=False),
    sa.Column("failures", Json, nullable=False),
    sa.Column("position", Json, nullable=False),
    sa.Column("lease_until_ms", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("app_id", "id"),
    sa.Index("ix_jobs_app_type", "app_id", "job_type", "seq"),
    sa.Index("ix_jobs_status", "status"),
)

# --- Outgoing messages ----------------------------------------------------------------------
# The delivery ledger: one row per message to one recipient, written before the first attempt
# and kept after the last, so nothing accepted is lost and nothing delivered is sent again.
# ``source_key`` names what asked for the message (a campaign run, endpoint and treatment), so
# a resumed run finds the messages it already made; ``message`` is the composed message that
# every retry sends unchanged, with its stable Message-ID.

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("message_id", sa.String(128), nullable=False, unique=True),
    sa.Column("source_key", sa.String(512), nullable=True, unique=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("address", sa.String(1024), nullable=False),
    sa.Column("endpoint_key", sa.String(128), nullable=True),
    sa.Column("campaign_id", sa.String(64), nullable=True),
    sa.Column("message", Json, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("next_attempt_ms", sa.BigInteger, nullable=False),
    sa.Column("lease_until_ms", sa.BigInteger, nullable=False),
    sa.Index("ix_deliveries_due", "status", "next_attempt_ms"),
    sa.Index("ix_deliveries_endpoint", "app_id", "endpoint_key", "created_ms"),
)

# One-time passwords of SendOTPMessage: only a salted hash of each code is kept, until it is
# verified, used up or replaced by a newer code for the same reference and destination.

otp_codes = sa.Table(
    "otp_codes",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("reference_id", sa.String(256), primary_key=True),
    sa.Column("destination", sa.String(64), primary_key=True),
    sa.Column("code_hash", sa.LargeBinary, nullable=False),
    sa.Column("salt", sa.LargeBinary, nullable=False),
    sa.Column("expires_ms", sa.BigInteger, nullable=False),
    sa.Column("attempts_left", sa.Integer, nullable=False),
)

# E-mail open and click tracking, on unless an app turns it off; the key that signs tracking
# links is made once per installation and shared by every node through the store.

email_tracking = sa.Table(
    "email_tracking",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("opens", sa.Boolean, nullable=False),
    sa.Column("clicks", sa.Boolean, nullable=False),
)

server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.LargeBinary, nullable=False),
)

# Opens and clicks already counted: a message's open has one row (``link`` ""), each link it
# was clicked on one more (``link`` the URL's SHA-256), so a pixel loaded or a link followed
# again records no second event.

email_engagements = sa.Table(
    "email_engagements",
    metadata,
    sa.Column("message_id", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("link", sa.String(64), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False, index=True),
)

# --- Channels -------------------------------------------------------------------------------
# One row per configured channel of an app. ``settings`` holds what Get*Channel answers;
# ``credentials`` (keys, certificates, secrets) only the delivery layer reads, never a response.

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("channel_type", sa.String(32), primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("last_modified_date", sa.String(32), nullable=False),
    sa.Column("last_modified_by", sa.String(256), nullable=False),
    sa.Column("settings", Json, nullable=False),
    sa.Column("credentials", Json, nullable=False),
)

# --- Message templates ----------------------------------------------------------------------
# Account-wide, keyed by name and type. Versions are numbered from 1 and a number is never given
# out twice (``last_version``); ``active_version`` is what reads and sends use by default.
# ``revision`` changes on every write of a version, so caches of compiled templates can tell.

templates = sa.Table(
    "templates",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("template_type", sa.String(8), nullable=False),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("active_version", sa.Integer, nullable=False),
    sa.Column("last_version", sa.Integer, nullable=False),
    sa.UniqueConstraint("name", "template_type"),
)

template_versions = sa.Table(
    "template_versions",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("template_type", sa.String(8), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("last_modified_date", sa.String(32), nullable=False),
    sa.Column("revision", sa.String(32), nullable=False),
    sa.Column("document", Json, nullable=False),
)

# --- Campaigns ------------------------------------------------------------------------------
# Each UpdateCampaign writes a new version; the campaign row points at the latest and holds
# the state Pinpoint reports (SCHEDULED, EXECUTING, PENDING_NEXT_RUN, COMPLETED, PAUSED…).

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.UniqueConstraint("app_id", "id"),
)

campaign_versions = sa.Table(
    "campaign_versions",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("campaign_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("last_modified_date", sa.String(32), nullable=False),
    sa.Column("definition", Json, nullable=False),
)

# One row per run of a campaign and treatment: Pinpoint's "activities". ``scheduled_ms`` is the
# run's nominal start, ``due_ms`` when the engine first looks at it (earlier for a local-time
# run, whose first time zones reach the run's wall-clock time up to 14 hours before UTC does);
# ``position`` is where a resumed run carries on; whoever holds the lease works on the run.

campaign_runs = sa.Table(
    "campaign_runs",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("campaign_id", sa.String(64), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("treatment_id", sa.String(16), nullable=False),
    sa.Column("campaign_version", sa.Integer, nullable=False),
    sa.Column("scheduled_ms", sa.BigInteger, nullable=False),
    sa.Column("due_ms", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("result", sa.String(32), nullable=True),
    sa.Column("start", sa.String(32), nullable=True),
    sa.Column("end", sa.String(32), nullable=True),
    sa.Column("total_endpoint_count", sa.Integer, nullable=False),
    sa.Column("successful_endpoint_count", sa.Integer, nullable=False),
    sa.Column("timezones_total_count", sa.Integer, nullable=False),
    sa.Column("timezones_completed_count", sa.Integer, nullable=False),
    sa.Column("metrics", Json, nullable=False),
    sa.Column("position", Json, nullable=False),
    sa.Column("lease_until_ms", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("app_id", "id"),
    sa.UniqueConstraint("app_id", "campaign_id", "scheduled_ms", "treatment_id"),
    sa.Index("ix_campaign_runs_state", "state", "due_ms"),
)

# --- journeys ---
# A journey is one row (Pinpoint keeps no journey versions). Each run is one reading of the
# start condition (a segment walk, or the life of an event-started journey); ``position`` is
# where its segment walk resumes. Every participant is a row: where it stands in the journey
# (``activity_id``), when it is due to move on (``due_ms``: a wait's end, an evaluation
# window's end, the end of a quiet time), and who holds it (``lease_until_ms``). Counters
# are the execution metrics, per run and activity ("" for the journey itself).

journeys = sa.Table(
    "journeys",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("last_modified_date", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("definition", Json, nullable=False),
    sa.UniqueConstraint("app_id", "id"),
    sa.Index("ix_journeys_state", "state"),
)

journey_runs = sa.Table(
    "journey_runs",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("journey_id", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("creation_ms", sa.BigInteger, nullable=False),
    sa.Column("last_update_ms", sa.BigInteger, nullable=False),
    sa.Column("position", Json, nullable=False),
    sa.Column("lease_until_ms", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("app_id", "journey_id", "run_id"),
    sa.Index("ix_journey_runs_status", "status"),
)

journey_participants = sa.Table(
    "journey_participants",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("journey_id", sa.String(64), nullable=False),
    sa.Column("endpoint_key", sa.String(256), nullable=False),
    sa.Column("entry", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("activity_id", sa.String(128), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("entered_ms", sa.BigInteger, nullable=False),
    sa.Column("arrived_ms", sa.BigInteger, nullable=False),
    sa.Column("due_ms", sa.BigInteger, nullable=False),
    sa.Column("lease_until_ms", sa.BigInteger, nullable=False),
    sa.Column("waiting", sa.Boolean, nullable=False),
    sa.UniqueConstraint("app_id", "journey_id", "endpoint_key", "entry"),
    sa.Index("ix_journey_participants_due", "state", "due_ms"),
)

journey_counters = sa.Table(
    "journey_counters",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("journey_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("activity_id", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)

# --- journey message rollups ---
# Message events a journey sent, per day, event type and activity (``journey_activity_id``, ""
# when absent): what the journey engagement metrics count, read with one key seek per journey.

daily_journey_messages = sa.Table(
    "daily_journey_messages",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("journey_id", sa.String(256), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("event_type", sa.String(64), primary_key=True),
    sa.Column("activity_id", sa.String(256), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)
