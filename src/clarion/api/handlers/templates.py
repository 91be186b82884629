"""Message templates: Create/Get/Update/Delete for each of the five types, ListTemplates,
ListTemplateVersions and UpdateTemplateActiveVersion.

The five types' operations differ only in names, so they are made from one table.
"""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Handler, Input, Output
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


def _family(family: str, template_type: str, response: str, created: str) -> dict[str, Handler]:
    request = KINDS[template_type].request

    def create(ctx: Context, params: Input) -> Output:
        arn = ctx.clarion.templates.create(template_type, params["TemplateName"], params[request])
        return {created: {"Arn": arn, "Message": "Created", "RequestID": ctx.request_id}}

    def get(ctx: Context, params: Input) -> Output:
        found = ctx.clarion.templates.get(
            template_type, params["TemplateName"], params.get("Version")
        )
        return {response: found}

    def update(ctx: Context, params: Input) -> Output:
        ctx.clarion.templates.update(
            template_type,
            params["TemplateName"],
            params[request],
            version=params.get("Version"),
            create_new_version=bool(params.get("CreateNewVersion")),
        )
        return _accepted(ctx)

    def delete(ctx: Context, params: Input) -> Output:
        ctx.clarion.templates.delete(template_type, params["TemplateName"], params.get("Version"))
        return _accepted(ctx)

    return {
        f"Create{family}Template": create,
        f"Get{family}Template": get,
        f"Update{family}Template": update,
        f"Delete{family}Template": delete,
    }


FAMILY_OPERATIONS = {name: h for family in _FAMILIES for name, h in _family(*family).items()}
"""Create, Get, Update and Delete of each of the five template types."""


def list_templates(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.templates.page(
        params.get("Prefix"),
        params.get("TemplateType"),
        params.get("PageSize"),
        params.get("NextToken"),
    )
    return {"TemplatesResponse": page}


def list_template_versions(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.templates.versions(
        params["TemplateName"],
        params["TemplateType"],
        params.get("PageSize"),
        params.get("NextToken"),
    )
    return {"TemplateVersionsResponse": page}


def update_template_active_version(ctx: Context, params: Input) -> Output:
    ctx.clarion.templates.activate(
        params["TemplateName"],
        params["TemplateType"],
        params["TemplateActiveVersionRequest"].get("Version"),
    )
    return _accepted(ctx)
