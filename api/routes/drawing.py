"""Helpers of the proposal drawing on /peta/usulan (issue 13 item 3): snap a drawing to the basemap roads and live
activities (`POST /drawing/snap`, PostGIS: layers/planning/snap.py), and read a phone's GPX, KML/KMZ or GeoJSON
track as the geometry to draw with (`POST /drawing/track`, GDAL: geo/tracks.py). Neither stores anything.

Snapping reads public data (roads, activities), so anyone drawing may ask, like the overlap check (api/limits.py
PUBLIC_WRITES); reading a file needs a user. Both answer a GeoJSON Feature in EPSG:4326; bad input is a 4xx in the
error shape, in the language of Accept-Language (data/messages/messages.csv `snap.*`, `track.*`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import shapely
from fastapi import APIRouter, Depends, File, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import current_principal
from api.body_checks import CheckedJSONRoute
from api.deps import connection
from api.models import error_responses
from geo.errors import InvalidInput, TooLarge
from geo.tracks import FORMATS, MAX_TRACK_BYTES, read_track
from geo.validate import geojson_problem
from layers.accounts.access import Principal
from layers.planning.snap import MAX_TOLERANCE_M, snap
from layers.serving.tiles import check_tenant

router = APIRouter(tags=["usulan"], route_class=CheckedJSONRoute)


class SnapRequest(BaseModel):
    geometry: dict[str, Any] = Field(..., description="titik, garis atau poligon (GeoJSON, EPSG:4326)")
    tolerance_m: float = Field(15, gt=0, le=MAX_TOLERANCE_M, description="jarak tempel terjauh (m)")
    tenant: str | None = Field(None, description="kab/kota yang jalannya dipakai (bawaan: semua)")


def _drawing(value: dict[str, Any]) -> shapely.Geometry:
    problem = geojson_problem(value)
    if problem:
        raise InvalidInput(problem, details=[{"field": "geometry", "reason": problem}])
    try:
        return shapely.from_geojson(json.dumps(value))
    except (shapely.errors.GEOSException, ValueError, TypeError) as error:
        raise InvalidInput(f"geometry is not valid GeoJSON: {error}",
                           details=[{"field": "geometry", "reason": str(error)}]) from None


@router.post("/drawing/snap", summary="Tempelkan gambar ke jalan dan kegiatan terdekat (tidak menyimpan)",
             responses=error_responses(400, 413, 503))
async def snap_drawing(body: SnapRequest, conn=Depends(connection)) -> dict:
    """The drawing with each vertex on the nearest road or live activity within `tolerance_m` (the courses of the
    roads followed between vertices); properties say how many vertices moved and onto what."""
    tenant = check_tenant(body.tenant)
    snapped = await snap(conn, _drawing(body.geometry), body.tolerance_m, tenant)
    return snapped.as_feature(body.tolerance_m)


@router.post("/drawing/track", summary="Baca jejak GPX, KML/KMZ atau GeoJSON sebagai gambar (tidak menyimpan)",
             responses=error_responses(400, 401, 413, 415, 503))
async def read_track_file(file: UploadFile = File(..., description=f"GPX, KML, KMZ atau GeoJSON, maks. "
                                                                   f"{MAX_TRACK_BYTES // 2**20} MB"),
                          principal: Principal = Depends(current_principal)) -> dict:
    name = Path((file.filename or "jejak").replace("\\", "/")).name or "jejak"
    if file.size is not None and file.size > MAX_TRACK_BYTES:
        raise TooLarge.of("track.too_large", file=name, size=f"{file.size / 2**20:.1f}",
                          limit=MAX_TRACK_BYTES // 2**20)
    content = await file.read(MAX_TRACK_BYTES + 1)
    suffix = Path(name).suffix.lower()
    return await run_in_threadpool(_read, name, content, suffix if suffix in FORMATS else ".bin")


def _read(name: str, content: bytes, suffix: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="kotaku-track-") as folder:
        path = Path(folder) / f"jejak{suffix}"
        path.write_bytes(content)
        return read_track(path, name).as_feature(name)
