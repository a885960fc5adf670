from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from livebase.accounts import service
from livebase.accounts.models import User
from livebase.accounts.schemas import RegisterIn, TokenIn
from livebase.http import DB, NO_BODY, Me, RuntimeDep, client_address, require_json
from livebase.schemas import rfc3339

router = APIRouter(prefix="/api/v1", tags=["accounts"], dependencies=[Depends(require_json)])


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "created_at": rfc3339(user.created_at),
    }


@router.post("/accounts", status_code=201)
def register(body: RegisterIn, request: Request, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    address = client_address(request)
    service.check_signup_rate(rt.limiter, rt.settings, address)
    user = service.do_register(db, body.username, body.password, body.display_name)
    db.commit()
    service.note_signup(rt.limiter, address)
    return user_out(user)


@router.post("/auth/tokens", status_code=201)
def issue_token(body: TokenIn, request: Request, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    user = service.do_authenticate(
        db, rt.limiter, rt.settings, body.username, body.password, client_address(request)
    )
    raw, row = service.do_issue_token(
        db, user, kind="api", ttl_seconds=rt.settings.token_ttl_seconds
    )
    db.commit()
    return {"access_token": raw, "token_type": "bearer", "expires_at": rfc3339(row.expires_at)}


@router.delete("/auth/tokens/current", status_code=204, dependencies=[NO_BODY])
def revoke_current(me: Me, db: DB) -> Response:
    if me.token_id:
        service.do_revoke_token(db, me.token_id)
        db.commit()
    return Response(status_code=204)


@router.get("/me")
def me(me: Me) -> dict[str, Any]:
    out = user_out(me.user)
    out["roles"] = [{"role": g.role, "base_id": g.base_id, "org_id": g.org_id} for g in me.grants]
    return out
