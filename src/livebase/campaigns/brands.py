"""The brand directory: tags from a fixed vocabulary, the rule by which a brand counts as
incubated at its base (孵化), and the first-launch calendar (首发).

The incubation rule, per base (``IncubationRule``, defaults ``DEFAULT_RULE``): a brand
counts as incubated here when it joined the base through an approved application AND,
within ``window_days`` of joining, held at least ``min_shows`` shows on air and made at
least ``min_gmv_fen`` paid GMV (orders paid inside the window, not refunded). An operator
may override per brand: "yes" counts it whatever the figures, "no" never does. The
recurring job ``campaigns.apply_incubation`` applies the rule through
``bases.service.do_set_incubated``, which owns ``Organisation.incubated`` and
``launched_at`` (the base dashboard counts from those two columns). The job only ever
raises the flag: once met, a brand stays incubated (it was incubated; later quiet months
do not undo that); only an operator's "no" lowers it.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal
from livebase.audit.service import do_record
from livebase.bases import service as bases
from livebase.bases.models import Organisation
from livebase.campaigns import figures
from livebase.campaigns.models import (
    OVERRIDES,
    TAGS,
    IncubationOverride,
    IncubationRule,
    Launch,
    OrgTag,
)
from livebase.db import utcnow
from livebase.errors import Forbidden, NotFound, ValidationFailed
from livebase.shows import service as shows
from livebase.web.forms import PAGE_TZ


@dataclass(frozen=True)
class Rule:
    min_shows: int
    min_gmv_fen: int
    window_days: int


# Three shows and ¥10,000 within a year: a brand that has gone on air regularly and sold,
# not one that joined and vanished. Each base sets its own (PUT .../incubation-rule).
DEFAULT_RULE = Rule(min_shows=3, min_gmv_fen=1_000_000, window_days=365)
MAX_WINDOW_DAYS = 3 * 366


# --- tags --------------------------------------------------------------------------------


def tag_label(code: str, lang: str) -> str:
    zh, en = TAGS[code]
    return zh if lang == "zh" else en


def tags_of(db: Session, org_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {oid: [] for oid in org_ids}
    if not org_ids:
        return out
    order = list(TAGS)
    for org_id, tag in db.execute(
        select(OrgTag.org_id, OrgTag.tag).where(OrgTag.org_id.in_(list(org_ids)))
    ):
        out.setdefault(org_id, []).append(tag)
    for tags in out.values():
        tags.sort(key=order.index)
    return out


def check_operate_brand(db: Session, principal: Principal, org_id: str) -> Organisation:
    """A brand of a base the principal operates (organisations are public: 403, not 404)."""
    org = bases.get_org(db, org_id)
    if not principal.has("operator", base_id=org.base_id):
        raise Forbidden("Only an operator of the brand's base may do that.")
    if org.kind != "brand":
        raise ValidationFailed("Only brands are tagged and incubated.", loc="path.org_id")
    return org


def do_set_tags(db: Session, actor: Actor, org: Organisation, tags: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(tags))
    for tag in wanted:
        if tag not in TAGS:
            raise ValidationFailed(
                f"Unknown tag {tag}; tags are {', '.join(TAGS)}.", loc="body.tags"
            )
    db.execute(delete(OrgTag).where(OrgTag.org_id == org.id))
    db.add_all(OrgTag(org_id=org.id, tag=t) for t in wanted)
    db.flush()
    do_record(db, actor, "set_tags", "org", org.id, tags=wanted)
    return tags_of(db, [org.id])[org.id]


@dataclass(frozen=True)
class BrandCard:
    org: Organisation
    tags: list[str]


def list_brands(db: Session, base_id: str, tag: str | None = None) -> list[BrandCard]:
    """The base's brands in the order they joined, with their tags; only those with
    ``tag`` when given."""
    bases.get_base(db, base_id)
    if tag is not None and tag not in TAGS:
        raise ValidationFailed(f"Unknown tag {tag}.", loc="query.tag")
    brands = [o for o in bases.list_orgs(db, base_id) if o.kind == "brand"]
    tagged = tags_of(db, [o.id for o in brands])
    return [BrandCard(o, tagged[o.id]) for o in brands if tag is None or tag in tagged[o.id]]


# --- the incubation rule -------------------------------------------------------------------


def rule_of(db: Session, base_id: str) -> Rule:
    row = db.get(IncubationRule, base_id)
    if row is None:
        return DEFAULT_RULE
    return Rule(row.min_shows, row.min_gmv_fen, row.window_days)


def do_set_rule(db: Session, actor: Actor, base_id: str, rule: Rule) -> Rule:
    bases.get_base(db, base_id)
    if not 1 <= rule.window_days <= MAX_WINDOW_DAYS:
        raise ValidationFailed(f"window_days is 1 to {MAX_WINDOW_DAYS}.", loc="body.window_days")
    row = db.get(IncubationRule, base_id)
    if row is None:
        row = IncubationRule(base_id=base_id, updated_by=actor_name(actor))
        db.add(row)
    row.min_shows, row.min_gmv_fen, row.window_days = (
        rule.min_shows,
        rule.min_gmv_fen,
        rule.window_days,
    )
    row.updated_by = actor_name(actor)
    db.flush()
    do_record(db, actor, "set_incubation_rule", "base", base_id, **rule.__dict__)
    return rule


def do_set_override(
    db: Session, actor: Actor, org: Organisation, override: str | None, note: str = ""
) -> None:
    """ "yes" or "no" takes effect at once; None removes the override and leaves the flag
    as it is (the job may raise it later if the rule is met)."""
    if override is not None and override not in OVERRIDES:
        raise ValidationFailed("override is yes, no or null.", loc="body.override")
    row = db.get(IncubationOverride, org.id)
    if override is None:
        if row is not None:
            db.delete(row)
    else:
        if row is None:
            row = IncubationOverride(org_id=org.id, override=override, set_by=actor_name(actor))
            db.add(row)
        row.override, row.note = override, note
        row.set_by, row.set_at = actor_name(actor), utcnow()
    db.flush()
    do_record(db, actor, "set_incubation_override", "org", org.id, override=override)
    if override is not None:
        bases.do_set_incubated(db, actor, org, override == "yes")


@dataclass(frozen=True)
class Progress:
    org: Organisation
    rule: Rule
    joined_at: datetime | None  # None: not joined through an application
    window_ends: datetime | None
    shows: int
    gmv_fen: int
    override: str | None

    @property
    def meets_rule(self) -> bool:
        return (
            self.joined_at is not None
            and self.shows >= self.rule.min_shows
            and self.gmv_fen >= self.rule.min_gmv_fen
        )

    @property
    def counts(self) -> bool:
        """Whether the brand should count as incubated: the override, else the rule."""
        if self.override is not None:
            return self.override == "yes"
        return self.meets_rule


def progress_of(db: Session, base_id: str) -> list[Progress]:
    """Every brand of the base against the base's rule."""
    rule = rule_of(db, base_id)
    brands = [o for o in bases.list_orgs(db, base_id) if o.kind == "brand"]
    ids = [o.id for o in brands]
    joined = figures.joined_at(db, ids)
    overrides = {
        r.org_id: r.override
        for r in db.scalars(select(IncubationOverride).where(IncubationOverride.org_id.in_(ids)))
    }
    out = []
    for org in brands:
        start = joined.get(org.id)
        end = start + timedelta(days=rule.window_days) if start is not None else None
        held = gmv = 0
        if start is not None and end is not None:
            held = figures.shows_on_air(db, org.id, start, end)
            gmv = figures.sales_of_org(db, org.id, start, end)
        out.append(Progress(org, rule, start, end, held, gmv, overrides.get(org.id)))
    return out


