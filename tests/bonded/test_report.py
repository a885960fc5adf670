"""The operator's view: declarations by state, problems with customs' reasons, the day's
pickups per counter, tax collected, the broker's CSV (ID masked); per role and base."""

from __future__ import annotations

import csv
import io

import pytest

from livebase.bonded.customs import do_set_script
from tests.bonded.helpers import ID_BUYER, BondedShop


def test_the_operator_sees_states_problems_pickups_tax_and_exports_csv(shop: BondedShop) -> None:
    picked, detained = shop.order(), shop.order()
    with shop.rt.sessions() as db, db.begin():
        do_set_script(
            db, detained["id"], [{"kind": "CEB622", "status": 501, "info": "涉嫌侵权扣留"}]
        )
    for o in (picked, detained):
        assert shop.pay(o["id"]) == 204
    shop.run_jobs()
    code = shop.detail(picked["id"])["pickup_code"]
    r = shop.client.post(
        "/api/v1/pickup/handovers",
        json={"code": code, "id_last4": "002X"},
        headers=shop.auth("clerk_a"),
    )
    assert r.status_code == 201
    shop.run_jobs()
    s = shop.client.get(
        f"/api/v1/bases/{shop.world.base_a}/bonded/summary", headers=shop.auth("op_a")
    )
    assert s.status_code == 200, s.text
    body = s.json()
    assert body["by_state"] == {"detained": 1, "tax_settled": 1}
    assert body["problems"] == [
        {"order_id": detained["id"], "status": "detained", "reason": "CEB622 501: 涉嫌侵权扣留"}
    ]
    assert body["pickups"]["counters"] == [
        {"counter_id": shop.counter, "name": "一号提货柜台", "count": 1}
    ]
    assert body["tax_collected_fen"] == 1_820  # 9.1% of 200.00, the picked-up one only
    c = shop.client.get(
        f"/api/v1/bases/{shop.world.base_a}/bonded/declarations.csv", headers=shop.auth("op_a")
    )
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(c.text.lstrip("\ufeff"))))
    assert rows[0][0] == "order_no" and len(rows) == 3
    assert ID_BUYER not in c.text and "110105********002X" in c.text


@pytest.mark.parametrize(("user", "status"), [("op_b", 403), ("clerk_a", 403), ("viewer", 403)])
def test_another_bases_staff_and_buyers_cannot_see_the_view(
    shop: BondedShop, user: str, status: int
) -> None:
    for path in ("summary", "declarations.csv"):
        r = shop.client.get(
            f"/api/v1/bases/{shop.world.base_a}/bonded/{path}", headers=shop.auth(user)
        )
        assert r.status_code == status
