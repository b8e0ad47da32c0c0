"""Reading what psycopg types as optional but a statement always gives: the row of an aggregate or of
INSERT ... RETURNING, and the column names of a query that returns rows. Both raise a clear error instead of a
TypeError on None when that promise is broken."""

from __future__ import annotations

from typing import Any, Protocol

from psycopg import Column


class _Described(Protocol):
    @property
    def description(self) -> list[Column] | None: ...


def one(row: tuple[Any, ...] | None, what: str) -> tuple[Any, ...]:
    """`row` (from fetchone) of a statement that always returns one, e.g. `SELECT count(*)` or `RETURNING id`."""
    if row is None:
        raise RuntimeError(f"{what} returned no row")
    return row


def column_names(cur: _Described) -> list[str]:
    """The result's column names; RuntimeError when the statement returned no rows at all (no description)."""
    if cur.description is None:
        raise RuntimeError("the statement returned no result set: no column names to read")
    return [c.name for c in cur.description]
