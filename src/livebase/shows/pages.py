"""Show pages: a host's (or organisation staff's) list and editor — title, time, cover,
ingest, the shelf of numbered links, explaining, start and end — and the public show page.

The stream key appears only in the ingest panel, which only the show's host sees.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from livebase.accounts.service import Principal, user_by_username
from livebase.bases import service as bases
from livebase.catalog import service as catalog
from livebase.db import new_id
from livebase.errors import ApiError, Forbidden, ValidationFailed
from livebase.http import DB, get_runtime
from livebase.http_errors import http_status
from livebase.rooms import console as room_console
from livebase.settings import Settings
from livebase.shows import service as shows
from livebase.shows.api import hls_url
from livebase.shows.models import Show
from livebase.uploads.images import store_image
from livebase.web.formerrors import FieldError, FormValues, field_errors, form_page
from livebase.web.forms import parse_local_datetime, parse_yuan
from livebase.web.i18n import pick_lang, translator
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
    from livebase.bases.models import Organisation

router = APIRouter(include_in_schema=False, route_class=PageRoute)
# Shows listed per scope on the host's page; older ones are reachable through the API.
LIST_LIMIT = 100
# Products offered per brand when adding to a shelf.
PICK_LIMIT = 100
FormText = Annotated[str, Form(max_length=2000)]


def _show_orgs(db: DB, me: Principal) -> list[Organisation]:
    """Organisations whose shows this user runs: as a host, or as merchant/agency staff."""
    if me.is_admin:
        return [o for b in bases.list_bases(db) for o in bases.list_orgs(db, b.id)]
    ids = me.org_ids("host", "merchant", "agency")
    if not ids:
        raise Forbidden("Only hosts and organisation staff run shows.")
    return [bases.get_org(db, oid) for oid in sorted(ids)]


@router.get("/host/shows", response_class=HTMLResponse)
def show_list(request: Request, db: DB, me: SignedIn) -> Response:
    orgs = _show_orgs(db, me)
    found: dict[str, Show] = {}
    if me.is_admin:
        scopes: list[dict[str, str]] = [{}]
    else:
        scopes = [{"host_id": me.id}] + [
            {"org_id": oid} for oid in sorted(me.org_ids("merchant", "agency"))
        ]
    for scope in scopes:
        for show in shows.list_shows(db, status=None, limit=LIST_LIMIT, cursor=None, **scope):
            found[show.id] = show
    order = {"live": 0, "scheduled": 1, "ended": 2}
    rows = sorted(found.values(), key=lambda s: (order.get(s.status, 3), s.scheduled_at))
    names = {o.id: o.name for o in orgs}
    return render(
        request,
        "shows/list.html",
        me,
        shows=rows,
        org_names=names,
        can_create=me.is_admin or bool(me.org_ids("host", "merchant", "agency")),
    )


def _hosts(db: DB, me: Principal, orgs: list[Organisation]) -> list[tuple[str, list[str]]]:
    """Hosts a staff member may schedule a show for, by organisation: (org name, usernames)."""
    out = []
    for org in orgs:
        if bases.is_org_staff(me, org.id):
            names = [m.username for m in bases.list_members(db, me, org.id) if m.role == "host"]
            if names:
                out.append((org.name, names))
    return out


def _new_form(
    request: Request, db: DB, me: Principal, form: dict[str, str], error: ApiError | None = None
) -> Response:
    orgs = _show_orgs(db, me)
    loc = error.fields[0]["loc"].removeprefix("body.") if error and error.fields else ""
    t = translator(pick_lang(request))
    errors = field_errors(error, t) if isinstance(error, ValidationFailed) else {}
    if "host_id" in errors:  # the service names the host by id; the form by username
        errors["host_username"] = errors.pop("host_id")
    if isinstance(error, Forbidden):
        loc = "host_me"  # the chosen organisation is not one the user hosts for
        errors = {"host_username": t("form.err.host_me")}
    return render(
        request,
        "shows/new.html",
        me,
        status_code=http_status(error) if error else 200,
        orgs=orgs,
        hosts=_hosts(db, me, orgs),
        form=form,
        error=error,
        error_field=loc,
        errors=errors,
    )


@router.get("/host/shows/new", response_class=HTMLResponse)
def new_show(request: Request, db: DB, me: SignedIn) -> Response:
    return _new_form(request, db, me, {})


@router.post("/host/shows/new", response_class=HTMLResponse)
def create_show(
    request: Request,
    db: DB,
    me: SignedIn,
    org_id: Annotated[str, Form(max_length=40)] = "",
    title: FormText = "",
    scheduled_at: FormText = "",
    host_username: FormText = "",
    csrf_token: FormText = "",
    cover: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_form_csrf(request, me, csrf_token)
    _show_orgs(db, me)
    form = {
        "org_id": org_id,
        "title": title,
        "scheduled_at": scheduled_at,
        "host_username": host_username,
    }
    try:
        if not 1 <= len(title.strip()) <= 100:
            raise ValidationFailed("A title is 1–100 characters.", loc="title")
        when = parse_local_datetime(scheduled_at, "scheduled_at")
        host_id = None
        if host_username.strip():
            host = user_by_username(db, host_username.strip())
            if host is None:
                raise ValidationFailed("No user with that name.", loc="host_username")
            host_id = host.id
        show_host = shows.check_create_show(db, me, org_id, host_id)
        show = shows.do_create_show(db, me, org_id, title, when, show_host)
        if cover is not None and cover.filename:
            _store_cover(db, me, show, cover.file.read(), get_runtime(request).settings)
    except (ValidationFailed, Forbidden) as exc:
        db.rollback()
        return _new_form(request, db, me, form, exc)
    db.commit()
    return redirect(f"/host/shows/{show.id}")


def _store_cover(db: DB, me: Principal, show: Show, data: bytes, settings: Settings) -> None:
    """The cover chosen on the new-show form, stored as the cover upload stores it."""
    try:
        stored = store_image(
            data, settings.uploads_dir, f"shows/{show.id}", new_id("cov"), settings.upload_limit
        )
    except ApiError as exc:  # not an image, too large, too many pixels
        raise FieldError(exc.detail, loc="cover", key="form.err.cover") from exc
    shows.do_set_cover(db, me, show, stored.path, uploads_dir=settings.uploads_dir)


@dataclass
class Pick:
    sku_id: str
    label: str
    price_fen: int


def pick_label(title: str, attrs: dict[str, str]) -> str:
    """ "韩国进口 精华液 30ml" + {"规格": "30ml"} → the title once, not "… 30ml 30ml":
    values the title already says are left out."""
    extra = [v for v in attrs.values() if v not in title]
    return " ".join([title, *extra])


def _picks(db: DB, me: Principal, show: Show) -> list[Pick]:
    """SKUs that may go on this show's shelf: a brand's own show sells the brand's active
    products (品牌自播); an agency's show any active product of its base."""
    org = bases.get_org(db, show.org_id)
    brand_ids = (
        [org.id]
        if org.kind == "brand"
        else [o.id for o in bases.list_orgs(db, show.base_id) if o.kind == "brand"]
    )
    on_shelf = {i.sku_id for i in show.shelf}
    out = []
    for brand_id in brand_ids:
        for p in catalog.list_products(
            db, me, org_id=brand_id, status="active", limit=PICK_LIMIT, cursor=None
        )[:PICK_LIMIT]:
            if p.status != "active":
                continue
            for sku in p.skus:
                if sku.id not in on_shelf:
                    out.append(Pick(sku.id, pick_label(p.title, sku.attrs), sku.price_fen))
    return out


