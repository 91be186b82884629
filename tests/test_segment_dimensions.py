"""Segment dimensions compiled to SQL (clarion.segments.dimensions) on SQLite and PostgreSQL:
exact membership for hand-picked endpoints, and a property test holding the SQL to the
plain-Python reference evaluator (clarion.segments.reference) for random endpoints and
dimension sets.
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clarion.config import load_settings
from clarion.errors import BadRequest
from clarion.segments.dimensions import compile_dimensions
from clarion.segments.reference import matches
from clarion.store.database import Database, install_sqlite_math
from clarion.store.schema import endpoint_activity, endpoints

NOW_MS = 1_790_000_000_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# An endpoint: its id, its stored document and the time of its last event (None: never seen).
Endpoint = tuple[str, dict[str, Any], int | None]

_ordinals = itertools.count(1)


# --- Stores ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('segments') / 'clarion.db'}")
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def postgres_db(postgres_url: str) -> Iterator[Database]:
    """A database of this module's own: the shared one holds other tests' endpoints."""
    name = f"clarion_segments_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = load_settings(database_url=f"{postgres_url.rpartition('/')[0]}/{name}").sqlalchemy_url
    database = Database(url)
    try:
        database.migrate()
        yield database
    finally:
        database.dispose()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest) -> Database:
    database: Database = request.getfixturevalue(f"{request.param}_db")
    return database


def load(db: Database, app_id: str, rows: list[Endpoint]) -> None:
    with db.write() as conn:
        for endpoint_id, document, last_ms in rows:
            ordinal = next(_ordinals)
            conn.execute(
                endpoints.insert().values(
                    ordinal=ordinal,
                    app_id=app_id,
                    endpoint_id=endpoint_id,
                    channel_type=document.get("ChannelType"),
                    creation_date="2026-01-01T00:00:00.000Z",
                    document=document,
                )
            )
            if last_ms is not None:
                conn.execute(
                    endpoint_activity.insert().values(
                        app_id=app_id,
                        ordinal=ordinal,
                        first_day="2026-01-01",
                        last_event_ms=last_ms,
                    )
                )


def unload(db: Database, app_id: str) -> None:
    with db.write() as conn:
        conn.execute(endpoint_activity.delete().where(endpoint_activity.c.app_id == app_id))
        conn.execute(endpoints.delete().where(endpoints.c.app_id == app_id))


def segment(db: Database, app_id: str, dimensions: Mapping[str, Any]) -> set[str]:
    condition = compile_dimensions(dimensions, now_ms=NOW_MS, dialect=db.dialect)
    query = sa.select(endpoints.c.endpoint_id).where(endpoints.c.app_id == app_id, condition)
    with db.read() as conn:
        return set(conn.scalars(query))


def reference(rows: list[Endpoint], dimensions: Mapping[str, Any]) -> set[str]:
    return {key for key, document, last in rows if matches(document, last, dimensions, NOW_MS)}


# --- Hand-picked endpoints ------------------------------------------------------------------

QUOTED_NAME = "we\"ird'.name$"

ENDPOINTS: list[Endpoint] = [
    (
        "seattle",
        {
            "ChannelType": "GCM",
            "Attributes": {
                "team": ["red", "blue"],
                "signup": ["2024-03-05T10:00:00Z"],
                "note": ["hello world"],
            },
            "User": {"UserId": "u1", "UserAttributes": {"plan": ["pro"]}},
            "Metrics": {"score": 10.0},
            "Demographic": {
                "Platform": "android",
                "AppVersion": "1.2",
                "Make": "samsung",
                "Model": "SM-G900F",
            },
            "Location": {"Country": "US", "Latitude": 47.6, "Longitude": -122.3},
        },
        NOW_MS - HOUR_MS,
    ),
    (
        "vancouver",
        {
            "ChannelType": "APNS",
            "Attributes": {"team": ["green"], "signup": ["2024-03-06"], "note": ["goodbye"]},
            "User": {"UserAttributes": {"plan": ["free"]}},
            "Metrics": {"score": 5},
            "Demographic": {
                "Platform": "ios",
                "AppVersion": "2.0",
                "Make": "apple",
                "Model": "iPhone",
            },
            "Location": {"Country": "CA", "Latitude": 49.3, "Longitude": -123.1},
        },
        NOW_MS - 10 * DAY_MS,
    ),
    (
        "auckland",
        {
            "ChannelType": "EMAIL",
            "Attributes": {"signup": ["2024-03-05T23:59:59.999Z", "not a date", "2024-13-99"]},
            "Location": {"Country": "NZ", "Latitude": -36.8, "Longitude": 174.8},
        },
        None,
    ),
    (
        "fiji-east",
        {
            "ChannelType": "SMS",
            "Attributes": {QUOTED_NAME: ["x"]},
            "Location": {"Latitude": -17.8, "Longitude": -179.9},
        },
        None,
    ),
    (
        "fiji-west",
        {"ChannelType": "SMS", "Location": {"Latitude": -17.8, "Longitude": 179.8}},
        None,
    ),
]

ALL = {key for key, _, _ in ENDPOINTS}


def _attr(kind: str, *values: str, name: str = "team") -> dict[str, Any]:
    return {"Attributes": {name: {"AttributeType": kind, "Values": list(values)}}}


def _metric(operator: str, value: float) -> dict[str, Any]:
    return {"Metrics": {"score": {"ComparisonOperator": operator, "Value": value}}}


def _recency(kind: str, duration: str) -> dict[str, Any]:
    return {"Behavior": {"Recency": {"RecencyType": kind, "Duration": duration}}}


def _demographic(field: str, *values: str, kind: str = "INCLUSIVE") -> dict[str, Any]:
    return {"Demographic": {field: {"DimensionType": kind, "Values": list(values)}}}


def _gps(latitude: float, longitude: float, range_km: float) -> dict[str, Any]:
    point = {"Latitude": latitude, "Longitude": longitude}
    return {"Location": {"GPSPoint": {"Coordinates": point, "RangeInKilometers": range_km}}}


CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("no dimensions", {}, ALL),
    ("inclusive: any of the values", _attr("INCLUSIVE", "red", "green"), {"seattle", "vancouver"}),
    ("inclusive is the default", {"Attributes": {"team": {"Values": ["blue"]}}}, {"seattle"}),
    ("exclusive keeps endpoints without it", _attr("EXCLUSIVE", "red"), ALL - {"seattle"}),
    ("contains a substring", _attr("CONTAINS", "lo w", name="note"), {"seattle"}),
    ("contains any of", _attr("CONTAINS", "zzz", "bye", name="note"), {"vancouver"}),
    ("before is strict", _attr("BEFORE", "2024-03-05T10:00:00.001Z", name="signup"), {"seattle"}),
    ("before excludes equal", _attr("BEFORE", "2024-03-05T10:00:00Z", name="signup"), set()),
    (
        "after, offsets converted to UTC",
        _attr("AFTER", "2024-03-05T21:59:59.998-02:00", name="signup"),
        {"vancouver", "auckland"},
    ),
    (
        "on ignores time",
        _attr("ON", "2024-03-05T18:00:00Z", name="signup"),
        {"seattle", "auckland"},
    ),
    (
        "between includes both ends",
        _attr("BETWEEN", "2024-03-05T10:00:00Z", "2024-03-06T00:00:00+00:00", name="signup"),
        {"seattle", "vancouver", "auckland"},
    ),
    (
        "between, a bare date is midnight",
        _attr("BETWEEN", "2024-03-05T23:59:59.9995Z", "2024-03-06", name="signup"),
        {"vancouver"},
    ),
    (
        "user attributes",
        {"UserAttributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["pro"]}}},
        {"seattle"},
    ),
    ("attribute names are data, not SQL", _attr("INCLUSIVE", "x", name=QUOTED_NAME), {"fiji-east"}),
    ("metric >", _metric("GREATER_THAN", 5), {"seattle"}),
    ("metric >=", _metric("GREATER_THAN_OR_EQUAL", 5), {"seattle", "vancouver"}),
    ("metric =", _metric("EQUAL", 5.0), {"vancouver"}),
    ("metric <", _metric("LESS_THAN", 10), {"vancouver"}),
    ("metric <=", _metric("LESS_THAN_OR_EQUAL", 10), {"seattle", "vancouver"}),
    ("active in 24 hours", _recency("ACTIVE", "HR_24"), {"seattle"}),
    ("active in 14 days", _recency("ACTIVE", "DAY_14"), {"seattle", "vancouver"}),
    ("inactive includes never seen", _recency("INACTIVE", "DAY_7"), ALL - {"seattle"}),
    ("platform", _demographic("Platform", "ios"), {"vancouver"}),
    ("device type is the platform", _demographic("DeviceType", "android"), {"seattle"}),
    ("exclusive platform", _demographic("Platform", "ios", kind="EXCLUSIVE"), ALL - {"vancouver"}),
    ("channel", _demographic("Channel", "EMAIL", "SMS"), {"auckland", "fiji-east", "fiji-west"}),
    ("app version", _demographic("AppVersion", "1.2"), {"seattle"}),
    ("make", _demographic("Make", "apple", kind="EXCLUSIVE"), ALL - {"vancouver"}),
    ("model", _demographic("Model", "iPhone"), {"vancouver"}),
    (
        "country",
        {"Location": {"Country": {"DimensionType": "INCLUSIVE", "Values": ["US", "CA"]}}},
        {"seattle", "vancouver"},
    ),
    ("gps: 50 km around Seattle", _gps(47.6062, -122.3321, 50), {"seattle"}),
    ("gps: 300 km reach Vancouver", _gps(47.6062, -122.3321, 300), {"seattle", "vancouver"}),
    ("gps: zero range, same point", _gps(47.6, -122.3, 0), {"seattle"}),
    ("gps: across the antimeridian", _gps(-17.8, 179.95, 20), {"fiji-east", "fiji-west"}),
    ("gps: half the globe and more", _gps(0, 0, 25_000), ALL),
    (
        "every dimension must hold",
        {**_attr("INCLUSIVE", "red", "green"), **_demographic("Platform", "ios")},
        {"vancouver"},
    ),
]


@pytest.fixture
def hand_picked(db: Database) -> Iterator[str]:
    app_id = f"hand-{uuid.uuid4().hex}"
    load(db, app_id, ENDPOINTS)
    try:
        yield app_id
    finally:
        unload(db, app_id)


@pytest.mark.parametrize(
    ("dimensions", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_membership(
    db: Database, hand_picked: str, dimensions: dict[str, Any], expected: set[str]
) -> None:
    assert segment(db, hand_picked, dimensions) == expected
    assert reference(ENDPOINTS, dimensions) == expected


@pytest.mark.parametrize(
    ("dimensions", "message"),
    [
        (_attr("BETWEEN", "2024-01-01"), "BETWEEN takes exactly 2"),
        (_attr("BEFORE", "2024-01-01", "2024-02-01"), "BEFORE takes exactly 1"),
        (_attr("ON", "yesterday"), "'yesterday' is not an ISO 8601 date"),
        (_attr("BETWEEN", "2024-02-01", "2024-01-01"), "earlier date first"),
        (_attr("SOMETIMES", "x"), "Attributes.team.AttributeType: 'SOMETIMES'"),
        (_metric("ABOUT", 1), "Metrics.score.ComparisonOperator"),
        (_gps(0, 0, -1), "RangeInKilometers must not be negative"),
        ({"Location": {"GPSPoint": {"Coordinates": {"Latitude": 0, "Longitude": 0}}}}, "required"),
        (_gps(91, 0, 1), "Latitude must be between -90 and 90"),
        (_recency("ACTIVE", "DAY_3"), "Behavior.Recency.Duration"),
        (_demographic("Platform", "ios", kind="MAYBE"), "Demographic.Platform.DimensionType"),
    ],
)
def test_invalid_dimensions(dimensions: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        compile_dimensions(dimensions, now_ms=NOW_MS, dialect="sqlite")


def test_sqlite_math_is_available() -> None:
    """GPS dimensions need ``sin`` and ``cos`` on every SQLite connection."""
    connection = sqlite3.connect(":memory:")
    install_sqlite_math(connection)
    assert connection.execute("SELECT sin(0), cos(0)").fetchone() == (0.0, 1.0)
    connection.close()


class _WithoutMath(sqlite3.Connection):
    """A connection whose SQLite answers as one built without math functions, until some are
    registered."""

    registered: set[str]

    def create_function(self, name: str, narg: int, func: Any, **kwargs: Any) -> None:
        self.registered = {*getattr(self, "registered", set()), name}
        super().create_function(name, narg, func, **kwargs)

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if "sin(" in sql and "sin" not in getattr(self, "registered", set()):
            raise sqlite3.OperationalError("no such function: sin")
        return super().execute(sql, *args)


def test_sqlite_math_is_registered_when_missing() -> None:
    connection = sqlite3.connect(":memory:", factory=_WithoutMath)
    install_sqlite_math(connection)
    row = connection.execute("SELECT sin(0), cos(0), sin(NULL)").fetchone()
    assert row == (0.0, 1.0, None)
    assert connection.registered == {"sin", "cos"}
    connection.close()


# --- SQL against the reference --------------------------------------------------------------

NAMES = st.sampled_from(["team", "signup", QUOTED_NAME])
STRINGS = st.one_of(
    st.sampled_from(["red", "re", "a"]),
    st.sampled_from(
        [
            "2024-03-05",
            "2024-03-05T10:00:00Z",
            "2024-03-05T10:00:00.5Z",
            "2024-03-05T10:00:00.500000001Z",
            "2024-03-05T09:59:59.9999999Z",
            "2024-13-45T99:00:00Z",
            "2024-03-05T10:00:00+01:00",
            "2024-03-05T10:00:00.Z",
            "x2024-03-05",
        ]
    ),
    st.text(alphabet="ab\"'%_é", max_size=3),
)
DATES = st.sampled_from(
    [
        "2024-03-05",
        "2024-03-05T10:00:00Z",
        "2024-03-05T10:00:00.5Z",
        "2024-03-05T09:00:00-01:00",
        "2024-03-05T10:00:00.500000",
        "2024-03-06T00:00:00+14:00",
    ]
)
SOME_NUMBERS = st.sampled_from([-1, 0, 0.5, 5, 10])
NUMBERS = st.one_of(SOME_NUMBERS, SOME_NUMBERS, st.floats(-1e6, 1e6, allow_nan=False))
LATITUDES = st.one_of(st.sampled_from([47.6, -17.8, 89.9, -89.9, 0.0]), st.floats(-90, 90))
LONGITUDES = st.one_of(st.sampled_from([-122.3, 179.9, -179.9, 0.0, 180.0]), st.floats(-180, 180))
OPERATORS = [
    "GREATER_THAN",
    "LESS_THAN",
    "GREATER_THAN_OR_EQUAL",
    "LESS_THAN_OR_EQUAL",
    "EQUAL",
]
CHANNELS = ["GCM", "APNS", "EMAIL", "SMS"]
PLATFORMS = ["ios", "android", "1.0", "apple"]
COUNTRIES = ["US", "CA", "NZ"]

attribute_maps = st.dictionaries(
    NAMES, st.lists(STRINGS, min_size=1, max_size=3), min_size=1, max_size=3
)

# Attributes, user attributes and metrics are always there (only under some of the names),
# so that attribute and metric dimensions select some endpoints and not others.
documents = st.fixed_dictionaries(
    {
        "Attributes": attribute_maps,
        "User": st.fixed_dictionaries({"UserAttributes": attribute_maps}),
        "Metrics": st.dictionaries(NAMES, NUMBERS, min_size=1, max_size=2),
    },
    optional={
        "ChannelType": st.sampled_from(CHANNELS),
        "Demographic": st.fixed_dictionaries(
            {},
            optional={
                field: st.sampled_from(PLATFORMS)
                for field in ("AppVersion", "Make", "Model", "Platform")
            },
        ),
        "Location": st.one_of(
            st.fixed_dictionaries({}, optional={"Country": st.sampled_from(COUNTRIES)}),
            st.fixed_dictionaries(
                {"Latitude": LATITUDES, "Longitude": LONGITUDES},
                optional={"Country": st.sampled_from(COUNTRIES)},
            ),
        ),
    },
)

endpoint_lists = st.lists(
    st.tuples(
        documents,
        st.one_of(st.none(), st.integers(NOW_MS - 40 * DAY_MS, NOW_MS + DAY_MS)),
    ),
    min_size=3,
    max_size=8,
)


def _between(pair: list[str]) -> list[str]:
    return sorted(pair, key=lambda value: _utc(value))


def _utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


attribute_dimensions = st.one_of(
    st.fixed_dictionaries(
        {
            "AttributeType": st.sampled_from(["INCLUSIVE", "EXCLUSIVE", "CONTAINS"]),
            "Values": st.lists(STRINGS, max_size=3),
        }
    ),
    st.fixed_dictionaries(
        {
            "AttributeType": st.sampled_from(["BEFORE", "AFTER", "ON"]),
            "Values": st.lists(DATES, min_size=1, max_size=1),
        }
    ),
    st.fixed_dictionaries(
        {
            "AttributeType": st.just("BETWEEN"),
            "Values": st.lists(DATES, min_size=2, max_size=2).map(_between),
        }
    ),
)


def _set_dimension(values: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"Values": st.lists(st.sampled_from(values), max_size=3)},
        optional={"DimensionType": st.sampled_from(["INCLUSIVE", "EXCLUSIVE"])},
    )


# One kind of dimension at a time, one or two of them per set: random sets of every kind at once
# would almost always select nothing.
dimension_kinds = st.one_of(
    st.fixed_dictionaries(
        {"Attributes": st.dictionaries(NAMES, attribute_dimensions, min_size=1, max_size=2)}
    ),
    st.fixed_dictionaries(
        {"UserAttributes": st.dictionaries(NAMES, attribute_dimensions, min_size=1, max_size=1)}
    ),
    st.fixed_dictionaries(
        {
            "Metrics": st.dictionaries(
                NAMES,
                st.fixed_dictionaries(
                    {"ComparisonOperator": st.sampled_from(OPERATORS), "Value": NUMBERS}
                ),
                min_size=1,
                max_size=2,
            )
        }
    ),
    st.fixed_dictionaries(
        {
            "Behavior": st.fixed_dictionaries(
                {
                    "Recency": st.fixed_dictionaries(
                        {
                            "RecencyType": st.sampled_from(["ACTIVE", "INACTIVE"]),
                            "Duration": st.sampled_from(["HR_24", "DAY_7", "DAY_14", "DAY_30"]),
                        }
                    )
                }
            )
        }
    ),
    st.fixed_dictionaries(
        {
            "Demographic": st.one_of(
                st.fixed_dictionaries({"AppVersion": _set_dimension(PLATFORMS)}),
                st.fixed_dictionaries({"Channel": _set_dimension(CHANNELS)}),
                st.fixed_dictionaries({"DeviceType": _set_dimension(PLATFORMS)}),
                st.fixed_dictionaries({"Make": _set_dimension(PLATFORMS)}),
                st.fixed_dictionaries({"Model": _set_dimension(PLATFORMS)}),
                st.fixed_dictionaries({"Platform": _set_dimension(PLATFORMS)}),
            )
        }
    ),
    st.fixed_dictionaries(
        {"Location": st.fixed_dictionaries({"Country": _set_dimension(COUNTRIES)})}
    ),
    st.fixed_dictionaries(
        {
            "Location": st.fixed_dictionaries(
                {
                    "GPSPoint": st.fixed_dictionaries(
                        {
                            "Coordinates": st.fixed_dictionaries(
                                {"Latitude": LATITUDES, "Longitude": LONGITUDES}
                            ),
                            "RangeInKilometers": st.one_of(
                                st.sampled_from([0, 1, 20, 300, 5000, 20015, 30000]),
                                st.floats(0, 25_000),
                            ),
                        }
                    )
                }
            )
        }
    ),
)
dimension_sets = st.lists(dimension_kinds, min_size=1, max_size=2).map(
    lambda kinds: {key: value for kind in kinds for key, value in kind.items()}
)


def check_against_reference(
    db: Database, rows: list[tuple[dict[str, Any], int | None]], dimensions: dict[str, Any]
) -> None:
    endpoints_ = [(f"e{index}", document, last) for index, (document, last) in enumerate(rows)]
    app_id = f"prop-{uuid.uuid4().hex}"
    load(db, app_id, endpoints_)
    try:
        assert segment(db, app_id, dimensions) == reference(endpoints_, dimensions)
    finally:
        unload(db, app_id)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=endpoint_lists, dimensions=dimension_sets)
def test_sqlite_agrees_with_reference(
    sqlite_db: Database, rows: list[tuple[dict[str, Any], int | None]], dimensions: dict[str, Any]
) -> None:
    check_against_reference(sqlite_db, rows, dimensions)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=endpoint_lists, dimensions=dimension_sets)
def test_postgresql_agrees_with_reference(
    postgres_db: Database, rows: list[tuple[dict[str, Any], int | None]], dimensions: dict[str, Any]
) -> None:
    check_against_reference(postgres_db, rows, dimensions)
