from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from livebase.schemas import Body, Count, Fen, Name, NotNull, PatchBody, Prose, Text

# A variant's attributes, e.g. {"颜色": "红"}: names 1–20 characters, values up to 40.
AttrName = Annotated[Name, Field(min_length=1, max_length=20)]
AttrValue = Annotated[Name, Field(max_length=40)]


class SkuIn(Body):
    attrs: dict[AttrName, AttrValue] = Field(default_factory=dict, max_length=8)
    price_fen: Fen
    stock: Count
    code: Text | None = Field(default=None, max_length=64)


class CrossBorderIn(Body):
    # [0-9], not \d: the pattern engine's \d also takes full-width and Arabic-Indic digits.
    hs_code: Text = Field(pattern=r"^[0-9]{8}$")
    origin_country: Text = Field(pattern=r"^[A-Z]{2}$")
    # Rates in basis points: 1300 = 13%. Tariff rates reach 65% (6500) for some goods;
    # 10000 bounds any of them.
    tariff_rate_bp: StrictInt = Field(ge=0, le=10000)
    vat_rate_bp: StrictInt = Field(ge=0, le=10000)
    consumption_tax_rate_bp: StrictInt = Field(ge=0, le=9999)
    warehouse_id: Text = Field(max_length=40)


class ProductIn(Body):
    org_id: Text = Field(max_length=40)
    title: Name = Field(min_length=1, max_length=120)
    description: Prose = Field(default="", max_length=20000)
    skus: list[SkuIn] = Field(min_length=1, max_length=200)
    cross_border: CrossBorderIn | None = None


class ProductPatch(PatchBody):
    title: Annotated[Name | None, NotNull] = Field(default=None, min_length=1, max_length=120)
    description: Annotated[Prose | None, NotNull] = Field(default=None, max_length=20000)
    cross_border: CrossBorderIn | None = None


class SkuPatch(PatchBody):
    price_fen: Annotated[Fen | None, NotNull] = None
    stock: Annotated[Count | None, NotNull] = None
    # The stock the client last read: with it, `stock` is written only if the stock is
    # still that (else 409 conflict with the current value), so sales are never overwritten.
    expected_stock: Annotated[Count | None, NotNull] = None
