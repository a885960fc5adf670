"""Who may do what: a role × endpoint matrix, and the public endpoints.

The rule the matrix holds the code to: what a caller may not even see is 404 (held or
deleted listings of another organisation, another base's applications); what is visible
but not theirs is 403 (an active product or a show of someone else, a public base's
warehouses); a caller without a token is 401 on anything that needs one. A refused
request changes nothing. Admin may do everything.

The refused requests change nothing, so the module shares one world per backend; a row
that is allowed to write gets a fresh target (a new product, show or application).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from livebase.app import create_app
from livebase.catalog.models import Product
from livebase.runtime import Runtime
from tests.conftest import ApiEnv, _empty, build_world, png_bytes, product_body
from tests.dbstate import changes, snapshot
from tests.payments.helpers import make_order

SHOW_AT = "2026-12-01T12:00:00Z"
ADDRESS = {
    "name": "张三",
    "phone": "13800000001",
    "province": "北京市",
    "city": "北京市",
    "district": "朝阳区",
    "detail": "望京街1号",
}
SHIP_BODY = {"carrier": "顺丰", "tracking_no": "SF1234567890"}


class Env(ApiEnv):
    def product(self, org: str, *, status: str = "active") -> str:
        """A new product of `org` ("brand_a1", ...) in the given status."""
        org_id = getattr(self.world, org)
        r = self.client.post(
            "/api/v1/products", json=product_body(org_id), headers=self.auth("admin")
        )
        assert r.status_code == 201, r.text
        pid: str = r.json()["id"]
        if status == "held":
            # Held as the compliance check would hold it; set directly so the matrix does
            # not depend on which words the lists carry.
            with self.rt.sessions() as db, db.begin():
                db.execute(
                    update(Product)
                    .where(Product.id == pid)
                    .values(status="held", moderation={"verdict": "review", "labels": ["ad_law"]})
                )
        elif status == "deleted":
            assert (
                self.client.delete(
                    f"/api/v1/products/{pid}", headers=self.auth("admin")
                ).status_code
                == 204
            )
        return pid

    def sku_of(self, product_id: str) -> str:
        r = self.client.get(f"/api/v1/products/{product_id}", headers=self.auth("admin"))
        sku: str = r.json()["skus"][0]["id"]
        return sku

    def show(self, host: str, org: str) -> str:
        r = self.client.post(
            "/api/v1/shows",
            headers=self.auth("admin"),
            json={
                "org_id": getattr(self.world, org),
                "title": "直播",
                "scheduled_at": SHOW_AT,
                "host_id": self.world[host].id,
            },
        )
        assert r.status_code == 201, r.text
        sid: str = r.json()["id"]
        return sid

    def application(self, base: str) -> str:
        r = self.client.post(
            f"/api/v1/bases/{getattr(self.world, base)}/applications",
            headers=self.auth("applicant"),
            json={"org_kind": "brand", "name": f"申请{self.made}"},
        )
        self.made += 1
        assert r.status_code == 201, r.text
        app_id: str = r.json()["id"]
        return app_id

    def order(self, state: str = "paid", buyer: str = "viewer") -> str:
        """A new order of brand A1's product by ``buyer``: pending, paid or shipped."""
        from livebase.accounts.actors import SYSTEM_PAYMENTS
        from livebase.orders import service as orders

        auth = self.auth(buyer)
        address = self.ids.get(f"address_{buyer}")
        if address is None:
            r = self.client.post("/api/v1/addresses", json=ADDRESS, headers=auth)
            assert r.status_code == 201, r.text
            address = self.ids[f"address_{buyer}"] = r.json()["id"]
        self.made += 1
        r = self.client.post(
            "/api/v1/orders",
            json={
                "lines": [{"sku_id": self.ids["sku_p_a1"], "quantity": 1}],
                "address_id": address,
            },
            headers={**auth, "Idempotency-Key": f"access-{self.made}"},
        )
        assert r.status_code == 201, r.text
        order_id: str = r.json()["id"]
        if state in ("paid", "shipped"):
            with self.rt.sessions() as db, db.begin():
                total = orders.get_order(db, order_id).total_fen
                orders.do_mark_paid(db, SYSTEM_PAYMENTS, order_id, total, "pay_access")
        if state == "shipped":
            r = self.client.post(
                f"/api/v1/orders/{order_id}/ship", json=SHIP_BODY, headers=self.auth("merchant_a1")
            )
            assert r.status_code == 200, r.text
        return order_id

    def refund_request(self) -> str:
        order_id = self.order("shipped")
        r = self.client.post(
            f"/api/v1/orders/{order_id}/refund-requests",
            json={"reason": "破损"},
            headers=self.auth("viewer"),
        )
        assert r.status_code == 201, r.text
        rid: str = r.json()["id"]
        return rid


