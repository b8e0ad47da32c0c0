"""What every import shares: the report, field recognition, progress, and the all-or-nothing rule.

An import reads and checks the whole file before it writes anything; one bad feature fails the file with a
report naming every bad feature. Writing then happens in one transaction, so a failure there (a constraint,
a lost connection) leaves the database as it was.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.errors import InvalidInput
from geo.problems import Problem
from geo.read import read_vector
from geo.validate import validate_geometries

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class ImportReport:
    kind: str
    file: str
    layer: str | None = None
    driver: str | None = None
    source_crs: str | None = None
    features_read: int = 0
    features_written: int = 0
    errors: list[Problem] = field(default_factory=list)
    repairs: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    _started: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    def finish(self) -> ImportReport:
        self.seconds = round(time.perf_counter() - self._started, 3)
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "layer": self.layer,
            "driver": self.driver,
            "source_crs": self.source_crs,
            "ok": self.ok,
            "features_read": self.features_read,
            "features_written": self.features_written,
            "fields": self.fields,
            "errors": [p.as_dict() for p in self.errors],
            "repairs": [p.as_dict() for p in self.repairs],
            "warnings": [p.as_dict() for p in self.warnings],
            "summary": self.summary,
            "seconds": self.seconds,
        }


class ImportFailed(InvalidInput):
    """Raised with the full report when any feature is bad; nothing was written."""

    code = "import_failed"

    def __init__(self, report: ImportReport):
        report.finish()
        count = len(report.errors)
        first = "; ".join(str(p) for p in report.errors[:3])
        more = f" (and {count - 3} more)" if count > 3 else ""
        super().__init__(
            f"{Path(report.file).name}: {count} bad feature(s), nothing imported: {first}{more}",
            details=report.as_dict(),
        )
        self.report = report


def read_and_check(path: str | Path, report: ImportReport, *, kind: str, layer: str | None = None,
                   progress: Progress = no_progress):
    """Read any vector file and check its geometries for a `kind` layer, filling the report (file facts,
    warnings, errors, repairs). Returns the frame with repaired geometries; rows with errors keep theirs."""
    progress("membaca berkas", 0, 1)
    vector = read_vector(path, layer=layer)
    report.layer, report.driver, report.source_crs = vector.layer, vector.driver, vector.source_crs
    report.warnings += vector.warnings
    report.features_read = len(vector.frame)
    progress("memeriksa geometri", 0, report.features_read)
    checked = validate_geometries(vector.frame, kind=kind)
    report.errors += checked.errors
    report.repairs += checked.repairs
    return checked.frame


def field_key(name: str) -> str:
    """Field names compared without case, spaces or punctuation: 'Kode_Kel' == 'KODE KEL' == 'kodekel'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def parse_field_map(text: str | None) -> dict[str, str]:
    """'--map code=KD_DESA,name=NAMA' -> {'code': 'KD_DESA', 'name': 'NAMA'}."""
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
