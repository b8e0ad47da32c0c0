"""Invalidating shared HTTP caches (Varnish, deploy/varnish/kotaku.vcl) when layers change.

Tiles and items carry `X-Kotaku-Layers: <layer> <layer> ...`: the layers whose data versions their ETag holds
(layers/serving/versions.py). The cache keeps them for an hour. Whoever writes compares `layer_versions` before and
after its work and, when a layer's version moved, sends `BAN` with `X-Kotaku-Ban: <layers>` to every cache
(`KOTAKU_CACHE_PURGE_URLS`); the VCL drops every object tagged with one of them. The ban is sent before the write
is answered (HTTP) or before the command ends (CLI), so the next request through any cache gets the new data.

An answer drawn from the old data and still on its way to a cache when the ban arrives would be stored after it
(a ban only reaches objects already stored), so the ban is sent a second time REBAN_DELAY_S later.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping

import psycopg

from layers.serving.versions import VERSIONS_SQL

log = logging.getLogger(__name__)

HEADER = "X-Kotaku-Layers"
BAN_HEADER = "X-Kotaku-Ban"
BAN_TIMEOUT_S = 2.0
REBAN_DELAY_S = 2.0


def parse_urls(text: str | None) -> tuple[str, ...]:
    """`KOTAKU_CACHE_PURGE_URLS` (comma-separated http:// URLs) as a tuple; empty when unset."""
    return tuple(part.strip().rstrip("/") for part in (text or "").split(",") if part.strip())


def layers_header(layers: Iterable[str]) -> str:
    return " ".join(layers)


def changed_layers(before: Mapping[str, int] | None, after: Mapping[str, int]) -> list[str]:
    """Layers whose version differs (all of `after` when there is no `before`: nothing known, drop everything)."""
    if before is None:
        return sorted(after)
    return sorted(layer for layer, version in after.items() if before.get(layer) != version)


def read_versions(conn: psycopg.Connection) -> dict[str, int]:
    return dict(conn.execute(VERSIONS_SQL).fetchall())


async def read_versions_async(conn: psycopg.AsyncConnection) -> dict[str, int]:
    cur = await conn.execute(VERSIONS_SQL)
    return dict(await cur.fetchall())


def ban(urls: Iterable[str], layers: list[str]) -> int:
    """BAN `layers` on every cache; the number of caches that accepted it. A cache that cannot be reached is
    logged (its copies then live until their TTL), never raised: the write it follows is already committed."""
    done = 0
    if not layers:
        return done
    for url in urls:
        request = urllib.request.Request(url + "/", method="BAN", headers={BAN_HEADER: layers_header(layers)})
        try:
            with urllib.request.urlopen(request, timeout=BAN_TIMEOUT_S) as answer:  # noqa: S310 (configured URL)
                done += answer.status == 200
        except (urllib.error.URLError, OSError) as error:
            log.error("cache ban of %s on %s failed: %s", layers, url, error)
    return done


def ban_twice(urls: tuple[str, ...], layers: list[str], *, daemon: bool = True,
              delay_s: float = REBAN_DELAY_S) -> int:
    """BAN now, and once more `delay_s` later (a timer) for answers drawn before the commit (or, with read
    replicas, from a replica that had not replayed it yet: api/cache_purge.py passes a longer delay). A command
    line passes daemon=False: the process then waits for the second ban before it exits."""
    if not urls or not layers:
        return 0
    done = ban(urls, layers)
    timer = threading.Timer(delay_s, ban, args=(urls, layers))
    timer.daemon = daemon
    timer.start()
    return done


class CommandWatch:
    """For a command line run: the layer versions when it starts and, at `finish()`, a ban of those that moved
    (all of them when the first read failed, e.g. the database was not up yet). Reads as the owner, on `url`."""

    def __init__(self, urls: tuple[str, ...], database_url: str):
        self.urls = urls
        self.database_url = database_url
        self.before = self._read()

    def _read(self) -> dict[str, int] | None:
        try:
            with psycopg.connect(self.database_url, connect_timeout=5) as conn:
                return read_versions(conn)
        except psycopg.Error:
            return None

    def finish(self) -> list[str]:
        after = self._read()
        layers = changed_layers(self.before, after) if after is not None else []
        ban_twice(self.urls, layers, daemon=False)
        return layers
