"""The overlap check's candidates as a function of the search box (overlap_candidates(box)), not a view.

As a view joined on `b.geom && ST_Expand(n.geom, ...)`, the planner could not push the join condition into the
branches of its UNION ALL (activities, assets) and scanned every live activity for each check: 327 ms p50 at
2x10^5 activities and 10^5 assets. The function puts `geom && box` inside each branch (GiST index scans): 0.37 ms.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

from layers.db.sql import load_sql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS overlap_candidates")
    op.execute(load_sql("overlap_candidates"))


def downgrade() -> None:
    # Downgrades serve `kotaku db reset` (down to base): the view of 0011 is not made again, and 0011's own
    # downgrade drops whichever of the two exists.
    op.execute("DROP FUNCTION IF EXISTS overlap_candidates(geometry)")
