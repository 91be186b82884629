"""Sending messages directly: SendMessages, SendUsersMessages and one-time passwords."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output


def send_messages(ctx: Context, params: Input) -> Output:
    response = ctx.clarion.messages.send(
        params["ApplicationId"], params["MessageRequest"], ctx.request_id
    )
    return {"MessageResponse": response}


def send_users_messages(ctx: Context, params: Input) -> Output:
    response = ctx.clarion.messages.send_users(
        params["ApplicationId"], params["SendUsersMessageRequest"], ctx.request_id
    )
    return {"SendUsersMessageResponse": response}


def send_otp_message(ctx: Context, params: Input) -> Output:
    response = ctx.clarion.otp.send(
        params["ApplicationId"], params["SendOTPMessageRequestParameters"], ctx.request_id
    )
    return {"MessageResponse": response}


def verify_otp_message(ctx: Context, params: Input) -> Output:
    answer = ctx.clarion.otp.verify(
        params["ApplicationId"], params["VerifyOTPMessageRequestParameters"]
    )
    return {"VerificationResponse": answer}
