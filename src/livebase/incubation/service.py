"""Host incubation: who may see and change what, host profiles, cohorts and the base's
levels. Figures (growth, rollups, the leaderboard) are in ``figures``; the promotion rule
in ``promotions``.

Access, as the rest of livebase has it: a base's operator sees every profile and cohort of
that base and runs its cohorts and levels; a brand's merchants and an agency's staff see
and edit their own organisation's hosts only; a host sees and edits their own profile; a
mentor reads the cohorts they mentor. Anything else answers 404, so one base's staff never
learns that another base's ids exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name, actor_user_id
from livebase.accounts.service import Principal, get_user, grants_of
from livebase.audit.service import do_record
from livebase.bases import service as bases
from livebase.compliance import ocr
from livebase.errors import Conflict, Forbidden, NotFound, ValidationFailed
from livebase.incubation.models import (
    Cohort,
    CohortMember,
    CohortMentor,
    HostLevel,
    HostProfile,
)
from livebase.jobs import service as jobs
from livebase.paging import keyset

# A profile shows a handful of tags; more is a keyword list, not specialities.
MAX_TAGS = 8
MAX_TAG_LEN = 12
MAX_MENTORS = 10
MAX_LEVELS = 10
# A cohort runs for weeks or months; two years is a programme, not a cohort.
MAX_COHORT_DAYS = 731


@dataclass(frozen=True)
class LevelSpec:
    rank: int
    name: str
    name_en: str
    min_hours: int
    min_gmv_fen: int
    min_shows: int


# The ladder a base starts with until its operator edits it: thresholds over the host's
# whole record at the base (hours live, GMV, shows). The figures are our assumption for a
# district base: a new host starts at 新秀; 成长 after a month of regular shows; 金牌 is a
# host who has sold a million yuan.
DEFAULT_LEVELS = (
    LevelSpec(0, "新秀", "Rookie", 0, 0, 0),
    LevelSpec(1, "成长", "Rising", 10, 1_000_000, 5),
    LevelSpec(2, "优秀", "Excellent", 50, 10_000_000, 20),
    LevelSpec(3, "金牌", "Gold", 200, 100_000_000, 80),
)


# --- access ---------------------------------------------------------------------------


def _base_orgs(db: Session, base_id: str) -> set[str]:
    return {o.id for o in bases.list_orgs(db, base_id)}


def visible_org_ids(db: Session, me: Principal, base_id: str) -> set[str] | None:
    """The organisations whose hosts ``me`` sees in the base: None for all of them (its
    operator, an admin), else the ones ``me`` is merchant or agency staff of."""
    if me.has("operator", base_id=base_id):
        return None
    return me.org_ids("merchant", "agency") & _base_orgs(db, base_id)


def can_see_profile(db: Session, me: Principal, profile: HostProfile) -> bool:
    if profile.user_id == me.id or me.has("operator", base_id=profile.base_id):
        return True
    if bases.is_org_staff(me, profile.org_id):
        return True
    mentored = select(CohortMember.profile_id).join(
        CohortMentor, CohortMentor.cohort_id == CohortMember.cohort_id
    )
    return (
        db.scalar(
            mentored.where(CohortMember.profile_id == profile.id, CohortMentor.user_id == me.id)
        )
        is not None
    )


def check_see_profile(db: Session, me: Principal, profile_id: str) -> HostProfile:
    profile = db.get(HostProfile, profile_id)
    if profile is None or not can_see_profile(db, me, profile):
        raise NotFound(f"No host profile {profile_id}.")
    return profile


def check_edit_profile(db: Session, me: Principal, profile_id: str) -> HostProfile:
    """The host themself or their organisation's staff edit a profile; the base's
    operator reads it but does not write the host's words for them."""
    profile = check_see_profile(db, me, profile_id)
    if profile.user_id == me.id or bases.is_org_staff(me, profile.org_id):
        return profile
    raise Forbidden("Only the host or their organisation's staff edit a host profile.")


