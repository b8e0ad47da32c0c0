"""What accounts and the audit trail cost, measured in one run on a database of its own.

- argon2: a password hash (login), a token-secret hash (first use of a token in a process);
- a bearer-token request against an anonymous one (GET /auth/me, in process): the per-request price of reading
  the token row once argon2 has verified it;
- audit: entries appended per second by one writer and by four at once (serialised by the chain's lock), and
  entries verified per second by `verify`.

Run: .venv/bin/python bench/accounts.py  (uses the dev cluster under var/, database kotaku_bench_accounts)
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time

import psycopg
from fastapi.testclient import TestClient

from api.app import create_app
from layers.accounts import audit, tokens, users
from layers.accounts.access import Principal, cli_principal
from layers.db.cluster import Cluster
from layers.db.connection import connect, connect_async
from layers.db.schema import migrate

ENTRIES = 3_000
WRITERS = 4
REQUESTS = 400
ACTOR = Principal(role="pokja", username="bench", tenant="12.71", area_code="12.71")


def timed(action, repeat: int) -> float:
    """Median seconds of `repeat` runs."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def append(url: str, n: int) -> None:
    with connect(url) as conn:
        for i in range(n):
            with conn.transaction():
                audit.record(conn, ACTOR, "bench.write", "thing", i, {"v": i}, {"v": i + 1, "note": "x" * 80})


def main() -> None:
    cluster = Cluster(database="kotaku_bench_accounts")
    cluster.up()
    url = cluster.url()
    migrate(url)
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE audit_log, users RESTART IDENTITY CASCADE")

    password = timed(lambda: tokens.hash_password("kata-sandi-bench"), 5)
    secret = timed(lambda: tokens.SECRET_HASHER.hash("s" * 43), 20)
    print(f"argon2 password hash {password * 1000:.1f} ms; token-secret hash {secret * 1000:.1f} ms "
          f"(ratio {password / secret:.1f}x)")

    async def account() -> str:
        async with await connect_async(url, autocommit=True) as conn:
            await users.add_user(conn, cli_principal(), "bench.pokja", "pokja", "12.71", password="kata-sandi-1")
            return (await users.issue_token(conn, cli_principal(), "bench.pokja"))[1]

    token = asyncio.run(account())
    with TestClient(create_app(url)) as client:
        bearer = {"Authorization": f"Bearer {token}"}
        client.get("/auth/me", headers=bearer)  # argon2 once; remembered afterwards
        for _ in range(50):
            client.get("/auth/me")
        anonymous = timed(lambda: [client.get("/auth/me") for _ in range(REQUESTS)], 3) / REQUESTS
        with_token = timed(lambda: [client.get("/auth/me", headers=bearer) for _ in range(REQUESTS)], 3) / REQUESTS
    print(f"GET /auth/me in process: anonymous {anonymous * 1000:.2f} ms, bearer {with_token * 1000:.2f} ms "
          f"(+{(with_token - anonymous) * 1000:.2f} ms per request, ratio {with_token / anonymous:.2f}x)")

    one = timed(lambda: append(url, ENTRIES), 1)
    print(f"audit append, 1 writer: {ENTRIES / one:,.0f} entries/s ({one / ENTRIES * 1000:.2f} ms each)")
    threads = [threading.Thread(target=append, args=(url, ENTRIES // WRITERS)) for _ in range(WRITERS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    many = time.perf_counter() - start
    print(f"audit append, {WRITERS} writers at once: {ENTRIES / many:,.0f} entries/s "
          f"(ratio to 1 writer {one / many:.2f}x: the chain's lock serialises appends)")
    with connect(url) as conn:
        start = time.perf_counter()
        result = audit.verify(conn)
        walked = time.perf_counter() - start
    assert result.ok, result.problem
    print(f"audit verify: {result.entries:,} entries in {walked:.2f} s ({result.entries / walked:,.0f} entries/s)")
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE audit_log, users RESTART IDENTITY CASCADE")


if __name__ == "__main__":
    main()
