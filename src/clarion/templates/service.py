"""Message templates: create, read, update (in place or as a new version), delete, list, and
the active version that reads and sends use by default.

Pinpoint's rules, from the API reference ("Template Versions", "Active Template Version" and the
template resources' ``version`` and ``create-new-version`` parameters):

* Templates are account-wide, named by name and type (EMAIL, SMS, PUSH, VOICE, INAPP).
* Versions are whole numbers, written as strings. Creating a template makes version 1, active.
* An update overwrites the latest version unless ``create-new-version`` is true, which adds a
  version; a ``version`` given with an update must be the latest one (against lost updates), and
  cannot be combined with ``create-new-version``. Neither kind of update moves the active version:
  UpdateTemplateActiveVersion does, to a version number or ``latest``.
* Reads without ``version`` answer the active version; a delete without it removes the template
  with all its versions, with it that version only.
* ``tags`` on updates are deprecated and ignored, as Pinpoint does since 2023-05-22.

Choices where the reference is silent: version numbers are never reused, even after the latest
is deleted, so a number always means the same content; the active version cannot be deleted on
its own (make another active, or delete the whole template), so a template always has one.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clarion import paging
from clarion.arns import Arns
from clarion.clock import Clock, iso
from clarion.errors import BadRequest, NotFound
from clarion.numbers import version_number
from clarion.store.templates import TemplateRecord, TemplateRepository, VersionSummary
from clarion.tags import Tags, validate_tags
from clarion.templates.handlebars import Template
from clarion.templates.kinds import KINDS, check_name, checked, compiled_parts, kind_of

CACHE_SIZE = 1024


@dataclass(frozen=True)
class TemplateVersion:
    """One version of a template ready to send: its stored fields and its compiled parts.

    ``parts`` maps part paths (``Subject``, ``APNS.Body``, see ``kinds``) to compiled templates;
    render the kind's ``html_parts`` with ``escape=True`` and the rest with ``escape=False``.
    """

    name: str
    template_type: str
    version: str
    revision: str
    fields: Mapping[str, Any]
    parts: Mapping[str, Template]

    @property
    def default_substitutions(self) -> str | None:
        found: str | None = self.fields.get("DefaultSubstitutions")
        return found


class _Compiled:
    """Compiled versions by (name, type, version), each good while its revision is current."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, str], TemplateVersion] = OrderedDict()

    def get(self, key: tuple[str, str, str], revision: str) -> TemplateVersion | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found.revision != revision:
                return None
            self._entries.move_to_end(key)
            return found

    def put(self, value: TemplateVersion) -> None:
        with self._lock:
            self._entries[(value.name, value.template_type, value.version)] = value
            self._entries.move_to_end((value.name, value.template_type, value.version))
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


