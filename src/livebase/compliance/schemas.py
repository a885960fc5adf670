from __future__ import annotations

from typing import Literal

from pydantic import Field

from livebase.schemas import Body, Name, Prose, Text


class CheckIn(Body):
    kind: Literal["chat", "listing", "script"]
    # A product description is the longest text we check; 20,000 characters covers it.
    text: Text = Field(max_length=20000)
    # Check as a text of this base (its moderators' own terms apply); omitted: the
    # caller's base when they work for exactly one.
    base_id: Text | None = Field(default=None, max_length=40)


class RejectIn(Body):
    # A rejection always says why: the merchant or host reads it next to the held text.
    reason: Prose = Field(min_length=1, max_length=1000)


class TermIn(Body):
    term: Name = Field(min_length=1, max_length=64)
    label: Literal["abuse", "contact", "ad_law", "prohibited", "spam"]
    options: list[Text] = Field(default_factory=list, max_length=8)
    # The base the term applies to; omitted: the moderator's own base (admins: every base).
    base_id: Text | None = Field(default=None, max_length=40)
