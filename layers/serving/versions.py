"""Data versions of the layers, and the strong ETags built on them.

Every write to a layer's tables bumps its row in `layer_versions` (statement triggers of migrations 0001 and
0004), inside the writing transaction. An ETag hashes what a response depends on: the versions of the layers
the collection reads, the request (tile address, format, style, filters), who asks (row filters differ), and
the collection's definition (so a code change that alters output also changes the tag). Reading the versions
is one small query, so a 304 or a cached tile costs no tile query, and an edit shows in the next request.

Under load many requests want the versions at once: `VersionReader` lets the requests that arrive while a read is
waiting to be sent share it (one query for all of them). A read is only ever shared by requests that arrived
before it was sent, so each still sees every write committed before it arrived.
"""

from __future__ import annotations

import asyncio
import hashlib

from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from layers.accounts.access import Principal

# Bump when tile or PNG rendering changes in a way the collection definitions do not show.
RENDERING_REVISION = "2"  # 2: tile geometry simplified to half a pixel of a 512-pixel tile
VERSIONS_SQL = sql.SQL("SELECT layer, version FROM layer_versions")
REVALIDATE = {"public": "public, no-cache", "private": "private, no-cache"}
# Who asks decides what an ETag'd answer holds (row filters), and credentials come in these two headers: a shared
# cache (deploy/varnish/kotaku.vcl) keeps a separate copy per value, so a public copy never answers a logged-in
# caller; scoped answers are `private` and never stored there at all.
VARY = "Authorization, Cookie"


class VersionReader:
    """Batched reads of `layer_versions` for one process (see the module docstring)."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool
        self.reads = 0
        self._waiting: asyncio.Future | None = None
        self._tasks: set[asyncio.Task] = set()  # held so they are not garbage-collected while running

    async def versions(self, layers: tuple[str, ...]) -> tuple[int, ...]:
        if self._waiting is None:
            self._waiting = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._read(self._waiting))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        found = await asyncio.shield(self._waiting)
        return tuple(found.get(layer, 0) for layer in layers)

    async def _read(self, future: asyncio.Future) -> None:
        try:
            async with self.pool.connection() as conn:
                self._waiting = None  # from here on, newcomers wait for the next read
                cur = await conn.execute(VERSIONS_SQL)
                rows = await cur.fetchall()
            self.reads += 1
            future.set_result(dict(rows))
        except asyncio.CancelledError:
            self._forget(future)
            future.cancel()
            raise
        except Exception as error:  # every waiter gets the failure
            self._forget(future)
            future.set_exception(error)

    def _forget(self, future: asyncio.Future) -> None:
        if self._waiting is future:
            self._waiting = None


def scope_key(principal: Principal) -> str:
    """What the caller may read, as a cache key part: equal keys see the same rows."""
    return "public" if principal.is_public else repr(principal)


_DEFINITIONS: dict[str, str] = {}


def definition_hash(name: str, definition: object) -> str:
    """A short hash of what produces a resource (e.g. a collection's definition), computed once per name."""
    found = _DEFINITIONS.get(name)
    if found is None:
        found = _DEFINITIONS[name] = hashlib.blake2b(repr(definition).encode(), digest_size=8).hexdigest()
    return found


def strong_etag(definition: str, versions: tuple[int, ...], principal: Principal, *request: object) -> str:
    """A strong validator (quoted, per RFC 9110) for one representation; `definition` from definition_hash."""
    text = "\x1f".join([RENDERING_REVISION, definition, ",".join(map(str, versions)), scope_key(principal),
                        *map(str, request)])
    return '"' + hashlib.blake2b(text.encode(), digest_size=16).hexdigest() + '"'


def cache_control(principal: Principal) -> str:
    """Shared caches may keep public answers; every client revalidates (ETag) so edits show at once."""
    return REVALIDATE["public" if principal.is_public else "private"]


def conditional(etag: str, if_none_match: str | None) -> bool:
    """Does the client's If-None-Match already hold `etag` (answer 304)? '*' or a list of tags, compared weakly
    as RFC 9110 asks for If-None-Match. The one conditional-request test of every ETag'd answer (items, tiles)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))
