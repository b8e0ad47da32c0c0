"""`kotaku import regions --skip-invalid`: which features a region file sets aside, and the file naming them.

The default stays all-or-nothing. With --skip-invalid every feature's verdict is known before anything is written
(layers/imports/regions.py collects the codes' and names' problems and every chunk's geometry check first); the
features with a problem are set aside, the others written in one transaction, and the set-aside ones listed with
their reasons in a CSV file (`rejects_target`, `write_rejects`). A set-aside feature writes and deletes nothing:
a stored row with its code stays as it was. Besides their own problems, features are set aside when:
- their code appears more than once in the file: every copy, the first too (which copy holds the right polygon
  cannot be told, and keeping the first would replace the stored row with a polygon the file itself doubts);
- their parent (kecamatan of a desa, kab/kota of a kecamatan ...) is set aside in this file and is not stored
  already ("induk ditolak"): a desa never hangs off a kecamatan the file meant to bring. The regions table has no
  foreign key on parent_code, so this is our rule, not the schema's.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from geo.errors import InvalidInput
from geo.problems import Problem
from layers.imports.crosswalk import CROSSWALK_FAILED

if TYPE_CHECKING:
    import pandas as pd

SUFFIX = ".ditolak.csv"


def rejects_target(path: str | Path, rejects: str | Path | None) -> Path:
    """Where the set-aside features go: `rejects` when given, else `<stem>.ditolak.csv` beside the file, or in the
    current folder when the file's folder cannot be written (a read-only share, a mounted disc). Checked before
    the import starts: the list is written after the rows are committed, and must not fail then."""
    if rejects is not None:
        target = Path(rejects)
    else:
        source = Path(path)
        target = source.with_name(source.stem + SUFFIX)
        if not os.access(target.parent, os.W_OK):
            target = Path.cwd() / target.name
    folder = target.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK) or target.is_dir():
        raise InvalidInput.of("region.rejects_unwritable", file=str(target))
    return target


def with_every_copy(errors: list[Problem]) -> list[Problem]:
    """`errors` and, for each code appearing again (region.code_again, on the later copies), a problem on its first
    copy too: every copy of a repeated code is set aside."""
    firsts: dict[int, Problem] = {}
    for p in errors:
        if p.key == "region.code_again" and p.params and p.params["first"] not in firsts:
            firsts[p.params["first"]] = Problem.of("region.code_repeated", feature=p.params["first"], field=p.field,
                                                   code=p.params["code"], later=p.feature)
    return [*errors, *firsts.values()]


def parents_rejected(rows: list[tuple], numbers: list[int], rejected: set[int],
                     stored: Callable[[list[str]], set[str]]) -> list[Problem]:
    """Problems of the rows (code, bps_code, name, level, kind, parent, ...; feature `numbers`) not `rejected`
    whose parent code is a rejected row's and not in `stored(codes)`, the codes already in the database; down the
    levels (a kab/kota set aside takes its kecamatan with it, and their desa unless those kecamatan are stored)."""
    rejected = set(rejected)
    newly = {row[0] for row, number in zip(rows, numbers, strict=True) if number in rejected}
    problems: list[Problem] = []
    while newly:
        parents = {row[5] for row, number in zip(rows, numbers, strict=True) if number not in rejected}
        missing = newly & parents
        if missing:
            missing -= stored(sorted(missing))
        newly = set()
        for row, number in zip(rows, numbers, strict=True):
            if number not in rejected and row[5] in missing:
                problems.append(Problem.of("region.parent_rejected", feature=number, code=row[5]))
                rejected.add(number)
                newly.add(row[0])
    return problems


def reasons(problems: Iterable[Problem], lang: str = "id") -> dict[int, str]:
    """Feature number -> its problems' reasons in `lang` ("kolom geometry: ..."), joined with '; ' (a feature may
    have several)."""
    out: dict[int, list[str]] = {}
    for p in sorted(problems, key=lambda p: p.feature or 0):  # the report's text, but for the feature number
        out.setdefault(p.feature or 0, []).append(replace(p, feature=None).text(lang))
    return {number: "; ".join(texts) for number, texts in out.items()}


def write_rejects(target: Path, attributes: pd.DataFrame, first: list[str], why: dict[int, str]) -> None:
    """The CSV (UTF-8) of the set-aside features: `fitur` (number counted from 1), the columns `first` (code and name
    as read), the file's other attribute columns, `alasan`. Written to a temporary file beside `target` and moved
    over it, so a reader never sees half a list."""
    columns = [*first, *(c for c in attributes.columns if c not in first)]
    numbers = sorted(why)
    table = attributes.iloc[[n - 1 for n in numbers]][columns]
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["fitur", *columns, "alasan"])
            for number, values in zip(numbers, table.itertuples(index=False, name=None), strict=True):
                writer.writerow([number, *(_cell(v) for v in values), why[number]])
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _cell(value: object) -> object:
    """A value as the file has it; nothing (None, NaN, NaT, no code from the crosswalk) as an empty cell."""
    from pandas import NA, NaT  # loaded already: the attributes came as a DataFrame

    if value is None or value is CROSSWALK_FAILED or value is NA or value is NaT:
        return ""
    if isinstance(value, float) and value != value:  # NaN (numpy's float64 too)
        return ""
    return value
