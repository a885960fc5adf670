from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt

from livebase.schemas import AwareDatetime, Body, Name, NotNull, PatchBody, Prose, Text

# "09:00", "22:30", "24:00": checked again (half hours, close after open) by the service.
HHMM = Annotated[Text, Field(pattern=r"^[0-9]{2}:[0-9]{2}$")]
Item = Annotated[Name, Field(min_length=1, max_length=60)]
# A room for a talk show of a dozen people is large; 500 is a hall, and above it a typo.
Capacity = Annotated[StrictInt, Field(ge=1, le=500)]


class DayHours(Body):
    open: HHMM
    close: HHMM


class Week(Body):
    """Opening hours per weekday in Beijing time; a day left out or null is closed."""

    mon: DayHours | None = None
    tue: DayHours | None = None
    wed: DayHours | None = None
    thu: DayHours | None = None
    fri: DayHours | None = None
    sat: DayHours | None = None
    sun: DayHours | None = None


class StudioIn(Body):
    name: Name = Field(min_length=1, max_length=100)
    description: Prose = Field(default="", max_length=4000)
    equipment: list[Item] = Field(default_factory=list, max_length=50)
    capacity: Capacity
    opening_hours: Week


class StudioPatch(PatchBody):
    name: Annotated[Name | None, NotNull] = Field(default=None, min_length=1, max_length=100)
    description: Annotated[Prose | None, NotNull] = Field(default=None, max_length=4000)
    equipment: Annotated[list[Item] | None, NotNull] = Field(default=None, max_length=50)
    capacity: Annotated[Capacity | None, NotNull] = None
    opening_hours: Annotated[Week | None, NotNull] = None
    active: Annotated[StrictBool | None, NotNull] = None


class BookingIn(Body):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    # Needed when the caller runs more than one organisation of the base, or is its
    # operator booking on an organisation's behalf.
    org_id: Text | None = Field(default=None, max_length=40)
    note: Prose = Field(default="", max_length=500)


class BindShowIn(Body):
    show_id: Text | None = Field(max_length=40)
