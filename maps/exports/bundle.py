"""The export bundle: the keterpaduan figures of one tenant as GeoDataFrames (EPSG:4326), ready for any writer.

Layers (full field names; the Shapefile writer shortens them through the codebook):
- `kawasan_kumuh`: slum areas with their scores, projected level and keterpaduan columns;
- `kegiatan_titik`, `kegiatan_garis`, `kegiatan_poligon`: live activities split by geometry dimension (a
  Shapefile holds one geometry type), never with personal data;
- `ringkasan_kelurahan`, `ringkasan_kecamatan`, `ringkasan_kabkota`: the roll-ups on the region polygons;
- `memorandum`: programme x location x year x funding source x volume x cost (no geometry).
Per-programme counts and per-funding-source money are columns (`program_<CODE>`; `proposed_<CODE>`,
`budgeted_<CODE>`, `realised_<CODE>`: the three states apart) so a GIS can
style or chart them; list columns (criteria) become comma-separated text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from indicators.schemes import available_schemes, load_scheme
from layers.keterpaduan.summary import MONEY_STATES, NO_FUNDING, NO_PROGRAM
from maps.exports.codebook import Field, funding_field, level_field, program_field

CRS = "EPSG:4326"
ACTIVITY_LAYERS = {0: "kegiatan_titik", 1: "kegiatan_garis", 2: "kegiatan_poligon"}
ACTIVITY_GEOMETRY_TYPES = {"kegiatan_titik": "Point", "kegiatan_garis": "MultiLineString",
                           "kegiatan_poligon": "MultiPolygon"}
SUMMARY_LAYERS = {"kelurahan": "ringkasan_kelurahan", "kecamatan": "ringkasan_kecamatan",
                  "kabkota": "ringkasan_kabkota"}
REGION_LEVELS = {"kelurahan": "desa_kelurahan", "kecamatan": "kecamatan", "kabkota": "kabkota"}
BOUNDARY_NOTICE = ("Batas wilayah: cahyadsn/wilayah_boundaries, MIT License, Copyright (c) 2024 Cahya DSN "
                   "(disederhanakan)")
# the boundary files shipped with the demos (data/demo/boundaries, data/demo/jakarta_pusat): cahyadsn, MIT
DEMO_BOUNDARY_FILES = ("kota_medan_kab_kota.geojson", "kota_medan_kecamatan.geojson", "kota_medan_desa_kel.geojson",
                       "kota_jakarta_pusat_kab_kota.geojson", "kota_jakarta_pusat_kecamatan.geojson",
                       "kota_jakarta_pusat_desa_kel.geojson")

SLUM_AREA_FIELDS = (
    "slum_area_id", "kawasan", "unit_label", "decree", "kelurahan_code", "kelurahan", "kecamatan_code", "kecamatan",
    "area_ha", "level", "level_name", "total_score", "scheme", "round", "score_source", "projected_level",
    "projected_total", "activities", "activities_completed", "program_count", "funding_count", "proposed_cost",
    "budgeted", "realised", "criteria_addressed", "criteria_remaining", "criteria_gap", "collaborations",
    "volumes_not_counted",
    "year_first", "year_last", "synthetic",
)
ASSET_FIELDS = (
    "asset_id", "activity_id", "title", "kind", "program", "funding_source", "volume", "unit", "recipient",
    "handover_date", "handover_number", "value", "condition", "service_life_years", "life_ends_year",
    "remaining_life_years", "last_inspected_on", "due_for_inspection",
)
SUMMARY_FIELDS = (
    "code", "name", "slum_areas", "slum_area_ha", "slum_ha", "projected_slum_ha", "leaving_slum_ha", "activities",
    "activities_in_slum_areas", "activities_completed", "program_count", "funding_count", "proposed_cost",
    "budgeted", "realised", "proposed_cost_in_slum_areas", "budgeted_in_slum_areas", "realised_in_slum_areas",
    "collaborations",
)


@dataclass
class Bundle:
    tenant: str
    tenant_name: str | None
    decree: str | None
    public_only: bool
    generated_at: datetime
    layers: dict[str, gpd.GeoDataFrame]  # geometry layers, in writing order
    memorandum: pd.DataFrame
    regions: gpd.GeoDataFrame  # kab/kota, kecamatan and kelurahan polygons (code, name, level): the map's base
    summary: dict[str, Any]  # the JSON of GET /tenants/{tenant}/keterpaduan
    extra_fields: dict[str, Field]  # dynamic columns (levels, programmes, funding sources) -> codebook entries
    programs: dict[str, str]
    funding_sources: dict[str, str]
    sources: list[str] = field(default_factory=list)  # attribution lines
    synthetic: bool = False
    assets: gpd.GeoDataFrame | None = None  # the asset register (layer `aset`: GeoPackage only so far)

    def activities(self) -> gpd.GeoDataFrame:
        """Every activity layer in one frame (mixed geometry types)."""
        parts = [self.layers[n] for n in ACTIVITY_LAYERS.values() if len(self.layers[n])]
        if not parts:
            return self.layers["kegiatan_titik"].iloc[0:0]
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=CRS)

    def feature_counts(self) -> dict[str, int]:
        return {**{name: len(layer) for name, layer in self.layers.items()}, "memorandum": len(self.memorandum)}


def _levels() -> list[tuple[str, str]]:
    """(code, name) of every level of every scheme, most severe first."""
    seen: dict[str, tuple[int, str]] = {}
    for scheme_name in available_schemes():
        scheme = load_scheme(scheme_name)
        for lv in scheme.levels:
            seen.setdefault(lv.code, (lv.min_total, scheme.level_name(lv.code)))
    return [(code, name) for code, (_, name) in sorted(seen.items(), key=lambda kv: -kv[1][0])]


def _geoms(wkb: pd.Series) -> gpd.GeoSeries:
    values = [None if v is None else bytes(v) for v in wkb]
    return gpd.GeoSeries(shapely.from_wkb(values), index=wkb.index, crs=CRS)


def _text_list(values: pd.Series) -> pd.Series:
    return values.apply(lambda v: ", ".join(v) if isinstance(v, list | tuple) else (v or ""))


def _wide(frame: pd.DataFrame, column: str, prefix: str, codes: list[str], fill: float | int) -> pd.DataFrame:
    """A dict column {code: value} -> one column per code (every reference code, so columns are stable)."""
    dicts = frame[column].apply(lambda d: d if isinstance(d, dict) else {})
    return pd.DataFrame({f"{prefix}{c}": dicts.apply(lambda d, c=c: d.get(c, fill)) for c in codes},
                        index=frame.index)


def _source_count(frame: pd.DataFrame) -> pd.Series:
    """How many funding sources a row has money from, in any of the three states."""
    def count(row: pd.Series) -> int:
        return len(set().union(*(d.keys() for d in row if isinstance(d, dict))))
    return frame[[f"{state}_by_source" for state in MONEY_STATES]].apply(count, axis=1)


def build_bundle(result: dict[str, Any], summary_json: dict[str, Any], *, public_only: bool) -> Bundle:
    """A Bundle from `layers.keterpaduan.summary.export_op` (and its `as_json`)."""
    program_codes = [*result["programs"], NO_PROGRAM]
    funding_codes = [*result["funding_sources"], NO_FUNDING]
    extra: dict[str, Field] = {}
    levels = _levels()
    for code, name in levels:
        for projected in (False, True):
            f = level_field(code, name, projected)
            extra[f.name] = f
    for i, code in enumerate(program_codes, 1):
        f = program_field(i, code, result["programs"].get(code, "tanpa program"))
        extra[f.name] = f
    for state in MONEY_STATES:
        for i, code in enumerate(funding_codes, 1):
            f = funding_field(i, code, result["funding_sources"].get(code, "tanpa sumber dana"), state)
            extra[f.name] = f
    program_cols = [f"program_{c}" for c in program_codes]
    funding_cols = [f"{state}_{c}" for state in MONEY_STATES for c in funding_codes]

    # slum areas
    sa = result["slum_areas"].copy()
    geoms = result["slum_area_geoms"].set_index("slum_area_id")
    sa["synthetic"] = sa["slum_area_id"].map(geoms["synthetic"]).fillna(False).astype(bool)
    names = dict(levels)
    sa["level_name"] = sa["level"].map(names)
    sa["program_count"] = sa["programs"].apply(lambda d: len(d) if isinstance(d, dict) else 0)
    sa["funding_count"] = _source_count(sa)
    for col in ("criteria_addressed", "criteria_remaining", "criteria_gap"):
        sa[col] = _text_list(sa[col])
    wide = pd.concat([_wide(sa, "programs", "program_", program_codes, 0),
                      *(_wide(sa, f"{state}_by_source", f"{state}_", funding_codes, 0.0) for state in MONEY_STATES)],
                     axis=1)
    sa = pd.concat([sa.reindex(columns=list(SLUM_AREA_FIELDS)), wide], axis=1)
    slum_areas = gpd.GeoDataFrame(sa, geometry=_geoms(result["slum_area_geoms"].set_index("slum_area_id")["wkb"]
                                                      .reindex(sa["slum_area_id"]).reset_index(drop=True)),
                                  crs=CRS)

    # activities, one layer per geometry dimension
    act = result["activities"].copy()
    act_geoms = _geoms(act["wkb"])
    act = gpd.GeoDataFrame(act.drop(columns=["wkb"]), geometry=act_geoms, crs=CRS)
    dims = shapely.get_dimensions(act.geometry.values) if len(act) else []
    layers: dict[str, gpd.GeoDataFrame] = {"kawasan_kumuh": slum_areas}
    for dim, name in ACTIVITY_LAYERS.items():
        part = act[pd.Series(dims, index=act.index, dtype="float") == dim].copy() if len(act) else act.copy()
        if dim > 0 and len(part):
            part = part.set_geometry(shapely.force_2d(_multi(part.geometry.values)), crs=CRS)
        layers[name] = part.reset_index(drop=True)

    # roll-ups on region polygons
    regions = result["regions"]
    region_geoms = result["regions_geoms"]
    for scope, name in SUMMARY_LAYERS.items():
        rows = regions[regions["scope"] == scope].copy() if len(regions) else pd.DataFrame(columns=["code"])
        rows["program_count"] = rows["programs"].apply(lambda d: len(d) if isinstance(d, dict) else 0) \
            if len(rows) else []
        rows["funding_count"] = _source_count(rows) if len(rows) else []
        level_cols = {}
        for code, _ in levels:
            level_cols[f"ha_{code}"] = rows["ha_by_level"].apply(
                lambda d, c=code: float(d.get(c, 0.0)) if isinstance(d, dict) else 0.0) if len(rows) else []
            level_cols[f"projected_ha_{code}"] = rows["projected_ha_by_level"].apply(
                lambda d, c=code: float(d.get(c, 0.0)) if isinstance(d, dict) else 0.0) if len(rows) else []
        wide = pd.concat([_wide(rows, "programs", "program_", program_codes, 0),
                          *(_wide(rows, f"{state}_by_source", f"{state}_", funding_codes, 0.0)
                            for state in MONEY_STATES)], axis=1) if len(rows) else \
            pd.DataFrame(columns=[*program_cols, *funding_cols])
        table = pd.concat([rows.reindex(columns=list(SUMMARY_FIELDS)), pd.DataFrame(level_cols, index=rows.index),
                           wide], axis=1).reset_index(drop=True)
        level_geoms = region_geoms[region_geoms["level"] == REGION_LEVELS[scope]].set_index("code")["wkb"]
        geometry = _geoms(table["code"].map(level_geoms).astype(object).where(lambda s: s.notna(), None))
        layers[name] = gpd.GeoDataFrame(table, geometry=geometry, crs=CRS)

    sources = _sources(region_geoms, slum_areas, act)
    return Bundle(
        tenant=result["tenant"],
        tenant_name=_tenant_name(region_geoms, result["tenant"]),
        decree=result["decree"],
        public_only=public_only,
        generated_at=datetime.now().astimezone(),
        layers=layers,
        memorandum=result["memorandum"].copy(),
        regions=gpd.GeoDataFrame(region_geoms[["code", "name", "level"]], geometry=_geoms(region_geoms["wkb"]),
                                 crs=CRS),
        summary=summary_json,
        extra_fields=extra,
        programs=result["programs"],
        funding_sources=result["funding_sources"],
        sources=sources,
        synthetic=bool(slum_areas["synthetic"].any()) or bool(act["synthetic"].any() if len(act) else False),
    )


def asset_layer(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """The `aset` layer from layers.planning.asset_cases.export_rows (public fields, geometry as WKB)."""
    frame = pd.DataFrame(rows, columns=list(ASSET_FIELDS) + ["wkb"])
    geometry = _geoms(frame["wkb"]) if len(frame) else gpd.GeoSeries([], crs=CRS)
    return gpd.GeoDataFrame(frame.drop(columns=["wkb"]), geometry=geometry, crs=CRS)


def _multi(values):
    """Lines and polygons as their Multi types (a layer holds one type)."""
    kinds = shapely.get_type_id(values)
    out = values.copy()
    single_line, single_poly = kinds == 1, kinds == 3
    out[single_line] = shapely.multilinestrings([[g] for g in values[single_line]]) if single_line.any() else []
    if single_poly.any():
        out[single_poly] = [shapely.MultiPolygon([g]) for g in values[single_poly]]
    return out


def _tenant_name(region_geoms: pd.DataFrame, tenant: str) -> str | None:
    row = region_geoms[region_geoms["code"] == tenant]
    return str(row["name"].iloc[0]) if len(row) else None


def _sources(region_geoms: pd.DataFrame, slum_areas: pd.DataFrame, activities: pd.DataFrame) -> list[str]:
    """Attribution lines: where the boundaries come from (the MIT notice for the shipped ones) and whether the
    slum areas, surveys and activities are synthetic."""
    lines = []
    files = sorted({str(s) for s in region_geoms["source"].dropna()}) if len(region_geoms) else []
    if any(f in DEMO_BOUNDARY_FILES for f in files):
        lines.append(BOUNDARY_NOTICE)
    others = [f for f in files if f not in DEMO_BOUNDARY_FILES]
    if others:
        lines.append("Batas wilayah: " + ", ".join(others))
    if len(slum_areas) and slum_areas["synthetic"].any() or len(activities) and activities["synthetic"].any():
        lines.append("Kawasan kumuh, survei dan kegiatan: data contoh SINTETIS (bukan data nyata)")
    lines.append("Skor: Permen PUPR 14/2018 (7 aspek, 16 kriteria); dihitung kotaku-gis")
    return lines
