"""Message templates through boto3: each type's lifecycle, versions, the active version,
listing, tags and errors; and what the sending pipeline reads back from the same store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from clarion.arns import Arns
from clarion.clock import system_clock
from clarion.config import load_settings
from clarion.errors import NotFound
from clarion.store.database import Database
from clarion.store.tags import TagRepository
from clarion.store.templates import TemplateRepository
from clarion.tags import Tags
from clarion.templates.service import Templates
from tests.conftest import Server

ARN_PREFIX = "arn:aws:mobiletargeting:us-east-1:000000000000:templates/"
META = {
    "Arn",
    "CreationDate",
    "LastModifiedDate",
    "TemplateName",
    "TemplateType",
    "Version",
    "tags",
}
DEFAULTS = '{"Attributes.Plan": "free", "User": {"UserAttributes": {"FirstName": "there"}}}'
INAPP_MESSAGE: dict[str, Any] = {
    "BackgroundColor": "#ffffff",
    "HeaderConfig": {"Alignment": "CENTER", "Header": "Sale", "TextColor": "#000000"},
    "BodyConfig": {"Alignment": "LEFT", "Body": "50% off today", "TextColor": "#333333"},
    "PrimaryBtn": {"DefaultConfig": {"ButtonAction": "CLOSE", "Text": "OK"}},
}

# boto3 name infix, template type, request member, response member, a full request
TYPES: list[tuple[str, str, str, str, dict[str, Any]]] = [
    (
        "email",
        "EMAIL",
        "EmailTemplateRequest",
        "EmailTemplateResponse",
        {
            "Subject": "Hi {{User.UserAttributes.FirstName}}",
            "HtmlPart": "<p>You are on {{Attributes.Plan}}</p>",
            "TextPart": "You are on {{Attributes.Plan}}",
            "Headers": [{"Name": "X-Campaign", "Value": "spring"}],
            "DefaultSubstitutions": DEFAULTS,
            "RecommenderId": "recommender-1",
            "TemplateDescription": "welcome",
        },
    ),
    (
        "sms",
        "SMS",
        "SMSTemplateRequest",
        "SMSTemplateResponse",
        {
            "Body": "Your plan: {{Attributes.Plan}}",
            "DefaultSubstitutions": DEFAULTS,
            "RecommenderId": "recommender-1",
            "TemplateDescription": "plan reminder",
        },
    ),
    (
        "push",
        "PUSH",
        "PushNotificationTemplateRequest",
        "PushNotificationTemplateResponse",
        {
            "Default": {"Title": "Hi", "Body": "Hello {{User.UserId}}", "Action": "OPEN_APP"},
            "APNS": {"Title": "Hi", "Sound": "default", "Action": "URL", "Url": "https://x/{{Id}}"},
            "GCM": {"Body": "Hello", "ImageUrl": "https://example.com/a.png", "Action": "OPEN_APP"},
            "DefaultSubstitutions": DEFAULTS,
            "TemplateDescription": "greeting",
        },
    ),
    (
        "voice",
        "VOICE",
        "VoiceTemplateRequest",
        "VoiceTemplateResponse",
        {
            "Body": "Your plan is {{Attributes.Plan}}",
            "LanguageCode": "en-US",
            "VoiceId": "Joanna",
            "DefaultSubstitutions": DEFAULTS,
            "TemplateDescription": "call",
        },
    ),
    (
        "in_app",
        "INAPP",
        "InAppTemplateRequest",
        "InAppTemplateResponse",
        {
            "Content": [INAPP_MESSAGE],
            "Layout": "MIDDLE_BANNER",
            "CustomConfig": {"screen": "home"},
            "TemplateDescription": "sale banner",
        },
    ),
]


def code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    found: str = excinfo.value.response["Error"]["Code"]
    return found


def message(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    found: str = excinfo.value.response["Error"]["Message"]
    return found


def content(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k not in META}


@pytest.fixture
def name() -> str:
    """Templates are account-wide and the server is shared, so every test names its own."""
    return f"t-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def store(server: Server) -> Iterator[Templates]:
    """The server's store, opened the way the sending pipeline reads templates."""
    url = load_settings(
        data_dir=server.env["CLARION_DATA_DIR"],
        database_url=server.env.get("CLARION_DATABASE_URL"),
    ).sqlalchemy_url
    db = Database(url)
    arns = Arns("us-east-1", "000000000000")
    try:
        tags = Tags(TagRepository(db), arns, lambda resource: True)
        yield Templates(TemplateRepository(db), tags, arns, system_clock)
    finally:
        db.dispose()


