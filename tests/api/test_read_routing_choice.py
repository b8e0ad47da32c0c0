"""Which server a read goes to (api/read_routing.py) and which layers a write bans (layers/serving/purge.py), without
a server: the choice rules on their own."""

from __future__ import annotations

from api.read_routing import CHECK_INTERVAL_S, PRIMARY, Replica, RoutedPool, lsn_int, reban_delay
from layers.serving.purge import REBAN_DELAY_S, changed_layers, parse_urls


def replica(up=True, lsn=100, lag=0.0) -> Replica:
    return Replica("postgresql://r", pool=None, up=up, replay_lsn=lsn, lag_s=lag)  # type: ignore[arg-type]


def test_lsn_text_is_compared_as_a_number():
    assert lsn_int("0/4000000") == 0x4000000
    assert lsn_int("16/B374D848") > lsn_int("9/FFFFFFFF")
    assert lsn_int("nonsense") is None and lsn_int(None) is None


def test_a_read_goes_to_the_first_replica_that_is_up_current_enough_and_has_the_callers_write():
    routed = RoutedPool(None, [replica(up=False), replica(lag=9.0), replica(lsn=50), replica(lsn=200)],  # type: ignore[arg-type]
                        max_lag_s=5)
    assert routed.choose(None) == 2  # down and lagging ones skipped
    assert routed.choose(150) == 3  # the caller wrote at 150: only a replica past it
    assert routed.choose(500) == PRIMARY  # none has it yet: the primary
    assert RoutedPool(None, [], 5).choose(None) == PRIMARY  # type: ignore[arg-type]


def test_a_write_bans_the_layers_whose_version_moved():
    before = {"activities": 3, "slum-areas": 7}
    assert changed_layers(before, {"activities": 4, "slum-areas": 7}) == ["activities"]
    assert changed_layers(before, {"activities": 3, "slum-areas": 7, "assets": 1}) == ["assets"]
    assert changed_layers(None, {"b": 1, "a": 1}) == ["a", "b"]  # nothing known before: everything
    assert parse_urls(" http://c1:6081/ ,, http://c2:6081") == ("http://c1:6081", "http://c2:6081")
    assert parse_urls(None) == ()


def test_with_replicas_the_second_ban_comes_after_a_lagging_replica_is_left_out():
    """A replica missing a write serves reads until its lag passes the limit (then the monitor's next check): an
    answer it drew and a cache stored must meet the second ban, so that ban waits longer than all that."""
    assert reban_delay(object()) == REBAN_DELAY_S  # no replicas: the plain delay
    assert reban_delay(RoutedPool(None, [], 5)) == REBAN_DELAY_S  # type: ignore[arg-type]
    routed = RoutedPool(None, [replica()], max_lag_s=5)  # type: ignore[arg-type]
    assert reban_delay(routed) > 5 + CHECK_INTERVAL_S
    routed.max_lag_s = 30
    assert reban_delay(routed) > 30 + CHECK_INTERVAL_S
