"""The positive list: shipped common lines, CSV import with per-line errors (API and CLI),
extend and replace, and goods off the list refused (not_allowed_goods)."""

from __future__ import annotations

from pathlib import Path

import pytest

from livebase.bonded import positive_list
from tests.bonded.helpers import BondedShop
from tests.test_cli import cli_env, last_line, run  # noqa: F401 - the CLI's fixture

GOOD = (
    "hs_code,name,notes\n30049090,其他药品 Medicaments,仅限药店试点\n33049900,护肤品,本基地备注\n"
)


def test_the_shipped_list_carries_the_common_lines_with_notes() -> None:
    for code in ("33041000", "33049900", "33051000", "33059000", "19011010", "21069090"):
        line = positive_list.COMMON[code]
        assert len(line.hs_code) == 8 and line.notes
    assert "30049090" not in positive_list.COMMON  # medicines are not on the list


def test_a_csv_with_bad_lines_is_refused_line_by_line_and_changes_nothing(
    shop: BondedShop,
) -> None:
    bad = "hs_code,name,notes\n3304990,短码,x\n33049900,,x\n21069090,食品,ok\n21069090,重复,x\n"
    r = shop.client.post(
        f"/api/v1/bases/{shop.world.base_a}/positive-list",
        json={"csv": bad},
        headers=shop.auth("op_a"),
    )
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [e["line"] for e in errors] == [2, 3, 5]
    assert "8 digits" in errors[0]["error"] and "name" in errors[1]["error"]
    assert "repeats line 4" in errors[2]["error"]
    listed = shop.client.get(f"/api/v1/bases/{shop.world.base_a}/positive-list").json()["items"]
    assert all(i["source"] == "common" for i in listed)


def test_an_operator_extends_the_list_and_the_goods_become_sellable(shop: BondedShop) -> None:
    body = {"identity_id": shop.identity, "lines": [{"sku_id": shop.sku_banned, "quantity": 1}]}
    q = shop.client.post("/api/v1/bonded/quotes", json=body, headers=shop.auth())
    assert q.status_code == 200
    assert q.json()["allowed"] is False and q.json()["reason"] == "not_allowed_goods"
    shop.order(sku=shop.sku_banned, expect=409)
    r = shop.client.post(
        f"/api/v1/bases/{shop.world.base_a}/positive-list",
        json={"csv": GOOD},
        headers=shop.auth("op_a"),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["added"], r.json()["updated"]) == (2, 0)
    q = shop.client.post("/api/v1/bonded/quotes", json=body, headers=shop.auth())
    assert q.json()["allowed"] is True
    listed = shop.client.get(f"/api/v1/bases/{shop.world.base_a}/positive-list").json()["items"]
    by_code = {i["hs_code"]: i for i in listed}
    assert (
        by_code["33049900"]["notes"] == "本基地备注" and by_code["33041000"]["source"] == "common"
    )


def test_replace_drops_the_common_lines_for_that_base(shop: BondedShop) -> None:
    r = shop.client.post(
        f"/api/v1/bases/{shop.world.base_a}/positive-list",
        json={"csv": GOOD, "mode": "replace"},
        headers=shop.auth("op_a"),
    )
    assert r.status_code == 201
    listed = shop.client.get(f"/api/v1/bases/{shop.world.base_a}/positive-list").json()["items"]
    assert {i["hs_code"] for i in listed} == {"30049090", "33049900"}
    body = {"identity_id": shop.identity, "lines": [{"sku_id": shop.sku_ct, "quantity": 1}]}
    q = shop.client.post("/api/v1/bonded/quotes", json=body, headers=shop.auth())
    assert q.json()["reason"] == "not_allowed_goods"  # 33041000 is no longer listed


@pytest.mark.parametrize(("user", "status"), [("op_b", 403), ("merchant_a1", 403), (None, 401)])
def test_only_the_bases_operator_imports(shop: BondedShop, user: str | None, status: int) -> None:
    r = shop.client.post(
        f"/api/v1/bases/{shop.world.base_a}/positive-list",
        json={"csv": GOOD},
        headers=shop.auth(user) if user else {},
    )
    assert r.status_code == status


def test_the_cli_imports_a_file_and_reports_bad_lines(
    cli_env: dict[str, str],  # noqa: F811 - the fixture imported from tests.test_cli
    tmp_path: Path,
) -> None:
    base = last_line(run(cli_env, "bases", "create", "--name", "保税基地", "--district", "天竺"))
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    out = run(cli_env, "bonded", "import-list", str(good), "--base", base)
    assert "added 2" in out.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("hs_code,name\n1234,短\n33049900,好\n", encoding="utf-8")
    proc = run(cli_env, "bonded", "import-list", str(bad), ok=False)
    assert proc.returncode == 1
    assert "line 2:" in proc.stderr and "8 digits" in proc.stderr
