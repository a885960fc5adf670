"""Request bodies of the orders API. Unknown fields are refused (422): a body that carries
a price, a total or a status never reaches the service."""

from __future__ import annotations

from pydantic import Field, StrictInt, model_validator

from livebase.schemas import Body, Text

Id = Text


class AddressIn(Body):
    name: Text = Field(min_length=1, max_length=40)
    # Digits with an optional +country prefix, spaces or dashes: couriers call this number.
    phone: Text = Field(pattern=r"^\+?[0-9][0-9 \-]{4,18}[0-9]$")
    province: Text = Field(min_length=1, max_length=20)
    city: Text = Field(min_length=1, max_length=20)
    district: Text = Field(min_length=1, max_length=20)
    detail: Text = Field(min_length=1, max_length=120)


class LineIn(Body):
    sku_id: Id = Field(min_length=1, max_length=40)
    # 999 of one SKU in one order is past any household; bulk buyers talk to the brand.
    quantity: StrictInt = Field(ge=1, le=999)


class OrderIn(Body):
    show_id: Id | None = Field(default=None, max_length=40)
    lines: list[LineIn] = Field(min_length=1, max_length=50)
    address_id: Id | None = Field(default=None, max_length=40)
    pickup_counter_id: Id | None = Field(default=None, max_length=40)
    coupon_claim_id: Id | None = Field(default=None, max_length=40)
    # A cross-border (bonded) order names the buyer's real-name identity (DESIGN §5).
    identity_id: Id | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _one_destination(self) -> OrderIn:
        if (self.address_id is None) == (self.pickup_counter_id is None):
            raise ValueError("send address_id or pickup_counter_id (exactly one)")
        return self


class ShipIn(Body):
    carrier: Text = Field(min_length=1, max_length=40)
    tracking_no: Text = Field(pattern=r"^[A-Za-z0-9\-]{4,64}$")


class RefundRequestIn(Body):
    reason: Text = Field(min_length=1, max_length=500)


class RejectIn(Body):
    # A rejection always says why: the buyer reads it in the order's timeline.
    reason: Text = Field(min_length=1, max_length=500)
