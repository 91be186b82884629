"""The content rules of the five template kinds, without a store or a server."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.errors import BadRequest
from clarion.templates.kinds import (
    EMAIL,
    INAPP,
    KINDS,
    PUSH,
    SMS,
    check_name,
    checked,
    compiled_parts,
    kind_of,
)

HEADER = {"Alignment": "CENTER", "Header": "Hi {{Name}}", "TextColor": "#000000"}
BODY = {"Alignment": "LEFT", "Body": "Body", "TextColor": "#000000"}
INAPP_MESSAGE = {"BackgroundColor": "#ffffff", "HeaderConfig": HEADER, "BodyConfig": BODY}
ALLOWED = string.ascii_letters + string.digits + "_-"


def refused(kind: Any, request: dict[str, Any]) -> str:
    with pytest.raises(BadRequest) as excinfo:
        checked(kind, request)
    return excinfo.value.message


def test_types_are_read_in_either_case() -> None:
    assert kind_of("email") is EMAIL
    assert kind_of("InApp") is INAPP
    assert set(KINDS) == {"EMAIL", "SMS", "PUSH", "VOICE", "INAPP"}
    with pytest.raises(BadRequest, match="one of EMAIL, SMS, VOICE, PUSH, INAPP; got 'FAX'"):
        kind_of("FAX")


@given(st.sampled_from(string.ascii_letters + string.digits), st.text(ALLOWED, max_size=127))
def test_names_of_allowed_characters_up_to_128_are_accepted(first: str, rest: str) -> None:
    check_name(first + rest)


@pytest.mark.parametrize(
    "name", ["", "-lead", "_lead", "with.dot", "with space", "slash/es", "naïve", "x" * 129]
)
def test_other_names_are_refused(name: str) -> None:
    with pytest.raises(BadRequest, match="must start with a letter or digit"):
        check_name(name)


def test_only_the_handlebars_parts_present_are_compiled_and_tags_are_not_stored() -> None:
    request = {
        "Subject": "Hi {{User.UserAttributes.FirstName}}",
        "HtmlPart": "<b>{{Attributes.Plan}}</b>",
        "Headers": [{"Name": "X-Id", "Value": "{{Id}}"}],
        "tags": {"team": "growth"},
    }
    document, parts = checked(EMAIL, request)
    assert document == {k: v for k, v in request.items() if k != "tags"}
    assert set(parts) == {"Subject", "HtmlPart"}
    values = {"User": {"UserAttributes": {"FirstName": ["Ana"]}}, "Attributes": {"Plan": ["a&b"]}}
    assert parts["Subject"].render(values, escape=False) == "Hi Ana"
    assert EMAIL.html_parts == {"HtmlPart"}
    assert parts["HtmlPart"].render(values, escape=True) == "<b>a&amp;b</b>"


def test_push_parts_are_named_by_channel() -> None:
    _, parts = checked(
        PUSH,
        {
            "Default": {"Title": "T {{Id}}", "Action": "OPEN_APP", "Sound": "default"},
            "APNS": {"Body": "B", "MediaUrl": "https://m/{{Id}}", "RawContent": '{"a": "{{Id}}"}'},
            "GCM": {"Url": "https://u/{{Id}}", "SmallImageIconUrl": "https://i"},
        },
    )
    assert set(parts) == {
        "Default.Title",
        "APNS.Body",
        "APNS.MediaUrl",
        "APNS.RawContent",
        "GCM.Url",
        "GCM.SmallImageIconUrl",
    }
    assert parts["APNS.RawContent"].render({"Id": "e1"}, escape=False) == '{"a": "e1"}'


def test_in_app_content_is_stored_as_written() -> None:
    document, parts = checked(INAPP, {"Content": [INAPP_MESSAGE], "Layout": "TOP_BANNER"})
    assert parts == {}
    assert document["Content"][0]["HeaderConfig"]["Header"] == "Hi {{Name}}"


def test_a_bad_part_is_named_with_its_line_and_column() -> None:
    message = refused(SMS, {"Body": "Hello\n{{#each Attributes.Items}}{{this}}"})
    assert message == (
        "SMSTemplateRequest.Body: line 2, column 1: {{#each}} is never closed with {{/each}}"
    )
    message = refused(PUSH, {"GCM": {"Title": "ok", "Body": "{{User.UserId"}})
    assert message.startswith("PushNotificationTemplateRequest.GCM.Body: line 1, column 1: ")


def test_parts_compiled_at_send_time_name_the_stored_version() -> None:
    with pytest.raises(BadRequest) as excinfo:
        compiled_parts(SMS, {"Body": "{{/if}}"}, "Template t (SMS) version 3, ")
    assert excinfo.value.message.startswith("Template t (SMS) version 3, Body: line 1, column 1")


@pytest.mark.parametrize(
    ("defaults", "problem"),
    [("[1, 2]", "must be a JSON object"), ("{nope", "not valid JSON"), ('"text"', "JSON object")],
)
def test_default_substitutions_must_be_a_json_object(defaults: str, problem: str) -> None:
    message = refused(SMS, {"Body": "x", "DefaultSubstitutions": defaults})
    assert message.startswith("SMSTemplateRequest: ")
    assert problem in message


@pytest.mark.parametrize(
    "defaults", ["", "  ", "{}", '{"Attributes.Plan": "free", "User": {"UserId": "u"}}']
)
def test_empty_and_nested_default_substitutions_are_accepted(defaults: str) -> None:
    document, _ = checked(SMS, {"Body": "x", "DefaultSubstitutions": defaults})
    assert document["DefaultSubstitutions"] == defaults


def test_an_email_template_has_at_most_15_headers() -> None:
    headers = [{"Name": f"X-{n}", "Value": "v"} for n in range(16)]
    checked(EMAIL, {"Headers": headers[:15]})
    assert "at most 15" in refused(EMAIL, {"Headers": headers})


def test_an_in_app_template_has_at_most_5_complete_messages() -> None:
    checked(INAPP, {"Content": [INAPP_MESSAGE] * 5})
    assert "has 6 messages" in refused(INAPP, {"Content": [INAPP_MESSAGE] * 6})
    for member in ("HeaderConfig", "BodyConfig", "BackgroundColor"):
        partial = {k: v for k, v in INAPP_MESSAGE.items() if k != member}
        message = refused(INAPP, {"Content": [INAPP_MESSAGE, partial]})
        assert message.startswith(f"InAppTemplateRequest.Content[1] has no {member}")
