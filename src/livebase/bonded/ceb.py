"""The customs messages of cross-border retail import (海关跨境电子商务进口统一版):
CEB311 order, CEB411 payment, CEB511 waybill, CEB621 inventory list — compared by
customs (三单对碰) — built with the standard library's ElementTree and validated by parsing
them back (``parse`` and ``check_set``).

Each message is ``<ceb:CEBxxxMessage guid=… version=…>`` in the namespace
``http://www.chinaport.gov.cn/ceb``, its body, then ``<ceb:BaseTransfer>``. Amounts are
yuan with two decimals (the messages' own unit), made from integer fen without floats.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

NS = "http://www.chinaport.gov.cn/ceb"
VERSION = "1.0"
CURRENCY_CNY = "142"  # customs currency code of the renminbi
ID_TYPE_RESIDENT = "1"  # 身份证
TRADE_MODE = "1210"  # 保税跨境贸易电子商务
BEIJING = ZoneInfo("Asia/Shanghai")  # customs times are Beijing time, YYYYMMDDhhmmss
MAX_ORDER_NO = 60

ET.register_namespace("ceb", NS)


class MessageError(ValueError):
    """A message that does not parse or breaks one of the rules customs checks."""


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fen_of(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    return sign * (int(whole) * 100 + int((frac + "00")[:2]))


def ceb_time(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


@dataclass(frozen=True)
class Item:
    gnum: int
    item_no: str  # the SKU id
    name: str
    hs_code: str
    country: str  # ISO alpha-2 as sold; customs' 3-digit code is the broker's mapping
    qty: int
    price_fen: int
    total_fen: int


@dataclass(frozen=True)
class Declaration:
    """Everything the four messages say about one order."""

    order_no: str
    company_code: str
    company_name: str
    customs_code: str
    ems_no: str
    goods_fen: int
    freight_fen: int
    insurance_fen: int
    discount_fen: int
    tax_fen: int
    paid_fen: int
    buyer_reg_no: str  # the buyer's account id on the platform
    buyer_name: str
    buyer_id_number: str
    buyer_phone: str
    consignee: str
    consignee_phone: str
    consignee_address: str
    pay_code: str
    pay_name: str
    pay_transaction_id: str
    paid_at: datetime
    logistics_no: str
    items: list[Item] = field(default_factory=list)
    pickup_store_code: str | None = None  # 即买即提: the counter's customs code
    app_time: datetime = field(default_factory=lambda: datetime.now(BEIJING))


def _el(parent: ET.Element, tag: str, text: str | int | None = None) -> ET.Element:
    node = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        node.text = str(text)
    return node


def _root(kind: str, guid: str) -> ET.Element:
    return ET.Element(f"{{{NS}}}{kind}Message", {"guid": guid, "version": VERSION})


def _base_transfer(root: ET.Element, d: Declaration) -> None:
    bt = _el(root, "BaseTransfer")
    _el(bt, "copCode", d.company_code)
    _el(bt, "copName", d.company_name)
    _el(bt, "dxpMode", "DXP")
    _el(bt, "dxpId", f"DXPENT{d.company_code}")
    _el(bt, "note", "")


def _head_common(head: ET.Element, guid: str, d: Declaration) -> None:
    _el(head, "guid", guid)
    _el(head, "appType", "1")  # 1 new, 2 change, 3 delete
    _el(head, "appTime", ceb_time(d.app_time))
    _el(head, "appStatus", "2")  # 2 declared (1 is a draft kept at the enterprise)


def _xml(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode", xml_declaration=False)


def build_311(d: Declaration, guid: str) -> str:
    root = _root("CEB311", guid)
    order = _el(root, "Order")
    head = _el(order, "OrderHead")
    _head_common(head, guid, d)
    for tag, value in (
        ("orderType", "I"),
        ("orderNo", d.order_no),
        ("ebpCode", d.company_code),
        ("ebpName", d.company_name),
        ("ebcCode", d.company_code),
        ("ebcName", d.company_name),
        ("goodsValue", yuan(d.goods_fen)),
        ("freight", yuan(d.freight_fen)),
        ("discount", yuan(d.discount_fen)),
        ("taxTotal", yuan(d.tax_fen)),
        ("acturalPaid", yuan(d.paid_fen)),
        ("currency", CURRENCY_CNY),
        ("buyerRegNo", d.buyer_reg_no),
        ("buyerName", d.buyer_name),
        ("buyerTelephone", d.buyer_phone),
        ("buyerIdType", ID_TYPE_RESIDENT),
        ("buyerIdNumber", d.buyer_id_number),
        ("payCode", d.pay_code),
        ("payName", d.pay_name),
        ("payTransactionId", d.pay_transaction_id),
        ("consignee", d.consignee),
        ("consigneeTelephone", d.consignee_phone),
        ("consigneeAddress", d.consignee_address),
    ):
        _el(head, tag, value)
    if d.pickup_store_code is not None:
        _el(head, "isBuyAndPut", "1")
        _el(head, "pickupStoreCode", d.pickup_store_code)
    _el(head, "note", "")
    for it in d.items:
        line = _el(order, "OrderList")
        _el(line, "gnum", it.gnum)
        _el(line, "itemNo", it.item_no)
        _el(line, "itemName", it.name)
        _el(line, "unit", "011")  # 件
        _el(line, "qty", it.qty)
        _el(line, "price", yuan(it.price_fen))
        _el(line, "totalPrice", yuan(it.total_fen))
        _el(line, "currency", CURRENCY_CNY)
        _el(line, "country", it.country)
    _base_transfer(root, d)
    return _xml(root)


def build_411(d: Declaration, guid: str) -> str:
    root = _root("CEB411", guid)
    payment = _el(root, "Payment")
    head = _el(payment, "PaymentHead")
    _head_common(head, guid, d)
    for tag, value in (
        ("payCode", d.pay_code),
        ("payName", d.pay_name),
        ("payTransactionId", d.pay_transaction_id),
        ("orderNo", d.order_no),
        ("ebpCode", d.company_code),
        ("ebpName", d.company_name),
        ("payerIdType", ID_TYPE_RESIDENT),
        ("payerIdNumber", d.buyer_id_number),
        ("payerName", d.buyer_name),
        ("telephone", d.buyer_phone),
        ("amountPaid", yuan(d.paid_fen)),
        ("currency", CURRENCY_CNY),
        ("payTime", ceb_time(d.paid_at)),
        ("note", ""),
    ):
        _el(head, tag, value)
    _base_transfer(root, d)
    return _xml(root)


def build_511(d: Declaration, guid: str) -> str:
    root = _root("CEB511", guid)
    logistics = _el(root, "Logistics")
    head = _el(logistics, "LogisticsHead")
    _head_common(head, guid, d)
    for tag, value in (
        ("logisticsCode", d.company_code),
        ("logisticsName", d.company_name),
        ("logisticsNo", d.logistics_no),
        ("orderNo", d.order_no),
        ("freight", yuan(d.freight_fen)),
        ("insuredFee", yuan(d.insurance_fen)),
        ("currency", CURRENCY_CNY),
        ("packNo", "1"),
        ("consignee", d.consignee),
        ("consigneeAddress", d.consignee_address),
        ("consigneeTelephone", d.consignee_phone),
        ("note", ""),
    ):
        _el(head, tag, value)
    _base_transfer(root, d)
    return _xml(root)


def build_621(d: Declaration, guid: str) -> str:
    root = _root("CEB621", guid)
    inventory = _el(root, "Inventory")
    head = _el(inventory, "InventoryHead")
    _head_common(head, guid, d)
    for tag, value in (
        ("orderNo", d.order_no),
        ("ebpCode", d.company_code),
        ("ebpName", d.company_name),
        ("ebcCode", d.company_code),
        ("ebcName", d.company_name),
        ("logisticsNo", d.logistics_no),
        ("copNo", d.order_no),
        ("ieFlag", "I"),
        ("customsCode", d.customs_code),
        ("portCode", d.customs_code),
        ("emsNo", d.ems_no),
        ("buyerIdType", ID_TYPE_RESIDENT),
        ("buyerIdNumber", d.buyer_id_number),
        ("buyerName", d.buyer_name),
        ("buyerTelephone", d.buyer_phone),
        ("consigneeAddress", d.consignee_address),
        ("agentCode", d.company_code),
        ("agentName", d.company_name),
        ("tradeMode", TRADE_MODE),
        ("freight", yuan(d.freight_fen)),
        ("insuredFee", yuan(d.insurance_fen)),
        ("currency", CURRENCY_CNY),
        ("packNo", "1"),
        ("note", ""),
    ):
        _el(head, tag, value)
    for it in d.items:
        line = _el(inventory, "InventoryList")
        _el(line, "gnum", it.gnum)
        _el(line, "itemNo", it.item_no)
        _el(line, "itemName", it.name)
        _el(line, "gcode", it.hs_code)
        _el(line, "country", it.country)
        _el(line, "currency", CURRENCY_CNY)
        _el(line, "qty", it.qty)
        _el(line, "unit", "011")
        _el(line, "totalPrice", yuan(it.total_fen))
    _base_transfer(root, d)
    return _xml(root)


BUILDERS = {"CEB311": build_311, "CEB411": build_411, "CEB511": build_511, "CEB621": build_621}
HEADS = {
    "CEB311": "Order/OrderHead",
    "CEB411": "Payment/PaymentHead",
    "CEB511": "Logistics/LogisticsHead",
    "CEB621": "Inventory/InventoryHead",
}
LISTS = {"CEB311": "Order/OrderList", "CEB621": "Inventory/InventoryList"}


@dataclass(frozen=True)
class Parsed:
    kind: str
    guid: str
    version: str
    head: dict[str, str]
    lines: list[dict[str, str]]
    transfer: dict[str, str]


def _q(path: str) -> str:
    return "/".join(f"{{{NS}}}{p}" for p in path.split("/"))


def parse(xml: str) -> Parsed:
    """Parse a message back and check its frame: the namespace, the root's guid and
    version, the body before ``BaseTransfer`` (the last child)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise MessageError(f"not XML: {exc}") from None
    if not root.tag.startswith(f"{{{NS}}}") or not root.tag.endswith("Message"):
        raise MessageError(f"root {root.tag} is not a CEB message in {NS}")
    kind = root.tag[len(NS) + 2 : -len("Message")]
    if kind not in HEADS:
        raise MessageError(f"unknown message {kind}")
    guid, version = root.get("guid"), root.get("version")
    if not guid or not version:
        raise MessageError("the root lacks guid or version")
    children = list(root)
    if len(children) != 2 or children[-1].tag != _q("BaseTransfer"):
        raise MessageError("the body must be followed by BaseTransfer, and nothing else")
    head_el = root.find(_q(HEADS[kind]))
    if head_el is None:
        raise MessageError(f"{kind} has no {HEADS[kind]}")
    head = {c.tag.split("}")[1]: c.text or "" for c in head_el}
    lines = [
        {c.tag.split("}")[1]: c.text or "" for c in el}
        for el in (root.findall(_q(LISTS[kind])) if kind in LISTS else [])
    ]
    transfer = {c.tag.split("}")[1]: c.text or "" for c in children[-1]}
    if head.get("guid") != guid:
        raise MessageError("the head's guid is not the message's")
    return Parsed(kind, guid, version, head, lines, transfer)