class Typed:
    """One template type's four operations under its own boto3 names."""

    def __init__(self, pinpoint: Any, infix: str, request: str, response: str) -> None:
        self.pinpoint = pinpoint
        self.infix = infix
        self.request = request
        self.response = response

    def create(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        call = getattr(self.pinpoint, f"create_{self.infix}_template")
        answer: dict[str, Any] = call(TemplateName=name, **{self.request: body})
        return answer

    def get(self, name: str, **version: str) -> dict[str, Any]:
        call = getattr(self.pinpoint, f"get_{self.infix}_template")
        found: dict[str, Any] = call(TemplateName=name, **version)[self.response]
        return found

    def update(self, name: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        call = getattr(self.pinpoint, f"update_{self.infix}_template")
        answer: dict[str, Any] = call(TemplateName=name, **{self.request: body}, **options)
        return answer

    def delete(self, name: str, **version: str) -> dict[str, Any]:
        call = getattr(self.pinpoint, f"delete_{self.infix}_template")
        answer: dict[str, Any] = call(TemplateName=name, **version)
        return answer


@pytest.mark.parametrize(("infix", "template_type", "request_member", "response", "body"), TYPES)
def test_each_type_create_get_update_delete(
    pinpoint: Any,
    name: str,
    infix: str,
    template_type: str,
    request_member: str,
    response: str,
    body: dict[str, Any],
) -> None:
    typed = Typed(pinpoint, infix, request_member, response)
    created = typed.create(name, {**body, "tags": {"team": "growth"}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    created_body = next(v for k, v in created.items() if k != "ResponseMetadata")
    assert created_body["Arn"] == f"{ARN_PREFIX}{name}/{template_type}"

    first = typed.get(name)
    assert content(first) == body
    assert (first["TemplateName"], first["TemplateType"], first["Version"]) == (
        name,
        template_type,
        "1",
    )
    assert first["Arn"] == created_body["Arn"]
    assert first["tags"] == {"team": "growth"}
    assert first["CreationDate"] <= first["LastModifiedDate"]

    in_place = {**body, "TemplateDescription": "second"}
    answer = typed.update(name, in_place)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert answer["MessageBody"]["RequestID"]
    after = typed.get(name)
    assert (content(after), after["Version"]) == (in_place, "1")
    assert after["CreationDate"] == first["CreationDate"]

    newer = {**body, "TemplateDescription": "third"}
    typed.update(name, newer, CreateNewVersion=True)
    assert content(typed.get(name)) == in_place, "a new version is not active until moved"
    second = typed.get(name, Version="2")
    assert (content(second), second["Version"]) == (newer, "2")

    assert typed.delete(name, Version="2")["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(ClientError) as excinfo:
        typed.get(name, Version="2")
    assert code(excinfo) == "NotFoundException"
    assert typed.get(name)["Version"] == "1"

    typed.delete(name)
    for call in (typed.get, typed.delete):
        with pytest.raises(ClientError) as excinfo:
            call(name)
        assert code(excinfo) == "NotFoundException"
    with pytest.raises(ClientError) as excinfo:
        typed.update(name, body)
    assert code(excinfo) == "NotFoundException"


def test_versions_paging_and_the_active_version(pinpoint: Any, name: str) -> None:
    pinpoint.create_sms_template(
        TemplateName=name,
        SMSTemplateRequest={"Body": "one", "DefaultSubstitutions": DEFAULTS},
    )
    for body in ("two", "three"):
        pinpoint.update_sms_template(
            TemplateName=name,
            SMSTemplateRequest={"Body": body, "TemplateDescription": body},
            CreateNewVersion=True,
        )
    page = pinpoint.list_template_versions(TemplateName=name, TemplateType="SMS", PageSize="2")[
        "TemplateVersionsResponse"
    ]
    assert [v["Version"] for v in page["Item"]] == ["1", "2"]
    assert page["Item"][0]["DefaultSubstitutions"] == DEFAULTS
    assert page["Item"][1]["TemplateDescription"] == "two"
    assert {v["TemplateName"] for v in page["Item"]} == {name}
    assert {v["TemplateType"] for v in page["Item"]} == {"SMS"}
    rest = pinpoint.list_template_versions(
        TemplateName=name, TemplateType="sms", PageSize="2", NextToken=page["NextToken"]
    )["TemplateVersionsResponse"]
    assert [v["Version"] for v in rest["Item"]] == ["3"]
    assert "NextToken" not in rest

    def active() -> tuple[str, str]:
        found = pinpoint.get_sms_template(TemplateName=name)["SMSTemplateResponse"]
        return found["Version"], found["Body"]

    def listed_version() -> str:
        items = pinpoint.list_templates(Prefix=name)["TemplatesResponse"]["Item"]
        assert [item["TemplateName"] for item in items] == [name]
        version: str = items[0]["Version"]
        return version

    assert active() == ("1", "one")
    moved = pinpoint.update_template_active_version(
        TemplateName=name, TemplateType="SMS", TemplateActiveVersionRequest={"Version": "2"}
    )
    assert moved["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert active() == ("2", "two")
    assert listed_version() == "2"
    pinpoint.update_template_active_version(
        TemplateName=name, TemplateType="SMS", TemplateActiveVersionRequest={"Version": "latest"}
    )
    assert active() == ("3", "three")

    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_sms_template(
            TemplateName=name, SMSTemplateRequest={"Body": "x"}, Version="2"
        )
    assert code(excinfo) == "BadRequestException"
    assert "latest version" in message(excinfo)
    pinpoint.update_sms_template(
        TemplateName=name, SMSTemplateRequest={"Body": "three, fixed"}, Version="3"
    )
    assert active() == ("3", "three, fixed")
    fixed = pinpoint.get_sms_template(TemplateName=name)["SMSTemplateResponse"]
    assert "TemplateDescription" not in fixed, "an update replaces the version's fields"
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_sms_template(
            TemplateName=name, SMSTemplateRequest={"Body": "x"}, Version="9"
        )
    assert code(excinfo) == "NotFoundException"
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_sms_template(
            TemplateName=name,
            SMSTemplateRequest={"Body": "x"},
            Version="3",
            CreateNewVersion=True,
        )
    assert code(excinfo) == "BadRequestException"

    with pytest.raises(ClientError) as excinfo:
        pinpoint.delete_sms_template(TemplateName=name, Version="3")
    assert code(excinfo) == "BadRequestException"
    assert "active version" in message(excinfo)
    pinpoint.update_template_active_version(
        TemplateName=name, TemplateType="SMS", TemplateActiveVersionRequest={"Version": "1"}
    )
    pinpoint.delete_sms_template(TemplateName=name, Version="3")
    pinpoint.update_sms_template(
        TemplateName=name, SMSTemplateRequest={"Body": "four"}, CreateNewVersion=True
    )
    listed = pinpoint.list_template_versions(TemplateName=name, TemplateType="SMS")
    versions = [v["Version"] for v in listed["TemplateVersionsResponse"]["Item"]]
    assert versions == ["1", "2", "4"], "a deleted version's number is not given out again"

    for version in ("0", "abc", "99"):
        with pytest.raises(ClientError) as excinfo:
            pinpoint.update_template_active_version(
                TemplateName=name,
                TemplateType="SMS",
                TemplateActiveVersionRequest={"Version": version},
            )
        expected = "NotFoundException" if version == "99" else "BadRequestException"
        assert code(excinfo) == expected
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_template_active_version(
            TemplateName=name, TemplateType="EMAIL", TemplateActiveVersionRequest={"Version": "1"}
        )
    assert code(excinfo) == "NotFoundException"


def test_list_templates_filters_and_pages(pinpoint: Any, name: str) -> None:
    sms = {"Body": "hello"}
    pinpoint.create_email_template(TemplateName=f"{name}-a", EmailTemplateRequest={"Subject": "a"})
    pinpoint.create_sms_template(TemplateName=f"{name}-b", SMSTemplateRequest=sms)
    pinpoint.create_email_template(TemplateName=f"{name}-c", EmailTemplateRequest={"Subject": "c"})
    pinpoint.create_sms_template(TemplateName=f"{name}-a", SMSTemplateRequest=sms)
    pinpoint.create_sms_template(TemplateName=f"{name}_u", SMSTemplateRequest=sms)
    pinpoint.create_sms_template(TemplateName=f"{name}Xu", SMSTemplateRequest=sms)
    pinpoint.create_sms_template(TemplateName=f"x{name}", SMSTemplateRequest=sms)

    def listed(**query: str) -> tuple[list[tuple[str, str]], str | None]:
        page = pinpoint.list_templates(**query)["TemplatesResponse"]
        items = [(item["TemplateName"], item["TemplateType"]) for item in page["Item"]]
        return items, page.get("NextToken")

    everything = [
        (f"{name}-a", "EMAIL"),
        (f"{name}-b", "SMS"),
        (f"{name}-c", "EMAIL"),
        (f"{name}-a", "SMS"),
        (f"{name}_u", "SMS"),
        (f"{name}Xu", "SMS"),
    ]
    assert listed(Prefix=name) == (everything, None)
    assert listed(Prefix=name, TemplateType="EMAIL")[0] == [
        (f"{name}-a", "EMAIL"),
        (f"{name}-c", "EMAIL"),
    ]
    assert listed(Prefix=f"{name}_")[0] == [(f"{name}_u", "SMS")], "_ is not a wildcard"
    first, token = listed(Prefix=name, PageSize="4")
    assert first == everything[:4]
    assert token is not None
    assert listed(Prefix=name, PageSize="4", NextToken=token) == (everything[4:], None)

    item = pinpoint.list_templates(Prefix=f"{name}-b")["TemplatesResponse"]["Item"][0]
    assert set(item) == {
        "CreationDate",
        "LastModifiedDate",
        "TemplateName",
        "TemplateType",
        "Version",
    }
    assert item["Version"] == "1"

    for query in ({"TemplateType": "LETTER"}, {"PageSize": "0"}, {"NextToken": "nonsense"}):
        with pytest.raises(ClientError) as excinfo:
            pinpoint.list_templates(**query)
        assert code(excinfo) == "BadRequestException"


def test_tags_on_templates(pinpoint: Any, name: str) -> None:
    arn = pinpoint.create_push_template(
        TemplateName=name,
        PushNotificationTemplateRequest={"Default": {"Body": "hi"}, "tags": {"team": "growth"}},
    )["CreateTemplateMessageBody"]["Arn"]
    assert arn == f"{ARN_PREFIX}{name}/PUSH"
    assert pinpoint.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {
        "team": "growth"
    }
    pinpoint.tag_resource(ResourceArn=arn, TagsModel={"tags": {"stage": "beta"}})
    pinpoint.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert pinpoint.get_push_template(TemplateName=name)["PushNotificationTemplateResponse"][
        "tags"
    ] == {"stage": "beta"}
    pinpoint.update_push_template(
        TemplateName=name,
        PushNotificationTemplateRequest={"Default": {"Body": "hey"}, "tags": {"other": "x"}},
    )
    assert pinpoint.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {
        "stage": "beta"
    }, "tags on updates are ignored, as Pinpoint has done since 2023"

    with pytest.raises(ClientError) as excinfo:
        pinpoint.list_tags_for_resource(ResourceArn=f"{ARN_PREFIX}{name}/SMS")
    assert code(excinfo) == "NotFoundException"
    pinpoint.delete_push_template(TemplateName=name)
    with pytest.raises(ClientError) as excinfo:
        pinpoint.list_tags_for_resource(ResourceArn=arn)
    assert code(excinfo) == "NotFoundException"

    with pytest.raises(ClientError) as excinfo:
        pinpoint.create_sms_template(
            TemplateName=name, SMSTemplateRequest={"Body": "x", "tags": {"aws:owner": "me"}}
        )
    assert code(excinfo) == "BadRequestException"


def test_bad_handlebars_names_the_field_line_and_column(pinpoint: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.create_email_template(
            TemplateName=name,
            EmailTemplateRequest={"Subject": "ok", "HtmlPart": "<p>\n  {{#if Attributes.Plan}}"},
        )
    assert code(excinfo) == "BadRequestException"
    assert message(excinfo) == (
        "EmailTemplateRequest.HtmlPart: line 2, column 3: {{#if}} is never closed with {{/if}}"
    )
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_email_template(TemplateName=name)
    assert code(excinfo) == "NotFoundException", "nothing is stored from a refused create"

    pinpoint.create_push_template(
        TemplateName=name, PushNotificationTemplateRequest={"APNS": {"Body": "fine"}}
    )
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_push_template(
            TemplateName=name,
            PushNotificationTemplateRequest={"APNS": {"Body": "{{nosuchhelper 1}}"}},
        )
    assert message(excinfo) == (
        "PushNotificationTemplateRequest.APNS.Body: line 1, column 3: unknown helper 'nosuchhelper'"
    )
    assert pinpoint.get_push_template(TemplateName=name)["PushNotificationTemplateResponse"][
        "APNS"
    ] == {"Body": "fine"}


@pytest.mark.parametrize(
    ("call", "request_member", "body", "expected"),
    [
        ("sms", "SMSTemplateRequest", {"Body": "x", "DefaultSubstitutions": "[1]"}, "JSON object"),
        ("voice", "VoiceTemplateRequest", {"DefaultSubstitutions": "{nope"}, "not valid JSON"),
        (
            "email",
            "EmailTemplateRequest",
            {"Headers": [{"Name": f"X-{n}", "Value": "v"} for n in range(16)]},
            "at most 15",
        ),
        ("in_app", "InAppTemplateRequest", {"Content": [INAPP_MESSAGE] * 6}, "at most 5"),
        (
            "in_app",
            "InAppTemplateRequest",
            {"Content": [{k: v for k, v in INAPP_MESSAGE.items() if k != "BackgroundColor"}]},
            "Content[0] has no BackgroundColor",
        ),
    ],
)
def test_invalid_content_is_refused(
    pinpoint: Any, name: str, call: str, request_member: str, body: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        getattr(pinpoint, f"create_{call}_template")(TemplateName=name, **{request_member: body})
    assert code(excinfo) == "BadRequestException"
    assert expected in message(excinfo)


def test_names_duplicates_and_unknown_templates(pinpoint: Any, name: str) -> None:
    for bad in ("-starts-with-hyphen", "has.dot", "x" * 129):
        with pytest.raises(ClientError) as excinfo:
            pinpoint.create_sms_template(TemplateName=bad, SMSTemplateRequest={"Body": "x"})
        assert code(excinfo) == "BadRequestException"
    longest = f"{name}{'x' * (128 - len(name))}"
    pinpoint.create_sms_template(TemplateName=longest, SMSTemplateRequest={"Body": "x"})
    pinpoint.delete_sms_template(TemplateName=longest)

    pinpoint.create_sms_template(TemplateName=name, SMSTemplateRequest={"Body": "x"})
    with pytest.raises(ClientError) as excinfo:
        pinpoint.create_sms_template(TemplateName=name, SMSTemplateRequest={"Body": "y"})
    assert code(excinfo) == "BadRequestException"
    assert "already exists" in message(excinfo)
    assert pinpoint.get_sms_template(TemplateName=name)["SMSTemplateResponse"]["Body"] == "x"
    pinpoint.create_voice_template(TemplateName=name, VoiceTemplateRequest={"Body": "v"})
    assert pinpoint.get_voice_template(TemplateName=name)["VoiceTemplateResponse"]["Body"] == "v"
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_sms_template(TemplateName=name.upper())
    assert code(excinfo) == "NotFoundException", "names are case sensitive"

    unknown = f"{name}-missing"
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_email_template(TemplateName=unknown)
    assert code(excinfo) == "NotFoundException"
    assert unknown in message(excinfo)
    with pytest.raises(ClientError) as excinfo:
        pinpoint.list_template_versions(TemplateName=unknown, TemplateType="EMAIL")
    assert code(excinfo) == "NotFoundException"
    with pytest.raises(ClientError) as excinfo:
        pinpoint.list_template_versions(TemplateName=name, TemplateType="LETTER")
    assert code(excinfo) == "BadRequestException"
    for version in ("abc", "0"):
        with pytest.raises(ClientError) as excinfo:
            pinpoint.get_sms_template(TemplateName=name, Version=version)
        assert code(excinfo) == "BadRequestException"
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_sms_template(TemplateName=name, Version="7")
    assert code(excinfo) == "NotFoundException"
    assert "no version 7" in message(excinfo)


def test_sending_reads_the_active_version_compiled(
    pinpoint: Any, name: str, store: Templates
) -> None:
    pinpoint.create_email_template(
        TemplateName=name,
        EmailTemplateRequest={
            "Subject": "Hi {{User.UserAttributes.FirstName}}",
            "HtmlPart": "<b>{{Attributes.Plan}}</b>",
            "DefaultSubstitutions": DEFAULTS,
        },
    )
    first = store.for_sending(name, "EMAIL", None)
    assert (first.version, first.default_substitutions) == ("1", DEFAULTS)
    assert set(first.parts) == {"Subject", "HtmlPart"}
    values = {"User": {"UserAttributes": {"FirstName": ["Ana"]}}, "Attributes": {"Plan": ["<pro>"]}}
    assert first.parts["Subject"].render(values, escape=False) == "Hi Ana"
    assert first.parts["HtmlPart"].render(values, escape=True) == "<b>&lt;pro&gt;</b>"
    assert store.for_sending(name, "EMAIL", None) is first, "compiled once, then reused"

    pinpoint.update_email_template(
        TemplateName=name,
        EmailTemplateRequest={"Subject": "Hello {{User.UserAttributes.FirstName}}"},
    )
    changed = store.for_sending(name, "EMAIL", None)
    assert changed.parts["Subject"].render(values, escape=False) == "Hello Ana"
    assert set(changed.parts) == {"Subject"}

    pinpoint.update_email_template(
        TemplateName=name, EmailTemplateRequest={"Subject": "Version two"}, CreateNewVersion=True
    )
    assert store.for_sending(name, "EMAIL", None).version == "1"
    pinned = store.for_sending(name, "EMAIL", "2")
    assert pinned.parts["Subject"].render({}, escape=False) == "Version two"
    pinpoint.update_template_active_version(
        TemplateName=name, TemplateType="EMAIL", TemplateActiveVersionRequest={"Version": "2"}
    )
    assert store.for_sending(name, "EMAIL", None) is pinned

    pinpoint.delete_email_template(TemplateName=name)
    pinpoint.create_email_template(TemplateName=name, EmailTemplateRequest={"Subject": "Recreated"})
    again = store.for_sending(name, "EMAIL", None)
    assert again.parts["Subject"].render({}, escape=False) == "Recreated"
    with pytest.raises(NotFound):
        store.for_sending(name, "EMAIL", "2")
    with pytest.raises(NotFound):
        store.for_sending(name, "SMS", None)
