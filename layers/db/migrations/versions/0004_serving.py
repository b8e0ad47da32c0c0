"""Serving support: data versions that follow decrees and scores, per-kelurahan tallies for low-zoom tiles,
indexes (issue: serving)

- A decree's publication (or number, date, scheme) changes what the public sees of its slum areas and survey
  units: writes to `decrees` bump the `slum-areas` and `survey-units` layer versions, so ETags change at once.
  The scoring cache tables (slum_area_scores, slum_area_priorities, when present) style slum-area maps: writes to
  them bump `slum-areas` too.
- Low-zoom tiles show per-region aggregates. Summing a million activities per tile is too slow, so each layer
  keeps tallies per kelurahan (`activity_tallies`, `slum_area_tallies`); a tile sums the few thousand tallies of
  its regions. Writes only note which kelurahan changed (`tally_dirty`, from statement triggers' transition
  tables: set-based, cheap); layers/serving/tallies.py recomputes those tallies, with the same SQL as the features,
  before the next aggregate tile is drawn. '*' means "recompute all" (after TRUNCATE, a scheme or score change).
- Jit off for this database: JIT compilation costs tens to hundreds of milliseconds on heavy tile statements.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from layers.db.sql import load_sql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TRIGGER decrees_version_slum_areas AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON decrees
    FOR EACH STATEMENT EXECUTE FUNCTION bump_layer_version('slum-areas');
CREATE TRIGGER decrees_version_survey_units AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON decrees
    FOR EACH STATEMENT EXECUTE FUNCTION bump_layer_version('survey-units');

-- (A role that does not own the database keeps the server's setting.)
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'jit left on: not the owner of the database'; END $$;

CREATE INDEX activities_kelurahan_idx ON activities (kelurahan_code);
CREATE INDEX activities_slum_area_idx ON activities (slum_area_id);
CREATE INDEX survey_units_kelurahan_idx ON survey_units (kelurahan_code);
CREATE INDEX survey_units_kecamatan_idx ON survey_units (left(kelurahan_code, 8));
CREATE INDEX survey_units_kabkota_idx ON survey_units (left(kelurahan_code, 5));

CREATE TABLE tally_dirty (
    layer text NOT NULL,
    kelurahan_code text NOT NULL  -- '*': every kelurahan
);
CREATE INDEX tally_dirty_layer_idx ON tally_dirty (layer);

CREATE TABLE activity_tallies (
    kelurahan_code text PRIMARY KEY,
    features bigint NOT NULL,
    cost numeric,
    programs text[] NOT NULL,
    funding_sources text[] NOT NULL,
    year_min integer,
    year_max integer,
    live_features bigint NOT NULL,  -- not rejected or cancelled (keterpaduan)
    live_cost numeric,
    live_programs text[] NOT NULL,
    live_funding_sources text[] NOT NULL,
    live_year_min integer,
    live_year_max integer
);

CREATE TABLE slum_area_tallies (
    kelurahan_code text NOT NULL,
    decree_id bigint NOT NULL,  -- with tenant: the row filters of slum areas apply to tallies unchanged
    tenant text NOT NULL,
    features bigint NOT NULL,
    area_ha double precision,
    worst_level integer,  -- position in the level order (TK, KR, KS, KB)
    score_sum double precision,
    scored bigint NOT NULL,
    urgent_priority integer,  -- rank of the most urgent priority class
    PRIMARY KEY (kelurahan_code, decree_id)
);

-- Tiles join tallies to the regions they show by kelurahan, kecamatan (8 characters) or kab/kota (5) code.
-- (Prepared tile statements run generic plans that expect few regions: index lookups keep them fast.)
CREATE INDEX activity_tallies_kecamatan_idx ON activity_tallies (left(kelurahan_code, 8));
CREATE INDEX activity_tallies_kabkota_idx ON activity_tallies (left(kelurahan_code, 5));
CREATE INDEX slum_area_tallies_kecamatan_idx ON slum_area_tallies (left(kelurahan_code, 8));
CREATE INDEX slum_area_tallies_kabkota_idx ON slum_area_tallies (left(kelurahan_code, 5));

-- (note_dirty_kelurahan() and note_all_dirty(), the trigger functions: layers/db/sql/, loaded first)
INSERT INTO tally_dirty (layer, kelurahan_code) VALUES ('activities', '*'), ('slum-areas', '*');
-- (A decree's scheme bands its stated scores; deleting or truncating decrees deletes slum areas, noted there.)
CREATE TRIGGER decrees_tallies AFTER UPDATE OF scheme ON decrees
    FOR EACH STATEMENT EXECUTE FUNCTION note_all_dirty('slum-areas');
"""

