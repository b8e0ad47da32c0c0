"""Faults behind the shared cache (issue 14): two real `kotaku serve` hosts behind Varnish (deploy/varnish/kotaku.vcl,
a round-robin director with the shipped `alive` probe). While the database is unreachable, a shared answer Varnish
holds past its ttl is served stale instead of the origin's 503, an answer it never held is a 503 (nothing to show),
and a logged-in caller's request is never answered from the cache; once the database is back the copies are fresh
again. A host stopped without warning costs no GET an error: requests Varnish sends there before its probe notices
are retried on the other host."""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.e2e.servers import free_port, start, stop, wait_healthy
from tests.e2e.varnish import available, varnish

pytestmark = pytest.mark.skipif(not available(), reason="varnishd is not installed (Debian package varnish; "
                                                        "`make test` installs it)")
ITEMS = "/collections/activities/items"
SHARED_TTL_S = 1.0  # short, so that a stored copy is past its ttl (stale) within the test


@pytest.fixture
def site(fresh_demo, tmp_path):
    import os

    url = fresh_demo()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "KOTAKU_CACHE_PURGE_URLS": f"http://127.0.0.1:{port}",
           "KOTAKU_POOL_TIMEOUT_S": "2", "KOTAKU_ATTACHMENTS": str(tmp_path)}
    ports = [free_port(), free_port()]
    hosts = [start(p, "--no-access-log", env=env) for p in ports]
    try:
        for p, process in zip(ports, hosts, strict=True):
            wait_healthy(p, process)
        with varnish([f"http://127.0.0.1:{p}" for p in ports], port=port, shared_ttl_s=SHARED_TTL_S) as cache:
            yield {"url": url, "cache": cache, "hosts": hosts}
    finally:
        for process in hosts:
            stop(process)
        database_reachable(url, True)
        fresh_demo.drop(url)


def database_reachable(url: str, allowed: bool) -> None:
    """A real outage of the app's database: no new connection is accepted and the open ones are ended."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])


def test_stale_copies_are_served_while_the_database_is_down_and_private_answers_never(site):
    cache = site["cache"]
    page = {"limit": 3, "offset": 2}
    first = httpx.get(cache + ITEMS, params=page)
    assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
    time.sleep(SHARED_TTL_S + 0.5)  # the stored copy is now past its ttl
    database_reachable(site["url"], False)
    try:
        stale = httpx.get(cache + ITEMS, params=page, timeout=30)
        assert stale.status_code == 200 and stale.headers["x-cache"] == "STALE"
        assert stale.json() == first.json()
        never_held = httpx.get(cache + ITEMS, params={"limit": 3, "offset": 7}, timeout=30)
        assert never_held.status_code == 503  # nothing stored to show
        logged_in = httpx.get(cache + ITEMS, params=page, headers={"Authorization": "Bearer kpk_bukan_token"},
                              timeout=30)
        assert logged_in.status_code == 503 and logged_in.headers.get("x-cache") != "STALE"
    finally:
        database_reachable(site["url"], True)
    deadline = time.monotonic() + 30
    while True:  # the hosts' pools reconnect; then the answer is the origin's again, not the stale copy
        fresh = httpx.get(cache + ITEMS, params=page, timeout=30)
        if fresh.headers.get("x-cache") in ("MISS", "REVALIDATED") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert fresh.status_code == 200 and fresh.headers["x-cache"] in ("MISS", "REVALIDATED")


def test_a_stopped_host_costs_no_get_an_error(site):
    cache = site["cache"]
    assert httpx.get(cache + ITEMS, params={"limit": 1}).status_code == 200
    stop(site["hosts"][1])  # its probe has not failed yet: Varnish still sends it every other request
    answers = [httpx.get(cache + ITEMS, params={"limit": 2, "offset": n}, timeout=30) for n in range(8)]
    assert [a.status_code for a in answers] == [200] * 8
    assert all(a.headers["x-cache"] == "MISS" for a in answers)  # each one asked an origin: the live host
