"""Priority of slum locations: pertimbangan lain (PL), legality, priority class, handling, kewenangan.

All thresholds, point values, the level x PL x legality matrix, the handling rules and the kewenangan
bands live in `tables/` so that a Pokja PKP can adapt them; values the regulation does not fix are
marked unconfirmed there. Every result row carries `basis`, a sentence naming the factors that gave
its class, e.g. "KS; PL tinggi (15 poin: kepadatan tinggi 3, MBR 75-100% 5, ...); lahan legal -> B1".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InvalidInput
from geo.problems import Problem
from indicators.bands import Band, check_contiguous, classify

LEGALITY_VALUES = ("legal", "ilegal")
_TABLES = "tables"


@dataclass(frozen=True)
class BandedFactor:
    label: str
    bands: tuple[Band, ...]
    points: dict[str, int]


@dataclass(frozen=True)
class PriorityTables:
    density: BandedFactor
    mbr: BandedFactor
    strategic_points: dict[str, int]
    potential_points: dict[str, int]
    pl_bands: tuple[Band, ...]
    matrix: pd.DataFrame
    handling_rules: tuple[dict[str, Any], ...]
    kewenangan_bands: tuple[Band, ...]
    kewenangan_names: dict[str, str]


def _read(name: str) -> Any:
    path = resources.files("indicators") / _TABLES / name
    if name.endswith(".csv"):
        with path.open("r", encoding="utf-8") as f:
            return pd.read_csv(f, dtype={"rank": int, "rank9": int}, keep_default_na=False)
    return json.loads(path.read_text(encoding="utf-8"))


def _banded(d: dict[str, Any], what: str) -> BandedFactor:
    bands = tuple(Band.from_dict(b) for b in d["bands"])
    check_contiguous(bands, what)
    return BandedFactor(d["label"], bands, {b["value"]: b["points"] for b in d["bands"]})


@cache
def load_priority_tables() -> PriorityTables:
    pl = _read("pertimbangan_lain.json")
    factors = pl["factors"]
    pl_bands = tuple(Band.from_dict(b) for b in pl["pl_bands"]["bands"])
    check_contiguous(pl_bands, "PL bands")
    kw = _read("kewenangan.json")
    kw_bands = tuple(Band.from_dict(b) for b in kw["bands"])
    check_contiguous(kw_bands, "kewenangan bands")
    tables = PriorityTables(
        density=_banded(factors["population_density"], "population density bands"),
        mbr=_banded(factors["mbr_share"], "MBR bands"),
        strategic_points=factors["strategic_value"]["points"],
        potential_points=factors["potential"]["points"],
        pl_bands=pl_bands,
        matrix=_read("priority_matrix.csv"),
        handling_rules=tuple(_read("handling_patterns.json")["rules"]),
        kewenangan_bands=kw_bands,
        kewenangan_names={b["value"]: b["name"] for b in kw["bands"]},
    )
    _check_matrix(tables.matrix, tables, "priority_matrix.csv")
    return tables


MATRIX_COLUMNS = ("level", "pl", "legality", "class", "rank", "rank9", "handling")


def _check_matrix(m: pd.DataFrame, tables: PriorityTables, what: str) -> None:
    if m.duplicated(["level", "pl", "legality"]).any():
        raise InvalidInput(f"{what}: a level/pl/legality combination appears twice")
    expected = handling_pattern(m["level"], m["legality"], tables)
    if not (expected.to_numpy() == m["handling"].to_numpy()).all():
        raise InvalidInput(f"{what}: handling disagrees with handling_patterns.json")


def with_matrix(
    matrix: pd.DataFrame, tables: PriorityTables | None = None, what: str = "priority matrix"
) -> PriorityTables:
    """The tables with another level x PL x legality matrix (a kab/kota's own classes and ranks). It must
    cover the same combinations as the packaged one, once each, with the handling of handling_patterns.json."""
    base = _tables(tables)
    missing = [c for c in MATRIX_COLUMNS if c not in matrix.columns and c != "rank9"]
    if missing:
        raise InvalidInput(f"{what}: missing columns {missing}; expected {list(MATRIX_COLUMNS)}")
    m = matrix.copy()
    for col in ("level", "pl", "legality", "class", "handling"):
        m[col] = m[col].astype("string").str.strip()
    m["pl"] = m["pl"].str.lower()
    m["legality"] = m["legality"].str.lower()
    m["rank"] = pd.to_numeric(m["rank"], errors="coerce")
    if m["rank"].isna().any() or (m["rank"] != m["rank"].round()).any():
        raise InvalidInput(f"{what}: rank must be a whole number on every row")
    m["rank"] = m["rank"].astype(int)
    m["rank9"] = pd.to_numeric(m["rank9"], errors="coerce").astype("Int64") if "rank9" in m else pd.NA
    keys = ["level", "pl", "legality"]
    wanted = set(map(tuple, base.matrix[keys].astype(str).to_numpy()))
    given = set(map(tuple, m[keys].astype(str).to_numpy()))
    if wanted != given:
        raise InvalidInput(
            f"{what}: must cover exactly the level/pl/legality combinations of the packaged matrix",
            details={"missing": sorted(wanted - given), "unknown": sorted(given - wanted)},
        )
    _check_matrix(m, base, what)
    return replace(base, matrix=m[list(MATRIX_COLUMNS)].reset_index(drop=True))


def _tables(tables: PriorityTables | None) -> PriorityTables:
    return tables if tables is not None else load_priority_tables()


def _normalise(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.lower().str.replace("_", " ", regex=False)


def _points(values: pd.Series, points: dict[str, int], field: str) -> pd.Series:
    """Points of a categorical answer; an answer outside the table is an InvalidInput naming rows."""
    norm = _normalise(values)
    unknown = norm.notna() & ~norm.isin(list(points))
    if unknown.any():
        rows = np.flatnonzero(unknown.to_numpy())
        raise InvalidInput(
            f"{field}: unknown value(s) {sorted(set(norm[unknown]))}; expected one of {list(points)}",
            details=[Problem(reason="unknown value", feature=int(i) + 1, field=field).as_dict() for i in rows],
        )
    return norm.map(points).astype("Int64")


def population_density(population: pd.Series, area_ha: pd.Series) -> pd.Series:
    """People per hectare; NaN where the area is zero or missing."""
    area = pd.to_numeric(area_ha, errors="coerce").astype(float)
    return (pd.to_numeric(population, errors="coerce") / area.where(area > 0)).rename("density")


def pertimbangan_lain(units: pd.DataFrame, tables: PriorityTables | None = None) -> pd.DataFrame:
    """PL from columns population, area_ha, mbr_share_pct, strategic_value and potential:
    each factor's class and points, their sum (pl_points) and the PL class (tinggi/sedang/rendah)."""
    t = _tables(tables)
    need = {"population", "area_ha", "mbr_share_pct", "strategic_value", "potential"}
    missing = sorted(need - set(units.columns))
    if missing:
        raise InvalidInput(f"pertimbangan lain needs columns: {', '.join(missing)}")
    out = pd.DataFrame(index=units.index)
    out["density"] = population_density(units["population"], units["area_ha"])
    out["density_class"] = classify(out["density"], t.density.bands)
    out["density_points"] = out["density_class"].map(t.density.points).astype("Int64")
    out["mbr_class"] = classify(units["mbr_share_pct"], t.mbr.bands)
    out["mbr_points"] = out["mbr_class"].map(t.mbr.points).astype("Int64")
    out["strategic_points"] = _points(units["strategic_value"], t.strategic_points, "strategic_value")
    out["potential_points"] = _points(units["potential"], t.potential_points, "potential")
    parts = ["density_points", "mbr_points", "strategic_points", "potential_points"]
    out["pl_points"] = out[parts].sum(axis=1, skipna=False).astype("Int64")
    out["pl"] = classify(out["pl_points"].astype("Float64"), t.pl_bands)
    return out


def legality(tenure_legal: pd.Series, spatial_plan_conform: pd.Series) -> pd.Series:
    """'legal' only when the land tenure is clear AND the use conforms to the spatial plan."""
    ten = tenure_legal.astype("boolean")
    rtr = spatial_plan_conform.astype("boolean")
    both = ten & rtr
    return both.map({True: "legal", False: "ilegal"}).astype("string").rename("legality")


def handling_pattern(levels: pd.Series, legality: pd.Series, tables: PriorityTables | None = None) -> pd.Series:
    """Pola penanganan: berat/sedang on legal land -> peremajaan, ringan on legal land -> pemugaran,
    any slum level on illegal land -> pemukiman kembali (rules from handling_patterns.json)."""
    t = _tables(tables)
    lv = pd.Series(levels).astype("string").to_numpy(dtype=object, na_value=None)
    lg = pd.Series(legality).astype("string").to_numpy(dtype=object, na_value=None)
    out = np.full(len(lv), None, dtype=object)
    for rule in reversed(t.handling_rules):  # earlier rules win
        hit = np.isin(lv, rule["levels"])
        if rule["legality"] != "any":
            hit &= lg == rule["legality"]
        out[hit] = rule["pattern"]
    return pd.Series(out, index=pd.Series(levels).index, name="handling").astype("string")


def kewenangan(area_ha: pd.Series, tables: PriorityTables | None = None) -> pd.Series:
    """Who must handle a slum area of this size: kabkota (< 10 ha), provinsi (10-15 ha), pusat (> 15 ha)."""
    return classify(area_ha, _tables(tables).kewenangan_bands).rename("kewenangan")


def prioritise(units: pd.DataFrame, tables: PriorityTables | None = None) -> pd.DataFrame:
    """Class, rank and handling of each unit from its `level`, `legality` ('legal'/'ilegal') and the
    pertimbangan-lain inputs (see `pertimbangan_lain`). Units at level TK get no class."""
    t = _tables(tables)
    if "level" not in units.columns or "legality" not in units.columns:
        raise InvalidInput("prioritise needs columns level and legality")
    legal = _normalise(units["legality"])
    bad = legal.notna() & ~legal.isin(LEGALITY_VALUES)
    if bad.any():
        raise InvalidInput(f"legality must be one of {LEGALITY_VALUES}; got {sorted(set(legal[bad]))}")
    out = pertimbangan_lain(units, t)
    out["level"] = units["level"].astype("string")
    out["legality"] = legal
    keys = out[["level", "pl", "legality"]].astype(object).where(out[["level", "pl", "legality"]].notna(), None)
    matrix = t.matrix[["level", "pl", "legality", "class", "rank", "rank9"]]
    found = keys.merge(matrix, how="left", on=["level", "pl", "legality"])
    out["class"] = found["class"].astype("string").to_numpy()
    out["rank"] = found["rank"].astype("Int64").to_numpy()
    out["rank9"] = found["rank9"].astype("Int64").to_numpy()
    out["handling"] = handling_pattern(out["level"], out["legality"], t)
    out["kewenangan"] = kewenangan(units["area_ha"], t)
    out["basis"] = _basis(out)
    return out


def _basis(out: pd.DataFrame) -> pd.Series:
    """Readable reason for each class, built column-wise (no loop over rows)."""

    def txt(col: str) -> pd.Series:
        return out[col].astype("string").fillna("?")

    density = out["density"].round(0).astype("Int64").astype("string").fillna("?")
    factors = (
        "kepadatan "
        + txt("density_class")
        + " ("
        + density
        + " jiwa/ha) "
        + txt("density_points")
        + ", MBR "
        + txt("mbr_class")
        + " "
        + txt("mbr_points")
        + ", nilai strategis "
        + txt("strategic_points")
        + ", potensi "
        + txt("potential_points")
    )
    return (
        txt("level")
        + "; PL "
        + txt("pl")
        + " ("
        + txt("pl_points")
        + " poin: "
        + factors
        + "); lahan "
        + txt("legality")
        + " -> "
        + out["class"].astype("string").fillna("tanpa kelas")
    ).rename("basis")
