"""Moderator pages: the review queue, the word-list editor, numbers per label and show."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from livebase.accounts.service import Principal
from livebase.compliance import LABELS, CheckContext, check, default_checker, wordlist
from livebase.compliance import service as moderation
from livebase.compliance.sync import sync_now
from livebase.compliance.wordlist import Term
from livebase.errors import ApiError, ValidationFailed
from livebase.http import DB, get_runtime
from livebase.http_errors import http_status
from livebase.web.formerrors import FormValues, form_page
from livebase.web.render import (
    CsrfField,
    PageRoute,
    SignedIn,
    check_form_csrf,
    redirect,
    render,
    signed_in,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)
OPTION_FLAGS = ("pinyin", "initials", "variants", "off")


def segments(text: str, matches: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Split ``text`` into (piece, label-or-None) so matched spans can be highlighted.

    Overlapping matches are merged; the first match's label names the merged span.
    """
    spans = sorted((int(m["start"]), int(m["end"]), str(m["label"])) for m in matches)
    merged: list[list[Any]] = []
    for start, end, label in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, label])
    out: list[tuple[str, str | None]] = []
    pos = 0
    for start, end, label in merged:
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], label))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def _queue(
    request: Request,
    db: Session,
    user: Principal,
    kind: str | None,
    errors: dict[str, str] | None = None,
    values: FormValues | None = None,
) -> Response:
    items = moderation.list_queue(
        db,
        user,
        status="pending",
        kind=kind if kind in ("chat", "listing", "script") else None,
        limit=50,
        cursor=None,
    )
    s = moderation.stats(db, user)
    rows = [(item, segments(item.text, item.verdict.get("matches", []))) for item in items]
    return render(
        request,
        "compliance/queue.html",
        user,
        rows=rows,
        stats=s,
        kind=kind,
        errors=errors or {},
        failed_item=request.path_params.get("item_id") if errors else None,
        values=values,
    )


@router.get("/moderation")
def queue_page(request: Request, db: DB, user: SignedIn, kind: str | None = None) -> Response:
    return _queue(request, db, user, kind)


def _queue_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    return _queue(request, db, signed_in(user), None, errors, values)


@router.post("/moderation/items/{item_id}/decide")
@form_page(_queue_again)
def decide(
    request: Request,
    item_id: str,
    db: DB,
    user: SignedIn,
    csrf: CsrfField,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_form_csrf(request, user, csrf)
    if decision == "reject" and not reason.strip():
        raise ValidationFailed("A rejection needs a reason.", loc="reason")
    item = moderation.check_decide(db, user, item_id)
    moderation.do_decide(
        db, user, item, approve=decision == "approve", reason=reason.strip() or None
    )
    db.commit()
    return redirect("/moderation")


@router.get("/moderation/try")
def try_page(request: Request, user: SignedIn, text: str = "", kind: str = "chat") -> Response:
    if kind not in ("chat", "listing", "script"):
        kind = "chat"
    # A moderator of one base tries texts as that base's texts: its own terms apply.
    own = user.base_ids("moderator")
    context = CheckContext(base_id=next(iter(own))) if len(own) == 1 else None
    verdict = check(kind, text[:5000], context).to_dict() if text else None
    pieces = segments(text, verdict["matches"]) if verdict else []
    return render(
        request, "compliance/try.html", user, text=text, kind=kind, verdict=verdict, pieces=pieces
    )


# A search shows at most this many shipped entries: enough to find the one to switch off.
SEARCH_LIMIT = 50


def search_lists(q: str) -> list[Term]:
    """Entries of the word lists in force whose term contains ``q`` (moderators look up a
    shipped term before switching it off). Reads the files; a page view, not a hot path."""
    q = q.strip()
    if not q:
        return []
    lists = wordlist.load(default_checker().dirs)
    return [t for t in lists.terms if q in t.term][:SEARCH_LIMIT]


def _scopes(db: Session, user: Principal) -> list[tuple[str, str]]:
    """(base id, name) a user may add terms for; "" is every base (admins only)."""
    from livebase.bases import service as bases  # bases does not import compliance pages

    moderated = moderation.check_moderator(user)
    if moderated is None:
        return [("", "")] + [(b.id, b.name) for b in bases.list_bases(db)]
    return [(bid, bases.get_base(db, bid).name) for bid in sorted(moderated)]


def _terms(
    request: Request,
    db: Session,
    user: Principal,
    q: str = "",
    error: ApiError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    scopes = _scopes(db, user)
    checker = default_checker()
    return render(
        request,
        "compliance/terms.html",
        user,
        status_code=http_status(error) if error else 200,
        terms=moderation.list_terms(db, user),
        scopes=scopes,
        base_names=dict(scopes),
        labels=LABELS,
        flags=OPTION_FLAGS,
        term_count=checker.term_count,
        problems=checker.problems[:20],
        error=error,
        values=values or {},
        q=q[:32],
        found=search_lists(q[:32]),
    )


@router.get("/moderation/terms")
def terms_page(request: Request, db: DB, user: SignedIn, q: str = "") -> Response:
    moderation.check_moderator(user)
    return _terms(request, db, user, q)


@router.post("/moderation/terms")
def add_term(
    request: Request,
    db: DB,
    user: SignedIn,
    csrf: CsrfField,
    term: Annotated[str, Form(max_length=64)],
    label: Annotated[str, Form(max_length=16)],
    action: Annotated[str, Form(pattern="^(|block|mask|review)$")] = "",
    flags: Annotated[list[str] | None, Form()] = None,
    base_id: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    check_form_csrf(request, user, csrf)
    options = [f for f in (flags or []) if f in OPTION_FLAGS]
    if action:
        options.append(f"action={action}")
    try:
        scope = moderation.check_term_scope(user, base_id)
        moderation.do_add_term(db, user, term, label, options, scope)
    except ApiError as exc:
        db.rollback()
        typed = {"term": term, "label": label, "action": action, "base_id": base_id or ""}
        return _terms(request, db, user, error=exc, values=typed)
    db.commit()
    sync_now(db, get_runtime(request).settings)
    return redirect("/moderation/terms")


@router.post("/moderation/terms/{term_id}/delete")
def remove_term(
    request: Request, term_id: str, db: DB, user: SignedIn, csrf: CsrfField
) -> Response:
    check_form_csrf(request, user, csrf)
    moderation.check_term_editable(db, user, term_id)  # another base's: 404; shared: 403
    moderation.do_remove_term(db, user, term_id)
    db.commit()
    sync_now(db, get_runtime(request).settings)
    return redirect("/moderation/terms")
