"""A bonded shop: an imported product in base A's bonded warehouse (customs district
0101), a pickup counter with its clerk, a second base with its own counter and clerk, and
a buyer with a real-name identity. Everything made through the services."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from livebase.accounts.service import Principal, do_grant, grants_of, user_by_username
from livebase.bases import service as bases
from livebase.catalog import service as catalog
from livebase.jobs.models import Job
from livebase.jobs.service import run_due
from livebase.orders import service as orders
from livebase.payments.parts import PAYMENTS
from livebase.payments.sandbox import callback_body
from livebase.runtime import Runtime
from tests.conftest import SYSTEM_TESTS, World

# GB 11643's own example number (check character X) and two more with valid checksums.
ID_BUYER = "11010519491231002X"
ID_OTHER = "110105199001011232"
ID_THIRD = "310104198506150015"
PRICE = 20_000  # 200.00 yuan, 13% VAT, no consumption tax: 18.20 tax at 9.1%
STOCK = 50


@dataclass
class BondedShop:
    rt: Runtime
    world: World
    client: TestClient
    sku: str  # 33049900 skin care, 13% VAT
    sku_ct: str  # 33041000 lipstick, 13% VAT + 15% CT
    sku_food: str  # 21069090 health food, 9% VAT
    sku_banned: str  # 30049090 medicine: not on the positive list
    sku_plain: str  # a domestic product
    counter: str
    counter_b: str
    identity: str
    address: str
    ids: dict[str, str] = field(default_factory=dict)

    def auth(self, name: str = "viewer") -> dict[str, str]:
        return self.world[name].auth

    def principal(self, name: str = "viewer") -> Principal:
        with self.rt.sessions() as db:
            user = user_by_username(db, name)
            assert user is not None
            return Principal(user, grants_of(db, user.id))

    def order(
        self,
        *,
        sku: str | None = None,
        quantity: int = 1,
        identity: str | None = None,
        pickup: bool = True,
        user: str = "viewer",
        key: str | None = None,
        expect: int = 201,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"lines": [{"sku_id": sku or self.sku, "quantity": quantity}]}
        body["identity_id"] = identity or self.identity
        if pickup:
            body["pickup_counter_id"] = self.counter
        else:
            body["address_id"] = self.address
        self.ids["n"] = str(int(self.ids.get("n", "0")) + 1)
        r = self.client.post(
            "/api/v1/orders",
            json=body,
            headers={**self.auth(user), "Idempotency-Key": key or f"k{self.ids['n']}"},
        )
        assert r.status_code == expect, r.text
        return dict(r.json())

    def signed_callback(
        self, order_id: str, payer: tuple[str, str | None] | None = None
    ) -> tuple[dict[str, str], bytes]:
        """A payment of the order and the sandbox's signed callback for it (not sent)."""
        r = self.client.post(
            f"/api/v1/orders/{order_id}/payments",
            json={"provider": "sandbox"},
            headers={**self.auth(), "Idempotency-Key": f"pay-{order_id}"},
        )
        assert r.status_code == 201, r.text
        pay = r.json()
        body = callback_body(
            pay["id"], pay["amount_fen"], f"sbx_{pay['id']}", payer or self.payer_of(self.identity)
        )
        return self.rt.part(PAYMENTS).sandbox.signed_headers(body), body

    def pay(self, order_id: str, *, payer: tuple[str, str | None] | None = None) -> int:
        """Create a sandbox payment and deliver its signed callback (with the payer the
        sandbox wallet reports: by default the order's identity)."""
        r = self.client.post(
            f"/api/v1/orders/{order_id}/payments",
            json={"provider": "sandbox"},
            headers={**self.auth(), "Idempotency-Key": f"pay-{order_id}"},
        )
        assert r.status_code == 201, r.text
        pay = r.json()
        if payer is None:
            payer = self.payer_of(self.identity)
        body = callback_body(pay["id"], pay["amount_fen"], f"sbx_{pay['id']}", payer)
        headers = self.rt.part(PAYMENTS).sandbox.signed_headers(body)
        r = self.client.post("/api/v1/payments/callbacks/sandbox", content=body, headers=headers)
        return r.status_code

    def payer_of(self, identity_id: str) -> tuple[str, str]:
        from livebase.bonded.models import Identity

        with self.rt.sessions() as db:
            row = db.get(Identity, identity_id)
            assert row is not None
            return row.name, row.id_hash

    def run_jobs(self, rounds: int = 10) -> None:
        """Make every pending job due and run them until none is left (bounded)."""
        for _ in range(rounds):
            with self.rt.sessions() as db, db.begin():
                db.execute(
                    update(Job)
                    .where(Job.done_at.is_(None), Job.kind.like("bonded.%"))
                    .values(due_at=Job.created_at)
                )
            if run_due(self.rt.sessions, self.rt.jobs) == 0:
                return

    def status(self, order_id: str) -> str:
        with self.rt.sessions() as db:
            return orders.get_order(db, order_id).status

    def detail(self, order_id: str, user: str = "viewer") -> dict[str, Any]:
        r = self.client.get(f"/api/v1/bonded/orders/{order_id}", headers=self.auth(user))
        assert r.status_code == 200, r.text
        return dict(r.json())


