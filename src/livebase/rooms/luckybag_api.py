"""Lucky-bag routes (docs/luckybag.md has the shapes).

- ``POST /api/v1/shows/{id}/lucky-bags`` (the show's host, its organisation's staff or
  assistants) → 201 the bag, ``status: "open"``, ``seed_hash``, ``ends_at``.
- ``GET /api/v1/shows/{id}/lucky-bags`` (public) → ``{items, next_cursor}``, newest first.
- ``GET /api/v1/lucky-bags/{id}`` (public) → the bag; ``seed`` and ``winners`` once drawn.
- ``POST /api/v1/lucky-bags/{id}/draw`` (managers) → the drawn bag (an early draw).
- ``GET /api/v1/lucky-bags/{id}/entrants`` (public, after the draw) → ``{items: [{user_id}],
  next_cursor, count, digest}`` paged by id; ``/entrants.txt`` → every id, one per line
  (the exact bytes ``entrants_digest`` is the SHA-256 of).
- ``GET /api/v1/me/prizes`` → the bags I won.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import Field, StrictInt

from livebase.db import utcnow
from livebase.http import DB, NO_BODY, Me, Page, RuntimeDep, page_of, paged, require_json
from livebase.rooms import luckybag
from livebase.rooms.luckybag_entries import ENTRIES
from livebase.schemas import Body, Name, rfc3339

router = APIRouter(prefix="/api/v1", tags=["lucky bags"], dependencies=[Depends(require_json)])
BagPage = Annotated[Page, Depends(page_of("bag"))]
# Entrants page by user id (any prefix of ours).
Limit = Annotated[int, Query(ge=1, le=100)]
UserCursor = Annotated[str | None, Query(pattern="^[a-z]{2,5}_[0-9a-hjkmnp-tv-z]{26}$")]


class BagIn(Body):
    prize: Annotated[Name, Field(min_length=1, max_length=100)]
    winners_count: Annotated[StrictInt, Field(ge=1, le=luckybag.MAX_WINNERS)]
    condition: Literal["chat", "follow"]
    phrase: Annotated[Name, Field(min_length=1, max_length=40)] | None = None
    duration_s: Annotated[StrictInt, Field(ge=luckybag.MIN_DURATION_S, le=luckybag.MAX_DURATION_S)]


@router.post("/shows/{show_id}/lucky-bags", status_code=201)
def create_bag(show_id: str, body: BagIn, me: Me, db: DB) -> dict[str, Any]:
    show = luckybag.check_manage_show(db, me, show_id)
    bag = luckybag.do_create_bag(db, me, show, luckybag.BagSpec(**body.model_dump()))
    db.commit()
    return luckybag.bag_view(db, bag)


@router.get("/shows/{show_id}/lucky-bags")
def list_bags(show_id: str, db: DB, page: BagPage) -> dict[str, Any]:
    bags = luckybag.list_show_bags(db, show_id, limit=page.limit, cursor=page.cursor)
    return paged([luckybag.bag_view(db, b) for b in bags], page)


@router.get("/lucky-bags/{bag_id}")
def read_bag(bag_id: str, db: DB) -> dict[str, Any]:
    return luckybag.bag_view(db, luckybag.get_bag(db, bag_id))


@router.post("/lucky-bags/{bag_id}/draw", dependencies=[NO_BODY])
def draw_now(bag_id: str, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    bag = luckybag.check_manage_bag(db, me, bag_id)
    if bag.status == "open":
        # This node's accepted lines first; another node's last ~0.2 s may miss an early
        # draw (docs/luckybag.md), never a timed one.
        rt.part(ENTRIES).flush()
        luckybag.do_draw(db, me, bag, utcnow())
        db.commit()
    return luckybag.bag_view(db, bag)


@router.get("/lucky-bags/{bag_id}/entrants")
def list_entrants(
    bag_id: str, db: DB, limit: Limit = 20, cursor: UserCursor = None
) -> dict[str, Any]:
    bag = luckybag.get_bag(db, bag_id)
    ids = luckybag.entrants(db, bag)
    after = [i for i in ids if cursor is None or i > cursor]
    items = [{"id": i, "user_id": i} for i in after[: limit + 1]]
    out = paged(items, Page(limit, cursor))
    out.update(count=bag.entrants_count, digest=bag.entrants_digest)
    return out


@router.get("/lucky-bags/{bag_id}/entrants.txt", response_class=PlainTextResponse)
def entrants_text(bag_id: str, db: DB) -> PlainTextResponse:
    bag = luckybag.get_bag(db, bag_id)
    return PlainTextResponse("\n".join(luckybag.entrants(db, bag)))


@router.get("/me/prizes")
def my_prizes(me: Me, db: DB, page: BagPage) -> dict[str, Any]:
    rows = luckybag.my_prizes(db, me, limit=page.limit, cursor=page.cursor)
    items = [
        {
            "id": p.bag_id,
            "bag_id": p.bag_id,
            "show_id": p.show_id,
            "prize": p.prize,
            "rank": p.rank,
            "drawn_at": rfc3339(p.drawn_at),
        }
        for p in rows
    ]
    return paged(items, page)
