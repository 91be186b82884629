"""Segment evaluation on a large store: 1,000,000 endpoints, one segment of four dimensions.

The store is a fresh SQLite file in a temporary directory. Its rows are bulk-inserted straight
into ``endpoints`` and ``endpoint_activity`` with SQLAlchemy executemany, a hundred thousand
rows a transaction, NOT through ``Endpoints.apply`` or ``Events.record``: this bench measures
segment evaluation, not ingestion (bench/ingest.py and bench/reports.py cover that), and the
API path would take far longer to load a million endpoints. The documents have the shape
Pinpoint endpoint documents have (Id, ChannelType EMAIL, Address, Demographic, Location with
coordinates, Attributes with lists, Metrics, User); each endpoint's last event is spread
uniformly over the last 60 days (one in ten has none). ``endpoint_facets`` and
``attribute_names`` are not filled: segment evaluation does not read them.

Then, in this process, median of ``--runs`` after one warm-up:

1. the COUNT of a segment (Demographic Platform INCLUSIVE [ios], Location GPSPoint 50 km
   around Berlin where about a tenth of the endpoints live, Attributes Plan INCLUSIVE [pro],
   Behavior Recency ACTIVE DAY_7) as ``SegmentRepository.estimate`` counts it:
   ``SELECT count(*) FROM endpoints WHERE app_id = ? AND <membership.condition(...)>``;
2. beside it, one hand-written SQL query answering the same question as directly as it can
   be written (a join on ``endpoint_activity``, ``json_extract``, ``json_each``), and the
   ratio Clarion / hand-written;
3. streaming every member id (``yield_per=10_000``) of that segment and of a broad one
   (Recency ACTIVE DAY_30, about half of all endpoints), in a fresh child process so the
   peak RSS growth (``VmHWM`` after minus ``VmRSS`` before, from /proc/self/status, the peak
   reset first through /proc/self/clear_refs) is the stream's and not the loader's.

    .venv/bin/python bench/segments.py [--endpoints 1000000] [--runs 5]
    .venv/bin/python bench/segments.py --endpoints 100000        # a quick run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clarion.clock import epoch_ms
from clarion.config import load_settings
from clarion.core import Clarion as Core
from clarion.segments import membership
from clarion.store.schema import endpoint_activity, endpoints

COUNT_TARGET_S = 0.5
RATIO_TARGET = 1.5
STREAM_RSS_TARGET_MB = 200.0
ROWS_PER_EXECUTEMANY = 20_000
ROWS_PER_TRANSACTION = 100_000
YIELD_PER = 10_000
DAY_MS = 86_400_000
ACTIVITY_DAYS = 60
NO_ACTIVITY_SHARE = 0.10
NO_COORDINATES_SHARE = 0.05

# --- The endpoints ---------------------------------------------------------------------------

PLATFORMS: dict[str, tuple[tuple[str, str], ...]] = {
    "ios": (("Apple", "iPhone15,2"), ("Apple", "iPhone14,5"), ("Apple", "iPad13,1")),
    "android": (("Samsung", "SM-S911B"), ("Google", "Pixel 8"), ("Xiaomi", "2201116SG")),
    "web": (("Mozilla", "Firefox"), ("Google", "Chrome")),
}
PLATFORM_WEIGHTS = (45, 48, 7)
APP_VERSIONS = ("3.2.1", "3.2.0", "3.1.4", "3.0.9", "2.9.0")
APP_VERSION_WEIGHTS = (40, 25, 18, 12, 5)
CITIES = (
    # city, country, locale, timezone, latitude, longitude
    ("Berlin", "DE", "de_DE", "Europe/Berlin", 52.5200, 13.4050),
    ("Hamburg", "DE", "de_DE", "Europe/Berlin", 53.5511, 9.9937),
    ("Munich", "DE", "de_DE", "Europe/Berlin", 48.1371, 11.5754),
    ("London", "GB", "en_GB", "Europe/London", 51.5072, -0.1276),
    ("Paris", "FR", "fr_FR", "Europe/Paris", 48.8566, 2.3522),
    ("New York", "US", "en_US", "America/New_York", 40.7128, -74.0060),
    ("Mexico City", "MX", "es_MX", "America/Mexico_City", 19.4326, -99.1332),
    ("Sao Paulo", "BR", "pt_BR", "America/Sao_Paulo", -23.5505, -46.6333),
    ("Tokyo", "JP", "ja_JP", "Asia/Tokyo", 35.6762, 139.6503),
    ("Mumbai", "IN", "en_IN", "Asia/Kolkata", 19.0760, 72.8777),
)
CITY_WEIGHTS = (10, 6, 6, 10, 8, 22, 8, 10, 9, 11)
CITY_SPREAD_DEGREES = 0.15
"""Standard deviation of an endpoint's latitude around its city (about 17 km); longitude's is
scaled by the latitude so the spread is round."""
PLANS = ("free", "plus", "pro")
PLAN_WEIGHTS = (70, 20, 10)
INTERESTS = ("sports", "music", "travel", "food", "games", "tech", "fashion", "movies")
TAGS = ("beta", "newsletter", "vip", "churn-risk", "referral")

CENTRE = CITIES[0]
RANGE_KM = 50.0
EARTH_RADIUS_KM = 6371.0088
RADIANS = math.pi / 180


def segment() -> dict[str, Any]:
    """The four-dimension segment's ``SegmentDimensions`` wrapped as a definition."""
    return {
        "Dimensions": {
            "Demographic": {"Platform": {"DimensionType": "INCLUSIVE", "Values": ["ios"]}},
            "Location": {
                "GPSPoint": {
                    "Coordinates": {"Latitude": CENTRE[4], "Longitude": CENTRE[5]},
                    "RangeInKilometers": RANGE_KM,
                }
            },
            "Attributes": {"Plan": {"AttributeType": "INCLUSIVE", "Values": ["pro"]}},
            "Behavior": {"Recency": {"RecencyType": "ACTIVE", "Duration": "DAY_7"}},
        }
    }


