"""`kotaku serve` on the embedded cluster: it brings the database up, and a second serve does no harm."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from layers.cluster import Cluster

KOTAKU = str(Path(sys.executable).with_name("kotaku"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(port: int, process: subprocess.Popen, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stdout.read()}")
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("serve did not become healthy")


@pytest.fixture
def var_dir(tmp_path: Path):
    yield tmp_path / "var"
    Cluster(var_dir=tmp_path / "var").destroy()


def test_two_serves_share_the_cluster_and_one_stopping_harms_nothing(var_dir: Path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["KOTAKU_VAR"] = str(var_dir)
    first_port, second_port = _free_port(), _free_port()
    first = subprocess.Popen([KOTAKU, "serve", "--port", str(first_port)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    second = None
    try:
        health = _wait_healthy(first_port, first)
        assert health["status"] == "ok"
        # the same port again: refused with a clear message, cluster untouched
        clash = subprocess.run([KOTAKU, "serve", "--port", str(first_port)], env=env, capture_output=True,
                               text=True, timeout=120)
        assert clash.returncode != 0 and "cannot listen" in clash.stderr
        # a second server on another port joins the running cluster
        second = subprocess.Popen([KOTAKU, "serve", "--port", str(second_port)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _wait_healthy(second_port, second)
        second.terminate()
        second.wait(timeout=30)
        assert httpx.get(f"http://127.0.0.1:{first_port}/healthz").json()["status"] == "ok"
        assert Cluster(var_dir=var_dir).status().running
    finally:
        for process in (first, second):
            if process and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
