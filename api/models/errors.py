"""The one error shape of every HTTP error, and the standard `responses=` entries that document it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: a stable machine code, a sentence for people, and details (often a list of problems
    with feature number, field and reason) or null."""

    code: str = Field(description="machine name, e.g. invalid_input, not_found, conflict, unavailable",
                      examples=["invalid_input"])
    description: str = Field(description="what is wrong and where", examples=["bbox: expected four numbers"])
    details: Any = Field(None, description="more about the error (e.g. a list of {feature, field, reason}) or null")


# Status -> what it means across the API (api/errors.py maps the exception classes to these statuses).
ERROR_STATUSES: dict[int, str] = {
    400: "Masukan tidak valid (invalid input): parameter, format, fitur atau isian yang salah",
    401: "Perlu masuk (unauthorized): token tidak ada, tidak dikenal atau kedaluwarsa",
    403: "Tidak diizinkan (forbidden) untuk peran atau wilayah pemanggil",
    404: "Tidak ditemukan (not found)",
    409: "Konflik (conflict) dengan keadaan data saat ini",
    413: "Terlalu besar (too large)",
    415: "Format tidak didukung (unsupported format)",
    429: "Terlalu banyak percobaan (too many requests): coba lagi setelah Retry-After detik",
    503: "Layanan tidak tersedia (unavailable): basis data tidak dapat dihubungi",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these statuses, each answered with ErrorBody."""
    return {status: {"model": ErrorBody, "description": ERROR_STATUSES[status]} for status in statuses}
