from __future__ import annotations

from typing import Literal

from pydantic import Field

from livebase.schemas import Body, Name, Prose, Text


class ApplicationIn(Body):
    org_kind: Literal["brand", "agency"]
    name: Name = Field(min_length=1, max_length=100)
    description: Prose = Field(default="", max_length=4000)


class RejectIn(Body):
    reason: Prose = Field(min_length=1, max_length=1000)


class WarehouseIn(Body):
    name: Name = Field(min_length=1, max_length=100)
    customs_code: Text = Field(max_length=4)
    ems_no: Text = Field(max_length=32)


class MemberIn(Body):
    username: Text = Field(min_length=3, max_length=32)
    role: Literal["merchant", "agency", "host", "assistant"]


class PickupCounterIn(Body):
    name: Name = Field(min_length=1, max_length=100)
    warehouse_id: Text = Field(max_length=40)
    customs_code: Text = Field(max_length=4)
