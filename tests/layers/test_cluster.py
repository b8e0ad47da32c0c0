"""The embedded cluster: initialised once, reused, safe under concurrent starts, stoppable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from layers.db.cluster import Cluster


@pytest.fixture
def cluster(tmp_path: Path):
    managed = Cluster(var_dir=tmp_path / "var", database="kotaku", fast=True)
    yield managed
    managed.destroy()


def test_up_initialises_starts_and_reuses(cluster: Cluster):
    first = cluster.up()
    assert first.running and first.initialised
    second = cluster.up()
    assert second.port == first.port  # reused, not restarted on another port
    with psycopg.connect(cluster.url()) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "kotaku"
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        assert conn.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3.")


def test_listens_on_loopback_only_with_passwords(cluster: Cluster):
    cluster.up()
    with psycopg.connect(cluster.url()) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
    wrong = cluster.url().replace(cluster._state()["password"], "wrong-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong)


def test_concurrent_starts_share_one_server(cluster: Cluster):
    """Two processes bringing the same cluster up at once (two `kotaku serve`): one server, both connect."""
    script = (
        "import sys; from pathlib import Path; from layers.db.cluster import Cluster; "
        f"c = Cluster(var_dir=Path({str(cluster.var_dir)!r}), fast=True); print(c.up().port)"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    ports = {int(p.communicate(timeout=120)[0].strip()) for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(ports) == 1
    with psycopg.connect(cluster.url()) as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1


def test_down_stops_and_up_restarts(cluster: Cluster):
    cluster.up()
    assert cluster.down() is True
    assert cluster.status().running is False
    assert cluster.down() is False
    assert cluster.up().running


def test_status_of_a_fresh_folder(tmp_path: Path):
    status = Cluster(var_dir=tmp_path / "nothing").status()
    assert not status.initialised and not status.running