def do_apply_rule(db: Session, actor: Actor, base_id: str) -> list[str]:
    """Flag the brands of the base that now meet the rule (or carry a "yes"); returns the
    ids newly flagged. Never lowers a flag (see the module's docstring)."""
    flagged = []
    for p in progress_of(db, base_id):
        if p.counts and not p.org.incubated:
            bases.do_set_incubated(db, actor, p.org, True)
            flagged.append(p.org.id)
    return flagged


def apply_incubation(db: Session, _payload: dict[str, object]) -> None:
    """Job ``campaigns.apply_incubation`` (hourly): the rule over every base."""
    from livebase.accounts.actors import SYSTEM_JOBS

    for base in bases.list_bases(db):
        do_apply_rule(db, SYSTEM_JOBS, base.id)


# --- launches ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchSpec:
    org_id: str
    name: str
    launch_date: date
    show_id: str | None = None


def do_create_launch(db: Session, actor: Actor, base_id: str, spec: LaunchSpec) -> Launch:
    bases.get_base(db, base_id)
    org = bases.find_org(db, spec.org_id)
    if org is None or org.base_id != base_id or org.kind != "brand":
        raise ValidationFailed(f"{spec.org_id} is not a brand of this base.", loc="body.org_id")
    if not spec.name.strip():
        raise ValidationFailed("A launch needs the product or line's name.", loc="body.name")
    if spec.show_id is not None:
        try:
            show = shows.get_show(db, spec.show_id)
        except NotFound:
            show = None
        if show is None or show.org_id != org.id:
            raise ValidationFailed(
                f"{spec.show_id} is not a show of this brand.", loc="body.show_id"
            )
    launch = Launch(
        base_id=base_id,
        org_id=org.id,
        name=spec.name.strip(),
        launch_date=spec.launch_date,
        show_id=spec.show_id,
        created_by=actor_name(actor),
    )
    db.add(launch)
    db.flush()
    do_record(db, actor, "create", "launch", launch.id, base_id=base_id, org_id=org.id)
    return launch


