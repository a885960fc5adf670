"""JSON routes of studios and bookings (docs/studios.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.db import utcnow
from livebase.http import DB, NO_BODY, Me, require_json
from livebase.schemas import AwareDatetime, rfc3339
from livebase.studios import service
from livebase.studios.models import Booking, Studio
from livebase.studios.schemas import BindShowIn, BookingIn, StudioIn, StudioPatch

router = APIRouter(prefix="/api/v1", tags=["studios"], dependencies=[Depends(require_json)])

From = Annotated[AwareDatetime | None, Query(alias="from", description="RFC 3339, inclusive.")]
To = Annotated[AwareDatetime | None, Query(alias="to", description="RFC 3339, exclusive.")]


def studio_out(studio: Studio) -> dict[str, Any]:
    return {
        "id": studio.id,
        "base_id": studio.base_id,
        "name": studio.name,
        "description": studio.description,
        "equipment": list(studio.equipment),
        "capacity": studio.capacity,
        "opening_hours": {d: studio.opening_hours.get(d) for d in service.WEEKDAYS},
        "timezone": "Asia/Shanghai",
        "active": studio.active,
        "created_at": rfc3339(studio.created_at),
    }


def booking_out(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "studio_id": booking.studio_id,
        "base_id": booking.base_id,
        "org_id": booking.org_id,
        "starts_at": rfc3339(booking.starts_at),
        "ends_at": rfc3339(booking.ends_at),
        "status": booking.status,
        "note": booking.note,
        "show_id": booking.show_id,
        "booked_by": booking.booked_by,
        "created_at": rfc3339(booking.created_at),
        "cancelled_at": rfc3339(booking.cancelled_at),
        "mine": True,
    }


def taken_out(booking: Booking) -> dict[str, Any]:
    """Another organisation's booking: only that the slot is taken."""
    return {
        "id": booking.id,
        "studio_id": booking.studio_id,
        "starts_at": rfc3339(booking.starts_at),
        "ends_at": rfc3339(booking.ends_at),
        "status": booking.status,
        "mine": False,
    }


def _booking_for(db: DB, me: Principal, booking: Booking) -> dict[str, Any]:
    return booking_out(booking) if service.sees_detail(db, me, booking) else taken_out(booking)


@router.post("/bases/{base_id}/studios", status_code=201)
def create_studio(base_id: str, body: StudioIn, me: Me, db: DB) -> dict[str, Any]:
    bases.check_base_operator(db, me, base_id)
    studio = service.do_create_studio(
        db,
        me,
        base_id,
        name=body.name,
        capacity=body.capacity,
        opening_hours=body.opening_hours.model_dump(),
        equipment=body.equipment,
        description=body.description,
    )
    db.commit()
    return studio_out(studio)


@router.get("/bases/{base_id}/studios")
def list_studios(base_id: str, me: Me, db: DB) -> dict[str, Any]:
    """Every studio of the base (a base has a handful; the list is not paged)."""
    service.check_see_base_studios(db, me, base_id)
    return {
        "items": [studio_out(s) for s in service.list_studios(db, base_id)],
        "next_cursor": None,
    }


@router.get("/studios/{studio_id}")
def get_studio(studio_id: str, me: Me, db: DB) -> dict[str, Any]:
    return studio_out(service.check_see_studio(db, me, studio_id))


@router.patch("/studios/{studio_id}")
def update_studio(studio_id: str, body: StudioPatch, me: Me, db: DB) -> dict[str, Any]:
    studio = service.check_manage_studio(db, me, studio_id)
    changes = body.model_dump(exclude_unset=True)
    service.do_update_studio(db, me, studio, changes)
    db.commit()
    return studio_out(studio)


@router.get("/studios/{studio_id}/bookings")
def list_bookings(
    studio_id: str, me: Me, db: DB, start: From = None, end: To = None
) -> dict[str, Any]:
    """Active bookings overlapping [from, to) (default: the next 7 days), answered whole."""
    studio = service.check_see_studio(db, me, studio_id)
    start = start or utcnow()
    end = end or start + timedelta(days=7)
    rows = service.bookings_between(db, studio.id, start, end)
    return {"items": [_booking_for(db, me, b) for b in rows], "next_cursor": None}


@router.post("/studios/{studio_id}/bookings", status_code=201)
def book(studio_id: str, body: BookingIn, me: Me, db: DB) -> dict[str, Any]:
    studio, org_id = service.check_book(db, me, studio_id, body.org_id)
    booking = service.do_book(db, me, studio, org_id, body.starts_at, body.ends_at, note=body.note)
    db.commit()
    return booking_out(booking)


@router.get("/bookings/{booking_id}")
def get_booking(booking_id: str, me: Me, db: DB) -> dict[str, Any]:
    return booking_out(service.check_see_booking(db, me, booking_id))


@router.delete("/bookings/{booking_id}", dependencies=[NO_BODY])
def cancel_booking(booking_id: str, me: Me, db: DB) -> dict[str, Any]:
    booking = service.check_cancel(db, me, booking_id)
    service.do_cancel(db, me, booking)
    db.commit()
    return booking_out(booking)


@router.post("/bookings/{booking_id}/show")
def bind_show(booking_id: str, body: BindShowIn, me: Me, db: DB) -> dict[str, Any]:
    booking = service.check_bind_show(db, me, booking_id)
    service.do_bind_show(db, me, booking, body.show_id)
    db.commit()
    return booking_out(booking)


@router.get("/bases/{base_id}/studio-usage")
def studio_usage(
    base_id: str, me: Me, db: DB, start: From = None, end: To = None
) -> dict[str, Any]:
    """Hours booked and used per studio and organisation (default: this local month)."""
    bases.check_base_operator(db, me, base_id)
    month = service.local_month(utcnow())
    return usage_out(service.usage(db, base_id, start or month[0], end or month[1]))


def usage_out(u: service.Usage) -> dict[str, Any]:
    def row(r: service.UsageRow) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": r.id,
            "name": r.name,
            "hours_booked": r.hours_booked,
            "hours_used": r.hours_used,
        }
        if r.open_hours is not None:
            out["open_hours"] = round(r.open_hours, 2)
            out["utilisation_pct"] = r.utilisation_pct
        return out

    return {
        "from": rfc3339(u.start),
        "to": rfc3339(u.end),
        "studios": [row(r) for r in u.studios],
        "orgs": [row(r) for r in u.orgs],
        "total": {
            "hours_booked": round(sum(r.booked_s for r in u.studios) / 3600, 2),
            "hours_used": round(sum(r.used_s for r in u.studios) / 3600, 2),
        },
    }
