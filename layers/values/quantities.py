"""Numbers as people type them, with their unit: "7.067 ha", "1.234,5", "12,5 m2", "Rp 1.500.000", "35 %".

`parse_quantity(text, expected=...)` returns the value in the expected unit (ha <-> m2 <-> km2, m <-> km, Rp,
%, unit/KK) or raises InvalidInput whose message names the value and what is wrong; the caller adds the feature
and the field. Separators, decided per value:

1. Both '.' and ',' present: the one written last is the decimal mark, the other groups thousands
   ("1.234,5" = 1234.5; "1,234.5" = 1234.5).
2. The same mark more than once: it groups thousands ("1.500.000" = 1500000); groups must be three digits.
3. One ',' only: a decimal comma ("12,5" = 12.5), except in rupiah or counts followed by exactly three digits
   ("Rp 1,500" = 1500) - rupiah and counts have no fractions.
4. One '.' only, not followed by exactly three digits: a decimal point ("7.5", "0.25").
5. One '.' followed by exactly three digits ("7.067") is ambiguous: rupiah and counts read it as thousands
   (7067); a measure (ha, m2, km, m, %) reads it by plausibility when the caller gives a `reference` (the
   reading nearer to it, e.g. the geometry's own area), else as a decimal point (7.067) with a warning in
   `Quantity.note`. A percentage over 100 is impossible, so "12.500 %" is 12.5.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from geo.errors import InvalidInput, KotakuError
from geo.problems import Problem

# unit written in a file -> (dimension, factor to the dimension's base unit: m2, m, rupiah, percent, count)
UNITS: dict[str, tuple[str, float]] = {
    "ha": ("area", 10_000.0), "hektar": ("area", 10_000.0), "hektare": ("area", 10_000.0),
    "m2": ("area", 1.0), "m²": ("area", 1.0), "meterpersegi": ("area", 1.0), "sqm": ("area", 1.0),
    "km2": ("area", 1_000_000.0), "km²": ("area", 1_000_000.0),
    "m": ("length", 1.0), "meter": ("length", 1.0), "m1": ("length", 1.0), "m'": ("length", 1.0),
    "km": ("length", 1000.0), "kilometer": ("length", 1000.0),
    "rp": ("money", 1.0), "idr": ("money", 1.0), "rupiah": ("money", 1.0),
    "%": ("percent", 1.0), "persen": ("percent", 1.0),
    "unit": ("count", 1.0), "kk": ("count", 1.0), "buah": ("count", 1.0), "bh": ("count", 1.0),
    "titik": ("count", 1.0), "jiwa": ("count", 1.0), "rumah": ("count", 1.0), "ls": ("count", 1.0),
    "paket": ("count", 1.0), "unitkk": ("count", 1.0),
}
# The unit a caller expects -> its dimension and factor (values are returned in this unit).
EXPECTED = {"ha": ("area", 10_000.0), "m2": ("area", 1.0), "m": ("length", 1.0), "km": ("length", 1000.0),
            "rp": ("money", 1.0), "%": ("percent", 1.0), "unit": ("count", 1.0)}
# a scheme criterion's unit (indicators/schemes) -> the unit its volumes, needs are read in
CRITERION_UNITS = {"KK": "unit", "unit": "unit", "m": "m", "ha": "ha", "m2": "m2", "km": "km", "%": "%"}
_NUMBER = re.compile(r"^[+-]?[0-9][0-9.,]*$|^[+-]?[.,][0-9]+$")
_SPLIT = re.compile(r"^(?P<pre>[^\d+\-.,]*)\s*(?P<num>[+-]?[\d.,]+)\s*(?P<post>.*)$")


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str | None  # the unit as written (normalised key of UNITS), None when the file gave a bare number
    note: str | None = None  # a warning: how an ambiguous value was read (English)
    note_problem: Problem | None = None  # the same warning with its catalogue key (Indonesian too)


def _unit_key(text: str) -> str:
    return re.sub(r"[\s.]", "", text.lower()).replace("^2", "2").replace("/", "")


def split_number(text: str, *, integral: bool) -> tuple[list[float], str | None]:
    """The readings of a number text (one, or two when ambiguous: [decimal, thousands]) and a reason when it is
    not a number. `integral`: the quantity has no fractions (rupiah, counts)."""
    if not _NUMBER.match(text):
        return [], "is not a number"
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal = "." if text.rfind(".") > text.rfind(",") else ","
        group = "," if decimal == "." else "."
        if text.count(decimal) > 1:
            return [], "has two decimal marks"
        whole, fraction = text.split(decimal)
        if not _groups_ok(whole, group):
            return [], f"has '{group}' thousands groups that are not three digits"
        return [sign * float(whole.replace(group, "") + "." + fraction)], None
    mark = "." if dots else "," if commas else None
    if mark is None:
        return [sign * float(text)], None
    count = dots or commas
    whole, _, rest = text.partition(mark)
    if count > 1:
        if not _groups_ok(text, mark):
            return [], f"has '{mark}' thousands groups that are not three digits"
        return [sign * float(text.replace(mark, ""))], None
    if not whole or not rest:  # ".5", ",5", "5."
        return [sign * float(f"{whole or 0}.{rest or 0}")], None
    decimal_reading = sign * float(f"{whole}.{rest}")
    thousands_reading = sign * float(whole + rest)
    if len(rest) != 3 or len(whole) > 3:
        return [decimal_reading], None
    if integral:
        return [thousands_reading], None
    if mark == ",":
        return [decimal_reading], None  # Indonesian decimal comma
    return [decimal_reading, thousands_reading], None


def _unreadable(text: str, reason: str | None) -> KotakuError:
    """split_number's reason as an error of the message catalogue (id and en)."""
    if reason and "thousands groups" in reason:
        return InvalidInput.of("quantity.bad_groups", value=text, mark=reason.split("'")[1])
    if reason and "two decimal marks" in reason:
        return InvalidInput.of("quantity.two_marks", value=text)
    return InvalidInput.of("field.not_number", value=text)


