"""The moderation queue in people's words and one labelled time zone (issue 18 item 16),
and a rejection that reaches the merchant with its reason (item 13)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import World
from tests.web.conftest import Browser, make_product

HELD_TITLE = "全网最低价 祛痘精华"


@pytest.fixture
def held(world: World) -> str:
    return make_product(world, world.brand_a1, title=HELD_TITLE, description="国家级配方。")


@pytest.mark.parametrize(
    "lang,finding,verdict,zone",
    [
        ("zh", "广告法禁用词：最低价", "人工审核", "北京时间"),
        ("en", "Advertising Law term: “最低价”", "Needs review", "Beijing time"),
    ],
)
def test_the_queue_shows_findings_verdicts_and_times_in_the_page_language(
    browser: Browser, world: World, held: str, lang: str, finding: str, verdict: str, zone: str
) -> None:
    browser.sign_in("mod_a")
    page = browser.get(f"/moderation?lang={lang}").text
    assert finding in page
    assert "ad_law:term" not in page and ">review<" not in page
    assert re.search(r'data-testid="item-verdict">' + verdict + "<", page)
    queued = re.search(r'data-testid="queued-at">([^<]+)<', page)
    assert queued is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d " + zone, queued.group(1).strip())


def _queue_item(world: World, product_id: str) -> str:
    from livebase.accounts.service import Principal, grants_of, user_by_username
    from livebase.compliance import service as moderation

    with world.rt.sessions() as db:
        mod = user_by_username(db, "mod_a")
        assert mod is not None
        me = Principal(mod, grants_of(db, mod.id))
        items = moderation.list_queue(
            db, me, status="pending", kind="listing", limit=50, cursor=None
        )
        return next(i.id for i in items if i.subject_id == product_id)


@pytest.mark.parametrize(
    "lang,badge,lead",
    [("zh", "未通过", "审核员驳回了这个商品"), ("en", "Rejected", "A moderator rejected")],
)
def test_a_rejection_reaches_the_merchant_with_its_reason(
    browser: Browser, world: World, held: str, lang: str, badge: str, lead: str
) -> None:
    item_id = _queue_item(world, held)
    browser.sign_in("mod_a")
    r = browser.post(
        f"/moderation/items/{item_id}/decide", {"decision": "reject", "reason": "含绝对化用语"}
    )
    assert r.status_code == 303

    api = browser.client.get(f"/api/v1/products/{held}", headers=world["merchant_a1"].auth)
    assert api.json()["status"] == "rejected"
    assert api.json()["moderation"]["reason"] == "含绝对化用语"
    listed = browser.client.get(
        f"/api/v1/products?org_id={world.brand_a1}&status=rejected",
        headers=world["merchant_a1"].auth,
    )
    assert [p["id"] for p in listed.json()["items"]] == [held]
    browser.sign_out()
    assert browser.client.get(f"/api/v1/products/{held}").status_code == 404  # not public

    browser.sign_in("merchant_a1")
    for url in ("/merchant/products", f"/merchant/products/{held}"):
        page = browser.get(f"{url}?lang={lang}").text
        assert f'data-testid="status">{badge}<' in page
        assert lead in page and "含绝对化用语" in page
        assert "等待人工复核" not in page
