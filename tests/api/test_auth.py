"""Logging in and out over HTTP: form and JSON login, session cookie, CSRF, bearer tokens and their revocation."""

from __future__ import annotations

import asyncio
import re

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from layers.accounts import users
from layers.accounts.access import cli_principal
from layers.db.connection import connect_async

ADMIN = cli_principal()
PASSWORD = "kata-sandi-lurah"


def run(url: str, action):
    async def go():
        async with await connect_async(url, autocommit=True) as conn:
            return await action(conn)
    return asyncio.run(go())


@pytest.fixture
def client(empty_db):
    run(empty_db, lambda c: users.add_user(c, ADMIN, "lurah.madras", "lurah", "12.71.01.1001", password=PASSWORD))
    with TestClient(create_app(empty_db)) as test_client:
        yield test_client


def form_login(client: TestClient, username: str = "lurah.madras", password: str = PASSWORD,
               next_path: str = "/peta"):
    page = client.get("/auth/login", params={"next": next_path})
    assert page.status_code == 200 and "Masuk" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post("/auth/login", data={"username": username, "password": password, "csrf_token": csrf,
                                            "next": next_path}, follow_redirects=False)


def test_anonymous_is_publik(client):
    me = client.get("/auth/me").json()
    assert me["role"] == "publik" and me["username"] is None and me["auth"] is None and me["csrf_token"] is None


def test_form_login_sets_a_safe_session_cookie_and_redirects(client):
    response = form_login(client)
    assert response.status_code == 303 and response.headers["location"] == "/peta"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("kotaku_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    me = client.get("/auth/me").json()
    assert (me["username"], me["role"], me["area_code"], me["auth"]) == ("lurah.madras", "lurah", "12.71.01.1001",
                                                                        "session")
    assert re.fullmatch(r"[0-9a-f]{64}", me["csrf_token"])


def test_form_login_needs_the_form_s_own_csrf_token(client):
    client.get("/auth/login")
    forged = client.post("/auth/login", data={"username": "lurah.madras", "password": PASSWORD,
                                              "csrf_token": "from-another-site"}, follow_redirects=False)
    assert forged.status_code == 403 and "another site" in forged.json()["description"]
    fresh = TestClient(client.app)  # no login cookie at all
    assert fresh.post("/auth/login", data={"username": "lurah.madras", "password": PASSWORD,
                                           "csrf_token": "x"}).status_code == 403


def test_wrong_password_is_401_and_the_page_says_so(client):
    response = form_login(client, password="salah-salah")
    assert response.status_code == 401 and "Nama pengguna atau kata sandi salah" in response.text
    assert "kotaku_session" not in client.cookies
    assert client.post("/auth/login", json={"username": "nobody", "password": "x"}).status_code == 401


def test_open_redirects_are_refused(client):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        assert form_login(client, next_path=target).headers["location"] == "/"


def test_json_login_and_csrf_on_writes_with_a_session(client):
    response = client.post("/auth/login", json={"username": "lurah.madras", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "lurah" and "password" not in body and body["csrf_token"]
    # A write with the session cookie but no CSRF token: refused whatever the route.
    no_csrf = client.post("/auth/logout")
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["description"]
    wrong = client.post("/auth/logout", headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    assert client.get("/auth/me").json()["auth"] == "session"  # reads need no CSRF token
    ok = client.post("/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert ok.status_code == 204
    assert client.get("/auth/me").json()["role"] == "publik"


def test_logout_by_form_ends_the_session_for_good(client):
    form_login(client)
    session = client.cookies["kotaku_session"]
    csrf = client.get("/auth/me").json()["csrf_token"]
    response = client.post("/auth/logout", data={"csrf_token": csrf, "next": "/peta"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/peta"
    replay = TestClient(client.app, cookies={"kotaku_session": session})  # the old cookie, kept by an attacker
    assert replay.get("/auth/me").json()["role"] == "publik"
    assert client.post("/auth/logout").status_code == 401  # nothing left to end


def test_bearer_tokens_and_their_revocation(client, empty_db):
    token_id, token = run(empty_db, lambda c: users.issue_token(c, ADMIN, "lurah.madras"))
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["username"], me["auth"], me["csrf_token"]) == ("lurah.madras", "token", None)
    run(empty_db, lambda c: users.revoke_tokens(c, ADMIN, "lurah.madras", token_id))
    revoked = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401 and "revoked" in revoked.json()["description"]
    for header in ("Bearer", "Basic dXNlcjpwYXNz", "Bearer ktk_1_short", f"Bearer {token[:-1]}x"):
        assert client.get("/auth/me", headers={"Authorization": header}).status_code == 401, header


def test_disabling_a_user_ends_its_tokens_and_sessions_at_once(client, empty_db):
    _, token = run(empty_db, lambda c: users.issue_token(c, ADMIN, "lurah.madras"))
    form_login(client)
    assert client.get("/auth/me").json()["auth"] == "session"
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    run(empty_db, lambda c: users.set_disabled(c, ADMIN, "lurah.madras", True))
    assert client.get("/auth/me").json()["role"] == "publik"
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post("/auth/login", json={"username": "lurah.madras", "password": PASSWORD}).status_code == 401


def test_admin_manages_users_over_http(client, empty_db):
    run(empty_db, lambda c: users.add_user(c, ADMIN, "admin1", "admin", password="admin-password"))
    _, token = run(empty_db, lambda c: users.issue_token(c, ADMIN, "admin1"))
    auth = {"Authorization": f"Bearer {token}"}
    created = client.post("/users", json={"username": "ani", "role": "kepling",
                                          "area": "12.71.01.1001/Lingkungan 02"}, headers=auth)
    assert created.status_code == 201 and created.json()["password"]
    issued = client.post("/users/ani/tokens", json={"label": "HP"}, headers=auth)
    assert issued.status_code == 201
    ani = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert client.get("/auth/me", headers=ani).json()["area_code"] == "12.71.01.1001/Lingkungan 02"
    listed = client.get("/users/ani/tokens", headers=auth).json()
    assert [t["label"] for t in listed] == ["HP"] and "secret_hash" not in listed[0]
    assert client.delete(f"/users/ani/tokens/{issued.json()['id']}", headers=auth).json()["revoked"] == [
        issued.json()["id"]]
    assert client.get("/auth/me", headers=ani).status_code == 401
    bad = client.post("/users", json={"username": "x y", "role": "lurah", "area": "12.71.01.1001"}, headers=auth)
    assert bad.status_code == 400 and "user name" in bad.json()["description"]
    with psycopg.connect(empty_db) as conn:
        actions = [r[0] for r in conn.execute("SELECT actor || ' ' || action FROM audit_log ORDER BY id")]
    assert actions[-3:] == ["admin1 user.add", "admin1 token.issue", "admin1 token.revoke"]
