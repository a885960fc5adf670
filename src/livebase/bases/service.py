"""Bases, organisations, applications to join, targets and warehouses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor
from livebase.accounts.service import (
    Principal,
    do_grant,
    get_user,
    org_members,
    user_by_username,
)
from livebase.audit.service import do_record
from livebase.bases.models import (
    ORG_KINDS,
    Application,
    BaseTarget,
    LiveBase,
    Organisation,
    PickupCounter,
    Warehouse,
)
from livebase.db import utcnow
from livebase.decisions import do_decide_pending
from livebase.errors import Conflict, Forbidden, NotFound, ValidationFailed
from livebase.paging import keyset

# ASCII digits only (`\d` would take full-width ０１０１) and matched with fullmatch (`$`
# would let a trailing newline through): these codes go verbatim into customs messages.
CUSTOMS_CODE_RE = re.compile(r"[0-9]{4}")
EMS_NO_RE = re.compile(r"[A-Z][0-9]{4}[A-Z][0-9]{6}")
# Pending applications one person may have at one base: a brand and an agency of a group
# with room for a correction, while an operator's queue cannot be flooded (one merchant
# once filed 245). Two requests racing past the count may make it one more; harmless.
MAX_PENDING_APPLICATIONS = 3


def get_base(db: Session, base_id: str) -> LiveBase:
    base = db.get(LiveBase, base_id)
    if base is None:
        raise NotFound(f"No base {base_id}.")
    return base


def get_org(db: Session, org_id: str) -> Organisation:
    org = db.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"No organisation {org_id}.")
    return org


def find_org(db: Session, org_id: str) -> Organisation | None:
    return db.get(Organisation, org_id)


def list_bases(
    db: Session, *, limit: int | None = None, cursor: str | None = None
) -> list[LiveBase]:
    """Oldest first, as the bases were founded (ids are time-ordered)."""
    q = keyset(select(LiveBase), LiveBase.id, limit=limit, cursor=cursor, newest_first=False)
    return list(db.scalars(q))


def do_create_base(
    db: Session, actor: Actor, name: str, district: str, description: str = ""
) -> LiveBase:
    """A new base; the CLI (``system:cli``) and the demo create them, no user does."""
    if not name.strip() or not district.strip():
        raise ValidationFailed("A base needs a name and a district.", loc="name")
    base = LiveBase(name=name.strip(), district=district.strip(), description=description)
    db.add(base)
    db.flush()
    do_record(db, actor, "create", "base", base.id)
    return base


def do_set_target(
    db: Session,
    actor: Actor,
    base_id: str,
    metric: str,
    period: str,
    target: int,
    reported: int = 0,
) -> BaseTarget:
    from livebase.dashboard.registry import names  # the registry of every feature's metrics

    if metric not in names():
        raise ValidationFailed(f"Unknown metric {metric}.", loc="metric")
    row = db.scalar(
        select(BaseTarget).where(
            BaseTarget.base_id == base_id, BaseTarget.metric == metric, BaseTarget.period == period
        )
    )
    if row is not None and (row.target, row.reported) == (target, reported):
        return row  # unchanged: nothing to record (the demo sets its targets every run)
    if row is None:
        row = BaseTarget(base_id=base_id, metric=metric, period=period, target=target)
        db.add(row)
    row.target, row.reported = target, reported
    db.flush()
    do_record(db, actor, "set_target", "base", base_id, metric=metric, period=period)
    return row


def targets_of(db: Session, base_id: str) -> list[BaseTarget]:
    """The base's plan targets as set, by metric then period (no figures counted)."""
    q = select(BaseTarget).where(BaseTarget.base_id == base_id)
    return list(db.scalars(q.order_by(BaseTarget.metric, BaseTarget.period)))


def do_delete_target(db: Session, actor: Actor, row: BaseTarget) -> None:
    db.delete(row)
    db.flush()
    do_record(db, actor, "delete_target", "base", row.base_id, metric=row.metric, period=row.period)


@dataclass(frozen=True)
class TargetView:
    metric: str
    period: str
    target: int
    actual: int


def _period_years(period: str) -> tuple[int, int]:
    first, _, last = period.partition("-")
    return int(first), int(last or first)


