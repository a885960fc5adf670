from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from livebase.schemas import Body, Text

# A target is a count or a sum of fen (GMV of a district over years: 10^15 fen is ten
# trillion yuan), far below BIGINT's limit.
TargetValue = Annotated[StrictInt, Field(ge=0, le=10**15)]
# More targets than a plan has lines (a dozen metrics over a few periods).
MAX_TARGETS = 100


class TargetItem(Body):
    metric: Text = Field(min_length=1, max_length=40)
    period: Text = Field(min_length=4, max_length=9, description='"YYYY" or "YYYY-YYYY"')
    target: TargetValue
    reported: TargetValue = 0


class TargetsIn(Body):
    targets: list[TargetItem] = Field(max_length=MAX_TARGETS)
