"""Run a vectorised shapely function over an array in threads.

Shapely 2 releases the GIL inside its vectorised functions, so splitting a large array over the machine's cores
divides the time of the heavy steps (validity checks, reprojection, areas) on a province-sized file. `ahead`
computes chunks before their consumer asks for them, starting at once (an import checks the next chunks while it
reads the codes and while PostgreSQL takes this one), `background` starts one call and lets the caller carry on.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")
_END = object()
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


class ahead(Iterator[R]):  # noqa: N801  (used like a function; a class so that it starts before it is iterated)
    """func(item) for each item, in order, computed in `workers` threads of its own up to `depth` items before the
    caller takes them: the caller's work on one result (e.g. sending it to PostgreSQL) overlaps the computing of
    the next ones. The first `depth` items start at once, before the first result is asked for (an import checks
    geometries while it still works on the attributes). `close()` cancels the results not taken yet."""

    def __init__(self, func: Callable[[T], R], items: Iterable[T], depth: int = 2, workers: int = 1) -> None:
        self._func, self._items, self._depth = func, iter(items), depth
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geo-ahead")
        self._pending: deque[Future[R]] = deque()
        self._fill()

    def _fill(self) -> None:
        while len(self._pending) < self._depth:
            item = next(self._items, _END)
            if item is _END:
                return
            self._pending.append(self._pool.submit(self._func, item))  # type: ignore[arg-type]

    def __next__(self) -> R:
        if not self._pending:
            self.close()
            raise StopIteration
        try:
            result = self._pending.popleft().result()
        except BaseException:
            self.close()
            raise
        self._fill()
        return result

    def close(self) -> None:
        self._pending.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> ahead[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def background(func: Callable[..., R], *args: object) -> Future[R]:
    """func(*args) started in a thread now; `.result()` waits for it (e.g. hashing a file while it is read)."""
    return _POOL.submit(func, *args)