def target_views(db: Session, base_id: str) -> list[TargetView]:
    """Targets with their actuals: what the platform counts itself plus what was reported.

    The count is the metric's registry counter (``features.MetricSpec``) over the whole
    period, the same counter the dashboard's monthly rollups are made of, so the two agree.
    """
    from livebase.dashboard.registry import metric  # the dashboard depends on bases, not back

    out = []
    for row in targets_of(db, base_id):
        counted = 0
        spec = metric(row.metric)
        try:
            first, last = _period_years(row.period)
        except ValueError:
            first = last = 0
        if spec is not None and first:
            start = datetime(first, 1, 1, tzinfo=UTC)
            counted = spec.counter(db, base_id, start, datetime(last + 1, 1, 1, tzinfo=UTC))
        out.append(TargetView(row.metric, row.period, row.target, row.reported + counted))
    return out


def do_create_org(
    db: Session, actor: Actor, base_id: str, kind: str, name: str, description: str = ""
) -> Organisation:
    get_base(db, base_id)
    if kind not in ORG_KINDS:
        raise ValidationFailed("Organisation kind must be brand or agency.", loc="kind")
    org = Organisation(base_id=base_id, kind=kind, name=name.strip(), description=description)
    db.add(org)
    db.flush()
    do_record(db, actor, "create", "org", org.id, base_id=base_id, kind=kind)
    return org


def do_set_incubated(db: Session, actor: Actor, org: Organisation, incubated: bool) -> None:
    """Flag a brand as incubated by its base; the first flag dates its launch."""
    if org.incubated == incubated and (org.launched_at is not None or not incubated):
        return
    org.incubated = incubated
    if incubated and org.launched_at is None:
        org.launched_at = utcnow()
    db.flush()
    do_record(db, actor, "set_incubated", "org", org.id, incubated=incubated)


def list_orgs(
    db: Session, base_id: str, *, limit: int | None = None, cursor: str | None = None
) -> list[Organisation]:
    q = select(Organisation).where(Organisation.base_id == base_id)
    return list(
        db.scalars(keyset(q, Organisation.id, limit=limit, cursor=cursor, newest_first=False))
    )


def do_apply(
    db: Session, principal: Principal, base_id: str, org_kind: str, name: str, description: str
) -> Application:
    get_base(db, base_id)
    if org_kind not in ORG_KINDS:
        raise ValidationFailed("org_kind must be brand or agency.", loc="body.org_kind")
    if not name.strip():
        raise ValidationFailed("An application needs a name.", loc="body.name")
    pending = db.scalar(
        select(Application.id).where(
            Application.base_id == base_id,
            Application.applicant_id == principal.id,
            Application.name == name.strip(),
            Application.status == "pending",
        )
    )
    if pending:
        raise Conflict("You already have a pending application with that name.")
    waiting = db.scalar(
        select(func.count(Application.id)).where(
            Application.base_id == base_id,
            Application.applicant_id == principal.id,
            Application.status == "pending",
        )
    )
    if (waiting or 0) >= MAX_PENDING_APPLICATIONS:
        raise Conflict(
            f"You already have {MAX_PENDING_APPLICATIONS} applications waiting for this base's "
            "decision; wait for one to be decided before applying again."
        )
    app = Application(
        base_id=base_id,
        applicant_id=principal.id,
        org_kind=org_kind,
        name=name.strip(),
        description=description,
    )
    db.add(app)
    db.flush()
    return app


def operated_bases(db: Session, principal: Principal, refusal: str) -> list[LiveBase]:
    """The bases a principal runs as operator (every base for an admin), by id; 403 with
    ``refusal`` for anyone who runs none (the operations pages are operators' pages)."""
    if principal.is_admin:
        return list_bases(db)
    ids = principal.base_ids("operator")
    if not ids:
        raise Forbidden(refusal)
    return [get_base(db, bid) for bid in sorted(ids)]


def check_operator(principal: Principal, base_id: str) -> None:
    if not principal.has("operator", base_id=base_id):
        raise Forbidden("Only an operator of this base may do that.")


def check_base_staff(principal: Principal, base_id: str) -> None:
    if not (
        principal.has("operator", base_id=base_id) or principal.has("moderator", base_id=base_id)
    ):
        raise Forbidden("Only this base's staff may see that.")


