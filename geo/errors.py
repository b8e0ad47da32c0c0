"""One exception hierarchy for the whole project.

Every room raises these; only `api/` maps them to HTTP statuses and CLI exit codes (in one place).
`code` is a stable machine name, `message` a human sentence, `details` anything JSON-serialisable
(usually a list of `Problem.as_dict()`), so the same error reads well in a terminal and in JSON.
"""

from __future__ import annotations

from typing import Any

from geo.messages import message


class KotakuError(Exception):
    code = "error"
    key: str | None = None  # a message of the catalogue (geo/messages.py): its text in Indonesian and English
    params: dict[str, Any] | None = None

    @classmethod
    def of(cls, key: str, details: Any = None, **params: Any) -> KotakuError:
        """The error with the catalogue message `key` (English message; describe(error, "id") for Indonesian)."""
        error = cls(message(key, "en", **params), details)
        error.key, error.params = key, params
        return error

    def __init__(self, message: str, details: Any = None, *, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.retry_after = retry_after  # seconds, when trying again later may work (HTTP: Retry-After)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "description": self.message, "details": self.details}


class InvalidInput(KotakuError):
    """The caller sent something wrong: a bad file, feature, field or parameter."""

    code = "invalid_input"


class UnsupportedFormat(InvalidInput):
    code = "unsupported_format"


DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # the upload limit of a vector file (geo.read)


class TooLarge(InvalidInput):
    code = "too_large"


class NotFound(KotakuError):
    code = "not_found"


class Conflict(KotakuError):
    code = "conflict"


class Unauthorized(KotakuError):
    code = "unauthorized"


class Forbidden(KotakuError):
    code = "forbidden"


class TooManyRequests(KotakuError):
    """Too many attempts (logins) in a while: try again after `retry_after` seconds."""

    code = "too_many_requests"


class ServiceUnavailable(KotakuError):
    """A dependency (the database, a binary) is missing or not running."""

    code = "unavailable"
