"""Delivery adapters: the edge where e-mail, SMS and voice messages leave Clarion.

Each channel has one small interface (``Adapter[Email]``, ``Adapter[Sms]``, ``Adapter[Voice]``)
and one implementation per provider, chosen by a URL in configuration (``email_adapter``,
``sms_adapter``, ``voice_adapter``); push by the app's channel (``push_adapter``). Adapters
make one attempt per send and report it as a ``Result``; retrying is the sending pipeline's
decision.
"""

from clarion.delivery.base import Adapter, Email, Outcome, Result, Sms, Voice
from clarion.delivery.outbox import read_outbox
from clarion.delivery.urls import email_adapter, push_adapter, sms_adapter, voice_adapter

__all__ = [
    "Adapter",
    "Email",
    "Outcome",
    "Result",
    "Sms",
    "Voice",
    "email_adapter",
    "push_adapter",
    "read_outbox",
    "sms_adapter",
    "voice_adapter",
]