def get_application(db: Session, principal: Principal, app_id: str) -> Application:
    app = db.get(Application, app_id)
    # Another base's operator gets the same 404 as for a missing id: nothing of one base
    # is visible to another's staff, not even that an id exists.
    if app is None or not (
        principal.has("operator", base_id=app.base_id) or app.applicant_id == principal.id
    ):
        raise NotFound(f"No application {app_id}.")
    return app


def list_applications(
    db: Session,
    principal: Principal,
    base_id: str,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> list[Application]:
    check_operator(principal, base_id)
    q = select(Application).where(Application.base_id == base_id)
    if status:
        q = q.where(Application.status == status)
    if cursor:
        q = q.where(Application.id < cursor)
    return list(db.scalars(q.order_by(Application.id.desc()).limit(limit + 1)))


def list_my_applications(
    db: Session, principal: Principal, *, limit: int | None = None, cursor: str | None = None
) -> list[tuple[Application, str]]:
    """The applicant's own applications, newest first, with the base's name."""
    q = (
        select(Application, LiveBase.name)
        .join(LiveBase, LiveBase.id == Application.base_id)
        .where(Application.applicant_id == principal.id)
    )
    rows = db.execute(
        keyset(q, Application.id, limit=limit, cursor=cursor, newest_first=True)
    ).all()
    return [(app, name) for app, name in rows]


def check_decide(db: Session, principal: Principal, app_id: str) -> Application:
    """An application the principal may decide: an operator of its base."""
    app = get_application(db, principal, app_id)
    check_operator(principal, app.base_id)
    return app


def do_decide(
    db: Session, actor: Actor, app: Application, *, approve: bool, reason: str | None = None
) -> Application:
    """Approve (the organisation is created and the applicant runs it) or reject."""
    applicant = get_user(db, app.applicant_id) if approve else None
    if approve and (applicant is None or not applicant.is_active):
        # Nothing to hand the organisation to: refuse rather than found an org nobody runs.
        raise Conflict("The applicant's account is closed; the application cannot be approved.")
    do_decide_pending(db, app, actor=actor, approve=approve, reason=reason, what="The application")
    if applicant is not None:
        org = do_create_org(db, actor, app.base_id, app.org_kind, app.name, app.description)
        app.org_id = org.id
        role = "merchant" if app.org_kind == "brand" else "agency"
        do_grant(db, actor, applicant, role, base_id=app.base_id, org_id=org.id)
    db.flush()
    return app


def check_base_operator(db: Session, principal: Principal, base_id: str) -> LiveBase:
    """The base, when the principal operates it (warehouses, pickup counters)."""
    base = get_base(db, base_id)
    check_operator(principal, base_id)
    return base


def do_create_warehouse(
    db: Session, actor: Actor, base_id: str, name: str, customs_code: str, ems_no: str
) -> Warehouse:
    get_base(db, base_id)
    if not CUSTOMS_CODE_RE.fullmatch(customs_code):
        raise ValidationFailed(
            "customs_code is the 4-digit customs district, e.g. 0101.", loc="body.customs_code"
        )
    if not EMS_NO_RE.fullmatch(ems_no):
        raise ValidationFailed(
            "ems_no is the account book number, e.g. T0101W000001.", loc="body.ems_no"
        )
    wh = Warehouse(base_id=base_id, name=name.strip(), customs_code=customs_code, ems_no=ems_no)
    db.add(wh)
    db.flush()
    do_record(db, actor, "create", "warehouse", wh.id, base_id=base_id)
    return wh


def list_warehouses(
    db: Session,
    principal: Principal,
    base_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[Warehouse]:
    get_base(db, base_id)
    if not any(
        principal.has(r, base_id=base_id)
        for r in ("operator", "moderator", "merchant", "agency", "host")
    ):
        raise Forbidden("Warehouses are listed to the base's staff.")
    return warehouses_of(db, base_id, limit=limit, cursor=cursor)


def warehouses_of(
    db: Session, base_id: str, *, limit: int | None = None, cursor: str | None = None
) -> list[Warehouse]:
    """The base's bonded warehouses, for callers that checked who asks (or the system)."""
    q = select(Warehouse).where(Warehouse.base_id == base_id)
    return list(db.scalars(keyset(q, Warehouse.id, limit=limit, cursor=cursor, newest_first=False)))


def get_warehouse(db: Session, warehouse_id: str) -> Warehouse | None:
    return db.get(Warehouse, warehouse_id)


def do_create_pickup_counter(
    db: Session, actor: Actor, base_id: str, name: str, warehouse_id: str, customs_code: str
) -> PickupCounter:
    get_base(db, base_id)
    wh = get_warehouse(db, warehouse_id)
    if wh is None or wh.base_id != base_id:
        raise ValidationFailed(
            "warehouse_id is not a bonded warehouse of this base.", loc="body.warehouse_id"
        )
    if not CUSTOMS_CODE_RE.fullmatch(customs_code):
        raise ValidationFailed(
            "customs_code is the 4-digit customs district, e.g. 0101.", loc="body.customs_code"
        )
    counter = PickupCounter(
        base_id=base_id, warehouse_id=wh.id, name=name.strip(), customs_code=customs_code
    )
    db.add(counter)
    db.flush()
    do_record(db, actor, "create", "pickup_counter", counter.id, base_id=base_id)
    return counter


def list_pickup_counters(
    db: Session, base_id: str, *, limit: int | None = None, cursor: str | None = None
) -> list[PickupCounter]:
    """Public: buyers choose where to pick up."""
    get_base(db, base_id)
    q = select(PickupCounter).where(PickupCounter.base_id == base_id)
    return list(
        db.scalars(keyset(q, PickupCounter.id, limit=limit, cursor=cursor, newest_first=False))
    )


def get_pickup_counter(db: Session, counter_id: str) -> PickupCounter:
    counter = db.get(PickupCounter, counter_id)
    if counter is None:
        raise NotFound(f"No pickup counter {counter_id}.")
    return counter


def org_staff_roles() -> tuple[str, ...]:
    return ("merchant", "agency")


def is_org_staff(principal: Principal, org_id: str) -> bool:
    """Merchant (brand) or agency staff of the organisation — the people who manage it."""
    return principal.is_admin or bool(principal.org_ids("merchant", "agency") & {org_id})


def is_org_member(principal: Principal, org_id: str) -> bool:
    """Staff or a host of the organisation."""
    return is_org_staff(principal, org_id) or org_id in principal.org_ids("host")


# Which roles the staff of an organisation may hand out in it: a brand's merchants add
# colleagues and the brand's own hosts (品牌自播); an agency adds staff and signed hosts.
MEMBER_ROLES = {
    "brand": ("merchant", "host", "assistant"),
    "agency": ("agency", "host", "assistant"),
}


@dataclass(frozen=True)
class Member:
    id: str  # the membership (the role grant), what the members list pages by
    user_id: str
    username: str
    display_name: str
    role: str


def list_members(
    db: Session,
    principal: Principal,
    org_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[Member]:
    """Members in the order they joined."""
    org = get_org(db, org_id)
    if not (is_org_member(principal, org_id) or principal.has("operator", base_id=org.base_id)):
        raise NotFound(f"No organisation {org_id}.")
    return [
        Member(grant_id, u.id, u.username, u.display_name, role)
        for grant_id, role, u in org_members(db, org_id, limit=limit, cursor=cursor)
    ]


def check_add_member(db: Session, principal: Principal, org_id: str) -> Organisation:
    """The organisation, when the principal is its staff (who hand out its roles)."""
    org = get_org(db, org_id)
    if not is_org_staff(principal, org_id):
        if principal.has("operator", base_id=org.base_id) or is_org_member(principal, org_id):
            raise Forbidden("Only the organisation's staff add members.")
        raise NotFound(f"No organisation {org_id}.")
    return org


def do_add_member(db: Session, actor: Actor, org: Organisation, username: str, role: str) -> Member:
    if role not in MEMBER_ROLES[org.kind]:
        raise ValidationFailed(
            f"A {org.kind} takes members as {' or '.join(MEMBER_ROLES[org.kind])}.", loc="body.role"
        )
    user = user_by_username(db, username)
    if user is None:
        raise ValidationFailed(f"No user {username}.", loc="body.username")
    grant = do_grant(db, actor, user, role, base_id=org.base_id, org_id=org.id)
    return Member(grant.id, user.id, user.username, user.display_name, role)
