"""Studio pages: the week calendar (own bookings in detail, others' only as taken), the
booking form, the operator's studios with usage bars, an organisation's bookings."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from livebase.app import create_app
from livebase.runtime import Runtime
from livebase.studios import service as studios
from tests.conftest import SYSTEM_TESTS, World
from tests.studios.helpers import local, make_studio, tomorrow
from tests.web.conftest import Browser


@pytest.fixture
def browser(rt: Runtime) -> Iterator[Browser]:
    with TestClient(create_app(runtime=rt), follow_redirects=False) as c:
        yield Browser(c, rt)


def _book(rt: Runtime, studio_id: str, org_id: str, hh: int, hours: int = 2) -> str:
    day = tomorrow()
    with rt.sessions() as db, db.begin():
        studio = studios.get_studio(db, studio_id)
        return studios.do_book(
            db, SYSTEM_TESTS, studio, org_id, local(day, hh), local(day, hh + hours)
        ).id


def test_the_week_calendar_shows_own_bookings_in_detail_and_others_as_taken(
    rt: Runtime, world: World, browser: Browser
) -> None:
    studio = make_studio(rt, world.base_a)
    _book(rt, studio, world.brand_a1, 10)
    _book(rt, studio, world.brand_a2, 14)
    week = studios.week_label(tomorrow())
    browser.sign_in("merchant_a1")
    r = browser.get(f"/studios/{studio}?week={week}")
    assert r.status_code == 200, r.text
    html = r.text
    assert 'data-testid="calendar"' in html and "环形补光灯" in html
    assert html.count('data-testid="slot-mine"') == 4  # two hours of half-hour cells
    assert html.count('data-testid="slot-taken"') == 4
    assert "品牌甲" in html and "品牌乙" not in html  # the other brand's name never shows
    assert html.count('data-testid="booking-taken"') == 1
    assert 'data-testid="book-form"' in html
    # English, another week, and a week that is not one.
    r = browser.get(f"/studios/{studio}?week=2026-W02&lang=en")
    assert r.status_code == 200 and "Book a slot" in r.text
    assert browser.get(f"/studios/{studio}?week=2026-W60").status_code == 422
    # Another base's operator and a plain viewer do not see the studio at all.
    for who in ("op_b", "viewer"):
        browser.sign_in(who)
        assert browser.get(f"/studios/{studio}").status_code == 404, who


def test_booking_from_the_calendar_form_and_a_taken_slot_says_so(
    rt: Runtime, world: World, browser: Browser
) -> None:
    studio = make_studio(rt, world.base_a)
    _book(rt, studio, world.brand_a2, 14)
    day = tomorrow().isoformat()
    browser.sign_in("merchant_a1")
    form = {"date": day, "start": "10:00", "end": "12:30", "note": "新品"}
    r = browser.post(f"/studios/{studio}/bookings", form)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"/studios/{studio}?week=")
    r = browser.post(f"/studios/{studio}/bookings", {**form, "start": "15:00", "end": "16:00"})
    assert r.status_code == 409 and "该时段已被预订" in r.text
    r = browser.post(f"/studios/{studio}/bookings", {**form, "start": "07:00", "end": "09:00"})
    assert r.status_code == 422 and "开放时间" in r.text
    with rt.sessions() as db:
        mine = studios.org_bookings(db, [world.brand_a1], since=local(tomorrow(), 0))
    assert [(b.starts_at, b.note) for b in mine] == [(local(tomorrow(), 10), "新品")]


def test_the_operator_page_lists_studios_with_usage_bars_and_creates_one(
    rt: Runtime, world: World, browser: Browser
) -> None:
    studio = make_studio(rt, world.base_a)
    _book(rt, studio, world.brand_a1, 10)
    browser.sign_in("op_a")
    r = browser.get("/ops/studios")
    assert r.status_code == 200, r.text
    assert "一号直播间" in r.text and "<svg" in r.text and 'data-testid="chart-orgs"' in r.text
    assert "顺义基地" not in r.text  # only the operator's own base
    hours = {f"open_{d}": "09:00" for d in studios.WEEKDAYS[:5]}
    hours |= {f"close_{d}": "18:00" for d in studios.WEEKDAYS[:5]}
    form = {
        "base_id": world.base_a,
        "name": "二号直播间",
        "capacity": "4",
        "equipment": "绿幕，提词器",
    }
    r = browser.post("/ops/studios", form | hours)
    assert r.status_code == 303, r.text
    with rt.sessions() as db:
        made = [s for s in studios.list_studios(db, world.base_a) if s.name == "二号直播间"]
    assert made and made[0].equipment == ["绿幕", "提词器"] and "sat" not in made[0].opening_hours
    bad = browser.post("/ops/studios", form | {"open_mon": "18:00", "close_mon": "09:00"})
    assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text
    # Another base's operator cannot create here; a merchant has no such page.
    browser.sign_in("op_b")
    assert browser.post("/ops/studios", form | hours).status_code == 403
    browser.sign_in("merchant_a1")
    assert browser.get("/ops/studios").status_code == 403


def test_the_org_page_books_cancels_and_lists_only_its_own(
    rt: Runtime, world: World, browser: Browser
) -> None:
    studio = make_studio(rt, world.base_a)
    _book(rt, studio, world.brand_a2, 14)
    browser.sign_in("merchant_a1")
    r = browser.post(
        "/org/bookings",
        {"studio_id": studio, "date": tomorrow().isoformat(), "start": "09:00", "end": "11:00"},
    )
    assert r.status_code == 303, r.text
    page = browser.get("/org/bookings").text
    ids = re.findall(r'data-testid="booking" data-id="([^"]+)"', page)
    assert len(ids) == 1  # brand A2's booking is not listed
    r = browser.post(f"/bookings/{ids[0]}/cancel?back=org")
    assert r.status_code == 303 and r.headers["location"] == "/org/bookings?cancelled=1"
    assert 'data-status="cancelled"' in browser.get("/org/bookings").text
    browser.sign_in("viewer")
    assert browser.get("/org/bookings").status_code == 403
