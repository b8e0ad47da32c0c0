"""The catalogue (programmes, funding sources, activity kinds) for clients: JSON lists and non-spatial OGC API
collections (items without geometry), and the codes as JSON Schema `enum`s of the activities' queryables, so a
client (QGIS, a phone app) fills a valid form without reading the source."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from geo.errors import NotFound


@dataclass(frozen=True)
class CatalogueTable:
    id: str  # the collection id (URL)
    table: str
    title: str
    description: str


CATALOGUES: dict[str, CatalogueTable] = {c.id: c for c in (
    CatalogueTable("programs", "programs", "Program", "Program (NSUP, NUSP-2, PISEW, ...): kode dan nama"),
    CatalogueTable("funding-sources", "funding_sources", "Sumber dana",
                   "Sumber pendanaan (APBN, APBD, Dana Desa, CSR, swadaya, ...): kode, nama, kategori"),
    CatalogueTable("activity-kinds", "activity_kinds", "Jenis kegiatan (kamus usulan)",
                   "Jenis kegiatan: kriteria yang ditangani, satuan, harga satuan, tipe geometri, toleransi "
                   "tumpang tindih, umur layanan"),
)}
# activities property -> the catalogue whose codes it takes
ACTIVITY_ENUMS = {"kind": "activity_kinds", "program": "programs", "funding_source": "funding_sources"}


def get_catalogue(catalogue_id: str) -> CatalogueTable:
    try:
        return CATALOGUES[catalogue_id]
    except KeyError:
        raise NotFound(f"catalogue '{catalogue_id}' does not exist; catalogues: {', '.join(CATALOGUES)}") from None


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


async def catalogue_rows(aconn: psycopg.AsyncConnection, catalogue: CatalogueTable) -> list[dict[str, Any]]:
    """Every row of a reference table, ordered by code, as plain JSON values (every column it has)."""
    async with aconn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql.SQL("SELECT * FROM {} ORDER BY code").format(sql.Identifier(catalogue.table)))
        return [{k: _plain(v) for k, v in row.items()} for row in await cur.fetchall()]


async def code_enums(aconn: psycopg.AsyncConnection) -> dict[str, list[str]]:
    """activities property -> the codes it may take."""
    enums = {}
    for prop, table in ACTIVITY_ENUMS.items():
        cur = await aconn.execute(sql.SQL("SELECT code FROM {} ORDER BY code").format(sql.Identifier(table)))
        enums[prop] = [row[0] for row in await cur.fetchall()]
    return enums


def collection_document(base: str, catalogue: CatalogueTable) -> dict[str, Any]:
    """An OGC API collection without geometry (itemType record-like features with geometry null)."""
    href = f"{base}/collections/{catalogue.id}"
    return {
        "id": catalogue.id,
        "title": catalogue.title,
        "description": catalogue.description,
        "itemType": "feature",
        "links": [
            {"rel": "self", "type": "application/json", "title": catalogue.title, "href": href},
            {"rel": "items", "type": "application/geo+json", "title": "Items", "href": f"{href}/items"},
            {"rel": "alternate", "type": "application/json", "title": "Daftar JSON",
             "href": f"{base}/catalogue/{catalogue.id}"},
        ],
    }


def items_document(base: str, catalogue: CatalogueTable, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the rows, each with `geometry: null` and the code as its id."""
    href = f"{base}/collections/{catalogue.id}/items"
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "id": row["code"], "geometry": None, "properties": row} for row in rows],
        "numberMatched": len(rows),
        "numberReturned": len(rows),
        "links": [{"rel": "self", "type": "application/geo+json", "href": href}],
    }
