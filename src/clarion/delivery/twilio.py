"""SMS through Twilio's Messages API, or any service that speaks it.

POST {base}/2010-04-01/Accounts/{sid}/Messages.json with form fields To, From, Body (and
MessagingServiceSid when configured), HTTP basic auth, over one reused HTTPX client. 201 is
DELIVERED with Twilio's message sid; 429, 5xx and network failures TRANSIENT; error 21610
("unsubscribed recipient") OPT_OUT; 401 TRANSIENT (our credentials, not the recipient); any
other 4xx PERMANENT.

Sends beyond ``max_connections`` wait for a free connection, however long, as SMTP sends wait
for the pool: the caller bounds concurrency, and a wait is not a delivery failure.
"""

from __future__ import annotations

from typing import Any

import httpx

from clarion.delivery.base import Outcome, Result, Sms

UNSUBSCRIBED = 21610


class TwilioAdapter:
    def __init__(
        self,
        base_url: str,
        account_sid: str,
        auth_token: str,
        *,
        messaging_service_sid: str | None = None,
        max_connections: int,
        timeout: float,
    ) -> None:
        self.path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.messaging_service_sid = messaging_service_sid
        self._http = httpx.AsyncClient(
            base_url=base_url,
            auth=httpx.BasicAuth(account_sid, auth_token),
            timeout=httpx.Timeout(timeout, pool=None),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def send(self, message: Sms) -> Result:
        form = {"To": message.recipient, "Body": message.body}
        if message.sender is not None:
            form["From"] = message.sender
        if self.messaging_service_sid is not None:
            form["MessagingServiceSid"] = self.messaging_service_sid
        try:
            response = await self._http.post(self.path, data=form)
        except httpx.TransportError as error:
            return Result(Outcome.TRANSIENT, 0, f"{type(error).__name__}: {error}")
        status = response.status_code
        answer = _json(response)
        if response.is_success:
            return Result(
                Outcome.DELIVERED, status, str(answer.get("status", "")), answer.get("sid")
            )
        detail = f"{answer.get('code', '')}: {answer.get('message', response.reason_phrase)}"
        if answer.get("code") == UNSUBSCRIBED:
            return Result(Outcome.OPT_OUT, status, detail)
        if status in (401, 429) or status >= 500:
            return Result(Outcome.TRANSIENT, status, detail)
        return Result(Outcome.PERMANENT, status, detail)

    async def close(self) -> None:
        await self._http.aclose()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
