"""Numbers, money and dates on the server-rendered pages as the browser pages write them (Intl 'id-ID' in
maps/static/kotaku/common.js): 1.234,5 ; Rp 1.500.000 ; 12,25 ha ; 6 Desember 2026. '-' when unknown."""

from __future__ import annotations

from datetime import date
from typing import Any

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")


def _swap(text: str) -> str:
    """1,234.5 (Python) -> 1.234,5 (Indonesian)."""
    return text.replace(",", "#").replace(".", ",").replace("#", ".")


def angka(value: Any, digits: int = 2) -> str:
    """At most `digits` decimals, none written when zero: 1.234,5 ; 12 ; 0,25."""
    if value is None:
        return "-"
    text = f"{float(value):,.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    return _swap(text)


def rupiah(value: Any) -> str:
    """Rp 1.500.000 (whole rupiah)."""
    return "-" if value is None else "Rp " + _swap(f"{round(float(value)):,}")


def hectares(value: Any) -> str:
    """Two decimals always, as a table column: 1.234,50 ha."""
    return "-" if value is None else _swap(f"{float(value):,.2f}") + " ha"


def tanggal(value: Any) -> str:
    """6 Desember 2026 from a date or an ISO date (or timestamp) text."""
    if not value:
        return "-"
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
