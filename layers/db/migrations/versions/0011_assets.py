"""From plan to asset (issue 12): the service life of each activity kind (umur layanan), the asset register
(assets from handed-over activities, their inspections and maintenance), community groups (KPP, BKM/LKM) with their
members, rehabilitation links, and the overlap check against assets (overlap_candidates, kotaku_overlap again).

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from layers.db.sql import load_sql

revision = "0011"
down_revision = "0008"  # 0009 and 0010 were reserved for work that needed no migration
branch_labels = None
depends_on = None

SCHEMA = r"""
-- Placeholder years per kind (data/reference/activity_kinds.csv), a city may change them.
ALTER TABLE activity_kinds ADD COLUMN service_life_years integer
    CONSTRAINT activity_kinds_service_life_years_check CHECK (service_life_years > 0);

-- Community groups that receive and keep assets: KPP under the BKM/LKM of a kelurahan.
CREATE TABLE groups (
    id bigserial PRIMARY KEY,
    tenant tenant_code NOT NULL,
    kind text NOT NULL CONSTRAINT groups_kind_check CHECK (kind IN ('kpp', 'bkm', 'lkm')),
    name text NOT NULL,
    kelurahan_code kemendagri_code,
    parent_id bigint CONSTRAINT groups_parent_id_fkey REFERENCES groups (id),
    geom geometry(MultiPolygon, 4326),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX groups_tenant_idx ON groups (tenant);
CREATE TABLE group_members (
    id bigserial PRIMARY KEY,
    group_id bigint NOT NULL CONSTRAINT group_members_group_id_fkey REFERENCES groups (id) ON DELETE CASCADE,
    name text NOT NULL,
    role text,
    phone text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX group_members_group_idx ON group_members (group_id);

-- The asset register: one asset per handed-over activity (serah terima), its as-built geometry and facts.
CREATE TABLE assets (
    id bigserial PRIMARY KEY,
    activity_id bigint NOT NULL CONSTRAINT assets_activity_id_fkey REFERENCES activities (id),
    tenant tenant_code NOT NULL,
    title text NOT NULL,
    kind text NOT NULL CONSTRAINT assets_kind_fkey REFERENCES activity_kinds (code),
    criteria text[] NOT NULL DEFAULT '{}'::text[],
    program text,
    funding_source text,
    volume numeric,
    unit text,
    value numeric,
    geom geometry(Geometry, 4326) NOT NULL,
    geometry_source text NOT NULL DEFAULT 'usulan'
        CONSTRAINT assets_geometry_source_check CHECK (geometry_source IN ('usulan', 'gambar_akhir', 'berkas')),
    geometry_file text,
    recipient_kind text NOT NULL DEFAULT 'opd'
        CONSTRAINT assets_recipient_kind_check CHECK (recipient_kind IN ('opd', 'kelompok')),
    recipient_opd text,
    recipient_group_id bigint CONSTRAINT assets_recipient_group_id_fkey REFERENCES groups (id),
    handover_date date NOT NULL,
    handover_number text,
    handover_file text,
    condition text NOT NULL DEFAULT 'baik'
        CONSTRAINT assets_condition_check CHECK (condition IN ('baik', 'rusak_ringan', 'rusak_berat')),
    service_life_years integer NOT NULL CONSTRAINT assets_service_life_years_check CHECK (service_life_years > 0),
    inspection_interval_months integer NOT NULL DEFAULT 12
        CONSTRAINT assets_inspection_interval_months_check CHECK (inspection_interval_months > 0),
    last_inspected_on date,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assets_activity_id_key UNIQUE (activity_id)
);
CREATE INDEX assets_geom_idx ON assets USING gist (geom);
CREATE INDEX assets_tenant_idx ON assets (tenant);

CREATE TABLE asset_inspections (
    id bigserial PRIMARY KEY,
    asset_id bigint NOT NULL CONSTRAINT asset_inspections_asset_id_fkey REFERENCES assets (id) ON DELETE CASCADE,
    inspected_on date NOT NULL,
    condition text NOT NULL
        CONSTRAINT asset_inspections_condition_check CHECK (condition IN ('baik', 'rusak_ringan', 'rusak_berat')),
    notes text,
    photos text[] NOT NULL DEFAULT '{}'::text[],
    inspector text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX asset_inspections_asset_idx ON asset_inspections (asset_id, inspected_on);

CREATE TABLE asset_maintenance (
    id bigserial PRIMARY KEY,
    asset_id bigint NOT NULL CONSTRAINT asset_maintenance_asset_id_fkey REFERENCES assets (id) ON DELETE CASCADE,
    done_on date NOT NULL,
    kind text NOT NULL
        CONSTRAINT asset_maintenance_kind_check CHECK (kind IN ('operasi', 'pemeliharaan', 'perbaikan')),
    cost numeric,
    notes text,
    done_by text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX asset_maintenance_asset_idx ON asset_maintenance (asset_id, done_on);

-- An overlap with an asset or a completed work accepted as rehabilitation (with a reason, in the public history).
ALTER TABLE activity_links DROP CONSTRAINT activity_links_relation_check;
ALTER TABLE activity_links ADD CONSTRAINT activity_links_relation_check
    CHECK (relation IN ('kolaborasi', 'tumpang_tindih_disetujui', 'rehabilitasi'));

-- Activities handed over before this migration become assets: the proposal's geometry, the end of its last
-- fiscal year as handover date, its cost as value, its target agency as recipient.
INSERT INTO assets (activity_id, tenant, title, kind, criteria, program, funding_source, volume, unit, value, geom,
                    recipient_opd, handover_date, service_life_years, created_by)
SELECT a.id, a.tenant, a.title, a.kind, a.criteria, a.program, a.funding_source, a.volume, a.unit, a.cost, a.geom,
       a.target_agency, make_date(a.year_end, 12, 31), coalesce(k.service_life_years, 1), 'migrasi 0011'
FROM activities a JOIN activity_kinds k ON k.code = a.kind
WHERE a.stage = 'serah_terima';
"""


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute(load_sql("kotaku_overlap"))  # kotaku_continues: a continuation, never parallel alleys
    op.execute(load_sql("overlap_candidates"))
    for table in ("assets", "asset_inspections", "asset_maintenance"):
        op.execute(
            f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_layer_version('assets')"
        )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS overlap_candidates")
    op.execute("DROP FUNCTION IF EXISTS overlap_candidates(geometry)")  # what its file makes since 0014
    op.execute("DROP FUNCTION IF EXISTS kotaku_continues(geometry, geometry, float8)")
    op.execute("DELETE FROM activity_links WHERE relation = 'rehabilitasi'")
    op.execute("ALTER TABLE activity_links DROP CONSTRAINT activity_links_relation_check")
    op.execute("ALTER TABLE activity_links ADD CONSTRAINT activity_links_relation_check "
               "CHECK (relation IN ('kolaborasi', 'tumpang_tindih_disetujui'))")
    op.execute("DROP TABLE IF EXISTS asset_maintenance, asset_inspections, assets, group_members, groups")
    op.execute("ALTER TABLE activity_kinds DROP COLUMN IF EXISTS service_life_years")
