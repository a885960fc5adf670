"""Page rendering: one Jinja2 environment, the shared layout, the signed-in user, CSRF,
and the page route class that turns domain errors into HTML pages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from livebase.accounts import web as signed_in_user
from livebase.accounts.service import Principal
from livebase.errors import ApiError, Unauthenticated, ValidationFailed
from livebase.http import get_db, get_runtime
from livebase.http_errors import http_headers, http_status
from livebase.web.formerrors import FormRenderer, FormValues, field_errors, renderer_of
from livebase.web.forms import PAGE_TZ
from livebase.web.i18n import COOKIE, pick_lang, translator

_PACKAGE = Path(__file__).resolve().parent.parent
STATIC_DIR = Path(__file__).resolve().parent / "static"


def _template_dirs() -> list[str]:
    # Every feature keeps its pages' templates in its own package's templates/ folder.
    return [str(p) for p in sorted(_PACKAGE.glob("*/templates")) if p.is_dir()]


templates = Jinja2Templates(directory=_template_dirs())


def yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


# Large amounts read better in the units people say: 亿 and 万 in Chinese, bn and m in English.
_SHORT_UNITS = {"zh": [(10**8, "亿元"), (10**4, "万元")], "en": [(10**9, " bn"), (10**6, " m")]}


def yuan_short(fen: int | None, lang: str = "zh") -> str:
    """12_000_000_000 fen → "1.2亿元" / "¥120 m"; small amounts stay exact (yuan())."""
    if fen is None:
        return ""
    for size, unit in _SHORT_UNITS.get(lang, _SHORT_UNITS["en"]):
        if abs(fen) >= size * 100:
            amount = (Decimal(fen) / (size * 100)).quantize(Decimal("0.01"))
            number = f"{amount:f}".rstrip("0").rstrip(".")
            return f"{number}{unit}" if lang == "zh" else f"¥{number}{unit}"
    return yuan(fen)


def local_time(value: datetime | None) -> str:
    """Times on pages are Beijing time, the base's own clock (see forms.PAGE_TZ)."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PAGE_TZ).strftime("%Y-%m-%d %H:%M")


def local_input(value: datetime | None) -> str:
    """The value a ``datetime-local`` input expects, in Beijing time."""
    return local_time(value).replace(" ", "T")


@pass_context
def local_time_tz(context: Any, value: datetime | None) -> str:
    """Beijing time with its zone said, in the page's language: "2026-12-02 20:00 北京时间"."""
    if value is None:
        return ""
    return f"{local_time(value)} {context['t']('form.beijing_time_short')}"


templates.env.filters["local_time_tz"] = local_time_tz
templates.env.filters["yuan"] = yuan
templates.env.filters["local_time"] = local_time
templates.env.filters["yuan_short"] = yuan_short
templates.env.filters["local_input"] = local_input


def page_principal(request: Request, db: Annotated[Session, Depends(get_db)]) -> Principal | None:
    secret = get_runtime(request).settings.secret_key
    principal = signed_in_user.request_principal(request, db, secret, api=False)
    request.state.principal = principal
    return principal


PageUser = Annotated[Principal | None, Depends(page_principal)]


def signed_in(user: PageUser) -> Principal:
    """A page for signed-in users: anonymous visitors are sent to the sign-in page (the
    page route turns Unauthenticated into that redirect)."""
    if user is None:
        raise Unauthenticated("Sign in first.")
    return user


SignedIn = Annotated[Principal, Depends(signed_in)]


def render(
    request: Request, name: str, user: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang = pick_lang(request)
    settings = get_runtime(request).settings
    t = translator(lang)
    error = context.get("error")
    if "errors" not in context:  # a handler that caught its own error gets field messages
        context["errors"] = field_errors(error, t) if isinstance(error, ApiError) else {}
    csrf = signed_in_user.form_csrf_token(settings.secret_key, user)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "t": t,
            "lang": lang,
            "csrf": csrf,
            "path": request.url.path,
            "demo": settings.demo,
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


def render_error(request: Request, status: int, code: str, detail: str = "") -> HTMLResponse:
    user: Principal | None = getattr(request.state, "principal", None)
    return render(
        request, "error.html", user, status_code=status, status=status, code=code, detail=detail
    )


def check_form_csrf(request: Request, user: Principal | None, token: str) -> None:
    signed_in_user.check_form_csrf(get_runtime(request).settings.secret_key, user, token)


CsrfField = Annotated[str, Form(alias="csrf_token", max_length=100)]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> RedirectResponse:
    # After a refused POST there is no page to come back to; the form's page is unknown.
    target = request.url.path if request.method == "GET" else "/"
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return redirect(f"/login?next={quote(target, safe='/')}")


async def _form_again(
    request: Request, renderer: FormRenderer, error: ValidationFailed | RequestValidationError
) -> Response:
    """The failed form's page again with what was typed and the field errors. The
    request's own session is gone (rolled back), so this one reads in a fresh session."""
    posted = await request.form()
    values = FormValues([(k, v) for k, v in posted.multi_items() if isinstance(v, str)])
    errors = field_errors(error, translator(pick_lang(request)))

    def again() -> Response:
        with get_runtime(request).sessions() as db:
            user = page_principal(request, db)
            response = renderer(request, db, user, values, errors)
            db.rollback()  # a page that failed its input changes nothing
        response.status_code = 422
        return response

    return await run_in_threadpool(again)


class PageRoute(APIRoute):
    """A route that answers in HTML when it fails: a sign-in redirect for anonymous
    visitors; a form's own page again, with the field errors, when a POST marked with
    formerrors.form_page fails its input; an error page with the right status (403, 404,
    409, 422) otherwise.

    The JSON error handlers of the API stay as they are; only page routes use this class.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except Unauthenticated:
                return login_redirect(request)
            except (ValidationFailed, RequestValidationError) as exc:
                renderer = renderer_of(self.endpoint)
                if renderer is not None and request.method == "POST":
                    return await _form_again(request, renderer, exc)
                if isinstance(exc, ApiError):
                    return render_error(request, http_status(exc), exc.code, exc.detail)
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                return render_error(
                    request, 422, "validation_failed", f"{where}: {first.get('msg', '')}"
                )
            except ApiError as exc:
                page = render_error(request, http_status(exc), exc.code, exc.detail)
                # 503 overloaded and 429 rate_limited say when to come back, as the API does.
                page.headers.update(http_headers(exc) or {})
                return page

        return handler