def _product(db: Any, org: str, wh: str, title: str, hs: str, vat: int, ct: int, price: int) -> str:
    cb = catalog.CrossBorder(hs, "JP", 0, vat, ct, wh)
    p = catalog.do_create_product(
        db, SYSTEM_TESTS, org, title, "日本原装进口", [catalog.SkuSpec({}, price, STOCK)], cb
    )
    return p.skus[0].id


def make_bonded_shop(rt: Runtime, world: World, client: TestClient) -> BondedShop:
    with rt.sessions() as db, db.begin():
        wh = world.warehouse_a
        counter = bases.do_create_pickup_counter(
            db, SYSTEM_TESTS, world.base_a, "一号提货柜台", wh, "0101"
        )
        wh_b = bases.do_create_warehouse(
            db, SYSTEM_TESTS, world.base_b, "顺义保税仓", "0102", "T0102W000001"
        )
        counter_b = bases.do_create_pickup_counter(
            db, SYSTEM_TESTS, world.base_b, "顺义柜台", wh_b.id, "0102"
        )
        a1 = world.brand_a1
        sku = _product(db, a1, wh, "保湿精华液", "33049900", 1300, 0, PRICE)
        sku_ct = _product(db, a1, wh, "丝绒口红", "33041000", 1300, 1500, 30_000)
        sku_food = _product(db, a1, wh, "鱼油软胶囊", "21069090", 900, 0, 10_000)
        sku_banned = _product(db, a1, wh, "感冒药", "30049090", 1300, 0, 5_000)
        plain = (
            catalog.do_create_product(
                db, SYSTEM_TESTS, a1, "国产T恤", "纯棉", [catalog.SkuSpec({}, 9_900, STOCK)]
            )
            .skus[0]
            .id
        )
        counter_id, counter_b_id = counter.id, counter_b.id
    world.add_user("clerk_a")
    world.add_user("clerk_b")
    with rt.sessions() as db, db.begin():
        for name, cid in (("clerk_a", counter_id), ("clerk_b", counter_b_id)):
            user = user_by_username(db, name)
            assert user is not None
            do_grant(db, SYSTEM_TESTS, user, "clerk", counter_id=cid)
    r = client.post(
        "/api/v1/identities",
        json={"name": "张三", "id_number": ID_BUYER, "phone": "13800000001"},
        headers=world["viewer"].auth,
    )
    assert r.status_code == 201, r.text
    r2 = client.post(
        "/api/v1/addresses",
        json={
            "name": "张三",
            "phone": "13800000001",
            "province": "北京市",
            "city": "北京市",
            "district": "朝阳区",
            "detail": "望京街1号",
        },
        headers=world["viewer"].auth,
    )
    assert r2.status_code == 201, r2.text
    return BondedShop(
        rt,
        world,
        client,
        sku,
        sku_ct,
        sku_food,
        sku_banned,
        plain,
        counter_id,
        counter_b_id,
        r.json()["id"],
        r2.json()["id"],
    )


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
