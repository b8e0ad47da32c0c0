"""Operations written once, run on a sync (CLI) or an async (HTTP) connection.

An operation is a generator: it yields a `Query`, receives the result as a pandas DataFrame, computes (the
vectorised scoring functions of `indicators/`), yields the next query, and finally returns its result. `run`
drives it with a psycopg connection, `arun` with an async one from the pool and moves the computing steps to a
worker thread so the event loop stays free. SQL stays set-based; Python never loops over rows.

This is the one way sync and async code is shared: a function wanted on both kinds of connection is written
once as an operation, and `run(conn, op)` / `await arun(aconn, op)` are its drivers (a module may name them,
e.g. `check_overlap` and `check_overlap_async`, as one-liners; never a second copy of the SQL). Small row-level
operations ask for `Query(..., rows=True)` (they receive the rows as tuples, no DataFrame) and are driven with
`arun(..., offload=False)` (their Python steps are too small for a worker thread).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import psycopg
from psycopg import sql

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")


@dataclass(frozen=True)
class Query:
    # A psycopg.sql Composable, never a str: sql.SQL("...") for a fixed statement, sql.SQL(...).format(...) for a
    # composed one (the two Composable kinds psycopg's execute takes as a whole statement).
    text: sql.SQL | sql.Composed
    params: Mapping[str, Any] | Sequence[Any] | None = None
    rows: bool = False  # the operation receives list[tuple] (fetchall) instead of a DataFrame


Op = Generator[Query, "pd.DataFrame", T]
RowOp = Generator[Query, list[tuple], T]


def _frame(rows: list[tuple], description) -> pd.DataFrame:
    import pandas as pd  # here: an audit entry or a row operation never loads it (the command line starts sooner)

    columns = [c.name for c in description] if description else []
    return pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


def fetch(conn: psycopg.Connection, query: Query) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query.text, query.params)
        return _frame(cur.fetchall() if cur.description else [], cur.description)


def _result(conn: psycopg.Connection, query: Query) -> pd.DataFrame | list[tuple]:
    if not query.rows:
        return fetch(conn, query)
    with conn.cursor() as cur:
        cur.execute(query.text, query.params)
        return cur.fetchall() if cur.description else []


def run(conn: psycopg.Connection, op: Op[T] | RowOp[T]) -> T:
    """Drive `op` to its end on a sync connection (inside the caller's transaction)."""
    try:
        query = next(op)
        while True:
            query = op.send(_result(conn, query))
    except StopIteration as stop:
        return stop.value


def _step(op: Op[T] | RowOp[T], value: pd.DataFrame | list[tuple] | None) -> tuple[bool, Any]:
    # StopIteration must not cross a thread/coroutine boundary (PEP 479): turn it into a flag.
    try:
        return False, (next(op) if value is None else op.send(value))
    except StopIteration as stop:
        return True, stop.value


async def arun(conn: psycopg.AsyncConnection, op: Op[T] | RowOp[T], *, offload: bool = True) -> T:
    """Drive `op` on an async connection; its computing steps run in a worker thread (inline: offload=False)."""

    async def step(result: pd.DataFrame | list[tuple] | None) -> tuple[bool, Any]:
        return await anyio.to_thread.run_sync(_step, op, result) if offload else _step(op, result)

    done, value = await step(None)
    while not done:
        async with conn.cursor() as cur:
            await cur.execute(value.text, value.params)
            rows = await cur.fetchall() if cur.description else []
            result = rows if value.rows else _frame(rows, cur.description)
        done, value = await step(result)
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN/NA -> None, numpy scalars -> Python numbers, dates -> ISO text."""
    if frame.empty:
        return []
    return json.loads(frame.to_json(orient="records", date_format="iso", double_precision=15, force_ascii=False))
