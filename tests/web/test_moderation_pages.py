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
