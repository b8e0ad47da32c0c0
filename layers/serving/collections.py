"""The collections we serve: each a table, its joins and the SQL of each property, and their queryables.

A collection is a table (alias `t`), the joins its properties need, and the SQL of each property. The same
definitions feed GeoJSON items, queryables, MVT tiles and PNG choropleths (layers/serving/tiles.py), so a property means
the same thing everywhere. Personal fields (activities.proposer_name, proposer_phone) are never a property.

Items are built from these definitions in layers/serving/items.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from psycopg import sql
from psycopg.sql import Composable

from geo.errors import NotFound
from layers.accounts.access import Principal, row_filter

COORDINATE_DECIMALS = 7  # ~1 cm
LIVE_ACTIVITY = sql.SQL("a.status NOT IN ('ditolak', 'dibatalkan')")


@dataclass(frozen=True)
class Property:
    """One property: its SQL for GeoJSON items, its JSON Schema type, and whether tiles carry it."""

    name: str
    sql: sql.Composable
    type: str = "string"  # JSON Schema type: string, integer, number, boolean, array
    title: str = ""
    tile: bool = True  # an MVT attribute too (tiles carry scalars only)
    tile_sql: Composable | None = None  # the tile's scalar form when it differs (arrays joined with ',')
    join: str | None = None  # the join it needs (by name)
    filterable: bool = True  # a queryable: `?name=value` on items
    format: str | None = None  # JSON Schema format, e.g. "date"

    @property
    def tile_expression(self) -> Composable:
        return self.tile_sql or self.sql


@dataclass(frozen=True)
class Join:
    """SQL joined after `FROM table t`; may use {activities_filter} (the caller's row filter on activities `a`)."""

    name: str
    sql: sql.SQL  # a template: render_joins formats it


@dataclass(frozen=True)
class Temporal:
    """The time a feature covers, for `datetime`: integer years (activities) or dates."""

    start: sql.Composable
    end: sql.Composable
    unit: str = "date"  # "date" or "year"
    join: str | None = None
    title: str = ""


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    table: str
    key: sql.Composable  # the GeoJSON id; /items/{fid} matches its text
    tile_id: sql.Composable  # the integer feature id in MVT
    geometry_type: str  # JSON Schema / TileJSON geometry kind: polygon, line, point or geometry
    properties: tuple[Property, ...]
    joins: tuple[Join, ...] = ()
    order_by: sql.Composable = field(default_factory=lambda: sql.SQL("t.id"))
    access: str | None = None  # collection id whose row filter applies (default: this id)
    temporal: Temporal | None = None
    versions: tuple[str, ...] = ()  # layer_versions rows this collection's content depends on
    # importance for the per-tile feature cap (first kept)
    tile_order: sql.Composable = field(default_factory=lambda: sql.SQL("t.id"))
    tenant_column: sql.Composable = field(default_factory=lambda: sql.SQL("t.tenant"))
    # a subset of the table (per-geometry and per-level collections): ANDed to items, counts and tiles
    subset: sql.Composable | None = None

    @property
    def where(self) -> sql.Composable:
        return self.subset if self.subset is not None else sql.SQL("true")

    @property
    def access_id(self) -> str:
        return self.access or self.id

    def find_property(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)

    @property
    def tile_properties(self) -> tuple[Property, ...]:
        return tuple(p for p in self.properties if p.tile)

    def joins_for(self, names: set[str] | None = None) -> tuple[Join, ...]:
        """The joins needed for `names` (None: every join)."""
        if names is None:
            return self.joins
        return tuple(j for j in self.joins if j.name in names)

    def needed_joins(self, property_names: list[str], temporal: bool = False) -> set[str]:
        needed = {p.join for p in self.properties if p.name in property_names and p.join}
        if temporal and self.temporal and self.temporal.join:
            needed.add(self.temporal.join)
        return needed


def render_joins(joins: tuple[Join, ...], principal: Principal) -> sql.Composable:
    if not joins:
        return sql.SQL("")
    fragments = {"activities_filter": row_filter(principal, "activities", "a"), "live_activity": LIVE_ACTIVITY,
                 "slum_area_scores": sql.SQL(SLUM_AREA_SCORES)}
    return sql.SQL(" ").join(j.sql.format(**fragments) for j in joins)


# -- slum-area scores ---------------------------------------------------------------------------------
# Each slum area's current level, total score and priority class, as a LATERAL subquery over `t` (a slum_areas
# row) returning (level, score, priority), from the scoring cache behind `slum_area_status` (migration 0003:
# the latest surveyed round, else the score stated in the decree's file). The WHERE on t.id stays inside so that
# PostgreSQL reads the scores of the areas asked for only; 0004 watches the cache tables for versions and tallies.
SLUM_AREA_SCORES = ("SELECT level, total_score AS score, priority_class AS priority, "
                    "CASE s.score_source WHEN 'decree' THEN 'SK' WHEN 'surveys' THEN 'survei' END AS level_source "
                    "FROM slum_area_status s WHERE s.slum_area_id = t.id")

# Level codes from least to most severe: aggregates show the worst level of their areas.
LEVEL_ORDER = ("TK", "KR", "KS", "KB")

DECREE_JOIN = Join("decree", sql.SQL("JOIN decrees d ON d.id = t.decree_id"))
SCORES_JOIN = Join("scores", sql.SQL("LEFT JOIN LATERAL ({slum_area_scores}) sc ON true"))
KETERPADUAN_JOIN = Join("keterpaduan", sql.SQL(
    "LEFT JOIN LATERAL (SELECT count(*) AS activities, "
    "array_remove(array_agg(DISTINCT a.program ORDER BY a.program), NULL) AS programs, "
    "array_remove(array_agg(DISTINCT a.funding_source ORDER BY a.funding_source), NULL) AS funding_sources, "
    "array_remove(array_agg(DISTINCT a.kind ORDER BY a.kind), NULL) AS kinds, "
    "sum(a.cost) FILTER (WHERE bl.budgeted IS NULL) AS proposed_cost, sum(bl.budgeted) AS budgeted, "
    "sum(bl.realised) AS realised, min(a.year_start) AS year_min, max(a.year_end) AS year_max "
    "FROM activities a LEFT JOIN LATERAL (SELECT sum(b.allocated) AS budgeted, sum(b.realised) AS realised "
    "FROM budget_lines b WHERE b.activity_id = a.id) bl ON true "
    "WHERE a.geom && t.geom AND ST_Intersects(a.geom, t.geom) AND {live_activity} AND "
    "{activities_filter}) k ON true"
))

SCORE_PROPERTIES = (
    Property("level", sql.SQL("sc.level"), title="Tingkat kekumuhan (TK, KR, KS, KB)", join="scores"),
    Property("score", sql.SQL("sc.score"), "number", title="Skor total kekumuhan", join="scores"),
    Property("priority", sql.SQL("sc.priority"), title="Kelas prioritas penanganan", join="scores"),
    Property("level_source", sql.SQL("sc.level_source"), title="Sumber tingkat: SK (tingkat/skor dalam SK) atau "
             "survei (dihitung dari volume survei)", join="scores"),
)


def _slum_area_base() -> tuple[Property, ...]:
    return (
        Property("id", sql.SQL("t.id"), "integer", title="Nomor kawasan"),
        Property("tenant", sql.SQL("t.tenant"), title="Kode kab/kota (Kemendagri)"),
        Property("decree", sql.SQL("d.number"), title="Nomor SK Kumuh", join="decree"),
        Property("decree_published", sql.SQL("d.published"), "boolean", title="SK sudah terbit", join="decree",
                 tile=False),
        Property("decree_date", sql.SQL("d.decree_date"), title="Tanggal SK", join="decree", format="date", tile=False),
        Property("kawasan", sql.SQL("t.kawasan"), title="Nama kawasan"),
        Property("unit_label", sql.SQL("t.unit_label"), title="RT/RW atau lingkungan"),
        Property("kelurahan_code", sql.SQL("t.kelurahan_code"), title="Kode kelurahan/desa (bagian terbesar)"),
        Property("area_ha", sql.SQL("round(t.area_ha::numeric, 4)"), "number", title="Luas geodesik (ha)"),
    )


COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection(
        id="regions",
        title="Wilayah administrasi",
        description="Provinsi, kab/kota, kecamatan dan desa/kelurahan dengan kode Kemendagri",
        table="regions",
        key=sql.SQL("t.code"),
        tile_id=sql.SQL("replace(t.code, '.', '')::bigint"),
        geometry_type="polygon",
        order_by=sql.SQL("t.code"),
        versions=("regions",),
        tile_order=sql.SQL("t.area_ha DESC, t.code"),
        properties=(
            Property("code", sql.SQL("t.code"), title="Kode Kemendagri"),
            Property("bps_code", sql.SQL("t.bps_code"), title="Kode BPS"),
            Property("name", sql.SQL("t.name"), title="Nama"),
            Property("level", sql.SQL("t.level"), title="Tingkat (provinsi, kabkota, kecamatan, desa_kelurahan)"),
            Property("kind", sql.SQL("t.kind"), title="Jenis (kota, kabupaten, kelurahan, desa ...)"),
            Property("parent_code", sql.SQL("t.parent_code"), title="Kode induk"),
            Property("tenant", sql.SQL("t.tenant"), title="Kode kab/kota"),
            Property("area_ha", sql.SQL("round(t.area_ha::numeric, 4)"), "number", title="Luas (ha)"),
        ),
    ),
    Collection(
        id="slum-areas",
        title="Kawasan kumuh",
        description="Deliniasi kawasan kumuh per SK Kumuh, dengan luas geodesik, kelurahan, tingkat dan prioritas",
        table="slum_areas",
        key=sql.SQL("t.id"),
        tile_id=sql.SQL("t.id"),
        geometry_type="polygon",
        joins=(DECREE_JOIN, SCORES_JOIN),
        temporal=Temporal(sql.SQL("d.decree_date"), sql.SQL("d.decree_date"), "date", join="decree",
                          title="Tanggal SK Kumuh"),
        versions=("slum-areas", "survey-units"),
        tile_order=sql.SQL("t.area_ha DESC, t.id"),
        properties=(
            *_slum_area_base(),
            Property("kelurahan_codes", sql.SQL(
                "(SELECT coalesce(json_agg(json_build_object('code', sr.region_code, 'share', "
                "round(sr.share::numeric, 4)) ORDER BY sr.share DESC), '[]'::json) "
                "FROM slum_area_regions sr WHERE sr.slum_area_id = t.id)"),
                "array", title="Kelurahan yang dilalui dan porsinya", tile=False, filterable=False),
            Property("stated_area_ha", sql.SQL("t.stated_area_ha"), "number", title="Luas menurut SK (ha)", tile=False),
            Property("legality", sql.SQL("t.legality"), title="Legalitas lahan (legal, ilegal)"),
            Property("typology", sql.SQL("t.typology"), title="Tipologi"),
            Property("synthetic", sql.SQL("t.synthetic"), "boolean", title="Data sintetis (contoh)", tile=False),
            *SCORE_PROPERTIES,
        ),
    ),
    Collection(
        id="survey-units",
        title="Unit survei (RT/lingkungan)",
        description="Unit survei kawasan kumuh dengan data dasar (bangunan, penduduk, KK, panjang jalan/drainase)",
        table="survey_units",
        key=sql.SQL("t.id"),
        tile_id=sql.SQL("t.id"),
        geometry_type="polygon",
        versions=("survey-units", "slum-areas"),
        tile_order=sql.SQL("t.area_ha DESC NULLS LAST, t.id"),
        properties=(
            Property("id", sql.SQL("t.id"), "integer", title="Nomor unit"),
            Property("tenant", sql.SQL("t.tenant"), title="Kode kab/kota"),
            Property("slum_area_id", sql.SQL("t.slum_area_id"), "integer", title="Nomor kawasan kumuh"),
            Property("kelurahan_code", sql.SQL("t.kelurahan_code"), title="Kode kelurahan/desa"),
            Property("label", sql.SQL("t.label"), title="RT/RW atau lingkungan"),
            Property("area_ha", sql.SQL("t.area_ha"), "number", title="Luas terverifikasi (ha)"),
            Property("buildings", sql.SQL("t.buildings"), "integer", title="Jumlah bangunan"),
            Property("population", sql.SQL("t.population"), "integer", title="Jumlah penduduk"),
            Property("households", sql.SQL("t.households"), "integer", title="Jumlah KK"),
            Property("road_length_m", sql.SQL("t.road_length_m"), "number", title="Panjang jalan ideal (m)"),
            Property("drainage_length_m", sql.SQL("t.drainage_length_m"), "number", title="Panjang drainase ideal (m)"),
            Property("geometry_source", sql.SQL("t.attributes ->> 'geometry_source'"),
                     title="Asal geometri: kelurahan (poligon kelurahan/desa, tabel tanpa peta) atau slum_area",
                     tile=False),
            Property("synthetic", sql.SQL("t.synthetic"), "boolean", title="Data sintetis (contoh)", tile=False),
        ),
    ),
    Collection(
        id="activities",
        title="Kegiatan dan usulan",
        description="Usulan dan kegiatan penanganan kumuh: jenis, program, sumber dana, tahap, tahun dan biaya "
                    "(data pribadi pengusul tidak pernah ditampilkan)",
        table="activities",
        key=sql.SQL("t.id"),
        tile_id=sql.SQL("t.id"),
        geometry_type="geometry",
        temporal=Temporal(sql.SQL("t.year_start"), sql.SQL("t.year_end"), "year", title="Tahun anggaran"),
        versions=("activities",),
        tile_order=sql.SQL("t.cost DESC NULLS LAST, t.id"),
        properties=(
            Property("id", sql.SQL("t.id"), "integer", title="Nomor kegiatan"),
            Property("tenant", sql.SQL("t.tenant"), title="Kode kab/kota"),
            Property("title", sql.SQL("t.title"), title="Nama kegiatan"),
            Property("kind", sql.SQL("t.kind"), title="Jenis kegiatan (katalog)"),
            Property("criteria", sql.SQL("t.criteria"), "array", title="Kriteria kumuh yang ditangani",
                     tile_sql=sql.SQL("array_to_string(t.criteria, ',')")),
            Property("volume", sql.SQL("t.volume"), "number", title="Volume"),
            Property("unit", sql.SQL("t.unit"), title="Satuan"),
            Property("cost", sql.SQL("t.cost"), "number", title="Biaya (Rp)"),
            Property("year", sql.SQL("t.year_start"), "integer", title="Tahun anggaran (mulai)"),
            Property("year_end", sql.SQL("t.year_end"), "integer", title="Tahun anggaran (selesai)"),
            Property("program", sql.SQL("t.program"), title="Program (NSUP, NUSP2 ...)"),
            Property("funding_source", sql.SQL("t.funding_source"), title="Sumber dana (APBN, APBD_KABKOTA ...)"),
            Property("proposer_area", sql.SQL("t.proposer_area"), title="Wilayah pengusul (lingkungan/RT)"),
            Property("target_agency", sql.SQL("t.target_agency"), title="OPD tujuan"),
            Property("kelurahan_code", sql.SQL("t.kelurahan_code"), title="Kode kelurahan/desa"),
            Property("slum_area_id", sql.SQL("t.slum_area_id"), "integer", title="Nomor kawasan kumuh"),
            Property("stage", sql.SQL("t.stage"), title="Tahap perencanaan"),
            Property("status", sql.SQL("t.status"), title="Status (aktif, dikembalikan, ditolak, dibatalkan, selesai)"),
            Property("progress", sql.SQL("t.progress"), "integer", title="Progres fisik (0, 50, 100 %)"),
            Property("length_m", sql.SQL("round(t.length_m::numeric, 2)"), "number", title="Panjang (m)"),
            Property("area_m2", sql.SQL("round(t.area_m2::numeric, 2)"), "number", title="Luas (m2)"),
            Property("synthetic", sql.SQL("t.synthetic"), "boolean", title="Data sintetis (contoh)", tile=False),
        ),
    ),
    Collection(
        id="assets",
        title="Aset hasil kegiatan",
        description="Aset dari kegiatan yang sudah diserahterimakan: penerima, berita acara, nilai, kondisi, umur "
                    "layanan dan jadwal pemeriksaan (nama dan telepon anggota kelompok tidak pernah ditampilkan)",
        table="assets",
        key=sql.SQL("t.id"),
        tile_id=sql.SQL("t.id"),
        geometry_type="geometry",
        joins=(Join("recipient", sql.SQL("LEFT JOIN groups g ON g.id = t.recipient_group_id")),),
        temporal=Temporal(sql.SQL("t.handover_date"), sql.SQL("t.handover_date"), "date",
                          title="Tanggal serah terima"),
        versions=("assets",),
        tile_order=sql.SQL("t.value DESC NULLS LAST, t.id"),
        properties=(
            Property("id", sql.SQL("t.id"), "integer", title="Nomor aset"),
            Property("tenant", sql.SQL("t.tenant"), title="Kode kab/kota"),
            Property("kind", sql.SQL("t.kind"), title="Jenis (katalog kegiatan)"),
            Property("title", sql.SQL("t.title"), title="Nama aset"),
            Property("activity_id", sql.SQL("t.activity_id"), "integer", title="Nomor kegiatan asal"),
            Property("program", sql.SQL("t.program"), title="Program"),
            Property("funding_source", sql.SQL("t.funding_source"), title="Sumber dana"),
            Property("volume", sql.SQL("t.volume"), "number", title="Volume"),
            Property("unit", sql.SQL("t.unit"), title="Satuan"),
            Property("recipient_kind", sql.SQL("t.recipient_kind"), title="Penerima: opd atau kelompok"),
            Property("recipient", sql.SQL("coalesce(g.name, t.recipient_opd)"), title="Penerima (OPD atau kelompok)",
                     join="recipient"),
            Property("handover_date", sql.SQL("t.handover_date"), title="Tanggal serah terima", format="date"),
            Property("handover_number", sql.SQL("t.handover_number"), title="Nomor berita acara"),
            Property("value", sql.SQL("t.value"), "number", title="Nilai aset (Rp)"),
            Property("condition", sql.SQL("t.condition"), title="Kondisi (baik, rusak_ringan, rusak_berat)"),
            Property("geometry_source", sql.SQL("t.geometry_source"),
                     title="Sumber geometri (usulan, gambar_akhir, berkas)", tile=False),
            Property("service_life_years", sql.SQL("t.service_life_years"), "integer", title="Umur layanan (tahun)"),
            Property("life_ends_year", sql.SQL("(extract(year FROM t.handover_date)::int + t.service_life_years)"),
                     "integer", title="Tahun akhir umur layanan"),
            Property("remaining_life_years", sql.SQL(
                "greatest(0, extract(year FROM t.handover_date)::int + t.service_life_years "
                "- extract(year FROM current_date)::int)"), "integer", title="Sisa umur layanan (tahun, hari ini)"),
            Property("last_inspected_on", sql.SQL("t.last_inspected_on"), title="Pemeriksaan terakhir",
                     format="date"),
            Property("due_for_inspection", sql.SQL(
                "((coalesce(t.last_inspected_on, t.handover_date) "
                "+ make_interval(months => t.inspection_interval_months))::date < current_date)"), "boolean",
                title="Sudah waktunya diperiksa (hari ini)"),
        ),
    ),
    Collection(
        id="keterpaduan",
        title="Keterpaduan program per kawasan",
        description="Per kawasan kumuh: jumlah kegiatan, program, sumber dana, jenis kegiatan dan uangnya dalam "
                    "tiga keadaan yang tidak dijumlahkan: usulan belum dianggarkan, pagu anggaran, realisasi "
                    "(kegiatan yang ditolak atau dibatalkan tidak dihitung)",
        table="slum_areas",
        key=sql.SQL("t.id"),
        tile_id=sql.SQL("t.id"),
        geometry_type="polygon",
        access="slum-areas",
        joins=(DECREE_JOIN, SCORES_JOIN, KETERPADUAN_JOIN),
        versions=("slum-areas", "survey-units", "activities"),
        tile_order=sql.SQL("t.area_ha DESC, t.id"),
        properties=(
            *_slum_area_base(),
            Property("level", sql.SQL("sc.level"), title="Tingkat kekumuhan", join="scores"),
            Property("activities", sql.SQL("coalesce(k.activities, 0)"), "integer", title="Jumlah kegiatan",
                     join="keterpaduan"),
            Property("programs", sql.SQL("coalesce(k.programs, '{}')"), "array", title="Program",
                     tile_sql=sql.SQL("array_to_string(k.programs, ',')"), join="keterpaduan"),
            Property("program_count", sql.SQL("coalesce(cardinality(k.programs), 0)"), "integer",
                     title="Jumlah program", join="keterpaduan"),
            Property("funding_sources", sql.SQL("coalesce(k.funding_sources, '{}')"), "array", title="Sumber dana",
                     tile_sql=sql.SQL("array_to_string(k.funding_sources, ',')"), join="keterpaduan"),
            Property("funding_source_count", sql.SQL("coalesce(cardinality(k.funding_sources), 0)"), "integer",
                     title="Jumlah sumber dana", join="keterpaduan"),
            Property("kind_count", sql.SQL("coalesce(cardinality(k.kinds), 0)"), "integer",
                     title="Jumlah jenis kegiatan", join="keterpaduan"),
            # money in three states that are never added up (KOTAKU brief 10)
            Property("proposed_cost", sql.SQL("coalesce(k.proposed_cost, 0)"), "number",
                     title="Usulan belum dianggarkan (Rp)", join="keterpaduan"),
            Property("budgeted", sql.SQL("coalesce(k.budgeted, 0)"), "number", title="Pagu anggaran (Rp)",
                     join="keterpaduan"),
            Property("realised", sql.SQL("coalesce(k.realised, 0)"), "number", title="Realisasi (Rp)",
                     join="keterpaduan"),
            Property("year_min", sql.SQL("k.year_min"), "integer", title="Tahun pertama", join="keterpaduan"),
            Property("year_max", sql.SQL("k.year_max"), "integer", title="Tahun terakhir", join="keterpaduan"),
        ),
    ),
)}


