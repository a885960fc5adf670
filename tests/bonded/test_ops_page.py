"""The operator's bonded page (/ops/bonded): state bars, the rejected / detained / held
orders with customs' reason and a resend button for the rejected, pickups, tax, the CSV
link; linked from the /ops hub; only that base's operators and admins."""

from __future__ import annotations

import pytest

from livebase.bonded.customs import do_set_script
from tests.bonded.helpers import ID_OTHER, BondedShop
from tests.web.conftest import Browser


def test_the_operator_sees_the_states_problems_and_resends_a_rejected_one(
    shop: BondedShop, browser: Browser
) -> None:
    rejected, detained, held, fine = (shop.order() for _ in range(4))
    with shop.rt.sessions() as db, db.begin():
        do_set_script(
            db, rejected["id"], [{"kind": "CEB622", "status": 100, "info": "商品编码与备案不符"}]
        )
        do_set_script(db, detained["id"], [{"kind": "CEB622", "status": 501, "info": "涉嫌侵权"}])
    r = shop.client.post(
        "/api/v1/identities", json={"name": "李四", "id_number": ID_OTHER}, headers=shop.auth()
    )
    for o in (rejected, detained, fine):
        assert shop.pay(o["id"]) == 204
    assert shop.pay(held["id"], payer=shop.payer_of(r.json()["id"])) == 204
    shop.run_jobs()
    browser.sign_in("op_a")
    hub = browser.get("/ops")
    assert f'href="/ops/bonded?base_id={shop.world.base_a}"' in hub.text
    page = browser.get(f"/ops/bonded?base_id={shop.world.base_a}")
    assert page.status_code == 200, page.text
    text = page.text
    for state in ("rejected", "detained", "ready_for_pickup", "paid"):
        assert f'data-state="{state}" data-count="1"' in text
    assert "商品编码与备案不符" in text and "涉嫌侵权" in text
    assert text.count('data-testid="problem"') == 3  # rejected, detained, held (paid)
    assert text.count('data-testid="resend"') == 1
    assert f"/api/v1/bases/{shop.world.base_a}/bonded/declarations.csv" in text
    assert "0101" in text  # the district's rules
    # the resend button: the rejected declaration goes again (the script is used up)
    with shop.rt.sessions() as db, db.begin():
        do_set_script(db, rejected["id"], [{"kind": "CEB622", "status": 800, "info": "放行"}])
    r = browser.post(f"/ops/bonded/orders/{rejected['id']}/resend", {})
    assert r.status_code == 303, r.text
    assert shop.status(rejected["id"]) == "declared"
    shop.run_jobs()
    assert shop.status(rejected["id"]) == "ready_for_pickup"
    page = browser.get(r.headers["location"])
    assert 'data-testid="resent"' in page.text and page.text.count('data-testid="problem"') == 2
    # resending what is not rejected is 409 and changes nothing
    r = browser.post(f"/ops/bonded/orders/{detained['id']}/resend", {})
    assert r.status_code == 409
    assert shop.status(detained["id"]) == "detained"


@pytest.mark.parametrize(("user", "status"), [("op_b", 403), ("merchant_a1", 403), ("viewer", 403)])
def test_only_that_bases_operator_sees_the_page_or_resends(
    shop: BondedShop, browser: Browser, user: str, status: int
) -> None:
    order = shop.order()
    with shop.rt.sessions() as db, db.begin():
        do_set_script(db, order["id"], [{"kind": "CEB622", "status": 100, "info": "退单"}])
    shop.pay(order["id"])
    shop.run_jobs()
    assert shop.status(order["id"]) == "rejected"
    browser.sign_in(user)
    assert browser.get(f"/ops/bonded?base_id={shop.world.base_a}").status_code == status
    assert browser.post(f"/ops/bonded/orders/{order['id']}/resend", {}).status_code == 404
    assert shop.status(order["id"]) == "rejected"
    if user == "op_b":  # its own base's page shows none of base A's orders
        own = browser.get("/ops/bonded")
        assert own.status_code == 200 and order["id"] not in own.text
    browser.sign_in("admin")
    assert browser.get(f"/ops/bonded?base_id={shop.world.base_a}").status_code == 200


def test_the_page_in_english_and_without_a_csrf_token(shop: BondedShop, browser: Browser) -> None:
    browser.sign_in("op_a")
    page = browser.get(f"/ops/bonded?base_id={shop.world.base_a}&lang=en")
    assert page.status_code == 200 and "Declarations by state" in page.text
    assert "No bonded orders yet." in page.text
    zh = browser.get(f"/ops/bonded?base_id={shop.world.base_a}&lang=zh")
    assert "申报单状态" in zh.text
    order = shop.order()
    with shop.rt.sessions() as db, db.begin():
        do_set_script(db, order["id"], [{"kind": "CEB622", "status": 100, "info": "退单"}])
    shop.pay(order["id"])
    shop.run_jobs()
    r = browser.post(f"/ops/bonded/orders/{order['id']}/resend", {}, csrf=False)
    assert r.status_code == 403
    assert shop.status(order["id"]) == "rejected"
