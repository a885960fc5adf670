"""Shows: scheduling, ingest keys, the shelf of numbered links, explaining, start and end."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from livebase.accounts.service import Principal, grants_of
from livebase.bases import service as bases
from livebase.catalog.models import Product, Sku
from livebase.compliance import CheckContext, check
from livebase.compliance import service as moderation
from livebase.db import utcnow
from livebase.errors import ApiError, Forbidden, NotFound, ValidationFailed
from livebase.shows import events
from livebase.shows.models import ShelfItem, Show, ShowScript

# A shelf of 500 links is already more than any host can present in one show.
MAX_SHELF = 500


class ShowEnded(ApiError):
    status, code = 409, "show_ended"


def _public_id() -> str:
    return secrets.token_hex(8)


def _stream_key() -> str:
    return secrets.token_urlsafe(24)


def get_show(db: Session, show_id: str) -> Show:
    show = db.get(Show, show_id, options=[selectinload(Show.shelf)])
    if show is None:
        raise NotFound(f"No show {show_id}.")
    return show


def get_show_by_public_id(db: Session, public_id: str) -> Show | None:
    return db.scalar(select(Show).where(Show.public_id == public_id))


def can_manage(principal: Principal, show: Show) -> bool:
    return principal.id == show.host_id or bases.is_org_staff(principal, show.org_id)


def get_managed_show(db: Session, principal: Principal, show_id: str) -> Show:
    show = get_show(db, show_id)
    if not can_manage(principal, show):
        raise Forbidden("Only the show's host or its organisation's staff may manage it.")
    return show


def _is_host_of(db: Session, user_id: str, org_id: str) -> bool:
    return any(g.role == "host" and g.org_id == org_id for g in grants_of(db, user_id))


def do_create_show(
    db: Session,
    principal: Principal,
    org_id: str,
    title: str,
    scheduled_at: datetime,
    host_id: str | None = None,
) -> Show:
    org = bases.find_org(db, org_id)
    if org is None:
        raise ValidationFailed(f"No organisation {org_id}.", loc="body.org_id")
    host_id = host_id or principal.id
    if host_id == principal.id and not principal.is_admin:
        if not _is_host_of(db, principal.id, org_id):
            raise Forbidden("You are not a host of this organisation.")
    elif not bases.is_org_staff(principal, org_id):
        raise Forbidden("Only the organisation's staff schedule shows for its hosts.")
    if not _is_host_of(db, host_id, org_id):
        raise ValidationFailed("host_id is not a host of this organisation.", loc="body.host_id")
    show = Show(
        org_id=org_id,
        base_id=org.base_id,
        host_id=host_id,
        title=title.strip(),
        scheduled_at=scheduled_at,
        public_id=_public_id(),
        stream_key=_stream_key(),
    )
    db.add(show)
    db.flush()
    return show


def do_update_show(
    db: Session,
    principal: Principal,
    show_id: str,
    *,
    title: str | None,
    scheduled_at: datetime | None,
) -> Show:
    show = get_managed_show(db, principal, show_id)
    if show.status == "ended":
        raise ShowEnded("The show has ended.")
    if title is not None:
        show.title = title.strip()
    if scheduled_at is not None:
        show.scheduled_at = scheduled_at
    db.flush()
    return show


def do_set_cover(db: Session, principal: Principal, show_id: str, path: str) -> Show:
    show = get_managed_show(db, principal, show_id)
    show.cover_path = path
    db.flush()
    return show


def list_shows(
    db: Session,
    *,
    status: str | None,
    org_id: str | None = None,
    host_id: str | None = None,
    base_id: str | None = None,
    limit: int,
    cursor: str | None,
) -> list[Show]:
    q = select(Show)
    if status:
        q = q.where(Show.status == status)
    if org_id:
        q = q.where(Show.org_id == org_id)
    if host_id:
        q = q.where(Show.host_id == host_id)
    if base_id:
        q = q.where(Show.base_id == base_id)
    if cursor:
        q = q.where(Show.id < cursor)
    return list(db.scalars(q.order_by(Show.id.desc()).limit(limit + 1)))


def upcoming_and_live(db: Session, limit: int = 20) -> tuple[list[Show], list[Show]]:
    live = list(
        db.scalars(
            select(Show).where(Show.status == "live").order_by(Show.started_at.desc()).limit(limit)
        )
    )
    upcoming = list(
        db.scalars(
            select(Show).where(Show.status == "scheduled").order_by(Show.scheduled_at).limit(limit)
        )
    )
    return live, upcoming


def check_host(principal: Principal, show: Show) -> None:
    if principal.id != show.host_id and not principal.is_admin:
        raise Forbidden("Only the show's host sees its stream key.")


def do_rotate_key(db: Session, principal: Principal, show_id: str) -> Show:
    show = get_show(db, show_id)
    check_host(principal, show)
    show.stream_key = _stream_key()
    db.flush()
    return show


@dataclass
class ShelfSpec:
    sku_id: str
    live_price_fen: int | None


def do_set_shelf(db: Session, principal: Principal, show_id: str, items: list[ShelfSpec]) -> Show:
    """Replace the shelf; links are numbered 1, 2, ... in the order given."""
    show = get_managed_show(db, principal, show_id)
    if show.status == "ended":
        raise ShowEnded("The show has ended; its shelf is kept as it was.")
    if len(items) > MAX_SHELF:
        raise ValidationFailed(f"A shelf holds at most {MAX_SHELF} links.", loc="body.items")
    ids = [i.sku_id for i in items]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("A SKU appears twice on the shelf.", loc="body.items")
    rows = (
        db.execute(
            select(Sku.id, Product.org_id, Product.base_id, Product.status)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id.in_(ids))
        ).all()
        if ids
        else []
    )
    found = {r.id: r for r in rows}
    brand_show = bases.find_org(db, show.org_id)
    for n, item in enumerate(items):
        row = found.get(item.sku_id)
        if row is None or row.status != "active" or row.base_id != show.base_id:
            raise ValidationFailed(
                f"SKU {item.sku_id} is not an active product of this base.",
                loc=f"body.items.{n}.sku_id",
            )
        if brand_show is not None and brand_show.kind == "brand" and row.org_id != show.org_id:
            # 品牌自播: a brand's own show sells only the brand's goods.
            raise ValidationFailed(
                f"SKU {item.sku_id} belongs to another brand.", loc=f"body.items.{n}.sku_id"
            )
    # The item being explained keeps being explained under its new number (or stops when
    # it leaves the shelf): a reorder must not silently switch to another product.
    explained = next((i.sku_id for i in show.shelf if i.no == show.explaining_no), None)
    db.execute(delete(ShelfItem).where(ShelfItem.show_id == show.id))
    db.flush()
    for n, item in enumerate(items, start=1):
        db.add(
            ShelfItem(show_id=show.id, no=n, sku_id=item.sku_id, live_price_fen=item.live_price_fen)
        )
    show.explaining_no = next(
        (n for n, i in enumerate(items, start=1) if i.sku_id == explained), None
    )
    db.flush()
    db.expire(show, ["shelf"])
    events.notify_shelf(db, show, links=len(items))
    return show


def do_set_explaining(db: Session, principal: Principal, show_id: str, no: int | None) -> Show:
    show = get_managed_show(db, principal, show_id)
    if show.status == "ended":
        raise ShowEnded("The show has ended.")
    if no is not None and no not in {item.no for item in show.shelf}:
        raise ValidationFailed(f"There is no link {no} on the shelf.", loc="body.no")
    show.explaining_no = no
    db.flush()
    events.notify_explaining(db, show)
    return show


def do_start(db: Session, principal: Principal | None, show_id: str) -> Show:
    """Go live. ``principal`` is None when the media server's publish callback starts it."""
    show = get_managed_show(db, principal, show_id) if principal else get_show(db, show_id)
    if show.status == "ended":
        raise ShowEnded("The show has ended.")
    if show.status == "scheduled":
        show.status = "live"
        show.started_at = utcnow()
        events.notify_started(db, show)
    db.flush()
    return show