def check_operator(db: Session, me: Principal, base_id: str) -> None:
    bases.check_base_operator(db, me, base_id)


# --- profiles ---------------------------------------------------------------------------


def _is_host_of(db: Session, user_id: str, org_id: str) -> bool:
    return any(g.role == "host" and g.org_id == org_id for g in grants_of(db, user_id))


def clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for raw in tags:
        tag = raw.strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LEN:
            raise ValidationFailed(
                f"A speciality is up to {MAX_TAG_LEN} characters.", loc="body.specialities"
            )
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise ValidationFailed(f"At most {MAX_TAGS} specialities.", loc="body.specialities")
    return out


def find_profile(db: Session, org_id: str, user_id: str) -> HostProfile | None:
    return db.scalar(
        select(HostProfile).where(HostProfile.org_id == org_id, HostProfile.user_id == user_id)
    )


def check_create_profile(
    db: Session, me: Principal, base_id: str, org_id: str, user_id: str
) -> None:
    """The base's operator, the organisation's staff, or (for themself) a host of it."""
    bases.get_base(db, base_id)
    org = bases.find_org(db, org_id)
    if org is None or org.base_id != base_id:
        raise ValidationFailed("No such organisation in this base.", loc="body.org_id")
    if me.has("operator", base_id=base_id) or bases.is_org_staff(me, org_id):
        return
    if org_id in me.org_ids("host"):
        if user_id != me.id:
            raise Forbidden("A host makes only their own profile.")
        return
    raise Forbidden("Only the base's operator or the organisation's staff add host profiles.")


def do_create_profile(
    db: Session,
    actor: Actor,
    base_id: str,
    org_id: str,
    user_id: str,
    *,
    specialities: list[str] | None = None,
    bio: str = "",
) -> HostProfile:
    """A profile for a host of the organisation; 409 if the host has one there already."""
    if get_user(db, user_id) is None or not _is_host_of(db, user_id, org_id):
        raise ValidationFailed("That user is not a host of the organisation.", loc="body.user_id")
    if find_profile(db, org_id, user_id) is not None:
        raise Conflict("The host has a profile in this organisation already.")
    profile = HostProfile(
        base_id=base_id,
        org_id=org_id,
        user_id=user_id,
        specialities=clean_tags(specialities or []),
        bio=bio,
        level_rank=0,
    )
    db.add(profile)
    db.flush()
    do_record(db, actor, "create", "host_profile", profile.id, org_id=org_id, user_id=user_id)
    return profile


def do_ensure_profile(db: Session, actor: Actor, org_id: str, user_id: str) -> HostProfile:
    """The host's profile in the organisation, made empty if it has none (idempotent)."""
    found = find_profile(db, org_id, user_id)
    if found is not None:
        return found
    org = bases.get_org(db, org_id)
    return do_create_profile(db, actor, org.base_id, org_id, user_id)


def my_profiles(db: Session, me: Principal) -> list[HostProfile]:
    """Every organisation ``me`` hosts for gets a profile (made on first visit)."""
    out = []
    for org_id in sorted(me.org_ids("host")):
        if bases.find_org(db, org_id) is not None:
            out.append(do_ensure_profile(db, me, org_id, me.id))
    return out


def do_update_profile(
    db: Session,
    actor: Actor,
    profile: HostProfile,
    *,
    specialities: list[str] | None = None,
    bio: str | None = None,
) -> HostProfile:
    if specialities is not None:
        profile.specialities = clean_tags(specialities)
    if bio is not None:
        profile.bio = bio
    db.flush()
    do_record(db, actor, "update", "host_profile", profile.id)
    return profile


