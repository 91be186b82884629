"""Tracking tokens: a token verifies only for the kind it was signed for, and anything malformed
is refused instead of raising."""

from __future__ import annotations

import pytest

from clarion.messaging.tracking import CLICK, OPEN, Signer

SIGNER = Signer(b"k" * 32)


def test_a_token_reads_back_for_its_own_kind_only() -> None:
    opened = SIGNER.token(OPEN, {"m": "m-1@clarion.test"})
    clicked = SIGNER.token(CLICK, {"m": "m-1@clarion.test", "u": "https://shop.example.com/"})
    assert SIGNER.read(OPEN, opened) == {"m": "m-1@clarion.test"}
    assert SIGNER.read(CLICK, clicked) == {
        "m": "m-1@clarion.test",
        "u": "https://shop.example.com/",
    }
    assert SIGNER.read(CLICK, opened) is None
    assert SIGNER.read(OPEN, clicked) is None
    assert Signer(b"x" * 32).read(OPEN, opened) is None


def _malformed() -> list[str]:
    good = SIGNER.token(OPEN, {"m": "m-1@clarion.test"})
    data, _, mac = good.partition(".")
    return [
        "",
        ".",
        data,
        f"{data}.",
        f"{data}.{mac[:-1]}",
        f"{data}.{mac}A",
        f"{data}.{mac[:-1]}é",
        f"{data}.{'é' * len(mac)}",
        f"{data[:-1]}é.{mac}",
        f"{data}.{mac[:-1]}\x00",
        f"{data}\x00.{mac}",
        f"{data}.{mac}\udc80",
        "!!!!.@@@@",
        "a.b.c",
        "é",
        f"{data}.{mac}" * 2000,
    ]


@pytest.mark.parametrize("token", _malformed())
def test_a_malformed_token_is_refused_not_an_error(token: str) -> None:
    assert SIGNER.read(OPEN, token) is None
    assert SIGNER.read(CLICK, token) is None
