"""Message templates, their versions and which version is active."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.schema import template_versions, templates


@dataclass(frozen=True)
class TemplateRecord:
    """One version of a template, with the template's own creation date."""

    name: str
    template_type: str
    creation_date: str
    version: int
    version_creation_date: str
    last_modified_date: str
    revision: str
    document: dict[str, Any]


@dataclass(frozen=True)
class TemplateSummary:
    """A template as ListTemplates shows it: its active version without the content."""

    name: str
    template_type: str
    creation_date: str
    version: int
    last_modified_date: str


@dataclass(frozen=True)
class VersionSummary:
    version: int
    creation_date: str
    last_modified_date: str
    description: str | None
    default_substitutions: str | None


def _one(name: str, template_type: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (templates.c.name == name, templates.c.template_type == template_type)


def _versions_of(name: str, template_type: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (template_versions.c.name == name, template_versions.c.template_type == template_type)


_JOINED = templates.join(
    template_versions,
    (template_versions.c.name == templates.c.name)
    & (template_versions.c.template_type == templates.c.template_type),
)
_RECORD = sa.select(
    templates.c.name,
    templates.c.template_type,
    templates.c.creation_date,
    template_versions.c.version,
    template_versions.c.creation_date.label("version_creation_date"),
    template_versions.c.last_modified_date,
    template_versions.c.revision,
    template_versions.c.document,
).select_from(_JOINED)


def _record(row: sa.Row[Any]) -> TemplateRecord:
    return TemplateRecord(
        row.name,
        row.template_type,
        row.creation_date,
        row.version,
        row.version_creation_date,
        row.last_modified_date,
        row.revision,
        dict(row.document),
    )


def _at(version: int | None) -> sa.ColumnElement[bool]:
    """The given version, or the active one."""
    if version is None:
        return template_versions.c.version == templates.c.active_version
    return template_versions.c.version == version


class Editor:
    """Changes to one template inside a write transaction that holds it locked."""

    def __init__(
        self, conn: Connection, name: str, template_type: str, active: int, last: int
    ) -> None:
        self.conn = conn
        self.name = name
        self.template_type = template_type
        self.active_version = active
        self._last_version = last

    def latest(self) -> int:
        """The highest version number that still exists."""
        found: int = self.conn.execute(
            sa.select(sa.func.max(template_versions.c.version)).where(
                *_versions_of(self.name, self.template_type)
            )
        ).scalar_one()
        return found

    def has(self, version: int) -> bool:
        query = sa.select(template_versions.c.version).where(
            *_versions_of(self.name, self.template_type), template_versions.c.version == version
        )
        return self.conn.execute(query).first() is not None

    def add_version(self, now: str, revision: str, document: Mapping[str, Any]) -> int:
        """Store a new version under a number never used before for this template."""
        version = self._last_version + 1
        self.conn.execute(
            template_versions.insert().values(
                name=self.name,
                template_type=self.template_type,
                version=version,
                creation_date=now,
                last_modified_date=now,
                revision=revision,
                document=dict(document),
            )
        )
        self._set(last_version=version)
        self._last_version = version
        return version

    def overwrite(self, version: int, now: str, revision: str, document: Mapping[str, Any]) -> None:
        self.conn.execute(
            template_versions.update()
            .where(
                *_versions_of(self.name, self.template_type),
                template_versions.c.version == version,
            )
            .values(last_modified_date=now, revision=revision, document=dict(document))
        )

    def activate(self, version: int) -> None:
        self._set(active_version=version)
        self.active_version = version

    def delete_version(self, version: int) -> None:
        self.conn.execute(
            template_versions.delete().where(
                *_versions_of(self.name, self.template_type),
                template_versions.c.version == version,
            )
        )

    def _set(self, **values: Any) -> None:
        self.conn.execute(
            templates.update().where(*_one(self.name, self.template_type)).values(**values)
        )


class TemplateRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(
        self,
        name: str,
        template_type: str,
        now: str,
        revision: str,
        document: Mapping[str, Any],
    ) -> bool:
        """Create the template with its version 1, active; False if it exists already."""
        try:
            with self.db.write() as conn:
                conn.execute(
                    templates.insert().values(
                        name=name,
                        template_type=template_type,
                        creation_date=now,
                        active_version=1,
                        last_version=1,
                    )
                )
                conn.execute(
                    template_versions.insert().values(
                        name=name,
                        template_type=template_type,
                        version=1,
                        creation_date=now,
                        last_modified_date=now,
                        revision=revision,
                        document=dict(document),
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True

    @contextmanager
    def editing(self, name: str, template_type: str) -> Iterator[Editor | None]:
        """The template locked for changes (None if there is no such template); an exception
        raised inside rolls every change back."""
        with self.db.write() as conn:
            query = sa.select(templates.c.active_version, templates.c.last_version).where(
                *_one(name, template_type)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).first()
            yield (
                Editor(conn, name, template_type, row.active_version, row.last_version)
                if row
                else None
            )

    def get(self, name: str, template_type: str, version: int | None) -> TemplateRecord | None:
        """The given version of the template, or its active version."""
        query = _RECORD.where(*_one(name, template_type), _at(version))
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return _record(row) if row else None

    def revision(
        self, name: str, template_type: str, version: int | None
    ) -> tuple[int, str] | None:
        """The number and revision of the given or active version, without its content."""
        query = (
            sa.select(template_versions.c.version, template_versions.c.revision)
            .select_from(_JOINED)
            .where(*_one(name, template_type), _at(version))
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return (row.version, row.revision) if row else None

    def exists(self, name: str, template_type: str) -> bool:
        query = sa.select(templates.c.seq).where(*_one(name, template_type))
        with self.db.read() as conn:
            return conn.execute(query).first() is not None

    def delete(self, name: str, template_type: str) -> bool:
        """Delete the template with every version; False if there was none."""
        with self.db.write() as conn:
            conn.execute(template_versions.delete().where(*_versions_of(name, template_type)))
            deleted = conn.execute(templates.delete().where(*_one(name, template_type)))
        return deleted.rowcount > 0

    def page(
        self, prefix: str | None, template_type: str | None, after_seq: int, limit: int
    ) -> list[tuple[int, TemplateSummary]]:
        """Templates in creation order after ``after_seq``, each at its active version."""
        query = (
            sa.select(
                templates.c.seq,
                templates.c.name,
                templates.c.template_type,
                templates.c.creation_date,
                template_versions.c.version,
                template_versions.c.last_modified_date,
            )
            .select_from(_JOINED)
            .where(_at(None), templates.c.seq > after_seq)
            .order_by(templates.c.seq)
            .limit(limit)
        )
        if prefix:
            query = query.where(templates.c.name.startswith(prefix, autoescape=True))
        if template_type:
            query = query.where(templates.c.template_type == template_type)
        with self.db.read() as conn:
            return [
                (
                    row.seq,
                    TemplateSummary(
                        row.name,
                        row.template_type,
                        row.creation_date,
                        row.version,
                        row.last_modified_date,
                    ),
                )
                for row in conn.execute(query)
            ]

    def versions(
        self, name: str, template_type: str, after_version: int, limit: int
    ) -> list[VersionSummary]:
        document = template_versions.c.document
        query = (
            sa.select(
                template_versions.c.version,
                template_versions.c.creation_date,
                template_versions.c.last_modified_date,
                document["TemplateDescription"].as_string().label("description"),
                document["DefaultSubstitutions"].as_string().label("defaults"),
            )
            .where(*_versions_of(name, template_type), template_versions.c.version > after_version)
            .order_by(template_versions.c.version)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [
                VersionSummary(
                    row.version,
                    row.creation_date,
                    row.last_modified_date,
                    row.description,
                    row.defaults,
                )
                for row in conn.execute(query)
            ]
