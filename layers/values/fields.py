"""Values as files write them: field names compared loosely, numbers with decimal commas, blanks, JSON-safe values.

Used by every importer, by the HTTP write path (activity attributes) and by exports; no database here.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterable

from geo.errors import InvalidInput

DBF_NAME_LENGTH = 10  # a shapefile's field names are cut to this many characters


def field_key(name: str) -> str:
    """Field names compared without case, spaces or punctuation: 'Kode_Kel' == 'KODE KEL' == 'kodekel'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def parse_field_map(text: str | None) -> dict[str, str]:
    """'--map code=KD_DESA,name=NAMA' -> {'code': 'KD_DESA', 'name': 'NAMA'}; 'name=-' reads name from no field."""
    if not text:
        return {}
    mapping = {}
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise InvalidInput.of("map.entry", value=item)
        target, source = (part.strip() for part in item.split("=", 1))
        mapping[target] = source
    return mapping


def resolve_fields(
    columns: Iterable[str],
    candidates: dict[str, tuple[str, ...]],
    explicit: dict[str, str],
) -> dict[str, str]:
    """Map each target (code, name, ...) to the file's column: explicit --map first, then known names in order,
    then known names as a shapefile cuts them (DBF field names hold 10 characters: 'Luasan_Kumuh_Ha' is stored
    as 'Luasan_Kum', 'Tingkat_Kekumuhan' as 'Tingkat_Ke').

    An explicit mapping to a column that does not exist is an error naming the columns that do.
    """
    columns = [c for c in columns if c != "geometry"]
    by_key = {field_key(c): c for c in columns}
    unknown_targets = set(explicit) - set(candidates)
    if unknown_targets:
        raise InvalidInput.of("map.unknown_targets", targets=sorted(unknown_targets), known=sorted(candidates))
    resolved: dict[str, str] = {}
    for target, names in candidates.items():
        if target in explicit:
            source = explicit[target]
            if source == "-":  # --map target=- : read this target from no field
                continue
            column = source if source in columns else by_key.get(field_key(source))
            if column is None:
                raise InvalidInput.of("map.no_field", target=target, source=source, columns=columns)
            resolved[target] = column
            continue
        for name in names:
            if field_key(name) in by_key:
                resolved[target] = by_key[field_key(name)]
                break
    for target, names in candidates.items():
        if target in explicit or target in resolved:
            continue
        for name in names:
            column = by_key.get(field_key(name[:DBF_NAME_LENGTH])) if len(name) > DBF_NAME_LENGTH else None
            if column is not None and len(column) == DBF_NAME_LENGTH and column not in resolved.values():
                resolved[target] = column
                break
    return resolved


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return isinstance(value, str) and not value.strip()


def text_or_none(value: object) -> str | None:
    if type(value) is str:  # most values: one strip (a region import asks this 167,524 times)
        return value.strip() or None
    return None if is_blank(value) else str(value).strip()


