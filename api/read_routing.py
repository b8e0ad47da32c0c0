"""Read-only requests on streaming replicas (KOTAKU_DATABASE_READ_URL), writes on the primary, and each caller's
own writes visible at once.

`RoutedPool` stands where the app's async pool stood (`app.state.pool`): its `connection()` gives a connection of
the target chosen for the current request (a context variable set by `ReadRoutingMiddleware`): the primary unless
the request is a GET/HEAD and a replica qualifies. A replica qualifies when it answered the last status check
(`Monitor`, every CHECK_INTERVAL_S), its replay lag is at most KOTAKU_REPLICA_MAX_LAG_S, and it has replayed the
caller's last write: after a write (any other method, answered < 400) the answer carries the primary's
`pg_current_wal_insert_lsn()` (the end of the WAL it wrote, flushed or not: synchronous_commit may be off) as the
cookie `kotaku_lsn` and the header `X-Kotaku-LSN`; a read that sends either back goes
to a replica only once that replica's `pg_last_wal_replay_lsn()` has reached it, else to the primary. A replica
that cannot give a connection within REPLICA_CONNECT_S is marked down and the request uses the primary: no error.

The whole request reads from one target (its layer versions and its rows), so an ETag never mixes two servers.
`RoutedSyncPool` stands where the sync pool stood (`app.state.sync_pool`) and honours the same choice: exports,
proposal histories, asset and plan pages read the replica the request was given (same skip-when-down rule); a
write's sync work stays on the primary, since writes are never routed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from http.cookies import SimpleCookie

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from layers.db.connection import app_login_url, normalise_url
from layers.serving.purge import REBAN_DELAY_S

log = logging.getLogger(__name__)

COOKIE = "kotaku_lsn"
HEADER = "x-kotaku-lsn"
COOKIE_MAX_AGE_S = 300
CHECK_INTERVAL_S = 0.5
REPLICA_CONNECT_S = 1.0
READS = frozenset({"GET", "HEAD"})
PRIMARY = -1
_target: ContextVar[int] = ContextVar("kotaku_read_target", default=PRIMARY)


def lsn_int(text: str | None) -> int | None:
    """'16/B374D848' as a number (None when not an LSN)."""
    try:
        high, low = (text or "").strip().split("/")
        return (int(high, 16) << 32) | int(low, 16)
    except ValueError:
        return None


@dataclass
class Replica:
    url: str
    pool: AsyncConnectionPool
    up: bool = False
    replay_lsn: int | None = None
    lag_s: float | None = None
    served: int = 0  # connections given to requests, async and sync
    sync_pool: ConnectionPool | None = None


class RoutedPool:
    def __init__(self, primary: AsyncConnectionPool, replicas: list[Replica], max_lag_s: float,
                 app_role: str | None = None):
        self.primary = primary
        self.replicas = replicas
        self.max_lag_s = max_lag_s
        self.app_role = app_role

    def choose(self, min_lsn: int | None) -> int:
        """The index of the first qualifying replica, or PRIMARY."""
        for index, replica in enumerate(self.replicas):
            if not replica.up or replica.lag_s is None or replica.lag_s > self.max_lag_s:
                continue
            if min_lsn is not None and (replica.replay_lsn is None or replica.replay_lsn < min_lsn):
                continue
            return index
        return PRIMARY

    @staticmethod
    def target() -> int:
        return _target.get()

    @contextlib.asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[psycopg.AsyncConnection]:
        index = _target.get()
        if index == PRIMARY:
            async with self.primary.connection(timeout) as conn:
                yield conn
            return
        replica = self.replicas[index]
        try:
            conn = await replica.pool.getconn(timeout=REPLICA_CONNECT_S)
        except psycopg.OperationalError as error:  # PoolTimeout too: down or full, the primary answers instead
            replica.up = False
            log.warning("replica %s skipped: %s", index, error)
            _target.set(PRIMARY)
            async with self.primary.connection(timeout) as conn:
                yield conn
            return
        replica.served += 1
        try:
            yield conn
        finally:
            await replica.pool.putconn(conn)


class RoutedSyncPool:
    """The sync pool's counterpart of RoutedPool (same replicas, same per-request choice). Sync routes run in the
    thread pool, which copies the request's context, so `_target` is the choice ReadRoutingMiddleware made."""

    def __init__(self, primary: ConnectionPool, replicas: list[Replica]):
        self.primary = primary
        self.replicas = replicas

    @contextlib.contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        index = _target.get()
        replica = self.replicas[index] if index != PRIMARY else None
        if replica is None or replica.sync_pool is None:
            with self.primary.connection(timeout) as conn:
                yield conn
            return
        pool = replica.sync_pool
        try:
            conn = pool.getconn(timeout=REPLICA_CONNECT_S)
        except psycopg.OperationalError as error:  # down or full: the primary answers instead, no error
            replica.up = False
            log.warning("replica %s skipped: %s", index, error)
            with self.primary.connection(timeout) as conn:
                yield conn
            return
        replica.served += 1
        try:
            with conn:  # like ConnectionPool.connection(): commit, or roll back on an error
                yield conn
        finally:
            pool.putconn(conn)

    def close(self) -> None:
        for replica in self.replicas:
            if replica.sync_pool is not None:
                replica.sync_pool.close()
        self.primary.close()


def route_sync(primary: ConnectionPool, routed: RoutedPool,
               make_pool: Callable[[str], ConnectionPool]) -> RoutedSyncPool:
    """A RoutedSyncPool over `primary` and one sync pool per replica of `routed` (the app's login there, as for the
    async pools), opened without waiting: a replica may be down."""
    for replica in routed.replicas:
        replica.sync_pool = make_pool(replica_login(replica.url, routed.app_role))
        replica.sync_pool.open(wait=False)
    return RoutedSyncPool(primary, routed.replicas)


