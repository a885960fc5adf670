"""The show forms (issue 18 items 14, 17, 18): errors next to their fields in the page's
language, a cover on the new-show form, and a shelf picker that names each size once."""

from __future__ import annotations

import pytest

from livebase.shows.pages import pick_label
from tests.conftest import World, png_bytes
from tests.web.conftest import Browser, make_product
from tests.web.test_form_errors import field_error
from tests.web.test_shows_pages import _load, _show


@pytest.mark.parametrize("lang,message", [("zh", "请填写开播时间"), ("en", "Enter the start time")])
def test_a_new_show_with_a_bad_time_says_so_at_the_time_field(
    browser: Browser, world: World, lang: str, message: str
) -> None:
    browser.sign_in("host_a1")
    form = {"org_id": world.brand_a1, "title": "新品首发", "scheduled_at": "soon"}
    r = browser.post(f"/host/shows/new?lang={lang}", form)
    assert r.status_code == 422
    assert message in field_error(r.text, "scheduled_at")
    assert 'value="新品首发"' in r.text


def test_a_host_for_an_organisation_they_do_not_host_for_is_told_at_the_host_field(
    browser: Browser, world: World
) -> None:
    browser.sign_in("agency_a")
    form = {"org_id": world.agency_a, "title": "机构专场", "scheduled_at": "2026-12-01T19:30"}
    r = browser.post("/host/shows/new", {**form, "host_username": "host_a1"})
    assert r.status_code == 422 and "主播" in field_error(r.text, "host_username")


def test_the_new_show_form_takes_a_cover(browser: Browser, world: World) -> None:
    browser.sign_in("host_a1")
    assert 'name="cover"' in browser.get("/host/shows/new").text
    data = {
        "org_id": world.brand_a1,
        "title": "新品首发",
        "scheduled_at": "2026-12-12T20:00",
        "csrf_token": browser.csrf,
    }
    cover = {"cover": ("cover.png", png_bytes((160, 90)), "image/png")}
    r = browser.client.post("/host/shows/new", data=data, files=cover)
    assert r.status_code == 303, r.text
    show = _load(world, r.headers["location"].rsplit("/", 1)[-1])
    assert show.cover_path and show.cover_path.startswith(f"shows/{show.id}/")


def test_a_cover_that_is_not_an_image_keeps_the_form_and_creates_no_show(
    browser: Browser, world: World
) -> None:
    browser.sign_in("host_a1")
    data = {
        "org_id": world.brand_a1,
        "title": "新品首发",
        "scheduled_at": "2026-12-12T20:00",
        "csrf_token": browser.csrf,
    }
    r = browser.client.post(
        "/host/shows/new?lang=en", data=data, files={"cover": ("x.png", b"nope", "image/png")}
    )
    assert r.status_code == 422 and "cover could not be used" in field_error(r.text, "cover")
    mine = browser.client.get("/api/v1/shows?status=scheduled", headers=world["host_a1"].auth)
    assert [s for s in mine.json()["items"] if s["title"] == "新品首发"] == []


def test_editing_a_show_with_an_empty_title_stays_on_the_editor(
    browser: Browser, world: World
) -> None:
    show_id, _ = _show(world)
    browser.sign_in("host_a1")
    r = browser.post(
        f"/host/shows/{show_id}?lang=zh", {"title": " ", "scheduled_at": "2026-12-12T20:00"}
    )
    assert r.status_code == 422 and 'data-testid="shelf"' in r.text
    assert "请填写标题" in field_error(r.text, "title")
    assert _load(world, show_id).title == "冬季穿搭专场"


def test_the_shelf_picker_names_a_size_the_title_already_says_once(
    browser: Browser, world: World
) -> None:
    assert pick_label("韩国进口 精华液 30ml", {"规格": "30ml"}) == "韩国进口 精华液 30ml"
    assert pick_label("纯棉T恤", {"颜色": "白", "尺码": "M"}) == "纯棉T恤 白 M"
    make_product(world, world.brand_a1, title="精华液 30ml", attrs={"规格": "30ml"})
    show_id, _ = _show(world, skus=0)
    browser.sign_in("host_a1")
    page = browser.get(f"/host/shows/{show_id}").text
    assert "精华液 30ml 30ml" not in page and "精华液 30ml" in page
