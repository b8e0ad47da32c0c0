"""Zonal statistics of rasters over slum areas (rasterio), stored per slum area.

- population: people in each slum area from a population raster (a count per pixel, or a density per ha or
  km2), used for the population density of pertimbangan lain;
- flood: the share of each slum area where a hazard raster's depth is at or above a threshold.

Rasters may be in any CRS (UTM, DGN95 TM-3, geographic...): the slum areas (EPSG:4326) are transformed to the
raster's CRS, never the raster. Pixels are weighted by the share of their area inside the polygon, estimated by
rasterising the polygon on a finer grid (SUPERSAMPLE x SUPERSAMPLE subpixels), so that RT-sized areas smaller
than a pixel still get their part. Negative values and nodata are not data (population rasters made by
interpolation carry negative artefacts). `valid_share` says how much of each area the raster covered with data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import rasterio
import rasterio.features
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.errors import RasterioIOError

from geo.errors import InvalidInput, UnsupportedFormat
from geo.measure import geodesic_area_ha
from geo.problems import Problem
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.imports.report import ImportReport
from layers.scoring.scores import arrays
from layers.scoring.status import refresh_status
from layers.values.progress import Progress, no_progress

SUPERSAMPLE = 8
MAX_SUBPIXELS = 16_000_000  # per area; a larger window is sampled more coarsely
VALUE_KINDS = {"count": None, "per_ha": 1e4, "per_km2": 1e6}  # m2 per density unit
PARTIAL_COVERAGE = 0.99


@dataclass(frozen=True)
class ZonalResult:
    """Per polygon: sum of values weighted by the covered share of each pixel (people in a count raster), the
    same weighted by pixel area in m2 (people in a density-per-m2 raster), area with data, area at or above the
    threshold, polygon area in the raster's frame (m2) and the number of negative pixels ignored."""
    total: np.ndarray
    total_m2: np.ndarray
    valid_m2: np.ndarray
    above_m2: np.ndarray
    area_m2: np.ndarray
    negatives: int


def open_raster(path: str | Path) -> rasterio.DatasetReader:
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"raster file {path} does not exist")
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise UnsupportedFormat(f"{path.name} is not a raster GDAL can read: {exc}") from None


def _raster_crs(src: rasterio.DatasetReader, override: str | None) -> CRS:
    if override:
        return CRS.from_user_input(override)
    if src.crs is None:
        raise InvalidInput(f"{Path(src.name).name} has no CRS: name it with --crs (e.g. EPSG:32748)")
    return CRS.from_wkt(src.crs.to_wkt())


def _pixel_areas(transform: Affine, crs: CRS, rows: np.ndarray, width: int) -> np.ndarray:
    """Area in m2 of one pixel in each of `rows` (geodesic per row for geographic rasters)."""
    if crs.is_geographic:
        x0 = transform.c
        tops = transform.f + rows * transform.e
        boxes = shapely.box(x0, tops + transform.e, x0 + transform.a, tops)
        return geodesic_area_ha(boxes) * 1e4
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return np.full(len(rows), abs(transform.a * transform.e) * factor * factor)


def zonal(
    src: rasterio.DatasetReader,
    polygons: np.ndarray,
    *,
    crs: CRS,
    threshold: float | None = None,
    band: int = 1,
) -> ZonalResult:
    """Coverage-weighted statistics of `polygons` (shapely, in `crs`) over band `band` of `src`."""
    t = src.transform
    if t.b != 0 or t.d != 0:
        raise InvalidInput(f"{Path(src.name).name} is rotated; only north-up rasters are supported")
    n = len(polygons)
    total, total_m2, valid, above, area = (np.zeros(n) for _ in range(5))
    negatives = 0
    inverse = ~t
    for i, geom in enumerate(polygons):  # one window per polygon (the raster work itself is vectorised)
        if geom is None or shapely.is_empty(geom):
            area[i] = np.nan
            continue
        minx, miny, maxx, maxy = shapely.bounds(geom)
        cols, rows = zip(*(inverse @ (x, y) for x, y in ((minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy))),
                         strict=True)
        c0, c1 = int(np.floor(min(cols))), int(np.ceil(max(cols)))
        r0, r1 = int(np.floor(min(rows))), int(np.ceil(max(rows)))
        h, w = max(r1 - r0, 1), max(c1 - c0, 1)
        s = SUPERSAMPLE
        while s > 1 and h * w * s * s > MAX_SUBPIXELS:
            s //= 2
        window_transform = t @ Affine.translation(c0, r0)
        fine = rasterio.features.rasterize([(geom, 1)], out_shape=(h * s, w * s), fill=0, dtype="uint8",
                                           transform=window_transform @ Affine.scale(1 / s))
        cover = fine.reshape(h, s, w, s).mean(axis=(1, 3))
        pixel_m2 = _pixel_areas(t, crs, np.arange(r0, r0 + h), w)[:, None]
        weight = cover * pixel_m2
        area[i] = weight.sum()
        # read the part of the window inside the raster; outside is no data
        rr0, rr1 = max(r0, 0), min(r0 + h, src.height)
        cc0, cc1 = max(c0, 0), min(c0 + w, src.width)
        if rr0 >= rr1 or cc0 >= cc1:
            continue
        data = src.read(band, window=((rr0, rr1), (cc0, cc1)), masked=True)
        values = np.ma.filled(data.astype(float), np.nan)
        neg = values < 0
        negatives += int(neg.sum())
        values[neg] = np.nan
        part = weight[rr0 - r0:rr1 - r0, cc0 - c0:cc1 - c0]
        share = cover[rr0 - r0:rr1 - r0, cc0 - c0:cc1 - c0]
        ok = ~np.isnan(values)
        total[i] = float((values[ok] * share[ok]).sum())
        total_m2[i] = float((values[ok] * part[ok]).sum())
        valid[i] = float(part[ok].sum())
        if threshold is not None:
            above[i] = float(part[ok & (values >= threshold)].sum())
    return ZonalResult(total, total_m2, valid, above, area, negatives)


