"""District rules over the API: read by anyone signed in, set by an admin or by an
operator of every base with a warehouse in the district; bad numbers are 422 and change
nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bonded.helpers import BondedShop

GOOD = {"per_order_fen": 50_000, "per_year_fen": 100_000, "reduced_bp": 7000, "return_days": 7}
PATH = "/api/v1/bonded/districts/{}/rules"


def put(shop: BondedShop, code: str, body: Any, user: str = "op_a") -> Any:
    return shop.client.put(PATH.format(code), json=body, headers=shop.auth(user))


def test_the_operator_sets_its_districts_rules_and_quotes_follow(shop: BondedShop) -> None:
    r = shop.client.get(PATH.format("0101"), headers=shop.auth())
    assert r.status_code == 200
    assert r.json() == {
        "customs_code": "0101",
        "per_order_fen": 500_000,
        "per_year_fen": 2_600_000,
        "reduced_bp": 7000,
        "return_days": 30,
        "source": "national",
    }
    r = put(shop, "0101", GOOD)
    assert r.status_code == 200, r.text
    assert r.json() == {"customs_code": "0101", **GOOD, "source": "district"}
    q = shop.client.post(
        "/api/v1/bonded/quotes",
        json={"identity_id": shop.identity, "lines": [{"sku_id": shop.sku, "quantity": 3}]},
        headers=shop.auth(),
    )
    assert q.json()["allowed"] is False and q.json()["reason"] == "limit_exceeded"  # 600 > 500


@pytest.mark.parametrize(
    ("user", "code", "status"),
    [
        ("op_b", "0101", 403),  # another base's operator
        ("merchant_a1", "0101", 403),
        ("clerk_a", "0101", 403),
        ("viewer", "0101", 403),
        ("op_a", "0102", 403),  # base B's district
        ("op_a", "0999", 404),  # no warehouse there
        ("admin", "0999", 200),  # an admin sets any district
        ("admin", "0102", 200),
    ],
)
def test_who_sets_the_rules(shop: BondedShop, user: str, code: str, status: int) -> None:
    r = put(shop, code, GOOD, user)
    assert r.status_code == status, r.text
    got = shop.client.get(PATH.format(code), headers=shop.auth()).json()
    assert got["source"] == ("district" if status == 200 else "national")


def test_signed_out_is_401(shop: BondedShop) -> None:
    assert shop.client.put(PATH.format("0101"), json=GOOD).status_code == 401


@pytest.mark.parametrize(
    ("code", "body", "loc"),
    [
        ("0101", {**GOOD, "per_order_fen": 200_000}, "body.per_order_fen"),  # over the year
        ("0101", {**GOOD, "reduced_bp": 10_001}, "body.reduced_bp"),
        ("0101", {**GOOD, "reduced_bp": -1}, "body.reduced_bp"),
        ("0101", {**GOOD, "per_year_fen": 0}, "body.per_year_fen"),
        ("0101", {**GOOD, "return_days": 366}, "body.return_days"),
        ("0101", {**GOOD, "per_order_fen": "50000"}, "body.per_order_fen"),
        ("0101", {**GOOD, "per_order_fen": 500.5}, "body.per_order_fen"),
        ("0101", {**GOOD, "tariff": 1}, "body.tariff"),
        ("0101", {k: v for k, v in GOOD.items() if k != "per_year_fen"}, "body.per_year_fen"),
        ("01", GOOD, "path.customs_code"),
        ("01a1", GOOD, "path.customs_code"),
    ],
)
def test_bad_rules_are_422_and_change_nothing(
    shop: BondedShop, code: str, body: Any, loc: str
) -> None:
    assert put(shop, "0101", {**GOOD, "return_days": 10}).status_code == 200
    r = put(shop, code, body)
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["error"] == "validation_failed" and err["detail"]
    assert err["fields"][0]["loc"] == loc
    got = shop.client.get(PATH.format("0101"), headers=shop.auth()).json()
    assert got == {"customs_code": "0101", **GOOD, "return_days": 10, "source": "district"}


def test_the_quota_is_measured_against_the_districts_yearly_limit(shop: BondedShop) -> None:
    url = f"/api/v1/bonded/quota?identity_id={shop.identity}"
    national = shop.client.get(url, headers=shop.auth()).json()
    assert national["limit_fen"] == 2_600_000 and national["remaining_fen"] == 2_600_000
    assert put(shop, "0101", GOOD).status_code == 200
    # Without a district: the strictest district with a warehouse (never overstated).
    got = shop.client.get(url, headers=shop.auth()).json()
    assert got["limit_fen"] == 100_000 and got["remaining_fen"] == 100_000
    got = shop.client.get(url + "&customs_code=0101", headers=shop.auth()).json()
    assert got["customs_code"] == "0101" and got["limit_fen"] == 100_000
    got = shop.client.get(url + "&customs_code=0102", headers=shop.auth()).json()
    assert got["customs_code"] == "0102" and got["limit_fen"] == 2_600_000
    order = shop.order(pickup=False)
    shop.pay(order["id"])
    got = shop.client.get(url + "&customs_code=0101", headers=shop.auth()).json()
    assert got["used_fen"] > 0 and got["remaining_fen"] == 100_000 - got["used_fen"]
    for bad in ("abc", "01011", ""):
        r = shop.client.get(url + f"&customs_code={bad}", headers=shop.auth())
        assert r.status_code == 422 and r.json()["error"] == "validation_failed", bad
    # Another user's identity is not theirs to read, with or without a district.
    r = shop.client.get(url + "&customs_code=0101", headers=shop.auth("merchant_a1"))
    assert r.status_code in (404, 422) and "error" in r.json()
