"""The review queue, moderators' word-list terms and verdict counts.

Features hand held texts to :func:`do_submit_for_review`; a moderator's decision is sent
back to the feature that owns the text through a resolver it registered
(:func:`register_resolver`), so this package never imports catalog or shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal
from livebase.compliance import LABELS, Verdict
from livebase.compliance.models import ModerationItem, ModerationStat, ModerationTerm
from livebase.db import utcnow
from livebase.decisions import do_decide_pending
from livebase.errors import Forbidden, NotFound, ValidationFailed

Resolver = Callable[[Session, str, bool, str | None], None]
_RESOLVERS: dict[str, Resolver] = {}
OVERRIDE_FILE = "moderator.tsv"
BASE_TERMS_DIR = "bases"  # under the override dir: one word list per base
_OPTION_RE = re.compile(r"^[a-z_]+(=[a-z+|]+)?$")


def register_resolver(subject_type: str, fn: Resolver) -> None:
    """``fn(db, subject_id, approved, reason)`` applies a moderator's decision to its
    subject; ``reason`` is what the moderator wrote (required for a rejection), so the
    author can read why."""
    _RESOLVERS[subject_type] = fn


def _day() -> str:
    return utcnow().strftime("%Y-%m-%d")


def do_record_verdict(
    db: Session, kind: str, verdict: Verdict, *, base_id: str | None, show_id: str | None = None
) -> None:
    """Count a non-allow verdict once per label (an upsert, safe under concurrency)."""
    if verdict.verdict == "allow":
        return
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    for label in verdict.labels or ["spam"]:
        stmt = insert(ModerationStat).values(
            day=_day(),
            base_id=base_id or "",
            show_id=show_id or "",
            kind=kind,
            label=label,
            verdict=verdict.verdict,
            n=1,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "base_id", "show_id", "kind", "label", "verdict"],
            set_={"n": ModerationStat.n + 1},
        )
        db.execute(stmt)


def do_submit_for_review(
    db: Session,
    *,
    kind: str,
    subject_type: str,
    subject_id: str,
    text: str,
    verdict: Verdict,
    base_id: str | None,
    show_id: str | None = None,
    author_id: str | None = None,
    image_path: str | None = None,
) -> ModerationItem:
    """Queue a held text (for an image: the text inside it, and ``image_path`` its URL);
    an older pending item for the same subject is superseded."""
    do_withdraw(db, subject_type, subject_id)
    item = ModerationItem(
        base_id=base_id,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        show_id=show_id,
        author_id=author_id,
        text=text,
        image_path=image_path,
        verdict=verdict.to_dict(),
        labels=",".join(verdict.labels),
    )
    db.add(item)
    do_record_verdict(db, kind, verdict, base_id=base_id, show_id=show_id)
    db.flush()
    return item


def do_withdraw(db: Session, subject_type: str, subject_id: str) -> None:
    """The subject's text changed: its pending item no longer needs a decision."""
    db.execute(
        update(ModerationItem)
        .where(
            ModerationItem.subject_type == subject_type,
            ModerationItem.subject_id == subject_id,
            ModerationItem.status == "pending",
        )
        .values(status="superseded")
    )


def _moderated_bases(principal: Principal) -> set[str] | None:
    """The bases whose queue the principal works; None means every base (admin)."""
    if principal.is_admin:
        return None
    return principal.base_ids("moderator")


def check_moderator(principal: Principal) -> set[str] | None:
    bases = _moderated_bases(principal)
    if bases is not None and not bases:
        raise Forbidden("Only a moderator may do that.")
    return bases


def list_queue(
    db: Session,
    principal: Principal,
    *,
    status: str,
    kind: str | None,
    limit: int,
    cursor: str | None,
) -> list[ModerationItem]:
    bases = check_moderator(principal)
    q = select(ModerationItem).where(ModerationItem.status == status)
    if bases is not None:
        q = q.where(ModerationItem.base_id.in_(bases))
    if kind:
        q = q.where(ModerationItem.kind == kind)
    if cursor:
        q = q.where(ModerationItem.id < cursor)
    return list(db.scalars(q.order_by(ModerationItem.id.desc()).limit(limit + 1)))


