from __future__ import annotations

from typing import Literal

from pydantic import Field

from livebase.schemas import Body, Name, Prose, Text


class CheckIn(Body):
    kind: Literal["chat", "listing", "script"]
    # A product description is the longest text we check; 20,000 characters covers it.
    text: Text = Field(max_length=20000)


class RejectIn(Body):
    # A rejection always says why: the merchant or host reads it next to the held text.
    reason: Prose = Field(min_length=1, max_length=1000)


class TermIn(Body):
    term: Name = Field(min_length=1, max_length=64)
    label: Literal["abuse", "contact", "ad_law", "prohibited", "spam"]
    options: list[Text] = Field(default_factory=list, max_length=8)
