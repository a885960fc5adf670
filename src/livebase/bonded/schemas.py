"""Request bodies of the bonded API: unknown fields are refused (422), every text field is
held to the text rules (``livebase.schemas``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from livebase.schemas import Body, Name, Prose, Text

Id = Text


class IdentityIn(Body):
    name: Name = Field(min_length=1, max_length=40)
    id_number: Text = Field(min_length=1, max_length=40)
    phone: Text | None = Field(default=None, pattern=r"^\+?[0-9]{6,20}$")


class QuoteLineIn(Body):
    sku_id: Id = Field(max_length=40)
    quantity: int = Field(ge=1, le=999, strict=True)


class QuoteIn(Body):
    identity_id: Id = Field(max_length=40)
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=50)
    freight_fen: int = Field(default=0, ge=0, le=10_000_000, strict=True)


class CodeIn(Body):
    code: Text = Field(min_length=1, max_length=32)


class HandoverIn(Body):
    code: Text = Field(min_length=1, max_length=32)
    id_last4: Text = Field(min_length=4, max_length=4, pattern=r"^[0-9]{3}[0-9Xx]$")


class ReasonIn(Body):
    reason: Prose = Field(min_length=1, max_length=500)


class PositiveListIn(Body):
    # The CSV file's text (≤ 1 MiB, the JSON body limit); lines are checked one by one.
    csv: Prose = Field(min_length=1)
    mode: Literal["extend", "replace"] = "extend"


class RulesIn(Body):
    """A customs district's numbers (财关税〔2018〕49号 by default): limits in fen, the share
    of the normal VAT + CT paid inside them in basis points, the return window in days."""

    per_order_fen: int = Field(ge=1, le=100_000_000, strict=True)
    per_year_fen: int = Field(ge=1, le=1_000_000_000, strict=True)
    reduced_bp: int = Field(ge=0, le=10_000, strict=True)
    return_days: int = Field(default=30, ge=0, le=365, strict=True)