@pytest.fixture(scope="module")
def env(backend: Runtime) -> Iterator[Env]:
    _empty(backend)
    world = build_world(backend)
    world.add_user("host_a1b", "host", base_id=world.base_a, org_id=world.brand_a1)
    world.add_user("applicant")
    with TestClient(create_app(runtime=backend), client=("203.0.113.7", 5000)) as client:
        e = Env(backend, client, world)
        e.ids = {
            "p_a1": e.product("brand_a1"),
            "p_a1_held": e.product("brand_a1", status="held"),
            "p_a2": e.product("brand_a2"),
            "p_a2_held": e.product("brand_a2", status="held"),
            "p_a2_deleted": e.product("brand_a2", status="deleted"),
            "p_b1": e.product("brand_b1"),
            "p_b1_held": e.product("brand_b1", status="held"),
            "show_a1": e.show("host_a1", "brand_a1"),
            "show_ag": e.show("host_ag", "agency_a"),
            "app_a": e.application("base_a"),
            "app_b": e.application("base_b"),
        }
        for key in ("p_a1", "p_a1_held", "p_a2", "p_a2_held", "p_b1"):
            e.ids[f"sku_{key}"] = e.sku_of(e.ids[key])
        e.ids["order_v"] = e.order("paid")
        e.ids["rfq_v"] = e.refund_request()
        yield e
    _empty(backend)


Build = Callable[[Env], Any]


@dataclass(frozen=True)
class Row:
    actor: str | None
    method: str
    path: Build
    status: int
    body: Build | None = None
    upload: bool = False
    what: str = ""

    @property
    def id(self) -> str:
        return f"{self.actor or 'anonymous'}-{self.what}-{self.status}"


def p(template: str) -> Build:
    """A path template over Env.ids ({p_a1}, {show_ag}, ...) and the world ({base_a})."""

    def build(e: Env) -> str:
        w = e.world
        return template.format(
            **e.ids, base_a=w.base_a, base_b=w.base_b, brand_a1=w.brand_a1, brand_a2=w.brand_a2
        )

    return build


def const(value: Any) -> Build:
    return lambda e: value


def org_body(org: str) -> Build:
    return lambda e: product_body(getattr(e.world, org))


def show_body(org: str, host: str | None) -> Build:
    def build(e: Env) -> dict[str, Any]:
        body = {"org_id": getattr(e.world, org), "title": "上新", "scheduled_at": SHOW_AT}
        if host:
            body["host_id"] = e.world[host].id
        return body

    return build


def shelf_body(product_key: str) -> Build:
    return lambda e: {"items": [{"sku_id": e.ids[f"sku_{product_key}"]}]}


WAREHOUSE = const({"name": "新仓", "customs_code": "0102", "ems_no": "T0102W000003"})
PATCH_TITLE = const({"title": "改名"})

