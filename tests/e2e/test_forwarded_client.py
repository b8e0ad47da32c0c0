"""Behind a shared cache every request reaches a host from the cache's address. The login limit per address
(KOTAKU_LOGIN_MAX_FAILURES_ADDRESS) must count the real client, which Varnish names in X-Forwarded-For, or one
client's failed logins would lock out everyone behind the same cache. A real `kotaku serve` behind Varnish
(deploy/varnish/kotaku.vcl): with the cache's address in KOTAKU_FORWARDED_ALLOW_IPS (loopback, the default) the
limit is per client; with a cache it does not trust, every client counts as the cache."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.servers import running_server
from tests.e2e.varnish import available, varnish

pytestmark = pytest.mark.skipif(not available(), reason="varnishd is not installed (Debian package varnish; "
                                                        "`make test` installs it)")
LIMIT = 3


def failed_login(cache: str, client: str, n: int) -> int:
    """A wrong password for a new name (the per-account limit stays out of it) from `client`, through the cache."""
    answer = httpx.post(f"{cache}/auth/login", json={"username": f"tamu{n}", "password": "salah-sekali-123"},
                        headers={"X-Forwarded-For": client}, timeout=30)
    return answer.status_code


@pytest.mark.parametrize("trusted", [True, False], ids=["cache trusted", "cache not trusted"])
def test_the_login_limit_per_address_counts_the_client_behind_the_cache(fresh_demo, trusted):
    url = fresh_demo()
    env = {"KOTAKU_LOGIN_MAX_FAILURES_ADDRESS": str(LIMIT)}
    if not trusted:
        env["KOTAKU_FORWARDED_ALLOW_IPS"] = "192.0.2.1"  # some other proxy: loopback (the cache) is not trusted
    with running_server(url, env=env) as origin, varnish(origin) as cache:
        first = [failed_login(cache, "203.0.113.7", n) for n in range(LIMIT + 1)]
        assert first == [401] * LIMIT + [429]  # one client past its limit
        other = failed_login(cache, "203.0.113.8", LIMIT + 1)
        # another client behind the same cache: its own count when the cache is trusted, else the cache's
        assert other == (401 if trusted else 429)
    fresh_demo.drop(url)
