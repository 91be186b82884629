"""SMS through AWS End User Messaging (``pinpoint-sms-voice-v2`` SendTextMessage), the service
that took over Pinpoint's SMS channel. A ConflictException naming an opted-out destination is
OPT_OUT."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from clarion.delivery.aws import AwsClient
from clarion.delivery.base import Result, Sms


class SmsVoiceAdapter:
    def __init__(
        self, region: str, endpoint_url: str = "", *, max_connections: int, timeout: float
    ) -> None:
        self.aws = AwsClient(
            "pinpoint-sms-voice-v2",
            region,
            endpoint_url,
            max_connections=max_connections,
            timeout=timeout,
        )

    async def send(self, message: Sms) -> Result:
        request: dict[str, Any] = {
            "DestinationPhoneNumber": message.recipient,
            "MessageBody": message.body,
            "MessageType": message.message_type,
        }
        if message.sender is not None:
            request["OriginationIdentity"] = message.sender
        if message.keyword is not None:
            request["Keyword"] = message.keyword
        return await self.aws.call("send_text_message", request, _opted_out)

    async def close(self) -> None:
        await self.aws.close()


def _opted_out(error: ClientError) -> bool:
    code: str = error.response.get("Error", {}).get("Code", "")
    reason: str = error.response.get("Reason", "")
    return code == "ConflictException" and reason == "DESTINATION_PHONE_NUMBER_OPTED_OUT"