class Templates:
    def __init__(self, repo: TemplateRepository, tags: Tags, arns: Arns, clock: Clock) -> None:
        self.repo = repo
        self.tags = tags
        self.arns = arns
        self.clock = clock
        self._compiled = _Compiled(CACHE_SIZE)

    def arn(self, name: str, template_type: str) -> str:
        return (
            f"arn:aws:mobiletargeting:{self.arns.region}:{self.arns.account_id}:"
            f"templates/{name}/{template_type}"
        )

    def create(self, template_type: str, name: str, request: Mapping[str, Any]) -> str:
        """Store the template as its version 1, active; answers its ARN."""
        kind = KINDS[template_type]
        check_name(name)
        document, parts = checked(kind, request)
        tags = request.get("tags") or {}
        validate_tags(tags, f"{kind.request}.tags")
        revision = uuid.uuid4().hex
        if not self.repo.insert(name, template_type, iso(self.clock()), revision, document):
            raise BadRequest(
                f"Template {name} ({template_type}) already exists; update it, or delete it first"
            )
        arn = self.arn(name, template_type)
        self.tags.repo.put(arn, None, tags)
        self._compiled.put(TemplateVersion(name, template_type, "1", revision, document, parts))
        return arn

    def get(self, template_type: str, name: str, version: str | None) -> dict[str, Any]:
        number = None if version is None else _number(version)
        record = self.repo.get(name, template_type, number)
        if record is None:
            raise self._not_found(name, template_type, number)
        return self._response(record)

    def update(
        self,
        template_type: str,
        name: str,
        request: Mapping[str, Any],
        *,
        version: str | None,
        create_new_version: bool,
    ) -> None:
        kind = KINDS[template_type]
        document, parts = checked(kind, request)
        if create_new_version and version is not None:
            raise BadRequest(
                "version cannot be given with create-new-version=true: "
                "a new version takes the next number"
            )
        number = None if version is None else _number(version)
        revision = uuid.uuid4().hex
        with self.repo.editing(name, template_type) as editor:
            if editor is None:
                raise _missing(name, template_type)
            if create_new_version:
                written = editor.add_version(iso(self.clock()), revision, document)
            else:
                written = editor.latest()
                if number is not None and number != written:
                    if not editor.has(number):
                        raise _missing(name, template_type, number)
                    raise BadRequest(
                        f"version {number} is not the latest version of template {name} "
                        f"({template_type}), {written}: only the latest version can be updated "
                        "in place; leave out version, or set create-new-version=true"
                    )
                editor.overwrite(written, iso(self.clock()), revision, document)
        self._compiled.put(
            TemplateVersion(name, template_type, str(written), revision, document, parts)
        )

    def delete(self, template_type: str, name: str, version: str | None) -> None:
        """Without ``version`` the whole template goes, with it that version only."""
        if version is None:
            if not self.repo.delete(name, template_type):
                raise _missing(name, template_type)
            self.tags.repo.remove_all(self.arn(name, template_type))
            return
        number = _number(version)
        with self.repo.editing(name, template_type) as editor:
            if editor is None:
                raise _missing(name, template_type)
            if not editor.has(number):
                raise _missing(name, template_type, number)
            if number == editor.active_version:
                raise BadRequest(
                    f"version {number} is the active version of template {name} "
                    f"({template_type}): make another version active first, or leave out "
                    "version to delete the whole template"
                )
            editor.delete_version(number)

    def activate(self, name: str, template_type: str, version: str | None) -> None:
        """UpdateTemplateActiveVersion: a version number, or ``latest``."""
        kind = kind_of(template_type)
        if not version:
            raise BadRequest(
                "TemplateActiveVersionRequest.Version is required: a version number or 'latest'"
            )
        number = (
            None
            if version.lower() == "latest"
            else version_number(version, "TemplateActiveVersionRequest.Version")
        )
        with self.repo.editing(name, kind.template_type) as editor:
            if editor is None:
                raise _missing(name, kind.template_type)
            number = editor.latest() if number is None else number
            if not editor.has(number):
                raise _missing(name, kind.template_type, number)
            editor.activate(number)

    def page(
        self,
        prefix: str | None,
        template_type: str | None,
        size: str | None,
        token: str | None,
    ) -> dict[str, Any]:
        """ListTemplates: templates in creation order, each at its active version."""
        kind = kind_of(template_type) if template_type else None
        return paging.page(
            "templates",
            size,
            token,
            lambda after, limit: self.repo.page(
                prefix, kind.template_type if kind else None, after, limit
            ),
            lambda row: row[0],
            lambda row: {
                "CreationDate": row[1].creation_date,
                "LastModifiedDate": row[1].last_modified_date,
                "TemplateName": row[1].name,
                "TemplateType": row[1].template_type,
                "Version": str(row[1].version),
            },
        )

    def versions(
        self, name: str, template_type: str, size: str | None, token: str | None
    ) -> dict[str, Any]:
        """ListTemplateVersions: every version of one template, oldest first."""
        kind = kind_of(template_type)
        if not self.repo.exists(name, kind.template_type):
            raise _missing(name, kind.template_type)

        def item(summary: VersionSummary) -> dict[str, Any]:
            fields = {
                "CreationDate": summary.creation_date,
                "LastModifiedDate": summary.last_modified_date,
                "TemplateName": name,
                "TemplateType": kind.template_type,
                "Version": str(summary.version),
                "TemplateDescription": summary.description,
                "DefaultSubstitutions": summary.default_substitutions,
            }
            return {k: v for k, v in fields.items() if v is not None}

        return paging.page(
            f"template-versions:{name}/{kind.template_type}",
            size,
            token,
            lambda after, limit: self.repo.versions(name, kind.template_type, after, limit),
            lambda summary: summary.version,
            item,
        )

    def exists(self, name: str, template_type: str) -> bool:
        return self.repo.exists(name, template_type)

    def for_sending(self, name: str, template_type: str, version: str | None) -> TemplateVersion:
        """The version a message uses (the active one when ``version`` is None), compiled.

        Each call reads the version's number and revision, so a change made through any node is
        seen at once; the content is read and compiled only when the revision is new here.
        """
        kind = kind_of(template_type)
        number = None if version is None else _number(version)
        current = self.repo.revision(name, kind.template_type, number)
        if current is None:
            raise self._not_found(name, kind.template_type, number)
        key = (name, kind.template_type, str(current[0]))
        cached = self._compiled.get(key, current[1])
        if cached is not None:
            return cached
        record = self.repo.get(name, kind.template_type, current[0])
        if record is None:
            raise self._not_found(name, kind.template_type, current[0])
        where = f"Template {name} ({kind.template_type}) version {record.version}, "
        compiled = TemplateVersion(
            name,
            kind.template_type,
            str(record.version),
            record.revision,
            record.document,
            compiled_parts(kind, record.document, where),
        )
        self._compiled.put(compiled)
        return compiled

    def _response(self, record: TemplateRecord) -> dict[str, Any]:
        arn = self.arn(record.name, record.template_type)
        return {
            **record.document,
            "Arn": arn,
            "CreationDate": record.creation_date,
            "LastModifiedDate": record.last_modified_date,
            "TemplateName": record.name,
            "TemplateType": record.template_type,
            "Version": str(record.version),
            "tags": self.tags.repo.get(arn),
        }

    def _not_found(self, name: str, template_type: str, version: int | None) -> NotFound:
        """What to answer when a read found nothing: no such version, or no such template."""
        known = version is not None and self.repo.exists(name, template_type)
        return _missing(name, template_type, version if known else None)


def _missing(name: str, template_type: str, version: int | None = None) -> NotFound:
    if version is None:
        return NotFound(f"Template not found: {name} ({template_type})")
    return NotFound(f"Template {name} ({template_type}) has no version {version}")


def _number(version: str) -> int:
    return version_number(version, "version")
