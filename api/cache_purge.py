"""After a write that changed layers, BAN them on the shared caches before the client gets its answer.

Only when `KOTAKU_CACHE_PURGE_URLS` is set. A request that is not GET/HEAD/OPTIONS reads `layer_versions` on the
primary before it runs and again when its answer starts (the handler has returned, its transaction committed);
the layers whose version moved are banned (layers/serving/purge.py) and then the answer goes out; banned again
later (after KOTAKU_REPLICA_MAX_LAG_S and a margin with read replicas: an answer drawn meanwhile from a replica
that had not replayed the write is dropped too). So the writer,
and anyone after, gets the new data through the cache on the next request. Writes outside the HTTP app (the
command line) purge in api/cli/root.py; a bare SQL edit does not purge (`kotaku cache purge` does).
"""

from __future__ import annotations

import functools
import logging

import anyio
import psycopg
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.read_routing import reban_delay
from layers.serving.purge import ban_twice, changed_layers, read_versions_async

log = logging.getLogger(__name__)
READS = frozenset({"GET", "HEAD", "OPTIONS"})


class CachePurgeMiddleware:
    def __init__(self, app: ASGIApp, urls: tuple[str, ...]):
        self.app = app
        self.urls = urls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.urls or scope["method"] in READS:
            await self.app(scope, receive, send)
            return
        pool = scope["app"].state.pool
        before = await _versions(pool)

        async def send_after_ban(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                after = await _versions(pool)
                layers = changed_layers(before, after) if after is not None else []
                if layers:
                    await anyio.to_thread.run_sync(functools.partial(ban_twice, self.urls, layers,
                                                                     delay_s=reban_delay(pool)))
            await send(message)

        await self.app(scope, receive, send_after_ban)


async def _versions(pool) -> dict[str, int] | None:
    try:
        async with pool.connection() as conn:
            return await read_versions_async(conn)
    except (psycopg.Error, OSError) as error:  # the database is down: the write fails too (503), or we ban all
        log.warning("layer versions not read for the cache ban: %s", error)
        return None