def number_or_none(value: object) -> float | None:
    """Numbers as files write them: 1.5, '1,5' (Indonesian decimal comma), '1.234,5'."""
    if is_blank(value):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(" ", "")
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def json_safe(value: object) -> object:
    """Attribute values as JSON: NaN -> None, numpy scalars -> Python, dates -> ISO text."""
    if is_blank(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value



# --- values people send: numbers, text (issue 15 hardening) ------------------------------------------------------

# Longest text each field may hold (characters); any other text field: DEFAULT_TEXT_LIMIT. A field named here is
# text: an object, array, number or boolean sent for it is refused.
TEXT_LIMITS: dict[str, int] = {
    "title": 300, "tenant": 20, "kind": 100, "unit": 50, "program": 100, "funding_source": 100,
    "proposer_area": 200, "proposer_name": 200, "proposer_phone": 40, "target_agency": 200, "address": 500,
    "alamat": 500, "notes": 2000, "catatan": 2000, "override_reason": 2000, "reason": 2000, "stage": 50,
    "status": 50, "action": 50, "username": 63, "display_name": 200, "role": 50, "area": 200, "agency": 200,
    "label": 200, "password": 1024, "decree": 300,
}
DEFAULT_TEXT_LIMIT = 10_000
# Largest amounts a field may hold: beyond them a value is a typing error (and would overflow derived sums).
NUMBER_LIMITS: dict[str, float] = {"volume": 1e9, "cost": 1e15}


def text_problem(name: str, value: object, *, limit: int | None = None, numbers_as_text: bool = False) -> str | None:
    """What is wrong with `value` as the text field `name` (None when nothing): not text, a NUL character (which
    PostgreSQL cannot store), or longer than its limit. Files may hold a number where text is meant (a phone in a
    numeric column): `numbers_as_text=True` accepts them; a JSON body must send text as a string."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif numbers_as_text and not isinstance(value, dict | list | tuple | set | bytes):
        text = str(value)
    else:
        return f"{name} must be text, not {_json_kind(value)}"
    if "\x00" in text:
        return f"{name} contains a NUL character (\\u0000) at position {text.index(chr(0)) + 1}: remove it"
    most = limit if limit is not None else TEXT_LIMITS.get(name, DEFAULT_TEXT_LIMIT)
    if len(text) > most:
        return f"{name} is {len(text)} characters long; at most {most} are allowed"
    return None


def number_problem(name: str, value: float | None, *, minimum: float = 0.0,
                   maximum: float | None = None) -> str | None:
    """What is wrong with a number already read (None when nothing): not finite (NaN, Infinity, 1e999), below
    `minimum` or above `maximum` (default NUMBER_LIMITS[name])."""
    if value is None:
        return None
    if not math.isfinite(value):
        return f"{name} must be a finite number, not {_number_text(value)}"
    most = maximum if maximum is not None else NUMBER_LIMITS.get(name)
    if value < minimum:
        return f"{name} {value:g} is below {minimum:g}"
    if most is not None and value > most:
        return f"{name} {value:g} is over the largest allowed ({most:g})"
    return None


def _number_text(value: float) -> str:
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return "a value of another kind"


def json_value_problems(value: object, path: str = "", key: str | None = None) -> list[tuple[str, str]]:
    """Every (field path, reason) that makes a decoded JSON value unusable, wherever it is: a non-finite number
    (NaN, Infinity, 1e999, which Python's json accepts), a NUL character in text or in a key, text over its
    field's limit, or a non-text value for a field that is text (TEXT_LIMITS) - the shared guard of every body."""
    problems: list[tuple[str, str]] = []
    where = path or "body"
    if key is not None and key in TEXT_LIMITS and value is not None and not isinstance(value, str):
        problems.append((where, f"{where} must be text, not {_json_kind(value)}"))
    elif isinstance(value, dict):
        for name, item in value.items():
            if "\x00" in name:
                problems.append((where, f"a field name in {where} contains a NUL character"))
                continue
            problems += json_value_problems(item, f"{path}.{name}" if path else name, name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems += json_value_problems(item, f"{where}[{i}]", None)
    elif isinstance(value, float) and not math.isfinite(value):
        problems.append((where, f"{where} must be a finite number, not {_number_text(value)}"))
    elif isinstance(value, str):
        reason = text_problem(where, value, limit=TEXT_LIMITS.get(key or "", DEFAULT_TEXT_LIMIT))
        if reason:
            problems.append((where, reason))
    return problems


# --- spreadsheets: text that must never become a formula ---------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: object) -> bool:
    """Text a spreadsheet would run as a formula (OWASP CSV injection): it starts with = + - @ tab or CR."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_safe(value: object) -> object:
    """A cell for a CSV file: formula-like text gets a leading single quote (shown as text, OWASP practice);
    numbers, negative ones included, and every other value stay as they are."""
    return "'" + value if is_formula_like(value) and isinstance(value, str) else value
