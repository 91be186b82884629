"""Pure rules outside the endpoint module: ARNs, tags, application settings, configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from clarion.apps.settings import apply_settings_update
from clarion.arns import Arns, Resource
from clarion.clock import iso
from clarion.config import load_settings
from clarion.errors import BadRequest
from clarion.tags import validate_tags

ARNS = Arns("eu-west-1", "123456789012")
PREFIX = "arn:aws:mobiletargeting:eu-west-1:123456789012:"


@pytest.mark.parametrize(
    ("suffix", "resource"),
    [
        ("apps/a1", Resource("app", "a1", "a1")),
        ("apps/a1/campaigns/c1", Resource("campaign", "a1", "c1")),
        ("apps/a1/segments/s1", Resource("segment", "a1", "s1")),
        ("apps/a1/journeys/j1", Resource("journey", "a1", "j1")),
        ("templates/welcome/EMAIL", Resource("template", None, "welcome/EMAIL")),
        ("templates/promo/INAPP", Resource("template", None, "promo/INAPP")),
    ],
)
def test_arns_name_each_taggable_kind(suffix: str, resource: Resource) -> None:
    assert ARNS.parse(PREFIX + suffix) == resource


@pytest.mark.parametrize(
    "arn",
    [
        "nope",
        PREFIX + "apps/",
        PREFIX + "apps/a1/things/t1",
        PREFIX + "templates/x/FAX",
        "arn:aws:mobiletargeting:us-east-1:123456789012:apps/a1",
        "arn:aws:mobiletargeting:eu-west-1:999999999999:apps/a1",
        "arn:aws:s3:eu-west-1:123456789012:apps/a1",
    ],
)
def test_arns_outside_this_service_are_refused(arn: str) -> None:
    with pytest.raises(BadRequest):
        ARNS.parse(arn)


def test_app_arn_round_trips() -> None:
    assert ARNS.parse(ARNS.app("abc")) == Resource("app", "abc", "abc")


@pytest.mark.parametrize(
    "tags",
    [
        {f"k{i}": "v" for i in range(51)},
        {"": "v"},
        {"k" * 129: "v"},
        {"k": "v" * 257},
        {"aws:created": "x"},
        {"bad#key": "v"},
    ],
)
def test_tag_rules(tags: dict[str, str]) -> None:
    with pytest.raises(BadRequest):
        validate_tags(tags)


def test_tags_at_the_limits_pass() -> None:
    validate_tags({f"k{i}": "v" for i in range(50)})
    validate_tags({"k" * 128: "v" * 256, "team name/env:prod=+-@.": ""})


def test_settings_update_replaces_given_members_and_keeps_others() -> None:
    first = apply_settings_update(
        {}, {"Limits": {"Daily": 3}, "QuietTime": {"Start": "22:00", "End": "06:00"}}, "t1"
    )
    second = apply_settings_update(first, {"Limits": {"Total": 9}}, "t2")
    assert second == {
        "Limits": {"Total": 9},
        "QuietTime": {"Start": "22:00", "End": "06:00"},
        "LastModifiedDate": "t2",
    }


@pytest.mark.parametrize(
    "request_body",
    [
        {"Limits": {"Daily": -1}},
        {"Limits": {"Total": 101}},
        {"Limits": {"MessagesPerSecond": 20001}},
        {"QuietTime": {"Start": "7:00", "End": "08:00"}},
        {"QuietTime": {"End": "08:00"}},
        {"JourneyLimits": {"TimeframeCap": {"Days": 31}}},
        {"CampaignHook": {"WebUrl": "not a url"}},
    ],
)
def test_settings_bounds(request_body: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        apply_settings_update({}, request_body, "t")


def test_settings_at_the_bounds_pass() -> None:
    apply_settings_update(
        {},
        {
            "Limits": {"Daily": 100, "Total": 0, "MessagesPerSecond": 20000, "MaximumDuration": 60},
            "QuietTime": {"Start": "00:00", "End": "23:59"},
        },
        "t",
    )


def test_iso_formats_like_pinpoint() -> None:
    from datetime import UTC, datetime

    assert iso(datetime(2026, 11, 28, 9, 5, 3, 123456, tzinfo=UTC)) == "2026-11-28T09:05:03.123Z"


def test_settings_read_the_environment_and_a_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "clarion.toml"
    toml.write_text('port = 9100\nregion = "eu-central-1"\n')
    monkeypatch.setenv("CLARION_CONFIG_FILE", str(toml))
    monkeypatch.setenv("CLARION_PORT", "9200")
    settings = load_settings()
    assert settings.port == 9200, "the environment wins over the file"
    assert settings.region == "eu-central-1"
    assert load_settings(port=9300).port == 9300, "explicit options win over both"


def test_postgres_urls_use_psycopg_3() -> None:
    settings = load_settings(database_url="postgresql://u@h/db")
    assert settings.sqlalchemy_url == "postgresql+psycopg://u@h/db"


def test_account_id_must_be_twelve_digits() -> None:
    with pytest.raises(ValueError):
        load_settings(account_id="123")
