"""Shows: scheduling, ingest keys, the shelf of numbered links, explaining, start and end."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from livebase.accounts.actors import Actor, actor_user_id
from livebase.accounts.service import Principal, grants_of
from livebase.audit.service import do_record, records_of
from livebase.bases import service as bases
from livebase.catalog import service as catalog
from livebase.compliance import CheckContext, check, ocr
from livebase.compliance import service as moderation
from livebase.db import utcnow
from livebase.errors import ApiError, Code, Forbidden, NotFound, ValidationFailed
from livebase.jobs import service as jobs
from livebase.paging import keyset
from livebase.shows import events
from livebase.shows.models import ShelfItem, Show, ShowScript

if TYPE_CHECKING:  # only named as a type: shows goes through bases' service
    from livebase.bases.models import Organisation

# A shelf of 500 links is already more than any host can present in one show.
MAX_SHELF = 500


class ShowEnded(ApiError):
    code = Code.SHOW_ENDED


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


def check_manage_show(db: Session, principal: Principal, show_id: str) -> Show:
    """The show, when the principal is its host or staff of its organisation."""
    show = get_show(db, show_id)
    if not can_manage(principal, show):
        raise Forbidden("Only the show's host or its organisation's staff may manage it.")
    return show


def _is_host_of(db: Session, user_id: str, org_id: str) -> bool:
    return any(g.role == "host" and g.org_id == org_id for g in grants_of(db, user_id))


def _show_org(db: Session, org_id: str) -> Organisation:
    org = bases.find_org(db, org_id)
    if org is None:
        raise ValidationFailed(f"No organisation {org_id}.", loc="body.org_id")
    return org


def check_create_show(db: Session, principal: Principal, org_id: str, host_id: str | None) -> str:
    """May the principal schedule a show of ``org_id`` for ``host_id`` (default: itself)?
    A host schedules its own; the organisation's staff schedule for its hosts. Returns
    the host's id."""
    _show_org(db, org_id)
    host_id = host_id or principal.id
    if host_id == principal.id and not principal.is_admin:
        if not _is_host_of(db, principal.id, org_id):
            raise Forbidden("You are not a host of this organisation.")
    elif not bases.is_org_staff(principal, org_id):
        raise Forbidden("Only the organisation's staff schedule shows for its hosts.")
    return host_id


def do_create_show(
    db: Session, actor: Actor, org_id: str, title: str, scheduled_at: datetime, host_id: str
) -> Show:
    org = _show_org(db, org_id)
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
    actor: Actor,
    show: Show,
    *,
    title: str | None,
    scheduled_at: datetime | None,
) -> Show:
    if show.status == "ended":
        raise ShowEnded("The show has ended.")
    if title is not None:
        show.title = title.strip()
    if scheduled_at is not None:
        show.scheduled_at = scheduled_at
    db.flush()
    return show


def do_set_cover(
    db: Session, actor: Actor, show: Show, path: str, uploads_dir: Path | None = None
) -> Show:
    """Set the cover; with ``uploads_dir`` the text inside it is checked by the
    ``compliance.ocr_image`` job once this transaction commits."""
    show.cover_path = path
    show.cover_ocr_status = "unchecked"
    db.flush()
    if uploads_dir is not None:
        jobs.do_enqueue(
            db,
            ocr.OCR_JOB,
            {
                "subject_type": "show_cover",
                "subject_id": show.id,
                "path": str(uploads_dir / path),
                "image_url": f"/uploads/{path}",
                "base_id": show.base_id,
                "author_id": actor_user_id(actor),
            },
        )
    return show


ocr.register_single_picture("show_cover", Show, "cover_path", "cover_ocr_status")


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


def do_rotate_key(db: Session, actor: Actor, show: Show) -> Show:
    show.stream_key = _stream_key()
    db.flush()
    return show


@dataclass
class ShelfSpec:
    sku_id: str
    live_price_fen: int | None


@dataclass(frozen=True)
class ShelfEntry:
    no: int
    sku_id: str
    live_price_fen: int | None


@dataclass
class ShelfDiff:
    """What a shelf edit changed, keyed by SKU: enough to publish a ``price`` frame."""

    added: list[ShelfEntry] = field(default_factory=list)
    removed: list[ShelfEntry] = field(default_factory=list)
    repriced: list[ShelfEntry] = field(default_factory=list)
    renumbered: list[ShelfEntry] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.repriced or self.renumbered)

    def price_frame(self) -> dict[str, Any]:
        """The ``d`` of the room's ``price`` frame: the links that are new or whose
        number or live price changed, and the SKUs that left the shelf."""
        touched = {e.sku_id: e for e in [*self.added, *self.renumbered, *self.repriced]}
        return {
            "items": [
                {"no": e.no, "sku_id": e.sku_id, "live_price_fen": e.live_price_fen}
                for e in sorted(touched.values(), key=lambda e: e.no)
            ],
            "removed": [e.sku_id for e in self.removed],
        }


