"""The five kinds of Pinpoint message template, which of their fields are Handlebars, and the
rules their content must meet before it is stored.

A part is named by its path in the template's fields: ``Subject``, ``HtmlPart``, ``APNS.Body``.
Pinpoint personalises the text and links of e-mail, SMS, voice and push templates; in-app
templates have no DefaultSubstitutions and are delivered as written, so they have no parts.

Limits from the API reference: template names start with a letter or digit and have at most 128
letters, digits, underscores and hyphens; an e-mail template has at most 15 Headers; an in-app
template at most 5 messages, each with a header, a body and a background color.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clarion.errors import BadRequest
from clarion.templates.handlebars import Template, TemplateError, compile_template, parse_defaults

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
MAX_EMAIL_HEADERS = 15
MAX_INAPP_MESSAGES = 5
_INAPP_REQUIRED = ("HeaderConfig", "BodyConfig", "BackgroundColor")
_PUSH_CHANNELS = ("Default", "APNS", "GCM", "ADM", "Baidu")
_PUSH_FIELDS = (
    "Title",
    "Body",
    "RawContent",
    "Url",
    "ImageUrl",
    "ImageIconUrl",
    "SmallImageIconUrl",
    "MediaUrl",
)


@dataclass(frozen=True)
class Kind:
    template_type: str
    request: str
    """The request member's name, which error messages use as the path of a bad field."""
    parts: tuple[str, ...]
    html_parts: frozenset[str] = frozenset()
    """Parts rendered into HTML, whose ``{{variables}}`` are HTML-escaped."""


EMAIL = Kind(
    "EMAIL",
    "EmailTemplateRequest",
    ("Subject", "TextPart", "HtmlPart"),
    html_parts=frozenset({"HtmlPart"}),
)
SMS = Kind("SMS", "SMSTemplateRequest", ("Body",))
VOICE = Kind("VOICE", "VoiceTemplateRequest", ("Body",))
PUSH = Kind(
    "PUSH",
    "PushNotificationTemplateRequest",
    tuple(f"{channel}.{field}" for channel in _PUSH_CHANNELS for field in _PUSH_FIELDS),
)
INAPP = Kind("INAPP", "InAppTemplateRequest", ())

KINDS = {kind.template_type: kind for kind in (EMAIL, SMS, VOICE, PUSH, INAPP)}


def kind_of(text: str) -> Kind:
    """A template type as a path or query names it, in either case."""
    kind = KINDS.get(text.upper())
    if kind is None:
        raise BadRequest(f"TemplateType must be one of {', '.join(KINDS)}; got {text!r}")
    return kind


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise BadRequest(
            f"TemplateName {name!r} must start with a letter or digit and have at most 128 "
            "letters, digits, underscores (_) and hyphens (-)"
        )


def checked(kind: Kind, request: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Template]]:
    """The fields to store (all but tags) and the compiled parts; BadRequest naming the field."""
    document = {key: value for key, value in request.items() if key != "tags"}
    if kind is not INAPP:
        try:
            parse_defaults(document.get("DefaultSubstitutions"))
        except TemplateError as error:
            raise BadRequest(f"{kind.request}: {error}") from None
    if kind is EMAIL and len(document.get("Headers") or []) > MAX_EMAIL_HEADERS:
        raise BadRequest(
            f"{kind.request}.Headers has {len(document['Headers'])} headers; "
            f"an e-mail template can have at most {MAX_EMAIL_HEADERS}"
        )
    if kind is INAPP:
        _check_inapp(document.get("Content") or [])
    return document, compiled_parts(kind, document, f"{kind.request}.")


def compiled_parts(kind: Kind, document: Mapping[str, Any], where: str) -> dict[str, Template]:
    """Each Handlebars part present, compiled; ``where`` starts the message naming a bad one."""
    parts: dict[str, Template] = {}
    for path in kind.parts:
        source = _dig(document, path)
        if not isinstance(source, str):
            continue
        try:
            parts[path] = compile_template(source)
        except TemplateError as error:
            raise BadRequest(f"{where}{path}: {error}") from None
    return parts


def _check_inapp(content: list[dict[str, Any]]) -> None:
    if len(content) > MAX_INAPP_MESSAGES:
        raise BadRequest(
            f"InAppTemplateRequest.Content has {len(content)} messages; "
            f"an in-app template can have at most {MAX_INAPP_MESSAGES}"
        )
    for index, message in enumerate(content):
        for member in _INAPP_REQUIRED:
            if not message.get(member):
                raise BadRequest(
                    f"InAppTemplateRequest.Content[{index}] has no {member}: each message "
                    "needs a header, a body and a background color"
                )


def _dig(document: Mapping[str, Any], path: str) -> Any:
    value: Any = document
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
