"""SMS and voice messages through AWS End User Messaging (``pinpoint-sms-voice-v2``
SendTextMessage and SendVoiceMessage), the service that took over Pinpoint's SMS and voice
channels. A ConflictException naming an opted-out destination is OPT_OUT."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from clarion.delivery.aws import AwsClient
from clarion.delivery.base import Outcome, Result, Sms, Voice

_STANDARD_VOICES = {
    code.lower(): voice
    for code, voice in {
        "arb": "ZEINA",
        "cmn-CN": "ZHIYU",
        "cy-GB": "GWYNETH",
        "da-DK": "NAJA",
        "de-DE": "MARLENE",
        "en-AU": "NICOLE",
        "en-GB": "AMY",
        "en-GB-WLS": "GERAINT",
        "en-IN": "RAVEENA",
        "en-US": "MATTHEW",
        "es-ES": "CONCHITA",
        "es-MX": "MIA",
        "es-US": "PENELOPE",
        "fr-CA": "CHANTAL",
        "fr-FR": "CELINE",
        "is-IS": "DORA",
        "it-IT": "CARLA",
        "ja-JP": "MIZUKI",
        "ko-KR": "SEOYEON",
        "nb-NO": "LIV",
        "nl-NL": "LOTTE",
        "pl-PL": "EWA",
        "pt-BR": "CAMILA",
        "pt-PT": "INES",
        "ro-RO": "CARMEN",
        "ru-RU": "TATYANA",
        "sv-SE": "ASTRID",
        "tr-TR": "FILIZ",
    }.items()
}
"""A standard Amazon Polly voice for each language SendVoiceMessage can speak, which takes a
voice but no language; MATTHEW is its own default for US English."""


class _EndUserMessaging:
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

    async def call(self, operation: str, request: dict[str, Any]) -> Result:
        return await self.aws.call(operation, request, _opted_out)

    async def close(self) -> None:
        await self.aws.close()


class SmsVoiceAdapter(_EndUserMessaging):
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
        return await self.call("send_text_message", request)


class VoiceMessageAdapter(_EndUserMessaging):
    """Speaks the plain-text script in the message's voice, or else in the standard voice of its
    language; a language End User Messaging has no voice for fails without a call, rather than
    being read out in an English voice."""

    async def send(self, message: Voice) -> Result:
        voice = message.voice_id or _STANDARD_VOICES.get(message.language_code.lower())
        if voice is None:
            return Result(
                Outcome.PERMANENT,
                0,
                f"End User Messaging has no voice for language {message.language_code!r}; "
                "name one with VoiceId",
            )
        request: dict[str, Any] = {
            "DestinationPhoneNumber": message.recipient,
            "MessageBody": message.body,
            "MessageBodyTextType": "TEXT",
            "VoiceId": voice.upper(),
        }
        if message.sender is not None:
            request["OriginationIdentity"] = message.sender
        return await self.call("send_voice_message", request)


def _opted_out(error: ClientError) -> bool:
    code: str = error.response.get("Error", {}).get("Code", "")
    reason: str = error.response.get("Reason", "")
    return code == "ConflictException" and reason == "DESTINATION_PHONE_NUMBER_OPTED_OUT"