def _transform_polygons(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    if crs.equals(CRS.from_epsg(4326)):
        return geoms
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _slum_areas(conn: psycopg.Connection, tenant: str) -> pd.DataFrame:
    rows = conn.execute(
        "SELECT id, kawasan, unit_label, ST_AsBinary(geom) FROM slum_areas WHERE tenant = %s ORDER BY id", [tenant]
    ).fetchall()
    frame = pd.DataFrame(rows, columns=["id", "kawasan", "unit_label", "wkb"])
    frame["geom"] = shapely.from_wkb(frame["wkb"].map(bytes).to_numpy()) if len(frame) else []
    return frame


def raster_stats(
    conn: psycopg.Connection,
    path: str | Path,
    *,
    tenant: str,
    kind: str,
    values: str = "count",
    depth: float = 0.5,
    crs: str | None = None,
    band: int = 1,
    progress: Progress = no_progress,
    principal: Principal | None = None,
) -> ImportReport:
    """Compute `kind` ('population' or 'flood') for every slum area of `tenant` and store it (replacing the
    tenant's previous figures of that kind), then refresh the status cache. All in one transaction."""
    from layers.values.codes import tenant_code

    tenant = tenant_code(tenant)
    if kind not in ("population", "flood"):
        raise InvalidInput(f"raster kind must be population or flood, not {kind!r}")
    if values not in VALUE_KINDS:
        raise InvalidInput(f"--values must be one of {list(VALUE_KINDS)}, not {values!r}")
    report = ImportReport(kind=f"raster-{kind}", file=str(path))
    with open_raster(path) as src:
        raster_crs = _raster_crs(src, crs)
        report.driver, report.source_crs = src.driver, raster_crs.to_string()
        if band < 1 or band > src.count:
            raise InvalidInput(f"{Path(path).name} has {src.count} band(s); band {band} does not exist")
        areas = _slum_areas(conn, tenant)
        report.features_read = len(areas)
        if areas.empty:
            raise InvalidInput(f"tenant {tenant} has no slum areas: import them first ('kotaku import slum-areas')")
        progress("statistik zonal", 0, len(areas))
        result = zonal(src, _transform_polygons(areas["geom"].to_numpy(), raster_crs), crs=raster_crs,
                       threshold=depth if kind == "flood" else None, band=band)
        nodata = src.nodata
    with np.errstate(invalid="ignore", divide="ignore"):
        valid_share = np.clip(result.valid_m2 / result.area_m2, 0, 1)
        if kind == "population":
            per_m2 = VALUE_KINDS[values]
            value = result.total if per_m2 is None else result.total_m2 / per_m2
            value = np.where(result.valid_m2 > 0, value, np.nan)
        else:
            value = np.where(result.area_m2 > 0, result.above_m2 / result.area_m2, np.nan)
            value = np.where(result.valid_m2 > 0, value, np.nan)
    names = (areas["kawasan"].fillna("") + " " + areas["unit_label"].fillna("")).str.strip()
    for i in np.flatnonzero(valid_share < PARTIAL_COVERAGE):
        what = "lies outside the raster or over no data" if valid_share[i] == 0 else (
            f"only {valid_share[i]:.0%} covered by data")
        report.warnings.append(Problem(f"slum area {areas['id'].iloc[i]} ({names.iloc[i]}) {what}",
                                       feature=int(i) + 1, severity="warning"))
    if result.negatives:
        report.warnings.append(Problem(f"{result.negatives} negative pixel(s) inside slum areas treated as no data",
                                       severity="warning"))
    params = {"values": values, "band": band, "nodata": nodata}
    if kind == "flood":
        params["depth_m"] = depth
    frame = pd.DataFrame({"id": areas["id"], "value": value, "valid": valid_share})
    with conn.transaction():
        conn.execute("DELETE FROM slum_area_raster_stats WHERE tenant = %s AND kind = %s", [tenant, kind])
        conn.execute(
            """
            INSERT INTO slum_area_raster_stats (slum_area_id, kind, tenant, value, valid_share, params, source_file,
                raster_crs)
            SELECT a, %(k)s, %(t)s, v, s, %(p)s, %(f)s, %(c)s
            FROM unnest(%(a)s::bigint[], %(v)s::float8[], %(s)s::float8[]) AS x(a, v, s)
            """,
            {"k": kind, "t": tenant, "p": json.dumps(params), "f": Path(path).name, "c": raster_crs.to_string(),
             **arrays(frame, {"a": "id", "v": "value", "s": "valid"})},
        )
        report.features_written = len(frame)
        refresh_status(conn, tenant)
        audit.record(conn, principal or cli_principal(), f"raster_{kind}.compute", "tenant", tenant, None,
                     {"file": audit.file_fingerprint(path), "params": params}, tenant=tenant)
    progress("selesai", len(areas), len(areas))
    covered = value[~np.isnan(value)]
    report.summary.update({"tenant": tenant, "kind": kind, "raster_crs": raster_crs.to_string(),
                           "areas_with_data": int(len(covered))})
    if kind == "population":
        report.summary["population_total"] = round(float(covered.sum()), 1)
    else:
        report.summary["depth_m"] = depth
        area_ha = result.area_m2 / 1e4
        ok = ~np.isnan(value)
        report.summary["flooded_ha"] = round(float((value[ok] * area_ha[ok]).sum()), 3)
        report.summary["areas_flooded_over_half"] = int((covered >= 0.5).sum())
    return report.finish()
