"""The dispatcher and handler workbench in a real browser: the closed loop of one resident
report, jurisdiction isolation, hostile text, field errors and the hotline import screen."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx

from tests.factories.auth import PASSWORD
from tests.web.conftest import (
    COMMUNITY_DISPATCHER,
    DISTRICT_DISPATCHER,
    SCREENSHOTS,
    Live,
    shot,
    wait_until,
)

HOSTILE = '<img src=x onerror="window.__pwned=1">井盖缺失'


def _png(width: int, height: int) -> bytes:
    """A real (orange) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xf0\x80\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def report_as_resident(live: Live, title: str) -> str:
    """The resident's phone page belongs to another issue: report through its public API."""
    lng, lat = live.world.city.centres[live.world.grid_a]
    resp = httpx.post(
        f"{live.base}/api/v1/public/events",
        json={
            "title": title,
            "description": "人行道井盖缺失，夜间有人踩空。<script>window.__pwned=2</script>",
            "reporter_phone": "13912345678",
            "lng": lng,
            "lat": lat,
            "address": "甲街道幸福路 12 号",
        },
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    code: str = resp.json()["code"]
    return code


def _first_view_ms(page: Any, code: str) -> float:
    page.reload()
    elapsed: float = wait_until(
        page, f"document.querySelector('[data-test=open-{code}]') && performance.now()"
    )
    return elapsed


def login(page: Any, live: Live, username: str) -> None:
    page.goto(f"{live.base}/login")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("[data-test=login-submit]")
    page.wait_for_selector("[data-test=who]")


def logout(page: Any) -> None:
    page.click("[data-test=logout]")
    page.wait_for_url(re.compile(r"/login"))


def take(page: Any, action: str, status: str, fill: dict[str, str] | None = None) -> None:
    """Opens the action's dialog, fills it, submits, and waits for the new status."""
    page.click(f"[data-test=action-{action}]")
    form = page.locator(f"[data-test=action-form-{action}]")
    form.wait_for()
    for selector, value in (fill or {}).items():
        form.locator(selector).fill(value)
    form.locator("[data-test=action-submit]").click()
    page.locator("[data-test=detail-status]", has_text=status).wait_for()


def choose(page: Any, select: str, option: str) -> None:
    page.click(select, force=True)
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def test_closed_loop_through_the_workbench(live: Live, page: Any, tmp_path: Path) -> None:
    code = report_as_resident(live, HOSTILE)

    page.goto(live.base + "/")
    page.wait_for_url(re.compile(r"/login"))
    shot(page, "01-login")

    login(page, live, COMMUNITY_DISPATCHER)
    row = page.locator(f"[data-test=open-{code}]")
    row.wait_for()
    # first view of the workbench: from the start of a page load to the rendered to-do list,
    # timed by the browser itself; the best of three loads, because the test machine is shared
    timings = [_first_view_ms(page, code) for _ in range(3)]
    (SCREENSHOTS / "first-view-ms.txt").write_text(" ".join(f"{t:.0f}" for t in timings) + "\n")
    assert min(timings) < 2000, f"the to-do list took {timings} ms"
    assert page.locator("[data-test=todo-counts]").is_visible()
    shot(page, "02-workbench-todo")

    row.click()
    page.locator("[data-test=timeline]").wait_for()
    # hostile text is shown as text, never run
    assert page.locator("[data-test=detail-title]").inner_text() == HOSTILE
    assert "<script>" in page.locator("[data-test=detail-description]").inner_text()
    assert page.evaluate("window.__pwned") is None
    page.locator("[data-test=event-map] .leaflet-interactive").first.wait_for()
    shot(page, "03-event-detail-reported")

    take(page, "accept", "已立案")
    page.click("[data-test=action-dispatch]")
    form = page.locator("[data-test=action-form-dispatch]")
    form.locator("[data-test=action-submit]").click()
    # checked before sending: the lead unit is required
    assert form.locator(".el-form-item__error").first.inner_text() == "必填"
    shot(page, "04-dispatch-form-error")
    choose(page, "[data-test=lead-department]", "甲区城管局")
    form.locator("[data-test=action-submit]").click()
    page.locator("[data-test=detail-status]", has_text="已派遣").wait_for()
    logout(page)

    login(page, live, "department_handler_a")
    page.goto(f"{live.base}/events/{code}")
    take(page, "sign", "已签收")
    page.click("[data-test=action-reply]")
    form = page.locator("[data-test=action-form-reply]")
    form.locator("[data-test=action-reply]").fill("已补装井盖并设置警示标志。")
    photo = tmp_path / "after.png"
    photo.write_bytes(_png(48, 32))
    form.locator("#act-photos").set_input_files(str(photo))
    form.locator("[data-test=action-submit]").click()
    page.locator("[data-test=detail-status]", has_text="已反馈").wait_for()
    # the photo is fetched with the token and shown
    wait_until(
        page, "[...document.querySelectorAll('.photo img')].some(i => i.naturalWidth === 48)"
    )
    logout(page)

    login(page, live, COMMUNITY_DISPATCHER)
    page.goto(f"{live.base}/events/{code}")
    take(page, "verify", "核查通过")
    take(page, "close", "已结案")
    timeline = page.locator("[data-test=timeline]").inner_text()
    for label in ("立案", "派遣", "签收", "办结反馈", "核查通过", "结案"):
        assert label in timeline
    shot(page, "05-event-detail-closed")

    state = httpx.get(f"{live.base}/api/v1/public/events/{code}", params={"phone": "13912345678"})
    assert state.json()["status"] == "closed"


def test_a_street_dispatcher_cannot_open_another_streets_event(live: Live, page: Any) -> None:
    assert live.world.event_b is not None
    login(page, live, "dispatcher_a")
    page.goto(f"{live.base}/events/{live.world.event_b.code}")
    page.locator("[data-test=no-access]").wait_for()
    assert "不在您的辖区内" in page.locator("[data-test=no-access]").inner_text()
    assert page.locator("[data-test=timeline]").count() == 0
    shot(page, "06-other-street-no-access")


def test_menus_follow_permission_codes(live: Live, page: Any) -> None:
    login(page, live, "department_handler_a")
    assert page.locator("[data-test=menu-todo]").is_visible()
    # 12345 import needs hotline:import, which handlers do not hold; nor the Excel export
    assert page.locator("[data-test=menu-hotline]").count() == 0
    assert page.locator("[data-test=export]").count() == 0
    page.goto(f"{live.base}/intake/hotline")
    page.locator("[data-test=forbidden]").wait_for()


def test_expired_login_keeps_the_typed_text(live: Live, page: Any) -> None:
    assert live.world.event_a is not None
    login(page, live, "department_handler_a")
    page.goto(f"{live.base}/events/{live.world.event_a.code}")
    page.locator("[data-test=timeline]").wait_for()
    page.click("[data-test=action-return]")
    form = page.locator("[data-test=action-form-return]")
    form.locator("[data-test=action-reason]").fill("不属于本部门职责")
    # the token is revoked elsewhere (another tab logged out)
    token = page.evaluate("localStorage.getItem('shiyu.token')")
    httpx.post(f"{live.base}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    form.locator("[data-test=action-submit]").click()
    page.locator("#relogin-password").wait_for()
    shot(page, "07-relogin-keeps-input")
    page.fill("#relogin-password", PASSWORD)
    page.locator(".el-dialog button[type=submit]").last.click()
    page.locator("#relogin-password").wait_for(state="detached")
    assert form.locator("[data-test=action-reason]").input_value() == "不属于本部门职责"


def test_hotline_import_shows_the_error_report(live: Live, page: Any, tmp_path: Any) -> None:
    # a street centre does not import 12345 orders: no menu
    login(page, live, "dispatcher_a")
    assert page.locator("[data-test=menu-hotline]").count() == 0
    logout(page)
    login(page, live, DISTRICT_DISPATCHER)
    page.click("[data-test=menu-hotline]")
    page.locator("[data-test=import-mapping]", has_text="appeals").wait_for()
    # a file without the mapping's columns: the whole file is refused with a clear message
    wrong = tmp_path / "12345-wrong-columns.csv"
    wrong.write_text("工单编号,标题\nA1,\n", encoding="utf-8")
    page.set_input_files("[data-test=import-file]", str(wrong))
    page.click("[data-test=import-start]")
    assert "message_id" in page.locator("[data-test=import-error]").inner_text()
    # good and bad rows: the good ones are imported, every bad one is listed with its row
    mixed = tmp_path / "12345-mixed.csv"
    mixed.write_text(
        "message_id,user,subject,time,detail,label_l1\n"
        "W1,市民甲,路灯不亮,2026-11-20 08:00:00,幸福路路灯坏了三盏,城乡建设\n"
        "W2,市民乙,,not-a-time,<b>没有标题</b>,城乡建设\n",
        encoding="utf-8",
    )
    page.set_input_files("[data-test=import-file]", str(mixed))
    page.click("[data-test=import-start]")
    report = page.locator("[data-test=import-report]")
    report.wait_for()
    errors = page.locator("[data-test=import-errors]").inner_text()
    assert "3" in errors  # the bad row is row 3 (the header is row 1)
    shot(page, "08-hotline-import")


def test_language_switch_changes_the_app_and_element_plus(live: Live, page: Any) -> None:
    login(page, live, "dispatcher_a")
    page.locator("[data-test=todo-table]").wait_for()
    choose(page, "#lang-select", "English")
    page.locator("h1", has_text="My to-do").wait_for()
    # Element Plus's own texts follow (the select placeholder)
    wrapper = page.locator("#f-channel").locator(
        "xpath=ancestor::div[contains(@class, 'el-select__wrapper')]"
    )
    assert wrapper.inner_text().strip() == "Select"
    shot(page, "09-workbench-en-US")
    page.reload()
    page.locator("h1", has_text="My to-do").wait_for()
    choose(page, "#lang-select", "简体中文")
    page.locator("h1", has_text="我的待办").wait_for()
