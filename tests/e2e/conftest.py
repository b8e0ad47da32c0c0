"""The pages in a real browser: a `kotaku serve` process on loopback over the demo, and Debian's headless Chromium
driven by Playwright (never a downloaded browser). Every request the browser makes is recorded; any that would
leave the machine is aborted and reported."""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from layers.accounts.access import cli_principal
from layers.accounts.users import add_user, issue_token
from tests.e2e.servers import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "kata-sandi-uji-123"
SCRIPT_TITLE = "<script>alert(1)</script>"
SCRIPT_KAWASAN = "<img src=x onerror=alert(2)>"
SCRIPT_KELURAHAN = "<script>alert(3)</script> Kelurahan"


@dataclass
class Site:
    base: str
    database_url: str
    spots: list[tuple[float, float]]  # (lon, lat) far from every demo activity
    kepling_spot: tuple[float, float]  # inside the kepling's kelurahan
    slum_area_point: tuple[float, float, int]  # (lon, lat, id) inside a slum area
    script_slum_area: int
    token: str  # pokja's bearer token
    users: dict[str, str] = field(default_factory=dict)


def _prepare(url: str) -> dict:
    with psycopg.connect(url) as conn:
        far = conn.execute(
            "SELECT r.code, ST_X(r.p), ST_Y(r.p) FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM regions "
            "WHERE level = 'desa_kelurahan' AND tenant = '12.71') r WHERE NOT EXISTS (SELECT 1 FROM activities a "
            "WHERE ST_DWithin(a.geom::geography, r.p::geography, 500)) "
            "AND NOT EXISTS (SELECT 1 FROM slum_areas s WHERE ST_DWithin(s.geom::geography, r.p::geography, 300)) "
            "ORDER BY r.code LIMIT 3").fetchall()
        slum = conn.execute(
            "SELECT s.id, ST_X(p), ST_Y(p) FROM slum_areas s, ST_PointOnSurface(s.geom) p "
            "WHERE ST_Contains(s.geom, ST_Buffer(p::geography, 60)::geometry) ORDER BY s.area_ha DESC LIMIT 1"
        ).fetchone()
        renamed = conn.execute("UPDATE slum_areas SET kawasan = %s WHERE id = (SELECT min(id) FROM slum_areas) "
                               "RETURNING id", [SCRIPT_KAWASAN]).fetchone()[0]
        conn.execute("UPDATE regions SET name = %s WHERE code = %s", [SCRIPT_KELURAHAN, far[2][0]])
        conn.commit()
    return {"far": far, "slum": slum, "renamed": renamed}


async def _users(url: str, kepling_area: str) -> tuple[dict[str, str], str]:
    users = {"pokja_medan": ("pokja", "12.71"), "kepling_uji": ("kepling", kepling_area)}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for name, (role, area) in users.items():
            await add_user(conn, cli_principal(), name, role, area, password=PASSWORD)
        _, token = await issue_token(conn, cli_principal(), "pokja_medan", label="uji halaman")
    return {name: role for name, (role, _) in users.items()}, token


@pytest.fixture(scope="module")
def site(fresh_demo):
    database_url = fresh_demo()
    facts = _prepare(database_url)
    far = facts["far"]
    assert len(far) == 3 and facts["slum"], "the demo should have free places to draw on"
    # in a thread of its own: Playwright's sync API may already run an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        users, token = pool.submit(asyncio.run, _users(database_url, f"{far[1][0]}/Lingkungan 01")).result()
    slum_id, slum_lon, slum_lat = facts["slum"]
    with running_server(database_url, "--no-access-log") as base:
        yield Site(base, database_url, spots=[(far[0][1], far[0][2])], kepling_spot=(far[1][1], far[1][2]),
                   slum_area_point=(slum_lon, slum_lat, slum_id), script_slum_area=facts["renamed"], token=token,
                   users=users)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A browser context whose every request, console error, page error and dialog is recorded."""

    def __init__(self, browser, base: str, **options):
        """`options`: Playwright context options over the desktop defaults (a phone's viewport, is_mobile...)."""
        self.base = base
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(**{"viewport": {"width": 1400, "height": 900}, "locale": "id-ID",
                                              **options})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("dialog", self._dialog)

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        if url.startswith(self.base + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    def _console(self, message):
        if message.type == "error":
            self.errors.append(f"{message.text} at {message.location.get('url')}")

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def external_requests(self) -> list[str]:
        return [u for u in self.requests if not (u.startswith(self.base + "/") or u.startswith(("data:", "blob:")))]

    def login(self, username: str, then: str) -> None:
        self.page.goto(f"{self.base}/auth/login?next={then}")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"**{then}")

    def screenshot(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser, site):
    session = Watched(browser, site.base)
    yield session
    session.close()
