"""Page rendering: one Jinja2 environment, the shared layout, the signed-in user, CSRF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from livebase.accounts.security import csrf_ok, csrf_token
from livebase.accounts.service import Principal, resolve_token
from livebase.errors import Forbidden
from livebase.http import SESSION_COOKIE, get_db, get_runtime
from livebase.web.i18n import COOKIE, pick_lang, translator

_PACKAGE = Path(__file__).resolve().parent.parent


def _template_dirs() -> list[str]:
    # Every feature keeps its pages' templates in its own package's templates/ folder.
    return [str(p) for p in sorted(_PACKAGE.glob("*/templates")) if p.is_dir()]


templates = Jinja2Templates(directory=_template_dirs())


def yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"¥{fen // 100:,}.{fen % 100:02d}"


templates.env.filters["yuan"] = yuan


def page_principal(
    request: Request, db: Annotated[Session, Depends(get_db)]
) -> Principal | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = resolve_token(db, cookie, kind="session") if cookie else None
    request.state.principal = principal
    return principal


PageUser = Annotated[Principal | None, Depends(page_principal)]


def render(request: Request, name: str, user: Principal | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    lang = pick_lang(request)
    settings = get_runtime(request).settings
    csrf = csrf_token(settings.secret_key, user.session_token) if user and \
        user.session_token else ""
    response = templates.TemplateResponse(
        request, name,
        {"user": user, "t": translator(lang), "lang": lang, "csrf": csrf, "path":
         request.url.path, "demo": settings.demo, **context},
        status_code=status_code,
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


def check_form_csrf(request: Request, user: Principal | None, token: str) -> None:
    settings = get_runtime(request).settings
    if user is None or not user.session_token or not csrf_ok(
        settings.secret_key, user.session_token, token
    ):
        raise Forbidden("The form has expired; reload the page and try again.")


CsrfField = Annotated[str, Form(alias="csrf_token", max_length=100)]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> RedirectResponse:
    return redirect(f"/login?next={request.url.path}")
