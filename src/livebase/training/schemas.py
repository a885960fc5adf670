from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt

from livebase.schemas import AwareDatetime, Body, Name, NotNull, PatchBody, Prose, Text
from livebase.training.service import DEFAULT_PASS_MARK, MAX_CAPACITY, MAX_HOURS

Score = Annotated[StrictInt, Field(ge=0, le=100)]


class CourseIn(Body):
    title: Name = Field(min_length=1, max_length=120)
    description: Prose = Field(default="", max_length=4000)
    hours: StrictInt = Field(ge=1, le=MAX_HOURS)
    level: StrictInt = Field(default=5, ge=1, le=5, description="国家职业技能等级, 5 = 初级工")
    pass_mark: Score = DEFAULT_PASS_MARK


class SessionIn(Body):
    teacher_name: Name = Field(default="", max_length=100)
    teacher_user_id: Text | None = Field(default=None, max_length=40)
    room: Name = Field(default="", max_length=120)
    studio_id: Text | None = Field(default=None, max_length=40)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: StrictInt = Field(ge=1, le=MAX_CAPACITY)


class SessionPatch(PatchBody):
    """Any of a session's fields; a field left out keeps its value."""

    teacher_name: Annotated[Name | None, NotNull] = Field(default=None, max_length=100)
    teacher_user_id: Text | None = Field(default=None, max_length=40)
    room: Annotated[Name | None, NotNull] = Field(default=None, max_length=120)
    studio_id: Text | None = Field(default=None, max_length=40)
    starts_at: Annotated[AwareDatetime | None, NotNull] = None
    ends_at: Annotated[AwareDatetime | None, NotNull] = None
    capacity: Annotated[StrictInt | None, NotNull] = Field(default=None, ge=1, le=MAX_CAPACITY)


class EnrolmentPatch(PatchBody):
    attended: Annotated[StrictBool | None, NotNull] = None
    score: Score | None = None


class IssueIn(Body):
    holder_name: Name | None = Field(default=None, min_length=1, max_length=100)


class RevokeIn(Body):
    reason: Prose = Field(min_length=1, max_length=1000)
