"""Run a vectorised shapely function over an array in threads.

Shapely 2 releases the GIL inside its vectorised functions, so splitting a large array over the machine's cores
divides the time of the heavy steps (validity checks, reprojection, areas) on a province-sized file. `ahead`
computes chunks one step before their consumer (an import checks the next chunk while PostgreSQL takes this one),
`background` starts one call and lets the caller carry on.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")

MIN_CHUNK = 2_000  # below this, thread start-up costs more than it saves
_WORKERS = max(1, min(os.cpu_count() or 1, 8))
_POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="geo")


def threaded(func: Callable[[np.ndarray], np.ndarray], values: np.ndarray) -> np.ndarray:
    """func(values), computed chunk by chunk in threads; same result and order as one call."""
    chunks = min(_WORKERS, len(values) // MIN_CHUNK)
    if chunks < 2:
        return func(values)
    return np.concatenate(list(_POOL.map(func, np.array_split(values, chunks))))


def ahead(func: Callable[[T], R], items: Iterable[T], depth: int = 2, workers: int = 1) -> Iterator[R]:
    """func(item) for each item, in order, computed in `workers` threads of its own up to `depth` items before the
    caller takes them: the caller's work on one result (e.g. sending it to PostgreSQL) overlaps the computing of
    the next ones. Results not taken when the caller stops are cancelled."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geo-ahead")
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) >= depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def background(func: Callable[..., R], *args: object) -> Future[R]:
    """func(*args) started in a thread now; `.result()` waits for it (e.g. hashing a file while it is read)."""
    return _POOL.submit(func, *args)
