"""Decree versions: a replaced decree's slum areas are kept (with what hung on them) and can be restored; the
decree's own stated level and score of each slum area.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCHEMA = r"""
-- The level and score the decree (SK table) states for an area; used until a survey supersedes it.
ALTER TABLE slum_areas ADD COLUMN stated_level text;
ALTER TABLE slum_areas ADD COLUMN stated_score integer;
ALTER TABLE slum_areas ADD CONSTRAINT slum_areas_stated_level_check CHECK (stated_level IN ('TK', 'KR', 'KS', 'KB'));

-- One row each time a decree's areas were replaced (by an import with --replace, or by a restore).
CREATE TABLE decree_versions (
    id bigserial PRIMARY KEY,
    tenant tenant_code NOT NULL,
    decree_id bigint NOT NULL REFERENCES decrees (id) ON DELETE CASCADE,
    version integer NOT NULL,
    reason text NOT NULL CHECK (reason IN ('replace', 'restore')),
    replaced_by text,
    actor text,
    areas integer NOT NULL,
    area_ha double precision NOT NULL,
    kawasan text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    restored_at timestamptz,
    UNIQUE (decree_id, version)
);
CREATE INDEX decree_versions_tenant_idx ON decree_versions (tenant);

-- The replaced slum areas, whole (row as JSON, geometry as stored), with the rows that hung on them.
CREATE TABLE slum_areas_archive (
    version_id bigint NOT NULL REFERENCES decree_versions (id) ON DELETE CASCADE,
    slum_area_id bigint NOT NULL,
    row jsonb NOT NULL,
    geom geometry(MultiPolygon, 4326) NOT NULL,
    regions jsonb NOT NULL DEFAULT '[]'::jsonb,
    priority_input jsonb,
    raster_stats jsonb NOT NULL DEFAULT '[]'::jsonb,
    survey_unit_ids bigint[] NOT NULL DEFAULT '{}',
    activity_ids bigint[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (version_id, slum_area_id)
);
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS slum_areas_archive, decree_versions")
    op.execute("ALTER TABLE slum_areas DROP CONSTRAINT IF EXISTS slum_areas_stated_level_check, "
               "DROP COLUMN IF EXISTS stated_score, DROP COLUMN IF EXISTS stated_level")
