"""The one place where the project's errors become HTTP statuses and CLI exit codes (no web imports here:
the CLI uses it too; the FastAPI handlers that apply it live in api/http_errors.py)."""

from __future__ import annotations

import psycopg
from psycopg_pool import PoolClosed, PoolTimeout

from geo.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    KotakuError,
    NotFound,
    ServiceUnavailable,
    TooLarge,
    TooManyRequests,
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
    (TooManyRequests, 429),
    (ServiceUnavailable, 503),
]
# The database is down, restarting, refusing connections, or the pool cannot get one in time: raised by psycopg
# from anywhere (a route, a dependency, a streamed body), always 503 "database_unavailable" (exit code 6).
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (psycopg.OperationalError, PoolTimeout, PoolClosed)
DATABASE_UNAVAILABLE_STATUS = 503
DATABASE_UNAVAILABLE_CODE = "database_unavailable"
DATABASE_UNAVAILABLE_DESCRIPTION = ("Basis data tidak dapat dihubungi; coba lagi sebentar lagi. / "
                                    "The database is unavailable; try again shortly.")
INTERNAL_ERROR_CODE = "internal_error"
INTERNAL_ERROR_DESCRIPTION = ("Terjadi kesalahan tak terduga di server; sebutkan request_id saat melapor. / "
                              "An unexpected error happened on the server; quote the request_id when reporting it.")
EXIT_CODE: list[tuple[type[KotakuError], int]] = [
    (InvalidInput, 2),
    (NotFound, 3),
    (Conflict, 4),
    (Unauthorized, 5),
    (Forbidden, 5),
    (TooManyRequests, 6),
    (ServiceUnavailable, 6),
]


def http_status(error: KotakuError) -> int:
    return next((status for cls, status in HTTP_STATUS if isinstance(error, cls)), 500)


def exit_code(error: BaseException) -> int:
    if isinstance(error, DATABASE_UNAVAILABLE):
        return 6
    return next((code for cls, code in EXIT_CODE if isinstance(error, cls)), 1)