# Issue 13 item 7: the mixed-geometry `activities` as one collection per geometry type (same properties), so that
# clients that want one geometry type per layer (QGIS's OAPIF layers) show every activity; regions per level.
_GEOMETRY_SUBSETS = (("points", "titik", "point", ("POINT", "MULTIPOINT")),
                     ("lines", "garis", "line", ("LINESTRING", "MULTILINESTRING")),
                     ("polygons", "poligon", "polygon", ("POLYGON", "MULTIPOLYGON")))
REGION_LEVELS = (("kabkota", "kab/kota"), ("kecamatan", "kecamatan"), ("desa-kelurahan", "desa/kelurahan"))


def _subsets() -> list[Collection]:
    activities, regions = COLLECTIONS["activities"], COLLECTIONS["regions"]
    out = [replace(activities, id=f"activities-{suffix}", title=f"{activities.title} ({title})",
                   description=f"{activities.description}; hanya geometri {title}", geometry_type=kind,
                   access="activities", subset=sql.SQL("GeometryType(t.geom) = ANY({})").format(
                       sql.Literal(list(types))))
           for suffix, title, kind, types in _GEOMETRY_SUBSETS]
    out += [replace(regions, id=f"regions-{level}", title=f"{regions.title}: {title}",
                    description=f"{regions.description}; hanya tingkat {title}", access="regions",
                    subset=sql.SQL("t.level = {}").format(sql.Literal(level.replace("-", "_"))))
            for level, title in REGION_LEVELS]
    return out


