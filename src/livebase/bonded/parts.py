"""What the bonded feature adds to the runtime: the identity vault, the customs submitter
and the order hooks (orders/hooks.py), put on the runtime's sessions so that requests,
job handlers and the CLI find the same ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.orm import Session

from livebase.bonded.customs import CustomsSubmitter, build_submitter
from livebase.bonded.vault import IdVault
from livebase.orders import hooks
from livebase.runtime import Part, Runtime
from livebase.settings import Settings

_INFO_KEY = "livebase.bonded"


@dataclass
class Bonded:
    settings: Settings
    vault: IdVault
    submitter: CustomsSubmitter


def build_bonded(settings: Settings) -> Bonded:
    vault = IdVault.from_settings(
        settings.bonded_id_keys, settings.bonded_hash_key, settings.secret_key
    )
    return Bonded(settings, vault, build_submitter(settings))


def _build(rt: Runtime) -> Bonded:
    from livebase.bonded.orders import BondedOrderHooks

    bonded = build_bonded(rt.settings)
    info: dict[Any, Any] = dict(rt.sessions.kw.get("info") or {})
    info[_INFO_KEY] = bonded
    rt.sessions.configure(info=info)
    hooks.install(rt.sessions, BondedOrderHooks())
    return bonded


BONDED: Part[Bonded] = Part("bonded", _build)


def bonded_of(db: Session) -> Bonded:
    try:
        return cast(Bonded, db.info[_INFO_KEY])
    except KeyError:
        raise LookupError("this session's runtime has no bonded part installed") from None
