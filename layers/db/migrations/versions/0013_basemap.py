"""Basemap features (issue 13): roads, buildings, water, landuse and places from OpenStreetMap or any vector file.

One table, `basemap_features`, the layer in a column; its writes bump the `basemap` data version (tile ETags).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SCHEMA = r"""
CREATE TABLE basemap_features (
    id bigserial PRIMARY KEY,
    tenant tenant_code,
    layer text NOT NULL CONSTRAINT basemap_features_layer_check
        CHECK (layer IN ('roads', 'buildings', 'water', 'landuse', 'places')),
    class text NOT NULL,
    name text,
    min_zoom integer NOT NULL CONSTRAINT basemap_features_min_zoom_check CHECK (min_zoom BETWEEN 0 AND 22),
    rank integer NOT NULL DEFAULT 0,
    osm_id text,
    source_file text,
    geom geometry(GEOMETRY, 4326) NOT NULL
);
CREATE INDEX basemap_features_geom_idx ON basemap_features USING gist (geom);
CREATE INDEX basemap_features_layer_idx ON basemap_features (layer, min_zoom);
CREATE INDEX basemap_features_tenant_idx ON basemap_features (tenant);
CREATE TRIGGER basemap_features_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON basemap_features
    FOR EACH STATEMENT EXECUTE FUNCTION bump_layer_version('basemap');
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS basemap_features")
