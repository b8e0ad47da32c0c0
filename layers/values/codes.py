"""Kemendagri region codes (PP.KK.CC.DDDD) and tenant codes (PP.KK).

Files write codes many ways: dotted, plain digits, numbers read as floats ("1271011001.0"), or split over
several fields (Kode_Prov=73, Kode_Kab=07, Kode_Kec=05, Kode_Kel=1003). `normalise_code` turns each into the
dotted form; `None` means the text is not a code.
"""

from __future__ import annotations

import math
import re

from geo.errors import InvalidInput

PART_LENGTHS = (2, 2, 2, 4)
LEVEL_BY_PARTS = {1: "provinsi", 2: "kabkota", 3: "kecamatan", 4: "desa_kelurahan"}
_DOTTED = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
_DIGITS_LENGTHS = {2: 1, 4: 2, 6: 3, 10: 4}


def normalise_code(value: object) -> str | None:
    """'1271011001', '12.71.01.1001', 1271011001.0 -> '12.71.01.1001'; anything else -> None."""
    if type(value) is str and _DOTTED.match(value):  # already dotted, as most files have it: one check
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().replace(" ", "")
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if _DOTTED.match(text):
        return text
    if text.isdigit() and len(text) in _DIGITS_LENGTHS:
        parts, start = [], 0
        for length in PART_LENGTHS[: _DIGITS_LENGTHS[len(text)]]:
            parts.append(text[start : start + length])
            start += length
        return ".".join(parts)
    return None


def join_code_parts(*parts: object) -> str | None:
    """Kode_Prov, Kode_Kab, Kode_Kec, Kode_Kel given separately (each possibly already prefixed)."""
    cleaned: list[str] = []
    for part, length in zip(parts, PART_LENGTHS, strict=False):
        code = normalise_code(part)
        if code and code.count(".") >= len(cleaned):  # a full prefix repeated in the field, e.g. '73.07'
            cleaned = code.split(".")
            continue
        text = "" if part is None else str(part).strip()
        if text.endswith(".0"):
            text = text[:-2]
        if not text.isdigit():
            return None
        cleaned.append(text.zfill(length))
    return normalise_code(".".join(cleaned)) if cleaned else None


def level_of(code: str) -> str:
    return LEVEL_BY_PARTS[code.count(".") + 1]


def parent_of(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def kind_of(code: str) -> str:
    """provinsi / kabupaten (01-69) / kota (71-99) / kecamatan / kelurahan (1xxx) / desa (2xxx)."""
    parts = code.split(".")
    if len(parts) == 1:
        return "provinsi"
    if len(parts) == 2:
        return "kota" if int(parts[1]) >= 71 else "kabupaten"
    if len(parts) == 3:
        return "kecamatan"
    return "kelurahan" if parts[3].startswith("1") else "desa"


def code_facts(code: str) -> tuple[str, str, str | None]:
    """(level, kind, parent) of a normalised code: level_of, kind_of and parent_of with one split, for imports
    that describe tens of thousands of codes."""
    parts = code.split(".")
    depth = len(parts)
    if depth == 1:
        return "provinsi", "provinsi", None
    parent = code[: len(code) - len(parts[-1]) - 1]
    if depth == 2:
        return "kabkota", "kota" if int(parts[1]) >= 71 else "kabupaten", parent
    if depth == 3:
        return "kecamatan", "kecamatan", parent
    return "desa_kelurahan", "kelurahan" if parts[3].startswith("1") else "desa", parent


def tenant_code(value: object) -> str:
    """A kab/kota (tenant) code from '12.71' or '1271'; InvalidInput otherwise."""
    code = normalise_code(value)
    if code is None or code.count(".") != 1:
        raise InvalidInput.of("code.not_tenant", value=value)
    return code
