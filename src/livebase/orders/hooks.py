"""Hooks another feature gives the orders service, called inside the order's transaction
(cross-border orders: the bonded feature checks and prices them at checkout, reserves the
buyer's yearly quota when they are paid, gives it back when they are cancelled or a
refund of the shipped goods is approved).

They are synchronous on purpose: unlike events (published after commit) a hook can refuse
(raise an ``ApiError``) and its writes commit or roll back with the order's. A feature
installs its hooks on the runtime's sessions (``install``), as payments installs its
providers; a session without hooks (no such feature) runs none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from livebase.accounts.actors import Actor
from livebase.accounts.service import Principal

_INFO_KEY = "livebase.orders.hooks"


@dataclass(frozen=True)
class Payer:
    """Who paid, as the payment provider says (the real-name payer of the wallet)."""

    name: str
    id_hash: str | None = None  # the keyed hash of the payer's ID number


class OrderHooks(Protocol):
    def on_checkout(
        self, db: Session, buyer: Principal, order: Any, identity_id: str | None
    ) -> None: ...

    def on_paid(self, db: Session, actor: Actor, order: Any, payer: Payer | None) -> None: ...

    def on_cancelled(self, db: Session, actor: Actor, order: Any) -> None: ...

    def on_refund_approved(self, db: Session, actor: Actor, order: Any) -> None:
        """The merchant approved a refund of a shipped order: give back what the feature
        holds for it (cross-border: the buyer's quota; the goods return to the zone)."""
        ...

    def payer_of(self, db: Session, order: Any, identity_id: str | None) -> Payer | None: ...

    def ship_states(self, db: Session, order: Any) -> tuple[str, ...] | None:
        """The states this order ships from when the feature owns it (a bonded delivery
        order ships once customs released it; a pickup order never ships), or None."""
        ...

    def buy_page(self, db: Session, show_id: str, sku_id: str) -> str | None:
        """Another buy sheet for this SKU (imported goods ask for an identity), or None."""
        ...

    def page_of(self, db: Session, order: Any) -> str | None:
        """The feature's own page of this order (a bonded order's customs and pickup
        page), in every state, or None when the feature does not own the order."""
        ...


def install(sessions: sessionmaker[Session], hooks: OrderHooks) -> None:
    info: dict[Any, Any] = dict(sessions.kw.get("info") or {})
    info[_INFO_KEY] = (*info.get(_INFO_KEY, ()), hooks)
    sessions.configure(info=info)


def hooks_of(db: Session) -> tuple[OrderHooks, ...]:
    return tuple(db.info.get(_INFO_KEY, ()))
