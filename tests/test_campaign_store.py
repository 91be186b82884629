"""The campaign repository and the scheduler's side of the Campaigns service, on SQLite and
PostgreSQL: versions, states written under the row lock, runs read back as activities, and
deletion that takes versions and runs along."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from clarion.arns import Arns
from clarion.campaigns.service import Campaigns
from clarion.errors import BadRequest, NotFound
from clarion.outbound import LOOPBACK, OutboundPolicy
from clarion.segments.service import Segments
from clarion.store.campaigns import CampaignRepository, CampaignRun
from clarion.store.database import Database
from clarion.store.schema import campaign_runs
from clarion.store.segments import SegmentRepository
from clarion.store.tags import TagRepository
from clarion.tags import Tags

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
ARNS = Arns("us-east-1", "000000000000")


@pytest.fixture
def repo(db: Database) -> CampaignRepository:
    return CampaignRepository(db)


@pytest.fixture
def app_id() -> str:
    return uuid.uuid4().hex


def new_campaign(repo: CampaignRepository, app_id: str, state: str = "SCHEDULED") -> str:
    campaign_id = uuid.uuid4().hex
    repo.insert(app_id, campaign_id, "2030-01-01T00:00:00.000Z", state, {"Name": "v1"})
    return campaign_id


def add_run(db: Database, app_id: str, campaign_id: str, scheduled_ms: int, **values: Any) -> str:
    run_id = uuid.uuid4().hex
    row = {
        "app_id": app_id,
        "campaign_id": campaign_id,
        "id": run_id,
        "treatment_id": "0",
        "campaign_version": 1,
        "scheduled_ms": scheduled_ms,
        "due_ms": scheduled_ms,
        "state": "PENDING",
        "total_endpoint_count": 0,
        "successful_endpoint_count": 0,
        "timezones_total_count": 0,
        "timezones_completed_count": 0,
        "metrics": {},
        "position": {},
        "lease_until_ms": 0,
        **values,
    }
    with db.write() as conn:
        conn.execute(campaign_runs.insert(), [row])
    return run_id


def test_versions_are_kept_and_listed_in_order(repo: CampaignRepository, app_id: str) -> None:
    campaign_id = new_campaign(repo, app_id)
    for number in (2, 3):
        stored = repo.add_version(
            app_id, campaign_id, f"2030-01-0{number}T00:00:00.000Z", {"Name": f"v{number}"}, str
        )
        assert stored == number
    latest = repo.latest(app_id, campaign_id)
    assert latest is not None
    assert (latest.version, latest.definition, latest.creation_date) == (
        3,
        {"Name": "v3"},
        "2030-01-01T00:00:00.000Z",
    )
    assert latest.last_modified_date == "2030-01-03T00:00:00.000Z"
    first = repo.version(app_id, campaign_id, 1)
    assert first is not None and first.definition == {"Name": "v1"}
    assert repo.version(app_id, campaign_id, 4) is None
    assert [v.version for v in repo.versions(app_id, campaign_id, 1, 10)] == [2, 3]
    assert [v.version for v in repo.versions(app_id, campaign_id, 0, 2)] == [1, 2]
    assert repo.latest(uuid.uuid4().hex, campaign_id) is None, "another app sees nothing"


def test_campaigns_are_paged_per_app_in_creation_order(
    repo: CampaignRepository, app_id: str
) -> None:
    ids = [new_campaign(repo, app_id) for _ in range(3)]
    new_campaign(repo, uuid.uuid4().hex)
    page = repo.page(app_id, 0, 2)
    assert [v.campaign_id for _, v in page] == ids[:2]
    assert [v.campaign_id for _, v in repo.page(app_id, page[-1][0], 10)] == ids[2:]


def test_a_new_version_sets_the_state_made_of_the_current_one(
    repo: CampaignRepository, app_id: str
) -> None:
    campaign_id = new_campaign(repo, app_id, "PAUSED")
    seen: list[str] = []

    def resume(state: str) -> str:
        seen.append(state)
        return "SCHEDULED"

    assert repo.add_version(app_id, campaign_id, "2030-01-02T00:00:00.000Z", {}, resume) == 2
    assert seen == ["PAUSED"]
    latest = repo.latest(app_id, campaign_id)
    assert latest is not None and latest.state == "SCHEDULED"

    def refuse(state: str) -> str:
        raise BadRequest(f"no updates while {state}")

    with pytest.raises(BadRequest):
        repo.add_version(app_id, campaign_id, "2030-01-03T00:00:00.000Z", {"Name": "x"}, refuse)
    after = repo.latest(app_id, campaign_id)
    assert after is not None and (after.version, after.state) == (2, "SCHEDULED")
    assert repo.add_version(app_id, uuid.uuid4().hex, "2030-01-03T00:00:00.000Z", {}, str) is None


def test_state_moves_only_out_of_the_states_named(repo: CampaignRepository, app_id: str) -> None:
    campaign_id = new_campaign(repo, app_id, "PAUSED")
    assert not repo.set_state(app_id, campaign_id, "EXECUTING", ["SCHEDULED"])
    found = repo.latest(app_id, campaign_id)
    assert found is not None and found.state == "PAUSED"
    assert repo.set_state(app_id, campaign_id, "EXECUTING", ["SCHEDULED", "PAUSED"])
    assert repo.set_state(app_id, campaign_id, "COMPLETED", None)
    found = repo.latest(app_id, campaign_id)
    assert found is not None and found.state == "COMPLETED"
    assert not repo.set_state(app_id, uuid.uuid4().hex, "COMPLETED", None)


def test_runs_are_read_in_order_for_their_campaign_only(
    db: Database, repo: CampaignRepository, app_id: str
) -> None:
    campaign_id, other = new_campaign(repo, app_id), new_campaign(repo, app_id)
    done = add_run(
        db,
        app_id,
        campaign_id,
        1_000,
        treatment_id="1",
        state="COMPLETED",
        result="SUCCESS",
        start="2030-01-01T00:00:01.000Z",
        end="2030-01-01T00:00:02.000Z",
        total_endpoint_count=3,
        successful_endpoint_count=2,
        timezones_total_count=1,
        timezones_completed_count=1,
        metrics={"SUCCESSFUL_ENDPOINT_COUNT": 2},
    )
    waiting = add_run(db, app_id, campaign_id, 2_000)
    add_run(db, app_id, other, 1_500)
    runs = repo.runs(app_id, campaign_id, 0, 10)
    assert [run for _, run in runs] == [
        CampaignRun(
            done,
            "1",
            1_000,
            "COMPLETED",
            "SUCCESS",
            "2030-01-01T00:00:01.000Z",
            "2030-01-01T00:00:02.000Z",
            3,
            2,
            1,
            1,
            {"SUCCESSFUL_ENDPOINT_COUNT": 2},
        ),
        CampaignRun(waiting, "0", 2_000, "PENDING", None, None, None, 0, 0, 0, 0, {}),
    ]
    assert [run.id for _, run in repo.runs(app_id, campaign_id, runs[0][0], 10)] == [waiting]


def test_delete_takes_versions_and_runs_and_leaves_the_rest(
    db: Database, repo: CampaignRepository, app_id: str
) -> None:
    campaign_id, kept = new_campaign(repo, app_id), new_campaign(repo, app_id)
    repo.add_version(app_id, campaign_id, "2030-01-02T00:00:00.000Z", {}, str)
    add_run(db, app_id, campaign_id, 1_000)
    add_run(db, app_id, kept, 1_000)
    repo.delete(app_id, campaign_id)
    assert repo.latest(app_id, campaign_id) is None
    assert repo.versions(app_id, campaign_id, 0, 10) == []
    assert repo.runs(app_id, campaign_id, 0, 10) == []
    assert repo.latest(app_id, kept) is not None
    assert len(repo.runs(app_id, kept, 0, 10)) == 1


def test_segments_keep_versions_the_same_way_and_their_type(db: Database, app_id: str) -> None:
    segments = SegmentRepository(db)
    segment_id, kept = uuid.uuid4().hex, uuid.uuid4().hex
    segments.insert(app_id, segment_id, "IMPORT", "2030-01-01T00:00:00.000Z", {"Name": "v1"})
    segments.insert(app_id, kept, "DIMENSIONAL", "2030-01-01T00:00:00.000Z", {"Name": "k"})
    assert segments.add_version(app_id, segment_id, "2030-01-02T00:00:00.000Z", {"Name": "v2"})
    assert segments.add_version(app_id, uuid.uuid4().hex, "2030-01-02T00:00:00.000Z", {}) is None
    latest = segments.at(app_id, segment_id, None)
    assert latest is not None
    assert (latest.version, latest.segment_type, latest.definition) == (2, "IMPORT", {"Name": "v2"})
    first = segments.at(app_id, segment_id, 1)
    assert first is not None and first.definition == {"Name": "v1"}
    assert segments.at(app_id, segment_id, 3) is None
    assert [(v.segment_id, v.version) for _, v in segments.page(app_id, 0, 10)] == [
        (segment_id, 2),
        (kept, 1),
    ]
    segments.delete(app_id, segment_id)
    assert segments.latest(app_id, segment_id) is None
    assert segments.versions(app_id, segment_id, 0, 10) == []
    assert segments.latest(app_id, kept) is not None


@pytest.fixture
def campaigns(db: Database, repo: CampaignRepository) -> Campaigns:
    def no_templates(template_type: str, name: str, version: str | None) -> object:
        raise NotFound(f"Template not found: {name} ({template_type})")

    tags = Tags(TagRepository(db), ARNS, lambda resource: True)
    segments = Segments(SegmentRepository(db), tags, ARNS, lambda: NOW)
    return Campaigns(
        repo, segments, tags, ARNS, no_templates, lambda: NOW, OutboundPolicy(LOOPBACK)
    )


def create(campaigns: Campaigns, app_id: str) -> str:
    segment = campaigns.segments.create(
        app_id,
        {"Dimensions": {"Demographic": {"Platform": {"Values": ["ios"]}}}},
    )
    campaign = campaigns.create(
        app_id,
        {
            "SegmentId": segment["Id"],
            "Schedule": {"StartTime": "2030-02-01T00:00:00Z"},
            "MessageConfiguration": {"SMSMessage": {"Body": "hi"}},
        },
    )
    campaign_id: str = campaign["Id"]
    return campaign_id


def test_the_scheduler_reads_definitions_and_moves_states(
    campaigns: Campaigns, app_id: str
) -> None:
    campaign_id = create(campaigns, app_id)
    campaigns.update(app_id, campaign_id, {"Name": "second"})
    latest = campaigns.definition(app_id, campaign_id)
    assert (latest.version, latest.state, latest.definition["Name"]) == (2, "SCHEDULED", "second")
    assert "Name" not in campaigns.definition(app_id, campaign_id, 1).definition
    with pytest.raises(NotFound):
        campaigns.definition(app_id, campaign_id, 3)
    with pytest.raises(NotFound):
        campaigns.definition(app_id, uuid.uuid4().hex)

    assert campaigns.set_state(app_id, campaign_id, "EXECUTING", only_from=["SCHEDULED"])
    assert not campaigns.set_state(app_id, campaign_id, "EXECUTING", only_from=["SCHEDULED"])
    assert campaigns.get(app_id, campaign_id)["State"] == {"CampaignStatus": "EXECUTING"}
    with pytest.raises(ValueError, match="CampaignStatus"):
        campaigns.set_state(app_id, campaign_id, "RUNNING")


def test_activities_answer_the_runs_as_pinpoint_shapes_them(
    db: Database, campaigns: Campaigns, app_id: str
) -> None:
    campaign_id = create(campaigns, app_id)
    assert campaigns.activities(app_id, campaign_id, None, None) == {"Item": []}
    scheduled_ms = int(datetime(2030, 2, 1, 9, 30, tzinfo=UTC).timestamp() * 1000)
    first = add_run(
        db,
        app_id,
        campaign_id,
        scheduled_ms,
        state="COMPLETED",
        result="SUCCESS",
        start="2030-02-01T09:30:01.000Z",
        end="2030-02-01T09:31:00.000Z",
        total_endpoint_count=10,
        successful_endpoint_count=9,
        timezones_total_count=3,
        timezones_completed_count=3,
        metrics={"SUCCESSFUL_ENDPOINT_COUNT": 9, "RATE": 0.9, "NOTE": "ok", "DONE": True},
    )
    second = add_run(db, app_id, campaign_id, scheduled_ms + 60_000, treatment_id="1")
    page = campaigns.activities(app_id, campaign_id, "1", None)
    assert page["Item"] == [
        {
            "Id": first,
            "ApplicationId": app_id,
            "CampaignId": campaign_id,
            "TreatmentId": "0",
            "ScheduledStart": "2030-02-01T09:30:00.000Z",
            "Start": "2030-02-01T09:30:01.000Z",
            "End": "2030-02-01T09:31:00.000Z",
            "State": "COMPLETED",
            "Result": "SUCCESS",
            "TotalEndpointCount": 10,
            "SuccessfulEndpointCount": 9,
            "TimezonesTotalCount": 3,
            "TimezonesCompletedCount": 3,
            "ExecutionMetrics": {
                "SUCCESSFUL_ENDPOINT_COUNT": "9",
                "RATE": "0.9",
                "NOTE": "ok",
                "DONE": "true",
            },
        }
    ]
    rest = campaigns.activities(app_id, campaign_id, None, page["NextToken"])
    assert rest == {
        "Item": [
            {
                "Id": second,
                "ApplicationId": app_id,
                "CampaignId": campaign_id,
                "TreatmentId": "1",
                "ScheduledStart": "2030-02-01T09:31:00.000Z",
                "State": "PENDING",
                "TotalEndpointCount": 0,
                "SuccessfulEndpointCount": 0,
                "TimezonesTotalCount": 0,
                "TimezonesCompletedCount": 0,
                "ExecutionMetrics": {},
            }
        ]
    }
    with pytest.raises(BadRequest):
        campaigns.activities(app_id, campaign_id, None, "not-a-token")
    campaigns.delete(app_id, campaign_id)
    with pytest.raises(NotFound):
        campaigns.activities(app_id, campaign_id, None, None)


def test_version_tokens_serve_only_the_listing_that_issued_them(
    campaigns: Campaigns, app_id: str
) -> None:
    campaign_id, other = create(campaigns, app_id), create(campaigns, app_id)
    campaigns.update(app_id, campaign_id, {"Name": "second"})
    first = campaigns.versions(app_id, campaign_id, "1", None)
    assert [v["Version"] for v in first["Item"]] == [1]
    rest = campaigns.versions(app_id, campaign_id, "1", first["NextToken"])
    assert [v["Version"] for v in rest["Item"]] == [2] and "NextToken" not in rest
    with pytest.raises(BadRequest):
        campaigns.versions(app_id, other, "1", first["NextToken"])
    with pytest.raises(BadRequest):
        campaigns.page(app_id, "1", first["NextToken"])
    with pytest.raises(NotFound):
        campaigns.versions(app_id, uuid.uuid4().hex, None, None)
    listed = campaigns.page(app_id, "1", campaigns.page(app_id, "1", None)["NextToken"])
    assert [c["Id"] for c in listed["Item"]] == [other]