def do_end(db: Session, principal: Principal | None, show_id: str) -> Show:
    show = get_managed_show(db, principal, show_id) if principal else get_show(db, show_id)
    if show.status == "ended":
        raise ShowEnded("The show has already ended.")
    show.status = "ended"
    show.ended_at = utcnow()
    show.explaining_no = None
    db.flush()
    events.notify_ended(db, show)
    return show


def count_shows_held(db: Session, base_id: str, first_year: int, last_year: int) -> int:
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    return (
        db.scalar(
            select(func.count(Show.id)).where(
                Show.base_id == base_id,
                Show.status == "ended",
                Show.started_at >= start,
                Show.started_at < end,
            )
        )
        or 0
    )


@dataclass
class ShelfLine:
    no: int
    sku_id: str
    product_id: str
    title: str
    attrs: dict[str, str]
    price_fen: int
    live_price_fen: int | None
    stock: int
    thumb_url: str | None


def shelf_lines(db: Session, show: Show) -> list[ShelfLine]:
    ids = [i.sku_id for i in show.shelf]
    if not ids:
        return []
    skus = {
        s.id: s
        for s in db.scalars(select(Sku).where(Sku.id.in_(ids)).options(selectinload(Sku.product)))
    }
    out = []
    for item in show.shelf:
        sku = skus[item.sku_id]
        images = sku.product.images
        out.append(
            ShelfLine(
                no=item.no,
                sku_id=sku.id,
                product_id=sku.product_id,
                title=sku.product.title,
                attrs=sku.attrs,
                price_fen=sku.price_fen,
                live_price_fen=item.live_price_fen,
                stock=sku.stock,
                thumb_url=f"/uploads/{images[0].thumb_path}" if images else None,
            )
        )
    return out


