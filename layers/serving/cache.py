"""An in-process cache of rendered tiles, bounded in bytes, least recently used out first.

Keys carry the tile's ETag, which carries the data versions of its layers: after an edit the new version makes
new keys, and the old tiles are never served again (they age out). So the cache never needs invalidating and
an edit shows on the next request. Each server process has its own cache (the KOTAKU_TILE_CACHE_MB setting,
0 = off).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from layers.settings import Settings

DEFAULT_MB = 256


@dataclass(frozen=True)
class CachedTile:
    data: bytes
    features: int


class TileCache:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, CachedTile] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> TileCache:
        """Sized by the KOTAKU_TILE_CACHE_MB setting (default 256; 0 turns caching off)."""
        return cls(settings.tile_cache_bytes)

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: str) -> CachedTile | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: str, tile: CachedTile) -> None:
        size = len(tile.data) + len(key) + 64
        if not self.enabled or size > self.max_bytes // 4:  # one huge tile must not flush everything
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= len(old.data) + len(key) + 64
        self._entries[key] = tile
        self.bytes += size
        while self.bytes > self.max_bytes:
            evicted_key, evicted = self._entries.popitem(last=False)
            self.bytes -= len(evicted.data) + len(evicted_key) + 64

    def __len__(self) -> int:
        return len(self._entries)