def _check_open(show: Show) -> None:
    if show.status == "ended":
        raise ShowEnded("The show has ended; its shelf is kept as it was.")


def _check_shelf_items(db: Session, show: Show, items: list[ShelfSpec]) -> None:
    if len(items) > MAX_SHELF:
        raise ValidationFailed(f"A shelf holds at most {MAX_SHELF} links.", loc="body.items")
    ids = [i.sku_id for i in items]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("A SKU appears twice on the shelf.", loc="body.items")
    found = catalog.sku_listings(db, ids)
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


def _lock_shelf(db: Session, show: Show) -> list[ShelfItem]:
    """Serialise shelf edits of one show (the show row is their lock) and read the shelf
    as it is now, not as this session first loaded it; an ended show's shelf is kept."""
    q = select(Show.status).where(Show.id == show.id)
    if db.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    if db.scalar(q) == "ended":  # ended by someone else since this request read it
        raise ShowEnded("The show has ended; its shelf is kept as it was.")
    return list(
        db.scalars(
            select(ShelfItem)
            .where(ShelfItem.show_id == show.id)
            .order_by(ShelfItem.no)
            .execution_options(populate_existing=True)
        )
    )


def do_set_shelf(db: Session, actor: Actor, show: Show, items: list[ShelfSpec]) -> ShelfDiff:
    """Make the shelf ``items``, numbered 1, 2, ... in the order given, by keyed updates:
    a SKU that stays keeps its row (and id); new SKUs are inserted, changed numbers and
    live prices updated, removed SKUs deleted. Returns what changed."""
    _check_open(show)
    _check_shelf_items(db, show, items)
    rows = {r.sku_id: r for r in _lock_shelf(db, show)}
    # The item being explained keeps being explained under its new number (or stops when
    # it leaves the shelf): a reorder must not silently switch to another product.
    explained = next((r.sku_id for r in rows.values() if r.no == show.explaining_no), None)
    wanted = {i.sku_id: ShelfEntry(n, i.sku_id, i.live_price_fen) for n, i in enumerate(items, 1)}
    diff = ShelfDiff()
    for sku_id, row in rows.items():
        if sku_id not in wanted:
            diff.removed.append(ShelfEntry(row.no, sku_id, row.live_price_fen))
            db.delete(row)
    db.flush()  # deletes first: the unit of work would run them after the updates
    moved = [(rows[e.sku_id], e) for e in wanted.values() if e.sku_id in rows]
    # (show_id, no) is unique: park moved rows on negative numbers, then set the new ones.
    for row, entry in moved:
        if row.no != entry.no:
            diff.renumbered.append(entry)
            row.no = -entry.no
    db.flush()
    for row, entry in moved:
        row.no = entry.no
        if row.live_price_fen != entry.live_price_fen:
            diff.repriced.append(entry)
            row.live_price_fen = entry.live_price_fen
    for entry in wanted.values():
        if entry.sku_id not in rows:
            diff.added.append(entry)
            db.add(
                ShelfItem(
                    show_id=show.id,
                    no=entry.no,
                    sku_id=entry.sku_id,
                    live_price_fen=entry.live_price_fen,
                )
            )
    show.explaining_no = wanted[explained].no if explained in wanted else None
    db.flush()
    db.expire(show, ["shelf"])
    events.notify_shelf(db, show, diff, links=len(items))
    return diff


def _specs(db: Session, show: Show) -> list[ShelfSpec]:
    """The shelf as it is now (locked), for an edit of one link: the rest of the shelf is
    written back as another editor may just have left it, not as this request read it."""
    return [ShelfSpec(r.sku_id, r.live_price_fen) for r in _lock_shelf(db, show)]


def _at(specs: list[ShelfSpec], no: int) -> int:
    if not 1 <= no <= len(specs):
        raise ValidationFailed(f"There is no link {no} on the shelf.", loc="no")
    return no - 1


def do_shelf_add(
    db: Session, actor: Actor, show: Show, sku_id: str, live_price_fen: int | None
) -> ShelfDiff:
    """Add one link at the end of the shelf."""
    return do_set_shelf(db, actor, show, [*_specs(db, show), ShelfSpec(sku_id, live_price_fen)])


