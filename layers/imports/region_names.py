"""Region names as the place is written ("Belawan II"), not as another tool cased them ("Belawan Ii", "BELAWAN II").

Boundary files often carry names recased by the tool that made them: title-casing lowers roman numerals
("Kota Matsum Iv"), BPS and national files are often ALL CAPS. A kecamatan or desa/kelurahan whose name in the
file is such an artefact and is the same name as the Kemendagri code list's for its code (`spelling_key`: equal
but for case, accents, spaces, punctuation and a Kel./Desa/Kec. prefix) is stored as the list spells it. A name
that differs in more than that is the file's own (the city knows its names) and is kept; so is any name the list
writes in capitals only (its kab/kota and provinsi: "KAB. ACEH SELATAN"). Every name not taken from the list
gets the one fix that cannot be wrong: a roman numeral title-cased as a separate word after a name word
("Sukaramai Iii") is written in capitals ("Sukaramai III"); "Ivory" and "Vila" are words, not numerals.
"""

from __future__ import annotations

import csv
import gzip
import re
from functools import lru_cache
from pathlib import Path

from data import data_path
from geo.problems import Problem
from layers.imports.report import ImportReport
from layers.values.names import roman_to_int, spelling_key

CODE_LIST = ("reference", "wilayah", "kemendagri_codes.csv.gz")  # the crosswalk's list (layers/imports/crosswalk.py)
LISTED_LEVELS = frozenset({"kecamatan", "desa_kelurahan"})
EXAMPLES = 3  # renamings named in the report
_LETTERS = re.compile(r"[^\W\d_]+")
_TITLE_NUMERAL = re.compile(r"[IVX][ivx]")  # in every name roman_upper could change ('Ii', 'Xiv'): most have none


@lru_cache(maxsize=4)
def listed_names(path: str | None = None) -> dict[str, str]:
    """Kemendagri code -> name of every kecamatan and desa/kelurahan of the code list (CSV code,name,level,parent,
    .csv or .csv.gz; the shipped national list by default). Read with csv.reader: 0.2 CPU s for the 90,671
    listed names, less than Arrow's reader once loading pyarrow (and the pandas it loads to filter) is counted."""
    source = Path(path) if path else data_path(*CODE_LIST)
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="utf-8-sig", newline="") as text:
        rows = csv.reader(text)
        header = next(rows, [])
        code, name, level = (header.index(column) for column in ("code", "name", "level"))
        return {row[code]: row[name] for row in rows if row[level] in LISTED_LEVELS}


def all_caps(name: str) -> bool:
    """'BELAWAN II', 'KEL. SEI AGUL': letters, all of them capitals (a lone 'I' is not enough to tell)."""
    if not name.isupper():  # a small letter anywhere (most names): not all capitals
        return False
    letters = "".join(_LETTERS.findall(name))
    return len(letters) > 1 and letters.isupper()


def roman_upper(name: str) -> str:
    """'Belawan Ii' -> 'Belawan II', 'Sei Sikambing C Ii' -> 'Sei Sikambing C II'; the first word, words that
    are not numerals ('Ivory', 'Vila') and numerals not title-cased ('ii') stay as written."""
    def upper(match: re.Match[str]) -> str:
        word = match.group(0)
        if match.start() == 0 or not name[:match.start()].strip() or len(word) < 2 or not word.istitle():
            return word
        return word.upper() if roman_to_int(word.lower()) is not None else word

    return _LETTERS.sub(upper, name) if _TITLE_NUMERAL.search(name) else name


def spelt_as_written(name: str, level: str, listed: str | None) -> str:
    """The name to store for a region of `level` named `name` in the file and `listed` in the code list."""
    fixed = roman_upper(name)
    artefact = all_caps(name) or fixed != name
    if (artefact and listed and level in LISTED_LEVELS and not all_caps(listed)
            and spelling_key(listed) == spelling_key(name)):
        return listed
    return fixed


def with_written_names(rows: list[tuple], listed: dict[str, str], report: ImportReport) -> list[tuple]:
    """Region rows (code, bps_code, name, level, ...) with their names as written; the report says how many took
    the code list's spelling and how many only had their roman numerals put in capitals, with examples."""
    out: list[tuple] = []
    from_list: list[tuple[str, str]] = []
    numerals: list[tuple[str, str]] = []
    for row in rows:
        code, _, name, level = row[:4]
        if not name:
            out.append(row)
            continue
        listed_name = listed.get(code)
        written = spelt_as_written(name, level, listed_name)
        if written != name:
            (from_list if written == listed_name else numerals).append((name, written))
            row = (*row[:2], written, *row[3:])
        out.append(row)
    for key, changed in (("region.names_from_code_list", from_list), ("region.names_roman_upper", numerals)):
        if changed:
            examples = ", ".join(f"'{a}' -> '{b}'" for a, b in changed[:EXAMPLES])
            report.warnings.append(Problem.of(key, severity="warning", count=len(changed), examples=examples))
    report.summary["names_from_code_list"] = len(from_list)
    report.summary["names_roman_upper"] = len(numerals)
    return out
