"""From plan to asset: the service life of each activity kind (umur layanan).

Revision ID: 0011
Revises: 0005
"""

from alembic import op

revision = "0011"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = r"""
-- Placeholder years per kind (data/reference/activity_kinds.csv), a city may change them.
ALTER TABLE activity_kinds ADD COLUMN service_life_years integer
    CONSTRAINT activity_kinds_service_life_years_check CHECK (service_life_years > 0);
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute("ALTER TABLE activity_kinds DROP COLUMN IF EXISTS service_life_years")