ROWS: list[Row] = [
    # --- products: a merchant of A1 against A2's and B1's products --------------------
    Row("merchant_a1", "GET", p("/api/v1/products/{p_a2}"), 200, what="see_active_of_a2"),
    Row("merchant_a1", "GET", p("/api/v1/products/{p_a2_held}"), 404, what="see_held_of_a2"),
    Row("merchant_a1", "GET", p("/api/v1/products/{p_a2_deleted}"), 404, what="see_deleted_of_a2"),
    Row("merchant_a1", "GET", p("/api/v1/products/{p_b1_held}"), 404, what="see_held_of_b1"),
    Row("merchant_a1", "GET", p("/api/v1/products/{p_a1_held}"), 200, what="see_own_held"),
    Row(
        "merchant_a1",
        "PATCH",
        p("/api/v1/products/{p_a2}"),
        403,
        PATCH_TITLE,
        what="patch_active_of_a2",
    ),
    Row(
        "merchant_a1",
        "PATCH",
        p("/api/v1/products/{p_a2_held}"),
        404,
        PATCH_TITLE,
        what="patch_held_of_a2",
    ),
    Row(
        "merchant_a1",
        "PATCH",
        p("/api/v1/products/{p_a2_deleted}"),
        404,
        PATCH_TITLE,
        what="patch_deleted_of_a2",
    ),
    Row(
        "merchant_a1",
        "PATCH",
        p("/api/v1/products/{p_b1}"),
        403,
        PATCH_TITLE,
        what="patch_active_of_b1",
    ),
    Row(
        "merchant_a1",
        "PATCH",
        p("/api/v1/products/{p_b1_held}"),
        404,
        PATCH_TITLE,
        what="patch_held_of_b1",
    ),
    Row("merchant_a1", "DELETE", p("/api/v1/products/{p_a2}"), 403, what="delete_of_a2"),
    Row("merchant_a1", "DELETE", p("/api/v1/products/{p_b1_held}"), 404, what="delete_held_of_b1"),
    Row(
        "merchant_a1",
        "PATCH",
        p("/api/v1/skus/{sku_p_a2}"),
        403,
        const({"stock": 0}),
        what="patch_sku_of_a2",
    ),
    Row(
        "merchant_a1",
        "PATCH",
        p("/api/v1/skus/{sku_p_a2_held}"),
        404,
        const({"stock": 0}),
        what="patch_sku_of_held_a2",
    ),
    Row(
        "merchant_a1",
        "PATCH",
        p("/api/v1/skus/{sku_p_b1}"),
        403,
        const({"price_fen": 1}),
        what="patch_sku_of_b1",
    ),
    Row(
        "merchant_a1",
        "POST",
        p("/api/v1/products/{p_a2}/images"),
        403,
        upload=True,
        what="image_to_a2",
    ),
    Row(
        "merchant_a1",
        "POST",
        p("/api/v1/products/{p_a2_held}/images"),
        404,
        upload=True,
        what="image_to_held_a2",
    ),
    Row(
        "merchant_a1",
        "POST",
        const("/api/v1/products"),
        403,
        org_body("brand_a2"),
        what="create_for_a2",
    ),
    Row(
        "merchant_a1",
        "POST",
        const("/api/v1/products"),
        403,
        org_body("brand_b1"),
        what="create_for_b1",
    ),
    Row("merchant_b1", "GET", p("/api/v1/products/{p_a1_held}"), 404, what="see_held_of_a1"),
    Row(
        "merchant_a1",
        "PATCH",
        lambda e: f"/api/v1/products/{e.product('brand_a1')}",
        200,
        PATCH_TITLE,
        what="patch_own",
    ),
    Row(
        "merchant_a1",
        "DELETE",
        lambda e: f"/api/v1/products/{e.product('brand_a1')}",
        204,
        what="delete_own",
    ),
    Row(
        "merchant_a1",
        "POST",
        const("/api/v1/products"),
        201,
        org_body("brand_a1"),
        what="create_own",
    ),
    # Hosts present products; only the brand's merchant staff edit them.
    Row(
        "host_a1",
        "PATCH",
        p("/api/v1/products/{p_a1}"),
        403,
        PATCH_TITLE,
        what="host_patches_brand_product",
    ),
    Row("host_a1", "GET", p("/api/v1/products/{p_a1_held}"), 200, what="host_sees_brand_held"),
    Row(
        "agency_a",
        "PATCH",
        p("/api/v1/products/{p_a1}"),
        403,
        PATCH_TITLE,
        what="agency_patches_brand_product",
    ),
    Row(
        "agency_a",
        "POST",
        const("/api/v1/products"),
        403,
        org_body("agency_a"),
        what="agency_lists_a_product",
    ),
    Row("mod_a", "GET", p("/api/v1/products/{p_a2_held}"), 200, what="moderator_sees_held"),
    Row(
        "mod_a",
        "PATCH",
        p("/api/v1/products/{p_a1}"),
        403,
        PATCH_TITLE,
        what="moderator_edits_listing",
    ),
    Row("op_a", "GET", p("/api/v1/products/{p_a2_held}"), 200, what="operator_sees_held"),
    Row("op_b", "GET", p("/api/v1/products/{p_a2_held}"), 404, what="see_held_of_base_a"),
    # --- shows: hosts, another host, agency and brand staff ---------------------------
    Row(
        "host_ag",
        "PATCH",
        p("/api/v1/shows/{show_a1}"),
        403,
        PATCH_TITLE,
        what="patch_other_hosts_show",
    ),
    Row(
        "host_a1b",
        "PATCH",
        p("/api/v1/shows/{show_a1}"),
        403,
        PATCH_TITLE,
        what="patch_same_brand_other_hosts_show",
    ),
    Row(
        "host_ag",
        "PUT",
        p("/api/v1/shows/{show_a1}/shelf"),
        403,
        shelf_body("p_a1"),
        what="shelf_of_other_hosts_show",
    ),
    Row(
        "host_ag",
        "POST",
        p("/api/v1/shows/{show_a1}/explaining"),
        403,
        const({"no": None}),
        what="explaining_other_hosts_show",
    ),
    Row("host_ag", "POST", p("/api/v1/shows/{show_a1}/start"), 403, what="start_other_hosts_show"),
    Row("host_ag", "POST", p("/api/v1/shows/{show_a1}/end"), 403, what="end_other_hosts_show"),
    Row(
        "host_ag",
        "POST",
        p("/api/v1/shows/{show_a1}/cover"),
        403,
        upload=True,
        what="cover_of_other_hosts_show",
    ),
    Row(
        "host_ag",
        "GET",
        p("/api/v1/shows/{show_a1}/ingest"),
        403,
        what="ingest_key_of_other_hosts_show",
    ),
    Row(
        "host_a1b",
        "GET",
        p("/api/v1/shows/{show_a1}/ingest"),
        403,
        what="ingest_key_of_same_brand_other_host",
    ),
    Row(
        "host_ag",
        "POST",
        p("/api/v1/shows/{show_a1}/ingest/rotate"),
        403,
        what="rotate_other_hosts_key",
    ),
    Row("host_a1", "GET", p("/api/v1/shows/{show_a1}/ingest"), 200, what="own_ingest_key"),
    Row("host_a1", "PATCH", p("/api/v1/shows/{show_a1}"), 200, PATCH_TITLE, what="patch_own_show"),
    Row(
        "host_a1",
        "POST",
        const("/api/v1/shows"),
        403,
        show_body("agency_a", None),
        what="create_show_in_org_not_hosted",
    ),
    Row(
        "host_a1",
        "POST",
        const("/api/v1/shows"),
        403,
        show_body("brand_a1", "host_a1b"),
        what="create_show_for_another_host",
    ),
    Row(
        "agency_a",
        "PATCH",
        p("/api/v1/shows/{show_ag}"),
        200,
        PATCH_TITLE,
        what="patch_own_hosts_show",
    ),
    Row(
        "agency_a",
        "PUT",
        p("/api/v1/shows/{show_ag}/shelf"),
        200,
        shelf_body("p_a1"),
        what="shelf_of_own_hosts_show",
    ),
    Row(
        "agency_a",
        "POST",
        lambda e: f"/api/v1/shows/{e.show('host_ag', 'agency_a')}/start",
        200,
        what="start_own_hosts_show",
    ),
    Row(
        "agency_a",
        "POST",
        const("/api/v1/shows"),
        201,
        show_body("agency_a", "host_ag"),
        what="create_show_for_own_host",
    ),
    Row(
        "agency_a", "PATCH", p("/api/v1/shows/{show_a1}"), 403, PATCH_TITLE, what="patch_brand_show"
    ),
    Row(
        "agency_a",
        "PUT",
        p("/api/v1/shows/{show_a1}/shelf"),
        403,
        shelf_body("p_a1"),
        what="shelf_of_brand_show",
    ),
    Row(
        "agency_a",
        "POST",
        const("/api/v1/shows"),
        403,
        show_body("brand_a1", "host_a1"),
        what="create_show_for_brand_host",
    ),
    Row(
        "agency_a",
        "GET",
        p("/api/v1/shows/{show_ag}/ingest"),
        403,
        what="ingest_key_is_for_the_host_only",
    ),
    Row(
        "merchant_a1",
        "POST",
        const("/api/v1/shows"),
        201,
        show_body("brand_a1", "host_a1"),
        what="create_show_for_own_host",
    ),
    Row(
        "merchant_a1",
        "POST",
        const("/api/v1/shows"),
        403,
        show_body("brand_a1", None),
        what="create_show_without_being_a_host",
    ),
    Row(
        "merchant_a2",
        "PATCH",
        p("/api/v1/shows/{show_a1}"),
        403,
        PATCH_TITLE,
        what="patch_other_brands_show",
    ),
    Row(
        "viewer",
        "POST",
        const("/api/v1/shows"),
        403,
        show_body("brand_a1", None),
        what="create_show",
    ),
    Row(None, "POST", const("/api/v1/shows"), 401, show_body("brand_a1", None), what="create_show"),
    Row(None, "PATCH", p("/api/v1/shows/{show_a1}"), 401, PATCH_TITLE, what="patch_show"),
    Row(None, "GET", p("/api/v1/shows/{show_a1}/ingest"), 401, what="ingest_key"),
    # --- staff endpoints: viewers, anonymous callers, the applicant -------------------
    Row(
        "viewer",
        "POST",
        p("/api/v1/applications/{app_a}/approve"),
        404,
        what="approve_invisible_application",
    ),
    Row(
        "viewer",
        "POST",
        p("/api/v1/applications/{app_a}/reject"),
        404,
        const({"reason": "不"}),
        what="reject_invisible_application",
    ),
    Row(
        "applicant",
        "POST",
        p("/api/v1/applications/{app_a}/approve"),
        403,
        what="approve_own_application",
    ),
    Row("applicant", "GET", p("/api/v1/applications/{app_a}"), 200, what="see_own_application"),
    Row(None, "POST", p("/api/v1/applications/{app_a}/approve"), 401, what="approve"),
    Row(
        "viewer",
        "POST",
        p("/api/v1/bases/{base_a}/warehouses"),
        403,
        WAREHOUSE,
        what="create_warehouse",
    ),
    Row(
        None,
        "POST",
        p("/api/v1/bases/{base_a}/warehouses"),
        401,
        WAREHOUSE,
        what="create_warehouse",
    ),
    Row("viewer", "GET", p("/api/v1/bases/{base_a}/warehouses"), 403, what="list_warehouses"),
    Row(None, "GET", p("/api/v1/bases/{base_a}/warehouses"), 401, what="list_warehouses"),
    Row("viewer", "GET", p("/api/v1/bases/{base_a}/applications"), 403, what="list_applications"),
    Row(
        "merchant_a1",
        "POST",
        p("/api/v1/applications/{app_a}/approve"),
        404,
        what="approve_application",
    ),
    Row(
        "merchant_a1",
        "POST",
        p("/api/v1/bases/{base_a}/warehouses"),
        403,
        WAREHOUSE,
        what="create_warehouse",
    ),
    Row(
        "viewer",
        "POST",
        const("/api/v1/products"),
        403,
        org_body("brand_a1"),
        what="create_product",
    ),
    Row(None, "POST", const("/api/v1/products"), 401, org_body("brand_a1"), what="create_product"),
    Row(None, "PATCH", p("/api/v1/skus/{sku_p_a1}"), 401, const({"stock": 1}), what="patch_sku"),
    Row(None, "DELETE", p("/api/v1/products/{p_a1}"), 401, what="delete_product"),
    Row(None, "POST", p("/api/v1/products/{p_a1}/images"), 401, upload=True, what="upload_image"),
    # --- operators: base B sees nothing of base A ---------------------------------------
    Row(
        "op_b",
        "GET",
        p("/api/v1/bases/{base_a}/applications"),
        403,
        what="list_applications_of_base_a",
    ),
    Row("op_b", "GET", p("/api/v1/applications/{app_a}"), 404, what="get_application_of_a"),
    Row(
        "op_b",
        "POST",
        p("/api/v1/applications/{app_a}/approve"),
        404,
        what="approve_application_of_a",
    ),
    Row(
        "op_b",
        "POST",
        p("/api/v1/applications/{app_a}/reject"),
        404,
        const({"reason": "不"}),
        what="reject_application_of_a",
    ),
    Row(
        "op_b",
        "POST",
        p("/api/v1/bases/{base_a}/warehouses"),
        403,
        WAREHOUSE,
        what="create_warehouse_in_a",
    ),
    Row("op_b", "GET", p("/api/v1/bases/{base_a}/warehouses"), 403, what="list_warehouses_of_a"),
    Row("op_a", "GET", p("/api/v1/applications/{app_b}"), 404, what="get_application_of_b"),
    # Applications are the operators' business: to a moderator of the same base they are
    # as invisible as to anyone else.
    Row("mod_a", "POST", p("/api/v1/applications/{app_a}/approve"), 404, what="moderator_approves"),
    Row(
        "mod_a",
        "GET",
        p("/api/v1/bases/{base_a}/applications"),
        403,
        what="moderator_lists_applications",
    ),
    Row("op_a", "GET", p("/api/v1/bases/{base_a}/applications"), 200, what="list_own_base"),
    Row("op_a", "GET", p("/api/v1/bases/{base_a}/warehouses"), 200, what="list_warehouses"),
    Row(
        "merchant_a1",
        "GET",
        p("/api/v1/bases/{base_a}/warehouses"),
        200,
        what="merchant_lists_own_base_warehouses",
    ),
    Row(
        "merchant_b1",
        "GET",
        p("/api/v1/bases/{base_a}/warehouses"),
        403,
        what="merchant_lists_other_base_warehouses",
    ),
    Row(
        "op_a",
        "POST",
        lambda e: f"/api/v1/applications/{e.application('base_a')}/approve",
        200,
        what="approve_own_base",
    ),
    Row(
        "op_a",
        "POST",
        p("/api/v1/bases/{base_a}/warehouses"),
        201,
        WAREHOUSE,
        what="create_warehouse",
    ),
    # --- admin may do everything ------------------------------------------------------
    Row("admin", "GET", p("/api/v1/products/{p_b1_held}"), 200, what="see_held"),
    Row(
        "admin",
        "PATCH",
        lambda e: f"/api/v1/products/{e.product('brand_b1')}",
        200,
        PATCH_TITLE,
        what="patch_any_product",
    ),
    Row(
        "admin",
        "DELETE",
        lambda e: f"/api/v1/products/{e.product('brand_a2')}",
        204,
        what="delete_any_product",
    ),
    Row(
        "admin",
        "POST",
        const("/api/v1/products"),
        201,
        org_body("brand_b1"),
        what="create_for_any_brand",
    ),
    Row(
        "admin",
        "POST",
        lambda e: f"/api/v1/applications/{e.application('base_b')}/approve",
        200,
        what="approve_in_any_base",
    ),
    Row("admin", "GET", p("/api/v1/bases/{base_b}/applications"), 200, what="list_applications"),
    Row(
        "admin",
        "POST",
        p("/api/v1/bases/{base_b}/warehouses"),
        201,
        WAREHOUSE,
        what="create_warehouse",
    ),
    Row("admin", "GET", p("/api/v1/shows/{show_a1}/ingest"), 200, what="see_ingest_key"),
    Row("admin", "PATCH", p("/api/v1/shows/{show_ag}"), 200, PATCH_TITLE, what="patch_any_show"),
    Row(
        "admin",
        "POST",
        lambda e: f"/api/v1/shows/{e.show('host_a1', 'brand_a1')}/end",
        200,
        what="end_any_show",
    ),
]

