"""Cross-border retail import tax and limits (财关税〔2018〕49号, from 2019-01-01), every
number configurable per customs district (``DistrictRules``).

- Taxable value (完税价格) = goods − the seller's discount + freight + insurance: the actual
  transaction price the buyer pays before tax.
- Inside the limits (taxable value ≤ the per-order limit, the year's total within the
  yearly limit): tariff 0, import VAT and consumption tax at 70% of the normal amount:
  tax = taxable × (VAT + CT) / (1 − CT) × 0.7 (9.1% for 13% VAT goods, 6.3% for 9%).
- A single-item order (one line, quantity 1) above the per-order limit whose year stays
  within the yearly limit pays full tax: tariff = taxable × tariff rate; CT = (taxable +
  tariff) × CT / (1 − CT); VAT = (taxable + tariff + CT) × VAT.
- An order above the per-order limit with more than one item is refused
  (``limit_exceeded``); one that would take the year past the yearly limit is refused
  (``quota_exceeded``). Both full-tax and reduced orders count toward the year.

Rounding: each tax (tariff, consumption tax, VAT) is computed exactly over the whole order
with fractions (rates in basis points, freight and insurance apportioned to lines by their
goods value) and rounded half up to the fen once per order — the way a customs tax bill
(税单) states one amount per tax per declaration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from livebase.errors import Code

BP = 10_000


@dataclass(frozen=True)
class Rules:
    per_order_fen: int
    per_year_fen: int
    reduced_bp: int  # share of the normal VAT + CT paid inside the limits (7000 = 70%)
    return_days: int = 30


# The national rules; a district row overrides them (DistrictRules).
NATIONAL = Rules(per_order_fen=500_000, per_year_fen=2_600_000, reduced_bp=7000)


@dataclass(frozen=True)
class TaxLine:
    line_fen: int  # unit price × quantity
    quantity: int
    tariff_bp: int
    vat_bp: int
    ct_bp: int


@dataclass(frozen=True)
class Quote:
    goods_fen: int
    discount_fen: int
    freight_fen: int
    insurance_fen: int
    taxable_fen: int
    tariff_fen: int
    ct_fen: int
    vat_fen: int
    full_tax: bool
    allowed: bool
    reason: Code | None
    detail: str | None
    used_fen: int
    limit_fen: int

    @property
    def tax_fen(self) -> int:
        return self.tariff_fen + self.ct_fen + self.vat_fen

    @property
    def total_fen(self) -> int:
        """What the buyer pays: acturalPaid = goodsValue + freight + taxTotal − discount
        (insurance is borne by the seller and is part of the taxable value only)."""
        return self.goods_fen + self.freight_fen + self.tax_fen - self.discount_fen

    @property
    def remaining_after_fen(self) -> int:
        counted = self.taxable_fen if self.allowed else 0
        return max(self.limit_fen - self.used_fen - counted, 0)


def round_half_up(x: Fraction) -> int:
    return int((x * 2 + 1) // 2) if x >= 0 else -round_half_up(-x)


def _apportion(lines: Sequence[TaxLine], taxable: int) -> list[Fraction]:
    goods = sum(ln.line_fen for ln in lines)
    if goods == 0:
        return [Fraction(0) for _ in lines]
    return [Fraction(ln.line_fen * taxable, goods) for ln in lines]


def _taxes(
    lines: Sequence[TaxLine], taxable: int, *, full: bool, reduced_bp: int
) -> tuple[int, int, int]:
    tariff = ct = vat = Fraction(0)
    for ln, value in zip(lines, _apportion(lines, taxable), strict=True):
        c = Fraction(ln.ct_bp, BP)
        v = Fraction(ln.vat_bp, BP)
        if full:
            t = value * Fraction(ln.tariff_bp, BP)
            line_ct = (value + t) * c / (1 - c)
            tariff += t
            ct += line_ct
            vat += (value + t + line_ct) * v
        else:
            factor = Fraction(reduced_bp, BP)
            # tariff 0; CT and VAT at the reduced share of their normal amounts
            ct += value * c / (1 - c) * factor
            vat += value * v / (1 - c) * factor
    return round_half_up(tariff), round_half_up(ct), round_half_up(vat)


def quote(
    lines: Sequence[TaxLine],
    *,
    rules: Rules,
    used_fen: int,
    discount_fen: int = 0,
    freight_fen: int = 0,
    insurance_fen: int = 0,
) -> Quote:
    goods = sum(ln.line_fen for ln in lines)
    taxable = goods - discount_fen + freight_fen + insurance_fen
    single_item = len(lines) == 1 and lines[0].quantity == 1
    reason: Code | None = None
    detail: str | None = None
    full = False
    if taxable > rules.per_order_fen:
        if single_item:
            full = True
        else:
            reason = Code.LIMIT_EXCEEDED
            detail = (
                f"The order's taxable value {taxable} fen is over the per-order limit of "
                f"{rules.per_order_fen} fen; only a single item may pass it (at full tax)."
            )
    if reason is None and used_fen + taxable > rules.per_year_fen:
        reason = Code.QUOTA_EXCEEDED
        detail = (
            f"This order ({taxable} fen) would take the year's total past the limit of "
            f"{rules.per_year_fen} fen; {max(rules.per_year_fen - used_fen, 0)} fen remain."
        )
    tariff, ct, vat = _taxes(lines, taxable, full=full, reduced_bp=rules.reduced_bp)
    return Quote(
        goods_fen=goods,
        discount_fen=discount_fen,
        freight_fen=freight_fen,
        insurance_fen=insurance_fen,
        taxable_fen=taxable,
        tariff_fen=tariff,
        ct_fen=ct,
        vat_fen=vat,
        full_tax=full,
        allowed=reason is None,
        reason=reason,
        detail=detail,
        used_fen=used_fen,
        limit_fen=rules.per_year_fen,
    )
