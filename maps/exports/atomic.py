"""Files appear whole or not at all: every export is written into a hidden temporary folder beside its target
and renamed over it at the end (a rename within one file system is atomic)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.errors import InvalidInput


@contextmanager
def atomic_output(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path with the target's name; on success it replaces `path`, on error nothing changes."""
    target = Path(path)
    if target.is_dir():
        raise InvalidInput(f"{target} is a folder: give a file name, e.g. {target / 'keterpaduan.gpkg'}")
    if not target.parent.is_dir():
        raise InvalidInput(f"folder {target.parent} does not exist")
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        temp = work / target.name
        yield temp
        if not temp.exists():
            raise RuntimeError(f"the writer made no {temp.name}")
        os.replace(temp, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