# --- flash sales and coupons (issue 12): one sale on host_a1's show, made on first use --


def _sale_a1(e: Env) -> str:
    if "sale_a1" not in e.ids:
        r = e.client.post(
            f"/api/v1/shows/{e.ids['show_a1']}/flash-sales",
            headers=e.auth("admin"),
            json=_sale_body(e),
        )
        assert r.status_code == 201, r.text
        e.ids["sale_a1"] = r.json()["id"]
    return e.ids["sale_a1"]


def _sale_body(e: Env) -> dict[str, Any]:
    return {
        "sku_id": e.ids["sku_p_a1"],
        "price_fen": 990,
        "quantity": 1,
        "per_buyer_limit": 1,
        "starts_at": "2030-01-01T08:00:00Z",
        "ends_at": "2030-01-01T09:00:00Z",
    }


def _sale_path(action: str) -> Build:
    return lambda e: f"/api/v1/flash-sales/{_sale_a1(e)}/{action}"


COUPON = const(
    {
        "quantity": 5,
        "kind": "amount",
        "amount_fen": 500,
        "min_spend_fen": 0,
        "expires_at": "2030-01-01T09:00:00Z",
    }
)

ROWS += [
    Row("host_ag", "POST", _sale_path("open"), 403, what="open_sale_of_another_hosts_show"),
    Row("host_a1b", "POST", _sale_path("open"), 403, what="open_sale_of_a_colleagues_show"),
    Row("merchant_a2", "POST", _sale_path("close"), 403, what="close_sale_of_another_brand"),
    Row("viewer", "POST", _sale_path("close"), 403, what="close_sale"),
    Row(None, "POST", _sale_path("open"), 401, what="open_sale"),
    Row("viewer", "GET", lambda e: f"/api/v1/flash-sales/{_sale_a1(e)}", 200, what="see_sale"),
    Row(
        "host_ag",
        "POST",
        p("/api/v1/shows/{show_a1}/flash-sales"),
        403,
        _sale_body,
        what="create_sale_on_another_hosts_show",
    ),
    Row(
        "merchant_b1",
        "POST",
        p("/api/v1/shows/{show_a1}/coupons"),
        403,
        COUPON,
        what="drop_coupon_on_another_bases_show",
    ),
    Row("host_ag", "POST", p("/api/v1/shows/{show_a1}/coupons"), 403, COUPON, what="drop_coupon"),
]


