"""Errors every layer may raise; the API layer renders them as Pinpoint exceptions.

They live outside ``api/`` so that domain code can say "not found" or "bad request"
without importing the HTTP layer.
"""

from __future__ import annotations


class ClarionError(Exception):
    """An error with the Pinpoint exception name and HTTP status it is answered with."""

    code = "InternalServerErrorException"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ClarionError):
    code = "BadRequestException"
    status = 400


class Forbidden(ClarionError):
    code = "ForbiddenException"
    status = 403


class NotFound(ClarionError):
    code = "NotFoundException"
    status = 404


class MethodNotAllowed(ClarionError):
    code = "MethodNotAllowedException"
    status = 405


class PayloadTooLarge(ClarionError):
    code = "PayloadTooLargeException"
    status = 413


class TooManyRequests(ClarionError):
    code = "TooManyRequestsException"
    status = 429


class InternalServerError(ClarionError):
    code = "InternalServerErrorException"
    status = 500


class NotImplementedYet(ClarionError):
    """An operation of the Pinpoint API that Clarion does not answer yet."""

    code = "NotImplementedException"
    status = 501
