"""Form errors stay on the form, next to the field, in the page's language, with what
was typed kept (issue 18 item 14): moderation, sign-in, registration, applications,
the product and show editors."""

from __future__ import annotations

import re

import pytest

from tests.conftest import World
from tests.web.conftest import Browser, make_product


def field_error(html: str, field: str) -> str:
    m = re.search(
        r'<span class="field-error"[^>]*data-field="' + re.escape(field) + r'">([^<]*)</span>',
        html,
    )
    assert m is not None, f"no error next to {field}"
    return m.group(1)


def _item(world: World, product_id: str) -> str:
    from tests.web.test_moderation_pages import _queue_item

    return _queue_item(world, product_id)


@pytest.mark.parametrize(
    "lang,message", [("zh", "驳回时请写明理由"), ("en", "Say why you reject it")]
)
def test_rejecting_without_a_reason_stays_on_the_queue_with_the_message_at_the_field(
    browser: Browser, world: World, lang: str, message: str
) -> None:
    product_id = make_product(world, world.brand_a1, title="全网最低价 面霜")
    item_id = _item(world, product_id)
    browser.sign_in("mod_a")
    r = browser.post(
        f"/moderation/items/{item_id}/decide?lang={lang}", {"decision": "reject", "reason": "  "}
    )
    assert r.status_code == 422
    assert 'data-testid="error-page"' not in r.text
    assert 'data-testid="queue-item"' in r.text
    assert message in field_error(r.text, "reason")
    assert "A rejection needs a reason" not in r.text or lang == "en"
    again = browser.client.get("/api/v1/moderation/queue", headers=world["mod_a"].auth).json()[
        "items"
    ]
    assert [i["status"] for i in again if i["id"] == item_id] == ["pending"]


def _pre_csrf(browser: Browser, url: str) -> str:
    page = browser.get(url).text
    m = re.search(r'name="form_token" value="([^"]+)"', page)
    assert m is not None
    return m.group(1)


@pytest.mark.parametrize(
    "lang,taken,short", [("zh", "该用户名已被占用", "密码至少 8 位"), ("en", "taken", "at least 8")]
)
def test_registration_errors_sit_next_to_their_fields_in_the_page_language(
    browser: Browser, world: World, lang: str, taken: str, short: str
) -> None:
    token = _pre_csrf(browser, f"/register?lang={lang}")
    form = {"form_token": token, "username": "viewer", "password": "long-enough-1"}
    r = browser.post("/register", {**form, "display_name": "小林"}, csrf=False)
    assert r.status_code == 409 and taken in field_error(r.text, "username")
    assert 'value="小林"' in r.text  # what was typed is kept
    r = browser.post("/register", {**form, "username": "newcomer", "password": "short"}, csrf=False)
    assert r.status_code == 422 and short in field_error(r.text, "password")
    assert 'value="newcomer"' in r.text


@pytest.mark.parametrize("lang,message", [("zh", "请填写名称"), ("en", "Enter a name")])
def test_an_application_without_a_name_says_so_at_the_name_field(
    browser: Browser, world: World, lang: str, message: str
) -> None:
    browser.sign_in("viewer")
    form = {"org_kind": "agency", "name": "  ", "description": "十位主播"}
    r = browser.post(f"/bases/{world.base_a}/apply?lang={lang}", form)
    assert r.status_code == 422 and message in field_error(r.text, "name")
    assert "十位主播" in r.text


@pytest.mark.parametrize("lang,message", [("zh", "驳回时请写明理由"), ("en", "Say why")])
def test_an_operator_rejecting_without_a_reason_stays_on_the_applications_page(
    browser: Browser, world: World, lang: str, message: str
) -> None:
    browser.sign_in("viewer")
    form = {"org_kind": "agency", "name": "星光传媒", "description": ""}
    assert browser.post(f"/bases/{world.base_a}/apply", form).status_code == 303
    browser.sign_in("op_a")
    page = browser.get("/operator/applications").text
    app_id = re.search(r"/operator/applications/([a-z0-9_]+)/reject", page).group(1)  # type: ignore[union-attr]
    r = browser.post(f"/operator/applications/{app_id}/reject?lang={lang}", {"reason": ""})
    assert r.status_code == 422 and 'data-testid="error-page"' not in r.text
    assert message in field_error(r.text, "reason")
    assert 'data-name="星光传媒"' in r.text


@pytest.mark.parametrize(
    "url,field,lang,words",
    [
        ("/login", "username", "zh", "用户名为 3–32 位"),
        ("/register", "username", "en", "3–32 lowercase letters"),
        ("/register", "display_name", "zh", "昵称请少于 64 个字"),
    ],
)
def test_sign_in_and_sign_up_refuse_oversized_fields_at_the_field(
    browser: Browser, world: World, url: str, field: str, lang: str, words: str
) -> None:
    token = _pre_csrf(browser, f"{url}?lang={lang}")
    form = {"form_token": token, "username": "viewer", "password": "long-enough-1"}
    form[field] = "x" * 70  # past the form's bound: FastAPI refuses it before the handler
    r = browser.post(url, form, csrf=False)
    assert r.status_code == 422 and 'data-testid="error-page"' not in r.text
    assert words in field_error(r.text, field)
