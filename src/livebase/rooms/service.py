"""The room's domain logic (no HTTP, no sockets): what a snapshot holds, who may run a
room, mutes, bans, slow mode, the pinned notice, held chat lines and post-show figures.

Who runs a room (``check_run_room``): the show's host, its organisation's staff
(merchant or agency) and assistants (场控), the moderators of the show's base, admins.
Shows are public, so anyone else is refused with 403 rather than 404.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal, get_user
from livebase.audit.service import do_record
from livebase.bases import service as bases
from livebase.compliance import Verdict
from livebase.compliance import service as moderation
from livebase.db import utcnow
from livebase.errors import Conflict, Forbidden, NotFound, ValidationFailed
from livebase.orders import coupons as coupon_service
from livebase.orders import flash as flash_service
from livebase.paging import keyset
from livebase.rooms import events
from livebase.rooms.counters import Figures
from livebase.rooms.frames import notify
from livebase.rooms.models import HeldLine, RoomFigures, RoomSanction, RoomSettings
from livebase.schemas import rfc3339
from livebase.shows import service as shows
from livebase.shows.models import Show

# A mute lasts 10 minutes unless the host says otherwise, at most a day.
DEFAULT_MUTE_MINUTES = 10
MAX_MUTE_MINUTES = 24 * 60
MAX_SLOW_MODE_SECONDS = 300
MAX_NOTICE = 200


def _ms(at: datetime | None) -> int | None:
    return int(at.timestamp() * 1000) if at is not None else None


# --- who may do what ------------------------------------------------------------------


def is_room_staff(principal: Principal, show: Show) -> bool:
    return (
        shows.can_manage(principal, show)
        or show.org_id in principal.org_ids("assistant")
        or principal.has("moderator", base_id=show.base_id)
    )


def role_in_room(principal: Principal | None, show: Show) -> str:
    """What the room shows beside a user's lines: host, assistant, moderator, viewer."""
    if principal is None:
        return "anonymous"
    if principal.id == show.host_id:
        return "host"
    if shows.can_manage(principal, show) or show.org_id in principal.org_ids("assistant"):
        return "assistant"
    if principal.has("moderator", base_id=show.base_id):
        return "moderator"
    return "viewer"


def check_run_room(db: Session, principal: Principal, show_id: str) -> Show:
    show = shows.get_show(db, show_id)
    if not is_room_staff(principal, show):
        raise Forbidden(
            "Only the show's host, its organisation's staff and assistants, and "
            "the base's moderators run its room."
        )
    return show


# --- the snapshot ---------------------------------------------------------------------


@dataclass(frozen=True)
class RoomInfo:
    """What the socket needs to know of a show before it lets anyone in."""

    show_id: str
    base_id: str
    org_id: str
    host_id: str
    status: str


def room_info(db: Session, show_id: str) -> RoomInfo | None:
    show = db.get(Show, show_id)
    if show is None:
        return None
    return RoomInfo(show.id, show.base_id, show.org_id, show.host_id, show.status)


def _sale_d(s: Any) -> dict[str, Any]:
    return {
        "id": s.id,
        "sku_id": s.sku_id,
        "status": s.status,
        "price_fen": s.price_fen,
        "quantity": s.quantity,
        "remaining": s.remaining,
        "per_buyer_limit": s.per_buyer_limit,
        "starts_at": rfc3339(s.starts_at),
        "ends_at": rfc3339(s.ends_at),
    }


def read_room(db: Session, show_id: str) -> dict[str, Any]:
    """The database part of a snapshot: show, explaining, shelf with live stock, open and
    upcoming sales, claimable coupons, the pinned notice and slow mode."""
    show = shows.get_show(db, show_id)
    settings = db.get(RoomSettings, show_id)
    shelf = [asdict(line) for line in shows.shelf_lines(db, show)]
    coupons = coupon_service.coupons_of_show(db, show_id)
    notice = None
    if settings is not None and settings.notice:
        notice = {"text": settings.notice, "at": _ms(settings.notice_at)}
    return {
        "show": {
            "id": show.id,
            "public_id": show.public_id,
            "title": show.title,
            "status": show.status,
            "host_id": show.host_id,
            "org_id": show.org_id,
            "started_at": rfc3339(show.started_at),
            "ended_at": rfc3339(show.ended_at),
        },
        "explaining": {"no": show.explaining_no},
        "shelf": shelf,
        "sales": [_sale_d(s) for s in flash_service.sales_of_show(db, show_id)],
        "coupons": [coupon_service.coupon_view(c) for c in coupons],
        "notice": notice,
        "slow_mode": {"seconds": settings.slow_mode_seconds if settings else 0},
    }