def _editor(
    request: Request,
    db: Session,
    me: Principal,
    show_id: str,
    errors: dict[str, str] | None = None,
    values: FormValues | None = None,
) -> Response:
    show = shows.check_manage_show(db, me, show_id)
    ingest = None
    if me.id == show.host_id or me.is_admin:
        settings = get_runtime(request).settings
        ingest = {
            "server": settings.effective_rtmp_url,
            "stream": f"{show.public_id}?key={show.stream_key}",
        }
    return render(
        request,
        "shows/edit.html",
        me,
        show=show,
        lines=shows.shelf_lines(db, show),
        picks=_picks(db, me, show),
        ingest=ingest,
        org=bases.get_org(db, show.org_id),
        notice=request.query_params.get("done"),
        errors=errors or {},
        values=values,
    )


@router.get("/host/shows/{show_id}", response_class=HTMLResponse)
def edit_show(request: Request, show_id: str, db: DB, me: SignedIn) -> Response:
    return _editor(request, db, me, show_id)


def _editor_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    return _editor(request, db, signed_in(user), request.path_params["show_id"], errors, values)


def _done(show_id: str, what: str) -> Response:
    return redirect(f"/host/shows/{show_id}?done={what}#{what}")


@router.post("/host/shows/{show_id}")
@form_page(_editor_again)
def update_show(
    request: Request,
    show_id: str,
    db: DB,
    me: SignedIn,
    title: FormText = "",
    scheduled_at: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    if not 1 <= len(title.strip()) <= 100:
        raise ValidationFailed("A title is 1–100 characters.", loc="title")
    when = parse_local_datetime(scheduled_at, "scheduled_at")
    show = shows.check_manage_show(db, me, show_id)
    shows.do_update_show(db, me, show, title=title, scheduled_at=when)
    db.commit()
    return _done(show_id, "details")


@router.post("/host/shows/{show_id}/ingest/rotate")
def rotate_key(
    request: Request, show_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    show = shows.get_show(db, show_id)
    shows.check_host(me, show)
    shows.do_rotate_key(db, me, show)
    db.commit()
    return _done(show_id, "ingest")


def _live_price(text: str) -> int | None:
    return parse_yuan(text, "live_price") if text.strip() else None


@router.post("/host/shows/{show_id}/shelf/add")
def shelf_add(
    request: Request,
    show_id: str,
    db: DB,
    me: SignedIn,
    sku_id: FormText = "",
    live_price: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    show = shows.check_manage_show(db, me, show_id)
    shows.do_shelf_add(db, me, show, sku_id, _live_price(live_price))
    db.commit()
    return _done(show_id, "shelf")


@router.post("/host/shows/{show_id}/shelf/{no}/move")
def shelf_move(
    request: Request,
    show_id: str,
    no: int,
    db: DB,
    me: SignedIn,
    direction: Annotated[Literal["up", "down"], Form()] = "up",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    show = shows.check_manage_show(db, me, show_id)
    shows.do_shelf_move(db, me, show, no, up=direction == "up")
    db.commit()
    return _done(show_id, "shelf")


@router.post("/host/shows/{show_id}/shelf/{no}/price")
def shelf_price(
    request: Request,
    show_id: str,
    no: int,
    db: DB,
    me: SignedIn,
    live_price: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    show = shows.check_manage_show(db, me, show_id)
    shows.do_shelf_reprice(db, me, show, no, _live_price(live_price))
    db.commit()
    return _done(show_id, "shelf")


@router.post("/host/shows/{show_id}/shelf/{no}/remove")
def shelf_remove(
    request: Request, show_id: str, no: int, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    show = shows.check_manage_show(db, me, show_id)
    shows.do_shelf_remove(db, me, show, no)
    db.commit()
    return _done(show_id, "shelf")


@router.post("/host/shows/{show_id}/explaining")
def set_explaining(
    request: Request,
    show_id: str,
    db: DB,
    me: SignedIn,
    no: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    if no.strip() and not no.strip().isdigit():
        raise ValidationFailed("Choose a link number.", loc="no")
    show = shows.check_manage_show(db, me, show_id)
    shows.do_set_explaining(db, me, show, int(no) if no.strip() else None)
    db.commit()
    return _done(show_id, "shelf")


@router.post("/host/shows/{show_id}/start")
def start_show(
    request: Request, show_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    shows.do_start(db, me, shows.check_manage_show(db, me, show_id))
    db.commit()
    return _done(show_id, "status")


@router.post("/host/shows/{show_id}/end")
def end_show(
    request: Request, show_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    shows.do_end(db, me, shows.check_manage_show(db, me, show_id))
    db.commit()
    return _done(show_id, "status")


@router.get("/shows/{show_id}", response_class=HTMLResponse)
def public_show(request: Request, show_id: str, db: DB, user: PageUser) -> Response:
    show = shows.get_show(db, show_id)
    can_manage = user is not None and shows.can_manage(user, show)
    lines = shows.shelf_lines(db, show)
    t = translator(pick_lang(request))
    return render(
        request,
        "shows/public.html",
        user,
        show=show,
        lines=lines,
        org=bases.get_org(db, show.org_id),
        can_manage=can_manage,
        can_console=user is not None and room_console.can_run_room(user, show),
        hls_url=hls_url(get_runtime(request).settings, show),
        # The room's page script renders frames with these (no second fetch on load).
        room_i18n=room_console.page_messages(t),
        shelf_json=[asdict(line) for line in lines],
    )


# The host console (中控台) lives with the rooms feature; its pages ride on this router.
router.include_router(room_console.router)
