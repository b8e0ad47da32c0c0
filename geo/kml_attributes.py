"""Attributes hidden in KML placemark descriptions.

ArcGIS "Layer To KML" (and several QGIS/Google Earth workflows) write no ExtendedData: each placemark's
`description` is an HTML page with a two-column table (field name, value), often nested inside an outer table
that carries the layer name. GDAL returns that HTML as one text field; here the key/value rows become columns.
Parsed with the standard library's `html.parser` (lxml, which pandas.read_html needs, is not a dependency).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import geopandas as gpd
import pandas as pd

# LIBKML's presentation fields: never data a user typed, dropped from imports.
STYLE_FIELDS = ("altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon")
# LIBKML's optional fields: kept only when some placemark fills them.
OPTIONAL_FIELDS = ("id", "timestamp", "begin", "end", "snippet")
_NULLS = ("", "<null>", "null", "none")


@dataclass
class _Row:
    depth: int
    cells: list[list[str]] = field(default_factory=list)


class _TableRows(HTMLParser):
    """Collects the text of every table row's cells; rows of nested tables are kept apart from their parents."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._open: list[_Row] = []
        self._depth = 0

    def _close_rows(self, depth: int) -> None:
        while self._open and self._open[-1].depth >= depth:
            row = self._open.pop()
            self.rows.append([" ".join("".join(c).split()) for c in row.cells])

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self._depth += 1
        elif tag == "tr":
            self._close_rows(self._depth)  # an unclosed <tr> ends where the next one starts
            self._open.append(_Row(self._depth))
        elif tag in ("td", "th") and self._open:
            self._open[-1].cells.append([])
        elif tag == "br" and self._open and self._open[-1].cells:
            self._open[-1].cells[-1].append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._close_rows(self._depth)
        elif tag == "table":
            self._close_rows(self._depth)
            self._depth = max(0, self._depth - 1)

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1].cells:
            self._open[-1].cells[-1].append(data)


def description_table(html: str) -> dict[str, str | None]:
    """Key/value pairs from the two-cell rows of the tables in `html` (first occurrence of a key wins).

    ArcGIS writes missing values as `<Null>`; those and empty cells become None.
    """
    parser = _TableRows()
    parser.feed(html)
    parser.close()
    parser._close_rows(0)
    pairs: dict[str, str | None] = {}
    for cells in parser.rows:
        if len(cells) == 2 and cells[0] and cells[0] not in pairs:
            pairs[cells[0]] = None if cells[1].lower() in _NULLS else cells[1]
    return pairs


def tidy_kml_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop LIBKML's presentation fields and add the description-table attributes as new columns."""
    drop = [c for c in frame.columns if c in STYLE_FIELDS]
    drop += [c for c in frame.columns if c in OPTIONAL_FIELDS and frame[c].isna().all()]
    frame = frame.drop(columns=drop)
    desc = next((c for c in frame.columns if str(c).lower() == "description"), None)
    if desc is None:
        return frame
    text = frame[desc].astype(object).where(frame[desc].notna(), "")
    has_table = text.str.contains("<td", case=False, regex=False)
    if not has_table.any():
        return frame
    tables = [description_table(t) if ok else {} for t, ok in zip(text, has_table, strict=True)]
    existing = {str(c).lower() for c in frame.columns}
    keys = list(dict.fromkeys(k for table in tables for k in table if k.lower() not in existing))
    extra = pd.DataFrame({k: [t.get(k) for t in tables] for k in keys}, index=frame.index, dtype=object)
    geometry = frame.geometry.name
    attributes = pd.concat([frame.drop(columns=[geometry]), extra], axis=1)
    return gpd.GeoDataFrame(attributes, geometry=frame[geometry], crs=frame.crs)
