"""Show pages: the host's list and editor (shelf, explaining, ingest, start/end) and the
public show page, which never carries the stream key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from livebase.shows import service as shows
from livebase.shows.models import Show
from tests.conftest import SYSTEM_TESTS, World
from tests.web.conftest import Browser, make_product


def _show(
    world: World, org_id: str | None = None, host: str = "host_a1", skus: int = 3
) -> tuple[str, list[str]]:
    """A scheduled show with a shelf of `skus` links from brand A1's products."""
    pid = make_product(world, world.brand_a1)
    pid2 = make_product(world, world.brand_a1, title="帆布托特包", attrs={"颜色": "原色"})
    with world.rt.sessions() as db, db.begin():
        from livebase.catalog.models import Product

        sku_ids = [s.id for p in (pid, pid2) for s in db.get(Product, p).skus][:skus]  # type: ignore[union-attr]
        show = shows.do_create_show(
            db,
            SYSTEM_TESTS,
            org_id or world.brand_a1,
            "冬季穿搭专场",
            datetime.now(UTC) + timedelta(days=1),
            world[host].id,
        )
        shows.do_set_shelf(db, SYSTEM_TESTS, show, [shows.ShelfSpec(s, None) for s in sku_ids])
        return show.id, sku_ids


def _load(world: World, show_id: str) -> Show:
    with world.rt.sessions() as db:
        show = db.get(Show, show_id)
        assert show is not None
        _ = show.shelf
        db.expunge_all()
        return show


@pytest.mark.parametrize("username", ["host_a1", "merchant_a1", "admin"])
@pytest.mark.parametrize("lang,word", [("zh", "我的直播"), ("en", "My shows")])
def test_hosts_and_staff_see_their_shows(
    browser: Browser, world: World, username: str, lang: str, word: str
) -> None:
    show_id, _ = _show(world)
    browser.sign_in(username)
    r = browser.get(f"/host/shows?lang={lang}")
    assert r.status_code == 200 and word in r.text and f"/host/shows/{show_id}" in r.text
    r = browser.get(f"/host/shows/{show_id}?lang={lang}")
    assert r.status_code == 200 and "冬季穿搭专场" in r.text
    assert ("1号链接" if lang == "zh" else "Link 1") in r.text


def test_only_the_host_sees_the_stream_key(browser: Browser, world: World) -> None:
    show_id, _ = _show(world)
    key = _load(world, show_id).stream_key
    browser.sign_in("host_a1")
    assert key in browser.get(f"/host/shows/{show_id}").text
    browser.sign_in("merchant_a1")
    page = browser.get(f"/host/shows/{show_id}")
    assert (
        page.status_code == 200 and key not in page.text and 'data-testid="ingest"' not in page.text
    )
    assert browser.post(f"/host/shows/{show_id}/ingest/rotate").status_code == 403
    assert _load(world, show_id).stream_key == key


