"""Every write endpoint refuses every kind of bad input with a 4xx `{error, detail}` body
and changes nothing (DESIGN §4: "A failed request changes nothing").

One table describes the write endpoints (path, actor, a valid body); the cases are
generated from it: malformed JSON, wrong types, missing and unknown fields, oversized and
chunked bodies, wrong content types, unknown ids, and for uploads non-images, renamed
files and oversized files. Every case snapshots all tables (and the uploads folder)
before and after. The refused requests change nothing, so the whole module shares one
world per backend; the last test proves each valid body is accepted, so no case passes
because its "good" part was bad too.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from livebase.app import create_app
from livebase.runtime import Runtime
from tests.conftest import ApiEnv, _empty, build_world, png_bytes, product_body
from tests.dbstate import changes, files_under, snapshot
from tests.payments.helpers import make_order

MiB = 1024 * 1024
JSON_LIMIT = 1 * MiB
UPLOAD_LIMIT = 10 * MiB


def gif_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 255)).save(buf, format="GIF")
    return buf.getvalue()


class Env(ApiEnv):
    def auth(self, actor: str | None) -> dict[str, str]:
        # Endpoints that create an order, a payment or a claim need an Idempotency-Key
        # (DESIGN §4); every case carries one, so only the bad part it adds is refused.
        return {**super().auth(actor), "Idempotency-Key": "bad-input-case"}


@pytest.fixture(scope="module")
def env(backend: Runtime) -> Iterator[Env]:
    _empty(backend)
    world = build_world(backend)
    with TestClient(create_app(runtime=backend), client=("203.0.113.7", 5000)) as client:
        e = Env(backend, client, world)
        w = world
        r = client.post(
            "/api/v1/products", json=product_body(w.brand_a1), headers=w["merchant_a1"].auth
        )
        assert r.status_code == 201, r.text
        product = r.json()
        r = client.post(
            "/api/v1/shows",
            headers=w["host_a1"].auth,
            json={
                "org_id": w.brand_a1,
                "title": "冬季上新",
                "scheduled_at": "2026-12-01T12:00:00Z",
            },
        )
        assert r.status_code == 201, r.text
        show = r.json()
        r = client.put(
            f"/api/v1/shows/{show['id']}/shelf",
            headers=w["host_a1"].auth,
            json={"items": [{"sku_id": product["skus"][0]["id"]}]},
        )
        assert r.status_code == 200, r.text
        apps = []
        for name in ("新锐品牌一", "新锐品牌二"):
            r = client.post(
                f"/api/v1/bases/{w.base_a}/applications",
                headers=w["viewer"].auth,
                json={"org_kind": "brand", "name": name, "description": "美妆"},
            )
            assert r.status_code == 201, r.text
            apps.append(r.json()["id"])
        r = client.post(
            f"/api/v1/bases/{w.base_b}/warehouses",
            headers=w["op_b"].auth,
            json={"name": "顺义保税仓", "customs_code": "0102", "ems_no": "T0102W000009"},
        )
        assert r.status_code == 201, r.text
        held = []
        for title in ("全网最低价 面膜", "国家级 祛斑霜"):
            r = client.post(
                "/api/v1/products",
                headers=w["merchant_a1"].auth,
                json=product_body(w.brand_a1, title=title),
            )
            assert r.status_code == 201 and r.json()["status"] == "held", r.text
            held.append(r.json()["id"])
        queue = client.get("/api/v1/moderation/queue", headers=w["mod_a"].auth).json()["items"]
        item_of = {i["subject_id"]: i["id"] for i in queue}
        r = client.post(
            "/api/v1/moderation/terms",
            headers=w["mod_a"].auth,
            json={"term": "测试词", "label": "spam"},
        )
        assert r.status_code == 201, r.text
        w.add_user("newbie")
        e.ids = {
            "item_approve": item_of[held[0]],
            "item_reject": item_of[held[1]],
            "term": r.json()["id"],
            "agency_a": w.agency_a,
            "base_a": w.base_a,
            "brand_a1": w.brand_a1,
            "warehouse_a": w.warehouse_a,
            "warehouse_b": r.json()["id"],
            "product": product["id"],
            "sku": product["skus"][0]["id"],
            "sku2": product["skus"][1]["id"],
            "show": show["id"],
            "host_a1": w["host_a1"].id,
            "app_reject": apps[0],
            "app_approve": apps[1],
            "order": make_order(backend, world),  # the viewer's, pending payment
        }
        e.ids.update(_orders(e))
        yield e
    _empty(backend)


ADDRESS = {
    "name": "张三",
    "phone": "13800000001",
    "province": "北京市",
    "city": "北京市",
    "district": "朝阳区",
    "detail": "望京街1号",
}
SHIP = {"carrier": "顺丰", "tracking_no": "SF1234567890"}


def _orders(e: Env) -> dict[str, str]:
    """An address and orders waiting for each command of the table: one to cancel, a
    paid one to ship, shipped ones to ask a refund for and with requests to decide."""
    from livebase.accounts.actors import SYSTEM_PAYMENTS
    from livebase.orders import service as orders

    viewer = e.world["viewer"].auth
    r = e.client.post("/api/v1/addresses", json=ADDRESS, headers=viewer)
    assert r.status_code == 201, r.text
    address = r.json()["id"]

    def order(state: str) -> str:
        e.made += 1
        r = e.client.post(
            "/api/v1/orders",
            json={
                "show_id": e.ids["show"],
                "lines": [{"sku_id": e.ids["sku"], "quantity": 1}],
                "address_id": address,
            },
            headers={**viewer, "Idempotency-Key": f"setup-{e.made}"},
        )
        assert r.status_code == 201, r.text
        order_id: str = r.json()["id"]
        if state != "pending":
            with e.rt.sessions() as db, db.begin():
                total = orders.get_order(db, order_id).total_fen
                orders.do_mark_paid(db, SYSTEM_PAYMENTS, order_id, total, "pay_setup")
        if state in ("shipped", "requested"):
            r = e.client.post(
                f"/api/v1/orders/{order_id}/ship", json=SHIP, headers=e.auth("merchant_a1")
            )
            assert r.status_code == 200, r.text
        return order_id

    def request(order_id: str) -> str:
        r = e.client.post(
            f"/api/v1/orders/{order_id}/refund-requests", json={"reason": "破损"}, headers=viewer
        )
        assert r.status_code == 201, r.text
        rid: str = r.json()["id"]
        return rid

    return {
        "address": address,
        "order_cancel": order("pending"),
        "order_ship": order("paid"),
        "order_refund": order("shipped"),
        "order_complete": order("shipped"),
        "rfq_approve": request(order("requested")),
        "rfq_reject": request(order("requested")),
    }


def _order(ids: dict[str, str], **over: Any) -> dict[str, Any]:
    # From the product page (no show): the shelf changes as the table's valid bodies run.
    return {
        "lines": [{"sku_id": ids["sku"], "quantity": 1}],
        "address_id": ids["address"],
        **over,
    }


# --- the endpoint table ---------------------------------------------------------------

Builder = Callable[[dict[str, str]], Any]


@dataclass(frozen=True)
class Wrong:
    """A body that is valid JSON but wrong: the label, the body, the field it must name."""

    label: str
    body: Builder
    loc: str | None = None


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # str.format template over Env.ids
    actor: str | None
    body: Builder | None = None  # a valid body; None for commands that take no body
    upload: bool = False
    wrong: tuple[Wrong, ...] = ()
    idempotent: bool = False  # sends an Idempotency-Key (orders, payments, claims)

    @property
    def has_id(self) -> bool:
        return "{" in self.path


def _sku_body(ids: dict[str, str], **over: Any) -> dict[str, Any]:
    body = product_body(ids["brand_a1"])
    body["skus"] = [{**body["skus"][0], **over}]
    return body


def _cross_border(ids: dict[str, str], **over: Any) -> dict[str, Any]:
    cb = {
        "hs_code": "33049900",
        "origin_country": "JP",
        "tariff_rate_bp": 0,
        "vat_rate_bp": 1300,
        "consumption_tax_rate_bp": 1500,
        "warehouse_id": ids["warehouse_a"],
    }
    return product_body(ids["brand_a1"], cross_border={**cb, **over})


def _show(ids: dict[str, str], **over: Any) -> dict[str, Any]:
    return {
        "org_id": ids["brand_a1"],
        "title": "新品首发",
        "scheduled_at": "2026-12-02T12:00:00Z",
        **over,
    }


def _bag(**over: Any) -> dict[str, Any]:
    body = {
        "prize": "保温杯一只",
        "winners_count": 1,
        "condition": "chat",
        "phrase": "我要福袋",
        "duration_s": 60,
    }
    return {**body, **over}


# Text a name or title must refuse (docs/api.md, input rules), each with its label.
BAD_NAMES = {
    "lone_surrogate": "T恤\udfff",
    "nul": "T\x00恤",
    "only_spaces": "   ",
    "only_ideographic_spaces": "\u3000\u3000",
    "only_zero_width": "\u200b\u200c\ufeff",
    "ansi_escape": "\x1b[2J红色",
    "newline": "上新\n第二行",
    "rtl_override": "T恤\u202e",
    "bidi_isolate": "\u2067T恤",
    "noncharacter": "T恤\uffff",
}


def _text_wrongs(build: Callable[[dict[str, str], str], Any], loc: str) -> tuple[Wrong, ...]:
    return tuple(
        Wrong(f"{loc.rsplit('.', 1)[-1]}_{label}", lambda i, v=value: build(i, v), loc)
        for label, value in BAD_NAMES.items()
    )


# RFC 3339 only, and in range once converted to UTC.
BAD_TIMES = {
    "unix_seconds_string": "1700000000",
    "unix_seconds_int": 1700000000,
    "date_only": "2026-12-02",
    "overflow_after_utc": "9999-12-31T23:59:59-12:00",
    "underflow_after_utc": "0001-01-01T00:00:00+14:00",
    "month_13": "2026-13-02T12:00:00Z",
    "fullwidth_digits": "２０２６-12-02T12:00:00Z",
}


def _time_wrongs(build: Callable[[dict[str, str], Any], Any]) -> tuple[Wrong, ...]:
    return tuple(
        Wrong(f"scheduled_at_{label}", lambda i, v=value: build(i, v), "body.scheduled_at")
        for label, value in BAD_TIMES.items()
    )


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "create_payment",
        "POST",
        "/api/v1/orders/{order}/payments",
        "viewer",
        lambda i: {"provider": "sandbox"},
        wrong=(
            Wrong("provider_int", lambda i: {"provider": 1}, "body.provider"),
            Wrong("provider_empty", lambda i: {"provider": ""}, "body.provider"),
            Wrong("provider_long", lambda i: {"provider": "x" * 21}, "body.provider"),
            Wrong("provider_null", lambda i: {"provider": None}, "body.provider"),
        ),
    ),
    Endpoint(
        "register",
        "POST",
        "/api/v1/accounts",
        None,
        lambda i: {"username": "newcomer", "password": "password-123"},
        wrong=(
            Wrong(
                "username_int",
                lambda i: {"username": 123, "password": "pw-123456"},
                "body.username",
            ),
            Wrong(
                "password_list",
                lambda i: {"username": "newcomer", "password": ["pw-123456"]},
                "body.password",
            ),
            Wrong(
                "username_rule",
                lambda i: {"username": "Has Space", "password": "pw-123456"},
                "body.username",
            ),
            Wrong(
                "username_trailing_newline",
                lambda i: {"username": "newcomer\n", "password": "pw-123456"},
                "body.username",
            ),
            Wrong(
                "username_nul",
                lambda i: {"username": "a\x00b", "password": "pw-123456"},
                "body.username",
            ),
            Wrong(
                "display_name_lone_surrogate",
                lambda i: {
                    "username": "newcomer",
                    "password": "pw-123456",
                    "display_name": "\udfff",
                },
                "body.display_name",
            ),
            Wrong(
                "display_name_zero_width_only",
                lambda i: {
                    "username": "newcomer",
                    "password": "pw-123456",
                    "display_name": "\u200b\u200b",
                },
                "body.display_name",
            ),
        ),
    ),
    Endpoint(
        "token",
        "POST",
        "/api/v1/auth/tokens",
        None,
        lambda i: {"username": "viewer", "password": "password-123"},
        wrong=(
            Wrong(
                "username_int",
                lambda i: {"username": 1, "password": "password-123"},
                "body.username",
            ),
            Wrong(
                "password_null", lambda i: {"username": "viewer", "password": None}, "body.password"
            ),
        ),
    ),
    Endpoint(
        "apply",
        "POST",
        "/api/v1/bases/{base_a}/applications",
        "viewer",
        lambda i: {"org_kind": "agency", "name": "星光机构", "description": "MCN"},
        wrong=(
            Wrong("org_kind_unknown", lambda i: {"org_kind": "shop", "name": "x"}, "body.org_kind"),
            Wrong("name_int", lambda i: {"org_kind": "brand", "name": 5}, "body.name"),
            Wrong("name_empty", lambda i: {"org_kind": "brand", "name": ""}, "body.name"),
            *_text_wrongs(lambda i, v: {"org_kind": "brand", "name": v}, "body.name"),
            Wrong(
                "description_list",
                lambda i: {"org_kind": "brand", "name": "x", "description": ["x"]},
                "body.description",
            ),
        ),
    ),
    Endpoint("approve", "POST", "/api/v1/applications/{app_approve}/approve", "op_a"),
    Endpoint(
        "reject",
        "POST",
        "/api/v1/applications/{app_reject}/reject",
        "op_a",
        lambda i: {"reason": "资料不全"},
        wrong=(
            Wrong("reason_int", lambda i: {"reason": 42}, "body.reason"),
            Wrong("reason_empty", lambda i: {"reason": ""}, "body.reason"),
            Wrong("reason_null", lambda i: {"reason": None}, "body.reason"),
        ),
    ),
    Endpoint(
        "warehouse",
        "POST",
        "/api/v1/bases/{base_a}/warehouses",
        "op_a",
        lambda i: {"name": "二号仓", "customs_code": "0102", "ems_no": "T0102W000002"},
        wrong=(
            Wrong(
                "customs_code_int",
                lambda i: {"name": "x", "customs_code": 101, "ems_no": "T0102W000002"},
                "body.customs_code",
            ),
            Wrong(
                "customs_code_3_digits",
                lambda i: {"name": "x", "customs_code": "101", "ems_no": "T0102W000002"},
                "body.customs_code",
            ),
            Wrong(
                "customs_code_letters",
                lambda i: {"name": "x", "customs_code": "01A2", "ems_no": "T0102W000002"},
                "body.customs_code",
            ),
            Wrong(
                "ems_no_format",
                lambda i: {"name": "x", "customs_code": "0102", "ems_no": "W-1"},
                "body.ems_no",
            ),
            Wrong(
                "name_null",
                lambda i: {"name": None, "customs_code": "0102", "ems_no": "T0102W000002"},
                "body.name",
            ),
        ),
    ),
    Endpoint(
        "pickup_counter",
        "POST",
        "/api/v1/bases/{base_a}/pickup-counters",
        "op_a",
        lambda i: {"name": "T3 提货点", "warehouse_id": i["warehouse_a"], "customs_code": "0101"},
        wrong=(
            Wrong(
                "warehouse_of_other_base",
                lambda i: {"name": "x", "warehouse_id": i["warehouse_b"], "customs_code": "0101"},
                "body.warehouse_id",
            ),
            Wrong(
                "customs_code_fullwidth",
                lambda i: {
                    "name": "x",
                    "warehouse_id": i["warehouse_a"],
                    "customs_code": "０１０１",
                },
                "body.customs_code",
            ),
            Wrong(
                "name_int",
                lambda i: {"name": 7, "warehouse_id": i["warehouse_a"], "customs_code": "0101"},
                "body.name",
            ),
        ),
    ),
    Endpoint(
        "product_create",
        "POST",
        "/api/v1/products",
        "merchant_a1",
        lambda i: product_body(i["brand_a1"]),
        wrong=(
            Wrong(
                "price_fen_string", lambda i: _sku_body(i, price_fen="100"), "body.skus.0.price_fen"
            ),
            Wrong(
                "price_fen_float", lambda i: _sku_body(i, price_fen=99.5), "body.skus.0.price_fen"
            ),
            Wrong(
                "price_fen_bool", lambda i: _sku_body(i, price_fen=True), "body.skus.0.price_fen"
            ),
            Wrong(
                "price_fen_negative", lambda i: _sku_body(i, price_fen=-1), "body.skus.0.price_fen"
            ),
            Wrong(
                "price_fen_huge", lambda i: _sku_body(i, price_fen=10**13), "body.skus.0.price_fen"
            ),
            Wrong("stock_negative", lambda i: _sku_body(i, stock=-1), "body.skus.0.stock"),
            Wrong("stock_over_int32", lambda i: _sku_body(i, stock=2**31), "body.skus.0.stock"),
            Wrong("skus_string", lambda i: product_body(i["brand_a1"], skus="白色 M"), "body.skus"),
            Wrong("skus_empty", lambda i: product_body(i["brand_a1"], skus=[]), "body.skus"),
            Wrong("attrs_list", lambda i: _sku_body(i, attrs=["红"]), "body.skus.0.attrs"),
            Wrong("attrs_value_int", lambda i: _sku_body(i, attrs={"颜色": 1}), None),
            Wrong("title_int", lambda i: product_body(i["brand_a1"], title=123), "body.title"),
            Wrong(
                "title_too_long",
                lambda i: product_body(i["brand_a1"], title="长" * 121),
                "body.title",
            ),
            Wrong(
                "title_nul", lambda i: product_body(i["brand_a1"], title="T\x00恤"), "body.title"
            ),
            *_text_wrongs(lambda i, v: product_body(i["brand_a1"], title=v), "body.title"),
            Wrong(
                "description_ansi_escape",
                lambda i: product_body(i["brand_a1"], description="红\x1b[31m色"),
                "body.description",
            ),
            Wrong(
                "description_rtl_override",
                lambda i: product_body(i["brand_a1"], description="说明\u202egpj.exe"),
                "body.description",
            ),
            Wrong(
                "description_lone_surrogate",
                lambda i: product_body(i["brand_a1"], description="\ud800"),
                "body.description",
            ),
            Wrong(
                "attrs_value_lone_surrogate",
                lambda i: _sku_body(i, attrs={"颜色": "\udfff"}),
                "body.skus.0.attrs.颜色",
            ),
            Wrong(
                "attrs_key_lone_surrogate",
                lambda i: _sku_body(i, attrs={"\udfff": "红"}),
                None,  # the location names the key, which pydantic shows as U+FFFD
            ),
            Wrong("attrs_value_nul", lambda i: _sku_body(i, attrs={"颜色": "红\x00"}), None),
            Wrong("attrs_key_blank", lambda i: _sku_body(i, attrs={" ": "红"}), None),
            Wrong(
                "duplicate_sku_codes",
                lambda i: product_body(
                    i["brand_a1"],
                    skus=[
                        {"attrs": {}, "price_fen": 1, "stock": 1, "code": "A"},
                        {"attrs": {}, "price_fen": 1, "stock": 1, "code": "A"},
                    ],
                ),
                "body.skus",
            ),
            Wrong("org_unknown", lambda i: product_body("org_missing"), "body.org_id"),
            Wrong(
                "hs_code_4_digits",
                lambda i: _cross_border(i, hs_code="3304"),
                "body.cross_border.hs_code",
            ),
            Wrong(
                "origin_not_iso",
                lambda i: _cross_border(i, origin_country="Japan"),
                "body.cross_border.origin_country",
            ),
            Wrong(
                "vat_rate_float",
                lambda i: _cross_border(i, vat_rate_bp=13.0),
                "body.cross_border.vat_rate_bp",
            ),
            Wrong(
                "warehouse_of_other_base",
                lambda i: _cross_border(i, warehouse_id=i["warehouse_b"]),
                "body.cross_border.warehouse_id",
            ),
            Wrong(
                "warehouse_unknown",
                lambda i: _cross_border(i, warehouse_id="wh_no"),
                "body.cross_border.warehouse_id",
            ),
        ),
    ),
    Endpoint(
        "product_patch",
        "PATCH",
        "/api/v1/products/{product}",
        "merchant_a1",
        lambda i: {"title": "新标题"},
        wrong=(
            Wrong("title_null", lambda i: {"title": None}, "body.title"),
            Wrong("title_empty", lambda i: {"title": ""}, "body.title"),
            Wrong("title_int", lambda i: {"title": 123}, "body.title"),
            *_text_wrongs(lambda i, v: {"title": v}, "body.title"),
            Wrong(
                "description_lone_surrogate",
                lambda i: {"description": "好\udfff"},
                "body.description",
            ),
            Wrong("description_list", lambda i: {"description": ["x"]}, "body.description"),
            Wrong("hs_code_bad", lambda i: {"cross_border": {"hs_code": "x"}}, None),
            Wrong("skus_not_patchable", lambda i: {"skus": []}, "body.skus"),
        ),
    ),
    Endpoint(
        "sku_patch",
        "PATCH",
        "/api/v1/skus/{sku}",
        "merchant_a1",
        lambda i: {"price_fen": 8900},
        wrong=(
            Wrong("price_fen_string", lambda i: {"price_fen": "100"}, "body.price_fen"),
            Wrong("price_fen_float", lambda i: {"price_fen": 99.5}, "body.price_fen"),
            Wrong("price_fen_null", lambda i: {"price_fen": None}, "body.price_fen"),
            Wrong("stock_negative", lambda i: {"stock": -1}, "body.stock"),
            Wrong("stock_null", lambda i: {"stock": None}, "body.stock"),
            Wrong("stock_over_int32", lambda i: {"stock": 2**31}, "body.stock"),
        ),
    ),
    Endpoint(
        "sku_add",
        "POST",
        "/api/v1/products/{product}/skus",
        "merchant_a1",
        lambda i: {"attrs": {"颜色": "灰"}, "price_fen": 12900, "stock": 3},
        wrong=(
            Wrong(
                "price_fen_string",
                lambda i: {"attrs": {}, "price_fen": "1", "stock": 1},
                "body.price_fen",
            ),
            Wrong(
                "stock_negative", lambda i: {"attrs": {}, "price_fen": 1, "stock": -1}, "body.stock"
            ),
            Wrong(
                "attrs_duplicate",
                lambda i: {"attrs": {"颜色": "白", "尺码": "M"}, "price_fen": 1, "stock": 1},
                "body.attrs",
            ),
            Wrong(
                "attrs_list", lambda i: {"attrs": ["红"], "price_fen": 1, "stock": 1}, "body.attrs"
            ),
            Wrong(
                "attrs_value_lone_surrogate",
                lambda i: {"attrs": {"颜色": "\udfff"}, "price_fen": 1, "stock": 1},
                "body.attrs.颜色",
            ),
            Wrong(
                "attrs_key_lone_surrogate",
                lambda i: {"attrs": {"\udfff": "灰"}, "price_fen": 1, "stock": 1},
                None,  # the location names the key, which pydantic shows as U+FFFD
            ),
        ),
    ),
    Endpoint(
        "product_image", "POST", "/api/v1/products/{product}/images", "merchant_a1", upload=True
    ),
    Endpoint(
        "show_create",
        "POST",
        "/api/v1/shows",
        "host_a1",
        lambda i: _show(i),
        wrong=(
            Wrong(
                "scheduled_at_words",
                lambda i: _show(i, scheduled_at="tomorrow"),
                "body.scheduled_at",
            ),
            Wrong(
                "scheduled_at_naive",
                lambda i: _show(i, scheduled_at="2026-12-02T12:00:00"),
                "body.scheduled_at",
            ),
            Wrong("scheduled_at_int", lambda i: _show(i, scheduled_at=[2026]), "body.scheduled_at"),
            *_time_wrongs(lambda i, v: _show(i, scheduled_at=v)),
            *_text_wrongs(lambda i, v: _show(i, title=v), "body.title"),
            Wrong("title_empty", lambda i: _show(i, title=""), "body.title"),
            Wrong("org_id_int", lambda i: _show(i, org_id=5), "body.org_id"),
            Wrong("org_unknown", lambda i: _show(i, org_id="org_missing"), "body.org_id"),
            Wrong("host_id_int", lambda i: _show(i, host_id=7), "body.host_id"),
        ),
    ),
    Endpoint(
        "show_patch",
        "PATCH",
        "/api/v1/shows/{show}",
        "host_a1",
        lambda i: {"title": "改个标题"},
        wrong=(
            Wrong("title_null", lambda i: {"title": None}, "body.title"),
            Wrong("scheduled_at_null", lambda i: {"scheduled_at": None}, "body.scheduled_at"),
            Wrong(
                "scheduled_at_naive",
                lambda i: {"scheduled_at": "2026-12-02 12:00"},
                "body.scheduled_at",
            ),
            *_time_wrongs(lambda i, v: {"scheduled_at": v}),
            *_text_wrongs(lambda i, v: {"title": v}, "body.title"),
        ),
    ),
    Endpoint(
        "shelf",
        "PUT",
        "/api/v1/shows/{show}/shelf",
        "host_a1",
        lambda i: {"items": [{"sku_id": i["sku2"], "live_price_fen": 5900}]},
        wrong=(
            Wrong("items_string", lambda i: {"items": i["sku"]}, "body.items"),
            Wrong(
                "live_price_float",
                lambda i: {"items": [{"sku_id": i["sku"], "live_price_fen": 59.5}]},
                "body.items.0.live_price_fen",
            ),
            Wrong(
                "live_price_negative",
                lambda i: {"items": [{"sku_id": i["sku"], "live_price_fen": -1}]},
                "body.items.0.live_price_fen",
            ),
            Wrong("sku_id_int", lambda i: {"items": [{"sku_id": 5}]}, "body.items.0.sku_id"),
            Wrong(
                "duplicate_sku",
                lambda i: {"items": [{"sku_id": i["sku"]}, {"sku_id": i["sku"]}]},
                "body.items",
            ),
            Wrong(
                "sku_unknown",
                lambda i: {"items": [{"sku_id": "sku_missing"}]},
                "body.items.0.sku_id",
            ),
        ),
    ),
    Endpoint(
        "explaining",
        "POST",
        "/api/v1/shows/{show}/explaining",
        "host_a1",
        lambda i: {"no": 1},
        wrong=(
            Wrong("no_string", lambda i: {"no": "1"}, "body.no"),
            Wrong("no_zero", lambda i: {"no": 0}, "body.no"),
            Wrong("no_float", lambda i: {"no": 1.5}, "body.no"),
            Wrong("no_not_on_shelf", lambda i: {"no": 2}, "body.no"),
        ),
    ),
    Endpoint(
        "script",
        "POST",
        "/api/v1/shows/{show}/scripts",
        "host_a1",
        lambda i: {"text": "1号链接 纯棉T恤 今天直播间有券"},
        wrong=(
            Wrong("text_int", lambda i: {"text": 5}, "body.text"),
            Wrong("text_empty", lambda i: {"text": ""}, "body.text"),
            Wrong("kind_unknown", lambda i: {"text": "x", "kind": "poem"}, "body.kind"),
            Wrong("text_too_long", lambda i: {"text": "好" * 5001}, "body.text"),
        ),
    ),
    Endpoint(
        "member",
        "POST",
        "/api/v1/orgs/{agency_a}/members",
        "agency_a",
        lambda i: {"username": "newbie", "role": "host"},
        wrong=(
            Wrong("role_unknown", lambda i: {"username": "newbie", "role": "boss"}, "body.role"),
            Wrong(
                "role_not_for_agency",
                lambda i: {"username": "newbie", "role": "merchant"},
                "body.role",
            ),
            Wrong(
                "username_missing_user",
                lambda i: {"username": "nobody_x", "role": "host"},
                "body.username",
            ),
            Wrong(
                "username_list", lambda i: {"username": ["newbie"], "role": "host"}, "body.username"
            ),
        ),
    ),
    Endpoint(
        "term_add",
        "POST",
        "/api/v1/moderation/terms",
        "mod_a",
        lambda i: {"term": "新词", "label": "abuse", "options": ["pinyin"]},
        wrong=(
            Wrong("label_unknown", lambda i: {"term": "x", "label": "rude"}, "body.label"),
            Wrong("term_empty", lambda i: {"term": "", "label": "abuse"}, "body.term"),
            Wrong(
                "option_bad",
                lambda i: {"term": "x", "label": "abuse", "options": ["Not An Option"]},
                "body.options",
            ),
            Wrong(
                "options_string",
                lambda i: {"term": "x", "label": "abuse", "options": "pinyin"},
                "body.options",
            ),
        ),
    ),
    Endpoint("item_approve", "POST", "/api/v1/moderation/items/{item_approve}/approve", "mod_a"),
    Endpoint(
        "item_reject",
        "POST",
        "/api/v1/moderation/items/{item_reject}/reject",
        "mod_a",
        lambda i: {"reason": "绝对化用语"},
        wrong=(
            Wrong("reason_int", lambda i: {"reason": 3}, "body.reason"),
            Wrong("reason_too_long", lambda i: {"reason": "x" * 1001}, "body.reason"),
        ),
    ),
    Endpoint("term_delete", "DELETE", "/api/v1/moderation/terms/{term}", "mod_a"),
    Endpoint(
        "address_create",
        "POST",
        "/api/v1/addresses",
        "viewer",
        lambda i: ADDRESS,
        wrong=(
            Wrong("phone_letters", lambda i: {**ADDRESS, "phone": "call me"}, "body.phone"),
            Wrong("name_empty", lambda i: {**ADDRESS, "name": ""}, "body.name"),
            Wrong("detail_too_long", lambda i: {**ADDRESS, "detail": "x" * 121}, "body.detail"),
            Wrong("district_int", lambda i: {**ADDRESS, "district": 3}, "body.district"),
        ),
    ),
    Endpoint(
        "order_create",
        "POST",
        "/api/v1/orders",
        "viewer",
        _order,
        idempotent=True,
        wrong=(
            Wrong("total_fen", lambda i: _order(i, total_fen=1), "body.total_fen"),
            Wrong(
                "line_price",
                lambda i: _order(
                    i, lines=[{"sku_id": i["sku"], "quantity": 1, "unit_price_fen": 1}]
                ),
                "body.lines.0.unit_price_fen",
            ),
            Wrong("lines_empty", lambda i: _order(i, lines=[]), "body.lines"),
            Wrong(
                "quantity_zero",
                lambda i: _order(i, lines=[{"sku_id": i["sku"], "quantity": 0}]),
                "body.lines.0.quantity",
            ),
            Wrong(
                "quantity_string",
                lambda i: _order(i, lines=[{"sku_id": i["sku"], "quantity": "1"}]),
                "body.lines.0.quantity",
            ),
            Wrong(
                "quantity_huge",
                lambda i: _order(i, lines=[{"sku_id": i["sku"], "quantity": 10**6}]),
                "body.lines.0.quantity",
            ),
            Wrong(
                "two_destinations",
                lambda i: _order(i, pickup_counter_id="pc_x"),
                "body",
            ),
            Wrong(
                "sku_not_on_shelf",
                lambda i: _order(
                    i, show_id=i["show"], lines=[{"sku_id": i["sku2"], "quantity": 1}]
                ),
                "body.lines.0.sku_id",
            ),
            Wrong("address_unknown", lambda i: _order(i, address_id="adr_x"), "body.address_id"),
            Wrong(
                "same_sku_twice",
                lambda i: _order(
                    i,
                    lines=[
                        {"sku_id": i["sku"], "quantity": 1},
                        {"sku_id": i["sku"], "quantity": 1},
                    ],
                ),
                "body.lines",
            ),
        ),
    ),
    Endpoint("order_cancel", "POST", "/api/v1/orders/{order_cancel}/cancel", "viewer"),
    Endpoint("order_complete", "POST", "/api/v1/orders/{order_complete}/complete", "viewer"),
    Endpoint(
        "refund_request",
        "POST",
        "/api/v1/orders/{order_refund}/refund-requests",
        "viewer",
        lambda i: {"reason": "尺码不合适"},
        wrong=(
            Wrong("reason_empty", lambda i: {"reason": ""}, "body.reason"),
            Wrong("reason_list", lambda i: {"reason": ["x"]}, "body.reason"),
        ),
    ),
    Endpoint(
        "order_ship",
        "POST",
        "/api/v1/orders/{order_ship}/ship",
        "merchant_a1",
        lambda i: SHIP,
        wrong=(
            Wrong(
                "tracking_with_spaces",
                lambda i: {**SHIP, "tracking_no": "SF 123 456"},
                "body.tracking_no",
            ),
            Wrong("carrier_empty", lambda i: {**SHIP, "carrier": ""}, "body.carrier"),
        ),
    ),
    Endpoint(
        "refund_approve", "POST", "/api/v1/refund-requests/{rfq_approve}/approve", "merchant_a1"
    ),
    Endpoint(
        "refund_reject",
        "POST",
        "/api/v1/refund-requests/{rfq_reject}/reject",
        "merchant_a1",
        lambda i: {"reason": "已签收超过七天"},
        wrong=(Wrong("reason_empty", lambda i: {"reason": ""}, "body.reason"),),
    ),
    Endpoint(
        "lucky_bag_create",
        "POST",
        "/api/v1/shows/{show}/lucky-bags",
        "host_a1",
        lambda i: _bag(),
        wrong=(
            Wrong("winners_zero", lambda i: _bag(winners_count=0), "body.winners_count"),
            Wrong("winners_string", lambda i: _bag(winners_count="1"), "body.winners_count"),
            Wrong("duration_short", lambda i: _bag(duration_s=29), "body.duration_s"),
            Wrong("condition_unknown", lambda i: _bag(condition="like"), "body.condition"),
            Wrong("chat_without_phrase", lambda i: _bag(phrase=None), "body.phrase"),
            Wrong("follow_with_phrase", lambda i: _bag(condition="follow"), "body.phrase"),
            Wrong("prize_ad_law", lambda i: _bag(prize="全网最低价 保温杯"), "body.prize"),
            Wrong("seed_given", lambda i: _bag(seed="00" * 32), "body.seed"),
            *_text_wrongs(lambda i, v: _bag(prize=v), "body.prize"),
        ),
    ),
    Endpoint("follow_host", "POST", "/api/v1/hosts/{host_a1}/follow", "viewer"),
    Endpoint("unfollow_host", "DELETE", "/api/v1/hosts/{host_a1}/follow", "viewer"),
    Endpoint("start", "POST", "/api/v1/shows/{show}/start", "host_a1"),
    Endpoint("rotate", "POST", "/api/v1/shows/{show}/ingest/rotate", "host_a1"),
    Endpoint("cover", "POST", "/api/v1/shows/{show}/cover", "host_a1", upload=True),
    Endpoint("end", "POST", "/api/v1/shows/{show}/end", "host_a1"),
    Endpoint("product_delete", "DELETE", "/api/v1/products/{product}", "merchant_a1"),
    Endpoint("logout", "DELETE", "/api/v1/auth/tokens/current", "viewer"),
]


# --- the cases ------------------------------------------------------------------------


def _headers(env: Env, ep: Endpoint) -> dict[str, str]:
    headers = env.auth(ep.actor)
    if ep.idempotent:
        env.made += 1  # a fresh key each time: a replay would answer without validating
        headers = {**headers, "Idempotency-Key": f"bad-input-{env.made}"}
    return headers


Sender = Callable[[Env, Endpoint], httpx.Response]


@dataclass(frozen=True)
class Case:
    endpoint: Endpoint
    label: str
    send: Sender
    status: int
    error: str
    loc: str | None = None

    @property
    def id(self) -> str:
        return f"{self.endpoint.name}-{self.label}"


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"{key}_0000000000000000000missing"


def _path(env: Env, ep: Endpoint, *, unknown: bool = False) -> str:
    return ep.path.format_map(_Missing() if unknown else env.ids)


def _raw(
    content: bytes | Callable[[], Iterator[bytes]],
    ctype: str | None = "application/json",
    *,
    unknown: bool = False,
) -> Sender:
    """Send bytes as they are; a callable gives a fresh stream (sent chunked) per call."""

    def send(env: Env, ep: Endpoint) -> httpx.Response:
        headers = _headers(env, ep)
        if ctype:
            headers = {**headers, "Content-Type": ctype}
        return env.client.request(
            ep.method,
            _path(env, ep, unknown=unknown),
            content=content() if callable(content) else content,
            headers=headers,
        )

    return send


def _json(build: Builder, *, unknown: bool = False) -> Sender:
    def send(env: Env, ep: Endpoint) -> httpx.Response:
        # ASCII-escaped, as JSON may carry any code point: a lone surrogate arrives as
        # "\udfff", which httpx's own UTF-8 encoding of `json=` could not even send.
        return env.client.request(
            ep.method,
            _path(env, ep, unknown=unknown),
            content=json.dumps(build(env.ids)).encode(),
            headers={**_headers(env, ep), "Content-Type": "application/json"},
        )

    return send


def _encoded(build: Builder, codec: str) -> Sender:
    """A valid body, as JSON in another encoding than UTF-8."""

    def send(env: Env, ep: Endpoint) -> httpx.Response:
        return env.client.request(
            ep.method,
            _path(env, ep),
            content=json.dumps(build(env.ids), ensure_ascii=False).encode(codec),
            headers={**_headers(env, ep), "Content-Type": "application/json"},
        )

    return send


def _valid_body(ep: Endpoint) -> Builder:
    return ep.body if ep.body is not None else (lambda i: {})


def _with_extra(ep: Endpoint, **extra: Any) -> Builder:
    return lambda i: {**_valid_body(ep)(i), **extra}


def _chunks(
    total: int, piece: int = 256 * 1024, head: bytes = b"", tail: bytes = b""
) -> Iterator[bytes]:
    """A body streamed without Content-Length (httpx sends it chunked)."""
    yield head
    sent = 0
    while sent < total:
        n = min(piece, total - sent)
        yield b" " * n
        sent += n
    yield tail


def _oversized_json(ep: Endpoint) -> Builder:
    return lambda i: {**_valid_body(ep)(i), "padding": "x" * (JSON_LIMIT + 16)}


def _upload(
    files: dict[str, tuple[str, bytes, str]]
    | list[tuple[str, tuple[str, bytes, str]]]
    | None = None,
    *,
    data: dict[str, str] | None = None,
    unknown: bool = False,
) -> Sender:
    def send(env: Env, ep: Endpoint) -> httpx.Response:
        return env.client.request(
            ep.method,
            _path(env, ep, unknown=unknown),
            files=files,
            data=data,
            headers=_headers(env, ep),
        )

    return send


BOUNDARY = "livebase-test-boundary"


def _chunked_upload() -> Sender:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return _raw(
        lambda: _chunks(UPLOAD_LIMIT + 256 * 1024, head=head, tail=tail),
        f"multipart/form-data; boundary={BOUNDARY}",
    )


def _cases_for(ep: Endpoint) -> list[Case]:
    cases: list[Case] = []

    def add(label: str, send: Sender, status: int, error: str, loc: str | None = None) -> None:
        cases.append(Case(ep, label, send, status, error, loc))

    if ep.upload:
        png = png_bytes()
        add(
            "text_named_jpg",
            _upload({"file": ("x.jpg", b"not an image at all", "image/jpeg")}),
            415,
            "unsupported_media_type",
        )
        add(
            "gif_is_not_allowed",
            _upload({"file": ("x.gif", gif_bytes(), "image/gif")}),
            415,
            "unsupported_media_type",
        )
        add(
            "truncated_png",
            _upload({"file": ("x.png", png[:40], "image/png")}),
            415,
            "unsupported_media_type",
        )
        add(
            "empty_file",
            _upload({"file": ("x.png", b"", "image/png")}),
            422,
            "validation_failed",
            "file",
        )
        add(
            "no_file_field",
            _upload({"picture": ("x.png", png, "image/png")}),
            422,
            "validation_failed",
            "file",
        )
        add(
            "file_as_plain_field",
            _upload({"other": ("o.txt", b"o", "text/plain")}, data={"file": "x.png"}),
            422,
            "validation_failed",
            "file",
        )
        # Just over the limit: passes the framing allowance, refused when the file is read.
        add(
            "oversized_file",
            _upload({"file": ("x.png", png + b"\0" * UPLOAD_LIMIT, "image/png")}),
            413,
            "payload_too_large",
        )
        add(
            "oversized_declared",
            _upload({"file": ("x.png", b"\0" * (UPLOAD_LIMIT + MiB), "image/png")}),
            413,
            "payload_too_large",
        )
        add("oversized_chunked", _chunked_upload(), 413, "payload_too_large")
        add("json_content_type", _raw(b'{"file": "x"}'), 415, "unsupported_media_type")
        add(
            "form_urlencoded",
            _raw(b"file=x", "application/x-www-form-urlencoded"),
            415,
            "unsupported_media_type",
        )
        add("no_content_type", _raw(png, None), 415, "unsupported_media_type")
        add(
            "two_files",
            _upload([("file", ("a.png", png, "image/png")), ("file", ("b.png", png, "image/png"))]),
            422,
            "validation_failed",
            "file",
        )
        add(
            "unknown_id",
            _upload({"file": ("x.png", png, "image/png")}, unknown=True),
            404,
            "not_found",
        )
        return cases

    add("malformed_json", _raw(b'{"title": "unterminated'), 400, "malformed_json")
    add("malformed_utf8", _raw(b'{"title": "\xff\xfe"}'), 400, "malformed_json")
    # JSON is UTF-8 (DESIGN §4); Python's json would read these encodings too.
    for codec in ("utf-16", "utf-16-le", "utf-32"):
        add(
            f"body_{codec}",
            _encoded(_valid_body(ep), codec),
            400,
            "malformed_json",
        )
    add("deep_nesting", _raw(b"[" * 100_000 + b"]" * 100_000), 400, "malformed_json")
    add("number_of_5000_digits", _raw(b'{"n": ' + b"9" * 5000 + b"}"), 400, "malformed_json")
    add(
        "unknown_field_status",
        _json(_with_extra(ep, status="approved")),
        422,
        "validation_failed",
        "body.status",
    )
    add(
        "unknown_field_id",
        _json(_with_extra(ep, id="prd_mine")),
        422,
        "validation_failed",
        "body.id",
    )
    add("oversized_json", _json(_oversized_json(ep)), 413, "payload_too_large")
    add(
        "oversized_chunked", _raw(lambda: _chunks(JSON_LIMIT + 64 * 1024)), 413, "payload_too_large"
    )
    add("text_plain", _raw(b'{"title": "x"}', "text/plain"), 415, "unsupported_media_type")
    add(
        "form_urlencoded",
        _raw(b"title=x", "application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    )
    add(
        "multipart",
        _upload({"file": ("x.json", b"{}", "application/json")}),
        415,
        "unsupported_media_type",
    )
    add("no_content_type", _raw(b'{"title": "x"}', None), 415, "unsupported_media_type")
    add("not_an_object", _json(lambda i: [_valid_body(ep)(i)]), 422, "validation_failed")
    if ep.body is not None:
        add("empty_object", _json(lambda i: {}), 422, "validation_failed")
        add("no_body", _raw(b"", None), 422, "validation_failed")
        for wrong in ep.wrong:
            add(wrong.label, _json(wrong.body), 422, "validation_failed", wrong.loc)
    if ep.has_id:
        add("unknown_id", _json(_valid_body(ep), unknown=True), 404, "not_found")
    return cases


CASES = [case for ep in ENDPOINTS for case in _cases_for(ep)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_with_an_error_body_and_changes_nothing(env: Env, case: Case) -> None:
    tables = snapshot(env.rt)
    uploads = files_under(env.rt.settings.uploads_dir)
    r = case.send(env, case.endpoint)
    assert r.status_code == case.status, r.text[:500]
    body = r.json()
    assert body["error"] == case.error, body
    assert isinstance(body["detail"], str) and body["detail"]
    if case.status == 422:
        assert body["fields"] and all(f["loc"] and f["msg"] for f in body["fields"]), body
        if case.loc is not None:
            assert case.loc in [f["loc"] for f in body["fields"]], body["fields"]
    if "chunked" in case.label:  # the body really went without a length
        assert "content-length" not in r.request.headers
    assert changes(tables, snapshot(env.rt)) == ""
    assert files_under(env.rt.settings.uploads_dir) == uploads


def test_every_write_endpoint_has_its_cases() -> None:
    names = {c.endpoint.name for c in CASES}
    assert names == {ep.name for ep in ENDPOINTS}
    for ep in ENDPOINTS:
        labels = {c.label for c in CASES if c.endpoint is ep}
        assert "unknown_id" in labels or not ep.has_id
        if not ep.upload:
            assert {
                "malformed_json",
                "unknown_field_status",
                "oversized_json",
                "oversized_chunked",
                "text_plain",
            } <= labels


def test_the_valid_bodies_of_the_table_are_accepted(env: Env) -> None:
    """Runs last (it changes the shared world): each endpoint's valid request succeeds, so
    the cases above fail only for the bad part they add."""
    png = png_bytes()
    for ep in ENDPOINTS:
        before = snapshot(env.rt)
        if ep.upload:
            r = env.client.post(
                _path(env, ep),
                files={"file": ("a.png", png, "image/png")},
                headers=_headers(env, ep),
            )
        elif ep.body is None:
            r = env.client.request(ep.method, _path(env, ep), headers=_headers(env, ep))
        else:
            r = env.client.request(
                ep.method, _path(env, ep), json=ep.body(env.ids), headers=_headers(env, ep)
            )
        assert r.status_code in (200, 201, 204), (ep.name, r.text)
        # ...and the snapshot sees what each one wrote, so "no changes" above means none.
        assert changes(before, snapshot(env.rt)) != "", ep.name