def fresh_order(state: str, then: str = "") -> Build:
    return lambda e: f"/api/v1/orders/{e.order(state)}{then}"


SHIP = const(SHIP_BODY)
REASON = const({"reason": "理由"})
ORDER_BODY: Build = lambda e: {  # noqa: E731
    "lines": [{"sku_id": e.ids["sku_p_a1"], "quantity": 1}],
    "address_id": "adr_x",
}

ROWS += [
    # --- orders: a buyer's order is seen by its buyer and the selling brand only --------
    Row(None, "GET", p("/api/v1/orders/{order_v}"), 401, what="see_order"),
    Row("viewer", "GET", p("/api/v1/orders/{order_v}"), 200, what="see_own_order"),
    Row("applicant", "GET", p("/api/v1/orders/{order_v}"), 404, what="see_anothers_order"),
    Row("merchant_a1", "GET", p("/api/v1/orders/{order_v}"), 200, what="see_brands_order"),
    Row("merchant_a2", "GET", p("/api/v1/orders/{order_v}"), 404, what="see_other_brands_order"),
    Row("merchant_b1", "GET", p("/api/v1/orders/{order_v}"), 404, what="see_other_base_order"),
    Row("host_a1", "GET", p("/api/v1/orders/{order_v}"), 404, what="host_sees_order"),
    Row("op_a", "GET", p("/api/v1/orders/{order_v}"), 404, what="operator_sees_order"),
    Row("admin", "GET", p("/api/v1/orders/{order_v}"), 200, what="see_any_order"),
    Row(None, "GET", const("/api/v1/orders"), 401, what="list_orders"),
    Row(None, "GET", const("/api/v1/addresses"), 401, what="list_addresses"),
    Row(None, "POST", const("/api/v1/addresses"), 401, const(ADDRESS), what="add_address"),
    Row(None, "POST", const("/api/v1/orders"), 401, ORDER_BODY, what="place_order"),
    Row("applicant", "POST", p("/api/v1/orders/{order_v}/cancel"), 404, what="cancel_anothers"),
    Row(
        "applicant",
        "POST",
        p("/api/v1/orders/{order_v}/refund-requests"),
        404,
        REASON,
        what="refund_anothers",
    ),
    Row("merchant_a1", "POST", p("/api/v1/orders/{order_v}/cancel"), 404, what="seller_cancels"),
    Row("viewer", "POST", fresh_order("pending", "/cancel"), 200, what="cancel_own"),
    # Confirming receipt: the buyer only (the seller, who may read the order, gets 404).
    Row(None, "POST", p("/api/v1/orders/{order_v}/complete"), 401, what="complete_anonymous"),
    Row("applicant", "POST", p("/api/v1/orders/{order_v}/complete"), 404, what="complete_anothers"),
    Row(
        "merchant_a1", "POST", p("/api/v1/orders/{order_v}/complete"), 404, what="seller_completes"
    ),
    Row("admin", "POST", p("/api/v1/orders/{order_v}/complete"), 404, what="admin_completes"),
    Row("viewer", "POST", fresh_order("shipped", "/complete"), 200, what="complete_own"),
    # --- shipping and refunds: only the selling brand's staff --------------------------
    Row(
        "merchant_a2",
        "POST",
        p("/api/v1/orders/{order_v}/ship"),
        404,
        SHIP,
        what="ship_other_brand",
    ),
    Row(
        "merchant_b1", "POST", p("/api/v1/orders/{order_v}/ship"), 404, SHIP, what="ship_other_base"
    ),
    Row("host_a1", "POST", p("/api/v1/orders/{order_v}/ship"), 404, SHIP, what="host_ships"),
    Row("viewer", "POST", p("/api/v1/orders/{order_v}/ship"), 404, SHIP, what="buyer_ships"),
    Row(None, "POST", p("/api/v1/orders/{order_v}/ship"), 401, SHIP, what="ship"),
    Row("merchant_a1", "POST", fresh_order("paid", "/ship"), 200, SHIP, what="ship_own_brand"),
    Row("admin", "POST", fresh_order("paid", "/ship"), 200, SHIP, what="ship_any"),
    Row(
        "merchant_a2",
        "POST",
        p("/api/v1/refund-requests/{rfq_v}/approve"),
        404,
        what="approve_other",
    ),
    Row("viewer", "POST", p("/api/v1/refund-requests/{rfq_v}/approve"), 404, what="buyer_approves"),
    Row(
        "merchant_a2",
        "POST",
        p("/api/v1/refund-requests/{rfq_v}/reject"),
        404,
        REASON,
        what="reject_other",
    ),
    Row(
        "merchant_a1",
        "POST",
        lambda e: f"/api/v1/refund-requests/{e.refund_request()}/approve",
        200,
        what="approve_own_brand",
    ),
    # --- a brand's order list and export ------------------------------------------------
    Row("merchant_a1", "GET", p("/api/v1/orgs/{brand_a1}/orders"), 200, what="list_brand_orders"),
    Row("merchant_a2", "GET", p("/api/v1/orgs/{brand_a1}/orders"), 403, what="list_other_brand"),
    Row("viewer", "GET", p("/api/v1/orgs/{brand_a1}/orders"), 403, what="viewer_lists_brand"),
    Row(None, "GET", p("/api/v1/orgs/{brand_a1}/orders"), 401, what="list_brand_orders"),
    Row("merchant_a1", "GET", p("/api/v1/orgs/{brand_a1}/orders.csv"), 200, what="export"),
    Row("merchant_a2", "GET", p("/api/v1/orgs/{brand_a1}/orders.csv"), 403, what="export_other"),
    Row("admin", "GET", p("/api/v1/orgs/{brand_a1}/orders.csv"), 200, what="export_any"),
]


