"""A decree's stated slum level as SK tables write it: "Kumuh Berat", "Berat", "KB", "B", "berat", "Sedang", "KS",
"S", "Ringan", "KR", "R", "Tidak Kumuh", "TK", or a number (the total score) mapped through the scheme's level bands.

Pure functions; the importer (layers/imports/slum_areas.py) reports text it cannot read as an error naming the
feature, the field and the value.
"""

from __future__ import annotations

import re

from indicators.schemes import Scheme, as_scheme

# words after "kumuh"/"tingkat" are removed -> level code
_WORDS = {
    "berat": "KB", "kb": "KB", "kumuh berat": "KB", "tinggi": "KB", "b": "KB",  # a level column's B/S/R
    "sedang": "KS", "ks": "KS", "kumuh sedang": "KS", "s": "KS",
    "ringan": "KR", "kr": "KR", "kumuh ringan": "KR", "rendah": "KR", "r": "KR",
    "tidak kumuh": "TK", "tk": "TK", "bukan kumuh": "TK", "non kumuh": "TK", "tidak": "TK",
}
_PREFIXES = ("tingkat kekumuhan ", "tingkat kumuh ", "tingkat ", "kategori ", "klasifikasi ")


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9,.]+", " ", text.lower())).strip()


def level_from_text(value: object, scheme: Scheme | str = "permen14_2018") -> tuple[str | None, int | None]:
    """(level code, score) from a level field's value: a level word or code gives (code, None); a whole number
    within the scheme's range gives (its band's code, the number). Blank gives (None, None). Raises ValueError
    with a reason for anything else."""
    scheme = as_scheme(scheme)
    if value is None or (isinstance(value, float) and value != value):
        return None, None
    if isinstance(value, int | float):
        return _from_score(float(value), scheme, value)
    text = _normal(str(value))
    if not text:
        return None, None
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    if text in _WORDS:
        return _WORDS[text], None
    if text.startswith("kumuh ") and text[6:] in _WORDS:
        return _WORDS[text[6:]], None
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        codes = "/".join(lv.code for lv in reversed(scheme.levels))
        raise ValueError(f"level '{value}' not understood (Kumuh Berat/Sedang/Ringan, Tidak Kumuh, {codes}, "
                         f"or a score 0-{scheme.max_total})") from None
    return _from_score(number, scheme, value)


def level_from_score(score: float, scheme: Scheme | str = "permen14_2018") -> str:
    """The level code of a whole-number total score (ValueError when outside the scheme's range)."""
    return _from_score(float(score), as_scheme(scheme), score)[0] or ""


def _from_score(number: float, scheme: Scheme, original: object) -> tuple[str | None, int | None]:
    if number != number:
        return None, None
    if number != round(number) or not 0 <= number <= scheme.max_total:
        raise ValueError(f"score '{original}' is not a whole number from 0 to {scheme.max_total} "
                         f"(scheme {scheme.name})")
    total = int(number)
    code = next(lv.code for lv in scheme.levels if lv.min_total <= total <= lv.max_total)
    return code, total
