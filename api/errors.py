"""The one place where the project's errors become HTTP statuses and CLI exit codes (no web imports here:
the CLI uses it too; the FastAPI handlers that apply it live in api/http_errors.py)."""

from __future__ import annotations

from geo.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    KotakuError,
    NotFound,
    ServiceUnavailable,
    TooLarge,
    Unauthorized,
    UnsupportedFormat,
)

# Most specific first: the first class an error is an instance of decides.
HTTP_STATUS: list[tuple[type[KotakuError], int]] = [
    (TooLarge, 413),
    (UnsupportedFormat, 415),
    (InvalidInput, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (ServiceUnavailable, 503),
]
EXIT_CODE: list[tuple[type[KotakuError], int]] = [
    (InvalidInput, 2),
    (NotFound, 3),
    (Conflict, 4),
    (Unauthorized, 5),
    (Forbidden, 5),
    (ServiceUnavailable, 6),
]


def http_status(error: KotakuError) -> int:
    return next((status for cls, status in HTTP_STATUS if isinstance(error, cls)), 500)


def exit_code(error: KotakuError) -> int:
    return next((code for cls, code in EXIT_CODE if isinstance(error, cls)), 1)
