"""Slum-scoring schemes (Permen PUPR 14/2018, 02/2016) loaded from the JSON files in `schemes/`.

A scheme is data, not code: criteria, their aspect, unit and denominator, the percentage -> score
bands and the total -> level bands. Every stored score names its scheme, so baselines scored under
the older 19-criteria regulation stay readable next to newer 16-criteria surveys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from geo.errors import InvalidInput
from indicators.bands import Band, check_contiguous

# Header counts of a survey unit that criteria may divide by (column names in unit tables).
DENOMINATORS = ("area_ha", "buildings", "households", "road_length_m", "drainage_length_m")
HEADER_COLUMNS = (*DENOMINATORS, "population")

_SCHEME_DIR = "schemes"


@dataclass(frozen=True)
class Criterion:
    id: str
    aspect: str
    name: str
    name_en: str
    unit: str
    denominator: str
    extra: dict[str, Any]

    @property
    def volume_column(self) -> str:
        return f"v_{self.id}"

    @property
    def pct_column(self) -> str:
        return f"p_{self.id}"

    @property
    def score_column(self) -> str:
        return f"s_{self.id}"


@dataclass(frozen=True)
class Aspect:
    key: str
    number: int
    name: str
    name_en: str
    criteria: tuple[str, ...]

    @property
    def average_column(self) -> str:
        return f"avg_{self.key}"


@dataclass(frozen=True)
class Level:
    code: str
    name: str
    min_total: int
    max_total: int


@dataclass(frozen=True)
class Scheme:
    name: str
    title: str
    legal_reference: str
    criteria: tuple[Criterion, ...]
    aspects: tuple[Aspect, ...]
    score_bands: tuple[Band, ...]
    levels: tuple[Level, ...]
    max_total: int
    confirmed: dict[str, bool]
    raw: dict[str, Any]

    @property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)

    @property
    def max_score(self) -> int:
        return max(b.value for b in self.score_bands)

    @property
    def level_bands(self) -> tuple[Band, ...]:
        """Levels as half-open bands [min, next min) so that any total falls in exactly one."""
        out = []
        for i, lv in enumerate(self.levels):
            upper = self.levels[i + 1].min_total if i + 1 < len(self.levels) else None
            out.append(Band(value=lv.code, lower=lv.min_total, upper=upper))
        return tuple(out)

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise InvalidInput(
            f"scheme {self.name} has no criterion {criterion_id!r}",
            details={"known": list(self.criterion_ids)},
        )

    def level_name(self, code: str) -> str:
        return next(lv.name for lv in self.levels if lv.code == code)


def available_schemes() -> list[str]:
    folder = resources.files("indicators") / _SCHEME_DIR
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


@cache
def load_scheme(name: str) -> Scheme:
    """The scheme called `name` (e.g. "permen14_2018"); InvalidInput for an unknown name."""
    known = available_schemes()
    if name not in known:
        raise InvalidInput(f"unknown scoring scheme {name!r}; known: {', '.join(known)}", details={"known": known})
    text = (resources.files("indicators") / _SCHEME_DIR / f"{name}.json").read_text(encoding="utf-8")
    return scheme_from_dict(json.loads(text))


def as_scheme(scheme: Scheme | str) -> Scheme:
    return scheme if isinstance(scheme, Scheme) else load_scheme(scheme)


def scheme_from_dict(d: dict[str, Any]) -> Scheme:
    """Build and validate a scheme; a broken file fails loudly here, not while scoring."""
    core = {"id", "aspect", "name", "name_en", "unit", "denominator"}
    criteria = tuple(
        Criterion(**{k: c.get(k, "") for k in core}, extra={k: v for k, v in c.items() if k not in core})
        for c in d["criteria"]
    )
    ids = [c.id for c in criteria]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"scheme {d['name']}: duplicate criterion ids")
    bad = [c.id for c in criteria if c.denominator not in DENOMINATORS]
    if bad:
        raise InvalidInput(f"scheme {d['name']}: criteria {bad} have a denominator not in {DENOMINATORS}")
    aspects = tuple(
        Aspect(
            key=a["key"],
            number=a["number"],
            name=a["name"],
            name_en=a.get("name_en", ""),
            criteria=tuple(c.id for c in criteria if c.aspect == a["key"]),
        )
        for a in d["aspects"]
    )
    orphans = set(ids) - {cid for a in aspects for cid in a.criteria}
    if orphans or any(not a.criteria for a in aspects):
        raise InvalidInput(f"scheme {d['name']}: every criterion needs a known aspect and every aspect a criterion")
    bands = tuple(Band.from_dict(b, value_key="score") for b in d["score_bands"]["bands"])
    check_contiguous(bands, f"scheme {d['name']} score bands")
    lv = d["levels"]
    levels = tuple(Level(b["code"], b["name"], b["min"], b["max"]) for b in lv["bands"])
    for prev, nxt in zip(levels, levels[1:], strict=False):
        if nxt.min_total != prev.max_total + 1:
            raise InvalidInput(f"scheme {d['name']}: level {prev.code} must end just before {nxt.code}")
    max_total = lv["max_total"]
    top = max(b.value for b in bands)
    if levels[0].min_total != 0 or levels[-1].max_total != max_total or max_total != top * len(criteria):
        raise InvalidInput(f"scheme {d['name']}: levels must cover 0..{top * len(criteria)}")
    return Scheme(
        name=d["name"],
        title=d["title"],
        legal_reference=d["legal_reference"],
        criteria=criteria,
        aspects=aspects,
        score_bands=bands,
        levels=levels,
        max_total=max_total,
        confirmed={
            "criteria": d["criteria_source"]["confirmed"],
            "score_bands": d["score_bands"]["confirmed"],
            "levels": lv["confirmed"],
        },
        raw=d,
    )
