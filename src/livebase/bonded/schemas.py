from __future__ import annotations

from pydantic import Field

from livebase.schemas import Body, Text

Id = Text


class IdentityIn(Body):
    name: str = Field(min_length=1, max_length=40)
    id_number: str = Field(min_length=1, max_length=40)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{6,20}$")


class QuoteLineIn(Body):
    sku_id: Id = Field(max_length=40)
    quantity: int = Field(ge=1, le=999, strict=True)


class QuoteIn(Body):
    identity_id: Id = Field(max_length=40)
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=50)
    freight_fen: int = Field(default=0, ge=0, le=10_000_000, strict=True)


class CodeIn(Body):
    code: str = Field(min_length=1, max_length=32)


class HandoverIn(Body):
    code: str = Field(min_length=1, max_length=32)
    id_last4: str = Field(min_length=4, max_length=4, pattern=r"^[0-9]{3}[0-9Xx]$")


class ReasonIn(Body):
    reason: str = Field(min_length=1, max_length=500)
