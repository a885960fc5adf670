from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from livebase.compliance import CheckContext, check
from livebase.compliance import service as moderation
from livebase.compliance.models import ModerationItem, ModerationTerm
from livebase.compliance.schemas import CheckIn, RejectIn, TermIn
from livebase.compliance.sync import sync_now
from livebase.errors import Forbidden, RateLimited
from livebase.http import DB, NO_BODY, Me, Page, RuntimeDep, page_of, paged, require_json
from livebase.schemas import rfc3339

ItemPage = Annotated[Page, Depends(page_of("mod"))]

router = APIRouter(
    prefix="/api/v1/moderation", tags=["compliance"], dependencies=[Depends(require_json)]
)


def item_out(item: ModerationItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "base_id": item.base_id,
        "kind": item.kind,
        "subject_type": item.subject_type,
        "subject_id": item.subject_id,
        "show_id": item.show_id,
        "author_id": item.author_id,
        "text": item.text,
        "image_url": item.image_path,  # a picture held for the text inside it
        "verdict": item.verdict,
        "labels": [x for x in item.labels.split(",") if x],
        "status": item.status,
        "reason": item.reason,
        "created_at": rfc3339(item.created_at),
        "decided_at": rfc3339(item.decided_at),
    }


def term_out(term: ModerationTerm) -> dict[str, Any]:
    return {
        "id": term.id,
        "term": term.term,
        "label": term.label,
        "options": [o for o in term.options.split(",") if o],
        "base_id": term.base_id or None,
    }


@router.post("/checks")
def check_text(body: CheckIn, me: Me, rt: RuntimeDep) -> dict[str, Any]:
    """A dry run for hosts and merchants: the verdict a text would get; nothing is kept."""
    n, ttl = rt.limiter.hit(f"modcheck:{me.id}", 60)
    if n > rt.settings.moderation_checks_per_minute:
        raise RateLimited("Too many checks; wait a moment.", retry_after=ttl)
    own = {g.base_id for g in me.grants if g.base_id}
    if body.base_id is not None and not me.is_admin and body.base_id not in own:
        raise Forbidden("You do not work for that base.")
    base_id = body.base_id or (next(iter(own)) if len(own) == 1 else None)
    return check(body.kind, body.text, CheckContext(base_id=base_id)).to_dict()


@router.get("/queue")
def queue(
    me: Me,
    db: DB,
    page: ItemPage,
    status: Annotated[str, Query(pattern="^(pending|approved|rejected|superseded)$")] = "pending",
    kind: Annotated[str | None, Query(pattern="^(chat|listing|script)$")] = None,
) -> dict[str, Any]:
    rows = moderation.list_queue(
        db, me, status=status, kind=kind, limit=page.limit, cursor=page.cursor
    )
    return paged([item_out(i) for i in rows], page)


@router.get("/items/{item_id}")
def get_item(item_id: str, me: Me, db: DB) -> dict[str, Any]:
    return item_out(moderation.get_item(db, me, item_id))


@router.post("/items/{item_id}/approve", dependencies=[NO_BODY])
def approve(item_id: str, me: Me, db: DB) -> dict[str, Any]:
    item = moderation.do_decide(db, me, moderation.check_decide(db, me, item_id), approve=True)
    db.commit()
    return item_out(item)


@router.post("/items/{item_id}/reject")
def reject(item_id: str, body: RejectIn, me: Me, db: DB) -> dict[str, Any]:
    item = moderation.check_decide(db, me, item_id)
    moderation.do_decide(db, me, item, approve=False, reason=body.reason)
    db.commit()
    return item_out(item)


@router.get("/terms")
def list_terms(me: Me, db: DB) -> dict[str, Any]:
    return {"items": [term_out(t) for t in moderation.list_terms(db, me)], "next_cursor": None}


@router.post("/terms", status_code=201)
def add_term(body: TermIn, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    scope = moderation.check_term_scope(me, body.base_id)
    term = moderation.do_add_term(db, me, body.term, body.label, body.options, scope)
    db.commit()
    sync_now(db, rt.settings)
    return term_out(term)


@router.delete("/terms/{term_id}", status_code=204, dependencies=[NO_BODY])
def remove_term(term_id: str, me: Me, db: DB, rt: RuntimeDep) -> Response:
    moderation.check_term_editable(db, me, term_id)  # another base's: 404; shared: 403
    moderation.do_remove_term(db, me, term_id)
    db.commit()
    sync_now(db, rt.settings)
    return Response(status_code=204)


@router.get("/stats")
def get_stats(
    me: Me, db: DB, base_id: Annotated[str | None, Query(max_length=40)] = None
) -> dict[str, Any]:
    s = moderation.stats(db, me, base_id)
    return {
        "by_label": s.by_label,
        "by_verdict": s.by_verdict,
        "by_show": [{"show_id": k, "n": n} for k, n in s.by_show],
        "by_day": [{"day": k, "n": n} for k, n in s.by_day],
        "pending": s.pending,
    }
