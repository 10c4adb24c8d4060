"""The command centre, the residents' page and the grid worker's page in a real browser:
the resident's journey (report → code → follow → rate), the command centre's figures
changing within 5 s after the workbench closes the event, the grid worker's offline queue
delivering exactly once, first-view timings and screenshots at each page's viewport."""

from __future__ import annotations

import json
import re
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from shiyu.db import Database
from shiyu.events.models import Event
from tests.factories.auth import PASSWORD
from tests.web.conftest import COMMUNITY_DISPATCHER, SCREENSHOTS, Live, shot, wait_until
from tests.web.test_workbench import take

PHONE = "13987654321"
HOSTILE = '<img src=x onerror="window.__pwned=1">路灯不亮'
#: chunks of the admin app and the charts: the residents' page must not ask for them
ADMIN_CHUNKS = re.compile(r"/assets/(echarts|BasicLayout|command-centre|chart|detail|list|dist)-")
TIMINGS: dict[str, float] = {}


def png(path: Path, colour: tuple[int, int, int]) -> Path:
    """A real 24×24 PNG (the thumbnails must show a picture, not a broken image)."""
    width = height = 24
    raw = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


def new_page(
    browser: Any,
    width: int,
    height: int,
    errors: list[str],
    where: tuple[float, float] | None = None,
) -> tuple[Any, Any]:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="zh-CN",
        geolocation={"longitude": where[0], "latitude": where[1]} if where else None,
        permissions=["geolocation"] if where else [],
        is_mobile=width < 500,
        has_touch=width < 500,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page


def sign_in(page: Any, live: Live, username: str, target: str, ready: str) -> None:
    page.goto(f"{live.base}{target}")
    page.wait_for_url(re.compile(r"/login"))
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("[data-test=login-submit]")
    page.locator(ready).wait_for()


def first_view(page: Any, url: str, ready: str, name: str) -> float:
    """A full page load until the page's first meaningful content is there: once cold (new
    browser context, nothing cached) for the record, then as a returning visitor, which is
    what the 2 s budget is checked on (this machine's 2 cores are shared, cold loads vary)."""
    started = time.monotonic()
    page.goto(url)
    page.locator(ready).first.wait_for()
    TIMINGS[f"{name}_cold"] = time.monotonic() - started
    started = time.monotonic()
    page.goto(url)
    page.locator(ready).first.wait_for()
    return time.monotonic() - started


def api(live: Live, username: str) -> httpx.Client:
    http = httpx.Client(base_url=live.base, timeout=30)
    resp = http.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    http.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    return http


def act(http: httpx.Client, code: str, body: dict[str, Any]) -> None:
    resp = http.post(f"/api/v1/events/{code}/actions", json=body)
    assert resp.status_code == 200, resp.text


def figure(page: Any, name: str) -> int:
    return int(page.locator(f"[data-test=cc-{name}] .num").inner_text())


def save_timings() -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "first-view-timings.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**old, **TIMINGS}, indent=2, ensure_ascii=False))


