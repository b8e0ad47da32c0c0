"""The schema, declared once: every table the migrations (layers/db/migrations) make, as SQLAlchemy Core tables.

This is the one place to read what the database holds. The migrations stay the way to get there (raw SQL, run by
`layers.db.schema.migrate`), and tests/layers/test_schema_declared.py migrates a fresh database and compares it
with `metadata` through Alembic's autogenerate comparison: a migration and this file cannot drift apart (change
both, or `alembic check` fails). Functions, trigger functions and views live in layers/db/sql/*.sql.

Hot paths (tiles, items, overlap checks, scoring) keep their hand-written SQL; these tables are the declaration
and a convenience for simple Core queries, not a required way in.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, DOMAIN, JSONB, TIMESTAMP

metadata = MetaData()

# Kemendagri codes: PP, PP.KK, PP.KK.CC or PP.KK.CC.DDDD. Tenant = the kab/kota part (PP.KK). Made by 0001.
KEMENDAGRI_CODE = DOMAIN("kemendagri_code", Text(), check=r"VALUE ~ '^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$'",
                         create_type=False)
TENANT_CODE = DOMAIN("tenant_code", Text(), check=r"VALUE ~ '^\d{2}\.\d{2}$'", create_type=False)

TIMESTAMPTZ = TIMESTAMP(timezone=True)
TEXTS = ARRAY(Text())


def _geometry(geometry_type: str) -> Geometry:
    # GiST indexes are declared by name below (the migrations name them), not made by geoalchemy2.
    return Geometry(geometry_type, srid=4326, spatial_index=False)


def _now() -> Column:
    return Column("updated_at", TIMESTAMPTZ, nullable=False, server_default=func.now())


def _created_at() -> Column:
    return Column("created_at", TIMESTAMPTZ, nullable=False, server_default=func.now())


def _synthetic() -> Column:
    return Column("synthetic", Boolean, nullable=False, server_default=text("false"))


def _attributes(name: str = "attributes", default: str = "'{}'::jsonb") -> Column:
    return Column(name, JSONB, nullable=False, server_default=text(default))


LEGALITY = "legality IN ('legal', 'ilegal')"

# -- data versions (0001): bumped by statement triggers, ETags of tiles and items follow them -------------------
layer_versions = Table(
    "layer_versions", metadata,
    Column("layer", Text, primary_key=True),
    Column("version", BigInteger, nullable=False, server_default=text("1")),
    _now(),
)

# -- administrative regions and slum areas (0001) ---------------------------------------------------------------
regions = Table(
    "regions", metadata,
    Column("code", KEMENDAGRI_CODE, primary_key=True),
    Column("bps_code", Text),
    Column("name", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("kind", Text),
    Column("parent_code", KEMENDAGRI_CODE),
    Column("tenant", TENANT_CODE,
           Computed("CASE WHEN length(code) >= 5 THEN left(code, 5) ELSE NULL END", persisted=True)),
    Column("area_ha", Double, nullable=False),
    Column("source", Text),
    # STORAGE EXTERNAL since 0015 (uncompressed: imports spend no time in pglz). SQLAlchemy has no word for a
    # column's storage and the schema comparison does not read it: the migration alone sets it.
    Column("geom", _geometry("MULTIPOLYGON"), nullable=False),
    _now(),
    CheckConstraint("level IN ('provinsi', 'kabkota', 'kecamatan', 'desa_kelurahan')", name="regions_level_check"),
    CheckConstraint("kind IN ('provinsi', 'kabupaten', 'kota', 'kecamatan', 'kelurahan', 'desa')",
                    name="regions_kind_check"),
    Index("regions_geom_idx", "geom", postgresql_using="gist"),
    Index("regions_parent_idx", "parent_code"),
    Index("regions_level_tenant_idx", "level", "tenant"),
)

decrees = Table(
    "decrees", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("number", Text, nullable=False),
    Column("title", Text),
    Column("decree_date", Date),
    Column("scheme", Text, nullable=False, server_default=text("'permen14_2018'::text")),
    Column("published", Boolean, nullable=False, server_default=text("false")),
    _created_at(),
    UniqueConstraint("tenant", "number", name="decrees_tenant_number_key"),
)

slum_areas = Table(
    "slum_areas", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("decree_id", BigInteger, ForeignKey("decrees.id", ondelete="CASCADE", name="slum_areas_decree_id_fkey"),
           nullable=False),
    Column("kawasan", Text),
    Column("unit_label", Text),
    Column("kelurahan_code", KEMENDAGRI_CODE),
    Column("declared_kelurahan_code", Text),
    Column("area_ha", Double, nullable=False),
    Column("stated_area_ha", Double),
    Column("legality", Text),
    Column("typology", Text),
    _attributes(),
    Column("source_file", Text),
    Column("source_feature", Integer),
    _synthetic(),
    Column("geom", _geometry("MULTIPOLYGON"), nullable=False),
    _created_at(),
    _now(),
    Column("stated_level", Text),  # the decree's own level (0008): used until a survey supersedes it
    Column("stated_score", Integer),
    CheckConstraint(LEGALITY, name="slum_areas_legality_check"),
    CheckConstraint("stated_level IN ('TK', 'KR', 'KS', 'KB')", name="slum_areas_stated_level_check"),
    Index("slum_areas_geom_idx", "geom", postgresql_using="gist"),
    Index("slum_areas_tenant_idx", "tenant", "decree_id"),
    Index("slum_areas_kelurahan_idx", "kelurahan_code"),
)

# -- decree versions (0008): replaced slum areas are kept, whole, with what hung on them, and can be restored --------
decree_versions = Table(
    "decree_versions", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("decree_id", BigInteger, ForeignKey("decrees.id", ondelete="CASCADE",
                                               name="decree_versions_decree_id_fkey"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("replaced_by", Text),
    Column("actor", Text),
    Column("areas", Integer, nullable=False),
    Column("area_ha", Double, nullable=False),
    Column("kawasan", TEXTS, nullable=False, server_default=text("'{}'::text[]")),
    _created_at(),
    Column("restored_at", TIMESTAMPTZ),
    UniqueConstraint("decree_id", "version", name="decree_versions_decree_id_version_key"),
    CheckConstraint("reason IN ('replace', 'restore')", name="decree_versions_reason_check"),
    Index("decree_versions_tenant_idx", "tenant"),
)

slum_areas_archive = Table(
    "slum_areas_archive", metadata,
    Column("version_id", BigInteger, ForeignKey("decree_versions.id", ondelete="CASCADE",
                                                name="slum_areas_archive_version_id_fkey"), nullable=False),
    Column("slum_area_id", BigInteger, nullable=False),
    Column("row", JSONB, nullable=False),
    Column("geom", _geometry("MULTIPOLYGON"), nullable=False),
    _attributes("regions", "'[]'::jsonb"),
    Column("priority_input", JSONB),
    _attributes("raster_stats", "'[]'::jsonb"),
    Column("survey_unit_ids", ARRAY(BigInteger()), nullable=False, server_default=text("'{}'::bigint[]")),
    Column("activity_ids", ARRAY(BigInteger()), nullable=False, server_default=text("'{}'::bigint[]")),
    PrimaryKeyConstraint("version_id", "slum_area_id", name="slum_areas_archive_pkey"),
)

# Every kelurahan a slum area overlaps, with its share: a straddling area has several rows.
slum_area_regions = Table(
    "slum_area_regions", metadata,
    Column("slum_area_id", BigInteger,
           ForeignKey("slum_areas.id", ondelete="CASCADE", name="slum_area_regions_slum_area_id_fkey"),
           nullable=False),
    Column("region_code", KEMENDAGRI_CODE, nullable=False),
    Column("overlap_ha", Double, nullable=False),
    Column("share", Double, nullable=False),
    PrimaryKeyConstraint("slum_area_id", "region_code", name="slum_area_regions_pkey"),
    CheckConstraint("share >= 0 AND share <= 1.000001", name="slum_area_regions_share_check"),
    Index("slum_area_regions_region_idx", "region_code"),
)

# -- survey units and surveys (0001, 0003): volumes as measured; scores are derived ----------------------------
survey_units = Table(
    "survey_units", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("slum_area_id", BigInteger,
           ForeignKey("slum_areas.id", ondelete="SET NULL", name="survey_units_slum_area_id_fkey")),
    Column("kelurahan_code", KEMENDAGRI_CODE),
    Column("label", Text, nullable=False),
    Column("area_ha", Double),
    Column("buildings", Integer),
    Column("population", Integer),
    Column("households", Integer),
    Column("road_length_m", Double),
    Column("drainage_length_m", Double),
    _attributes(),
    _synthetic(),
    Column("geom", _geometry("MULTIPOLYGON")),
    UniqueConstraint("tenant", "kelurahan_code", "label", name="survey_units_tenant_kelurahan_code_label_key"),
    Index("survey_units_geom_idx", "geom", postgresql_using="gist"),
    Index("survey_units_slum_area_idx", "slum_area_id"),
    Index("survey_units_kelurahan_idx", "kelurahan_code"),
    Index("survey_units_kecamatan_idx", func.left(text("kelurahan_code::text"), 8)),
    Index("survey_units_kabkota_idx", func.left(text("kelurahan_code::text"), 5)),
)

surveys = Table(
    "surveys", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("unit_id", BigInteger, ForeignKey("survey_units.id", ondelete="CASCADE", name="surveys_unit_id_fkey"),
           nullable=False),
    Column("round", Text, nullable=False),
    Column("survey_date", Date),
    Column("scheme", Text, nullable=False, server_default=text("'permen14_2018'::text")),
    Column("area_ha", Double),
    Column("buildings", Integer),
    Column("population", Integer),
    Column("households", Integer),
    Column("road_length_m", Double),
    Column("drainage_length_m", Double),
    _attributes("volumes"),
    Column("source", Text),
    _synthetic(),
    _created_at(),
    # A row whose stored percentages/scores contradict its volumes is kept (with the reason) but not scored.
    Column("flagged", Boolean, nullable=False, server_default=text("false")),
    _attributes("problems", "'[]'::jsonb"),
    Column("stored", JSONB),
    Column("source_row", Integer),
    UniqueConstraint("unit_id", "round", name="surveys_unit_id_round_key"),
    Index("surveys_tenant_round_idx", "tenant", "round"),
    Index("surveys_unit_idx", "unit_id"),
)

# -- reference tables (0001), seeded from data/reference/*.csv by the owner --------------------------------------
programs = Table(
    "programs", metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("financier", Text),
)

funding_sources = Table(
    "funding_sources", metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("description", Text),
)

activity_kinds = Table(
    "activity_kinds", metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("criteria", TEXTS, nullable=False),
    Column("unit", Text, nullable=False),
    Column("unit_price", Numeric),
    Column("geometry_type", Text, nullable=False),
    Column("line_noise_m", Double, nullable=False, server_default=text("5")),
    Column("line_min_shared_share", Double, nullable=False, server_default=text("0.2")),
    Column("polygon_min_shared_share", Double, nullable=False, server_default=text("0.1")),
    Column("point_radius_m", Double, nullable=False, server_default=text("25")),
    Column("max_vertices", Integer),  # 0007: most vertices a geometry of this kind may have (NULL: by type)
    CheckConstraint("geometry_type IN ('point', 'line', 'polygon')", name="activity_kinds_geometry_type_check"),
    CheckConstraint("max_vertices > 0", name="activity_kinds_max_vertices_check"),
    # 0011: umur layanan, placeholder years per kind (KOTAKU brief section 10) that a city may change
    Column("service_life_years", Integer),
    CheckConstraint("service_life_years > 0", name="activity_kinds_service_life_years_check"),
)

roles = Table(
    "roles", metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text),
)

# -- activities (proposals) and their workflow (0001, 0005) ------------------------------------------------------
STAGES = ("rembuk_warga", "musrenbang_kelurahan", "musrenbang_kecamatan", "pokir_dprd", "renja_opd", "rkpd",
          "pelaksanaan", "selesai", "serah_terima")
STATUSES = ("aktif", "dikembalikan", "ditolak", "dibatalkan", "selesai")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


activities = Table(
    "activities", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("title", Text, nullable=False),
    Column("kind", Text, ForeignKey("activity_kinds.code", name="activities_kind_fkey"), nullable=False),
    Column("criteria", TEXTS, nullable=False, server_default=text("'{}'::text[]")),
    Column("volume", Numeric),
    Column("unit", Text),
    Column("cost", Numeric),
    Column("year_start", Integer, nullable=False),
    Column("year_end", Integer, nullable=False),
    Column("program", Text, ForeignKey("programs.code", name="activities_program_fkey")),
    Column("funding_source", Text, ForeignKey("funding_sources.code", name="activities_funding_source_fkey")),
    Column("proposer_area", Text),
    Column("proposer_name", Text),
    Column("proposer_phone", Text),
    Column("target_agency", Text),
    Column("kelurahan_code", KEMENDAGRI_CODE),
    Column("slum_area_id", BigInteger,
           ForeignKey("slum_areas.id", ondelete="SET NULL", name="activities_slum_area_id_fkey")),
    Column("stage", Text, nullable=False, server_default=text("'rembuk_warga'::text")),
    Column("status", Text, nullable=False, server_default=text("'aktif'::text")),
    Column("progress", Integer, nullable=False, server_default=text("0")),
    Column("length_m", Double),
    Column("area_m2", Double),
    _synthetic(),
    _attributes(),
    Column("geom", _geometry("GEOMETRY"), nullable=False),
    _created_at(),
    _now(),
    Column("override_reason", Text),
    Column("created_by", Text),
    Column("plan_item_id", BigInteger,  # 0012: the plan item it implements
           ForeignKey("plan_items.id", ondelete="SET NULL", name="activities_plan_item_id_fkey")),
    CheckConstraint("cost >= 0", name="activities_cost_check"),
    CheckConstraint("year_start BETWEEN 2000 AND 2100", name="activities_year_start_check"),
    CheckConstraint("year_end >= year_start", name="activities_check"),
    CheckConstraint(_in("stage", STAGES), name="activities_stage_check"),
    CheckConstraint(_in("status", STATUSES), name="activities_status_check"),
    CheckConstraint("progress IN (0, 50, 100)", name="activities_progress_check"),
    CheckConstraint("GeometryType(geom) IN ('POINT', 'LINESTRING', 'MULTILINESTRING', 'POLYGON', 'MULTIPOLYGON')",
                    name="activities_geom_check"),
    Index("activities_geom_idx", "geom", postgresql_using="gist"),
    Index("activities_tenant_idx", "tenant", "year_start"),
    Index("activities_kind_idx", "kind"),
    Index("activities_kelurahan_idx", "kelurahan_code"),
    Index("activities_slum_area_idx", "slum_area_id"),
    Index("activities_live_idx", "kind", postgresql_where=text("status NOT IN ('ditolak', 'dibatalkan')")),
)

# Every step, rejection, return and override: the public history of a proposal.
activity_events = Table(
    "activity_events", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("activity_id", BigInteger,
           ForeignKey("activities.id", ondelete="CASCADE", name="activity_events_activity_id_fkey"), nullable=False),
    Column("at", TIMESTAMPTZ, nullable=False, server_default=func.clock_timestamp()),
    Column("actor", Text),
    Column("actor_role", Text),
    Column("action", Text, nullable=False),
    Column("from_stage", Text),
    Column("to_stage", Text),
    Column("from_status", Text),
    Column("to_status", Text),
    Column("progress", Integer),
    Column("reason", Text),
    Index("activity_events_activity_idx", "activity_id", "at"),
)

# Collaboration (touching end to end) and accepted overlaps.
activity_links = Table(
    "activity_links", metadata,
    Column("activity_id", BigInteger,
           ForeignKey("activities.id", ondelete="CASCADE", name="activity_links_activity_id_fkey"), nullable=False),
    Column("other_id", BigInteger,
           ForeignKey("activities.id", ondelete="CASCADE", name="activity_links_other_id_fkey"), nullable=False),
    Column("relation", Text, nullable=False),
    _attributes("measure"),
    _created_at(),
    PrimaryKeyConstraint("activity_id", "other_id", "relation", name="activity_links_pkey"),
    CheckConstraint("relation IN ('kolaborasi', 'tumpang_tindih_disetujui', 'rehabilitasi')",  # 0011: rehabilitasi
                    name="activity_links_relation_check"),
    Index("activity_links_other_idx", "other_id"),
)

activity_attachments = Table(
    "activity_attachments", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("activity_id", BigInteger,
           ForeignKey("activities.id", ondelete="CASCADE", name="activity_attachments_activity_id_fkey"),
           nullable=False),
    Column("file_name", Text, nullable=False),
    Column("stored_path", Text, nullable=False),
    Column("media_type", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("taken_at", TIMESTAMPTZ),
    Column("lon", Double),
    Column("lat", Double),
    Column("distance_m", Double),
    Column("flagged", Boolean, nullable=False, server_default=text("false")),
    Column("flag_reason", Text),
    Column("uploaded_by", Text),
    Column("uploaded_at", TIMESTAMPTZ, nullable=False, server_default=func.now()),
    # 0012: the progress step it is evidence of, and where/when the page says it was captured (geolocation)
    Column("progress_step", Integer),
    Column("capture_lon", Double),
    Column("capture_lat", Double),
    Column("capture_accuracy_m", Double),
    Column("captured_at", TIMESTAMPTZ),
    CheckConstraint("progress_step IN (0, 50, 100)", name="activity_attachments_progress_step_check"),
    CheckConstraint("capture_accuracy_m >= 0", name="activity_attachments_capture_accuracy_m_check"),
    Index("activity_attachments_activity_idx", "activity_id"),
)

# -- evidence per progress step, plans and budgets (0012) ---------------------------------------------------------
STEP_STATES = ("terverifikasi", "perlu_verifikasi", "dikonfirmasi", "ditolak")
progress_steps = Table(
    "progress_steps", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("activity_id", BigInteger,
           ForeignKey("activities.id", ondelete="CASCADE", name="progress_steps_activity_id_fkey"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("attachment_id", BigInteger,
           ForeignKey("activity_attachments.id", name="progress_steps_attachment_id_fkey"), nullable=False),
    Column("state", Text, nullable=False),
    Column("problems", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("taken_at", TIMESTAMPTZ),
    Column("distance_m", Double),
    Column("position_source", Text),
    Column("reported_by", Text),
    Column("reported_at", TIMESTAMPTZ, nullable=False, server_default=func.now()),
    Column("decided_by", Text),
    Column("decided_role", Text),
    Column("decided_at", TIMESTAMPTZ),
    Column("decision_reason", Text),
    CheckConstraint("step IN (0, 50, 100)", name="progress_steps_step_check"),
    CheckConstraint(_in("state", STEP_STATES), name="progress_steps_state_check"),
    Index("progress_steps_activity_idx", "activity_id", "step"),
    Index("progress_steps_live_key", "activity_id", "step", unique=True, postgresql_where=text("state <> 'ditolak'")),
)
PLAN_KINDS = ("rplp", "rkm", "rp2kpkp", "siap", "rkpd")
plans = Table(
    "plans", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("kelurahan_code", KEMENDAGRI_CODE),
    Column("year_start", Integer, nullable=False),
    Column("year_end", Integer, nullable=False),
    Column("document_number", Text),
    Column("created_by", Text),
    _created_at(),
    CheckConstraint(_in("kind", PLAN_KINDS), name="plans_kind_check"),
    CheckConstraint("year_start BETWEEN 2000 AND 2100", name="plans_year_start_check"),
    CheckConstraint("year_end >= year_start", name="plans_check"),
    CheckConstraint("(kind IN ('rplp', 'rkm')) = (kelurahan_code IS NOT NULL)", name="plans_kelurahan_check"),
    Index("plans_tenant_idx", "tenant", "kind"),
)
plan_items = Table(
    "plan_items", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("plan_id", BigInteger, ForeignKey("plans.id", ondelete="CASCADE", name="plan_items_plan_id_fkey"),
           nullable=False),
    Column("code", Text),
    Column("title", Text, nullable=False),
    Column("kind", Text, ForeignKey("activity_kinds.code", name="plan_items_kind_fkey")),
    Column("kelurahan_code", KEMENDAGRI_CODE),
    Column("year", Integer),
    Column("volume", Numeric),
    Column("unit", Text),
    Column("cost_estimate", Numeric),
    _created_at(),
    CheckConstraint("cost_estimate >= 0", name="plan_items_cost_estimate_check"),
    Index("plan_items_plan_idx", "plan_id"),
)
budget_lines = Table(
    "budget_lines", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("activity_id", BigInteger,
           ForeignKey("activities.id", ondelete="CASCADE", name="budget_lines_activity_id_fkey"), nullable=False),
    Column("plan_item_id", BigInteger,
           ForeignKey("plan_items.id", ondelete="SET NULL", name="budget_lines_plan_item_id_fkey")),
    Column("year", Integer, nullable=False),
    Column("funding_source", Text, ForeignKey("funding_sources.code", name="budget_lines_funding_source_fkey"),
           nullable=False),
    Column("dpa_number", Text),
    Column("account_code", Text, nullable=False),
    Column("allocated", Numeric, nullable=False),
    Column("realised", Numeric, nullable=False, server_default=text("0")),
    Column("created_by", Text),
    _created_at(),
    _now(),
    UniqueConstraint("activity_id", "year", "funding_source", "account_code", name="budget_lines_key"),
    CheckConstraint("year BETWEEN 2000 AND 2100", name="budget_lines_year_check"),
    CheckConstraint("allocated >= 0", name="budget_lines_allocated_check"),
    CheckConstraint("realised >= 0", name="budget_lines_realised_check"),
    Index("budget_lines_tenant_idx", "tenant", "year"),
)

# -- the asset register (0011): community groups, assets from handed-over activities, inspections, O&P ------------
CONDITIONS = ("baik", "rusak_ringan", "rusak_berat")
groups = Table(
    "groups", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kelurahan_code", KEMENDAGRI_CODE),
    Column("parent_id", BigInteger, ForeignKey("groups.id", name="groups_parent_id_fkey")),
    Column("geom", _geometry("MULTIPOLYGON")),
    _created_at(),
    CheckConstraint("kind IN ('kpp', 'bkm', 'lkm')", name="groups_kind_check"),
    Index("groups_tenant_idx", "tenant"),
)
group_members = Table(
    "group_members", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("group_id", BigInteger, ForeignKey("groups.id", ondelete="CASCADE", name="group_members_group_id_fkey"),
           nullable=False),
    Column("name", Text, nullable=False),
    Column("role", Text),
    Column("phone", Text),
    _created_at(),
    Index("group_members_group_idx", "group_id"),
)
assets = Table(
    "assets", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("activity_id", BigInteger, ForeignKey("activities.id", name="assets_activity_id_fkey"), nullable=False),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("title", Text, nullable=False),
    Column("kind", Text, ForeignKey("activity_kinds.code", name="assets_kind_fkey"), nullable=False),
    Column("criteria", TEXTS, nullable=False, server_default=text("'{}'::text[]")),
    Column("program", Text),
    Column("funding_source", Text),
    Column("volume", Numeric),
    Column("unit", Text),
    Column("value", Numeric),
    Column("geom", _geometry("GEOMETRY"), nullable=False),
    Column("geometry_source", Text, nullable=False, server_default=text("'usulan'::text")),
    Column("geometry_file", Text),
    Column("recipient_kind", Text, nullable=False, server_default=text("'opd'::text")),
    Column("recipient_opd", Text),
    Column("recipient_group_id", BigInteger, ForeignKey("groups.id", name="assets_recipient_group_id_fkey")),
    Column("handover_date", Date, nullable=False),
    Column("handover_number", Text),
    Column("handover_file", Text),
    Column("condition", Text, nullable=False, server_default=text("'baik'::text")),
    Column("service_life_years", Integer, nullable=False),
    Column("inspection_interval_months", Integer, nullable=False, server_default=text("12")),
    Column("last_inspected_on", Date),
    Column("created_by", Text),
    _created_at(),
    _now(),
    UniqueConstraint("activity_id", name="assets_activity_id_key"),
    CheckConstraint("geometry_source IN ('usulan', 'gambar_akhir', 'berkas')", name="assets_geometry_source_check"),
    CheckConstraint("recipient_kind IN ('opd', 'kelompok')", name="assets_recipient_kind_check"),
    CheckConstraint(_in("condition", CONDITIONS), name="assets_condition_check"),
    CheckConstraint("service_life_years > 0", name="assets_service_life_years_check"),
    CheckConstraint("inspection_interval_months > 0", name="assets_inspection_interval_months_check"),
    Index("assets_geom_idx", "geom", postgresql_using="gist"),
    Index("assets_tenant_idx", "tenant"),
)
asset_inspections = Table(
    "asset_inspections", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("asset_id", BigInteger,
           ForeignKey("assets.id", ondelete="CASCADE", name="asset_inspections_asset_id_fkey"), nullable=False),
    Column("inspected_on", Date, nullable=False),
    Column("condition", Text, nullable=False),
    Column("notes", Text),
    Column("photos", TEXTS, nullable=False, server_default=text("'{}'::text[]")),
    Column("inspector", Text),
    _created_at(),
    CheckConstraint(_in("condition", CONDITIONS), name="asset_inspections_condition_check"),
    Index("asset_inspections_asset_idx", "asset_id", "inspected_on"),
)
asset_maintenance = Table(
    "asset_maintenance", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("asset_id", BigInteger,
           ForeignKey("assets.id", ondelete="CASCADE", name="asset_maintenance_asset_id_fkey"), nullable=False),
    Column("done_on", Date, nullable=False),
    Column("kind", Text, nullable=False),
    Column("cost", Numeric),
    Column("notes", Text),
    Column("done_by", Text),
    _created_at(),
    CheckConstraint("kind IN ('operasi', 'pemeliharaan', 'perbaikan')", name="asset_maintenance_kind_check"),
    Index("asset_maintenance_asset_idx", "asset_id", "done_on"),
)

# -- accounts and the audit trail (0001, 0002) --------------------------------------------------------------------
users = Table(
    "users", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("username", Text, nullable=False),
    Column("display_name", Text),
    Column("role", Text, ForeignKey("roles.code", name="users_role_fkey"), nullable=False),
    Column("area_code", Text),
    Column("tenant", TENANT_CODE),
    Column("password_hash", Text),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    _created_at(),
    Column("agency", Text),
    _now(),
    UniqueConstraint("username", name="users_username_key"),
    CheckConstraint("username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'", name="users_username_check"),
    CheckConstraint("role <> 'publik'", name="users_role_not_public"),
)

# The kab/kota a konsultan is assigned to (its Principal.tenants).
user_tenants = Table(
    "user_tenants", metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE", name="user_tenants_user_id_fkey"),
           nullable=False),
    Column("tenant", TENANT_CODE, nullable=False),
    PrimaryKeyConstraint("user_id", "tenant", name="user_tenants_pkey"),
)

# Bearer tokens and browser sessions: only an argon2 hash of the secret is kept.
api_tokens = Table(
    "api_tokens", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE", name="api_tokens_user_id_fkey"),
           nullable=False),
    Column("kind", Text, nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("label", Text),
    _created_at(),
    Column("expires_at", TIMESTAMPTZ),
    Column("revoked_at", TIMESTAMPTZ),
    CheckConstraint("kind IN ('token', 'session')", name="api_tokens_kind_check"),
    Index("api_tokens_user_idx", "user_id", postgresql_where=text("revoked_at IS NULL")),
)

# Login attempts (0007): the login limits count failures per account and per address in a window, here so that
# every worker and host shares them. succeeded NULL: the password is being checked (counts as a failure).
login_attempts = Table(
    "login_attempts", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("at", TIMESTAMPTZ, nullable=False, server_default=func.clock_timestamp()),
    Column("username", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("succeeded", Boolean),
    Index("login_attempts_username_idx", "username", "at"),
    Index("login_attempts_address_idx", "address", "at"),
)

# Append-only and hash-chained: the app role may not UPDATE/DELETE/TRUNCATE it, a trigger refuses UPDATE/DELETE.
audit_log = Table(
    "audit_log", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("at", TIMESTAMPTZ, nullable=False, server_default=func.clock_timestamp()),
    Column("actor", Text),
    Column("tenant", TENANT_CODE),
    Column("action", Text, nullable=False),
    Column("entity", Text, nullable=False),
    Column("entity_id", Text),
    Column("before", JSONB),
    Column("after", JSONB),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("actor_role", Text),
    Index("audit_log_entity_idx", "entity", "entity_id"),
    Index("audit_log_tenant_idx", "tenant", "at"),
)

# -- scoring (0003): inputs, and the derived cache rebuilt by layers.scoring.scores.refresh_status ----------------
# Zones the spatial plan (RTRW/RDTR) calls strategic.
strategic_zones = Table(
    "strategic_zones", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("name", Text),
    Column("value", Text, nullable=False),
    _attributes(),
    Column("source_file", Text),
    Column("source_feature", Integer),
    Column("geom", _geometry("MULTIPOLYGON"), nullable=False),
    Index("strategic_zones_geom_idx", "geom", postgresql_using="gist"),
    Index("strategic_zones_tenant_idx", "tenant"),
)

slum_area_priority_inputs = Table(
    "slum_area_priority_inputs", metadata,
    Column("slum_area_id", BigInteger,
           ForeignKey("slum_areas.id", ondelete="CASCADE", name="slum_area_priority_inputs_slum_area_id_fkey"),
           primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("mbr_share_pct", Double),
    Column("potential", Text),
    Column("strategic_value", Text),
    Column("legality", Text),
    Column("tenure_legal", Boolean),
    Column("spatial_plan_conform", Boolean),
    Column("population", Integer),
    Column("source", Text),
    _now(),
    CheckConstraint("mbr_share_pct BETWEEN 0 AND 100", name="slum_area_priority_inputs_mbr_share_pct_check"),
    CheckConstraint(LEGALITY, name="slum_area_priority_inputs_legality_check"),
    CheckConstraint("population >= 0", name="slum_area_priority_inputs_population_check"),
)

# Zonal statistics of rasters per slum area: population (people) and flood (share of the area above a depth).
slum_area_raster_stats = Table(
    "slum_area_raster_stats", metadata,
    Column("slum_area_id", BigInteger,
           ForeignKey("slum_areas.id", ondelete="CASCADE", name="slum_area_raster_stats_slum_area_id_fkey"),
           nullable=False),
    Column("kind", Text, nullable=False),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("value", Double),
    Column("valid_share", Double),
    _attributes("params"),
    Column("source_file", Text),
    Column("raster_crs", Text),
    Column("computed_at", TIMESTAMPTZ, nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("slum_area_id", "kind", name="slum_area_raster_stats_pkey"),
    CheckConstraint("kind IN ('population', 'flood')", name="slum_area_raster_stats_kind_check"),
)

# A tenant's own level x PL x legality matrix; without rows the packaged indicators/tables one applies.
priority_matrices = Table(
    "priority_matrices", metadata,
    Column("tenant", TENANT_CODE, nullable=False),
    Column("level", Text, nullable=False),
    Column("pl", Text, nullable=False),
    Column("legality", Text, nullable=False),
    Column("class", Text, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("rank9", Integer),
    Column("handling", Text, nullable=False),
    PrimaryKeyConstraint("tenant", "level", "pl", "legality", name="priority_matrices_pkey"),
)

slum_area_scores = Table(
    "slum_area_scores", metadata,
    Column("slum_area_id", BigInteger,
           ForeignKey("slum_areas.id", ondelete="CASCADE", name="slum_area_scores_slum_area_id_fkey"),
           nullable=False),
    Column("round", Text, nullable=False),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("round_order", Integer, nullable=False),
    Column("is_current", Boolean, nullable=False, server_default=text("false")),
    Column("scheme", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("total_score", Integer),
    Column("level", Text),
    Column("avg_overall", Double),
    Column("units", Integer),
    Column("units_scored", Integer),
    Column("coverage", Double),
    Column("computed_at", TIMESTAMPTZ, nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("slum_area_id", "round", name="slum_area_scores_pkey"),
    CheckConstraint("source IN ('surveys', 'decree')", name="slum_area_scores_source_check"),
    Index("slum_area_scores_current_idx", "slum_area_id", postgresql_where=text("is_current")),
    Index("slum_area_scores_tenant_idx", "tenant"),
)

slum_area_priorities = Table(
    "slum_area_priorities", metadata,
    Column("slum_area_id", BigInteger,
           ForeignKey("slum_areas.id", ondelete="CASCADE", name="slum_area_priorities_slum_area_id_fkey"),
           primary_key=True),
    Column("tenant", TENANT_CODE, nullable=False),
    Column("round", Text),
    Column("priority_class", Text),
    Column("priority_rank", Integer),
    Column("position", Integer),
    Column("handling", Text),
    Column("kewenangan", Text),
    Column("pl", Text),
    Column("legality", Text),
    Column("basis", Text),
    Column("missing", TEXTS, nullable=False, server_default=text("'{}'::text[]")),
    Column("computed_at", TIMESTAMPTZ, nullable=False, server_default=func.now()),
    Index("slum_area_priorities_tenant_idx", "tenant"),
)

# Inputs changed since the last refresh <=> changes > refreshed_changes.
scoring_state = Table(
    "scoring_state", metadata,
    Column("tenant", TENANT_CODE, primary_key=True),
    Column("changes", BigInteger, nullable=False, server_default=text("0")),
    Column("refreshed_changes", BigInteger, nullable=False, server_default=text("0")),
    Column("refreshed_at", TIMESTAMPTZ),
)

# -- serving (0004): per-kelurahan tallies for low-zoom tiles, and which kelurahan need recomputing -----------
# No key: a queue of notes ('*' = every kelurahan), drained by layers/serving/tallies.py.
tally_dirty = Table(
    "tally_dirty", metadata,
    Column("layer", Text, nullable=False),
    Column("kelurahan_code", Text, nullable=False),
    Index("tally_dirty_layer_idx", "layer"),
)

activity_tallies = Table(
    "activity_tallies", metadata,
    Column("kelurahan_code", Text, primary_key=True),
    Column("features", BigInteger, nullable=False),
    Column("cost", Numeric),
    Column("programs", TEXTS, nullable=False),
    Column("funding_sources", TEXTS, nullable=False),
    Column("year_min", Integer),
    Column("year_max", Integer),
    Column("live_features", BigInteger, nullable=False),  # not rejected or cancelled (keterpaduan)
    Column("live_cost", Numeric),
    Column("live_programs", TEXTS, nullable=False),
    Column("live_funding_sources", TEXTS, nullable=False),
    Column("live_year_min", Integer),
    Column("live_year_max", Integer),
    Index("activity_tallies_kecamatan_idx", func.left(text("kelurahan_code"), 8)),
    Index("activity_tallies_kabkota_idx", func.left(text("kelurahan_code"), 5)),
)

slum_area_tallies = Table(
    "slum_area_tallies", metadata,
    Column("kelurahan_code", Text, nullable=False),
    Column("decree_id", BigInteger, nullable=False),  # with tenant: the slum areas' row filters apply unchanged
    Column("tenant", Text, nullable=False),
    Column("features", BigInteger, nullable=False),
    Column("area_ha", Double),
    Column("worst_level", Integer),  # position in the level order (TK, KR, KS, KB)
    Column("score_sum", Double),
    Column("scored", BigInteger, nullable=False),
    Column("urgent_priority", Integer),  # rank of the most urgent priority class
    PrimaryKeyConstraint("kelurahan_code", "decree_id", name="slum_area_tallies_pkey"),
    Index("slum_area_tallies_kecamatan_idx", func.left(text("kelurahan_code"), 8)),
    Index("slum_area_tallies_kabkota_idx", func.left(text("kelurahan_code"), 5)),
)

# -- basemap (0013): OpenStreetMap (or any vector file) roads, buildings, water, landuse and places ------------------
# One table for the five basemap layers (`layer`), loaded by `kotaku basemap import` (layers/basemap/imports.py);
# `min_zoom` (from the class) says from which zoom a feature is in a tile, `rank` which come first under the cap.
# A row without tenant serves every kab/kota.
basemap_features = Table(
    "basemap_features", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", TENANT_CODE),
    Column("layer", Text, nullable=False),
    Column("class", Text, nullable=False),
    Column("name", Text),
    Column("min_zoom", Integer, nullable=False),
    Column("rank", Integer, nullable=False, server_default=text("0")),
    Column("osm_id", Text),
    Column("source_file", Text),
    Column("geom", _geometry("GEOMETRY"), nullable=False),
    CheckConstraint("layer IN ('roads', 'buildings', 'water', 'landuse', 'places')",
                    name="basemap_features_layer_check"),
    CheckConstraint("min_zoom BETWEEN 0 AND 22", name="basemap_features_min_zoom_check"),
    Index("basemap_features_geom_idx", "geom", postgresql_using="gist"),
    Index("basemap_features_layer_idx", "layer", "min_zoom"),
    Index("basemap_features_tenant_idx", "tenant"),
)