def do_set_photo(
    db: Session, actor: Actor, profile: HostProfile, path: str, uploads_dir: Path
) -> HostProfile:
    """Set the host's photo; the text inside it is checked by the ``compliance.ocr_image``
    job once this transaction commits (a photo is a picture sellers write 加V on, like a
    cover). Until the check says otherwise it is shown; held or rejected, it is not."""
    profile.photo_path = path
    profile.photo_ocr_status = "unchecked"
    db.flush()
    jobs.do_enqueue(
        db,
        ocr.OCR_JOB,
        {
            "subject_type": PHOTO_SUBJECT,
            "subject_id": profile.id,
            "path": str(uploads_dir / path),
            "image_url": f"/uploads/{path}",
            "base_id": profile.base_id,
            "author_id": actor_user_id(actor),
        },
    )
    do_record(db, actor, "set_photo", "host_profile", profile.id)
    return profile


PHOTO_SUBJECT = "host_photo"
ocr.register_single_picture(PHOTO_SUBJECT, HostProfile, "photo_path", "photo_ocr_status")


def list_profiles(
    db: Session,
    me: Principal,
    base_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[HostProfile]:
    """The base's host profiles ``me`` may see, newest first; someone who sees none of
    them (not its operator nor any of its organisations' staff) is refused."""
    bases.get_base(db, base_id)
    orgs = visible_org_ids(db, me, base_id)
    q = select(HostProfile).where(HostProfile.base_id == base_id)
    if orgs is not None:
        if not orgs:
            raise Forbidden("Only this base's operator or its organisations' staff list hosts.")
        q = q.where(HostProfile.org_id.in_(orgs))
    return list(
        db.scalars(keyset(q, HostProfile.id, limit=limit, cursor=cursor, newest_first=True))
    )


@dataclass(frozen=True)
class ProfileCard:
    """What pages and the API show beside a profile: names the profile does not hold."""

    profile: HostProfile
    display_name: str
    username: str
    org_name: str
    org_kind: str


def cards(db: Session, profiles: list[HostProfile]) -> list[ProfileCard]:
    out = []
    orgs: dict[str, Any] = {}
    for p in profiles:
        user = get_user(db, p.user_id)
        if p.org_id not in orgs:
            orgs[p.org_id] = bases.find_org(db, p.org_id)
        org = orgs[p.org_id]
        out.append(
            ProfileCard(
                p,
                user.display_name if user else "",
                user.username if user else "",
                org.name if org else "",
                org.kind if org else "",
            )
        )
    return out


@dataclass(frozen=True)
class HostName:
    display_name: str
    org_name: str


def host_card(db: Session, org_id: str, user_id: str) -> HostName:
    user = get_user(db, user_id)
    org = bases.find_org(db, org_id)
    return HostName(user.display_name if user else "", org.name if org else "")


def initial(name: str) -> str:
    """The placeholder avatar's letter: the last character of a Chinese name (小雅 → 雅),
    the first letter otherwise."""
    name = name.strip()
    if not name:
        return "?"
    last = name.split()[-1]
    return last[-1] if ord(last[-1]) > 0x2E80 else last[0].upper()


# --- levels -----------------------------------------------------------------------------


def levels_of(db: Session, base_id: str) -> list[LevelSpec]:
    rows = db.scalars(
        select(HostLevel).where(HostLevel.base_id == base_id).order_by(HostLevel.rank)
    ).all()
    if not rows:
        return list(DEFAULT_LEVELS)
    return [
        LevelSpec(r.rank, r.name, r.name_en, r.min_hours, r.min_gmv_fen, r.min_shows) for r in rows
    ]


def level_at(levels: list[LevelSpec], rank: int) -> LevelSpec:
    """The level of a rank; a rank above a ladder since shortened shows as its top level
    (the host keeps the rank: levels are never lowered silently)."""
    return levels[min(rank, len(levels) - 1)]


def check_levels(specs: list[LevelSpec]) -> None:
    if not 1 <= len(specs) <= MAX_LEVELS:
        raise ValidationFailed(f"Give 1 to {MAX_LEVELS} levels.", loc="body.levels")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValidationFailed("Level names must differ.", loc="body.levels")
    first = specs[0]
    if (first.min_hours, first.min_gmv_fen, first.min_shows) != (0, 0, 0):
        raise ValidationFailed(
            "The first level is where every host starts: its thresholds are 0.",
            loc="body.levels.0",
        )
    for i in range(1, len(specs)):
        prev, cur = specs[i - 1], specs[i]
        if (
            cur.min_hours < prev.min_hours
            or cur.min_gmv_fen < prev.min_gmv_fen
            or cur.min_shows < prev.min_shows
        ):
            raise ValidationFailed(
                "Each level asks at least as much as the one below it.", loc=f"body.levels.{i}"
            )


def do_set_levels(db: Session, actor: Actor, base_id: str, specs: list[LevelSpec]) -> None:
    """Replace the base's ladder (in the order given: the first is rank 0). Hosts keep the
    ranks they reached; the next promotion run measures them against the new thresholds."""
    specs = [LevelSpec(i, *_fields(s)) for i, s in enumerate(specs)]
    check_levels(specs)
    db.execute(delete(HostLevel).where(HostLevel.base_id == base_id))
    db.flush()
    for s in specs:
        db.add(
            HostLevel(
                base_id=base_id,
                rank=s.rank,
                name=s.name,
                name_en=s.name_en,
                min_hours=s.min_hours,
                min_gmv_fen=s.min_gmv_fen,
                min_shows=s.min_shows,
            )
        )
    db.flush()
    do_record(db, actor, "set_levels", "base", base_id, levels=[s.name for s in specs])


def _fields(s: LevelSpec) -> tuple[str, str, int, int, int]:
    return (s.name, s.name_en, s.min_hours, s.min_gmv_fen, s.min_shows)


# --- cohorts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortSpec:
    name: str
    goals: str
    goal_gmv_fen: int | None
    goal_hours: int | None
    starts_on: date
    ends_on: date
    mentor_ids: list[str]


def _check_cohort_spec(db: Session, spec: CohortSpec) -> None:
    if spec.ends_on < spec.starts_on:
        raise ValidationFailed("A cohort ends on or after the day it starts.", loc="body.ends_on")
    if (spec.ends_on - spec.starts_on).days > MAX_COHORT_DAYS:
        raise ValidationFailed("A cohort runs for at most two years.", loc="body.ends_on")
    if len(set(spec.mentor_ids)) > MAX_MENTORS:
        raise ValidationFailed(f"At most {MAX_MENTORS} mentors.", loc="body.mentor_ids")
    for uid in spec.mentor_ids:
        if get_user(db, uid) is None:
            raise ValidationFailed(f"No user {uid}.", loc="body.mentor_ids")


def do_create_cohort(db: Session, actor: Actor, base_id: str, spec: CohortSpec) -> Cohort:
    _check_cohort_spec(db, spec)
    cohort = Cohort(
        base_id=base_id,
        name=spec.name,
        goals=spec.goals,
        goal_gmv_fen=spec.goal_gmv_fen,
        goal_hours=spec.goal_hours,
        starts_on=spec.starts_on,
        ends_on=spec.ends_on,
        created_by=actor_name(actor),
    )
    db.add(cohort)
    db.flush()
    _set_mentors(db, cohort, spec.mentor_ids)
    do_record(db, actor, "create", "cohort", cohort.id, name=spec.name)
    return cohort


def _set_mentors(db: Session, cohort: Cohort, mentor_ids: list[str]) -> None:
    db.execute(delete(CohortMentor).where(CohortMentor.cohort_id == cohort.id))
    for uid in dict.fromkeys(mentor_ids):
        db.add(CohortMentor(cohort_id=cohort.id, user_id=uid))
    db.flush()


def do_update_cohort(db: Session, actor: Actor, cohort: Cohort, changes: dict[str, Any]) -> Cohort:
    spec = CohortSpec(
        name=changes.get("name", cohort.name),
        goals=changes.get("goals", cohort.goals),
        goal_gmv_fen=changes.get("goal_gmv_fen", cohort.goal_gmv_fen),
        goal_hours=changes.get("goal_hours", cohort.goal_hours),
        starts_on=changes.get("starts_on", cohort.starts_on),
        ends_on=changes.get("ends_on", cohort.ends_on),
        mentor_ids=changes.get("mentor_ids", mentors_of(db, cohort.id)),
    )
    _check_cohort_spec(db, spec)
    cohort.name, cohort.goals = spec.name, spec.goals
    cohort.goal_gmv_fen, cohort.goal_hours = spec.goal_gmv_fen, spec.goal_hours
    cohort.starts_on, cohort.ends_on = spec.starts_on, spec.ends_on
    if "mentor_ids" in changes:
        _set_mentors(db, cohort, spec.mentor_ids)
    db.flush()
    do_record(db, actor, "update", "cohort", cohort.id, fields=sorted(changes))
    return cohort


def mentors_of(db: Session, cohort_id: str) -> list[str]:
    return list(
        db.scalars(
            select(CohortMentor.user_id)
            .where(CohortMentor.cohort_id == cohort_id)
            .order_by(CohortMentor.user_id)
        )
    )


def members_of(db: Session, cohort_id: str) -> list[HostProfile]:
    return list(
        db.scalars(
            select(HostProfile)
            .join(CohortMember, CohortMember.profile_id == HostProfile.id)
            .where(CohortMember.cohort_id == cohort_id)
            .order_by(CohortMember.added_at, HostProfile.id)
        )
    )


def check_see_cohort(db: Session, me: Principal, cohort_id: str) -> Cohort:
    cohort = db.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound(f"No cohort {cohort_id}.")
    if me.has("operator", base_id=cohort.base_id) or me.id in mentors_of(db, cohort.id):
        return cohort
    raise NotFound(f"No cohort {cohort_id}.")


def check_manage_cohort(db: Session, me: Principal, cohort_id: str) -> Cohort:
    cohort = check_see_cohort(db, me, cohort_id)
    if not me.has("operator", base_id=cohort.base_id):
        raise Forbidden("Only the base's operator manages a cohort.")
    return cohort


def public_cohort(db: Session, base_id: str, cohort_id: str) -> Cohort:
    """A cohort named on the public leaderboard: its name and dates are public."""
    cohort = db.get(Cohort, cohort_id)
    if cohort is None or cohort.base_id != base_id:
        raise NotFound(f"No cohort {cohort_id} in this base.")
    return cohort


def list_cohorts(
    db: Session,
    me: Principal | None,
    base_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[Cohort]:
    bases.get_base(db, base_id)
    q = select(Cohort).where(Cohort.base_id == base_id)
    if me is not None and not me.has("operator", base_id=base_id):
        q = q.join(CohortMentor, CohortMentor.cohort_id == Cohort.id).where(
            CohortMentor.user_id == me.id
        )
    return list(db.scalars(keyset(q, Cohort.id, limit=limit, cursor=cursor, newest_first=True)))


def do_add_member(db: Session, actor: Actor, cohort: Cohort, profile_id: str) -> HostProfile:
    profile = db.get(HostProfile, profile_id)
    if profile is None or profile.base_id != cohort.base_id:
        raise ValidationFailed("No such host profile in this base.", loc="body.profile_id")
    if db.get(CohortMember, (cohort.id, profile.id)) is not None:
        raise Conflict("The host is in this cohort already.")
    db.add(CohortMember(cohort_id=cohort.id, profile_id=profile.id))
    db.flush()
    do_record(db, actor, "add_member", "cohort", cohort.id, profile_id=profile.id)
    return profile


def do_remove_member(db: Session, actor: Actor, cohort: Cohort, profile_id: str) -> None:
    row = db.get(CohortMember, (cohort.id, profile_id))
    if row is None:
        raise NotFound(f"No member {profile_id} in this cohort.")
    db.delete(row)
    db.flush()
    do_record(db, actor, "remove_member", "cohort", cohort.id, profile_id=profile_id)
