"""The room's REST calls for its staff (docs/realtime.md "Host calls"), under
``/api/v1/shows/{id}/room``. Each one checks who asks (``check_run_room``), changes the
room's rows, commits, and the room hears of it after the commit: mutes and bans reach
every node's hub (a ban closes the user's sockets with 4403), slow mode is a ``slow_mode``
frame, a pinned notice a critical ``notice`` frame, an approved held line a ``chat``
frame."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from livebase.compliance import CheckContext, check
from livebase.errors import ApiError, Code
from livebase.http import DB, NO_BODY, Me, Page, RuntimeDep, page_of, paged, require_json
from livebase.rooms import service
from livebase.rooms.parts import ROOM_KIT
from livebase.rooms.schemas import NoticeIn, RejectIn, SanctionIn, SlowModeIn
from livebase.shows import service as shows

HeldPage = Annotated[Page, Depends(page_of("chl"))]

router = APIRouter(
    prefix="/api/v1/shows/{show_id}/room", tags=["rooms"], dependencies=[Depends(require_json)]
)


@router.get("")
def room_numbers(show_id: str, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    """Live numbers of the room (public, as the room itself is): viewers now and peak,
    likes, chat lines, held and blocked lines, the room's seq, slow mode."""
    show = shows.get_show(db, show_id)
    kit = rt.part(ROOM_KIT)
    fig = kit.counters.figures(show.id)
    totals = kit.counters.totals(show.id)
    room = service.read_room(db, show.id)
    return {
        "show_id": show.id,
        "status": show.status,
        "seq": kit.bus.seq(show.id),
        "viewers": {"now": totals.viewers, "peak": totals.peak},
        "likes": totals.likes,
        "chat_lines": fig.chat_lines,
        "held_lines": fig.held_lines,
        "blocked_lines": fig.blocked_lines,
        "watch_seconds": round(fig.watch_seconds, 1),
        "slow_mode": room["slow_mode"]["seconds"],
        "notice": room["notice"],
    }


@router.get("/figures")
def room_figures(show_id: str, me: Me, db: DB) -> dict[str, Any]:
    """The figures stored for the post-show review (``final`` once the show ended)."""
    show = service.check_see_figures(db, me, show_id)
    return service.figures_view(service.figures_of(db, show), show)


@router.get("/sanctions")
def list_sanctions(show_id: str, me: Me, db: DB) -> dict[str, Any]:
    show = service.check_run_room(db, me, show_id)
    items = [s.view() for s in service.sanctions_of(db, show.id)]
    return {"items": items, "next_cursor": None}


def _sanction(show_id: str, body: SanctionIn, me: Me, db: DB, kind: str) -> dict[str, Any]:
    show = service.check_run_room(db, me, show_id)
    s = service.do_sanction(db, me, show, body.user_id, kind, body.minutes)
    db.commit()
    return s.view()


@router.post("/mutes", status_code=201)
def mute(show_id: str, body: SanctionIn, me: Me, db: DB) -> dict[str, Any]:
    return _sanction(show_id, body, me, db, "mute")


@router.post("/bans", status_code=201)
def ban(show_id: str, body: SanctionIn, me: Me, db: DB) -> dict[str, Any]:
    if body.minutes is not None:
        from livebase.errors import ValidationFailed

        raise ValidationFailed("A ban lasts the show; minutes is for mutes.", loc="body.minutes")
    return _sanction(show_id, body, me, db, "ban")


def _lift(show_id: str, user_id: str, me: Me, db: DB, kind: str) -> Response:
    show = service.check_run_room(db, me, show_id)
    if not service.do_lift(db, me, show, user_id, kind):
        from livebase.errors import NotFound

        raise NotFound(f"User {user_id} is not under a {kind} here.")
    db.commit()
    return Response(status_code=204)


@router.delete("/mutes/{user_id}", status_code=204, dependencies=[NO_BODY])
def unmute(show_id: str, user_id: str, me: Me, db: DB) -> Response:
    return _lift(show_id, user_id, me, db, "mute")


@router.delete("/bans/{user_id}", status_code=204, dependencies=[NO_BODY])
def unban(show_id: str, user_id: str, me: Me, db: DB) -> Response:
    return _lift(show_id, user_id, me, db, "ban")


@router.put("/slow-mode")
def slow_mode(show_id: str, body: SlowModeIn, me: Me, db: DB) -> dict[str, Any]:
    show = service.check_run_room(db, me, show_id)
    seconds = service.do_slow_mode(db, me, show, body.seconds)
    db.commit()
    return {"seconds": seconds}


@router.put("/notice")
def pin_notice(show_id: str, body: NoticeIn, me: Me, db: DB) -> dict[str, Any]:
    """Pin a notice: the room gets a critical ``notice`` frame. The text goes through the
    compliance check like a host's script; anything but allow is refused."""
    show = service.check_run_room(db, me, show_id)
    verdict = check("script", body.text, CheckContext(base_id=show.base_id))
    if not verdict.allowed:
        raise ApiError(
            "The notice breaks the room's rules: " + ", ".join(verdict.labels) + ".",
            code=Code.BLOCKED,
            extra={"verdict": verdict.to_dict()},
        )
    out = service.do_pin_notice(db, me, show, body.text)
    db.commit()
    return out


@router.delete("/notice", status_code=204, dependencies=[NO_BODY])
def unpin_notice(show_id: str, me: Me, db: DB) -> Response:
    show = service.check_run_room(db, me, show_id)
    service.do_pin_notice(db, me, show, None)
    db.commit()
    return Response(status_code=204)


@router.get("/held")
def list_held(
    show_id: str,
    me: Me,
    db: DB,
    page: HeldPage,
    status: Annotated[str, Query(pattern="^(pending|approved|rejected)$")] = "pending",
) -> dict[str, Any]:
    show = service.check_run_room(db, me, show_id)
    rows = service.list_held(db, show, status=status, limit=page.limit, cursor=page.cursor)
    return paged([service.held_view(h) for h in rows], page)


@router.post("/held/{line_id}/approve", dependencies=[NO_BODY])
def approve_held(show_id: str, line_id: str, me: Me, db: DB) -> dict[str, Any]:
    show = service.check_run_room(db, me, show_id)
    line = service.do_decide_held(
        db, me, service.check_held(db, show, line_id), approve=True, reason=None
    )
    db.commit()
    return service.held_view(line)


@router.post("/held/{line_id}/reject")
def reject_held(show_id: str, line_id: str, body: RejectIn, me: Me, db: DB) -> dict[str, Any]:
    show = service.check_run_room(db, me, show_id)
    line = service.do_decide_held(
        db, me, service.check_held(db, show, line_id), approve=False, reason=body.reason
    )
    db.commit()
    return service.held_view(line)
