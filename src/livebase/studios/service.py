"""Studios and their bookings: who may see and book them, the slot rules, the guarded
insert that never double-books, cancelling, binding a show, and usage.

Slots are in Beijing time (Asia/Shanghai, +08:00 all year): aligned to 30 minutes,
inside the studio's opening hours of that day, in the future, at most 12 hours long.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, Text, exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal
from livebase.audit.service import do_record
from livebase.bases import service as bases
from livebase.db import UTCDateTime, new_id, utcnow
from livebase.errors import ApiError, Code, Conflict, Forbidden, NotFound, ValidationFailed
from livebase.shows import service as shows
from livebase.studios.models import SQLITE_OVERLAP_MESSAGE, Booking, Studio

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Slots start and end on the half hour: the granularity studios are let by in practice.
SLOT = timedelta(minutes=30)
# Longer than a long double shift (two 6 h shows) is a room held, not a slot booked.
MAX_BOOKING = timedelta(hours=12)
# Half a year ahead: far enough for a 618 or 双11 plan, near enough that a typo of the
# year (2062) is refused.
BOOKING_HORIZON = timedelta(days=183)
# A range of bookings is answered whole (a calendar needs every slot in view); two
# months of one studio are at most ~3,000 half-hour slots.
MAX_LIST_RANGE = timedelta(days=62)
# Usage over at most a year and a day (a leap year's 366 days).
MAX_USAGE_RANGE = timedelta(days=366)
MAX_EQUIPMENT = 50
_HHMM = re.compile(r"([01][0-9]|2[0-4]):(00|30)")
# Roles with a grant scoped to a base's staff, and to one of its organisations.
BASE_ROLES = ("operator", "moderator")
ORG_ROLES = ("merchant", "agency", "host", "assistant")
BOOKING_ROLES = ("merchant", "agency")  # the staff who run an organisation


class SlotTaken(ApiError):
    code = Code.SLOT_TAKEN


class SlotRefused(ValidationFailed):
    """A slot that breaks one of the rules; ``rule`` names which, for pages' messages."""

    def __init__(self, detail: str, *, loc: str, rule: str) -> None:
        super().__init__(detail, loc=loc)
        self.rule = rule


# -- who may do what ---------------------------------------------------------------


def is_operator(principal: Principal, base_id: str) -> bool:
    return principal.has("operator", base_id=base_id)


def is_base_staff(principal: Principal, base_id: str) -> bool:
    return principal.is_admin or bool(principal.base_ids(*BASE_ROLES) & {base_id})


def member_org_ids(
    db: Session, principal: Principal, base_id: str, roles: Iterable[str]
) -> set[str]:
    """The organisations of ``base_id`` the principal holds one of ``roles`` in."""
    out = set()
    for org_id in principal.org_ids(*roles):
        org = bases.find_org(db, org_id)
        if org is not None and org.base_id == base_id:
            out.add(org_id)
    return out


def can_see_base(db: Session, principal: Principal, base_id: str) -> bool:
    """Studios are seen by the base's staff and the people of its organisations."""
    return is_base_staff(principal, base_id) or bool(
        member_org_ids(db, principal, base_id, ORG_ROLES)
    )


def sees_detail(db: Session, principal: Principal, booking: Booking) -> bool:
    """Who sees a booking's organisation, booker and show (others see "taken")."""
    return is_base_staff(principal, booking.base_id) or booking.org_id in principal.org_ids(
        *ORG_ROLES
    )


def get_studio(db: Session, studio_id: str) -> Studio:
    studio = db.get(Studio, studio_id)
    if studio is None:
        raise NotFound(f"No studio {studio_id}.")
    return studio


def check_see_studio(db: Session, principal: Principal, studio_id: str) -> Studio:
    studio = db.get(Studio, studio_id)
    # Another base's people get the same 404 as for a missing id.
    if studio is None or not can_see_base(db, principal, studio.base_id):
        raise NotFound(f"No studio {studio_id}.")
    return studio


