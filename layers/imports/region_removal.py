"""`kotaku regions remove|replace`: take back a wrongly loaded boundary, saying what goes and what depends on it.

Nothing here is lost for good: before anything is deleted, every region that goes (and, for replace, every region
of the scope as it was) is written to an undo file, a GeoPackage that `kotaku import regions FILE` (or
`kotaku regions replace FILE --within CODE`) loads back exactly (code, name, BPS code, geometry). Rows that use a
region's code (slum areas' kelurahan and their overlap shares, survey units' and activities' kelurahan) are
counted; when any exist the removal is refused unless forced. Forced, those rows are left as they are: they keep
the code (there is no foreign key), which points to no region until the boundary is loaded again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from geo.errors import Conflict, InvalidInput, KotakuError, NotFound
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.imports.report import ImportReport
from layers.values.codes import normalise_code

# (table, column, what a user calls it)
DEPENDENTS = (
    ("slum_areas", "kelurahan_code", "slum areas (their kelurahan)"),
    ("slum_area_regions", "region_code", "slum-area overlap shares"),
    ("survey_units", "kelurahan_code", "survey units (their kelurahan)"),
    ("activities", "kelurahan_code", "activities (their kelurahan)"),
)
SHOWN = 20


@dataclass
class Removal:
    codes: list[str] = field(default_factory=list)  # every region that goes (or went)
    by_level: dict[str, int] = field(default_factory=dict)
    dependents: dict[str, int] = field(default_factory=dict)  # what depends on them, rows per kind
    undo_file: str | None = None
    removed: bool = False
    import_report: ImportReport | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "removed": self.removed,
            "regions": len(self.codes),
            "by_level": self.by_level,
            "codes": self.codes[:SHOWN] + ([f"... {len(self.codes) - SHOWN} more"] if len(self.codes) > SHOWN else []),
            "dependents": self.dependents,
            "undo_file": self.undo_file,
            "undo": f"kotaku import regions {self.undo_file}" if self.undo_file else None,
            "import": self.import_report.as_dict() if self.import_report else None,
        }


def _codes(values: list[str]) -> list[str]:
    codes = []
    for value in values:
        code = normalise_code(value)
        if code is None:
            raise InvalidInput.of("region.code_invalid", value=value)
        codes.append(code)
    return codes


def _selected(conn: psycopg.Connection, codes: list[str], children: bool) -> list[tuple[str, str]]:
    """(code, level) of the regions named and, with children, every region below them."""
    below = [c + ".%" for c in codes] if children else []
    return conn.execute(
        sql.SQL("SELECT code, level FROM regions WHERE code = ANY(%s) OR code LIKE ANY(%s) ORDER BY code"),
        [codes, below],
    ).fetchall()


def dependents(conn: psycopg.Connection, codes: list[str]) -> dict[str, int]:
    """Rows per kind that use one of the codes (only kinds with rows)."""
    found = {}
    for table, column, label in DEPENDENTS:
        exists = conn.execute(sql.SQL("SELECT to_regclass(%s) IS NOT NULL"), [table]).fetchone()
        if not exists or not exists[0]:
            continue
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE {} = ANY(%s)").format(sql.Identifier(table), sql.Identifier(column)),
            [codes],
        ).fetchone()
        if row and row[0]:
            found[label] = int(row[0])
    return found


def write_undo_file(conn: psycopg.Connection, codes: list[str], path: Path) -> None:
    """The regions as they are, as a GeoPackage `kotaku import regions` reads back (kode, nama, kode_bps)."""
    import geopandas as gpd
    import pyogrio
    import shapely

    rows = conn.execute(
        sql.SQL("SELECT code, name, bps_code, ST_AsBinary(geom) FROM regions WHERE code = ANY(%s) ORDER BY code"),
        [codes],
    ).fetchall()
    frame = gpd.GeoDataFrame(
        {"kode": [r[0] for r in rows], "nama": [r[1] for r in rows], "kode_bps": [r[2] for r in rows]},
        geometry=shapely.from_wkb([bytes(r[3]) for r in rows]), crs="EPSG:4326",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.partial{path.suffix or '.gpkg'}")
    pyogrio.write_dataframe(frame, partial, layer="regions", driver="GPKG", promote_to_multi=True)
    partial.replace(path)


def _conflict(scope: str | None, removal: Removal) -> KotakuError:
    """Removing (scope None) or replacing `scope` would take regions other rows use (message: id and en)."""
    uses = {table: removal.dependents.get(label, 0) for table, _, label in DEPENDENTS}
    return Conflict.of("regions.in_use_remove" if scope is None else "regions.in_use_replace",
                       details=removal.as_dict(), scope=scope, count=len(removal.codes), **uses)


def remove_regions(
    conn: psycopg.Connection,
    codes: list[str],
    *,
    undo_file: Path,
    children: bool = True,
    force: bool = False,
    dry_run: bool = False,
    principal: Principal | None = None,
) -> Removal:
    """Delete the regions (and, with children, everything below them); the undo file first. See the module doc."""
    selected = _selected(conn, _codes(codes), children)
    if not selected:
        raise NotFound.of("regions.not_loaded", codes=", ".join(codes))
    removal = Removal(codes=[c for c, _ in selected])
    for _, level in selected:
        removal.by_level[level] = removal.by_level.get(level, 0) + 1
    removal.dependents = dependents(conn, removal.codes)
    if dry_run:
        return removal
    if removal.dependents and not force:
        raise _conflict(None, removal)
    write_undo_file(conn, removal.codes, undo_file)
    removal.undo_file = str(undo_file)
    with conn.transaction():
        conn.execute(sql.SQL("DELETE FROM regions WHERE code = ANY(%s)"), [removal.codes])
        audit.record(conn, principal or cli_principal(), "regions.remove", "regions", ",".join(codes)[:200],
                     {"codes": removal.codes[:1000], "dependents": removal.dependents},
                     {"undo_file": removal.undo_file, "forced": force})
    removal.removed = True
    return removal


def replace_regions(
    conn: psycopg.Connection,
    path: str | Path,
    *,
    within: str,
    undo_file: Path,
    force: bool = False,
    layer: str | None = None,
    field_map: str | None = None,
    principal: Principal | None = None,
    **import_options: Any,
) -> Removal:
    """Load FILE as the boundaries of `within` (a region code): every region below `within` that the file lacks is
    removed, the file's regions are written, in one transaction. The file's regions must all lie in `within`.
    The undo file holds every region of `within` as it was."""
    from layers.imports.regions import import_regions

    scope = _codes([within])[0]
    before = [c for c, _ in _selected(conn, [scope], children=True)]
    if before:
        write_undo_file(conn, before, undo_file)
    removal = Removal(undo_file=str(undo_file) if before else None)
    with conn.transaction():
        file_codes: list[str] = []
        report = import_regions(conn, path, layer=layer, field_map=field_map, principal=principal,
                                written_codes=file_codes, **import_options)
        removal.import_report = report
        outside = [c for c in file_codes if c != scope and not c.startswith(scope + ".")]
        if outside:
            raise InvalidInput.of("regions.outside_scope", file=Path(path).name, count=len(outside), scope=scope,
                                  examples=", ".join(outside[:5]))
        written = set(file_codes)
        stale = [c for c in before if c not in written]
        removal.codes = stale
        removal.dependents = dependents(conn, stale) if stale else {}
        if removal.dependents and not force:
            raise _conflict(scope, removal)
        if stale:
            conn.execute(sql.SQL("DELETE FROM regions WHERE code = ANY(%s)"), [stale])
        audit.record(conn, principal or cli_principal(), "regions.replace", "regions", scope,
                     {"codes": stale[:1000], "dependents": removal.dependents},
                     {"file": str(path), "written": report.features_written, "undo_file": removal.undo_file})
    removal.removed = True
    for code in stale:
        level = {0: "provinsi", 1: "kabkota", 2: "kecamatan", 3: "desa_kelurahan"}[code.count(".")]
        removal.by_level[level] = removal.by_level.get(level, 0) + 1
    return removal

