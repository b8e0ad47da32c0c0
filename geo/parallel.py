"""Run a vectorised shapely function over an array in threads.

Shapely 2 releases the GIL inside its vectorised functions, so splitting a large array over the machine's cores
divides the time of the heavy steps (validity checks, reprojection, areas) on a province-sized file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MIN_CHUNK = 2_000  # below this, thread start-up costs more than it saves
_WORKERS = max(1, min(os.cpu_count() or 1, 8))
_POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="geo")


def threaded(func: Callable[[np.ndarray], np.ndarray], values: np.ndarray) -> np.ndarray:
    """func(values), computed chunk by chunk in threads; same result and order as one call."""
    chunks = min(_WORKERS, len(values) // MIN_CHUNK)
    if chunks < 2:
        return func(values)
    return np.concatenate(list(_POOL.map(func, np.array_split(values, chunks))))