def check_see_base_studios(db: Session, principal: Principal, base_id: str) -> None:
    bases.get_base(db, base_id)
    if not can_see_base(db, principal, base_id):
        raise Forbidden("Studios are listed to the base's staff and organisations.")


def check_manage_studio(db: Session, principal: Principal, studio_id: str) -> Studio:
    studio = check_see_studio(db, principal, studio_id)
    if not is_operator(principal, studio.base_id):
        raise Forbidden("Only an operator of this base edits its studios.")
    return studio


def check_book(
    db: Session, principal: Principal, studio_id: str, org_id: str | None
) -> tuple[Studio, str]:
    """The studio and the organisation the slot is booked for: the caller's own (staff
    of one organisation of the base need not name it), or any of the base's when an
    operator books on an organisation's behalf."""
    studio = check_see_studio(db, principal, studio_id)
    own = member_org_ids(db, principal, studio.base_id, BOOKING_ROLES)
    if not own and not is_operator(principal, studio.base_id):
        raise Forbidden("Only an organisation's merchant or agency staff book its slots.")
    if org_id is None:
        if len(own) != 1:
            raise ValidationFailed(
                "Say which organisation books the slot (org_id).", loc="body.org_id"
            )
        return studio, next(iter(own))
    org = bases.find_org(db, org_id)
    if org is None or org.base_id != studio.base_id:
        raise ValidationFailed("org_id is not an organisation of this base.", loc="body.org_id")
    if org_id not in own and not is_operator(principal, studio.base_id):
        raise Forbidden("Only the organisation's merchant or agency staff book its slots.")
    return studio, org_id


def check_see_booking(db: Session, principal: Principal, booking_id: str) -> Booking:
    booking = db.get(Booking, booking_id)
    if booking is None or not sees_detail(db, principal, booking):
        raise NotFound(f"No booking {booking_id}.")
    return booking


def check_cancel(db: Session, principal: Principal, booking_id: str) -> Booking:
    """The organisation's staff cancel its bookings; the base's operator any of them."""
    booking = check_see_booking(db, principal, booking_id)
    staff = booking.org_id in principal.org_ids(*BOOKING_ROLES)
    if not (staff or is_operator(principal, booking.base_id)):
        raise Forbidden("Only the organisation's staff or the base's operator cancel a booking.")
    return booking


def check_bind_show(db: Session, principal: Principal, booking_id: str) -> Booking:
    booking = check_see_booking(db, principal, booking_id)
    if not (principal.is_admin or booking.org_id in principal.org_ids(*BOOKING_ROLES)):
        raise Forbidden("Only the organisation's staff bind a show to its booking.")
    return booking


# -- studios ---------------------------------------------------------------------------


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def clean_hours(raw: Mapping[str, Any], loc: str = "body.opening_hours") -> dict[str, Any]:
    """Opening hours as stored: ``{"mon": {"open": "09:00", "close": "22:00"}}``; a day
    left out (or null) is closed. Times on the half hour; close after open, by 24:00."""
    out: dict[str, Any] = {}
    for day, span in raw.items():
        if day not in WEEKDAYS:
            raise ValidationFailed(f"Weekdays are {', '.join(WEEKDAYS)}.", loc=f"{loc}.{day}")
        if span is None:
            continue
        opens, closes = span.get("open", ""), span.get("close", "")
        for name, value in (("open", opens), ("close", closes)):
            if not isinstance(value, str) or not _HHMM.fullmatch(value) or _minutes(value) > 1440:
                raise ValidationFailed(
                    "Times are HH:MM on the hour or half hour, 00:00–24:00.",
                    loc=f"{loc}.{day}.{name}",
                )
        if _minutes(closes) <= _minutes(opens):
            raise ValidationFailed(
                "A day closes after it opens (no hours past midnight).", loc=f"{loc}.{day}.close"
            )
        out[day] = {"open": opens, "close": closes}
    return out


