from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Field, StrictInt

from livebase.schemas import MAX_COUNT, Body, Fen, Name, NotNull, PatchBody, Prose, Text

# A cohort of a base that uses livebase: its days are this century's.
FIRST_YEAR, LAST_YEAR = 2000, 2099
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(value: object) -> date:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("a day is YYYY-MM-DD, e.g. 2026-12-01")
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("not a real calendar day") from exc
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"a day between {FIRST_YEAR} and {LAST_YEAR}")
    return day


# A Beijing calendar day, as the cohort's dates are given.
Day = Annotated[date, BeforeValidator(_day)]
Tag = Annotated[Name, Field(min_length=1, max_length=12)]
Hours = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]


class ProfileIn(Body):
    org_id: Text = Field(max_length=40)
    user_id: Text = Field(max_length=40)
    specialities: list[Tag] = Field(default_factory=list, max_length=8)
    bio: Prose = Field(default="", max_length=2000)


class ProfilePatch(PatchBody):
    specialities: Annotated[list[Tag] | None, NotNull] = Field(default=None, max_length=8)
    bio: Annotated[Prose | None, NotNull] = Field(default=None, max_length=2000)


class CohortIn(Body):
    name: Name = Field(min_length=1, max_length=100)
    goals: Prose = Field(default="", max_length=4000)
    goal_gmv_fen: Fen | None = None
    goal_hours: Hours | None = None
    starts_on: Day
    ends_on: Day
    mentor_ids: list[Annotated[Text, Field(max_length=40)]] = Field(
        default_factory=list, max_length=10
    )


class CohortPatch(PatchBody):
    name: Annotated[Name | None, NotNull] = Field(default=None, min_length=1, max_length=100)
    goals: Annotated[Prose | None, NotNull] = Field(default=None, max_length=4000)
    goal_gmv_fen: Fen | None = None
    goal_hours: Hours | None = None
    starts_on: Annotated[Day | None, NotNull] = None
    ends_on: Annotated[Day | None, NotNull] = None
    mentor_ids: Annotated[list[Annotated[Text, Field(max_length=40)]] | None, NotNull] = Field(
        default=None, max_length=10
    )


class MemberIn(Body):
    profile_id: Text = Field(max_length=40)


class LevelIn(Body):
    name: Name = Field(min_length=1, max_length=40)
    name_en: Name = Field(default="", max_length=40)
    min_hours: Hours = 0
    min_gmv_fen: Fen = 0
    min_shows: Hours = 0


class LevelsIn(Body):
    levels: list[LevelIn] = Field(min_length=1, max_length=10)