class Monitor:
    """Checks every replica (up, replay position, lag) every CHECK_INTERVAL_S while the app runs."""

    def __init__(self, routed: RoutedPool):
        self.routed = routed
        self.primary_lsn: int | None = None
        self.primary_seen = time.monotonic()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(CHECK_INTERVAL_S)

    async def check(self) -> None:
        # The primary's position. While it does not answer (a restart), its last known position: a replica that has
        # replayed that much held everything the primary had written when it was last seen, so its lag is the time
        # since then. Reads go on there for up to KOTAKU_REPLICA_MAX_LAG_S into the outage (the same staleness bound
        # as always, which the second cache ban covers: layers/serving/purge.py), then wait for the primary.
        primary_lsn, down_s = None, 0.0
        try:
            async with self.routed.primary.connection(timeout=REPLICA_CONNECT_S) as conn:
                row = await (await conn.execute("SELECT pg_current_wal_lsn()::text")).fetchone()  # written
                primary_lsn = lsn_int(row[0]) if row else None
            self.primary_lsn, self.primary_seen = primary_lsn, time.monotonic()
        except psycopg.Error:
            primary_lsn = self.primary_lsn
            down_s = time.monotonic() - self.primary_seen
        for replica in self.routed.replicas:
            try:
                async with replica.pool.connection(timeout=REPLICA_CONNECT_S) as conn:
                    cur = await conn.execute(
                        "SELECT pg_last_wal_replay_lsn()::text, "
                        "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8")
                    row = await cur.fetchone()
            except psycopg.Error:
                replica.up = False
                continue
            replay_text, since_last = row if row else (None, None)
            replica.replay_lsn = lsn_int(replay_text)
            replica.up = replica.replay_lsn is not None  # None: not a standby (or not replaying)
            # caught up with the primary: no lag, however long ago the last transaction was
            caught_up = primary_lsn is not None and replica.replay_lsn is not None and replica.replay_lsn >= primary_lsn
            replica.lag_s = down_s if caught_up else (since_last if since_last is not None else None)


def reban_delay(pool) -> float:
    """When to ban a write's layers the second time (layers/serving/purge.py). A replica that has not replayed a
    write committed at T serves reads only until its lag passes the limit: by T + KOTAKU_REPLICA_MAX_LAG_S, plus
    the monitor's interval and a check's time. An answer drawn from it before then and stored by a cache is
    dropped by a second ban after that."""
    if not isinstance(pool, RoutedPool) or not pool.replicas:
        return REBAN_DELAY_S
    return max(REBAN_DELAY_S, pool.max_lag_s + CHECK_INTERVAL_S + 2 * REPLICA_CONNECT_S)


def primary_of(pool):
    """The primary's pool behind `app.state.pool`: credentials are checked there, so a token revoked or a session
    ended on the primary is refused at once, never accepted by a replica that has not replayed it yet."""
    return pool.primary if isinstance(pool, RoutedPool) else pool


def _caller_lsn(scope: Scope) -> int | None:
    found = None
    for name, value in scope.get("headers", []):
        if name == HEADER.encode():
            found = lsn_int(value.decode("latin-1"))
        elif name == b"cookie" and found is None:
            morsel = SimpleCookie(value.decode("latin-1")).get(COOKIE)
            found = lsn_int(morsel.value) if morsel else None
    return found


class ReadRoutingMiddleware:
    """Chooses each request's target (see the module docstring) and hands writers their commit position."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pool = getattr(scope["app"].state, "pool", None) if scope["type"] == "http" else None
        if not isinstance(pool, RoutedPool) or not pool.replicas:
            await self.app(scope, receive, send)
            return
        if scope["method"] in READS:
            token = _target.set(pool.choose(_caller_lsn(scope)))
            try:
                await self.app(scope, receive, send)
            finally:
                _target.reset(token)
            return
        token = _target.set(PRIMARY)

        async def send_with_lsn(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                lsn = await _primary_lsn(pool)
                if lsn:
                    message = {**message, "headers": [
                        *message.get("headers", []), (HEADER.encode(), lsn.encode()),
                        (b"set-cookie", f"{COOKIE}={lsn}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; HttpOnly; "
                                        "SameSite=Lax".encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_lsn)
        finally:
            _target.reset(token)


async def _primary_lsn(pool: RoutedPool) -> str | None:
    try:
        async with pool.primary.connection() as conn:
            row = await (await conn.execute("SELECT pg_current_wal_insert_lsn()::text")).fetchone()
            return row[0] if row else None
    except psycopg.Error as error:
        log.warning("commit position not read: %s", error)
        return None


def read_urls(text: str | None) -> list[str]:
    """KOTAKU_DATABASE_READ_URL: comma-separated URLs (empty when unset)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def replica_login(url: str, app_role: str | None) -> str:
    return (app_login_url(url, app_role) if app_role else None) or normalise_url(url)


async def open_replicas(primary: AsyncConnectionPool, urls: list[str], app_role: str, max_lag_s: float,
                        make_pool: Callable[[str], AsyncConnectionPool]) -> tuple[RoutedPool, Monitor]:
    """A RoutedPool over `primary` and one pool per replica URL (the app's own login, derived like the primary's:
    a physical replica has the primary's roles), opened without waiting (a replica may be down), and its Monitor
    after a first check."""
    replicas = []
    for url in urls:
        pool = make_pool(replica_login(url, app_role))
        await pool.open(wait=False)
        replicas.append(Replica(url, pool))
    routed = RoutedPool(primary, replicas, max_lag_s, app_role)
    monitor = Monitor(routed)
    await monitor.check()
    monitor.start()
    return routed, monitor
