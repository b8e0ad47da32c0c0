"""The server-rendered pages write numbers, money and dates as the browser pages do (Intl 'id-ID')."""

from __future__ import annotations

from datetime import date, datetime

from maps.pages.formats import angka, hectares, rupiah, tanggal


def test_numbers_money_and_dates_in_indonesian():
    assert angka(1234.5) == "1.234,5" and angka(12) == "12" and angka(0.254) == "0,25" and angka(None) == "-"
    assert angka(1234567.891, 0) == "1.234.568"
    assert rupiah(1_500_000) == "Rp 1.500.000" and rupiah("142500000.4") == "Rp 142.500.000" and rupiah(None) == "-"
    assert hectares(1234.5) == "1.234,50 ha" and hectares(None) == "-"
    assert tanggal("2026-12-06") == tanggal(date(2026, 12, 6)) == "6 Desember 2026"
    assert tanggal(datetime(2027, 1, 31, 23, 0)) == "31 Januari 2027" and tanggal(None) == "-"