def do_shelf_move(db: Session, actor: Actor, show: Show, no: int, *, up: bool) -> ShelfDiff:
    """Swap link ``no`` with the one above (or below); at either end nothing changes."""
    specs = _specs(db, show)
    i = _at(specs, no)
    j = i - 1 if up else i + 1
    if not 0 <= j < len(specs):
        return ShelfDiff()
    specs[i], specs[j] = specs[j], specs[i]
    return do_set_shelf(db, actor, show, specs)


def do_shelf_reprice(
    db: Session, actor: Actor, show: Show, no: int, live_price_fen: int | None
) -> ShelfDiff:
    """Set (or with None clear) link ``no``'s live price."""
    specs = _specs(db, show)
    specs[_at(specs, no)].live_price_fen = live_price_fen
    return do_set_shelf(db, actor, show, specs)


def do_shelf_remove(db: Session, actor: Actor, show: Show, no: int) -> ShelfDiff:
    """Take link ``no`` off the shelf; the links after it move up one."""
    specs = _specs(db, show)
    del specs[_at(specs, no)]
    return do_set_shelf(db, actor, show, specs)


def do_set_explaining(db: Session, actor: Actor, show: Show, no: int | None) -> Show:
    if show.status == "ended":
        raise ShowEnded("The show has ended.")
    if no is not None and no not in {item.no for item in show.shelf}:
        raise ValidationFailed(f"There is no link {no} on the shelf.", loc="body.no")
    show.explaining_no = no
    sku_id = next((item.sku_id for item in show.shelf if item.no == no), None)
    # The trail of explaining periods (the replay's chapters, media/service.py).
    do_record(db, actor, "explain", "show", show.id, no=no, sku_id=sku_id)
    db.flush()
    events.notify_explaining(db, show)
    return show


def _transition(db: Session, show: Show, from_: tuple[str, ...], **values: Any) -> bool:
    """Move the show to a new state only if it is in one of ``from_`` at this instant
    (a conditional update, so a start and an end racing cannot both win)."""
    result = db.execute(
        update(Show)
        .where(Show.id == show.id, Show.status.in_(from_))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.refresh(show)
    return getattr(result, "rowcount", 0) == 1


def do_start(db: Session, actor: Actor, show: Show) -> bool:
    """Go live (a host's button, or the media server's publish as ``system:media``).
    True if this call started it; False if it was already live; an ended show stays
    ended (409 ``show_ended``) — a reconnecting encoder never revives it."""
    if _transition(db, show, ("scheduled",), status="live", started_at=utcnow()):
        do_record(db, actor, "start", "show", show.id)
        events.notify_started(db, show)
        return True
    if show.status == "ended":
        raise ShowEnded("The show has ended.")
    return False


def do_end(db: Session, actor: Actor, show: Show) -> bool:
    """End the show (from scheduled or live); 409 ``show_ended`` if it already ended."""
    ended = _transition(
        db, show, ("scheduled", "live"), status="ended", ended_at=utcnow(), explaining_no=None
    )
    if not ended:
        raise ShowEnded("The show has already ended.")
    do_record(db, actor, "end", "show", show.id)
    events.notify_ended(db, show)
    return True


@dataclass(frozen=True)
class ExplainMark:
    """From ``at`` on, link ``no`` (SKU ``sku_id``) was explained (None: nothing)."""

    at: datetime
    no: int | None
    sku_id: str | None


def explain_marks(db: Session, show_id: str) -> list[ExplainMark]:
    """Every explaining switch of a show, in order (from its audit trail)."""
    return [
        ExplainMark(r.at, r.detail.get("no"), r.detail.get("sku_id"))
        for r in records_of(db, "show", show_id)
        if r.action == "explain"
    ]


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
    """The shelf as viewers see it: each link with its SKU as catalog shows it."""
    views = catalog.sku_views(db, [i.sku_id for i in show.shelf])
    return [
        ShelfLine(no=i.no, live_price_fen=i.live_price_fen, **asdict(views[i.sku_id]))
        for i in show.shelf
    ]


def do_submit_script(
    db: Session, principal: Principal, show: Show, kind: str, text: str
) -> ShowScript:
    """A script line or caption enters through the compliance check: allowed ones are
    usable at once, masked or reviewed ones wait for a moderator, blocked ones are kept
    (for the record) but never usable. Its author is a user (the host or its staff)."""
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


def list_scripts(
    db: Session,
    principal: Principal,
    show_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[ShowScript]:
    show = check_manage_show(db, principal, show_id)
    q = select(ShowScript).where(ShowScript.show_id == show.id)
    return list(
        db.scalars(keyset(q, ShowScript.id, limit=limit, cursor=cursor, newest_first=False))
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
