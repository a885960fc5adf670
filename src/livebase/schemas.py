"""Request-model base: unknown fields are refused, so a client never sends its own price."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictInt, StrictStr


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time needs a UTC offset, e.g. 2026-11-28T08:00:00Z")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Fen = Annotated[StrictInt, AfterValidator(lambda v: _non_negative(v, "amount"))]
Count = Annotated[StrictInt, AfterValidator(lambda v: _non_negative(v, "count"))]
Text = StrictStr


def _non_negative(v: int, what: str) -> int:
    if v < 0:
        raise ValueError(f"{what} must not be negative")
    # 10^12 fen is 10 billion yuan: far above any listing, far below BIGINT's limit.
    if v > 10**12:
        raise ValueError(f"{what} is out of range")
    return v


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