def buyers_order(e: Env) -> str:
    """A fresh pending order of the viewer (inserted as a row until orders lands)."""
    return make_order(e.rt, e.world, buyer="viewer")


PAY = const({"provider": "sandbox"})
ROWS += [
    # --- payments: only the buyer pays their own pending order; nobody else sees it ---
    Row(
        None,
        "POST",
        lambda e: f"/api/v1/orders/{buyers_order(e)}/payments",
        401,
        PAY,
        what="pay_order",
    ),
    *(
        Row(
            actor,
            "POST",
            lambda e: f"/api/v1/orders/{buyers_order(e)}/payments",
            404,
            PAY,
            what="pay_anothers_order",
        )
        for actor in ("merchant_a1", "host_a1", "op_a", "merchant_b1", "admin")
    ),
    Row(
        "viewer",
        "POST",
        lambda e: f"/api/v1/orders/{buyers_order(e)}/payments",
        201,
        PAY,
        what="pay_own_order",
    ),
]

ERRORS = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}


def _send(e: Env, row: Row) -> httpx.Response:
    path = row.path(e)
    # Creating an order, a payment or a claim needs an Idempotency-Key (DESIGN §4).
    headers = {**e.auth(row.actor), "Idempotency-Key": f"access-{row.id}"}
    if row.upload:
        return e.client.post(
            path, files={"file": ("a.png", png_bytes(), "image/png")}, headers=headers
        )
    if row.body is not None:
        return e.client.request(row.method, path, json=row.body(e), headers=headers)
    return e.client.request(row.method, path, headers=headers)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_role_endpoint_matrix(env: Env, row: Row) -> None:
    # Targets made for the row (fresh products, shows) exist before the snapshot.
    path = row.path(env)
    row = Row(row.actor, row.method, const(path), row.status, row.body, row.upload, row.what)
    before = snapshot(env.rt)
    r = _send(env, row)
    assert r.status_code == row.status, r.text[:300]
    if row.status >= 400:
        assert r.json()["error"] == ERRORS[row.status] and r.json()["detail"]
        assert changes(before, snapshot(env.rt)) == ""


