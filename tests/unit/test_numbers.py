"""The one reader of numeric request strings: ASCII digits only, within the range they feed."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from clarion import paging
from clarion.api.protocol.scalars import IntegerSpec, InvalidValue
from clarion.delivery.urls import email_adapter
from clarion.errors import BadRequest
from clarion.numbers import INT32_MAX, INT64_MAX, integer, version_number, whole_number


@pytest.mark.parametrize(
    ("text", "minimum", "maximum", "expected"),
    [
        ("0", 0, 10, 0),
        ("10", 0, 10, 10),
        ("007", 1, 10, 7),
        ("0" * 40 + "7", 1, 10, 7),
        ("-5", -10, 10, -5),
        ("-0", 0, 10, 0),
        (str(INT64_MAX), 0, INT64_MAX, INT64_MAX),
        (str(-INT64_MAX - 1), -INT64_MAX - 1, 0, -INT64_MAX - 1),
    ],
)
def test_integer_reads_ascii_digits_in_range(
    text: str, minimum: int, maximum: int, expected: int
) -> None:
    assert integer(text, minimum, maximum) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-",
        "²",
        "٣",
        "\uff11",
        "1²",
        "۳",
        " 1",
        "1 ",
        "1\n",
        "+1",
        "1_000",
        "1.0",
        "1e3",
        "0x10",
        "--1",
    ],
)
def test_integer_refuses_what_int_would_take_or_choke_on(text: str) -> None:
    assert integer(text, -100, 100) is None


@pytest.mark.parametrize(
    "text", ["11", "-11", str(INT64_MAX + 1), "9" * 25, "9" * 5000, "-" + "9" * 5000]
)
def test_integer_refuses_what_is_out_of_range_without_converting_it(text: str) -> None:
    assert integer(text, -10, 10) is None


def test_whole_number_names_the_parameter_and_its_range() -> None:
    assert whole_number("42", "PageSize", maximum=1000) == 42
    with pytest.raises(BadRequest) as excinfo:
        whole_number("²", "PageSize", maximum=1000)
    assert excinfo.value.status == 400
    assert excinfo.value.message == "PageSize must be a whole number from 1 to 1000; got '²'"


def test_whole_number_echoes_a_bounded_part_of_long_text() -> None:
    with pytest.raises(BadRequest) as excinfo:
        whole_number("9" * 5000, "version")
    assert len(excinfo.value.message) < 200


@pytest.mark.parametrize("text", ["0", "-1", str(INT32_MAX + 1), "9223372036854775808", "٣"])
def test_versions_fit_their_32_bit_columns(text: str) -> None:
    with pytest.raises(BadRequest) as excinfo:
        version_number(text, "Version")
    assert excinfo.value.message.startswith(f"Version must be a whole number from 1 to {INT32_MAX}")


def test_versions_in_range() -> None:
    assert version_number("1", "version") == 1
    assert version_number(str(INT32_MAX), "version") == INT32_MAX


@pytest.mark.parametrize("size", ["²", "٣", "0", "1001", "1000000", "-1", " 5", "9" * 5000])
def test_page_size_refuses(size: str) -> None:
    with pytest.raises(BadRequest, match="PageSize"):
        paging.page_size(size)


def test_page_size_reads_and_defaults() -> None:
    assert paging.page_size("1000") == 1000
    assert paging.page_size(None) == paging.page_size("") == paging.DEFAULT_PAGE_SIZE


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "position",
    ["9999999999999999999", str(INT64_MAX + 1), "-1", "²", "٣", "", "1 ", "9" * 5000],
)
def test_tokens_hold_positions_a_listing_can_reach(position: str) -> None:
    with pytest.raises(BadRequest, match="Token"):
        paging.decode_token("apps", _token(f"apps:{position}"))


@pytest.mark.parametrize(
    ("listing", "largest"),
    [
        ("segments", INT64_MAX),
        ("jobs:IMPORT:", INT64_MAX),
        ("apps", INT32_MAX),
        ("template-versions:t1/SMS", INT32_MAX),
        ("segment-versions:s1", INT32_MAX),
        ("campaign-versions:c1", INT32_MAX),
    ],
)
def test_token_positions_fit_the_column_a_listing_pages_over(listing: str, largest: int) -> None:
    assert paging.decode_token(listing, paging.encode_token(listing, 0)) == 0
    assert paging.decode_token(listing, paging.encode_token(listing, largest)) == largest
    with pytest.raises(BadRequest, match="Token"):
        paging.decode_token(listing, paging.encode_token(listing, largest + 1))


@pytest.mark.parametrize(
    ("bits", "text"),
    [(32, "²"), (32, "٣"), (32, " 1"), (32, str(INT32_MAX + 1)), (64, str(INT64_MAX + 1))],
)
def test_protocol_integers_from_strings(bits: int, text: str) -> None:
    spec = IntegerSpec("integer" if bits == 32 else "long", bits, None, None)
    with pytest.raises(InvalidValue, match="Invalid value for parameter"):
        spec.read_text(text)


def test_protocol_integers_keep_their_model_bounds() -> None:
    spec = IntegerSpec("integer", 32, 1, 10)
    assert spec.read_text("10") == 10
    with pytest.raises(InvalidValue, match="expected integer from 1 to 10, got '11'"):
        spec.read_text("11")


@pytest.mark.parametrize("count", ["%C2%B2", "%D9%A3", "0", "101", "9" * 30])
def test_delivery_url_counts(count: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_connections must be a whole number from 1 to 100"):
        email_adapter(f"smtp://mail.example.com?max_connections={count}", data_dir=tmp_path)