def get_launch(db: Session, launch_id: str) -> Launch:
    launch = db.get(Launch, launch_id)
    if launch is None:
        raise NotFound(f"No launch {launch_id}.")
    return launch


def check_manage_launch(db: Session, principal: Principal, launch_id: str) -> Launch:
    launch = get_launch(db, launch_id)
    if not principal.has("operator", base_id=launch.base_id):
        raise Forbidden("Only an operator of the launch's base may change it.")
    return launch


def do_delete_launch(db: Session, actor: Actor, launch: Launch) -> None:
    db.delete(launch)
    db.flush()
    do_record(db, actor, "delete", "launch", launch.id)


def month_range(month: str | None) -> tuple[date, date]:
    """ "2026-12" → (2026-12-01, 2027-01-01); None: this month in Beijing."""
    if month is None:
        today = datetime.now(PAGE_TZ).date()
        year, mon = today.year, today.month
    else:
        try:
            year, mon = (int(p) for p in month.split("-"))
            date(year, mon, 1)
            if year > 9998:  # the month after must exist too
                raise ValueError(month)
        except ValueError as exc:
            raise ValidationFailed("month is YYYY-MM, e.g. 2026-12.", loc="query.month") from exc
    first = date(year, mon, 1)
    days = calendar.monthrange(year, mon)[1]
    return first, first + timedelta(days=days)


def list_launches(db: Session, base_id: str, first: date, end: date) -> list[Launch]:
    """Launches of the base on days in [first, end), by day."""
    bases.get_base(db, base_id)
    return list(
        db.scalars(
            select(Launch)
            .where(Launch.base_id == base_id, Launch.launch_date >= first, Launch.launch_date < end)
            .order_by(Launch.launch_date, Launch.id)
        )
    )


def day_start_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), PAGE_TZ).astimezone(UTC)