def get_item(db: Session, principal: Principal, item_id: str) -> ModerationItem:
    bases = check_moderator(principal)
    item = db.get(ModerationItem, item_id)
    if item is None or (bases is not None and item.base_id not in bases):
        raise NotFound(f"No moderation item {item_id}.")
    return item


def check_decide(db: Session, principal: Principal, item_id: str) -> ModerationItem:
    """An item the principal may decide: one of a base it moderates."""
    return get_item(db, principal, item_id)


def do_decide(
    db: Session, actor: Actor, item: ModerationItem, *, approve: bool, reason: str | None = None
) -> ModerationItem:
    """Decide a pending item once and send the decision to the feature owning the text."""
    do_decide_pending(db, item, actor=actor, approve=approve, reason=reason, what="The item")
    resolver = _RESOLVERS.get(item.subject_type)
    if resolver is not None:
        resolver(db, item.subject_id, approve, reason)
    db.flush()
    return item


def list_terms(db: Session, principal: Principal | None = None) -> list[ModerationTerm]:
    """Every term (``principal`` None: for the word-list files), or those a moderator
    sees: the shared ones and their own bases' (another base's terms are not theirs)."""
    q = select(ModerationTerm).order_by(
        ModerationTerm.base_id, ModerationTerm.label, ModerationTerm.term
    )
    if principal is not None:
        bases = check_moderator(principal)
        if bases is not None:
            q = q.where(ModerationTerm.base_id.in_(["", *sorted(bases)]))
    return list(db.scalars(q))


def check_term_scope(principal: Principal, base_id: str | None) -> str:
    """The base a new term applies to ("" for every base). Admins edit the shared terms
    and any base's; a moderator only their own base's (the one base they moderate when
    they name none)."""
    bases = check_moderator(principal)
    if bases is None:  # an admin
        return base_id or ""
    if base_id is None and len(bases) == 1:
        return next(iter(bases))
    if not base_id:
        raise Forbidden("Terms for every base are edited by admins; name one of your bases.")
    if base_id not in bases:
        raise Forbidden("You do not moderate that base.")
    return base_id


def check_term_editable(db: Session, principal: Principal, term_id: str) -> ModerationTerm:
    """A term the principal may change: a moderator's own base's, any for an admin.
    Another base's term does not exist for them (404); a shared one is refused (403)."""
    bases = check_moderator(principal)
    row = db.get(ModerationTerm, term_id)
    if row is None or (bases is not None and row.base_id and row.base_id not in bases):
        raise NotFound(f"No term {term_id}.")
    if bases is not None and not row.base_id:
        raise Forbidden("Terms for every base are edited by admins.")
    return row


def do_add_term(
    db: Session, actor: Actor, term: str, label: str, options: list[str], scope: str = ""
) -> ModerationTerm:
    """Add (or re-flag) a term of ``scope`` (a base id, "" for every base); routes first
    check_term_scope."""
    term = term.strip()
    if not term or "\t" in term or "\n" in term or len(term) > 64:
        raise ValidationFailed("A term is 1–64 characters on one line.", loc="body.term")
    if label not in LABELS:
        raise ValidationFailed(f"label must be one of {', '.join(LABELS)}.", loc="body.label")
    for opt in options:
        if not _OPTION_RE.match(opt):
            raise ValidationFailed(
                f"Option {opt!r} is not of the form flag or key=value.", loc="body.options"
            )
    row = db.scalar(
        select(ModerationTerm).where(
            ModerationTerm.term == term,
            ModerationTerm.label == label,
            ModerationTerm.base_id == scope,
        )
    )
    if row is None:
        row = ModerationTerm(term=term, label=label, base_id=scope, created_by=actor_name(actor))
        db.add(row)
    row.options = ",".join(options)
    db.flush()
    return row


