"""The event-stream record: Pinpoint's field names and nesting, filled only from what is known."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from clarion.streams.format import StoredEvent, build_record, client_id, encode, epoch_ms

APP = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
ACCOUNT = "123456789012"

ENDPOINT = {
    "ChannelType": "GCM",
    "Address": "token-1",
    "EndpointStatus": "ACTIVE",
    "OptOut": "NONE",
    "RequestId": "req-1",
    "Demographic": {
        "AppVersion": "1.0",
        "Locale": "en_US",
        "Make": "generic web browser",
        "Model": "Unknown",
        "Platform": "android",
        "PlatformVersion": "10.10",
    },
    "EffectiveDate": "2017-02-24T21:53:22.531Z",
    "Attributes": {"plan": ["pro"]},
    "User": {"UserId": "user-1"},
    "ApplicationId": APP,
    "Id": "Client-ABC",
    "CohortId": "42",
    "CreationDate": "2017-02-24T21:50:00.000Z",
}


def stored(event: dict[str, Any], event_type: str = "_session.stop") -> StoredEvent:
    return StoredEvent(APP, "client-abc", event_type, 1487973802507, 1487973803515, event)


def test_app_event_has_pinpoints_fields_in_pinpoints_order() -> None:
    event = {
        "EventType": "_session.stop",
        "Timestamp": "2017-02-24T22:03:22.507Z",
        "AppPackageName": "main.page",
        "AppTitle": "title",
        "AppVersionCode": "1",
        "SdkName": "aws-sdk-mobile-analytics-js",
        "ClientSdkVersion": "0.9.1:2.4.8",
        "Session": {
            "Id": "f549dea9-1090-945d-c3d1-e4967example",
            "StartTimestamp": "2017-02-24T21:53:22.531Z",
            "StopTimestamp": "2017-02-24T22:03:22.507Z",
            "Duration": 599976,
        },
        "Attributes": {"screen": "home"},
        "Metrics": {"time": 1.5},
    }
    record = build_record(stored(event), ENDPOINT, ACCOUNT)

    assert record == {
        "event_type": "_session.stop",
        "event_timestamp": 1487973802507,
        "arrival_timestamp": 1487973803515,
        "event_version": "3.1",
        "application": {
            "app_id": APP,
            "package_name": "main.page",
            "sdk": {"name": "aws-sdk-mobile-analytics-js", "version": "0.9.1:2.4.8"},
            "title": "title",
            "version_name": "1.0",
            "version_code": "1",
        },
        "client": {"client_id": "Client-ABC"},
        "device": {
            "locale": {"code": "en_US", "country": "US", "language": "en"},
            "make": "generic web browser",
            "model": "Unknown",
            "platform": {"name": "android", "version": "10.10"},
        },
        "session": {
            "session_id": "f549dea9-1090-945d-c3d1-e4967example",
            "start_timestamp": 1487973202531,
            "stop_timestamp": 1487973802507,
        },
        "attributes": {"screen": "home"},
        "metrics": {"time": 1.5},
        "endpoint": ENDPOINT,
        "awsAccountId": ACCOUNT,
    }
    assert list(record) == [
        "event_type",
        "event_timestamp",
        "arrival_timestamp",
        "event_version",
        "application",
        "client",
        "device",
        "session",
        "attributes",
        "metrics",
        "endpoint",
        "awsAccountId",
    ]


def test_unknown_values_are_left_out_not_guessed() -> None:
    record = build_record(
        stored({"EventType": "shop", "Timestamp": "2026-01-01T00:00:00Z"}), None, ACCOUNT
    )

    assert record["application"] == {"app_id": APP, "sdk": {}}
    assert record["client"] == {"client_id": "client-abc"}
    assert record["device"] == {"platform": {}}
    assert record["session"] == {}
    assert record["attributes"] == {}
    assert record["metrics"] == {}
    assert "endpoint" not in record


def test_delivery_event_looks_like_pinpoints_email_and_sms_records() -> None:
    facets = {"email_channel": {"mail_event": {"mail": {"message_id": "m-1"}, "send": {}}}}
    event = {
        "EventType": "_email.send",
        "Timestamp": "2019-08-01T00:17:01.380Z",
        "Attributes": {"feedback": "received"},
        "Delivery": {"facets": facets, "ignored": True},
    }
    record = build_record(stored(event, "_email.send"), ENDPOINT, ACCOUNT)

    assert record == {
        "event_type": "_email.send",
        "event_timestamp": 1487973802507,
        "arrival_timestamp": 1487973803515,
        "event_version": "3.1",
        "application": {"app_id": APP, "sdk": {}},
        "client": {"client_id": "Client-ABC"},
        "device": {"platform": {}},
        "session": {},
        "attributes": {"feedback": "received"},
        "facets": facets,
        "awsAccountId": ACCOUNT,
    }


def test_delivery_event_keeps_metrics_and_client_context_when_given() -> None:
    context = {"custom": {"endpoint": '{"ChannelType":"SMS"}'}}
    event = {
        "EventType": "_SMS.SUCCESS",
        "Attributes": {"record_status": "DELIVERED"},
        "Metrics": {"price_in_millicents_usd": 645.0},
        "Delivery": {"client_context": context},
    }
    record = build_record(stored(event, "_SMS.SUCCESS"), None, ACCOUNT)

    assert record["metrics"] == {"price_in_millicents_usd": 645.0}
    assert record["client_context"] == context
    assert list(record)[-1] == "awsAccountId"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en_US", {"code": "en_US", "country": "US", "language": "en"}),
        ("fr", {"code": "fr", "language": "fr"}),
        ("pt-BR", {"code": "pt-BR", "country": "BR", "language": "pt"}),
    ],
)
def test_locale_is_split_into_language_and_country(locale: str, expected: dict[str, str]) -> None:
    endpoint = {"Id": "e", "Demographic": {"Locale": locale}}
    record = build_record(stored({"EventType": "x"}), endpoint, ACCOUNT)
    assert record["device"]["locale"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-02-24T21:53:22.531Z", 1487973202531),
        ("2017-02-24T21:53:22.531+00:00", 1487973202531),
        ("2017-02-24T23:53:22.531+02:00", 1487973202531),
        ("2017-02-24T21:53:22.531", 1487973202531),
        ("1999-12-31T23:59:59.999Z", 946684799999),
        ("not a time", None),
        (1487973202531, None),
        (None, None),
    ],
)
def test_session_timestamps_become_epoch_milliseconds(value: object, expected: int | None) -> None:
    assert epoch_ms(value) == expected


def test_a_session_without_valid_times_keeps_only_its_id() -> None:
    record = build_record(
        stored({"Session": {"Id": "s-1", "StartTimestamp": "soon"}}), None, ACCOUNT
    )
    assert record["session"] == {"session_id": "s-1"}


def test_client_id_prefers_the_endpoint_id_as_written() -> None:
    event = stored({})
    assert client_id(event, ENDPOINT) == "Client-ABC"
    assert client_id(event, None) == "client-abc"


def test_encoding_is_compact_json_in_order_without_newline() -> None:
    record = build_record(stored({"Metrics": {"n": 2.0}}), None, ACCOUNT)
    data = encode(record)
    assert not data.endswith(b"\n")
    assert b" " not in data
    assert orjson.loads(data) == record
    assert data.startswith(b'{"event_type":"_session.stop","event_timestamp":1487973802507,')
