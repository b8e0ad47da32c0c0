"""geo.parallel.ahead: results in the order of the items, the next one computed while the caller works on one,
nothing more computed once the caller stops."""

from __future__ import annotations

import threading
import time

import pytest

from geo.parallel import ahead, background


@pytest.mark.parametrize("workers", [1, 2])
def test_ahead_gives_every_result_in_order(workers: int) -> None:
    def slow_evens(n: int) -> int:  # with two workers, odd items finish before the even ones before them
        time.sleep(0.002 if n % 2 == 0 else 0)
        return n * n

    assert list(ahead(slow_evens, range(50), depth=workers + 1, workers=workers)) == [n * n for n in range(50)]


def test_ahead_computes_the_next_item_while_the_caller_holds_one() -> None:
    started = {n: threading.Event() for n in range(3)}

    def work(n: int) -> int:
        started[n].set()
        return n

    for n in ahead(work, range(3)):
        if n < 2:  # while the caller still holds item n, item n + 1 starts without it asking
            assert started[n + 1].wait(timeout=10)


def test_ahead_stops_when_the_caller_stops() -> None:
    done: list[int] = []
    release = threading.Event()

    def work(n: int) -> int:
        if n >= 1:
            release.wait(timeout=10)
        done.append(n)
        return n

    results = ahead(work, range(100))
    assert next(results) == 0
    results.close()  # the caller stops after the first result
    release.set()
    time.sleep(0.5)  # time enough for a worker that went on to compute dozens more
    assert len(done) <= 2  # the first, and the one already running when the caller stopped


def test_background_returns_the_result_later() -> None:
    assert background(sum, [1, 2, 3]).result(timeout=10) == 6


def test_ahead_starts_before_the_first_result_is_asked_for() -> None:
    started = threading.Event()

    def work(n: int) -> int:
        started.set()
        return n

    with ahead(work, range(3)) as results:
        assert started.wait(timeout=10)  # the import works on the codes meanwhile; nothing asked for yet
        assert list(results) == [0, 1, 2]
