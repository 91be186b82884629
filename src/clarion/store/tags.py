"""Tags of any taggable resource, keyed by its ARN."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from clarion.store.database import Database
from clarion.store.schema import tags


class TagRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, arn: str) -> dict[str, str]:
        query = sa.select(tags.c.key, tags.c.value).where(tags.c.arn == arn).order_by(tags.c.key)
        with self.db.read() as conn:
            return {row.key: row.value for row in conn.execute(query)}

    def put(self, arn: str, app_id: str | None, values: Mapping[str, str]) -> None:
        """Set the given tags, replacing the values of keys that exist already."""
        if not values:
            return
        with self.db.write() as conn:
            conn.execute(tags.delete().where(tags.c.arn == arn, tags.c.key.in_(list(values))))
            conn.execute(
                tags.insert(),
                [{"arn": arn, "key": k, "value": v, "app_id": app_id} for k, v in values.items()],
            )

    def remove(self, arn: str, keys: Sequence[str]) -> None:
        with self.db.write() as conn:
            conn.execute(tags.delete().where(tags.c.arn == arn, tags.c.key.in_(list(keys))))

    def remove_all(self, arn: str) -> None:
        with self.db.write() as conn:
            conn.execute(tags.delete().where(tags.c.arn == arn))
