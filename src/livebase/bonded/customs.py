"""The ``bonded.CustomsSubmitter`` seam (DESIGN §3): send CEB messages, receive receipts.

- ``SandboxCustoms``: customs inside livebase. Each message submitted schedules its
  receipts as timed jobs (``bonded.sandbox_receipt``), after a delay, following the order
  number's script (``SandboxScript``: rejections, manual review, detention…) or, without
  one, accepting and releasing. Tests and the demo control the script and the clock.
- ``ChinaportSubmitter``: the shape of the real exchange with the 单一窗口 / 中国电子口岸
  (DXP): each message is signed by the enterprise's customs key device (an IC card or
  UKey read through the 电子口岸 client) and dropped into the transfer client's outbox
  directory; receipts are files in its inbox, read by the recurring job
  ``bonded.poll_receipts``. Without a key device ``sign`` refuses: see docs/bonded.md.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from livebase.bonded.ceb import NS
from livebase.bonded.models import SandboxScript
from livebase.db import utcnow
from livebase.jobs.service import do_schedule
from livebase.settings import Settings

RECEIPT_OF = {"CEB311": "CEB312", "CEB411": "CEB412", "CEB511": "CEB512", "CEB621": "CEB622"}
SANDBOX_RECEIPT_JOB = "bonded.sandbox_receipt"


@dataclass(frozen=True)
class Receipt:
    kind: str  # CEB312 | CEB412 | CEB512 | CEB622
    order_no: str
    status: int  # returnStatus
    info: str  # returnInfo
    key: str  # the receipt's own id: one receipt is taken once


class SubmitError(RuntimeError):
    """The message could not be handed over (retried by the outbox job)."""


class CustomsSubmitter(Protocol):
    name: str

    def submit(self, db: Session, kind: str, guid: str, order_no: str, xml: str) -> None: ...

    def poll(self) -> list[Receipt]: ...


# --- the sandbox -------------------------------------------------------------------------

DEFAULT_STEPS: dict[str, list[tuple[int, str]]] = {
    "CEB312": [(2, "已入库 in e-port"), (120, "订单入库成功")],
    "CEB412": [(120, "支付单入库成功")],
    "CEB512": [(120, "运单入库成功")],
    "CEB622": [(120, "清单新增申报成功"), (800, "放行")],
}


class SandboxCustoms:
    name = "sandbox"

    def __init__(self, delay_seconds: float) -> None:
        self.delay = delay_seconds

    def submit(self, db: Session, kind: str, guid: str, order_no: str, xml: str) -> None:
        receipt_kind = RECEIPT_OF[kind]
        script = db.get(SandboxScript, order_no)
        steps = [
            (int(s["status"]), str(s.get("info", "")), float(s.get("after", self.delay)))
            for s in (script.steps if script else [])
            if s.get("kind") == receipt_kind
        ] or [(st, info, self.delay) for st, info in DEFAULT_STEPS[receipt_kind]]
        due = utcnow()
        for n, (status, info, after) in enumerate(steps):
            due = due + timedelta(seconds=after)
            do_schedule(
                db,
                SANDBOX_RECEIPT_JOB,
                due,
                {
                    "kind": receipt_kind,
                    "order_no": order_no,
                    "status": status,
                    "info": info,
                    "key": f"sbx:{guid}:{n}",
                },
            )

    def poll(self) -> list[Receipt]:
        return []  # the sandbox delivers its receipts as jobs


def do_set_script(db: Session, order_no: str, steps: list[dict[str, object]]) -> None:
    """The sandbox's plan for an order number (tests, the demo)."""
    row = db.get(SandboxScript, order_no)
    if row is None:
        db.add(SandboxScript(order_no=order_no, steps=steps))
    else:
        row.steps = steps
    db.flush()


# --- the real exchange's shape -------------------------------------------------------------


class Signer(Protocol):
    def sign(self, xml: str) -> str: ...


class NoKeyDevice:
    """Signing a CEB message needs the enterprise's customs key device (海关 IC 卡/UKey)
    and the 电子口岸 signing client on the machine; neither is software we can ship."""

    def sign(self, xml: str) -> str:
        raise SubmitError(
            "No customs key device: CEB messages must be signed with the enterprise's "
            "IC card or UKey through the 电子口岸 client (see docs/bonded.md)."
        )


class ChinaportSubmitter:
    name = "chinaport"

    def __init__(self, outbox: Path, inbox: Path, signer: Signer) -> None:
        self.outbox, self.inbox, self.signer = outbox, inbox, signer

    def submit(self, db: Session, kind: str, guid: str, order_no: str, xml: str) -> None:
        signed = self.signer.sign(xml)
        self.outbox.mkdir(parents=True, exist_ok=True)
        tmp = self.outbox / f".{guid}.xml"
        tmp.write_text(signed, encoding="utf-8")
        tmp.rename(self.outbox / f"{kind}_{guid}.xml")  # the client picks up whole files

    def poll(self) -> list[Receipt]:
        out = []
        for path in sorted(self.inbox.glob("CEB*.xml")) if self.inbox.exists() else []:
            out.append(parse_receipt(path.read_text(encoding="utf-8"), key=path.name))
        return out


def parse_receipt(xml: str, *, key: str) -> Receipt:
    root = ET.fromstring(xml)
    kind = root.tag.split("}")[1].removesuffix("Message")
    ret = next(iter(root), None)
    if ret is None:
        raise ValueError("an empty receipt")

    def text(tag: str) -> str:
        el = ret.find(f"{{{NS}}}{tag}")
        return (el.text or "") if el is not None else ""

    return Receipt(kind, text("orderNo"), int(text("returnStatus")), text("returnInfo"), key)


def build_submitter(settings: Settings) -> CustomsSubmitter:
    if settings.bonded_customs == "chinaport":
        base = settings.data_dir / "chinaport"
        return ChinaportSubmitter(base / "outbox", base / "inbox", NoKeyDevice())
    return SandboxCustoms(settings.bonded_sandbox_delay_seconds)
