"""Operations written once, run on a sync (CLI) or an async (HTTP) connection.

An operation is a generator: it yields a `Query`, receives the result as a pandas DataFrame, computes (the
vectorised scoring functions of `indicators/`), yields the next query, and finally returns its result. `run`
drives it with a psycopg connection, `arun` with an async one from the pool and moves the computing steps to a
worker thread so the event loop stays free. SQL stays set-based; Python never loops over rows.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
import pandas as pd
import psycopg
from psycopg import sql

T = TypeVar("T")


@dataclass(frozen=True)
class Query:
    text: sql.Composable | str
    params: Mapping[str, Any] | Sequence[Any] | None = None


Op = Generator[Query, pd.DataFrame, T]


def _frame(rows: list[tuple], description) -> pd.DataFrame:
    columns = [c.name for c in description] if description else []
    return pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


def fetch(conn: psycopg.Connection, query: Query) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query.text, query.params)
        return _frame(cur.fetchall() if cur.description else [], cur.description)


def run(conn: psycopg.Connection, op: Op[T]) -> T:
    """Drive `op` to its end on a sync connection (inside the caller's transaction)."""
    try:
        query = next(op)
        while True:
            query = op.send(fetch(conn, query))
    except StopIteration as stop:
        return stop.value


def _step(op: Op[T], value: pd.DataFrame | None) -> tuple[bool, Any]:
    # StopIteration must not cross a thread/coroutine boundary (PEP 479): turn it into a flag.
    try:
        return False, (next(op) if value is None else op.send(value))
    except StopIteration as stop:
        return True, stop.value


async def arun(conn: psycopg.AsyncConnection, op: Op[T]) -> T:
    """Drive `op` on an async connection; its computing steps run in a worker thread."""
    done, value = await anyio.to_thread.run_sync(_step, op, None)
    while not done:
        async with conn.cursor() as cur:
            await cur.execute(value.text, value.params)
            rows = await cur.fetchall() if cur.description else []
            frame = _frame(rows, cur.description)
        done, value = await anyio.to_thread.run_sync(_step, op, frame)
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN/NA -> None, numpy scalars -> Python numbers, dates -> ISO text."""
    if frame.empty:
        return []
    return json.loads(frame.to_json(orient="records", date_format="iso", double_precision=15, force_ascii=False))