def clean_equipment(items: Iterable[str]) -> list[str]:
    out = [i.strip() for i in items if i.strip()]
    if len(out) > MAX_EQUIPMENT:
        raise ValidationFailed(f"At most {MAX_EQUIPMENT} items of equipment.", loc="body.equipment")
    return out


def do_create_studio(
    db: Session,
    actor: Actor,
    base_id: str,
    *,
    name: str,
    capacity: int,
    opening_hours: Mapping[str, Any],
    equipment: Iterable[str] = (),
    description: str = "",
) -> Studio:
    bases.get_base(db, base_id)
    if not name.strip():
        raise ValidationFailed("A studio needs a name.", loc="body.name")
    if capacity < 1:
        raise ValidationFailed("Capacity is at least one person.", loc="body.capacity")
    studio = Studio(
        base_id=base_id,
        name=name.strip(),
        description=description,
        capacity=capacity,
        equipment=clean_equipment(equipment),
        opening_hours=clean_hours(opening_hours),
    )
    db.add(studio)
    db.flush()
    do_record(db, actor, "create", "studio", studio.id, base_id=base_id)
    return studio


def do_update_studio(
    db: Session, actor: Actor, studio: Studio, changes: Mapping[str, Any]
) -> Studio:
    """Change what is given. Bookings already made stay, even outside new hours."""
    if "name" in changes:
        if not changes["name"].strip():
            raise ValidationFailed("A studio needs a name.", loc="body.name")
        studio.name = changes["name"].strip()
    if "description" in changes:
        studio.description = changes["description"]
    if "capacity" in changes:
        if changes["capacity"] < 1:
            raise ValidationFailed("Capacity is at least one person.", loc="body.capacity")
        studio.capacity = changes["capacity"]
    if "equipment" in changes:
        studio.equipment = clean_equipment(changes["equipment"])
    if "opening_hours" in changes:
        studio.opening_hours = clean_hours(changes["opening_hours"])
    if "active" in changes:
        studio.active = bool(changes["active"])
    db.flush()
    do_record(db, actor, "update", "studio", studio.id, fields=sorted(changes))
    return studio


def list_studios(db: Session, base_id: str) -> list[Studio]:
    return list(db.scalars(select(Studio).where(Studio.base_id == base_id).order_by(Studio.id)))


def opening_span(studio: Studio, day: date) -> tuple[datetime, datetime] | None:
    """The studio's open hours on a local day, as aware UTC datetimes (None: closed)."""
    span = studio.opening_hours.get(WEEKDAYS[day.weekday()])
    if not span:
        return None
    midnight = datetime.combine(day, time(0), LOCAL_TZ)
    opens = midnight + timedelta(minutes=_minutes(span["open"]))
    closes = midnight + timedelta(minutes=_minutes(span["close"]))
    return opens.astimezone(UTC), closes.astimezone(UTC)


