"""Survey scoring support: flagged surveys, priority inputs, strategic zones, raster statistics, per-tenant
priority matrices, the derived slum-area scores/priorities and the `slum_area_status` view (issue: scoring)

Scores are derived, never truth: `slum_area_scores` and `slum_area_priorities` are a cache that
`layers.scoring.scores.refresh_status` rebuilds from the surveys (Python scoring functions of `indicators/`). Every
change of an input marks the tenant stale in `scoring_state` (statement triggers), so the view says when its
figures predate the data.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from layers.db.sql import load_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = r"""
-- A survey row whose stored percentages/scores contradict its volumes is kept (with the reason) but not scored.
ALTER TABLE surveys ADD COLUMN flagged boolean NOT NULL DEFAULT false;
ALTER TABLE surveys ADD COLUMN problems jsonb NOT NULL DEFAULT '[]';
ALTER TABLE surveys ADD COLUMN stored jsonb;
ALTER TABLE surveys ADD COLUMN source_row integer;
CREATE INDEX surveys_unit_idx ON surveys (unit_id);

-- Zones the spatial plan (RTRW/RDTR) calls strategic: a slum area they cover gets their strategic value.
CREATE TABLE strategic_zones (
    id bigserial PRIMARY KEY,
    tenant tenant_code NOT NULL,
    name text,
    value text NOT NULL,
    attributes jsonb NOT NULL DEFAULT '{}',
    source_file text,
    source_feature integer,
    geom geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX strategic_zones_geom_idx ON strategic_zones USING gist (geom);
CREATE INDEX strategic_zones_tenant_idx ON strategic_zones (tenant);

-- Pertimbangan lain and legality inputs that no layer provides (from the Pokja's assessment).
CREATE TABLE slum_area_priority_inputs (
    slum_area_id bigint PRIMARY KEY REFERENCES slum_areas (id) ON DELETE CASCADE,
    tenant tenant_code NOT NULL,
    mbr_share_pct double precision CHECK (mbr_share_pct BETWEEN 0 AND 100),
    potential text,
    strategic_value text,
    legality text CHECK (legality IN ('legal', 'ilegal')),
    tenure_legal boolean,
    spatial_plan_conform boolean,
    population integer CHECK (population >= 0),
    source text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Zonal statistics of rasters per slum area: population (people) and flood (share of the area above a depth).
CREATE TABLE slum_area_raster_stats (
    slum_area_id bigint NOT NULL REFERENCES slum_areas (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('population', 'flood')),
    tenant tenant_code NOT NULL,
    value double precision,
    valid_share double precision,
    params jsonb NOT NULL DEFAULT '{}',
    source_file text,
    raster_crs text,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slum_area_id, kind)
);

-- A tenant's own level x PL x legality matrix; without rows the packaged indicators/tables one applies.
CREATE TABLE priority_matrices (
    tenant tenant_code NOT NULL,
    level text NOT NULL,
    pl text NOT NULL,
    legality text NOT NULL,
    class text NOT NULL,
    rank integer NOT NULL,
    rank9 integer,
    handling text NOT NULL,
    PRIMARY KEY (tenant, level, pl, legality)
);

-- Derived (cache): slum-area scores per round from the summed volumes of its units, or the decree's own score.
CREATE TABLE slum_area_scores (
    slum_area_id bigint NOT NULL REFERENCES slum_areas (id) ON DELETE CASCADE,
    round text NOT NULL,
    tenant tenant_code NOT NULL,
    round_order integer NOT NULL,
    is_current boolean NOT NULL DEFAULT false,
    scheme text NOT NULL,
    source text NOT NULL CHECK (source IN ('surveys', 'decree')),
    total_score integer,
    level text,
    avg_overall double precision,
    units integer,
    units_scored integer,
    coverage double precision,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slum_area_id, round)
);
CREATE INDEX slum_area_scores_current_idx ON slum_area_scores (slum_area_id) WHERE is_current;
CREATE INDEX slum_area_scores_tenant_idx ON slum_area_scores (tenant);

-- Derived (cache): the priority of each slum area at its current level.
CREATE TABLE slum_area_priorities (
    slum_area_id bigint PRIMARY KEY REFERENCES slum_areas (id) ON DELETE CASCADE,
    tenant tenant_code NOT NULL,
    round text,
    priority_class text,
    priority_rank integer,
    position integer,
    handling text,
    kewenangan text,
    pl text,
    legality text,
    basis text,
    missing text[] NOT NULL DEFAULT '{}',
    computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX slum_area_priorities_tenant_idx ON slum_area_priorities (tenant);

-- Inputs changed since the last refresh <=> changes > refreshed_changes.
CREATE TABLE scoring_state (
    tenant tenant_code PRIMARY KEY,
    changes bigint NOT NULL DEFAULT 0,
    refreshed_changes bigint NOT NULL DEFAULT 0,
    refreshed_at timestamptz
);
-- (mark_scoring_stale(), the trigger function, and the slum_area_status view: layers/db/sql/)
"""

# Tables whose changes make the derived scores and priorities stale.
WATCHED = ("surveys", "survey_units", "slum_areas", "slum_area_priority_inputs", "slum_area_raster_stats",
           "strategic_zones", "priority_matrices")


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute(load_sql("mark_scoring_stale"))
    op.execute(load_sql("slum_area_status"))
    for table in WATCHED:
        op.execute(f"CREATE TRIGGER {table}_scoring_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
                   "FOR EACH STATEMENT EXECUTE FUNCTION mark_scoring_stale()")
        op.execute(f"CREATE TRIGGER {table}_scoring_upd AFTER UPDATE ON {table} "
                   "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
                   "FOR EACH STATEMENT EXECUTE FUNCTION mark_scoring_stale()")
        op.execute(f"CREATE TRIGGER {table}_scoring_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
                   "FOR EACH STATEMENT EXECUTE FUNCTION mark_scoring_stale()")


def downgrade() -> None:
    for table in WATCHED:
        for suffix in ("ins", "upd", "del"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_scoring_{suffix} ON {table}")
    op.execute("DROP VIEW IF EXISTS slum_area_status")
    for table in ("scoring_state", "slum_area_priorities", "slum_area_scores", "priority_matrices",
                  "slum_area_raster_stats", "slum_area_priority_inputs", "strategic_zones"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP FUNCTION IF EXISTS mark_scoring_stale()")
    op.execute("DROP INDEX IF EXISTS surveys_unit_idx")
    for column in ("source_row", "stored", "problems", "flagged"):
        op.execute(f"ALTER TABLE surveys DROP COLUMN IF EXISTS {column}")