def test_matrix_ids_are_unique() -> None:
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]


# --- the public side ------------------------------------------------------------------


def test_shows_list_and_show_are_public_and_never_carry_the_stream_key(env: Env) -> None:
    key = (
        env.client.get(f"/api/v1/shows/{env.ids['show_a1']}/ingest", headers=env.auth("host_a1"))
        .json()["stream"]
        .split("key=")[1]
    )
    listing = env.client.get("/api/v1/shows")
    assert listing.status_code == 200
    assert {env.ids["show_a1"], env.ids["show_ag"]} <= {s["id"] for s in listing.json()["items"]}
    one = env.client.get(f"/api/v1/shows/{env.ids['show_a1']}")
    assert one.status_code == 200 and one.json()["hls_url"].endswith("/index.m3u8")
    for text in (listing.text, one.text):
        assert key not in text and "key=" not in text and "stream_key" not in text


def test_bases_are_public_with_their_targets(env: Env) -> None:
    r = env.client.get("/api/v1/bases")
    assert r.status_code == 200
    bases = {b["id"]: b for b in r.json()["items"]}
    assert {env.world.base_a, env.world.base_b} <= set(bases)
    assert all(isinstance(b["targets"], list) for b in bases.values())
    one = env.client.get(f"/api/v1/bases/{env.world.base_a}")
    assert one.status_code == 200
    assert set(one.json()) >= {"id", "name", "district", "targets"}


