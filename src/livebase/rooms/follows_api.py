"""Follow routes: ``POST|DELETE /api/v1/hosts/{user_id}/follow``, ``GET
/api/v1/hosts/{user_id}`` (public, with the follower count) and ``GET /api/v1/me/follows``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from livebase.http import DB, NO_BODY, MaybeMe, Me, Page, page_of, paged, require_json
from livebase.rooms import follows
from livebase.schemas import rfc3339

router = APIRouter(prefix="/api/v1", tags=["follows"], dependencies=[Depends(require_json)])
FollowPage = Annotated[Page, Depends(page_of("fol"))]


@router.get("/hosts/{user_id}")
def read_host(user_id: str, db: DB, me: MaybeMe) -> dict[str, Any]:
    host = follows.check_host(db, user_id)
    return asdict(follows.host_view(db, host, me))


@router.post("/hosts/{user_id}/follow", status_code=201, dependencies=[NO_BODY])
def follow(user_id: str, me: Me, db: DB) -> JSONResponse:
    """201 when this request made the follow, 200 when it was already there (same body)."""
    host = follows.check_host(db, user_id)
    made = follows.do_follow(db, me, host)
    db.commit()
    view = asdict(follows.host_view(db, host, me))
    return JSONResponse(view, status_code=201 if made else 200)


@router.delete("/hosts/{user_id}/follow", status_code=204, dependencies=[NO_BODY])
def unfollow(user_id: str, me: Me, db: DB) -> Response:
    follows.check_host(db, user_id)
    follows.do_unfollow(db, me, user_id)
    db.commit()
    return Response(status_code=204)


@router.get("/me/follows")
def my_follows(me: Me, db: DB, page: FollowPage) -> dict[str, Any]:
    rows = follows.list_my_follows(db, me, limit=page.limit, cursor=page.cursor)
    items = [
        {
            "id": r.id,
            "host_id": r.host_id,
            "display_name": r.display_name,
            "followed_at": rfc3339(r.followed_at),
        }
        for r in rows
    ]
    return paged(items, page)
