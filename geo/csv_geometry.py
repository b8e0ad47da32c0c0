"""Geometry from a CSV table: a WKT column, or a longitude and a latitude column.

Read with pandas rather than GDAL's CSV driver so that a bad WKT string or coordinate is reported with its row
number. Every attribute stays text, as GDAL's CSV driver gives it, so codes such as `07` or `35.19.13.2012`
survive. Spreadsheets exported on Indonesian Windows are often `;`-separated with decimal commas and cp1252
text: all three are handled.
"""

from __future__ import annotations

import csv
import io
import re
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
PAIR_WORDS = ("koordinat", "coordinates", "latlon", "latlong", "latlng")  # one column holding "lat, lon"
_COORDINATE = re.compile(r"-?\d+(?:[.,]\d+)?")


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


def _table(text: str, name: str) -> pd.DataFrame:
    """The CSV's rows under its header, every value text (blank -> NaN). Title rows above the header, as
    spreadsheets exported to CSV have them ("DATA KEGIATAN ..." in one cell), are skipped: the header is the
    first row with two or more filled cells. Blank rows after the table are dropped."""
    sample = text[:65536]
    unquoted = "".join(part for i, part in enumerate(sample.split('"')) if i % 2 == 0)
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    delimiter = max(counts, key=counts.__getitem__) if max(counts.values()) else ","
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise InvalidInput.of("csv.unreadable", file=name, reason=str(exc)) from exc
    filled = [sum(bool(cell.strip()) for cell in row) for row in rows]
    start = next((i for i, count in enumerate(filled) if count >= 2), 0)
    while len(rows) > start + 1 and filled[-1] == 0:
        rows.pop()
        filled.pop()
    if not rows:
        return pd.DataFrame()
    header = [cell.strip() or f"kolom_{i + 1}" for i, cell in enumerate(rows[start])]
    width = len(header)
    body = []
    for number, row in enumerate(rows[start + 1:], start=1):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise InvalidInput.of("csv.row_too_long", file=name, row=number, cells=len(row), columns=width)
        body.append((row + [""] * width)[:width])
    frame = pd.DataFrame(body, columns=_unique(header), dtype=object)
    return frame.replace("", np.nan).astype(object)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _from_pair(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Points from one column holding both coordinates as people paste them from a map app: "-5.039804,
    120.392811" (latitude first, as Google Maps copies them) or "120.39, -5.04"; in Indonesia the order is never
    ambiguous: latitude lies within +-11.5, longitude between 94 and 142."""
    geoms = np.full(len(frame), None, dtype=object)
    problems = []
    for i, value in enumerate(frame[column].tolist()):
        if not isinstance(value, str) or not value.strip():
            continue
        numbers = [float(n.replace(",", ".")) for n in _COORDINATE.findall(value)]
        if len(numbers) == 2 and abs(numbers[0]) <= 11.5 and 94 <= numbers[1] <= 142:
            geoms[i] = shapely.Point(numbers[1], numbers[0])
        elif len(numbers) == 2 and abs(numbers[1]) <= 11.5 and 94 <= numbers[0] <= 142:
            geoms[i] = shapely.Point(numbers[0], numbers[1])
        else:
            problems.append(Problem.of("csv.pair_unreadable", feature=i + 1, field=column, value=value.strip()))
    _raise(problems, "the CSV has coordinates that cannot be read")
    return geoms


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
    frame = _table(csv_text(path), path.name)
    columns = [str(c) for c in frame.columns]
    wkt = _find(columns, WKT_NAMES)
    lon, lat = _find(columns, LON_NAMES), _find(columns, LAT_NAMES)
    pair = next((c for c in columns if any(word in re.sub(r"[^a-z0-9]", "", c.lower()) for word in PAIR_WORDS)), None)
    if wkt is not None:
        geoms = _from_wkt(frame, wkt)
        frame = frame.drop(columns=[wkt])
    elif lon is not None and lat is not None:
        geoms = _from_lonlat(frame, lon, lat)
    elif pair is not None:
        geoms = _from_pair(frame, pair)
    else:
        raise InvalidInput(
            f"{path.name} has no geometry column: expected a WKT column (WKT, geometry, geom, the_geom) or "
            "longitude and latitude columns (lon/lng/long/longitude/x/bujur and lat/latitude/y/lintang); "
            f"found {', '.join(columns) or 'no columns'}"
        )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=None)
