"""E-mail open and click tracking: signed tokens, and HTML with its links and pixel swapped in.

Pure. A token names the message (and, for a click, the link) and carries an HMAC, so nobody
can record events for messages they did not receive or turn Clarion into an open redirect.
The HMAC covers the token's kind too, so a click link cannot be replayed as an open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
from collections.abc import Callable, Mapping

import orjson

OPEN = "open"
CLICK = "click"
OPEN_PATH = "/t/o/"
CLICK_PATH = "/t/c/"
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
"""A transparent 1x1 GIF."""

_LINK = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"'\s]+)\2""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


class Signer:
    def __init__(self, key: bytes) -> None:
        self.key = key

    def token(self, kind: str, payload: Mapping[str, str]) -> str:
        data = _b64(orjson.dumps(dict(payload)))
        return f"{data}.{self._mac(kind, data)}"

    def read(self, kind: str, token: str) -> dict[str, str] | None:
        """The payload of a token this installation signed for ``kind``; None for anything
        else. Tokens come from anyone's URL, so nothing about one may raise; the payload is
        decoded only once its MAC shows it is ours."""
        if not token.isascii():
            return None
        data, _, mac = token.partition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(kind, data).encode()):
            return None
        payload: dict[str, str] = orjson.loads(
            base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        )
        return payload

    def _mac(self, kind: str, data: str) -> str:
        signed = f"{kind}:{data}".encode()
        return _b64(hmac.new(self.key, signed, hashlib.sha256).digest()[:18])


def add_tracking(body: str, *, pixel_url: str | None, link_url: Callable[[str], str] | None) -> str:
    """The HTML with every http(s) link led through ``link_url`` and a pixel before
    ``</body>`` (or at the end); either may be None to leave that part out."""
    if link_url is not None:

        def swap(match: re.Match[str]) -> str:
            target = html.unescape(match[3])
            return f"{match[1]}{match[2]}{html.escape(link_url(target))}{match[2]}"

        body = _LINK.sub(swap, body)
    if pixel_url is not None:
        pixel = (
            f'<img src="{html.escape(pixel_url)}" width="1" height="1" alt="" '
            'style="display:none;border:0">'
        )
        ends = list(_BODY_END.finditer(body))
        at = ends[-1].start() if ends else len(body)
        body = body[:at] + pixel + body[at:]
    return body


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
