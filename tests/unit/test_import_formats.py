"""Pinpoint's endpoint file formats, row by row."""

from __future__ import annotations

import gzip
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.jobs import formats


def read(data: bytes, file_format: str) -> list[tuple[int, formats.Imported | formats.RowError]]:
    return list(formats.rows(io.BytesIO(data), file_format))


def test_csv_columns_nest_and_repeated_headers_make_lists() -> None:
    data = (
        "\ufeffId,ChannelType,Address,Location.Latitude,Metrics.Score,"
        "User.UserAttributes.Tag,User.UserAttributes.Tag,User.UserId\r\n"
        'x,EMAIL,x@example.com,47.61,2,"a,b",c,u1\r\n'
    ).encode()
    [(number, row)] = read(data, "CSV")
    assert number == 2
    assert isinstance(row, formats.Imported)
    assert row.endpoint_id == "x"
    assert row.request == {
        "ChannelType": "EMAIL",
        "Address": "x@example.com",
        "Location": {"Latitude": 47.61},
        "Metrics": {"Score": 2.0},
        "User": {"UserAttributes": {"Tag": ["a,b", "c"]}, "UserId": "u1"},
    }


def test_an_unknown_csv_column_fails_the_file() -> None:
    with pytest.raises(formats.PieceError, match=r"'Location\.Planet'"):
        read(b"Id,Location.Planet\nx,Mars\n", "CSV")


def test_blank_lines_are_skipped_and_numbers_still_count_them() -> None:
    data = b"Id,ChannelType,Address\n\nq,SMS,+14155550100\n"
    assert [n for n, _ in read(data, "CSV")] == [3]


def test_export_fields_are_kept_and_application_id_is_dropped() -> None:
    line = {
        "Id": "a",
        "ApplicationId": "old",
        "CohortId": "7",
        "CreationDate": "2020-01-01T00:00:00.000Z",
        "RequestId": "r",
        "EffectiveDate": "2020-01-02T00:00:00.000Z",
    }
    [(_, row)] = read(json.dumps(line).encode(), "JSON")
    assert isinstance(row, formats.Imported)
    assert row.kept == {
        "CohortId": "7",
        "CreationDate": "2020-01-01T00:00:00.000Z",
        "RequestId": "r",
    }
    assert row.request == {"EffectiveDate": "2020-01-02T00:00:00.000Z"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1]", "must be a JSON object"),
        ("{not json", "is not JSON"),
        ('{"Id":"a","Attributes":{"x":"y"}}', "Attributes.x must be a list of strings"),
        ('{"Id":"a","Metrics":{"x":true}}', "Metrics.x must be a number"),
        ('{"Id":"a","Shoe":1}', "'Shoe' is not an endpoint field"),
        ('{"Id":"a","Demographic":{"Shoe":"x"}}', "Demographic.Shoe is not an endpoint field"),
        ('{"Address":"a@example.com"}', "needs ChannelType and Address"),
        ('{"Id":"a","ChannelType":"FAX"}', "ChannelType 'FAX'"),
    ],
)
def test_bad_json_rows_are_refused_alone(line: str, message: str) -> None:
    found = read(f'{line}\n{{"Id":"ok"}}\n'.encode(), "JSON")
    assert isinstance(found[0][1], formats.RowError)
    assert message in str(found[0][1])
    assert str(found[0][1]).startswith("line 1")
    assert isinstance(found[1][1], formats.Imported)


def test_a_user_only_row_lists_the_user() -> None:
    [(_, row)] = read(b'{"User":{"UserId":"u9"}}', "JSON")
    assert isinstance(row, formats.Imported)
    assert row.lists_user_only and row.user_id == "u9"


def test_text_that_is_not_utf8_fails_the_file() -> None:
    with pytest.raises(formats.PieceError, match="not UTF-8"):
        read(b'{"Id":"a"}\n\xff\xfe\n', "JSON")


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["Plan", "Team", "City"]),
            st.lists(st.text(min_size=1, max_size=8).filter(lambda s: "\x00" not in s), max_size=3),
            max_size=3,
        ),
        max_size=5,
    ),
    st.booleans(),
)
def test_json_attributes_arrive_as_written_compressed_or_not(
    attributes: list[dict[str, list[str]]], compress: bool
) -> None:
    lines = [{"Id": f"e{n}", "Attributes": values} for n, values in enumerate(attributes)]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    found = read(gzip.compress(data) if compress else data, "JSON")
    assert [row.request.get("Attributes", {}) for _, row in found] == [  # type: ignore[union-attr]
        values for values in attributes
    ]
