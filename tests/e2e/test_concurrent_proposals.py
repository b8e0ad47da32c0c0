"""Conflicting proposals submitted at the same moment through a real server: exactly one is accepted, every time.

A real `kotaku serve` on loopback, real bearer tokens made by `kotaku user`, real PostGIS; many clients post the
same road (each from another funding source) at once, in several rounds.
"""

from __future__ import annotations

import os
import subprocess
import threading

import httpx

from data import data_path
from layers.imports.regions import import_regions
from tests.e2e.servers import KOTAKU, running_server

SOURCES = ["APBN", "NSUP_WB_AIIB", "NSUP_ISDB", "NUSP2_ADB", "BPM_BDI", "DAK", "APBD_PROV", "APBD_KABKOTA",
           "DANA_DESA", "CSR", "HIBAH", "SWADAYA", "LAINNYA"]
CLIENTS = 24
ROUNDS = 4


def _cli(args: list[str], url: str, stdin: str | None = None) -> str:
    result = subprocess.run([KOTAKU, *args], input=stdin, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_exactly_one_of_many_simultaneous_duplicates_is_accepted(empty_db, conn):
    import_regions(conn, data_path("demo", "boundaries", "kota_medan_kab_kota.geojson"))
    _cli(["user", "add", "pokja1", "--role", "pokja", "--area", "12.71", "--password-stdin"], empty_db,
         stdin="kata-sandi-yang-panjang-1\n")
    token = _cli(["user", "token", "pokja1"], empty_db).strip().splitlines()[-1].strip()
    with running_server(empty_db) as base:
        for round_number in range(ROUNDS):
            y = 3.5832 + round_number * 0.001  # a new street each round
            road = {"type": "LineString", "coordinates": [[98.6850, y], [98.6868, y]]}
            statuses = _fire(base, token, road)
            assert sorted(statuses) == [201] + [409] * (CLIENTS - 1), f"round {round_number}: {statuses}"
    assert conn.execute("SELECT count(*) FROM activities").fetchone()[0] == ROUNDS


def _fire(base: str, token: str, road: dict) -> list[int]:
    barrier = threading.Barrier(CLIENTS)
    statuses: list[int] = []

    def post(number: int) -> None:
        body = {"type": "Feature", "geometry": road,
                "properties": {"title": f"Paving {number}", "kind": "jalan_paving", "year_start": 2026,
                               "funding_source": SOURCES[number % len(SOURCES)]}}
        with httpx.Client(base_url=base, timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            client.get("/healthz")  # connect before the barrier: the posts leave together
            barrier.wait()
            statuses.append(client.post("/collections/activities/items", json=body).status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses
