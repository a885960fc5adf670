"""Tax and limits (财关税〔2018〕49号), pure: 13% and 9% VAT, consumption tax, full tax for a
single item over the per-order limit, the limits at their edges, rounding."""

from __future__ import annotations

from fractions import Fraction

import pytest

from livebase.bonded.tax import NATIONAL, Rules, TaxLine, quote, round_half_up
from livebase.errors import Code


def one(price: int, *, vat: int = 1300, ct: int = 0, tariff: int = 0, qty: int = 1) -> TaxLine:
    return TaxLine(price * qty, qty, tariff, vat, ct)


def test_13_percent_vat_goods_pay_9_1_percent() -> None:
    q = quote([one(100_000)], rules=NATIONAL, used_fen=0)
    assert (q.tariff_fen, q.ct_fen, q.vat_fen) == (0, 0, 9_100)
    assert q.total_fen == 109_100 and q.allowed and not q.full_tax


def test_9_percent_vat_goods_pay_6_3_percent() -> None:
    q = quote([one(100_000, vat=900)], rules=NATIONAL, used_fen=0)
    assert q.tax_fen == 6_300


def test_consumption_tax_goods_pay_vat_and_ct_over_one_minus_ct_at_70_percent() -> None:
    # cosmetics 13% VAT + 15% CT: 100000 × (0.13 + 0.15) / 0.85 × 0.7 = 23058.82…
    q = quote([one(100_000, ct=1500)], rules=NATIONAL, used_fen=0)
    assert q.ct_fen == 12_353  # 100000 × 0.15 / 0.85 × 0.7 = 12352.94
    assert q.vat_fen == 10_706  # 100000 × 0.13 / 0.85 × 0.7 = 10705.88
    assert q.tax_fen == 23_059


def test_freight_and_insurance_are_part_of_the_taxable_value_and_discounts_lower_it() -> None:
    q = quote([one(100_000)], rules=NATIONAL, used_fen=0, freight_fen=1_000, discount_fen=2_000)
    assert q.taxable_fen == 99_000 and q.tax_fen == 9_009
    assert q.total_fen == 100_000 + 1_000 + 9_009 - 2_000  # acturalPaid


def test_the_per_order_limit_at_5000_00_passes_and_5000_01_refuses_two_items() -> None:
    at = quote([one(250_000, qty=2)], rules=NATIONAL, used_fen=0)
    assert at.taxable_fen == 500_000 and at.allowed and not at.full_tax
    over = quote([one(250_000, qty=1), one(250_001)], rules=NATIONAL, used_fen=0)
    assert over.taxable_fen == 500_001
    assert not over.allowed and over.reason is Code.LIMIT_EXCEEDED


def test_a_single_item_over_5000_passes_at_full_tax() -> None:
    q = quote([one(500_001, vat=1300, ct=1500, tariff=1000)], rules=NATIONAL, used_fen=0)
    assert q.allowed and q.full_tax
    tariff = Fraction(500_001) * Fraction(1, 10)
    ct = (500_001 + tariff) * Fraction(15, 85)
    vat = (500_001 + tariff + ct) * Fraction(13, 100)
    assert (q.tariff_fen, q.ct_fen, q.vat_fen) == tuple(map(round_half_up, (tariff, ct, vat)))


def test_a_single_item_at_full_tax_still_needs_the_year_within_the_limit() -> None:
    q = quote([one(600_000)], rules=NATIONAL, used_fen=2_000_001)
    assert not q.allowed and q.reason is Code.QUOTA_EXCEEDED


@pytest.mark.parametrize(("used", "allowed"), [(2_100_000, True), (2_100_001, False)])
def test_the_yearly_limit_at_its_edge(used: int, allowed: bool) -> None:
    q = quote([one(500_000)], rules=NATIONAL, used_fen=used)
    assert q.allowed is allowed
    if allowed:
        assert q.remaining_after_fen == 0
    else:
        assert q.reason is Code.QUOTA_EXCEEDED


def test_a_district_may_set_its_own_numbers() -> None:
    rules = Rules(per_order_fen=100_000, per_year_fen=200_000, reduced_bp=5000)
    assert (
        quote([one(100_001, qty=1), one(1)], rules=rules, used_fen=0).reason is Code.LIMIT_EXCEEDED
    )
    assert quote([one(100_000)], rules=rules, used_fen=0).tax_fen == 6_500  # 13% × 50%


def test_rounding_is_half_up_once_per_tax() -> None:
    assert round_half_up(Fraction(1, 2)) == 1 and round_half_up(Fraction(49, 100)) == 0
    # 3 lines of 1 fen, 13% VAT × 70%: each line 0.091 fen; summed then rounded = 0
    q = quote([one(1), one(1), one(1)], rules=NATIONAL, used_fen=0)
    assert q.vat_fen == 0
    q = quote([one(550)], rules=NATIONAL, used_fen=0)  # 50.05 → 50
    assert q.vat_fen == 50
