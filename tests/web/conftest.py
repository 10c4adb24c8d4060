"""Browser tests: a real `shiyu serve` (serving the built web app) on a committed database,
driven by Playwright through Debian's Chromium. Screenshots of every main screen go to
var/screenshots/ for people to look at."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.web import dist_dir
from tests.conftest import _worker, create_database, drop_database, make_settings
from tests.factories.auth import create_user
from tests.factories.world import World, create_world
from tests.helpers import server_process

COMMUNITY_DISPATCHER = "dispatcher_community_a"
DISTRICT_DISPATCHER = "dispatcher_district_a"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
#: Without the background-networking flags Chromium floods the closed network with retries.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
]


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return "Chromium is not installed (make test installs it: scripts/chromium.sh)"
    if not (dist_dir(Settings()) / "index.html").is_file():
        return "the web app is not built (make web)"
    return None


@dataclass
class Live:
    base: str
    world: World
    settings: Settings


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    """One served database with the small world (users of every role, two streets) per module."""
    if reason := _missing():
        pytest.skip(reason)
    url = create_database(f"{_worker()}_web")
    uploads = tempfile.mkdtemp(prefix="shiyu-web-uploads-")
    settings = make_settings(url, upload_dir=uploads)
    db = Database(settings)
    try:
        with db.session() as session:
            world = create_world(session, settings)
            # resident reports belong to the community centre of their grid (as in the demo)
            create_user(
                session,
                username=COMMUNITY_DISPATCHER,
                roles=["dispatcher"],
                jurisdiction_code=world.grid_a[:12],
            )
            # 12345 orders arrive at a district (or the city) centre
            create_user(
                session,
                username=DISTRICT_DISPATCHER,
                roles=["dispatcher"],
                jurisdiction_code=world.city.districts[0],
            )
            session.commit()
            session.expunge_all()
        with server_process(url, SHIYU_UPLOAD_DIR=uploads) as base:
            yield Live(base, world, settings)
    finally:
        db.dispose()
        drop_database(url)


@pytest.fixture(scope="module")
def browser(live: Live) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    # the last screen of every test, to see where a failing one stopped
    shot(page, f"last/{request.node.name}")
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def shot(page: Any, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until(
    page: Any, expression: str, arg: Any = None, *, timeout: float = 30.0, poll: float = 0.02
) -> Any:
    """Poll an expression in the page until it is truthy; returns its value.

    Not `page.wait_for_function`: Playwright builds that predicate with eval inside the page,
    which the app's Content-Security-Policy (script-src 'self') rightly refuses; `evaluate`
    goes through the DevTools protocol instead."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {expression}")
        time.sleep(poll)