BROAD = {"Dimensions": {"Behavior": {"Recency": {"RecencyType": "ACTIVE", "Duration": "DAY_30"}}}}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def rows(
    app: str, count: int, now_ms: int, rng: random.Random
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each endpoint's ``endpoints`` row and its ``endpoint_activity`` row (None: no event)."""
    platforms = list(PLATFORMS)
    for number in range(count):
        ordinal = number + 1
        endpoint_id = f"endpoint-{number:07d}"
        platform = rng.choices(platforms, PLATFORM_WEIGHTS)[0]
        make, model = rng.choice(PLATFORMS[platform])
        city, country, locale, timezone, latitude, longitude = rng.choices(CITIES, CITY_WEIGHTS)[0]
        age_days = rng.uniform(0, 400)
        created = iso(now_ms - int(age_days * DAY_MS))
        location: dict[str, Any] = {"Country": country, "City": city}
        if rng.random() >= NO_COORDINATES_SHARE:
            spread = CITY_SPREAD_DEGREES
            location["Latitude"] = round(latitude + rng.gauss(0, spread), 6)
            location["Longitude"] = round(
                longitude + rng.gauss(0, spread / math.cos(latitude * RADIANS)), 6
            )
        address = f"user{number}@example.com"
        user_id = f"user-{number}"
        document = {
            "Id": endpoint_id,
            "ChannelType": "EMAIL",
            "Address": address,
            "EndpointStatus": "ACTIVE",
            "OptOut": "NONE",
            "CohortId": str(number % 100),
            "CreationDate": created,
            "EffectiveDate": created,
            "Demographic": {
                "Platform": platform,
                "AppVersion": rng.choices(APP_VERSIONS, APP_VERSION_WEIGHTS)[0],
                "Make": make,
                "Model": model,
                "Locale": locale,
                "Timezone": timezone,
            },
            "Location": location,
            "Attributes": {
                "Plan": [rng.choices(PLANS, PLAN_WEIGHTS)[0]],
                "Interests": rng.sample(INTERESTS, rng.randint(1, 3)),
                "Tags": rng.sample(TAGS, rng.randint(0, 2)),
            },
            "Metrics": {"sessions": float(rng.randrange(500))},
            "User": {"UserId": user_id},
        }
        endpoint = {
            "ordinal": ordinal,
            "app_id": app,
            "endpoint_id": endpoint_id.lower(),
            "user_id": user_id,
            "channel_type": "EMAIL",
            "address": address,
            "opt_out": "NONE",
            "endpoint_status": "ACTIVE",
            "creation_date": created,
            "document": document,
        }
        activity = None
        if rng.random() >= NO_ACTIVITY_SHARE:
            last = now_ms - int(rng.uniform(0, ACTIVITY_DAYS) * DAY_MS)
            first_ms = last - int(rng.uniform(0, min(age_days, 90)) * DAY_MS)
            activity = {
                "app_id": app,
                "ordinal": ordinal,
                "first_day": iso(first_ms)[:10],
                "last_event_ms": last,
                "session_id": None,
                "session_start_ms": None,
                "session_stop_ms": None,
            }
        yield endpoint, activity


def load(core: Core, app: str, count: int, now_ms: int, rng: random.Random) -> tuple[int, float]:
    """Bulk-insert the rows; the number of activity rows and the seconds it took."""
    started = time.perf_counter()
    activities = 0
    generated = rows(app, count, now_ms, rng)
    remaining = count
    while remaining:
        with core.db.write() as conn:
            in_transaction = min(ROWS_PER_TRANSACTION, remaining)
            remaining -= in_transaction
            while in_transaction:
                size = min(ROWS_PER_EXECUTEMANY, in_transaction)
                in_transaction -= size
                batch = [next(generated) for _ in range(size)]
                active = [activity for _, activity in batch if activity is not None]
                conn.execute(endpoints.insert(), [endpoint for endpoint, _ in batch])
                if active:
                    conn.execute(endpoint_activity.insert(), active)
                activities += len(active)
    with core.db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return activities, time.perf_counter() - started


# --- The queries -----------------------------------------------------------------------------


def no_bases(segment_id: str, version: int | None) -> None:
    """The segments here have no base segments."""
    del segment_id, version


def clarion_condition(
    app: str, definition: Mapping[str, Any], now_ms: int
) -> sa.ColumnElement[bool]:
    scope = membership.Scope(app, no_bases, now_ms, "sqlite")
    return membership.condition("bench", definition, scope)


def clarion_count(app: str, now_ms: int) -> sa.Select[tuple[int]]:
    """The count ``SegmentRepository.estimate`` runs."""
    where = sa.and_(endpoints.c.app_id == app, clarion_condition(app, segment(), now_ms))
    return sa.select(sa.func.count()).select_from(endpoints).where(where)


HAND_WRITTEN = """
SELECT count(*)
FROM endpoints AS e
JOIN endpoint_activity AS a ON a.app_id = e.app_id AND a.ordinal = e.ordinal
WHERE e.app_id = :app
  AND a.last_event_ms >= :cutoff
  AND json_extract(e.document, '$.Demographic.Platform') = 'ios'
  AND EXISTS (SELECT 1 FROM json_each(e.document, '$.Attributes.Plan') WHERE value = 'pro')
  AND json_extract(e.document, '$.Location.Latitude') BETWEEN :south AND :north
  AND json_extract(e.document, '$.Location.Longitude') BETWEEN :west AND :east
  AND sin((json_extract(e.document, '$.Location.Latitude') - :lat) * :half_rad)
      * sin((json_extract(e.document, '$.Location.Latitude') - :lat) * :half_rad)
    + cos(json_extract(e.document, '$.Location.Latitude') * :rad) * :cos_lat
      * sin((json_extract(e.document, '$.Location.Longitude') - :lon) * :half_rad)
      * sin((json_extract(e.document, '$.Location.Longitude') - :lon) * :half_rad)
    <= :threshold
"""
"""The same question by hand: a plain join for recency, ``json_extract`` for the scalars,
``json_each`` for the attribute list, a bounding box and then the haversine, written in the
same order of operations as Clarion's so the two agree to the last bit."""


def hand_written_params(app: str, now_ms: int) -> dict[str, Any]:
    latitude, longitude = CENTRE[4], CENTRE[5]
    angle = RANGE_KM / EARTH_RADIUS_KM
    dlat = math.degrees(angle) * 1.001
    dlon = dlat / math.cos((abs(latitude) + dlat) * RADIANS)
    return {
        "app": app,
        "cutoff": now_ms - 7 * DAY_MS,
        "south": latitude - dlat,
        "north": latitude + dlat,
        "west": longitude - dlon,
        "east": longitude + dlon,
        "lat": latitude,
        "lon": longitude,
        "rad": RADIANS,
        "half_rad": RADIANS * 0.5,
        "cos_lat": math.cos(latitude * RADIANS),
        "threshold": math.sin(RANGE_KM / (2 * EARTH_RADIUS_KM)) ** 2,
    }


def timed(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    """The median seconds of ``runs`` calls after a warm-up, and the last call's answer."""
    answer = work()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), answer


def stream_ids(conn: Connection, query: sa.Select[Any]) -> int:
    result = conn.execution_options(yield_per=YIELD_PER).execute(query)
    found = 0
    for _ in result:
        found += 1
    return found


def streamer(conn: Connection, query: sa.Select[Any]) -> Callable[[], int]:
    return lambda: stream_ids(conn, query)


def member_ids(app: str, definition: Mapping[str, Any], now_ms: int) -> sa.Select[Any]:
    return sa.select(sa.func.json_extract(endpoints.c.document, "$.Id")).where(
        endpoints.c.app_id == app, clarion_condition(app, definition, now_ms)
    )


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_status_mb(field: str) -> float:
    """``VmRSS`` or ``VmHWM`` (peak RSS) of this process from /proc/self/status (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss() -> None:
    """Set ``VmHWM`` back to the current RSS (Linux 4.0 and later)."""
    Path("/proc/self/clear_refs").write_text("5")


def stream_child(data_dir: Path, app: str, now_ms: int, runs: int) -> None:
    """Run in a fresh process: stream both segments' ids and print what it took as JSON."""
    core = Core(load_settings(data_dir=data_dir))
    report: dict[str, Any] = {}
    try:
        with core.db.read() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM apps").scalar()
            for label, definition in (("four", segment()), ("broad", BROAD)):
                query = member_ids(app, definition, now_ms)
                reset_peak_rss()
                before = proc_status_mb("VmRSS")
                seconds, members = timed(runs, streamer(conn, query))
                report[label] = {
                    "seconds": seconds,
                    "members": members,
                    "baseline_mb": before,
                    "growth_mb": proc_status_mb("VmHWM") - before,
                }
    finally:
        core.close()
    print(json.dumps(report))


def stream_in_child(data_dir: Path, app: str, now_ms: int, runs: int) -> dict[str, Any]:
    child = (str(data_dir), app, str(now_ms))
    done = subprocess.run(
        [sys.executable, __file__, "--runs", str(runs), "--stream-child", *child],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


# --- Output ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER"


def megabytes(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def load_average() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description="Segment evaluation on a large store")
    parser.add_argument("--endpoints", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs after a warm-up")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--stream-child", nargs=3, metavar=("DATA_DIR", "APP", "NOW_MS"))
    args = parser.parse_args()
    if args.stream_child:
        child_dir, child_app, child_now = args.stream_child
        stream_child(Path(child_dir), child_app, int(child_now), args.runs)
        return

    began = time.perf_counter()
    rng = random.Random(args.seed)
    print(
        f"bench/segments.py: {args.endpoints:,} endpoints, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs (load average {load_average()})"
    )
    with tempfile.TemporaryDirectory(prefix="clarion-segments-") as tmp:
        data_dir = Path(tmp)
        db_path = data_dir / "clarion.db"
        core = Core(load_settings(data_dir=data_dir))
        try:
            core.start()
            app: str = core.apps.create("segments-bench", {})["Id"]
            now_ms = epoch_ms(core.clock())
            activities, load_s = load(core, app, args.endpoints, now_ms, rng)
            print(
                f"  loaded    {args.endpoints:,} endpoints and {activities:,} endpoint_activity "
                f"rows in {load_s:.1f} s ({args.endpoints / load_s:,.0f} endpoints/s), "
                f"bulk-inserted straight into the tables (executemany, "
                f"{ROWS_PER_TRANSACTION:,} a transaction), NOT through the API: this bench "
                f"measures segment evaluation, not ingestion"
            )
            print(
                f"  store     {megabytes(db_path):,.0f} MB ({db_path.name}, ANALYZEd, WAL "
                f"checkpointed); loader peak RSS {maxrss_mb():,.0f} MB"
            )
            with core.db.read() as conn:
                in_centre = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(endpoints)
                    .where(
                        endpoints.c.app_id == app,
                        sa.func.json_extract(endpoints.c.document, "$.Location.City") == CENTRE[0],
                    )
                ).scalar_one()
                query = clarion_count(app, now_ms)
                clarion_s, clarion_answer = timed(
                    args.runs, lambda: int(conn.execute(query).scalar_one())
                )
                params = hand_written_params(app, now_ms)
                hand_s, hand_answer = timed(
                    args.runs,
                    lambda: int(conn.execute(sa.text(HAND_WRITTEN), params).scalar_one()),
                )
        finally:
            core.close()
        streamed = stream_in_child(data_dir, app, now_ms, args.runs)

    print(
        f"  {in_centre:,} endpoints ({in_centre / args.endpoints:.1%}) live in {CENTRE[0]}; "
        f"load average when timing ends: {load_average()}"
    )
    print(
        f"\nSegment: Demographic Platform INCLUSIVE [ios], Location GPSPoint {RANGE_KM:.0f} km "
        f"around {CENTRE[0]},\n         Attributes Plan INCLUSIVE [pro], Behavior Recency "
        f"ACTIVE DAY_7. Median of {args.runs} after a warm-up, in-process."
    )
    ratio = clarion_s / hand_s
    agree = "same answer" if clarion_answer == hand_answer else "DIFFERENT ANSWERS"
    print(
        f"  (1) Clarion count (membership.condition, estimate's query) "
        f"{clarion_s * 1000:9.1f} ms  target <= {COUNT_TARGET_S * 1000:.0f} ms  "
        f"{verdict(clarion_s <= COUNT_TARGET_S):<4}  {clarion_answer:,} members"
    )
    print(
        f"  (2) hand-written SQL count (join, json_extract, json_each) "
        f"{hand_s * 1000:9.1f} ms  {hand_answer:,} members ({agree})"
    )
    print(
        f"      ratio Clarion / hand-written {ratio:.2f}  target <= {RATIO_TARGET}  "
        f"{verdict(ratio <= RATIO_TARGET)}"
    )
    print(
        f"  (3) streaming member ids (json_extract '$.Id', yield_per={YIELD_PER:,}) in a fresh "
        f"child process;\n      peak RSS growth = VmHWM (/proc/self/status, reset through "
        f"/proc/self/clear_refs) after the warm-up and {args.runs} runs minus VmRSS before them\n"
        f"      (not ru_maxrss: Linux carries it over from the parent across exec):"
    )
    for label, name in (("four", "the segment above"), ("broad", "Recency ACTIVE DAY_30")):
        s = streamed[label]
        print(
            f"      {name:<22} {s['members']:>9,} ids  {s['seconds'] * 1000:9.1f} ms "
            f"({s['members'] / s['seconds']:,.0f} ids/s)  RSS growth {s['growth_mb']:6.1f} MB "
            f"(from {s['baseline_mb']:.0f} MB)  target < {STREAM_RSS_TARGET_MB:.0f} MB  "
            f"{verdict(s['growth_mb'] < STREAM_RSS_TARGET_MB)}"
        )
    print(f"\nWhole run: {(time.perf_counter() - began) / 60:.1f} minutes")


if __name__ == "__main__":
    main()
