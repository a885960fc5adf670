"""Base pages: the public dashboard with its targets, the form to apply to join a base,
and the operator's page of pending applications with approve and reject."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.errors import ApiError, ValidationFailed
from livebase.http import DB
from livebase.http_errors import http_status
from livebase.shows import service as shows
from livebase.web.formerrors import FormValues, form_page
from livebase.web.render import (
    PageRoute,
    PageUser,
    SignedIn,
    check_form_csrf,
    redirect,
    render,
    signed_in,
)

if TYPE_CHECKING:  # the model only names a type here; the pages go through the service
    pass

router = APIRouter(include_in_schema=False, route_class=PageRoute)
# Pending applications shown per base; an operator works through them oldest first.
PENDING_LIMIT = 100
# Upcoming and live shows listed on a base's dashboard.
SHOWS_LIMIT = 10
FormText = Annotated[str, Form(max_length=2000)]


def _applications(
    request: Request,
    db: Session,
    me: Principal,
    errors: dict[str, str] | None = None,
    values: FormValues | None = None,
) -> Response:
    groups = []
    for base in bases.operated_bases(db, me, "Only a base's operator reviews applications."):
        pending = bases.list_applications(db, me, base.id, "pending", PENDING_LIMIT, None)
        groups.append((base, sorted(pending[:PENDING_LIMIT], key=lambda a: a.created_at)))
    return render(
        request,
        "bases/applications.html",
        me,
        groups=groups,
        done=request.query_params.get("done"),
        errors=errors or {},
        failed_app=request.path_params.get("app_id") if errors else None,
        values=values,
    )


@router.get("/operator/applications", response_class=HTMLResponse)
def applications(request: Request, db: DB, me: SignedIn) -> Response:
    return _applications(request, db, me)


def _applications_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    return _applications(request, db, signed_in(user), errors, values)


@router.post("/operator/applications/{app_id}/{decision}")
@form_page(_applications_again)
def decide(
    request: Request,
    app_id: str,
    decision: Literal["approve", "reject"],
    db: DB,
    me: SignedIn,
    reason: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    if decision == "reject" and not reason.strip():
        raise ValidationFailed("Say why the application is rejected.", loc="reason")
    app = bases.check_decide(db, me, app_id)
    bases.do_decide(db, me, app, approve=decision == "approve", reason=reason.strip() or None)
    db.commit()
    return redirect(f"/operator/applications?done={decision}")


@router.get("/bases/{base_id}", response_class=HTMLResponse)
def dashboard(request: Request, base_id: str, db: DB, user: PageUser) -> Response:
    base = bases.get_base(db, base_id)
    orgs = bases.list_orgs(db, base.id)
    live = shows.list_shows(db, status="live", base_id=base.id, limit=SHOWS_LIMIT, cursor=None)
    upcoming = shows.list_shows(
        db, status="scheduled", base_id=base.id, limit=SHOWS_LIMIT, cursor=None
    )
    return render(
        request,
        "bases/dashboard.html",
        user,
        base=base,
        targets=bases.target_views(db, base.id),
        brands=[o for o in orgs if o.kind == "brand"],
        agencies=[o for o in orgs if o.kind == "agency"],
        shows=(live[:SHOWS_LIMIT] + sorted(upcoming[:SHOWS_LIMIT], key=lambda s: s.scheduled_at)),
        applied=request.query_params.get("applied") == "1",
        is_operator=user is not None and user.has("operator", base_id=base.id),
        # The base's own staff run it; joining it is for brands and agencies outside.
        is_staff=user is not None
        and (user.is_admin or bool(user.base_ids("operator", "moderator") & {base.id})),
    )


@router.get("/me/applications", response_class=HTMLResponse)
def my_applications(request: Request, db: DB, me: SignedIn) -> Response:
    return render(request, "bases/mine.html", me, rows=bases.list_my_applications(db, me))


@router.get("/bases/{base_id}/apply", response_class=HTMLResponse)
def apply_page(request: Request, base_id: str, db: DB, me: SignedIn) -> Response:
    base = bases.get_base(db, base_id)
    return render(request, "bases/apply.html", me, base=base, form={}, error=None)


@router.post("/bases/{base_id}/apply", response_class=HTMLResponse)
def apply_submit(
    request: Request,
    base_id: str,
    db: DB,
    me: SignedIn,
    org_kind: FormText = "",
    name: FormText = "",
    description: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    base = bases.get_base(db, base_id)
    form = {"org_kind": org_kind, "name": name, "description": description}
    try:
        if len(name.strip()) > 100:
            raise ValidationFailed("A name is up to 100 characters.", loc="body.name")
        bases.do_apply(db, me, base.id, org_kind, name, description)
    except ApiError as exc:
        if http_status(exc) not in (409, 422):
            raise
        db.rollback()
        return render(
            request,
            "bases/apply.html",
            me,
            status_code=http_status(exc),
            base=base,
            form=form,
            error=exc,
        )
    db.commit()
    return redirect("/me/applications?applied=1")
