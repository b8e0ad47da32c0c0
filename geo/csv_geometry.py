"""Geometry from a CSV table: a WKT column, or a longitude and a latitude column.

Read with pandas rather than GDAL's CSV driver so that a bad WKT string or coordinate is reported with its row
number. Every attribute stays text, as GDAL's CSV driver gives it, so codes such as `07` or `35.19.13.2012`
survive. Spreadsheets exported on Indonesian Windows are often `;`-separated with decimal commas and cp1252
text: all three are handled.
"""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InvalidInput
from geo.problems import Problem

WKT_NAMES = ("wkt", "wkt_geom", "geometry", "geom", "the_geom", "shape")
LON_NAMES = ("longitude", "lon", "lng", "long", "bujur", "x")
LAT_NAMES = ("latitude", "lat", "lintang", "y")
_DELIMITERS = (",", ";", "\t", "|")
_ENCODINGS = ("utf-8-sig", "cp1252")


def _decode(raw: bytes) -> str:
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def csv_text(path: Path) -> str:
    """The text of a CSV as spreadsheets save it: UTF-8 with or without a BOM, else cp1252 (Excel's "CSV" on
    Indonesian Windows), else latin-1. A 0-byte file is an error saying so."""
    raw = path.read_bytes()
    if not raw:
        raise InvalidInput.of("file.zero_bytes", file=path.name)
    return _decode(raw)


def _delimiter(header: str) -> str:
    """The delimiter used most in the header line (outside quotes)."""
    unquoted = "".join(part for i, part in enumerate(header.split('"')) if i % 2 == 0)
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.strip().lower(): c for c in reversed(columns)}
    return next((lowered[n] for n in names if n in lowered), None)


def _numbers(values: pd.Series) -> pd.Series:
    """Floats from text; a decimal comma ("120,25") is accepted."""
    text = values.astype(object).where(values.notna(), None).map(lambda v: v.strip() if isinstance(v, str) else v)
    number = pd.to_numeric(text, errors="coerce")
    retry = number.isna() & text.notna()
    if retry.any():
        number[retry] = pd.to_numeric(text[retry].str.replace(",", ".", regex=False), errors="coerce")
    return number.astype(float)


def _raise(problems: list[Problem], summary: str) -> None:
    if problems:
        first = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InvalidInput(f"{summary}: {first}{more}", details=[p.as_dict() for p in problems])


def _wkt_reason(text: str) -> str:
    reason = f"cannot read the WKT text {text[:60]!r}"
    if text.rstrip()[-1:] != ")" and not text.upper().startswith("POINT"):
        reason += f" (it looks cut off after {len(text)} characters)"
    return reason


def _from_wkt(frame: pd.DataFrame, column: str) -> np.ndarray:
    text = frame[column].astype(object).where(frame[column].notna(), None)
    text = text.map(lambda v: v.strip() if isinstance(v, str) else v).replace("", None)
    text = text.str.replace(r"^\s*SRID=\d+\s*;", "", regex=True)  # EWKT prefix
    geoms = shapely.from_wkt(text.to_numpy(dtype=object), on_invalid="fix")  # closes open rings
    bad = np.flatnonzero(text.notna().to_numpy() & shapely.is_missing(geoms))
    problems = [Problem(_wkt_reason(str(text.iloc[i])), feature=int(i) + 1, field=column) for i in bad]
    _raise(problems, "the CSV has WKT values that cannot be read")
    return geoms


def _from_lonlat(frame: pd.DataFrame, lon: str, lat: str) -> np.ndarray:
    x, y = _numbers(frame[lon]), _numbers(frame[lat])
    problems = []
    for column, raw, number in ((lon, frame[lon], x), (lat, frame[lat], y)):
        filled = raw.notna() & (raw.astype(object).astype(str).str.strip() != "")
        for i in np.flatnonzero(filled.to_numpy() & number.isna().to_numpy()):
            problems.append(Problem(f"{raw.iloc[i]!r} is not a number", feature=int(i) + 1, field=column))
    problems.sort(key=lambda p: (p.feature, p.field))
    _raise(problems, "the CSV has coordinates that are not numbers")
    geoms = shapely.points(x.to_numpy(), y.to_numpy())
    geoms[x.isna().to_numpy() | y.isna().to_numpy()] = None
    return geoms


def read_csv_geometry(path: Path) -> gpd.GeoDataFrame:
    """The CSV at `path` as a GeoDataFrame without a CRS (the caller declares it).

    The WKT column, when used, becomes the geometry and is dropped from the attributes; longitude/latitude
    columns stay as attributes.
    """
    text = csv_text(path)
    header = text.split("\n", 1)[0]
    try:
        frame = pd.read_csv(io.StringIO(text), sep=_delimiter(header), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"{path.name} cannot be read as CSV: {exc}") from exc
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    wkt = _find(columns, WKT_NAMES)
    lon, lat = _find(columns, LON_NAMES), _find(columns, LAT_NAMES)
    if wkt is not None:
        geoms = _from_wkt(frame, wkt)
        frame = frame.drop(columns=[wkt])
    elif lon is not None and lat is not None:
        geoms = _from_lonlat(frame, lon, lat)
    else:
        raise InvalidInput(
            f"{path.name} has no geometry column: expected a WKT column (WKT, geometry, geom, the_geom) or "
            "longitude and latitude columns (lon/lng/long/longitude/x/bujur and lat/latitude/y/lintang); "
            f"found {', '.join(columns) or 'no columns'}"
        )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=None)