def do_submit_script(
    db: Session, principal: Principal, show_id: str, kind: str, text: str
) -> ShowScript:
    """A script line or caption enters through the compliance check: allowed ones are
    usable at once, masked or reviewed ones wait for a moderator, blocked ones are kept
    (for the record) but never usable."""
    show = get_managed_show(db, principal, show_id)
    if show.status == "ended":
        raise ShowEnded("The show has ended.")
    verdict = check("script", text, CheckContext(base_id=show.base_id))
    status = {"allow": "approved", "block": "blocked"}.get(verdict.verdict, "held")
    script = ShowScript(
        show_id=show.id,
        author_id=principal.id,
        kind=kind,
        text=text,
        status=status,
        moderation=None if verdict.allowed else verdict.to_dict(),
    )
    db.add(script)
    db.flush()
    if status == "held":
        moderation.do_submit_for_review(
            db,
            kind="script",
            subject_type="script",
            subject_id=script.id,
            text=text,
            verdict=verdict,
            base_id=show.base_id,
            show_id=show.id,
            author_id=principal.id,
        )
    elif status == "blocked":
        moderation.do_record_verdict(db, "script", verdict, base_id=show.base_id, show_id=show.id)
    return script


def list_scripts(db: Session, principal: Principal, show_id: str) -> list[ShowScript]:
    show = get_managed_show(db, principal, show_id)
    return list(
        db.scalars(select(ShowScript).where(ShowScript.show_id == show.id).order_by(ShowScript.id))
    )


def _resolve_script(db: Session, script_id: str, approve: bool, reason: str | None) -> None:
    script = db.get(ShowScript, script_id)
    if script is not None and script.status == "held":
        script.status = "approved" if approve else "rejected"


moderation.register_resolver("script", _resolve_script)


@dataclass
class ShowingLink:
    """A show that sells a product: which link number, at what live price."""

    show: Show
    no: int
    sku_id: str
    live_price_fen: int | None


def shows_selling(db: Session, sku_ids: list[str], limit: int = 10) -> list[ShowingLink]:
    """Live and upcoming shows whose shelf carries one of ``sku_ids`` (a product page
    lists them): live first, then by start time; one entry per show, its first link."""
    if not sku_ids:
        return []
    rows = db.execute(
        select(Show, ShelfItem)
        .join(ShelfItem, ShelfItem.show_id == Show.id)
        .where(ShelfItem.sku_id.in_(sku_ids), Show.status.in_(("live", "scheduled")))
        .order_by(Show.status, Show.scheduled_at, ShelfItem.no)
    ).all()
    seen: dict[str, ShowingLink] = {}
    for show, item in rows:
        if show.id not in seen:
            seen[show.id] = ShowingLink(show, item.no, item.sku_id, item.live_price_fen)
    # "live" sorts before "scheduled" alphabetically, which is the order people want.
    return list(seen.values())[:limit]
