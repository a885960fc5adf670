from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt

from livebase.schemas import AwareDatetime, Body, Fen, Name, NotNull, PatchBody, Prose, Text


class ShowIn(Body):
    org_id: Text = Field(max_length=40)
    title: Name = Field(min_length=1, max_length=100)
    scheduled_at: AwareDatetime
    host_id: Text | None = Field(default=None, max_length=40)


class ShowPatch(PatchBody):
    title: Annotated[Name | None, NotNull] = Field(default=None, min_length=1, max_length=100)
    scheduled_at: Annotated[AwareDatetime | None, NotNull] = None


class ShelfItemIn(Body):
    sku_id: Text = Field(max_length=40)
    live_price_fen: Fen | None = None


class ShelfIn(Body):
    items: list[ShelfItemIn] = Field(max_length=500)


class ExplainingIn(Body):
    no: StrictInt | None = Field(ge=1)


class ScriptIn(Body):
    kind: Literal["script", "caption"] = "script"
    text: Prose = Field(min_length=1, max_length=5000)
