"""Schema v1: regions, decrees, slum areas, survey units, surveys, reference tables, activities, users, audit.

Revision ID: 0001
Revises:
"""

from alembic import op

from layers.db.sql import load_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Kemendagri codes: PP, PP.KK, PP.KK.CC or PP.KK.CC.DDDD. Tenant = the kab/kota part (PP.KK).
SCHEMA = r"""
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE DOMAIN kemendagri_code AS text CHECK (VALUE ~ '^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$');
CREATE DOMAIN tenant_code AS text CHECK (VALUE ~ '^\d{2}\.\d{2}$');

-- Data version per layer, bumped by every write: ETags of tiles and items are tied to it.
CREATE TABLE layer_versions (
    layer text PRIMARY KEY,
    version bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- (bump_layer_version(), the trigger function: layers/db/sql/bump_layer_version.sql)

CREATE TABLE regions (
    code kemendagri_code PRIMARY KEY,
    bps_code text,
    name text NOT NULL,
    level text NOT NULL CHECK (level IN ('provinsi', 'kabkota', 'kecamatan', 'desa_kelurahan')),
    kind text CHECK (kind IN ('provinsi', 'kabupaten', 'kota', 'kecamatan', 'kelurahan', 'desa')),
    parent_code kemendagri_code,
    tenant tenant_code GENERATED ALWAYS AS (CASE WHEN length(code) >= 5 THEN left(code, 5) END) STORED,
    area_ha double precision NOT NULL,
    source text,
    geom geometry(MultiPolygon, 4326) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX regions_geom_idx ON regions USING gist (geom);
CREATE INDEX regions_parent_idx ON regions (parent_code);
CREATE INDEX regions_level_tenant_idx ON regions (level, tenant);

CREATE TABLE decrees (
    id bigserial PRIMARY KEY,
    tenant tenant_code NOT NULL,
    number text NOT NULL,
    title text,
    decree_date date,
    scheme text NOT NULL DEFAULT 'permen14_2018',
    published boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, number)
);

CREATE TABLE slum_areas (
    id bigserial PRIMARY KEY,
    tenant tenant_code NOT NULL,
    decree_id bigint NOT NULL REFERENCES decrees (id) ON DELETE CASCADE,
    kawasan text,
    unit_label text,
    kelurahan_code kemendagri_code,
    declared_kelurahan_code text,
    area_ha double precision NOT NULL,
    stated_area_ha double precision,
    legality text CHECK (legality IN ('legal', 'ilegal')),
    typology text,
    attributes jsonb NOT NULL DEFAULT '{}',
    source_file text,
    source_feature integer,
    synthetic boolean NOT NULL DEFAULT false,
    geom geometry(MultiPolygon, 4326) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX slum_areas_geom_idx ON slum_areas USING gist (geom);
CREATE INDEX slum_areas_tenant_idx ON slum_areas (tenant, decree_id);
CREATE INDEX slum_areas_kelurahan_idx ON slum_areas (kelurahan_code);

-- Every kelurahan a slum area overlaps, with its share: a straddling area has several rows.
CREATE TABLE slum_area_regions (
    slum_area_id bigint NOT NULL REFERENCES slum_areas (id) ON DELETE CASCADE,
    region_code kemendagri_code NOT NULL,
    overlap_ha double precision NOT NULL,
    share double precision NOT NULL CHECK (share >= 0 AND share <= 1.000001),
    PRIMARY KEY (slum_area_id, region_code)
);
CREATE INDEX slum_area_regions_region_idx ON slum_area_regions (region_code);

CREATE TABLE survey_units (
    id bigserial PRIMARY KEY,
    tenant tenant_code NOT NULL,
    slum_area_id bigint REFERENCES slum_areas (id) ON DELETE SET NULL,
    kelurahan_code kemendagri_code,
    label text NOT NULL,
    area_ha double precision,
    buildings integer,
    population integer,
    households integer,
    road_length_m double precision,
    drainage_length_m double precision,
    attributes jsonb NOT NULL DEFAULT '{}',
    synthetic boolean NOT NULL DEFAULT false,
    geom geometry(MultiPolygon, 4326),
    UNIQUE (tenant, kelurahan_code, label)
);
CREATE INDEX survey_units_geom_idx ON survey_units USING gist (geom);
CREATE INDEX survey_units_slum_area_idx ON survey_units (slum_area_id);

-- Volumes per criterion as measured; scores are derived, never stored as truth.
CREATE TABLE surveys (
    id bigserial PRIMARY KEY,
    tenant tenant_code NOT NULL,
    unit_id bigint NOT NULL REFERENCES survey_units (id) ON DELETE CASCADE,
    round text NOT NULL,
    survey_date date,
    scheme text NOT NULL DEFAULT 'permen14_2018',
    area_ha double precision,
    buildings integer,
    population integer,
    households integer,
    road_length_m double precision,
    drainage_length_m double precision,
    volumes jsonb NOT NULL DEFAULT '{}',
    source text,
    synthetic boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_id, round)
);
CREATE INDEX surveys_tenant_round_idx ON surveys (tenant, round);

-- Reference tables, seeded from data/reference/*.csv.
CREATE TABLE programs (
    code text PRIMARY KEY,
    name text NOT NULL,
    description text,
    financier text
);
CREATE TABLE funding_sources (
    code text PRIMARY KEY,
    name text NOT NULL,
    category text NOT NULL,
    description text
);
CREATE TABLE activity_kinds (
    code text PRIMARY KEY,
    name text NOT NULL,
    criteria text[] NOT NULL,
    unit text NOT NULL,
    unit_price numeric,
    geometry_type text NOT NULL CHECK (geometry_type IN ('point', 'line', 'polygon')),
    line_noise_m double precision NOT NULL DEFAULT 5,
    line_min_shared_share double precision NOT NULL DEFAULT 0.2,
    polygon_min_shared_share double precision NOT NULL DEFAULT 0.1,
    point_radius_m double precision NOT NULL DEFAULT 25
);

CREATE TABLE activities (
    id bigserial PRIMARY KEY,
    tenant tenant_code NOT NULL,
    title text NOT NULL,
    kind text NOT NULL REFERENCES activity_kinds (code),
    criteria text[] NOT NULL DEFAULT '{}',
    volume numeric,
    unit text,
    cost numeric CHECK (cost >= 0),
    year_start integer NOT NULL CHECK (year_start BETWEEN 2000 AND 2100),
    year_end integer NOT NULL,
    program text REFERENCES programs (code),
    funding_source text REFERENCES funding_sources (code),
    proposer_area text,
    proposer_name text,
    proposer_phone text,
    target_agency text,
    kelurahan_code kemendagri_code,
    slum_area_id bigint REFERENCES slum_areas (id) ON DELETE SET NULL,
    stage text NOT NULL DEFAULT 'rembuk_warga',
    status text NOT NULL DEFAULT 'aktif'
        CHECK (status IN ('aktif', 'dikembalikan', 'ditolak', 'dibatalkan', 'selesai')),
    progress integer NOT NULL DEFAULT 0 CHECK (progress IN (0, 50, 100)),
    length_m double precision,
    area_m2 double precision,
    synthetic boolean NOT NULL DEFAULT false,
    attributes jsonb NOT NULL DEFAULT '{}',
    geom geometry(Geometry, 4326) NOT NULL CHECK (
        GeometryType(geom) IN ('POINT', 'LINESTRING', 'MULTILINESTRING', 'POLYGON', 'MULTIPOLYGON')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (year_end >= year_start)
);
CREATE INDEX activities_geom_idx ON activities USING gist (geom);
CREATE INDEX activities_tenant_idx ON activities (tenant, year_start);
CREATE INDEX activities_kind_idx ON activities (kind);

CREATE TABLE roles (
    code text PRIMARY KEY,
    name text NOT NULL,
    description text
);
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    username text NOT NULL UNIQUE,
    display_name text,
    role text NOT NULL REFERENCES roles (code),
    area_code text,
    tenant tenant_code,
    password_hash text,
    disabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Append-only and hash-chained (behaviour and grants: the accounts issue).
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor text,
    tenant tenant_code,
    action text NOT NULL,
    entity text NOT NULL,
    entity_id text,
    before jsonb,
    after jsonb,
    prev_hash text,
    hash text
);
"""

VERSIONED_LAYERS = {
    "regions": "regions",
    "slum_areas": "slum-areas",
    "slum_area_regions": "slum-areas",
    "survey_units": "survey-units",
    "surveys": "survey-units",
    "activities": "activities",
}


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute(load_sql("bump_layer_version"))
    for table, layer in VERSIONED_LAYERS.items():
        op.execute(f"INSERT INTO layer_versions (layer) VALUES ('{layer}') ON CONFLICT DO NOTHING")
        op.execute(
            f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION bump_layer_version('{layer}')"
        )


def downgrade() -> None:
    for table in (
        "audit_log", "users", "roles", "activities", "activity_kinds", "funding_sources", "programs", "surveys",
        "survey_units", "slum_area_regions", "slum_areas", "decrees", "regions", "layer_versions",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP FUNCTION IF EXISTS bump_layer_version()")
    op.execute("DROP DOMAIN IF EXISTS tenant_code")
    op.execute("DROP DOMAIN IF EXISTS kemendagri_code")
