"""Proposals: workflow history, collaboration links, overrides of overlap blocks, photo attachments.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from layers.db.sql import load_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = r"""
-- The planning chain of KOTAKU brief section 7, in order.
ALTER TABLE activities ADD CONSTRAINT activities_stage_check CHECK (stage IN (
    'rembuk_warga', 'musrenbang_kelurahan', 'musrenbang_kecamatan', 'pokir_dprd', 'renja_opd', 'rkpd',
    'pelaksanaan', 'selesai', 'serah_terima'));
ALTER TABLE activities ADD COLUMN override_reason text;
ALTER TABLE activities ADD COLUMN created_by text;
CREATE INDEX activities_live_idx ON activities (kind) WHERE status NOT IN ('ditolak', 'dibatalkan');

-- Every step, rejection, return and override: the public history of a proposal.
CREATE TABLE activity_events (
    id bigserial PRIMARY KEY,
    activity_id bigint NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor text,
    actor_role text,
    action text NOT NULL,
    from_stage text,
    to_stage text,
    from_status text,
    to_status text,
    progress integer,
    reason text
);
CREATE INDEX activity_events_activity_idx ON activity_events (activity_id, at);

-- Collaboration (touching end to end, e.g. APBD then Dana Desa on one road) and accepted overlaps.
CREATE TABLE activity_links (
    activity_id bigint NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    other_id bigint NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    relation text NOT NULL CHECK (relation IN ('kolaborasi', 'tumpang_tindih_disetujui')),
    measure jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (activity_id, other_id, relation)
);
CREATE INDEX activity_links_other_idx ON activity_links (other_id);

CREATE TABLE activity_attachments (
    id bigserial PRIMARY KEY,
    activity_id bigint NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    file_name text NOT NULL,
    stored_path text NOT NULL,
    media_type text NOT NULL,
    size_bytes bigint NOT NULL,
    sha256 text NOT NULL,
    taken_at timestamptz,
    lon double precision,
    lat double precision,
    distance_m double precision,
    flagged boolean NOT NULL DEFAULT false,
    flag_reason text,
    uploaded_by text,
    uploaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activity_attachments_activity_idx ON activity_attachments (activity_id);

-- (kotaku_utm_srid() and kotaku_overlap(), the overlap measure: layers/db/sql/)
"""


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute(load_sql("kotaku_utm_srid"))
    op.execute(load_sql("kotaku_overlap"))
    for table, layer in (("activity_events", "activities"), ("activity_links", "activities")):
        op.execute(
            f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION bump_layer_version('{layer}')"
        )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS kotaku_overlap(geometry, geometry, float8, float8, float8, float8)")
    op.execute("DROP FUNCTION IF EXISTS kotaku_utm_srid(geometry)")
    op.execute("DROP TABLE IF EXISTS activity_attachments, activity_links, activity_events CASCADE")
    op.execute("DROP INDEX IF EXISTS activities_live_idx")
    op.execute("ALTER TABLE activities DROP COLUMN IF EXISTS created_by, DROP COLUMN IF EXISTS override_reason")
    op.execute("ALTER TABLE activities DROP CONSTRAINT IF EXISTS activities_stage_check")
