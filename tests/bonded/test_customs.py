"""Customs: the four messages parsed back with what customs compares; every receipt status
of the issue moves the order as it should; a repeated receipt is taken once; the real
submitter refuses to send unsigned."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from livebase.bonded import ceb
from livebase.bonded.customs import (
    ChinaportSubmitter,
    NoKeyDevice,
    Receipt,
    SubmitError,
    do_set_script,
    parse_receipt,
)
from livebase.bonded.models import CustomsMessage
from livebase.bonded.states import do_take_receipt
from tests.bonded.helpers import ID_BUYER, BondedShop


def declaration(**over: object) -> ceb.Declaration:
    values: dict[str, object] = dict(
        order_no="ord_01JTEST",
        company_code="1101960000",
        company_name="基地",
        customs_code="0101",
        ems_no="T0101W000001",
        goods_fen=40_000,
        freight_fen=1_000,
        insurance_fen=0,
        discount_fen=2_000,
        tax_fen=3_549,
        paid_fen=42_549,
        buyer_reg_no="usr_1",
        buyer_name="张三",
        buyer_id_number=ID_BUYER,
        buyer_phone="13800000001",
        consignee="张三",
        consignee_phone="13800000001",
        consignee_address="一号柜台",
        pay_code="sandbox",
        pay_name="sandbox",
        pay_transaction_id="sbx_1",
        paid_at=datetime(2026, 12, 2, tzinfo=UTC),
        logistics_no="LB1",
        items=[ceb.Item(1, "sku_1", "精华", "33049900", "JP", 2, 20_000, 40_000)],
        pickup_store_code="0101",
    )
    values.update(over)
    return ceb.Declaration(**values)  # type: ignore[arg-type]


def test_each_message_parses_back_in_its_namespace_with_guid_version_body_then_basetransfer() -> (
    None
):
    built = ceb.build_set(declaration())
    for kind, (guid, xml) in built.items():
        p = ceb.parse(xml)
        assert p.kind == kind and p.guid == guid and p.version == "1.0"
        assert f'xmlns:ceb="{ceb.NS}"' in xml and xml.startswith(f"<ceb:{kind}Message")
        assert p.transfer["copCode"] == "1101960000"
    o = ceb.parse(built["CEB311"][1]).head
    pay = ceb.parse(built["CEB411"][1]).head
    way = ceb.parse(built["CEB511"][1]).head
    assert ceb.fen_of(o["acturalPaid"]) == 40_000 + 1_000 + 3_549 - 2_000
    assert o["acturalPaid"] == pay["amountPaid"] == "425.49"
    assert o["currency"] == pay["currency"] == "142" and o["buyerIdType"] == "1"
    assert (o["consignee"], o["consigneeTelephone"], o["consigneeAddress"]) == (
        way["consignee"],
        way["consigneeTelephone"],
        way["consigneeAddress"],
    )
    assert o["isBuyAndPut"] == "1" and o["pickupStoreCode"] == "0101"
    assert ceb.parse(built["CEB621"][1]).lines[0]["gcode"] == "33049900"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"paid_fen": 42_548}, "acturalPaid"),
        ({"order_no": "x" * 61}, "orderNo"),
        ({"pickup_store_code": ""}, "isBuyAndPut"),
    ],
)
def test_a_set_breaking_a_rule_is_refused(over: dict[str, object], message: str) -> None:
    with pytest.raises(ceb.MessageError, match=message):
        ceb.build_set(declaration(**over))


def test_a_waybill_with_another_consignee_or_a_payment_of_another_amount_is_caught() -> None:
    d = declaration()
    msgs = {k: xml for k, (_g, xml) in ceb.build_set(d).items()}
    other = ceb.build_511(declaration(consignee="李四"), ceb.new_guid())
    with pytest.raises(ceb.MessageError, match="consignee"):
        ceb.check_set({**msgs, "CEB511": other})
    pay = ceb.build_411(declaration(paid_fen=1), ceb.new_guid())
    with pytest.raises(ceb.MessageError, match="amountPaid"):
        ceb.check_set({**msgs, "CEB411": pay})
    with pytest.raises(ceb.MessageError):
        ceb.parse("<not-xml")


def _declared(shop: BondedShop, steps: list[dict[str, object]] | None = None) -> str:
    order = shop.order()
    with shop.rt.sessions() as db, db.begin():
        do_set_script(db, order["id"], steps or [{"kind": "CEB622", "status": 2, "info": "e-port"}])
    assert shop.pay(order["id"]) == 204
    shop.run_jobs()
    return str(order["id"])


def _receipt(shop: BondedShop, order_id: str, kind: str, status: int, info: str = "") -> str:
    with shop.rt.sessions() as db, db.begin():
        return do_take_receipt(
            db, Receipt(kind, order_id, status, info, f"t:{kind}:{status}:{info}")
        )


@pytest.mark.parametrize("kind", ["CEB312", "CEB412", "CEB512", "CEB622"])
def test_2_3_and_120_are_noted_and_accepted_100_rejects_with_the_reason(
    shop: BondedShop, kind: str
) -> None:
    oid = _declared(shop)
    assert shop.status(oid) == "declared"
    assert _receipt(shop, oid, kind, 2) == "noted"
    assert _receipt(shop, oid, kind, 3) == "noted"
    assert _receipt(shop, oid, kind, 120) == "accepted"
    assert shop.status(oid) == "declared"
    assert _receipt(shop, oid, kind, 100, "订购人身份信息不符") == "rejected"
    assert shop.status(oid) == "rejected"
    assert "订购人身份信息不符" in shop.detail(oid)["customs_reason"]


def test_a_negative_status_resends_the_message(shop: BondedShop) -> None:
    oid = _declared(shop)
    assert _receipt(shop, oid, "CEB412", -301010, "报文格式错误") == "resend"
    shop.run_jobs()
    with shop.rt.sessions() as db:
        kinds = [
            m.kind for m in db.scalars(select(CustomsMessage).where(CustomsMessage.order_id == oid))
        ]
    assert kinds.count("CEB411") == 2
    assert shop.status(oid) == "declared"


def test_manual_review_300_then_399_decided_then_800_released(shop: BondedShop) -> None:
    oid = _declared(shop)
    assert _receipt(shop, oid, "CEB622", 300, "人工审核") == "under_review"
    assert shop.status(oid) == "under_review"
    assert _receipt(shop, oid, "CEB622", 399, "审核通过") == "decided"
    assert shop.status(oid) == "declared"
    assert _receipt(shop, oid, "CEB622", 800, "放行") == "ready_for_pickup"
    assert shop.detail(oid)["pickup_code"] is not None


def test_inspection_500_is_review_and_501_to_599_detain(shop: BondedShop) -> None:
    oid = _declared(shop)
    assert _receipt(shop, oid, "CEB622", 500, "查验") == "inspection"
    assert shop.status(oid) == "under_review"
    assert _receipt(shop, oid, "CEB622", 599, "扣留") == "detained"
    assert shop.status(oid) == "detained"
    assert shop.detail(oid)["pickup_code"] is None  # goods leave only at 800
    oid2 = _declared(shop)
    assert _receipt(shop, oid2, "CEB622", 501, "扣留待处理") == "detained"


def test_899_closes_a_settled_order_and_a_repeated_receipt_is_taken_once(shop: BondedShop) -> None:
    oid = _declared(shop, [{"kind": "CEB622", "status": 800, "info": "放行"}])
    assert shop.status(oid) == "ready_for_pickup"
    code = shop.detail(oid)["pickup_code"]
    r = shop.client.post(
        "/api/v1/pickup/handovers",
        json={"code": code, "id_last4": "002X"},
        headers=shop.auth("clerk_a"),
    )
    assert r.status_code == 201
    shop.run_jobs()
    assert shop.status(oid) == "tax_settled"
    assert _receipt(shop, oid, "CEB622", 899, "结关") == "closed"
    assert shop.status(oid) == "closed"
    assert _receipt(shop, oid, "CEB622", 899, "结关") == "repeat"


def test_the_sandbox_script_rejects_and_an_operator_resends(shop: BondedShop) -> None:
    oid = _declared(shop, [{"kind": "CEB312", "status": 100, "info": "订单金额不符"}])
    assert shop.status(oid) == "rejected"
    with shop.rt.sessions() as db, db.begin():
        do_set_script(db, oid, [])
    r = shop.client.post(f"/api/v1/bonded/orders/{oid}/resend", headers=shop.auth("op_b"))
    assert r.status_code == 404
    r = shop.client.post(f"/api/v1/bonded/orders/{oid}/resend", headers=shop.auth("op_a"))
    assert r.status_code == 200, r.text
    shop.run_jobs()
    assert shop.status(oid) == "ready_for_pickup"


def test_the_real_submitter_will_not_send_without_a_key_device(tmp_path: Path) -> None:
    sub = ChinaportSubmitter(tmp_path / "out", tmp_path / "in", NoKeyDevice())
    with pytest.raises(SubmitError, match="key device"):
        sub.submit(None, "CEB311", "G", "ord_1", "<x/>")  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()

    class FakeCard:  # a signer stands in only for the hardware; the file exchange is real
        def sign(self, xml: str) -> str:
            return xml.replace("</ceb:CEB311Message>", "<ds:Signature/></ceb:CEB311Message>")

    sub = ChinaportSubmitter(tmp_path / "out", tmp_path / "in", FakeCard())
    guid, xml = ceb.build_set(declaration())["CEB311"]
    sub.submit(None, "CEB311", guid, "ord_01JTEST", xml)  # type: ignore[arg-type]
    assert (tmp_path / "out" / f"CEB311_{guid}.xml").read_text(encoding="utf-8").count("Signature")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "CEB312_1.xml").write_text(
        f'<ceb:CEB312Message xmlns:ceb="{ceb.NS}" guid="g" version="1.0"><ceb:OrderReturn>'
        "<ceb:orderNo>ord_01JTEST</ceb:orderNo><ceb:returnStatus>120</ceb:returnStatus>"
        "<ceb:returnInfo>入库成功</ceb:returnInfo></ceb:OrderReturn></ceb:CEB312Message>",
        encoding="utf-8",
    )
    assert sub.poll() == [Receipt("CEB312", "ord_01JTEST", 120, "入库成功", "CEB312_1.xml")]
    assert parse_receipt((tmp_path / "in" / "CEB312_1.xml").read_text(), key="k").status == 120