def open_hours_between(studio: Studio, start: datetime, end: datetime) -> float:
    """Hours the studio is open within [start, end)."""
    total = timedelta()
    day = start.astimezone(LOCAL_TZ).date()
    last = end.astimezone(LOCAL_TZ).date()
    while day <= last:
        span = opening_span(studio, day)
        if span is not None:
            lo, hi = max(span[0], start), min(span[1], end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 3600


# -- bookings --------------------------------------------------------------------------


def _aligned(at: datetime) -> bool:
    # +08:00 is a whole number of hours, so a half hour in UTC is one in Beijing too.
    return at.second == 0 and at.microsecond == 0 and at.minute % 30 == 0


def check_slot(studio: Studio, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """Refuse a slot that breaks a rule, naming the field at fault."""
    if not studio.active:
        raise Conflict("This studio takes no bookings now.")
    if ends_at <= starts_at:
        raise SlotRefused("ends_at must be after starts_at.", loc="body.ends_at", rule="order")
    for name, at in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not _aligned(at):
            raise SlotRefused(
                f"{name} must be on the hour or half hour (e.g. 14:00 or 14:30).",
                loc=f"body.{name}",
                rule="aligned",
            )
    if ends_at - starts_at > MAX_BOOKING:
        hours = int(MAX_BOOKING.total_seconds() // 3600)
        raise SlotRefused(
            f"A booking is at most {hours} hours.", loc="body.ends_at", rule="too_long"
        )
    if starts_at <= now:
        raise SlotRefused("starts_at must be in the future.", loc="body.starts_at", rule="past")
    if starts_at > now + BOOKING_HORIZON:
        raise SlotRefused(
            f"Bookings open at most {BOOKING_HORIZON.days} days ahead.",
            loc="body.starts_at",
            rule="horizon",
        )
    span = opening_span(studio, starts_at.astimezone(LOCAL_TZ).date())
    if span is None or not (span[0] <= starts_at and ends_at <= span[1]):
        raise SlotRefused(
            "The slot is outside the studio's opening hours that day.",
            loc="body.starts_at",
            rule="hours",
        )


def _overlap(studio_id: str, starts_at: datetime, ends_at: datetime) -> Any:
    return (
        (Booking.studio_id == studio_id)
        & (Booking.status == "active")
        & (Booking.starts_at < ends_at)
        & (Booking.ends_at > starts_at)
    )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _is_overlap_refusal(exc: IntegrityError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23P01":  # PostgreSQL exclusion_violation
        return True
    return SQLITE_OVERLAP_MESSAGE in str(orig)


def _lock_studio(db: Session, studio_id: str) -> None:
    """Queue a studio's bookers on its row (PostgreSQL). Without it, two transactions
    inserting overlapping rows each wait for the other inside the exclusion check, and
    PostgreSQL breaks the deadlock only after ``deadlock_timeout`` (1 s); with it, the
    second one's guarded insert runs after the first commits, sees its row and inserts
    nothing. The constraint still holds for any writer that does not take the lock."""
    db.execute(select(Studio.id).where(Studio.id == studio_id).with_for_update())


def do_book(
    db: Session,
    actor: Actor,
    studio: Studio,
    org_id: str,
    starts_at: datetime,
    ends_at: datetime,
    *,
    note: str = "",
    now: datetime | None = None,
) -> Booking:
    """Book the slot, or raise :class:`SlotTaken` when it overlaps an active booking.

    One statement, ``INSERT … SELECT … WHERE NOT EXISTS (an overlapping active row)``,
    and it must be the transaction's first write: pysqlite opens the transaction only at
    the first INSERT/UPDATE/DELETE, so on SQLite that statement takes the database's one
    write lock before it reads (no stale snapshot from earlier SELECTs), and two bookings
    are checked one after the other. On PostgreSQL the studio's row lock queues them the
    same way (see :func:`_lock_studio`), and the exclusion constraint refuses an overlap
    whatever wrote it (23P01), as the SQLite triggers do."""
    check_slot(studio, starts_at, ends_at, now or utcnow())
    booking_id = new_id("bkg")
    values = select(
        literal(booking_id, String()),
        literal(studio.id, String()),
        literal(studio.base_id, String()),
        literal(org_id, String()),
        literal(actor_name(actor), String()),
        literal(starts_at, UTCDateTime()),
        literal(ends_at, UTCDateTime()),
        literal("active", String()),
        literal(note, Text()),
        literal(utcnow(), UTCDateTime()),
    ).where(~exists().where(_overlap(studio.id, starts_at, ends_at)))
    if db.get_bind().dialect.name == "postgresql":
        _lock_studio(db, studio.id)
    cols = [
        "id", "studio_id", "base_id", "org_id", "booked_by",
        "starts_at", "ends_at", "status", "note", "created_at",
    ]  # fmt: skip
    try:
        # rowcount of an INSERT is kept only when asked (SQLAlchemy keeps UPDATE's and
        # DELETE's; psycopg's cursor is closed by the time it is read).
        stmt = insert(Booking).from_select(cols, values)
        inserted = _rowcount(db.execute(stmt.execution_options(preserve_rowcount=True)))
    except IntegrityError as exc:
        if not _is_overlap_refusal(exc):
            raise
        raise SlotTaken("That slot overlaps another booking of this studio.") from exc
    if inserted != 1:
        raise SlotTaken("That slot overlaps another booking of this studio.")
    booking = db.get(Booking, booking_id)
    if booking is None:  # just inserted in this transaction; never None
        raise NotFound(f"No booking {booking_id}.")
    do_record(db, actor, "book", "studio_booking", booking_id, studio_id=studio.id, org_id=org_id)
    return booking


def bookings_between(db: Session, studio_id: str, start: datetime, end: datetime) -> list[Booking]:
    """Active bookings of the studio overlapping [start, end), in time order."""
    if end <= start:
        raise ValidationFailed("to must be after from.", loc="query.to")
    if end - start > MAX_LIST_RANGE:
        raise ValidationFailed(
            f"Ask for at most {MAX_LIST_RANGE.days} days at once.", loc="query.to"
        )
    q = select(Booking).where(_overlap(studio_id, start, end)).order_by(Booking.starts_at)
    return list(db.scalars(q))


def org_bookings(
    db: Session, org_ids: Iterable[str], *, since: datetime, limit: int = 100
) -> list[Booking]:
    """The organisations' bookings ending after ``since`` (cancelled ones too), soonest first."""
    ids = list(org_ids)
    if not ids:
        return []
    q = (
        select(Booking)
        .where(Booking.org_id.in_(ids), Booking.ends_at > since)
        .order_by(Booking.starts_at, Booking.id)
        .limit(limit)
    )
    return list(db.scalars(q))


def do_cancel(
    db: Session, actor: Actor, booking: Booking, *, now: datetime | None = None
) -> Booking:
    """Cancel an active booking before it ends (a conditional update: two cancels, one wins)."""
    now = now or utcnow()
    if booking.ends_at <= now:
        raise Conflict("The booking is over; it can no longer be cancelled.")
    done = _rowcount(
        db.execute(
            update(Booking)
            .where(Booking.id == booking.id, Booking.status == "active")
            .values(status="cancelled", cancelled_at=now, cancelled_by=actor_name(actor))
            .execution_options(synchronize_session=False)
        )
    )
    db.refresh(booking)
    if done != 1:
        raise Conflict("The booking is already cancelled.")
    do_record(db, actor, "cancel", "studio_booking", booking.id)
    return booking


def do_bind_show(db: Session, actor: Actor, booking: Booking, show_id: str | None) -> Booking:
    """Say which show is made in the slot (``None`` unbinds): a show of the booking's
    organisation scheduled inside the slot, bound to no other active booking."""
    if booking.status != "active":
        raise Conflict("The booking is cancelled.")
    if show_id is not None:
        try:
            show = shows.get_show(db, show_id)
        except NotFound:
            raise ValidationFailed(f"No show {show_id}.", loc="body.show_id") from None
        if show.org_id != booking.org_id:
            raise ValidationFailed(
                "The show is not one of the booking's organisation.", loc="body.show_id"
            )
        if not booking.starts_at <= show.scheduled_at < booking.ends_at:
            raise ValidationFailed(
                "The show is not scheduled within the booked slot.", loc="body.show_id"
            )
        other = db.scalar(
            select(Booking.id).where(
                Booking.show_id == show_id, Booking.status == "active", Booking.id != booking.id
            )
        )
        if other is not None:
            raise Conflict("The show is bound to another booking.")
    booking.show_id = show_id
    db.flush()
    do_record(db, actor, "bind_show", "studio_booking", booking.id, show_id=show_id)
    return booking


# -- usage -----------------------------------------------------------------------------


def _booked_in(db: Session, base_id: str, start: datetime, end: datetime) -> list[Booking]:
    """Active bookings of the base starting in [start, end) — how usage and the metric
    count: a booking belongs to the period it starts in (slots never cross midnight)."""
    q = select(Booking).where(
        Booking.base_id == base_id,
        Booking.status == "active",
        Booking.starts_at >= start,
        Booking.starts_at < end,
    )
    return list(db.scalars(q))


def count_hours_booked(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    """MetricSpec ``studio_hours_booked``: whole hours of active bookings starting in
    [start, end) (the total's minutes, divided by 60 and rounded down)."""
    seconds = sum(
        (b.ends_at - b.starts_at).total_seconds() for b in _booked_in(db, base_id, start, end)
    )
    return int(seconds // 3600)


def _live_seconds(db: Session, booking: Booking, now: datetime) -> float:
    """How long the bound show was actually live inside the slot."""
    if booking.show_id is None:
        return 0.0
    show = shows.get_show(db, booking.show_id)
    if show.started_at is None:
        return 0.0
    lo = max(show.started_at, booking.starts_at)
    hi = min(show.ended_at or now, booking.ends_at)
    return max((hi - lo).total_seconds(), 0.0)


@dataclass
class UsageRow:
    id: str
    name: str
    booked_s: float = 0.0
    used_s: float = 0.0
    open_hours: float | None = None  # studios only

    @property
    def hours_booked(self) -> float:
        return round(self.booked_s / 3600, 2)

    @property
    def hours_used(self) -> float:
        return round(self.used_s / 3600, 2)

    @property
    def utilisation_pct(self) -> float | None:
        if self.open_hours is None:
            return None
        if self.open_hours == 0:
            return 0.0
        return round(100 * self.booked_s / 3600 / self.open_hours, 1)


@dataclass
class Usage:
    start: datetime
    end: datetime
    studios: list[UsageRow] = field(default_factory=list)
    orgs: list[UsageRow] = field(default_factory=list)


def check_usage_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationFailed("to must be after from.", loc="query.to")
    if end - start > MAX_USAGE_RANGE:
        raise ValidationFailed(f"Ask for at most {MAX_USAGE_RANGE.days} days.", loc="query.to")


def usage(
    db: Session, base_id: str, start: datetime, end: datetime, *, now: datetime | None = None
) -> Usage:
    """Hours booked and used per studio and per organisation, of bookings starting in
    [start, end); a studio's utilisation is booked hours over its open hours then."""
    check_usage_range(start, end)
    now = now or utcnow()
    out = Usage(start, end)
    studios = {
        s.id: UsageRow(s.id, s.name, open_hours=open_hours_between(s, start, end))
        for s in list_studios(db, base_id)
    }
    orgs: dict[str, UsageRow] = {}
    for b in _booked_in(db, base_id, start, end):
        booked = (b.ends_at - b.starts_at).total_seconds()
        used = _live_seconds(db, b, now)
        if b.org_id not in orgs:
            org = bases.get_org(db, b.org_id)
            orgs[b.org_id] = UsageRow(org.id, org.name)
        for row in (studios[b.studio_id], orgs[b.org_id]):
            row.booked_s += booked
            row.used_s += used
    out.studios = list(studios.values())
    out.orgs = sorted(orgs.values(), key=lambda r: (-r.booked_s, r.name))
    return out


# -- weeks -----------------------------------------------------------------------------

_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")


def parse_week(text: str | None, today: date) -> date:
    """The Monday of an ISO week "2026-W49" (this week's when None)."""
    if not text:
        return today - timedelta(days=today.weekday())
    m = _WEEK.fullmatch(text)
    if m is None:
        raise ValidationFailed("week is an ISO week, e.g. 2026-W49.", loc="query.week")
    try:
        return date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise ValidationFailed("No such ISO week.", loc="query.week") from None


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year:04d}-W{week:02d}"


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC)


def local_month(now: datetime) -> tuple[datetime, datetime]:
    """[first day of this local month, first of the next), as UTC."""
    local = now.astimezone(LOCAL_TZ).date().replace(day=1)
    following = (local + timedelta(days=32)).replace(day=1)
    return local_midnight(local), local_midnight(following)