TALLIED = {"activities": "activities", "slum_areas": "slum-areas"}


def _tally_triggers(table: str, layer: str) -> str:
    name = f"{table}_tallies"
    return f"""
CREATE TRIGGER {name}_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION note_dirty_kelurahan('{layer}');
CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION note_dirty_kelurahan('{layer}');
CREATE TRIGGER {name}_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION note_dirty_kelurahan('{layer}');
CREATE TRIGGER {name}_trunc AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION note_all_dirty('{layer}');
"""


# The scoring cache tables (0003) style slum-area maps. Triggers are created only when the tables exist, so this
# file does not depend on that work's table names; any change there recomputes the slum-area tallies.
SCORE_CACHE_TRIGGERS = """
DO $$
DECLARE name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['slum_area_scores', 'slum_area_priorities'] LOOP
        IF to_regclass(name) IS NOT NULL THEN
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                           'FOR EACH STATEMENT EXECUTE FUNCTION bump_layer_version(%L)',
                           name || '_version', name, 'slum-areas');
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                           'FOR EACH STATEMENT EXECUTE FUNCTION note_all_dirty(%L)',
                           name || '_tallies', name, 'slum-areas');
        END IF;
    END LOOP;
END $$;
"""

DOWNGRADE = """
DO $$
DECLARE name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['slum_area_scores', 'slum_area_priorities'] LOOP
        IF to_regclass(name) IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', name || '_version', name);
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', name || '_tallies', name);
        END IF;
    END LOOP;
END $$;
DROP TRIGGER IF EXISTS decrees_tallies ON decrees;
DROP TABLE IF EXISTS slum_area_tallies;
DROP TABLE IF EXISTS activity_tallies;
DROP TABLE IF EXISTS tally_dirty;
DROP INDEX IF EXISTS survey_units_kabkota_idx;
DROP INDEX IF EXISTS survey_units_kecamatan_idx;
DROP INDEX IF EXISTS survey_units_kelurahan_idx;
DROP INDEX IF EXISTS activities_slum_area_idx;
DROP INDEX IF EXISTS activities_kelurahan_idx;
DROP TRIGGER IF EXISTS decrees_version_survey_units ON decrees;
DROP TRIGGER IF EXISTS decrees_version_slum_areas ON decrees;
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET jit', current_database());
EXCEPTION WHEN insufficient_privilege THEN NULL; END $$;
"""


def upgrade() -> None:
    op.execute(load_sql("note_dirty_kelurahan"))
    op.execute(load_sql("note_all_dirty"))
    op.execute(UPGRADE)
    for table, layer in TALLIED.items():
        op.execute(_tally_triggers(table, layer))
    op.execute(SCORE_CACHE_TRIGGERS)


def downgrade() -> None:
    for table in TALLIED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_tallies_ins ON {table}; "
                   f"DROP TRIGGER IF EXISTS {table}_tallies_upd ON {table}; "
                   f"DROP TRIGGER IF EXISTS {table}_tallies_del ON {table}; "
                   f"DROP TRIGGER IF EXISTS {table}_tallies_trunc ON {table}")
    op.execute(DOWNGRADE)
    op.execute("DROP FUNCTION IF EXISTS note_dirty_kelurahan(); DROP FUNCTION IF EXISTS note_all_dirty()")
