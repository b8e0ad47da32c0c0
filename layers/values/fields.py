"""Values as files write them: field names compared loosely, numbers with decimal commas, blanks, JSON-safe values.

Used by every importer, by the HTTP write path (activity attributes) and by exports; no database here.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable

from geo.errors import InvalidInput


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
            raise InvalidInput(f"--map entry '{item}' must look like target=SOURCE_FIELD")
        target, source = (part.strip() for part in item.split("=", 1))
        mapping[target] = source
    return mapping


def resolve_fields(
    columns: Iterable[str],
    candidates: dict[str, tuple[str, ...]],
    explicit: dict[str, str],
) -> dict[str, str]:
    """Map each target (code, name, ...) to the file's column: explicit --map first, then known names in order.

    An explicit mapping to a column that does not exist is an error naming the columns that do.
    """
    columns = [c for c in columns if c != "geometry"]
    by_key = {field_key(c): c for c in columns}
    unknown_targets = set(explicit) - set(candidates)
    if unknown_targets:
        raise InvalidInput(
            f"--map names unknown target(s) {sorted(unknown_targets)}; known: {sorted(candidates)}"
        )
    resolved: dict[str, str] = {}
    for target, names in candidates.items():
        if target in explicit:
            source = explicit[target]
            if source == "-":  # --map target=- : read this target from no field
                continue
            column = source if source in columns else by_key.get(field_key(source))
            if column is None:
                raise InvalidInput(f"--map {target}={source}: the file has no field '{source}'; it has {columns}")
            resolved[target] = column
            continue
        for name in names:
            if field_key(name) in by_key:
                resolved[target] = by_key[field_key(name)]
                break
    return resolved


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return isinstance(value, str) and not value.strip()


def text_or_none(value: object) -> str | None:
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

