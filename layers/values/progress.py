"""How long work reports progress: a callable (stage, done, total) that the CLI draws as a bar."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def no_progress(stage: str, done: int, total: int) -> None:
    return None

