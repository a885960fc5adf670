"""Who is signed in on a request, and the CSRF checks a cookie session needs.

The one place for both: the API's dependencies (``livebase.http``) and the pages'
(``livebase.web.render``) call these, so a token, a cookie and a CSRF token mean the same
thing on every route.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from livebase.accounts.security import csrf_ok, csrf_token
from livebase.accounts.service import Principal, resolve_token
from livebase.errors import Code, Forbidden, Unauthenticated

SESSION_COOKIE = "lb_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if header:
        raise Unauthenticated("The Authorization header must be `Bearer <token>`.")
    return None


def request_principal(
    request: Request, db: Session, secret_key: str, *, api: bool
) -> Principal | None:
    """The signed-in user, or None. ``api``: also take a bearer token (which must then be
    valid), and make a cookie-authenticated API write prove it came from our own pages
    with the ``X-CSRF-Token`` header. Pages (``api=False``) know only the cookie; their
    forms are checked by :func:`check_form_csrf`."""
    if api:
        raw = _bearer(request)
        if raw is not None:
            principal = resolve_token(db, raw, kind="api")
            if principal is None:
                raise Unauthenticated("The token is invalid, expired or revoked.")
            return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = resolve_token(db, cookie, kind="session") if cookie else None
    if (
        api
        and principal is not None
        and request.method in UNSAFE_METHODS
        and request.url.path.startswith("/api/")
        # A cookie rides along on cross-site requests; an API write authenticated by it
        # must prove it came from our own pages.
        and not csrf_ok(secret_key, cookie or "", request.headers.get(CSRF_HEADER))
    ):
        raise Forbidden("A cookie-authenticated write needs the X-CSRF-Token header.")
    return principal


def form_csrf_token(secret_key: str, principal: Principal | None) -> str:
    """The token a page's forms carry (empty without a cookie session)."""
    if principal is None or not principal.session_token:
        return ""
    return csrf_token(secret_key, principal.session_token)


def check_form_csrf(secret_key: str, principal: Principal | None, given: str) -> None:
    if (
        principal is None
        or not principal.session_token
        or not csrf_ok(secret_key, principal.session_token, given)
    ):
        raise Forbidden(
            "The form has expired; reload the page and try again.", code=Code.FORM_EXPIRED
        )
