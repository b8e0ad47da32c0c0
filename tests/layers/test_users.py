"""Users, passwords and tokens in layers/: areas by role, hashes only, revocation, and the `kotaku user` commands."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from data import data_path
from geo.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from layers.accounts import tokens, users
from layers.accounts.access import PUBLIC, Principal, cli_principal
from layers.db.connection import connect_async
from layers.imports.regions import import_regions

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
ADMIN = cli_principal()


def run(url: str, action):
    """Run `action(conn)` on an async connection as the app works (its role, autocommit like the pool)."""
    async def go():
        async with await connect_async(url, autocommit=True) as conn:
            return await action(conn)
    return asyncio.run(go())


def kotaku(args: list[str], url: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([KOTAKU, *args], capture_output=True, text=True, input=stdin, timeout=120,
                          env={**os.environ, "DATABASE_URL": url})


@pytest.mark.parametrize(
    ("role", "area", "agency", "expected"),
    [
        ("kepling", "12.71.01.1001/Lingkungan 02", None, ("12.71.01.1001/Lingkungan 02", "12.71", (), None)),
        ("kepling", "1271011001/ RT  03 ", None, ("12.71.01.1001/RT 03", "12.71", (), None)),
        ("lurah", "1271011001", None, ("12.71.01.1001", "12.71", (), None)),
        ("camat", "12.71.01", None, ("12.71.01", "12.71", (), None)),
        ("opd", "12.71/Dinas PU", None, ("12.71", "12.71", (), "Dinas PU")),
        ("opd", "12.71", "Dinas Perkim", ("12.71", "12.71", (), "Dinas Perkim")),
        ("bappeda", "1271", None, ("12.71", "12.71", (), None)),
        ("pokja", "73.07", None, ("73.07", "73.07", (), None)),
        ("konsultan", "73.07, 1271", None, (None, None, ("12.71", "73.07"), None)),
        ("admin", None, None, (None, None, (), None)),
    ],
)
def test_areas_by_role(role, area, agency, expected):
    assert users.parse_area(role, area, agency) == expected


@pytest.mark.parametrize(
    ("role", "area", "says"),
    [
        ("kepling", "12.71.01.1001", "names its lingkungan or RT"),
        ("kepling", "12.71.01/Lingkungan 1", "not a kelurahan/desa code"),
        ("lurah", "12.71.01", "not a kelurahan/desa code"),
        ("lurah", "12.71.01.1001/Lingkungan 1", "without a label"),
        ("camat", "12.71", "not a kecamatan code"),
        ("opd", "12.71", "needs its agency"),
        ("bappeda", "12.71.01", "not a kab/kota code"),
        ("bappeda", None, "needs --area"),
        ("konsultan", "12.71,Medan", "'Medan' is not a kab/kota code"),
        ("admin", "12.71", "not scoped"),
        ("publik", None, "role 'publik' does not exist"),
        ("walikota", "12.71", "role 'walikota' does not exist"),
    ],
)
def test_wrong_areas_say_what_is_expected(role, area, says):
    with pytest.raises(InvalidInput, match=says):
        users.parse_area(role, area)


def test_passwords_and_tokens_are_stored_only_as_argon2_hashes(empty_db):
    user, generated = run(empty_db, lambda c: users.add_user(c, ADMIN, "Budi.Lurah", "lurah", "12.71.01.1001",
                                                            password="rahasia-budi-1"))
    assert user.username == "budi.lurah" and generated is None
    token_id, token = run(empty_db, lambda c: users.issue_token(c, ADMIN, "budi.lurah", label="QGIS"))
    assert token.startswith(f"ktk_{token_id}_")
    with psycopg.connect(empty_db) as conn:
        password_hash = conn.execute("SELECT password_hash FROM users").fetchone()[0]
        secret_hash = conn.execute("SELECT secret_hash FROM api_tokens").fetchone()[0]
        dump = json.dumps(conn.execute("SELECT row_to_json(u)::text FROM users u").fetchall()
                          + conn.execute("SELECT row_to_json(t)::text FROM api_tokens t").fetchall()
                          + conn.execute("SELECT row_to_json(a)::text FROM audit_log a").fetchall())
    assert password_hash.startswith("$argon2id$") and secret_hash.startswith("$argon2id$")
    assert "rahasia-budi-1" not in dump and token.split("_", 2)[2] not in dump  # nowhere in clear, not in the audit
    assert tokens.verify_password(password_hash, "rahasia-budi-1")
    assert not tokens.verify_password(password_hash, "rahasia-budi-2")


def test_a_generated_password_logs_in_and_a_token_resolves_to_the_principal(empty_db):
    user, generated = run(empty_db, lambda c: users.add_user(c, ADMIN, "ani", "kepling",
                                                            "12.71.01.1001/Lingkungan 02", display_name="Ani"))
    assert generated and len(generated) >= 12
    logged = run(empty_db, lambda c: users.login(c, "ani", generated))
    assert logged is not None and logged[0].username == "ani" and logged[2].startswith("kss_")
    assert run(empty_db, lambda c: users.login(c, "ani", "wrong password")) is None
    assert run(empty_db, lambda c: users.login(c, "nobody", generated)) is None
    _, token = run(empty_db, lambda c: users.issue_token(c, ADMIN, "ani"))
    principal, _ = run(empty_db, lambda c: users.resolve(c, token, "token"))
    assert principal == Principal(role="kepling", username="ani", tenant="12.71",
                                  area_code="12.71.01.1001/Lingkungan 02")
    assert principal.region_code == "12.71.01.1001" and principal.area_label == "Lingkungan 02"
    assert run(empty_db, lambda c: users.resolve(c, token, "session")) is None  # a token is not a session cookie
    assert run(empty_db, lambda c: users.resolve(c, logged[2], "session"))[0].username == "ani"


def test_konsultan_tenants_and_opd_agency_reach_the_principal(empty_db):
    run(empty_db, lambda c: users.add_user(c, ADMIN, "konsultan1", "konsultan", "12.71,73.07"))
    run(empty_db, lambda c: users.add_user(c, ADMIN, "pu.medan", "opd", "12.71/Dinas PU"))
    for name, expected in (("konsultan1", Principal(role="konsultan", username="konsultan1",
                                                    tenants=("12.71", "73.07"))),
                           ("pu.medan", Principal(role="opd", username="pu.medan", tenant="12.71",
                                                  area_code="12.71", agency="Dinas PU"))):
        _, token = run(empty_db, lambda c, n=name: users.issue_token(c, ADMIN, n))
        assert run(empty_db, lambda c, t=token: users.resolve(c, t, "token"))[0] == expected


def test_revoked_expired_wrong_and_disabled_tokens_stop_at_once(empty_db):
    run(empty_db, lambda c: users.add_user(c, ADMIN, "pokja1", "pokja", "12.71"))
    first_id, first = run(empty_db, lambda c: users.issue_token(c, ADMIN, "pokja1"))
    _, second = run(empty_db, lambda c: users.issue_token(c, ADMIN, "pokja1"))
    assert run(empty_db, lambda c: users.resolve(c, first, "token")) is not None  # verified (and remembered)
    assert run(empty_db, lambda c: users.revoke_tokens(c, ADMIN, "pokja1", first_id)) == [first_id]
    assert run(empty_db, lambda c: users.resolve(c, first, "token")) is None  # the remembered check does not help
    assert run(empty_db, lambda c: users.resolve(c, second, "token")) is not None
    wrong = second[:-4] + ("AAAA" if not second.endswith("AAAA") else "BBBB")
    assert run(empty_db, lambda c: users.resolve(c, wrong, "token")) is None
    assert run(empty_db, lambda c: users.resolve(c, "not a token", "token")) is None
    run(empty_db, lambda c: users.set_disabled(c, ADMIN, "pokja1", True))
    assert run(empty_db, lambda c: users.resolve(c, second, "token")) is None
    assert run(empty_db, lambda c: users.login(c, "pokja1", "whatever")) is None
    run(empty_db, lambda c: users.set_disabled(c, ADMIN, "pokja1", False))
    assert run(empty_db, lambda c: users.resolve(c, second, "token")) is None  # disabling revoked it for good
    third_id, third = run(empty_db, lambda c: users.issue_token(c, ADMIN, "pokja1", expires_days=1))
    assert run(empty_db, lambda c: users.resolve(c, third, "token")) is not None
    with psycopg.connect(empty_db) as conn:
        conn.execute("UPDATE api_tokens SET expires_at = %s WHERE id = %s",
                     [datetime.now(UTC) - timedelta(seconds=1), third_id])
    assert run(empty_db, lambda c: users.resolve(c, third, "token")) is None


def test_a_new_password_ends_sessions_but_not_tokens(empty_db):
    run(empty_db, lambda c: users.add_user(c, ADMIN, "camat1", "camat", "12.71.01", password="password-one"))
    session = run(empty_db, lambda c: users.login(c, "camat1", "password-one"))[2]
    _, token = run(empty_db, lambda c: users.issue_token(c, ADMIN, "camat1"))
    run(empty_db, lambda c: users.set_password(c, ADMIN, "camat1", "password-two"))
    assert run(empty_db, lambda c: users.resolve(c, session, "session")) is None
    assert run(empty_db, lambda c: users.resolve(c, token, "token")) is not None
    assert run(empty_db, lambda c: users.login(c, "camat1", "password-two")) is not None


def test_only_admin_manages_users_and_mistakes_are_named(empty_db):
    bappeda = Principal(role="bappeda", username="b", tenant="12.71", area_code="12.71")
    with pytest.raises(Forbidden, match="may not user.manage"):
        run(empty_db, lambda c: users.add_user(c, bappeda, "kep1", "kepling", "12.71.01.1001/Lingkungan 1"))
    with pytest.raises(Unauthorized, match="login required"):
        run(empty_db, lambda c: users.list_users(c, PUBLIC))
    with pytest.raises(Forbidden):  # not NotFound: who may not manage users learns nothing about who exists
        run(empty_db, lambda c: users.set_disabled(c, bappeda, "ghost", True))
    run(empty_db, lambda c: users.add_user(c, ADMIN, "kep1", "kepling", "12.71.01.1001/Lingkungan 1"))
    with pytest.raises(Conflict, match="already exists"):
        run(empty_db, lambda c: users.add_user(c, ADMIN, "KEP1", "kepling", "12.71.01.1001/Lingkungan 1"))
    with pytest.raises(InvalidInput, match="user name 'pak budi'"):
        run(empty_db, lambda c: users.add_user(c, ADMIN, "Pak Budi", "lurah", "12.71.01.1001"))
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        run(empty_db, lambda c: users.add_user(c, ADMIN, "kep2", "kepling", "12.71.01.1001/L 1", password="short"))
    with pytest.raises(NotFound, match="user 'ghost' does not exist"):
        run(empty_db, lambda c: users.issue_token(c, ADMIN, "ghost"))
    assert [u.username for u in run(empty_db, lambda c: users.list_users(c, ADMIN))] == ["kep1"]


def test_an_unknown_region_is_refused_once_the_kab_kota_is_loaded(conn, empty_db):
    run(empty_db, lambda c: users.add_user(c, ADMIN, "lurah.x", "lurah", "12.71.01.9999"))  # nothing loaded: taken
    import_regions(conn, data_path("demo", "boundaries", "kota_medan_desa_kel.geojson"))
    with pytest.raises(InvalidInput, match="12.71.01.9998 is not among the loaded regions"):
        run(empty_db, lambda c: users.add_user(c, ADMIN, "lurah.y", "lurah", "12.71.01.9998"))
    run(empty_db, lambda c: users.add_user(c, ADMIN, "lurah.z", "lurah", "12.71.01.1001"))


def test_every_user_write_is_audited_without_secrets(empty_db):
    run(empty_db, lambda c: users.add_user(c, ADMIN, "opd1", "opd", "12.71/DLH", password="password-opd"))
    token_id, _ = run(empty_db, lambda c: users.issue_token(c, ADMIN, "opd1"))
    run(empty_db, lambda c: users.login(c, "opd1", "password-opd"))
    run(empty_db, lambda c: users.revoke_tokens(c, ADMIN, "opd1", token_id))
    run(empty_db, lambda c: users.set_disabled(c, ADMIN, "opd1", True))
    with psycopg.connect(empty_db) as conn:
        rows = conn.execute("SELECT action, actor, tenant, before, after FROM audit_log ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["user.add", "token.issue", "auth.login", "token.revoke", "user.disable"]
    assert rows[0][4]["agency"] == "DLH" and rows[0][2] == "12.71" and rows[2][1] == "opd1"
    assert rows[4][3]["disabled"] is False and rows[4][4]["disabled"] is True
    assert "hash" not in json.dumps([r[3:] for r in rows])


def test_cli_user_commands(empty_db):
    added = kotaku(["user", "add", "siti", "--role", "lurah", "--area", "12.71.01.1001"], empty_db)
    assert added.returncode == 0, added.stderr
    assert "user siti added: lurah of 12.71.01.1001" in added.stdout and "password: " in added.stdout
    stdin = kotaku(["user", "add", "adm", "--role", "admin", "--password-stdin", "--json"], empty_db,
                   stdin="kata-sandi-admin\n")
    assert stdin.returncode == 0 and json.loads(stdin.stdout)["password"] is None
    assert asyncio.run(_login_ok(empty_db, "adm", "kata-sandi-admin"))
    wrong = kotaku(["user", "add", "dodi", "--role", "camat", "--area", "12.71"], empty_db)
    assert wrong.returncode == 2 and "not a kecamatan code" in wrong.stderr
    again = kotaku(["user", "add", "siti", "--role", "lurah", "--area", "12.71.01.1001"], empty_db)
    assert again.returncode == 4 and "already exists" in again.stderr
    token = kotaku(["user", "token", "siti", "--label", "QGIS"], empty_db)
    assert token.returncode == 0 and re.fullmatch(r"ktk_\d+_\S{43}", token.stdout.strip())  # stdout: the token
    listed = json.loads(kotaku(["user", "list", "--json"], empty_db).stdout)
    assert [(u["username"], u["role"], u["disabled"]) for u in listed] == [("adm", "admin", False),
                                                                          ("siti", "lurah", False)]
    disabled = kotaku(["user", "disable", "siti"], empty_db)
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    assert run(empty_db, lambda c: users.resolve(c, token.stdout.strip(), "token")) is None
    missing = kotaku(["user", "token", "nobody"], empty_db)
    assert missing.returncode == 3 and "does not exist" in missing.stderr
    assert kotaku(["audit", "verify"], empty_db).returncode == 0


async def _login_ok(url: str, name: str, password: str) -> bool:
    async with await connect_async(url, autocommit=True) as conn:
        return await users.login(conn, name, password) is not None
