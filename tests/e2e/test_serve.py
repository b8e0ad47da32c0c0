"""`kotaku serve` on the embedded cluster: it brings the database up, and a second serve does no harm."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from layers.db.cluster import Cluster
from tests.e2e.servers import KOTAKU, free_port, start, stop, wait_healthy


@pytest.fixture
def var_dir(tmp_path: Path):
    yield tmp_path / "var"
    Cluster(var_dir=tmp_path / "var").destroy()


def test_two_serves_share_the_cluster_and_one_stopping_harms_nothing(var_dir: Path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["KOTAKU_VAR"] = str(var_dir)
    first_port, second_port = free_port(), free_port()
    first = start(first_port, env=env)
    second = None
    try:
        health = wait_healthy(first_port, first)
        assert health["status"] == "ok"
        # the same port again: refused with a clear message, cluster untouched
        clash = subprocess.run([KOTAKU, "serve", "--port", str(first_port)], env=env, capture_output=True,
                               text=True, timeout=120)
        assert clash.returncode != 0 and "cannot listen" in clash.stderr
        # a second server on another port joins the running cluster
        second = start(second_port, env=env)
        wait_healthy(second_port, second)
        second.terminate()
        second.wait(timeout=30)
        assert httpx.get(f"http://127.0.0.1:{first_port}/healthz").json()["status"] == "ok"
        assert Cluster(var_dir=var_dir).status().running
    finally:
        stop(first)
        stop(second)
