"""Activity kinds as files name them: the catalogue code ("jalan_paving"), its name, or a common synonym or
spelling ("Jalan Paving", "rabat beton", "Drainase", "Gorong-gorong", "MCK Plus"; data/catalogue/
activity_kind_aliases.csv), compared by layers/values/names.py name_key (case, spaces, punctuation)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import lru_cache

from data import data_path
from layers.values.names import name_key


@lru_cache(maxsize=1)
def kind_aliases() -> dict[str, str]:
    """name_key(alias) -> kind code, from data/catalogue/activity_kind_aliases.csv."""
    with open(data_path("catalogue", "activity_kind_aliases.csv"), newline="", encoding="utf-8") as handle:
        return {name_key(row["alias"]): row["kind"].strip() for row in csv.DictReader(handle) if row.get("alias")}


def resolve_kind(text: str | None, codes: Iterable[str]) -> str | None:
    """The catalogue code a file's kind text means, or None when nothing matches."""
    if not text:
        return None
    known = set(codes)
    if text in known:
        return text
    key = name_key(text)
    by_code = {name_key(code.replace("_", " ")): code for code in known}
    if key in by_code:
        return by_code[key]
    code = kind_aliases().get(key)
    return code if code in known else None
