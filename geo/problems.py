"""A problem found in an input: which feature (1-based, as a user counts rows), which field, why."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "repair", "warning"]


@dataclass(frozen=True)
class Problem:
    reason: str
    feature: int | None = None
    field: str | None = None
    severity: Severity = "error"

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = []
        if self.feature is not None:
            where.append(f"feature {self.feature}")
        if self.field:
            where.append(f"field {self.field}")
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{prefix}{self.reason}"
