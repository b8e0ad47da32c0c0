"""Limits: the most vertices a geometry of each activity kind may have, and the login attempts the login limits
count (per account and per address, in a window; kept in PostgreSQL so every worker and host shares them).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = r"""
ALTER TABLE activity_kinds ADD COLUMN max_vertices integer;
ALTER TABLE activity_kinds ADD CONSTRAINT activity_kinds_max_vertices_check CHECK (max_vertices > 0);

CREATE TABLE login_attempts (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    username text NOT NULL,
    address text NOT NULL,
    succeeded boolean
);
CREATE INDEX login_attempts_username_idx ON login_attempts (username, at);
CREATE INDEX login_attempts_address_idx ON login_attempts (address, at);
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute("DROP TABLE login_attempts; "
               "ALTER TABLE activity_kinds DROP CONSTRAINT activity_kinds_max_vertices_check; "
               "ALTER TABLE activity_kinds DROP COLUMN max_vertices;")
