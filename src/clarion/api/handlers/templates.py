"""Message templates: Create/Get/Update/Delete for each of the five types, ListTemplates,
ListTemplateVersions and UpdateTemplateActiveVersion.

The five types' operations differ only in names, so they are registered from one table.
"""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output, operation
from clarion.templates.kinds import KINDS

_FAMILIES = (
    # operation infix, template type, response member, create response member
    ("Email", "EMAIL", "EmailTemplateResponse", "CreateTemplateMessageBody"),
    ("Sms", "SMS", "SMSTemplateResponse", "CreateTemplateMessageBody"),
    ("Push", "PUSH", "PushNotificationTemplateResponse", "CreateTemplateMessageBody"),
    ("Voice", "VOICE", "VoiceTemplateResponse", "CreateTemplateMessageBody"),
    ("InApp", "INAPP", "InAppTemplateResponse", "TemplateCreateMessageBody"),
)


def _accepted(ctx: Context) -> Output:
    return {"MessageBody": {"Message": "Accepted", "RequestID": ctx.request_id}}


def _register(family: str, template_type: str, response: str, created: str) -> None:
    request = KINDS[template_type].request

    @operation(f"Create{family}Template")
    def create(ctx: Context, params: Input) -> Output:
        arn = ctx.clarion.templates.create(template_type, params["TemplateName"], params[request])
        return {created: {"Arn": arn, "Message": "Created", "RequestID": ctx.request_id}}

    @operation(f"Get{family}Template")
    def get(ctx: Context, params: Input) -> Output:
        found = ctx.clarion.templates.get(
            template_type, params["TemplateName"], params.get("Version")
        )
        return {response: found}

    @operation(f"Update{family}Template")
    def update(ctx: Context, params: Input) -> Output:
        ctx.clarion.templates.update(
            template_type,
            params["TemplateName"],
            params[request],
            version=params.get("Version"),
            create_new_version=bool(params.get("CreateNewVersion")),
        )
        return _accepted(ctx)

    @operation(f"Delete{family}Template")
    def delete(ctx: Context, params: Input) -> Output:
        ctx.clarion.templates.delete(template_type, params["TemplateName"], params.get("Version"))
        return _accepted(ctx)


for _family in _FAMILIES:
    _register(*_family)


@operation("ListTemplates")
def list_templates(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.templates.page(
        params.get("Prefix"),
        params.get("TemplateType"),
        params.get("PageSize"),
        params.get("NextToken"),
    )
    return {"TemplatesResponse": page}


@operation("ListTemplateVersions")
def list_template_versions(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.templates.versions(
        params["TemplateName"],
        params["TemplateType"],
        params.get("PageSize"),
        params.get("NextToken"),
    )
    return {"TemplateVersionsResponse": page}


@operation("UpdateTemplateActiveVersion")
def update_template_active_version(ctx: Context, params: Input) -> Output:
    ctx.clarion.templates.activate(
        params["TemplateName"],
        params["TemplateType"],
        params["TemplateActiveVersionRequest"].get("Version"),
    )
    return _accepted(ctx)
