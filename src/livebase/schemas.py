"""Request-model base and the field types every request model uses.

Unknown fields are refused, so a client never sends its own price. Every text field is
one of the types below (see ``livebase.text``): whatever arrives is checked against what
the database can store and a response can encode before any service runs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
)

from livebase.text import check_name, check_prose, check_storable


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _patch_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """What a PATCH body is, for the document: at least one field, and a field marked
    NotNull is its type alone (leaving it out keeps the value; null is refused)."""
    schema["minProperties"] = 1
    for name, prop in schema.get("properties", {}).items():
        info = model.model_fields.get(name)
        if info is None or NotNull not in info.metadata:
            continue
        branches = [s for s in prop.pop("anyOf", [prop]) if s.get("type") != "null"]
        if len(branches) == 1:
            prop.update(branches[0])
        else:
            prop["anyOf"] = branches
        prop.pop("default", None)


class PatchBody(Body):
    """A PATCH body: every field optional, at least one given."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_patch_schema)


# RFC 3339 `date-time` and nothing else (DESIGN §4): no unix seconds, no date alone, no
# naive time. ASCII digits only; `T`/`Z` in either case and a space are what RFC 3339 allows.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: object) -> datetime:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("time must be RFC 3339 with an offset, e.g. 2026-11-28T08:00:00Z")
    text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
    if "." in text:  # Python keeps microseconds: cut the fraction to six digits
        head, _, rest = text.partition(".")
        digits = re.match(r"[0-9]+", rest)
        assert digits is not None  # the pattern above put them there
        text = f"{head}.{digits.group()[:6].ljust(6, '0')}{rest[digits.end() :]}"
    try:
        parsed = datetime.fromisoformat(text)
        # 9999-12-31T23:59:59-12:00 is a valid RFC 3339 time that UTC cannot hold.
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError("time is not a real date and time in range") from exc


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("must not be null; leave the field out to keep its value")
    return value


AwareDatetime = Annotated[datetime, BeforeValidator(_rfc3339)]
# 10^12 fen is 10 billion yuan: far above any listing, far below BIGINT's limit.
MAX_FEN = 10**12
# Counts (stock, quantities) live in 32-bit INTEGER columns; a billion is far above any
# stock and below 2^31 - 1, so a huge number is refused here rather than by the database.
MAX_COUNT = 10**9
Fen = Annotated[StrictInt, Field(ge=0, le=MAX_FEN)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]
# Any text: codes, ids, passwords. Storable, nothing more.
Text = Annotated[StrictStr, AfterValidator(check_storable)]
# Descriptions, reasons, scripts: line breaks and tabs allowed, other controls not.
Prose = Annotated[StrictStr, AfterValidator(check_prose)]
# Titles and names: one line that shows something.
Name = Annotated[StrictStr, AfterValidator(check_name)]
# For PATCH bodies: a field may be left out (keep the value) but not sent as null when
# the value cannot be empty; without this `{"title": null}` would be a silent no-op.
NotNull = BeforeValidator(_not_null)


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.astimezone(UTC)
    # The year by hand: strftime's %Y drops the leading zeros of years before 1000.
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}Z"
