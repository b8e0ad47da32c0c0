"""The demo's basemap: Kota Jakarta Pusat (31.71), a second demo kab/kota with real OpenStreetMap roads and buildings.

No OpenStreetMap data of Medan is at hand with a licence we may ship, so `kotaku demo` adds Jakarta Pusat: its
boundaries (data/demo/jakarta_pusat, MIT, through the regions importer) and `jakarta_pusat_osm.gpkg` (roads and
buildings, ODbL: OSM-ATTRIBUTION.txt beside it) through `kotaku basemap import`'s own function. Kept apart from
`load_demo` (the Medan demo that the tests share): loading it twice replaces it; `if_empty` skips it when loaded.
"""

from __future__ import annotations

from typing import Any

import psycopg

from data import data_path
from layers.accounts.access import Principal
from layers.basemap.imports import import_basemap
from layers.imports.regions import import_regions
from layers.values.progress import Progress, no_progress

BASEMAP_TENANT = "31.71"
BASEMAP_DIR = data_path("demo") / "jakarta_pusat"
BOUNDARY_FILES = ("kota_jakarta_pusat_kab_kota.geojson", "kota_jakarta_pusat_kecamatan.geojson",
                  "kota_jakarta_pusat_desa_kel.geojson")
OSM_FILE = "jakarta_pusat_osm.gpkg"


def load_demo_basemap(conn: psycopg.Connection, *, if_empty: bool = False, progress: Progress = no_progress,
                      principal: Principal | None = None) -> dict[str, Any]:
    """Jakarta Pusat's boundaries and basemap, in one transaction; {"skipped", "tenant", "basemap": report}."""
    with conn.transaction():
        loaded = conn.execute("SELECT count(*) FROM basemap_features WHERE tenant = %s",
                              [BASEMAP_TENANT]).fetchone()
        if if_empty and loaded and loaded[0]:
            return {"skipped": True, "tenant": BASEMAP_TENANT, "basemap": None}
        for name in BOUNDARY_FILES:
            import_regions(conn, BASEMAP_DIR / name, progress=progress, principal=principal)
        progress("demo: peta dasar", 0, 1)
        report = import_basemap(conn, BASEMAP_DIR / OSM_FILE, tenant=BASEMAP_TENANT)
        progress("selesai", 1, 1)
    return {"skipped": False, "tenant": BASEMAP_TENANT, "basemap": report.as_dict()}
