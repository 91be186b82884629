"""dateFormat's inputFormat: a Java date pattern read in one left-to-right pass.

Issue 10, item 3: the pattern used to become a regular expression, and
``inputFormat="EaEaEaEaEaEaEaEa"`` over a run of letters backtracked for 11.5 seconds. Reading
is now linear, and the pattern and the date have length limits besides.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clarion.templates.handlebars import RenderError, TemplateError, compile_template
from clarion.templates.handlebars.dates import DateError, parse_date

NOW = datetime(2020, 9, 19, 18, 30, tzinfo=UTC)
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def render(source: str, values: dict[str, Any] | None = None) -> str:
    return compile_template(source).render(values or {}, now=NOW)


@pytest.mark.parametrize("pairs", [8, 40])
def test_backtracking_pattern_fails_at_once(pairs: int) -> None:
    date = "a" * (2 * pairs + 12) + "1"
    source = f'{{{{dateFormat "{date}" inputFormat="{"Ea" * pairs}"}}}}'
    started = time.perf_counter()
    with pytest.raises(RenderError, match="does not match the date pattern"):
        render(source)
    assert time.perf_counter() - started < 0.2


def test_a_long_date_of_names_reads_at_once() -> None:
    date = "Tue PM " * 14 + "Sep"
    started = time.perf_counter()
    moment = parse_date(date, "EEE a " * 14 + "MMM", UTC, NOW)
    assert time.perf_counter() - started < 0.2
    assert (moment.month, moment.hour) == (9, 12)


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ("2024-03-05 14:07", "yyyy-MM-dd HH:mm", datetime(2024, 3, 5, 14, 7, tzinfo=UTC)),
        ("Tue, 5 Mar 2024", "EEE, d MMM yyyy", datetime(2024, 3, 5, tzinfo=UTC)),
        ("tuesday, 5 MARCH 2024", "EEEE, d MMMM yyyy", datetime(2024, 3, 5, tzinfo=UTC)),
        ("  12:05 am ", "hh:mm a", datetime(1970, 1, 1, 0, 5, tzinfo=UTC)),
        ("2403051407", "yyMMddHHmm", datetime(2024, 3, 5, 14, 7, tzinfo=UTC)),
        ("99-1-2", "yy-M-d", datetime(1999, 1, 2, tzinfo=UTC)),
        ("24:00:05.250", "kk:mm:ss.SSS", datetime(1970, 1, 1, 0, 0, 5, 250_000, tzinfo=UTC)),
        (
            "2024-03-05T14:07+05:30",
            "yyyy-MM-dd'T'HH:mmXXX",
            datetime(2024, 3, 5, 14, 7, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        ("5 Mar 2024 utc", "d MMM yyyy z", datetime(2024, 3, 5, tzinfo=UTC)),
    ],
)
def test_parser_reads_java_patterns(text: str, pattern: str, expected: datetime) -> None:
    moment = parse_date(text, pattern, UTC, NOW)
    assert moment == expected
    assert moment.utcoffset() == expected.utcoffset()


def test_a_date_without_an_offset_is_in_the_given_zone() -> None:
    moment = parse_date("2024-03-05 14:07", "yyyy-MM-dd HH:mm", LOS_ANGELES, NOW)
    assert moment == datetime(2024, 3, 5, 14, 7, tzinfo=LOS_ANGELES)


@pytest.mark.parametrize(
    ("text", "pattern", "reason"),
    [
        ("19 Sept 2020", "d MMM yyyy", "expected ' ' at character 7"),
        ("3:04 XX", "h:mm a", "expected AM or PM at character 6"),
        ("19 Spt 2020", "d MMM yyyy", "expected an English month name at character 4"),
        ("2a0305", "yyMMdd", "expected a 2-digit number at character 1"),
        ("2403", "yyMMdd", "expected a number at character 5"),
        ("2020-09-19 trailing", "yyyy-MM-dd", "expected the end at character 11"),
        ("12:00 +9900", "HH:mm Z", "'\\+9900' is not a UTC offset"),
        ("99999999999", "y", "is not a valid date"),
    ],
)
def test_parser_says_where_a_date_goes_wrong(text: str, pattern: str, reason: str) -> None:
    with pytest.raises(DateError, match=reason):
        parse_date(text, pattern, UTC, NOW)


def test_input_pattern_length_is_limited_when_compiled() -> None:
    with pytest.raises(TemplateError, match="inputFormat has 101 characters; at most 100"):
        compile_template('{{dateFormat Id inputFormat="' + "y" * 101 + '"}}')


def test_input_pattern_length_is_limited_when_rendered() -> None:
    template = compile_template("{{dateFormat Id inputFormat=Attributes.Pattern}}")
    with pytest.raises(RenderError, match="inputFormat has 101 characters; at most 100"):
        template.render({"Id": "1", "Attributes": {"Pattern": ["y" * 101]}}, now=NOW)


def test_date_length_is_limited() -> None:
    with pytest.raises(RenderError, match="has 201 characters; at most 200 are read"):
        render('{{dateFormat "' + "1" * 201 + '" inputFormat="y"}}')


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ('{{dateFormat "²"}}', "is not an ISO 8601 date"),
        ('{{dateFormat "99999999999999999999"}}', "is before year 1 or after 9999"),
        ('{{dateFormat "0001-01-01T00:00:00+01:00" tz=UTC}}', "is before year 1 or after 9999"),
        ('{{dateFormat "99999999999" inputFormat="y"}}', "is not a valid date"),
    ],
)
def test_dates_out_of_range_fail_only_that_message(source: str, reason: str) -> None:
    with pytest.raises(RenderError, match=reason):
        render(source)


def test_input_format_takes_the_style_names_output_format_does() -> None:
    assert render('{{dateFormat "9/19/20" inputFormat="short" outputFormat="full"}}') == (
        "Saturday, September 19, 2020"
    )
