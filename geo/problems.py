"""A problem found in an input: which feature (1-based, as a user counts rows), which field, why.

`reason` is the English sentence; a problem made with a message key (`Problem.of(key, ...)`, catalogue in
geo/messages.py) renders in Indonesian too: `text("id")`, `as_dict("id")`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from typing import Any, Literal

from geo.messages import message

Severity = Literal["error", "repair", "warning"]


@dataclass(frozen=True)
class Problem:
    reason: str
    feature: int | None = None
    field: str | None = None
    severity: Severity = "error"
    key: str | None = dc_field(default=None, compare=False)
    params: dict[str, Any] | None = dc_field(default=None, compare=False, hash=False)

    @classmethod
    def of(cls, key: str, *, feature: int | None = None, field: str | None = None, severity: Severity = "error",
           **params: Any) -> Problem:
        """A problem from the message catalogue: reason = the English text, key and params kept for others."""
        return cls(message(key, "en", **params), feature=feature, field=field, severity=severity, key=key,
                   params=params)

    def reason_in(self, lang: str | None) -> str:
        return message(self.key, lang, **(self.params or {})) if self.key else self.reason

    def as_dict(self, lang: str | None = None) -> dict:
        out = asdict(self)
        out["reason"] = self.reason_in(lang) if lang else self.reason
        if self.key is None:
            del out["key"], out["params"]
        elif lang:
            del out["params"]
        return out

    def text(self, lang: str | None = "en") -> str:
        where = []
        if self.feature is not None:
            where.append(message("where.feature", lang, feature=self.feature))
        if self.field:
            where.append(message("where.field", lang, field=self.field))
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{prefix}{self.reason_in(lang)}"

    def __str__(self) -> str:
        return self.text("en")
