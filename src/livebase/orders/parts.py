"""What orders add to the runtime: its order rules (from settings), bound to every session
so job handlers read them (``service.rules_of``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from livebase.orders.service import OrderRules, bind_rules
from livebase.runtime import Part, Runtime


def _build(rt: Runtime) -> OrderRules:
    rules = OrderRules(
        complete_after=timedelta(days=rt.settings.auto_complete_days),
        after_sale=timedelta(days=rt.settings.after_sale_days),
    )
    info: dict[Any, Any] = dict(rt.sessions.kw.get("info") or {})
    bind_rules(info, rules)
    rt.sessions.configure(info=info)
    return rules


ORDER_RULES: Part[OrderRules] = Part("orders.rules", _build)