def _groups_ok(text: str, mark: str) -> bool:
    parts = text.split(mark)
    return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])


def parse_quantity(value: object, expected: str, *, reference: float | None = None,
                   decimal: str | None = None) -> Quantity | None:
    """A value (number or text) in the `expected` unit (a key of EXPECTED); None when blank. `decimal`: the
    decimal mark the value's column evidently uses ('.' or ','; `column_decimal`), which reads an ambiguous
    "7.067" when no `reference` does.

    Raises InvalidInput naming the value when it is not a number, its unit is unknown or of another kind
    (e.g. "12 m" where hectares are expected), or it is not finite.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    dimension, factor = EXPECTED[expected]
    if isinstance(value, bool):
        raise InvalidInput.of("field.not_number", value=value)
    if isinstance(value, int | float):
        if not math.isfinite(float(value)):
            raise InvalidInput.of("field.not_finite", value=value)
        return Quantity(float(value), None)
    text = str(value).strip().replace("\u00a0", " ")
    if not text or text in {"-", "--"}:
        return None
    text = re.sub(r"[.,]-$", "", text).strip()  # "Rp 1.500.000,-"
    match = _SPLIT.match(text)
    if match is None:
        raise InvalidInput.of("field.not_number", value=text)
    pre, number, post = (match.group(g).strip() for g in ("pre", "num", "post"))
    unit_text = " ".join(part for part in (pre, post) if part)
    unit = _unit_key(unit_text) if unit_text else None
    if unit is not None and unit not in UNITS:
        raise InvalidInput.of("quantity.unknown_unit", value=text, unit=unit_text)
    written_dimension, written_factor = UNITS[unit] if unit else (dimension, factor)
    if written_dimension != dimension:
        raise InvalidInput.of("quantity.other_unit", value=text, unit=unit_text, expected=expected)
    readings, reason = split_number(number.replace(" ", ""), integral=dimension in ("money", "count"))
    if reason or not readings:
        raise _unreadable(text, reason)
    note = None
    if len(readings) == 2:
        decimal_reading, thousands_reading = readings
        if dimension == "percent" and abs(thousands_reading) > 100:
            chosen = decimal_reading
        elif reference is not None and reference > 0:
            ref = reference * factor / written_factor  # the reference in the written unit
            chosen = min(readings, key=lambda r: abs(math.log(max(abs(r), 1e-9) / ref)))
            note = Problem.of("quantity.ambiguous_geometry", severity="warning", value=text, chosen=f"{chosen:g}")
        elif decimal in (".", ","):  # the column's other values tell how it writes decimals
            chosen = decimal_reading if decimal == "." else thousands_reading
        else:
            chosen = decimal_reading
            note = Problem.of("quantity.ambiguous", severity="warning", value=text, chosen=f"{chosen:g}",
                              comma=number.replace(".", ","), plain=number.replace(".", ""))
        readings = [chosen]
    result = readings[0] * written_factor / factor
    if not math.isfinite(result):
        raise InvalidInput.of("field.not_finite", value=text)
    return Quantity(result, unit, note.reason if note else None, note)


def parse_amount(value: object, expected: str, *, reference: float | None = None) -> float | None:
    """parse_quantity's value only (ambiguity notes dropped); for callers without a report."""
    quantity = parse_quantity(value, expected, reference=reference)
    return None if quantity is None else quantity.value