def shelf_link(db: Session, show_id: str, sku_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Shelf lines of ``sku_ids`` as the snapshot has them (a ``price`` frame's items)."""
    show = shows.get_show(db, show_id)
    return {
        line.sku_id: asdict(line) for line in shows.shelf_lines(db, show) if line.sku_id in sku_ids
    }


# --- sanctions, slow mode, notice ------------------------------------------------------


@dataclass(frozen=True)
class Sanction:
    user_id: str
    kind: str
    until: datetime | None

    def view(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "kind": self.kind, "until": rfc3339(self.until)}


def sanctions_of(db: Session, show_id: str) -> list[Sanction]:
    now = utcnow()
    rows = db.scalars(select(RoomSanction).where(RoomSanction.show_id == show_id))
    return [Sanction(r.user_id, r.kind, r.until) for r in rows if r.until is None or r.until > now]


def do_sanction(
    db: Session, actor: Actor, show: Show, user_id: str, kind: str, minutes: int | None
) -> Sanction:
    """Mute (``minutes``, default 10) or ban (for the show) a user in the show's room. The
    host, its staff and assistants cannot be sanctioned in their own room."""
    if kind not in ("mute", "ban"):
        raise ValidationFailed("kind is mute or ban.", loc="body.kind")
    user = get_user(db, user_id)
    if user is None:
        raise ValidationFailed(f"No user {user_id}.", loc="body.user_id")
    if user_id == show.host_id or _is_staff_user(db, user_id, show):
        raise Conflict("The show's own staff cannot be muted or banned in its room.")
    until = None
    if kind == "mute":
        m = DEFAULT_MUTE_MINUTES if minutes is None else minutes
        if not 1 <= m <= MAX_MUTE_MINUTES:
            raise ValidationFailed(f"minutes is 1–{MAX_MUTE_MINUTES}.", loc="body.minutes")
        until = utcnow() + timedelta(minutes=m)
    db.execute(
        delete(RoomSanction).where(
            RoomSanction.show_id == show.id,
            RoomSanction.user_id == user_id,
            RoomSanction.kind == kind,
        )
    )
    db.add(
        RoomSanction(
            show_id=show.id, user_id=user_id, kind=kind, until=until, created_by=actor_name(actor)
        )
    )
    db.flush()
    do_record(db, actor, kind, "user", user_id, show_id=show.id)
    notify(db, events.SanctionChanged(show_id=show.id, user_id=user_id, kind=kind, until=until))
    return Sanction(user_id, kind, until)


def _is_staff_user(db: Session, user_id: str, show: Show) -> bool:
    from livebase.accounts.service import grants_of

    for g in grants_of(db, user_id):
        if g.role == "admin" or (
            g.org_id == show.org_id and g.role in ("merchant", "agency", "assistant")
        ):
            return True
    return False


def do_lift(db: Session, actor: Actor, show: Show, user_id: str, kind: str) -> bool:
    result = db.execute(
        delete(RoomSanction).where(
            RoomSanction.show_id == show.id,
            RoomSanction.user_id == user_id,
            RoomSanction.kind == kind,
        )
    )
    lifted = getattr(result, "rowcount", 0) > 0
    if lifted:
        do_record(db, actor, f"un{kind}", "user", user_id, show_id=show.id)
        notify(
            db,
            events.SanctionChanged(
                show_id=show.id, user_id=user_id, kind=kind, until=None, lifted=True
            ),
        )
    return lifted


def _settings(db: Session, show: Show) -> RoomSettings:
    row = db.get(RoomSettings, show.id)
    if row is None:
        row = RoomSettings(show_id=show.id, slow_mode_seconds=0)
        db.add(row)
    row.updated_at = utcnow()
    return row


def do_slow_mode(db: Session, actor: Actor, show: Show, seconds: int) -> int:
    if not 0 <= seconds <= MAX_SLOW_MODE_SECONDS:
        raise ValidationFailed(f"seconds is 0–{MAX_SLOW_MODE_SECONDS}.", loc="body.seconds")
    if show.status == "ended":
        raise shows.ShowEnded("The show has ended.")
    _settings(db, show).slow_mode_seconds = seconds
    db.flush()
    notify(db, events.SlowModeSet(show_id=show.id, seconds=seconds))
    return seconds


def do_pin_notice(db: Session, actor: Actor, show: Show, text: str | None) -> dict[str, Any]:
    """Pin (or with None unpin) the room's notice; the room hears a critical ``notice``."""
    if show.status == "ended":
        raise shows.ShowEnded("The show has ended.")
    row = _settings(db, show)
    now = utcnow()
    row.notice = text.strip() if text else None
    row.notice_at = now if text else None
    db.flush()
    do_record(db, actor, "notice", "show", show.id)
    notify(db, events.NoticePinned(show_id=show.id, text=row.notice, at=now))
    return {"text": row.notice, "at": _ms(row.notice_at)}


# --- held lines -----------------------------------------------------------------------


def held_view(h: HeldLine) -> dict[str, Any]:
    return {
        "id": h.id,
        "show_id": h.show_id,
        "user_id": h.user_id,
        "name": h.name,
        "text": h.text,
        "labels": list(h.verdict.get("labels", [])),
        "status": h.status,
        "reason": h.reason,
        "created_at": rfc3339(h.created_at),
        "decided_at": rfc3339(h.decided_at),
    }


def do_hold_line(
    db: Session, show: RoomInfo, user_id: str, name: str, text: str, verdict: Verdict
) -> HeldLine:
    """Keep a line the check held and queue it for the base's moderators."""
    line = HeldLine(
        show_id=show.show_id, user_id=user_id, name=name, text=text, verdict=verdict.to_dict()
    )
    db.add(line)
    db.flush()
    item = moderation.do_submit_for_review(
        db,
        kind="chat",
        subject_type="chat",
        subject_id=line.id,
        text=text,
        verdict=verdict,
        base_id=show.base_id,
        show_id=show.show_id,
        author_id=user_id,
    )
    line.moderation_item_id = item.id
    db.flush()
    return line


def list_held(
    db: Session, show: Show, *, status: str, limit: int, cursor: str | None
) -> list[HeldLine]:
    q = select(HeldLine).where(HeldLine.show_id == show.id, HeldLine.status == status)
    return list(db.scalars(keyset(q, HeldLine.id, limit=limit, cursor=cursor, newest_first=True)))


def check_held(db: Session, show: Show, line_id: str) -> HeldLine:
    line = db.get(HeldLine, line_id)
    if line is None or line.show_id != show.id:
        raise NotFound(f"No held line {line_id}.")
    return line


def do_decide_held(
    db: Session, actor: Actor, line: HeldLine, *, approve: bool, reason: str | None
) -> HeldLine:
    """The room staff's decision, through the moderation queue's one transition (so a
    moderator deciding the same item at once gets 409)."""
    item = moderation.pending_item(db, "chat", line.id)
    if item is None:
        raise Conflict(f"The line is already {line.status}.")
    moderation.do_decide(db, actor, item, approve=approve, reason=reason)
    db.refresh(line)
    return line


def _resolve_chat(db: Session, line_id: str, approve: bool, reason: str | None) -> None:
    """The moderation queue's decision on a held line: approved lines reach the room."""
    line = db.get(HeldLine, line_id)
    if line is None or line.status != "pending":
        return
    line.status = "approved" if approve else "rejected"
    line.reason = reason
    line.decided_at = utcnow()
    if approve:
        notify(
            db,
            events.ChatReleased(
                show_id=line.show_id,
                lines=[
                    {
                        "id": line.id,
                        "user_id": line.user_id,
                        "name": line.name,
                        "text": line.text,
                        "ts": _ms(utcnow()),
                        "role": "viewer",
                        "released": True,
                    }
                ],
            ),
        )


moderation.register_resolver("chat", _resolve_chat)


# --- figures --------------------------------------------------------------------------


def figures_view(row: RoomFigures | None, show: Show) -> dict[str, Any]:
    base: dict[str, Any] = {
        "show_id": show.id,
        "peak_viewers": 0,
        "avg_viewers": 0.0,
        "watch_seconds": 0.0,
        "likes": 0,
        "chat_lines": 0,
        "held_lines": 0,
        "blocked_lines": 0,
        "timeline": [],
        "final": False,
    }
    if row is not None:
        for k in list(base):
            if k != "show_id":
                base[k] = getattr(row, k)
    return base


def do_store_figures(
    db: Session,
    show: Show,
    fig: Figures,
    *,
    final: bool,
    timeline: list[tuple[int, int]] | None = None,
) -> RoomFigures:
    """Write the room's figures onto the show's row of ``room_figures``; the average is
    the watch time over the time the show was live."""
    row = db.get(RoomFigures, show.id)
    if row is None:
        row = RoomFigures(show_id=show.id, timeline=[])
        db.add(row)
    live_for = 0.0
    if show.started_at is not None:
        live_for = ((show.ended_at or utcnow()) - show.started_at).total_seconds()
    row.peak_viewers = max(row.peak_viewers or 0, fig.peak_viewers)
    row.watch_seconds = fig.watch_seconds
    row.avg_viewers = round(fig.watch_seconds / live_for, 2) if live_for > 0 else 0.0
    row.likes = fig.likes
    row.chat_lines = fig.chat_lines
    row.held_lines = fig.held_lines
    row.blocked_lines = fig.blocked_lines
    row.final = final
    if timeline is not None:
        row.timeline = [[minute * 60, n] for minute, n in timeline]
    row.updated_at = utcnow()
    db.flush()
    return row


def figures_of(db: Session, show: Show) -> RoomFigures | None:
    return db.get(RoomFigures, show.id)


def check_see_figures(db: Session, principal: Principal, show_id: str) -> Show:
    """The post-show review is the room staff's and the base's operators'."""
    show = shows.get_show(db, show_id)
    if is_room_staff(principal, show) or principal.has("operator", base_id=show.base_id):
        return show
    if bases.is_org_member(principal, show.org_id):
        return show
    raise Forbidden("The post-show review is for the show's organisation and base staff.")
