"""Login limits: failed logins are counted per account and per client address in a sliding window, in PostgreSQL
(table login_attempts), so every worker process and every host behind the same database shares the counts.

`begin` refuses an attempt (TooManyRequests, with the seconds to wait) when the account or the address already has
its most failures in the window, else records the attempt as pending (counted as a failure while the password is
checked: parallel guesses cannot slip past the limit) and returns its id; `finish` marks it succeeded or failed.
A refused attempt is not recorded (it would push the window on forever) and its password is never checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg
from psycopg import sql

from geo.errors import TooManyRequests
from layers.db.rows import one

INSERT = sql.SQL("INSERT INTO login_attempts (username, address) VALUES (%(username)s, %(address)s) RETURNING id")
# Failures (pending included) in the window up to and including this attempt, and the oldest of each, with the
# seconds until the oldest leaves the window.
COUNT = sql.SQL("""
SELECT count(*) FILTER (WHERE username = %(username)s),
       count(*) FILTER (WHERE address = %(address)s),
       extract(epoch FROM min(at) FILTER (WHERE username = %(username)s) + %(window)s * interval '1 second'
                          - clock_timestamp()),
       extract(epoch FROM min(at) FILTER (WHERE address = %(address)s) + %(window)s * interval '1 second'
                          - clock_timestamp())
FROM login_attempts
WHERE (username = %(username)s OR address = %(address)s) AND succeeded IS NOT TRUE
  AND at > clock_timestamp() - %(window)s * interval '1 second' AND id <= %(id)s
""")
DELETE = sql.SQL("DELETE FROM login_attempts WHERE id = %(id)s")
FINISH = sql.SQL("UPDATE login_attempts SET succeeded = %(succeeded)s WHERE id = %(id)s")
PRUNE = sql.SQL("DELETE FROM login_attempts WHERE at < clock_timestamp() - %(keep)s * interval '1 second'")
MESSAGE = ("Terlalu banyak percobaan masuk yang gagal {whom}; coba lagi dalam {wait} detik. / "
           "Too many failed logins {whom_en}; try again in {wait} seconds.")


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int = 5          # per account
    max_failures_address: int = 20  # per client address, across accounts
    window_s: float = 900


async def begin(conn: psycopg.AsyncConnection, username: str, address: str, limits: LoginLimits) -> int:
    """Record a pending attempt and return its id, or raise TooManyRequests (nothing recorded)."""
    username = (username or "").strip().lower()
    params = {"username": username, "address": address or "-", "window": limits.window_s}
    row = one(await (await conn.execute(INSERT, params)).fetchone(), "INSERT INTO login_attempts")
    attempt = int(row[0])
    counts = one(await (await conn.execute(COUNT, {**params, "id": attempt})).fetchone(), "login_attempts count")
    by_account, by_address = int(counts[0]), int(counts[1])
    # this attempt is counted in both: it may go ahead while the failures before it stay under the limits
    over_account = by_account > limits.max_failures
    over_address = by_address > limits.max_failures_address
    if not (over_account or over_address):
        return attempt
    await conn.execute(DELETE, {"id": attempt})
    wait = max(float(counts[2] or 0) if over_account else 0.0, float(counts[3] or 0) if over_address else 0.0)
    seconds = max(1, math.ceil(wait))
    if over_account:
        whom, whom_en = f"untuk akun '{username}'", f"for account '{username}'"
    else:
        whom, whom_en = f"dari alamat {address}", f"from address {address}"
    raise TooManyRequests(MESSAGE.format(whom=whom, whom_en=whom_en, wait=seconds),
                          details={"retry_after_s": seconds, "limit": "account" if over_account else "address",
                                   "window_s": limits.window_s},
                          retry_after=seconds)


async def finish(conn: psycopg.AsyncConnection, attempt: int, succeeded: bool, limits: LoginLimits) -> None:
    """Mark an attempt; a success also drops the attempts older than a day beyond the window (housekeeping)."""
    await conn.execute(FINISH, {"id": attempt, "succeeded": succeeded})
    if succeeded:
        await conn.execute(PRUNE, {"keep": limits.window_s + 86_400})
