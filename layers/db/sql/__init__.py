"""SQL functions, trigger functions and views: one file each, `<name>.sql`, the one current definition to read.

Each file is idempotent (CREATE OR REPLACE) and the migration that makes the object loads it with
`op.execute(load_sql(name))`. To change one: edit its file and add a migration that loads it again. If an earlier
migration could no longer run with the new text (a view over a column that a later migration adds), that earlier
migration keeps a copy of its historic text inline; the file stays the current definition.
"""

from __future__ import annotations

from importlib import resources

NAMES = (
    "bump_layer_version",
    "audit_log_append_only",
    "mark_scoring_stale",
    "slum_area_status",
    "note_dirty_kelurahan",
    "note_all_dirty",
    "kotaku_utm_srid",
    "kotaku_overlap",
    "overlap_candidates",
)


def load_sql(name: str) -> str:
    """The text of layers/db/sql/<name>.sql (installed with the package)."""
    return resources.files(__name__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
