"""What every import shares: the report and the all-or-nothing rule (field and value parsing: layers/values).

An import reads and checks the whole file before it writes anything; one bad feature fails the file with a
report naming every bad feature. Writing then happens in one transaction, so a failure there (a constraint,
a lost connection) leaves the database as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.errors import InvalidInput
from geo.messages import Nested
from geo.problems import Problem
from layers.values.progress import Progress, no_progress

if TYPE_CHECKING:
    from geo.validate import Kind


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

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """The report for JSON; with `lang` (id or en) the problems' reasons in that language."""
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
            "errors": [p.as_dict(lang) for p in self.errors],
            "repairs": [p.as_dict(lang) for p in self.repairs],
            "warnings": [p.as_dict(lang) for p in self.warnings],
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
        message = (f"{Path(report.file).name}: {first}" if report.features_read == 0 else
                   f"{Path(report.file).name}: {count} bad feature(s), nothing imported: {first}{more}")
        super().__init__(message, details=report.as_dict())
        self.report = report


def require_features(report: ImportReport, what: str = "features") -> None:
    """A file with nothing in it is an error, never "0 imported" and never a replacement of stored rows."""
    if report.features_read == 0:
        report.errors.append(Problem.of("import.no_rows_in_layer" if report.layer else "import.no_rows",
                                        what=Nested(f"import.what_{what}"), layer=report.layer))
        raise ImportFailed(report)


def read_and_check(path: str | Path, report: ImportReport, *, kind: Kind, layer: str | None = None,
                   progress: Progress = no_progress):
    """Read any vector file and check its geometries for a `kind` layer, filling the report (file facts,
    warnings, errors, repairs). Returns the frame with repaired geometries; rows with errors keep theirs."""
    from geo.read import read_vector  # here: geopandas loads with it, and the command line starts without it
    from geo.validate import validate_geometries

    progress("membaca berkas", 0, 1)
    vector = read_vector(path, layer=layer)
    report.layer, report.driver, report.source_crs = vector.layer, vector.driver, vector.source_crs
    report.warnings += vector.warnings
    report.features_read = len(vector.frame)
    require_features(report)
    progress("memeriksa geometri", 0, report.features_read)
    checked = validate_geometries(vector.frame, kind=kind)
    report.errors += checked.errors
    report.repairs += checked.repairs
    return checked.frame