COLLECTIONS.update({c.id: c for c in _subsets()})


def get_collection(collection_id: str) -> Collection:
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(
            f"collection '{collection_id}' does not exist; collections: {', '.join(COLLECTIONS)}"
        ) from None


def queryables(collection: Collection, base_url: str) -> dict:
    """OGC API Features Part 3 queryables: a JSON Schema of the properties one may filter on."""
    properties: dict[str, dict] = {
        "geometry": {"$ref": _GEOMETRY_SCHEMAS[collection.geometry_type], "title": "Geometri"},
    }
    for p in collection.properties:
        if not p.filterable:
            continue
        schema: dict = {"title": p.title or p.name, "type": p.type}
        if p.type == "array":
            schema["items"] = {"type": "string"}
        if p.format:
            schema["format"] = p.format
        properties[p.name] = schema
    if collection.temporal:
        properties["datetime"] = {"title": collection.temporal.title, "type": "string", "format": "date-time",
                                  "description": "filter with the `datetime` parameter (an instant or an interval)"}
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base_url}/collections/{collection.id}/queryables",
        "type": "object",
        "title": collection.title,
        "properties": properties,
        "additionalProperties": False,
    }


_GEOMETRY_SCHEMAS = {
    "polygon": "https://geojson.org/schema/MultiPolygon.json",
    "line": "https://geojson.org/schema/MultiLineString.json",
    "point": "https://geojson.org/schema/Point.json",
    "geometry": "https://geojson.org/schema/Geometry.json",
}
