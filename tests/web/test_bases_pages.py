"""Base pages: the public dashboard, applying to join, the operator's review page."""

from __future__ import annotations

import pytest

from livebase.accounts.service import grants_of
from livebase.bases import service as bases
from livebase.bases.models import Application
from tests.conftest import SYSTEM_TESTS, World
from tests.web.conftest import Browser


def _applications(world: World) -> list[Application]:
    with world.rt.sessions() as db:
        rows = db.query(Application).order_by(Application.created_at).all()
        db.expunge_all()
        return rows


def _apply(
    browser: Browser, world: World, username: str = "viewer", name: str = "燕京新茶饮"
) -> str:
    browser.sign_in(username)
    r = browser.post(
        f"/bases/{world.base_a}/apply",
        {"org_kind": "brand", "name": name, "description": "新中式茶饮品牌。"},
    )
    assert r.status_code == 303, r.text
    return next(a.id for a in _applications(world) if a.name == name)


@pytest.mark.parametrize(
    "lang,words",
    [
        ("zh", ["直播电商成交额", "发展目标", "目标"]),
        ("en", ["Live-commerce GMV", "Targets", "Target"]),
    ],
)
def test_base_dashboard_is_public_with_a_chart_per_target(
    browser: Browser, world: World, lang: str, words: list[str]
) -> None:
    with world.rt.sessions() as db, db.begin():
        bases.do_set_target(
            db, SYSTEM_TESTS, world.base_a, "gmv_fen", "2025", 1_000_000_00, 250_000_00
        )
        bases.do_set_target(db, SYSTEM_TESTS, world.base_a, "brands_incubated", "2022-2025", 20, 5)
    r = browser.get(f"/bases/{world.base_a}?lang={lang}")
    assert r.status_code == 200
    for word in words:
        assert word in r.text
    assert r.text.count('<svg class="chart"') == 2
    if lang == "zh":
        assert "25万元 · 25%" in r.text and "100万元" in r.text
    else:
        assert "¥250,000.00 · 25%" in r.text and "¥1 m" in r.text
    assert "品牌甲" in r.text and "机构丙" in r.text


def test_unknown_base_is_a_404_page(browser: Browser, world: World) -> None:
    r = browser.get("/bases/base_nope")
    assert r.status_code == 404 and "找不到" in r.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_signed_in_user_applies_to_join(browser: Browser, world: World, lang: str) -> None:
    browser.sign_in("viewer")
    page = browser.get(f"/bases/{world.base_a}/apply?lang={lang}")
    assert (
        page.status_code == 200 and ("申请入驻" if lang == "zh" else "Apply to join") in page.text
    )
    _apply(browser, world)
    [app] = _applications(world)
    assert (app.status, app.org_kind, app.applicant_id) == ("pending", "brand", world["viewer"].id)
    done = browser.get("/me/applications?applied=1")
    assert ("申请已提交" if lang == "zh" else "Application sent") in done.text
    assert ("审核中" if lang == "zh" else "pending") in done.text


def test_applicants_follow_their_applications_to_the_decision(
    browser: Browser, world: World
) -> None:
    browser.sign_in("viewer")
    _apply(browser, world)
    [app] = _applications(world)
    r = browser.client.post(
        f"/api/v1/applications/{app.id}/reject",
        headers=world["op_a"].auth,
        json={"reason": "资质材料不全"},
    )
    assert r.status_code == 200
    page = browser.get("/me/applications").text
    assert "未通过" in page and "资质材料不全" in page
    mine = browser.client.get("/api/v1/me/applications", headers=world["viewer"].auth).json()
    assert [(a["id"], a["status"], a["base_name"]) for a in mine["items"]] == [
        (app.id, "rejected", "朝阳基地")
    ]
    assert (
        browser.client.get("/api/v1/me/applications", headers=world["merchant_a1"].auth).json()[
            "items"
        ]
        == []
    )


def test_applying_needs_sign_in_csrf_and_a_name(browser: Browser, world: World) -> None:
    r = browser.get(f"/bases/{world.base_a}/apply")
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next=/bases/{world.base_a}/apply"
    browser.sign_in("viewer")
    form = {"org_kind": "agency", "name": "星光传媒", "description": ""}
    assert browser.post(f"/bases/{world.base_a}/apply", form, csrf=False).status_code == 403
    bad = browser.post(f"/bases/{world.base_a}/apply", {**form, "name": "  "})
    assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text
    odd = browser.post(f"/bases/{world.base_a}/apply", {**form, "org_kind": "factory"})
    assert odd.status_code == 422
    assert _applications(world) == []
    assert browser.post(f"/bases/{world.base_a}/apply", form).status_code == 303
    again = browser.post(f"/bases/{world.base_a}/apply", form)
    assert again.status_code == 409 and len(_applications(world)) == 1


@pytest.mark.parametrize("lang,word", [("zh", "入驻审核"), ("en", "Applications to join")])
def test_operator_sees_pending_applications_of_their_base_only(
    browser: Browser, world: World, lang: str, word: str
) -> None:
    _apply(browser, world)
    browser.sign_in("op_a")
    r = browser.get(f"/operator/applications?lang={lang}")
    assert r.status_code == 200 and word in r.text and "燕京新茶饮" in r.text
    browser.sign_in("op_b")
    r = browser.get(f"/operator/applications?lang={lang}")
    assert r.status_code == 200 and "燕京新茶饮" not in r.text and "顺义基地" in r.text


@pytest.mark.parametrize("username", ["viewer", "merchant_a1", "host_a1", "mod_a"])
def test_review_page_is_forbidden_to_other_roles(
    browser: Browser, world: World, username: str
) -> None:
    app_id = _apply(browser, world)
    browser.sign_in(username)
    assert browser.get("/operator/applications").status_code == 403
    assert browser.post(f"/operator/applications/{app_id}/approve").status_code in (403, 404)
    assert _applications(world)[0].status == "pending"


def test_operator_approves_and_the_applicant_becomes_merchant(
    browser: Browser, world: World
) -> None:
    app_id = _apply(browser, world)
    browser.sign_in("op_b")  # another base's operator: not even told the id exists
    assert browser.post(f"/operator/applications/{app_id}/approve").status_code == 404
    browser.sign_in("op_a")
    assert browser.post(f"/operator/applications/{app_id}/approve", csrf=False).status_code == 403
    assert _applications(world)[0].status == "pending"
    r = browser.post(f"/operator/applications/{app_id}/approve")
    assert r.status_code == 303 and r.headers["location"] == "/operator/applications?done=approve"
    [app] = _applications(world)
    assert app.status == "approved" and app.org_id
    with world.rt.sessions() as db:
        assert any(
            g.role == "merchant" and g.org_id == app.org_id
            for g in grants_of(db, world["viewer"].id)
        )
    page = browser.get("/operator/applications?done=approve")
    assert "燕京新茶饮" not in page.text and "已通过" in page.text
    assert browser.post(f"/operator/applications/{app_id}/approve").status_code == 409


def test_operator_rejects_with_a_reason(browser: Browser, world: World) -> None:
    app_id = _apply(browser, world)
    browser.sign_in("op_a")
    assert (
        browser.post(f"/operator/applications/{app_id}/reject", {"reason": ""}).status_code == 422
    )
    assert _applications(world)[0].status == "pending"
    r = browser.post(f"/operator/applications/{app_id}/reject", {"reason": "资质不全"})
    assert r.status_code == 303
    [app] = _applications(world)
    assert (app.status, app.reason) == ("rejected", "资质不全")