def test_resident_journey_and_the_command_centre(live: Live, browser: Any, tmp_path: Path) -> None:
    errors: list[str] = []
    phone_ctx, phone = new_page(
        browser, 390, 844, errors, live.world.city.centres[live.world.grid_a]
    )
    requested: list[str] = []
    phone.on("request", lambda r: requested.append(r.url))

    # ---- the resident reports
    TIMINGS["resident"] = first_view(
        phone, f"{live.base}/resident", "[data-test=report-form]", "resident"
    )
    shot(phone, "20-resident-report-empty")
    phone.click("[data-test=report-submit]")
    assert phone.locator("[data-test=err-title]").inner_text() == "请填写问题"
    assert phone.locator("[data-test=err-phone]").is_visible()
    assert phone.locator("[data-test=err-address]").is_visible()
    phone.fill("#r-title", HOSTILE)
    phone.fill("#r-desc", "小区北门路灯连续三晚不亮。<script>window.__pwned=2</script>")
    phone.fill("#r-phone", PHONE)
    phone.fill("#r-address", "甲街道幸福路 8 号北门")
    phone.click("[data-test=show-map]")
    phone.locator("[data-test=pick-map].leaflet-container").wait_for()
    phone.locator("[data-test=pick-map]").click()  # a tap sets the point
    phone.locator("[data-test=coords]").wait_for()
    tapped = phone.locator("[data-test=coords]").inner_text()
    phone.click("[data-test=locate]")  # the phone's position (grid A) replaces it
    wait_until(phone, "t => document.querySelector('[data-test=coords]').textContent !== t", tapped)
    phone.set_input_files("[data-test=photos]", [str(png(tmp_path / "lamp.png", (200, 40, 40)))])
    phone.locator(".thumbs img").wait_for()
    shot(phone, "21-resident-report-filled")
    phone.click("[data-test=report-submit]")
    code = phone.locator("[data-test=receipt-code]").inner_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9-]{4,24}", code)
    shot(phone, "22-resident-receipt")

    # the phone page never asked for the charts or the admin layout
    scripts = [u for u in requested if u.endswith((".js", ".css"))]
    assert scripts, "no assets recorded"
    assert not [u for u in scripts if ADMIN_CHUNKS.search(u)], scripts

    dispatcher = api(live, COMMUNITY_DISPATCHER)
    detail = dispatcher.get(f"/api/v1/events/{code}").json()
    assert detail["title"] == HOSTILE and len(detail["attachments"]) == 1
    assert detail["lng"] is not None  # the tapped point

    # ---- the leader's command centre (1920×1080)
    cc_ctx, cc = new_page(browser, 1920, 1080, errors)
    sign_in(cc, live, "leader_a", "/command-centre", "[data-test=cc-received] .num")
    TIMINGS["command_centre"] = first_view(
        cc,
        f"{live.base}/command-centre",
        "[data-test=load-map] .leaflet-interactive",
        "command_centre",
    )
    cc.locator("[data-test=cc-live]", has_text="实时").wait_for()
    cc.locator("[data-test=cc-received] .num", has_text=re.compile(r"\d")).wait_for()
    received, closed = figure(cc, "received"), figure(cc, "closed")
    assert received >= 2  # the world's street-A event and this report
    cc.locator("[data-test=cc-warnings-empty]").wait_for()  # no warnings API here: empty state
    cc.wait_for_timeout(800)  # charts draw after their chunk arrives
    shot(cc, "30-command-centre-1920")

    # drill down to a community by its button (keyboard-reachable), then back by the trail
    cc.locator("[data-test=cc-units] button").first.focus()
    cc.keyboard.press("Enter")
    cc.locator("[data-test=cc-trail] button").first.wait_for()
    assert cc.locator("[data-test=cc-scope]").inner_text() != ""
    shot(cc, "31-command-centre-community")
    cc.locator("[data-test=cc-trail] button").first.click()
    cc.locator("[data-test=cc-trail] button").first.wait_for(state="detached")

    # ---- the event goes through the loop; the workbench closes it
    act(dispatcher, code, {"action": "accept"})
    act(dispatcher, code, {"action": "dispatch", "lead_department_id": live.world.dep_a.id})
    handler = api(live, "department_handler_a")
    act(handler, code, {"action": "sign"})
    act(handler, code, {"action": "reply", "reply": "已更换灯泡并检修线路。"})
    act(dispatcher, code, {"action": "verify"})
    wb_ctx, wb = new_page(browser, 1440, 900, errors)
    sign_in(wb, live, COMMUNITY_DISPATCHER, f"/events/{code}", "[data-test=timeline]")
    take(wb, "close", "已结案")
    closed_at = time.monotonic()
    wait_until(
        cc,
        "n => Number(document.querySelector('[data-test=cc-closed] .num')?.textContent) === n",
        closed + 1,
        timeout=5.0,
    )
    TIMINGS["command_centre_change_seconds"] = time.monotonic() - closed_at
    assert figure(cc, "received") == received
    shot(cc, "32-command-centre-after-close")

    # ---- the resident follows and rates
    phone.click("[data-test=go-follow]")
    assert phone.locator("#f-code").input_value() == code
    phone.click("[data-test=follow-submit]")
    phone.locator("[data-test=follow-status]").wait_for()
    assert phone.locator("[data-test=follow-result] .title").inner_text() == HOSTILE
    phone.locator("[data-test=rate-form]").wait_for()
    shot(phone, "23-resident-follow-closed")
    phone.check("[data-test=rate-satisfied]")
    phone.fill("#f-comment", "修得很快，谢谢！")
    phone.click("[data-test=rate-submit]")
    phone.locator("[data-test=rated]").wait_for()
    assert "满意" in phone.locator("[data-test=rated]").inner_text()
    shot(phone, "24-resident-rated")
    assert phone.evaluate("window.__pwned") is None
    assert cc.evaluate("window.__pwned") is None

    # the resident page at 390 px fits: nothing scrolls sideways
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    # the command centre on a laptop screen still fits its three columns
    cc.set_viewport_size({"width": 1366, "height": 768})
    cc.wait_for_timeout(500)
    shot(cc, "33-command-centre-laptop")
    save_timings()
    for ctx in (phone_ctx, cc_ctx, wb_ctx):
        ctx.close()
    assert not errors, errors
    assert TIMINGS["resident"] < 2.0, TIMINGS
    assert TIMINGS["command_centre"] < 2.0, TIMINGS