def test_active_products_are_public_and_held_or_deleted_ones_are_not(env: Env) -> None:
    ids = env.ids
    assert env.client.get(f"/api/v1/products/{ids['p_a1']}").status_code == 200
    for key in ("p_a1_held", "p_a2_held", "p_a2_deleted", "p_b1_held"):
        r = env.client.get(f"/api/v1/products/{ids[key]}")
        assert r.status_code == 404 and r.json()["error"] == "not_found", key
    listed = env.client.get("/api/v1/products", params={"limit": 100}).json()["items"]
    assert {p["status"] for p in listed} == {"active"}
    assert ids["p_a1"] in {p["id"] for p in listed}
    for held in ("p_a1_held", "p_a2_held", "p_b1_held"):
        assert ids[held] not in {p["id"] for p in listed}


@pytest.mark.parametrize(
    "actor, sees_held",
    [
        (None, False),
        ("viewer", False),
        ("merchant_a1", False),
        ("merchant_b1", False),
        ("op_b", False),
        ("merchant_a2", True),
        ("mod_a", True),
        ("op_a", True),
        ("admin", True),
    ],
)
def test_a_brands_held_list_is_seen_only_by_its_org_and_its_base_staff(
    env: Env, actor: str | None, sees_held: bool
) -> None:
    r = env.client.get(
        "/api/v1/products",
        headers=env.auth(actor),
        params={"org_id": env.world.brand_a2, "status": "held"},
    )
    assert r.status_code == 200
    ids = [p["id"] for p in r.json()["items"]]
    assert ids == ([env.ids["p_a2_held"]] if sees_held else [])
