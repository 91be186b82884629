"""E-mail through Amazon SES v2 SendEmail, with the same MIME the SMTP adapter sends (Content.Raw).

SES takes no SMTPUTF8 addresses, so a non-ASCII local part fails permanently here.
"""

from __future__ import annotations

from clarion.delivery.aws import AwsClient
from clarion.delivery.base import Email, Outcome, Result
from clarion.delivery.mime import InvalidAddress, render


class SesAdapter:
    def __init__(
        self, region: str, endpoint_url: str = "", *, max_connections: int, timeout: float
    ) -> None:
        self.aws = AwsClient(
            "sesv2", region, endpoint_url, max_connections=max_connections, timeout=timeout
        )

    async def send(self, message: Email) -> Result:
        try:
            rendered = render(message)
        except InvalidAddress as error:
            return Result(Outcome.PERMANENT, 0, str(error))
        if rendered.smtputf8:
            return Result(
                Outcome.PERMANENT, 0, "SES does not accept addresses with a non-ASCII local part"
            )
        return await self.aws.call(
            "send_email",
            {
                "FromEmailAddress": rendered.mail_from,
                "Destination": {"ToAddresses": [rendered.rcpt_to]},
                "Content": {"Raw": {"Data": rendered.data}},
            },
        )

    async def close(self) -> None:
        await self.aws.close()