def check_set(messages: dict[str, str]) -> dict[str, Parsed]:
    """Parse the four messages and check what customs compares (三单对碰)."""
    p = {kind: parse(xml) for kind, xml in messages.items()}
    if set(p) != set(BUILDERS):
        raise MessageError(f"a declaration is {sorted(BUILDERS)}; got {sorted(p)}")
    o, pay, w, inv = (p[k].head for k in ("CEB311", "CEB411", "CEB511", "CEB621"))
    order_no = o["orderNo"]
    if not 0 < len(order_no) <= MAX_ORDER_NO:
        raise MessageError(f"orderNo is 1–{MAX_ORDER_NO} characters")
    for name, head in (("CEB411", pay), ("CEB511", w), ("CEB621", inv)):
        if head["orderNo"] != order_no:
            raise MessageError(f"{name} names another orderNo")
    paid = fen_of(o["acturalPaid"])
    expected = (
        fen_of(o["goodsValue"])
        + fen_of(o["freight"])
        + fen_of(o["taxTotal"])
        - fen_of(o["discount"])
    )
    if paid != expected:
        raise MessageError("acturalPaid ≠ goodsValue + freight + taxTotal − discount")
    if fen_of(pay["amountPaid"]) != paid:
        raise MessageError("the payment's amountPaid ≠ the order's acturalPaid")
    if sum(fen_of(ln["totalPrice"]) for ln in p["CEB311"].lines) != fen_of(o["goodsValue"]):
        raise MessageError("the order lines do not add up to goodsValue")
    for head, name in ((o, "CEB311"), (pay, "CEB411"), (w, "CEB511"), (inv, "CEB621")):
        if head["currency"] != CURRENCY_CNY:
            raise MessageError(f"{name}'s currency is not {CURRENCY_CNY}")
    if o["buyerIdType"] != ID_TYPE_RESIDENT or pay["payerIdType"] != ID_TYPE_RESIDENT:
        raise MessageError("buyerIdType and payerIdType are 1 (resident ID)")
    if (pay["payerIdNumber"], pay["payerName"]) != (o["buyerIdNumber"], o["buyerName"]):
        raise MessageError("the payer is not the buyer")
    if (inv["buyerIdNumber"], inv["buyerName"]) != (o["buyerIdNumber"], o["buyerName"]):
        raise MessageError("the inventory's buyer is not the order's")
    for f in ("consignee", "consigneeTelephone", "consigneeAddress"):
        if o[f] != w[f]:
            raise MessageError(f"{f} differs between the order and the waybill")
    if w["logisticsNo"] != inv["logisticsNo"]:
        raise MessageError("the inventory names another waybill")
    if o.get("isBuyAndPut") == "1" and not o.get("pickupStoreCode"):
        raise MessageError("isBuyAndPut needs the pickup store's code")
    return p


def new_guid() -> str:
    return str(uuid.uuid4()).upper()


def build_set(d: Declaration) -> dict[str, tuple[str, str]]:
    """kind → (guid, xml) for the four messages, checked by parsing them back."""
    out = {}
    for kind, build in BUILDERS.items():
        guid = new_guid()
        out[kind] = (guid, build(d, guid))
    check_set({k: xml for k, (_g, xml) in out.items()})
    return out
