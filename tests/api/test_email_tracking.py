"""E-mail open and click tracking through the public ``/t/`` routes: on for an app that never
chose, off and on again through its switch; a message counts one open and one click per link
however often they come back, a token of one kind is refused on the other's route, and a
malformed token is a bad token, never a server error."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from clarion.delivery import read_outbox
from tests.conftest import Server, signed_request

HTML = (
    "<html><body>"
    '<a href="https://shop.example.com/sale">Sale</a> '
    '<a href="https://shop.example.com/new">New</a>'
    "</body></html>"
)


def kpi(pinpoint: Any, app_id: str, name: str) -> float:
    today = datetime.now(UTC)
    answer = pinpoint.get_application_date_range_kpi(
        ApplicationId=app_id,
        KpiName=name,
        StartTime=today - timedelta(days=1),
        EndTime=today + timedelta(days=1),
    )
    rows = answer["ApplicationDateRangeKpiResponse"]["KpiResult"]["Rows"]
    return sum(float(row["Values"][0]["Value"]) for row in rows)


def send(server: Server, pinpoint: Any, app_id: str) -> str:
    """The HTML of ``HTML`` sent to an endpoint of the app, as it reached the outbox."""
    pinpoint.update_email_channel(
        ApplicationId=app_id,
        EmailChannelRequest={
            "FromAddress": "news@example.com",
            "Identity": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
        },
    )
    pinpoint.update_endpoint(
        ApplicationId=app_id,
        EndpointId="ann",
        EndpointRequest={"ChannelType": "EMAIL", "Address": "ann@example.org"},
    )
    result = pinpoint.send_messages(
        ApplicationId=app_id,
        MessageRequest={
            "MessageConfiguration": {
                "EmailMessage": {
                    "SimpleEmail": {"Subject": {"Data": "Sale"}, "HtmlPart": {"Data": HTML}}
                }
            },
            "Endpoints": {"ann": {}},
        },
    )["MessageResponse"]["EndpointResult"]["ann"]
    assert result["DeliveryStatus"] == "SUCCESSFUL", result
    [mail] = [
        m
        for m in read_outbox(Path(server.env["CLARION_DATA_DIR"]), "email")
        if m["message_id"] == result["MessageId"]
    ]
    html: str = mail["html"]
    return html


def tracking(server: Server, html: str) -> tuple[list[str], list[str]]:
    """The pixel paths and the link paths in the HTML."""
    prefix = re.escape(server.url)
    pixels = re.findall(rf'src="{prefix}(/t/o/[^"]+)"', html)
    links = re.findall(rf'href="{prefix}(/t/c/[^"]+)"', html)
    return pixels, links


@pytest.fixture
def tracked(server: Server, pinpoint: Any, app_id: str) -> tuple[str, list[str]]:
    """An e-mail of an app that never touched its tracking switches, sent to the outbox: its
    pixel path and its two link paths."""
    [pixel], links = tracking(server, send(server, pinpoint, app_id))
    assert len(links) == 2
    return pixel, links


def test_an_app_turns_tracking_off_and_on_again(server: Server, pinpoint: Any, app_id: str) -> None:
    path = f"/clarion/v1/apps/{app_id}/email-tracking"
    assert signed_request(server, "GET", path).json() == {"Opens": True, "Clicks": True}

    off = signed_request(server, "PUT", path, b'{"Opens": false, "Clicks": false}')
    assert off.json() == {"Opens": False, "Clicks": False}
    assert signed_request(server, "GET", path).json() == {"Opens": False, "Clicks": False}
    assert send(server, pinpoint, app_id) == HTML

    clicks = signed_request(server, "PUT", path, b'{"Clicks": true}')
    assert clicks.json() == {"Opens": False, "Clicks": True}
    pixels, links = tracking(server, send(server, pinpoint, app_id))
    assert (len(pixels), len(links)) == (0, 2)

    both = signed_request(server, "PUT", path, b'{"Opens": true}')
    assert both.json() == {"Opens": True, "Clicks": True}
    pixels, links = tracking(server, send(server, pinpoint, app_id))
    assert (len(pixels), len(links)) == (1, 2)


def test_a_message_counts_one_open_and_one_click_per_link(
    server: Server, pinpoint: Any, app_id: str, tracked: tuple[str, list[str]]
) -> None:
    pixel, (sale, new) = tracked
    for _ in range(5):
        answer = httpx.get(server.url + pixel)
        assert (answer.status_code, answer.content[:6]) == (200, b"GIF89a")
    for link in (sale, sale, sale, new):
        assert httpx.get(server.url + link).status_code == 302

    assert kpi(pinpoint, app_id, "txn-emails-opened") == 1
    assert kpi(pinpoint, app_id, "txn-emails-unique-opens") == 1
    assert kpi(pinpoint, app_id, "txn-emails-clicked") == 2
    assert kpi(pinpoint, app_id, "txn-emails-unique-clicks") == 1


def test_a_token_works_only_on_its_own_route(
    server: Server, pinpoint: Any, app_id: str, tracked: tuple[str, list[str]]
) -> None:
    pixel, (sale, _) = tracked
    open_token = pixel.removeprefix("/t/o/")
    click_token = sale.removeprefix("/t/c/")
    for wrong in (f"/t/o/{click_token}", f"/t/o/{click_token}.gif"):
        answer = httpx.get(server.url + wrong)
        assert (answer.status_code, answer.headers["content-type"]) == (200, "image/gif")
    for wrong in (f"/t/c/{open_token}", f"/t/c/{open_token.removesuffix('.gif')}"):
        assert httpx.get(server.url + wrong, follow_redirects=False).status_code == 404

    assert kpi(pinpoint, app_id, "txn-emails-opened") == 0
    assert kpi(pinpoint, app_id, "txn-emails-clicked") == 0


def test_a_malformed_token_is_a_bad_token(
    server: Server, pinpoint: Any, app_id: str, tracked: tuple[str, list[str]]
) -> None:
    pixel, (sale, _) = tracked
    bad = []
    for token in (pixel.removeprefix("/t/o/").removesuffix(".gif"), sale.removeprefix("/t/c/")):
        data, _, mac = token.partition(".")
        bad += [
            f"{data}.{mac[:-1]}%C3%A9",
            f"{data}.{'%C3%A9' * len(mac)}",
            f"{data[:-2]}%C3%A9.{mac}",
            f"{data}.{mac[:-1]}%00",
            f"{data}.{mac[:-1]}",
            f"{data}.{mac}AAAA",
            f"{data}.",
            "%FF%FE.%80",
            "!!!!.@@@@",
            data,
            token * 100,
        ]
    for token in bad:
        answer = httpx.get(f"{server.url}/t/o/{token}.gif")
        assert (answer.status_code, answer.headers["content-type"]) == (200, "image/gif"), token
        answer = httpx.get(f"{server.url}/t/c/{token}", follow_redirects=False)
        assert answer.status_code == 404, token

    assert kpi(pinpoint, app_id, "txn-emails-opened") == 0
    assert kpi(pinpoint, app_id, "txn-emails-clicked") == 0
