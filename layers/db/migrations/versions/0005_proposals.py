"""Proposals: workflow history, collaboration links, overrides of overlap blocks, photo attachments.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

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

-- The local UTM zone of a geometry: overlap measures are taken in metres there.
CREATE FUNCTION kotaku_utm_srid(g geometry) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ST_Y(c) >= 0 THEN 32600 ELSE 32700 END + (floor((ST_X(c) + 180) / 6)::int % 60) + 1
    FROM (SELECT ST_Centroid(ST_Envelope(g)) AS c) p
$$;

-- How two activity geometries relate, measured in metres in the UTM zone of the first (KOTAKU brief section 7):
-- lines: shared length (within `noise` of each other) and its share of each line; a conflict when the shared
--   length is beyond the digitising noise at both ends (2 x noise) and above `line_share` of the shorter line;
--   touching end to end (endpoints within `noise`) is a continuation: collaboration, not a conflict;
-- polygons: shared area and its share of each; a conflict above `poly_share` of the smaller one;
-- a point against anything: the distance; a conflict within `radius` (a point inside a polygon is at 0 m);
-- a line against a polygon: the length of the line inside the polygon, judged like two lines.
-- relation is 'konflik', 'kolaborasi' or NULL; overlap is the shared part (EPSG:4326) for a conflict.
CREATE FUNCTION kotaku_overlap(
    a geometry, b geometry, noise float8, line_share float8, poly_share float8, radius float8,
    OUT relation text, OUT measure text, OUT amount float8, OUT share_a float8, OUT share_b float8,
    OUT overlap geometry
) LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    srid integer := kotaku_utm_srid(a);
    pa geometry := ST_Transform(a, srid);
    pb geometry := ST_Transform(b, srid);
    da integer := ST_Dimension(pa);
    db integer := ST_Dimension(pb);
    la float8;
    lb float8;
    shared_a float8;
    shared_b float8;
    line geometry;
    area geometry;
    inter geometry;
BEGIN
    IF da = 1 AND db = 1 THEN
        measure := 'shared_length_m';
        la := ST_Length(pa);
        lb := ST_Length(pb);
        inter := ST_Intersection(pa, ST_Buffer(pb, noise));
        shared_a := ST_Length(inter);
        shared_b := ST_Length(ST_Intersection(pb, ST_Buffer(pa, noise)));
        amount := least(shared_a, shared_b);
        share_a := least(1.0, shared_a / nullif(la, 0));
        share_b := least(1.0, shared_b / nullif(lb, 0));
        IF amount > 2 * noise AND amount / nullif(least(la, lb), 0) > line_share THEN
            relation := 'konflik';
        ELSIF ST_DWithin(ST_Boundary(pa), ST_Boundary(pb), noise) THEN
            relation := 'kolaborasi';
        END IF;
    ELSIF da = 2 AND db = 2 THEN
        measure := 'shared_area_m2';
        inter := ST_Intersection(pa, pb);
        amount := ST_Area(inter);
        share_a := amount / nullif(ST_Area(pa), 0);
        share_b := amount / nullif(ST_Area(pb), 0);
        IF amount / nullif(least(ST_Area(pa), ST_Area(pb)), 0) > poly_share THEN
            relation := 'konflik';
        ELSIF ST_DWithin(pa, pb, noise) THEN
            relation := 'kolaborasi';
        END IF;
    ELSIF da = 0 OR db = 0 THEN
        measure := 'distance_m';
        amount := ST_Distance(pa, pb);
        IF amount <= radius THEN
            relation := 'konflik';
            inter := CASE WHEN amount = 0 THEN ST_Intersection(pa, pb) ELSE ST_ShortestLine(pa, pb) END;
        END IF;
    ELSE
        measure := 'shared_length_m';
        line := CASE WHEN da = 1 THEN pa ELSE pb END;
        area := CASE WHEN da = 2 THEN pa ELSE pb END;
        inter := ST_Intersection(line, area);
        amount := ST_Length(inter);
        share_a := CASE WHEN da = 1 THEN least(1.0, amount / nullif(ST_Length(line), 0)) END;
        share_b := CASE WHEN db = 1 THEN least(1.0, amount / nullif(ST_Length(line), 0)) END;
        IF amount > 2 * noise AND amount / nullif(ST_Length(line), 0) > line_share THEN
            relation := 'konflik';
        END IF;
    END IF;
    IF relation = 'konflik' AND inter IS NOT NULL AND NOT ST_IsEmpty(inter) THEN
        overlap := ST_Transform(inter, 4326);
    END IF;
END $$;
"""


def upgrade() -> None:
    op.execute(SCHEMA)
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
