"""No single request takes `kotaku serve` down, and a server that died anyway starts again at once on its port
(issue: hardening, item 1). The /healthz latency under this load is measured by bench/hardening.py."""

from __future__ import annotations

import os
import signal
import threading

import httpx

from tests.e2e.servers import free_port, start, stop, wait_healthy

CRASH = "NOT (" * 1100 + "stage = 'selesai'" + ")" * 1100  # once: SIGSEGV in the CQL2 parser, server gone
FREEZE = "(" * 21 + "stage = 'selesai'"  # once: ~10 s of backtracking holding the event loop
DEEP = "(" * 10 + "stage = " + ")" * 10  # the deepest invalid input the bounds let through to the parser


def test_crash_and_freeze_filters_are_400_and_the_server_keeps_answering(database_url):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    server = start(port, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(port, server)
        answers: list[int] = []
        health: list[int] = []

        def attack() -> None:
            with httpx.Client(timeout=30) as client:
                for i in range(30):
                    text = (CRASH, FREEZE, DEEP)[i % 3]
                    answers.append(client.get(f"{base}/collections/activities/items",
                                              params={"filter": text}).status_code)

        attackers = [threading.Thread(target=attack) for _ in range(3)]
        for thread in attackers:
            thread.start()
        with httpx.Client(timeout=10) as client:
            while any(t.is_alive() for t in attackers) and len(health) < 500:
                health.append(client.get(f"{base}/healthz").status_code)
        for thread in attackers:
            thread.join(timeout=120)
        assert answers == [400] * 90
        assert health and set(health) == {200}
        assert server.poll() is None  # the same process, alive
        body = httpx.get(f"{base}/collections/activities/items", params={"filter": CRASH}).json()
        assert body["code"] == "invalid_input" and "characters long" in body["description"]
    finally:
        stop(server)


def test_a_server_killed_by_a_signal_starts_again_at_once_on_the_same_port(database_url):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    server = start(port, env=env)
    try:
        wait_healthy(port, server)
        with httpx.Client(timeout=10) as client:  # keep-alive connections open at the crash, as browsers keep them
            for _ in range(5):
                client.get(f"http://127.0.0.1:{port}/healthz")
            server.send_signal(signal.SIGSEGV)  # what a native crash does: the port's connections go to TIME_WAIT
            server.wait(timeout=30)
        again = start(port, env=env)
        try:
            assert wait_healthy(port, again, timeout=60)["status"] == "ok"
        finally:
            stop(again)
    finally:
        stop(server)
