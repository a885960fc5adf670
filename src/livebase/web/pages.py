"""Home, sign-in, registration, sign-out, language switch; installs every feature's pages."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from livebase.accounts import service as accounts
from livebase.accounts.models import User
from livebase.bases import service as bases
from livebase.errors import ApiError
from livebase.http import DB, SESSION_COOKIE, client_address, get_runtime
from livebase.http_errors import http_status
from livebase.shows import service as shows
from livebase.web.formerrors import FormValues, form_page
from livebase.web.render import PageRoute, PageUser, redirect, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PRE_CSRF = "lb_precsrf"  # double-submit token for forms shown before sign-in


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our login page.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _pre_csrf(request: Request) -> str:
    return request.cookies.get(PRE_CSRF) or secrets.token_urlsafe(16)


def _with_pre_csrf(response: Response, token: str) -> Response:
    response.set_cookie(PRE_CSRF, token, httponly=True, samesite="lax", max_age=3600)
    return response


def _pre_csrf_ok(request: Request, given: str) -> bool:
    cookie = request.cookies.get(PRE_CSRF, "")
    return bool(cookie) and hmac.compare_digest(cookie, given)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB, user: PageUser) -> Response:
    live, upcoming = shows.upcoming_and_live(db)
    all_bases = [(b, bases.target_views(db, b.id)) for b in bases.list_bases(db)]
    return render(request, "home.html", user, live=live, upcoming=upcoming, bases=all_bases)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: PageUser, next: str | None = None) -> Response:
    token = _pre_csrf(request)
    return _with_pre_csrf(
        render(request, "login.html", user, next=_safe_next(next), form_token=token, error=None),
        token,
    )


def _start_session(request: Request, db: DB, user: User, target: str) -> Response:
    settings = get_runtime(request).settings
    raw, _ = accounts.do_issue_token(
        db, user, kind="session", ttl_seconds=settings.session_ttl_seconds
    )
    db.commit()
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https"),
        max_age=settings.session_ttl_seconds,
    )
    response.delete_cookie(PRE_CSRF)
    return response


def _login_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    token = _pre_csrf(request)
    page = render(
        request,
        "login.html",
        user,
        next=_safe_next(values.get("next")),
        form_token=token,
        error=None,
        errors=errors,
        username=values.get("username"),
    )
    return _with_pre_csrf(page, token)


@router.post("/login", response_class=HTMLResponse)
@form_page(_login_again)
def login_submit(
    request: Request,
    db: DB,
    user: PageUser,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    form_token: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    token = _pre_csrf(request)
    if not _pre_csrf_ok(request, form_token):
        return _with_pre_csrf(
            render(
                request,
                "login.html",
                user,
                status_code=403,
                next=next,
                form_token=token,
                error="form_expired",
            ),
            token,
        )
    rt = get_runtime(request)
    try:
        account = accounts.do_authenticate(
            db, rt.limiter, rt.settings, username.strip(), password, client_address(request)
        )
    except ApiError as exc:
        return _with_pre_csrf(
            render(
                request,
                "login.html",
                user,
                status_code=http_status(exc),
                next=next,
                form_token=token,
                error=exc.code,
                username=username,
            ),
            token,
        )
    return _start_session(request, db, account, next)


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, user: PageUser) -> Response:
    token = _pre_csrf(request)
    return _with_pre_csrf(
        render(request, "register.html", user, form_token=token, error=None), token
    )


def _register_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    token = _pre_csrf(request)
    page = render(
        request,
        "register.html",
        user,
        form_token=token,
        error=None,
        errors=errors,
        username=values.get("username"),
        display_name=values.get("display_name"),
    )
    return _with_pre_csrf(page, token)


@router.post("/register", response_class=HTMLResponse)
@form_page(_register_again)
def register_submit(
    request: Request,
    db: DB,
    user: PageUser,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    form_token: Annotated[str, Form(max_length=100)],
    display_name: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    token = _pre_csrf(request)
    if not _pre_csrf_ok(request, form_token):
        return _with_pre_csrf(
            render(
                request,
                "register.html",
                user,
                status_code=403,
                form_token=token,
                error="form_expired",
            ),
            token,
        )
    rt = get_runtime(request)
    address = client_address(request)
    try:
        accounts.check_signup_rate(rt.limiter, rt.settings, address)
        account = accounts.do_register(db, username.strip(), password, display_name or None)
    except ApiError as exc:
        return _with_pre_csrf(
            render(
                request,
                "register.html",
                user,
                status_code=http_status(exc),
                form_token=token,
                error=exc,
                username=username,
                display_name=display_name,
            ),
            token,
        )
    accounts.note_signup(rt.limiter, address)
    return _start_session(request, db, account, "/")


@router.post("/logout")
def logout(
    request: Request, db: DB, user: PageUser, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    from livebase.web.render import check_form_csrf

    if user is not None:
        check_form_csrf(request, user, csrf_token)
        if user.token_id:
            accounts.do_revoke_token(db, user.token_id)
            db.commit()
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE)
    return response


def install(app: FastAPI, feature_pages: list[APIRouter]) -> None:
    """The shared pages, then each feature's (their order is the nav bar's), and the HTML
    error pages for page requests."""
    from livebase.web import errorpages

    app.include_router(router)
    for r in feature_pages:
        app.include_router(r)
    app.mount("/static", StaticFiles(directory=str(_static_dir())), name="static")
    errorpages.install(app)


def _static_dir() -> object:
    from pathlib import Path

    return Path(__file__).parent / "static"
