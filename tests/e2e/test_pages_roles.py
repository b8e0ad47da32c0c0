"""Write controls on the pages follow the caller's role (maps/pages/writes.py): on /peta/usulan a visitor is told to
sign in, a role that may not propose (lurah, OPD) or a planner of another kab/kota is told why, in Bahasa
Indonesia, and gets no submit button; a kepling or pokja of the kab/kota gets the form with its submit button."""

from __future__ import annotations

import asyncio
import re

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from layers.accounts.access import cli_principal
from layers.accounts.users import add_user, issue_token

USERS = {"kepling_hc": ("kepling", "12.71.08.1006/Lingkungan 01"), "pokja_hc": ("pokja", "12.71"),
         "lurah_hc": ("lurah", "12.71.08.1006"), "opd_hc": ("opd", "12.71")}
SUBMIT = re.compile(r'<button type="submit" id="kirim"( hidden disabled)?>')
NOTICE = re.compile(r'<p class="pesan info tidak-boleh" id="tidak-boleh" role="note">(.*?)</p>', re.S)


async def _tokens(url: str) -> dict[str, str]:
    tokens = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for name, (role, area) in USERS.items():
            extra = {"agency": "Dinas PU"} if role == "opd" else {}
            await add_user(conn, cli_principal(), name, role, area, **extra)
            _, tokens[name] = await issue_token(conn, cli_principal(), name, label="uji halaman")
    return tokens


def page_as(client: TestClient, token: str | None, query: str = "") -> tuple[str | None, bool]:
    """The notice's text (None when there is none) and whether the submit button is there to press."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    html = client.get(f"/peta/usulan{query}", headers=headers).text
    submit = SUBMIT.search(html)
    assert submit, "the form keeps its submit button, hidden when it may not be used"
    notice = NOTICE.search(html)
    return (notice[1] if notice else None), submit[1] is None


@pytest.mark.writes_demo
def test_the_proposal_page_says_who_may_propose(demo_url):
    tokens = asyncio.run(_tokens(demo_url))
    with TestClient(create_app(demo_url)) as client:
        notice, usable = page_as(client, None)
        assert not usable and notice is not None
        assert notice.startswith("Anda belum masuk. Masuk sebagai kepala lingkungan, Bappeda atau Pokja PKP")
        assert '<a href="/auth/login?next=/peta/usulan">Masuk</a>' in notice
        for name in ("kepling_hc", "pokja_hc"):
            assert page_as(client, tokens[name]) == (None, True), name
        notice, usable = page_as(client, tokens["lurah_hc"])
        assert not usable and notice == ("Peran lurah tidak dapat mengirim usulan; yang dapat: kepala lingkungan, "
                                         "Bappeda atau Pokja PKP.")
        notice, usable = page_as(client, tokens["opd_hc"])
        assert not usable and notice is not None and notice.startswith("Peran OPD tidak dapat mengirim usulan")
        notice, usable = page_as(client, tokens["pokja_hc"], "?tenant=32.73")  # another kab/kota's page
        assert not usable and notice == ("Akun Anda (Pokja PKP) untuk kab/kota 12.71, bukan 32.73: Anda tidak dapat "
                                         "mengirim usulan di sini.")
        for token in (None, tokens["lurah_hc"]):  # and the API refuses them too: the page told the truth
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            answer = client.post("/collections/activities/items", headers=headers, json={
                "type": "Feature", "geometry": {"type": "LineString", "coordinates": [[98.68, 3.6], [98.681, 3.6]]},
                "properties": {"title": "Uji", "kind": "jalan_paving", "year_start": 2027}})
            assert answer.status_code == (401 if token is None else 403), answer.text