def do_remove_term(db: Session, actor: Actor, term_id: str) -> None:
    """Remove a term; routes first check_term_editable."""
    row = db.get(ModerationTerm, term_id)
    if row is None:
        raise NotFound(f"No term {term_id}.")
    db.delete(row)
    db.flush()


def terms_tsv(db: Session, base_id: str = "") -> str:
    lines = ["# Written by livebase from the moderators' terms; edits here are overwritten."]
    lines += [f"{t.term}\t{t.label}\t{t.options}" for t in list_terms(db) if t.base_id == base_id]
    return "\n".join(lines) + "\n"


def _write_if_changed(path: Path, content: str) -> bool:
    if path.exists() and path.read_text("utf-8") == content:
        return False
    tmp = path.with_suffix(".tmp")
    tmp.write_text(content, "utf-8")
    tmp.replace(path)  # atomic: the checker never reads half a file
    return True


def sync_terms_file(db: Session, directory: Path) -> bool:
    """Write the moderators' terms to this node's override word lists if they changed:
    the shared terms to ``moderator.tsv`` (read with the shipped lists), each base's to
    ``bases/<base_id>.tsv`` (read for that base's texts only, see Checker).

    The checker watches the files' mtimes and rebuilds within a second.
    """
    directory.mkdir(parents=True, exist_ok=True)
    changed = _write_if_changed(directory / OVERRIDE_FILE, terms_tsv(db))
    base_dir = directory / BASE_TERMS_DIR
    base_dir.mkdir(exist_ok=True)
    wanted = {t.base_id for t in list_terms(db) if t.base_id}
    for base_id in wanted:
        changed |= _write_if_changed(base_dir / f"{base_id}.tsv", terms_tsv(db, base_id))
    for stale in base_dir.glob("*.tsv"):
        if stale.stem not in wanted:
            stale.unlink()
            changed = True
    return changed


@dataclass
class Stats:
    by_label: dict[str, int]
    by_verdict: dict[str, int]
    by_show: list[tuple[str, int]]
    by_day: list[tuple[str, int]]
    pending: int


def stats(db: Session, principal: Principal, base_id: str | None = None) -> Stats:
    bases = check_moderator(principal)
    if base_id is not None and bases is not None and base_id not in bases:
        raise Forbidden("You do not moderate that base.")
    scope = [base_id] if base_id else bases

    def where(q: Any) -> Any:
        return q.where(ModerationStat.base_id.in_(scope)) if scope is not None else q

    def grouped(col: Any) -> list[tuple[str, int]]:
        q = where(select(col, func.sum(ModerationStat.n)).group_by(col))
        return [(str(k), int(n)) for k, n in db.execute(q)]

    pending_q = select(func.count(ModerationItem.id)).where(ModerationItem.status == "pending")
    if scope is not None:
        pending_q = pending_q.where(ModerationItem.base_id.in_(scope))
    by_show = sorted(
        [(s, n) for s, n in grouped(ModerationStat.show_id) if s], key=lambda x: -x[1]
    )[:20]
    return Stats(
        by_label={label: 0 for label in LABELS} | dict(grouped(ModerationStat.label)),
        by_verdict=dict(grouped(ModerationStat.verdict)),
        by_show=by_show,
        by_day=sorted(grouped(ModerationStat.day))[-14:],
        pending=int(db.scalar(pending_q) or 0),
    )


def pending_item(db: Session, subject_type: str, subject_id: str) -> ModerationItem | None:
    """The pending queue item of a subject, for the feature that owns it (a room's staff
    decide their held chat lines through the same transition as moderators)."""
    return db.scalar(
        select(ModerationItem).where(
            ModerationItem.subject_type == subject_type,
            ModerationItem.subject_id == subject_id,
            ModerationItem.status == "pending",
        )
    )
