from __future__ import annotations

from pydantic import Field, StrictInt

from livebase.schemas import Body, Prose, Text


class SanctionIn(Body):
    user_id: Text = Field(min_length=1, max_length=40)
    # Mutes only: how long (default 10 minutes, at most a day). Bans last the show.
    minutes: StrictInt | None = Field(default=None, ge=1, le=24 * 60)


class SlowModeIn(Body):
    seconds: StrictInt = Field(ge=0, le=300)


class NoticeIn(Body):
    text: Prose = Field(min_length=1, max_length=200)


class DecisionIn(Body):
    reason: Prose | None = Field(default=None, max_length=1000)


class RejectIn(Body):
    reason: Prose = Field(min_length=1, max_length=1000)