_DOT_DECIMAL = re.compile(r"\d\.(\d{1,2}|\d{4,})(?!\d)(?![.,]\d)|\d,\d{3}\.\d")
_COMMA_DECIMAL = re.compile(r"\d,(\d{1,2}|\d{4,})(?!\d)(?![.,]\d)|\d\.\d{3},\d")


def column_decimal(values: Iterable[object]) -> str | None:
    """The decimal mark a column's texts evidently use: '.' when some value can only be read with a decimal point
    ("1.09", "508.1", "1,234.5") and none with a decimal comma ("12,5", "1.234,5"), ',' the other way round;
    None when the column gives no evidence or both."""
    dot = comma = False
    for value in values:
        if not isinstance(value, str):
            continue
        dot = dot or bool(_DOT_DECIMAL.search(value))
        comma = comma or bool(_COMMA_DECIMAL.search(value))
        if dot and comma:
            return None
    return "." if dot else "," if comma else None


@dataclass(frozen=True)
class Reading:
    """One value of a column read by `read_quantities`: the value (None when blank or unreadable), why it could
    not be read (a message naming the value) and how an ambiguous value was read."""
    value: float | None
    problem: str | None = None
    note: str | None = None
    problem_key: str | None = None  # the problem's catalogue message (geo/messages.py), when it has one
    problem_params: dict[str, Any] | None = None
    note_problem: Problem | None = None

    def problem_at(self, feature: int | None, field: str | None) -> Problem | None:
        """The error (or else the warning) of this value at a row and field, in the catalogue's two languages."""
        if self.problem:
            if self.problem_key:
                return Problem.of(self.problem_key, feature=feature, field=field, **(self.problem_params or {}))
            return Problem(self.problem, feature=feature, field=field)
        if self.note_problem is not None:
            return Problem.of(self.note_problem.key or "", feature=feature, field=field, severity="warning",
                              **(self.note_problem.params or {}))
        if self.note:
            return Problem(self.note, feature=feature, field=field, severity="warning")
        return None


def read_quantities(values: Iterable[object], expected: str, *,
                    references: Sequence[float | None] | None = None) -> list[Reading]:
    """parse_quantity over a column of a file: one Reading per value, problems as messages instead of raising
    (the caller adds the row and field). An ambiguous "7.067" is read by `references` (a plausible value per row:
    the geometry's own area), else by the decimal mark the column's other values use (`column_decimal`), else as
    a decimal point with a note. Tables repeat values: without references each distinct value is parsed once."""
    values = list(values)
    decimal = column_decimal(values)
    out: list[Reading] = []
    seen: dict[tuple[type, object], Reading] = {}
    for i, value in enumerate(values):
        reference = references[i] if references is not None else None
        try:
            key = (type(value), value)
            hash(key)
        except TypeError:
            key = None
        if references is None and key is not None and key in seen:
            out.append(seen[key])
            continue
        try:
            quantity = parse_quantity(value, expected, reference=reference, decimal=decimal)
            reading = Reading(None if quantity is None else quantity.value, None,
                              None if quantity is None else quantity.note,
                              note_problem=None if quantity is None else quantity.note_problem)
        except InvalidInput as error:
            reading = Reading(None, error.message, problem_key=error.key, problem_params=error.params)
        if references is None and key is not None:
            seen[key] = reading
        out.append(reading)
    return out