@pytest.mark.parametrize("username", [None, "viewer", "host_a1"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_show_page_shows_the_shelf_and_never_the_key(
    browser: Browser, world: World, username: str | None, lang: str
) -> None:
    show_id, _ = _show(world)
    with world.rt.sessions() as db, db.begin():
        show = shows.get_show(db, show_id)
        shows.do_start(db, SYSTEM_TESTS, show)  # a link is explained only while live
        shows.do_set_explaining(db, SYSTEM_TESTS, show, 2)
    show = _load(world, show_id)
    if username:
        browser.sign_in(username)
    r = browser.get(f"/shows/{show_id}?lang={lang}")
    assert r.status_code == 200 and "冬季穿搭专场" in r.text
    assert show.stream_key not in r.text and "key=" not in r.text
    assert 'class="shelf-item explaining" data-testid="shelf-item" data-no="2"' in r.text
    assert ("讲解中" if lang == "zh" else "Explaining") in r.text


def test_unknown_show_is_a_404_page(browser: Browser, world: World) -> None:
    assert browser.get("/shows/show_nope").status_code == 404
    browser.sign_in("host_a1")
    r = browser.get("/host/shows/show_nope?lang=en")
    assert r.status_code == 404 and "Not found" in r.text


@pytest.mark.parametrize("username", ["viewer", "host_ag", "merchant_a2", "op_a"])
def test_other_users_cannot_manage_a_show(browser: Browser, world: World, username: str) -> None:
    show_id, _ = _show(world)
    browser.sign_in(username)
    assert browser.get(f"/host/shows/{show_id}").status_code == 403
    r = browser.post(f"/host/shows/{show_id}/explaining", {"no": "2"})
    assert r.status_code == 403 and _load(world, show_id).explaining_no is None
    assert browser.post(f"/host/shows/{show_id}/start").status_code == 403
    assert _load(world, show_id).status == "scheduled"


@pytest.mark.parametrize("username", ["viewer", "op_a"])
def test_show_list_is_forbidden_to_users_without_a_show_role(
    browser: Browser, world: World, username: str
) -> None:
    browser.sign_in(username)
    assert browser.get("/host/shows").status_code == 403
    assert browser.get("/host/shows/new").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(browser: Browser, world: World) -> None:
    show_id, _ = _show(world)
    r = browser.get(f"/host/shows/{show_id}")
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/host/shows/{show_id}"


def test_shelf_forms_add_reorder_price_explain_and_remove(browser: Browser, world: World) -> None:
    show_id, sku_ids = _show(world, skus=2)
    extra = make_product(world, world.brand_a1, title="羊毛围巾", attrs={"颜色": "灰"})
    browser.sign_in("host_a1")
    page = browser.get(f"/host/shows/{show_id}")
    assert "羊毛围巾" in page.text  # offered in the add list
    with world.rt.sessions() as db:
        from livebase.catalog.models import Product

        new_sku = db.get(Product, extra).skus[0].id  # type: ignore[union-attr]
    r = browser.post(f"/host/shows/{show_id}/shelf/add", {"sku_id": new_sku, "live_price": "79.9"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/host/shows/{show_id}")
    shelf = _load(world, show_id).shelf
    assert [(i.no, i.sku_id, i.live_price_fen) for i in shelf][-1] == (3, new_sku, 7990)

    assert browser.post(f"/host/shows/{show_id}/explaining", {"no": "3"}).status_code == 303
    assert (
        browser.post(f"/host/shows/{show_id}/shelf/3/move", {"direction": "up"}).status_code == 303
    )
    show = _load(world, show_id)
    assert [i.sku_id for i in show.shelf] == [sku_ids[0], new_sku, sku_ids[1]]
    assert show.explaining_no == 2  # explaining follows its product to its new number

    assert (
        browser.post(f"/host/shows/{show_id}/shelf/2/price", {"live_price": ""}).status_code == 303
    )
    assert _load(world, show_id).shelf[1].live_price_fen is None
    assert browser.post(f"/host/shows/{show_id}/shelf/1/remove").status_code == 303
    show = _load(world, show_id)
    assert [i.sku_id for i in show.shelf] == [new_sku, sku_ids[1]] and show.explaining_no == 1
    assert browser.post(f"/host/shows/{show_id}/explaining", {"no": ""}).status_code == 303
    assert _load(world, show_id).explaining_no is None


def test_bad_shelf_forms_change_nothing(browser: Browser, world: World) -> None:
    show_id, sku_ids = _show(world, skus=2)
    other = make_product(world, world.brand_a2, title="别家商品")
    browser.sign_in("host_a1")
    with world.rt.sessions() as db:
        from livebase.catalog.models import Product

        foreign = db.get(Product, other).skus[0].id  # type: ignore[union-attr]
    assert browser.post(f"/host/shows/{show_id}/shelf/add", {"sku_id": foreign}).status_code == 422
    assert (
        browser.post(f"/host/shows/{show_id}/shelf/add", {"sku_id": sku_ids[0]}).status_code == 422
    )
    assert browser.post(f"/host/shows/{show_id}/shelf/9/remove").status_code == 422
    assert browser.post(f"/host/shows/{show_id}/explaining", {"no": "7"}).status_code == 422
    assert (
        browser.post(
            f"/host/shows/{show_id}/shelf/add", {"sku_id": foreign}, csrf=False
        ).status_code
        == 403
    )
    show = _load(world, show_id)
    assert [i.sku_id for i in show.shelf] == sku_ids and show.explaining_no is None


def test_start_end_and_rotate(browser: Browser, world: World) -> None:
    show_id, _ = _show(world)
    key = _load(world, show_id).stream_key
    browser.sign_in("host_a1")
    assert browser.post(f"/host/shows/{show_id}/ingest/rotate", csrf=False).status_code == 403
    assert _load(world, show_id).stream_key == key
    assert browser.post(f"/host/shows/{show_id}/ingest/rotate").status_code == 303
    assert _load(world, show_id).stream_key != key
    assert browser.post(f"/host/shows/{show_id}/start", csrf=False).status_code == 403
    assert _load(world, show_id).status == "scheduled"
    assert browser.post(f"/host/shows/{show_id}/start").status_code == 303
    assert _load(world, show_id).status == "live"
    assert browser.post(f"/host/shows/{show_id}/end").status_code == 303
    assert _load(world, show_id).status == "ended"
    r = browser.post(f"/host/shows/{show_id}/explaining", {"no": "1"})
    assert r.status_code == 409 and "直播已结束" in r.text


def test_creating_a_show_reads_the_time_as_beijing_time(browser: Browser, world: World) -> None:
    browser.sign_in("host_a1")
    assert browser.get("/host/shows/new?lang=en").status_code == 200
    r = browser.post(
        "/host/shows/new",
        {"org_id": world.brand_a1, "title": "新品首发", "scheduled_at": "2026-12-12T20:00"},
    )
    assert r.status_code == 303
    show = _load(world, r.headers["location"].rsplit("/", 1)[-1])
    assert show.title == "新品首发" and show.host_id == world["host_a1"].id
    assert show.scheduled_at.replace(tzinfo=UTC) == datetime(2026, 12, 12, 12, 0, tzinfo=UTC)
    page = browser.get(f"/host/shows/{show.id}")
    assert 'value="2026-12-12T20:00"' in page.text


def test_staff_create_a_show_for_their_host_and_bad_input_creates_nothing(
    browser: Browser, world: World
) -> None:
    browser.sign_in("agency_a")
    page = browser.get("/host/shows/new")
    assert 'data-testid="host-select"' in page.text and '<option value="host_ag"' in page.text
    assert "host_a1" not in page.text  # brand A1's host is not the agency's to schedule
    form = {"org_id": world.agency_a, "title": "机构专场", "scheduled_at": "2026-12-01T19:30"}
    assert (
        browser.post("/host/shows/new", {**form, "host_username": "host_a1"}).status_code == 422
    )  # host_a1 belongs to brand A1, not the agency
    assert (
        browser.post(
            "/host/shows/new", {**form, "scheduled_at": "soon", "host_username": "host_ag"}
        ).status_code
        == 422
    )
    assert (
        browser.post(
            "/host/shows/new", {**form, "host_username": "host_ag"}, csrf=False
        ).status_code
        == 403
    )
    myself = browser.post("/host/shows/new", form)  # agency staff, not a host
    assert myself.status_code == 403 and "请选择一位主播" in myself.text
    with world.rt.sessions() as db:
        assert db.query(Show).count() == 0
    r = browser.post("/host/shows/new", {**form, "host_username": "host_ag"})
    assert r.status_code == 303
    assert _load(world, r.headers["location"].rsplit("/", 1)[-1]).host_id == world["host_ag"].id


def test_editing_title_and_time(browser: Browser, world: World) -> None:
    show_id, _ = _show(world)
    browser.sign_in("merchant_a1")
    r = browser.post(
        f"/host/shows/{show_id}", {"title": "年货节专场", "scheduled_at": "2027-01-20T10:00"}
    )
    assert r.status_code == 303
    show = _load(world, show_id)
    assert show.title == "年货节专场"
    assert show.scheduled_at.replace(tzinfo=UTC) == datetime(2027, 1, 20, 2, 0, tzinfo=UTC)