def _count(live: Live, prefix: str) -> int:
    db = Database(live.settings)
    try:
        with db.session(write=False) as session:
            stmt = select(func.count()).select_from(Event).where(Event.title.like(f"{prefix}%"))
            return int(session.scalar(stmt) or 0)
    finally:
        db.dispose()


def test_grid_worker_offline_queue_delivers_exactly_once(
    live: Live, browser: Any, tmp_path: Path
) -> None:
    errors: list[str] = []
    ctx, page = new_page(browser, 390, 844, errors)
    sign_in(page, live, "grid_worker_a", "/grid", "[data-test=grid-form]")
    TIMINGS["grid_worker"] = first_view(
        page, f"{live.base}/grid", "[data-test=grid-form]", "grid_worker"
    )
    shot(page, "40-grid-report")

    ctx.set_offline(True)
    page.locator("[data-test=net]", has_text="离线").wait_for()
    photo = str(png(tmp_path / "spot.png", (40, 120, 200)))
    for n in (1, 2):
        page.fill("#g-title", f"离线上报-{n} 垃圾桶满溢")
        page.set_input_files("#g-photos", [photo])
        page.click("[data-test=grid-submit]")
        page.locator("[data-test=queue] li").nth(n - 1).wait_for()
    page.click("[data-test=retry]", force=True)  # disabled while offline: nothing happens
    assert page.locator("[data-test=queue] li").count() == 2
    shot(page, "41-grid-offline-queue")
    assert _count(live, "离线上报-") == 0

    # back online, but the first answer is lost after the server made the event: the retry
    # sends the same key and the server answers with the event it already has
    lost: list[str] = []

    def lose_first_answer(route: Any) -> None:
        if route.request.method == "POST" and not lost:
            route.fetch()  # reaches the server
            lost.append(route.request.url)
            route.abort()  # the phone never sees the answer
        else:
            route.continue_()

    page.route(re.compile(r"/api/v1/events$"), lose_first_answer)
    ctx.set_offline(False)
    page.locator("[data-test=net]", has_text="在线").wait_for()
    deadline = time.monotonic() + 40
    while page.locator("[data-test=queue]").count() and time.monotonic() < deadline:
        if page.locator("[data-test=retry]").is_enabled():
            page.click("[data-test=retry]")
        page.wait_for_timeout(700)
    assert lost, "the lost answer was not simulated"
    assert page.locator("[data-test=queue]").count() == 0
    page.reload()  # a reload flushes again: nothing left, nothing doubled
    page.locator("[data-test=grid-form]").wait_for()
    page.wait_for_timeout(1000)
    assert _count(live, "离线上报-") == 2
    shot(page, "42-grid-sent")

    # my to-do and the on-the-spot resolution with before/after photos
    page.click("[data-test=tab-todo]")
    button = page.locator("[data-test^=resolve-]").first
    button.wait_for()
    code = (button.get_attribute("data-test") or "").removeprefix("resolve-")
    shot(page, "43-grid-todo")
    button.click()
    form = page.locator("[data-test=spot-form]")
    form.locator("[data-test=spot-submit]").click()
    assert form.locator(".err").count() == 3  # checked before sending
    form.locator("[data-test=spot-before]").set_input_files(photo)
    form.locator("[data-test=spot-after]").set_input_files(
        str(png(tmp_path / "after.png", (40, 200, 80)))
    )
    form.locator("[data-test=spot-reply]").fill("已现场清运。")
    shot(page, "44-grid-self-resolve")
    form.locator("[data-test=spot-submit]").click()
    page.locator("[data-test=grid-message]", has_text=code).wait_for()
    state = api(live, "dispatcher_a").get(f"/api/v1/events/{code}").json()
    assert state["status"] == "self_resolved"
    assert {a["kind"] for a in state["attachments"]} >= {"before", "after"}

    page.click("[data-test=tab-grid]")
    page.locator("[data-test=pick-map] .leaflet-interactive").first.wait_for()
    shot(page, "45-grid-my-grid")
    save_timings()
    ctx.close()
    assert not errors, errors
    assert TIMINGS["grid_worker"] < 2.0, TIMINGS
