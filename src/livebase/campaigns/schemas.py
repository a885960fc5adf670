from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StrictInt

from livebase.schemas import MAX_FEN, AwareDatetime, Body, Name, NotNull, PatchBody, Prose, Text

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(value: object) -> date:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("a day is YYYY-MM-DD, e.g. 2026-12-12")
    return date.fromisoformat(value)


# A day of the Beijing calendar, "2026-12-12", and nothing else (no unix seconds).
Day = Annotated[date, BeforeValidator(_day)]
Status = Literal["draft", "published"]
Color = Annotated[Text, Field(pattern="^#[0-9a-fA-F]{6}$")]
Id = Annotated[Text, Field(max_length=40)]
Tag = Literal["guochao", "laozihao", "new_consumer", "first_store", "factory_live", "rural"]
SceneKind = Literal["mall", "farm", "factory", "street", "other"]


class CampaignIn(Body):
    name: Name = Field(min_length=1, max_length=100)
    description: Prose = Field(default="", max_length=4000)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    banner_color: Color = "#c62828"
    status: Status = "draft"


class CampaignPatch(PatchBody):
    name: Annotated[Name | None, NotNull] = Field(default=None, min_length=1, max_length=100)
    description: Annotated[Prose | None, NotNull] = Field(default=None, max_length=4000)
    starts_at: Annotated[AwareDatetime | None, NotNull] = None
    ends_at: Annotated[AwareDatetime | None, NotNull] = None
    banner_color: Annotated[Color | None, NotNull] = None
    status: Annotated[Status | None, NotNull] = None


class ShowIdsIn(Body):
    show_ids: list[Id] = Field(max_length=500)


class JoinIn(Body):
    show_id: Id


class TagsIn(Body):
    tags: list[Tag] = Field(max_length=6)


class RuleIn(Body):
    min_shows: StrictInt = Field(ge=0, le=10_000)
    min_gmv_fen: StrictInt = Field(ge=0, le=MAX_FEN)
    window_days: StrictInt = Field(ge=1, le=3 * 366)


class OverrideIn(Body):
    override: Literal["yes", "no"] | None
    note: Prose = Field(default="", max_length=1000)


class LaunchIn(Body):
    org_id: Id
    name: Name = Field(min_length=1, max_length=100)
    launch_date: Day
    show_id: Id | None = None


class SceneIn(Body):
    name: Name = Field(min_length=1, max_length=100)
    kind: SceneKind
    address: Name = Field(min_length=1, max_length=200)
    description: Prose = Field(default="", max_length=4000)
    org_id: Id | None = None
    show_ids: list[Id] = Field(default_factory=list, max_length=500)


class ScenePatch(PatchBody):
    name: Annotated[Name | None, NotNull] = Field(default=None, min_length=1, max_length=100)
    kind: Annotated[SceneKind | None, NotNull] = None
    address: Annotated[Name | None, NotNull] = Field(default=None, min_length=1, max_length=200)
    description: Annotated[Prose | None, NotNull] = Field(default=None, max_length=4000)
    # null clears the live channel.
    org_id: Id | None = None
    show_ids: Annotated[list[Id] | None, NotNull] = Field(default=None, max_length=500)
