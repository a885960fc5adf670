"""Shared page behaviour: home in both languages, the language switch, sign-in redirects,
HTML error pages, the nav by role, and the form parsers pages rely on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from livebase.errors import ValidationFailed
from livebase.web import forms
from livebase.web.render import yuan_short
from tests.conftest import World
from tests.web.conftest import Browser


@pytest.mark.parametrize(
    "lang,title", [("zh", "正在直播与即将开播"), ("en", "Live now and coming up")]
)
def test_home_renders_in_both_languages_and_remembers_the_choice(
    browser: Browser, world: World, lang: str, title: str
) -> None:
    r = browser.get(f"/?lang={lang}")
    assert r.status_code == 200 and title in r.text
    assert r.cookies.get("lb_lang") == lang
    again = browser.get("/")
    assert title in again.text


def test_nav_shows_each_role_its_pages(browser: Browser, world: World) -> None:
    browser.sign_in("merchant_a1")
    nav = browser.get("/").text
    assert 'href="/merchant/products"' in nav and 'href="/operator/applications"' not in nav
    browser.sign_in("op_a")
    nav = browser.get("/").text
    assert 'href="/operator/applications"' in nav and 'href="/merchant/products"' not in nav
    browser.sign_in("host_a1")
    assert 'href="/host/shows"' in browser.get("/").text


def test_login_form_brings_the_user_back_to_the_page_asked_for(
    browser: Browser, world: World
) -> None:
    r = browser.get("/merchant/products?lang=en")
    assert r.headers["location"] == "/login?next=/merchant/products%3Flang%3Den"
    login = browser.get(r.headers["location"])
    token = login.cookies.get("lb_precsrf") or browser.client.cookies.get("lb_precsrf")
    done = browser.client.post(
        "/login",
        data={
            "username": "merchant_a1",
            "password": "password-123",
            "form_token": token,
            "next": "/merchant/products?lang=en",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/merchant/products?lang=en"
    assert browser.get("/merchant/products?lang=en").status_code == 200


def test_logout_without_csrf_is_refused_with_an_html_page(browser: Browser, world: World) -> None:
    browser.sign_in("viewer")
    r = browser.post("/logout", csrf=False)
    assert r.status_code == 403 and "text/html" in r.headers["content-type"]
    assert 'data-testid="me"' in browser.get("/").text
    assert browser.post("/logout").status_code == 303


def test_page_errors_are_html_and_api_errors_stay_json(browser: Browser, world: World) -> None:
    page = browser.get("/shows/show_missing")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = browser.get("/api/v1/shows/show_missing")
    assert api.status_code == 404 and api.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "text,fen",
    [
        ("0", 0),
        ("12.5", 1250),
        ("99.90", 9990),
        ("¥1,299.00", 129900),
        ("0.01", 1),
        ("0.1", 10),
        ("19.99", 1999),
        ("  7 ", 700),
        ("１２．５", 1250),
        ("￥８", 800),
    ],
)
def test_yuan_is_parsed_to_exact_fen(text: str, fen: int) -> None:
    assert forms.parse_yuan(text, "price") == fen


@pytest.mark.parametrize(
    "text", ["", "abc", "1.234", "-1", "1e3", "NaN", "1.", ".5", "٣", "10000000000.01"]
)
def test_bad_yuan_is_refused_with_the_field_named(text: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        forms.parse_yuan(text, "sku_price.0")
    assert err.value.fields == [{"loc": "sku_price.0", "msg": err.value.detail}]


def test_percent_attrs_counts_and_times() -> None:
    assert forms.parse_percent_bp("13", "vat") == 1300
    assert forms.parse_percent_bp("9.1%", "vat") == 910
    assert forms.percent_input(910) == "9.1" and forms.percent_input(1300) == "13"
    assert forms.parse_attrs("颜色：白，尺码：M", "a") == {"颜色": "白", "尺码": "M"}
    assert forms.parse_attrs("颜色=黑; 尺码=L\n", "a") == {"颜色": "黑", "尺码": "L"}
    assert forms.parse_attrs("", "a") == {}
    assert forms.parse_count("42", "n") == 42
    for bad in ("-1", "4.2", "٣"):
        with pytest.raises(ValidationFailed):
            forms.parse_count(bad, "n")
    assert forms.parse_local_datetime("2026-11-28T20:00", "t") == datetime(
        2026, 11, 28, 12, 0, tzinfo=UTC
    )
    assert forms.yuan_input(1250) == "12.50"


@pytest.mark.parametrize(
    "fen,lang,text",
    [
        (7_200_000_000_00, "zh", "72亿元"),
        (1_000_000_000_000, "zh", "100亿元"),
        (2_500_000_00, "zh", "250万元"),
        (9_999_00, "zh", "¥9,999.00"),
        (7_200_000_000_00, "en", "¥7.2 bn"),
        (2_500_000_00, "en", "¥2.5 m"),
        (12_345_00, "en", "¥12,345.00"),
    ],
)
def test_large_amounts_are_shown_in_the_units_people_use(fen: int, lang: str, text: str) -> None:
    assert yuan_short(fen, lang) == text


def test_both_languages_have_every_key_the_templates_use() -> None:
    import json
    import re
    from pathlib import Path

    root = Path(forms.__file__).resolve().parent.parent

    def merged(lang: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for path in sorted(root.glob(f"*/i18n/{lang}.json")):
            out.update(json.loads(path.read_text("utf-8")))
        return out

    zh, en = merged("zh"), merged("en")
    assert set(zh) == set(en)
    used = set()
    for path in root.glob("*/templates/**/*.html"):
        used |= set(re.findall(r"(?<![\w.])t\('([a-z0-9_.]+[a-z0-9])'", path.read_text("utf-8")))
    assert used and used - set(zh) == set()
