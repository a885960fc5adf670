"""Parsing what people type into page forms: yuan to fen, percent to basis points,
SKU attributes, counts and local times. Every parser raises ValidationFailed naming the
field, so a page can show the message next to the form it came from."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from livebase.errors import ValidationFailed
from livebase.web.formerrors import FieldError

# Pages show and take times in Beijing time: the base is in Beijing, and China has one
# time zone without daylight saving, so a fixed +08:00 offset is exact all year.
PAGE_TZ = timezone(timedelta(hours=8), "CST")
# 10^12 fen (10 billion yuan) is the API's bound for any amount (schemas.Fen).
MAX_FEN = 10**12
# Counts above a hundred million are typing mistakes, not stock.
MAX_COUNT = 100_000_000
_ATTR_SPLIT = re.compile(r"[;；,，\n]+")
_ATTR_PAIR = re.compile(r"^\s*([^:：=]+?)\s*[:：=]\s*(.+?)\s*$")
# ASCII digits only (\d would take any script's digits); full-width ones typed with a
# Chinese input method are folded to ASCII first by _fold.
_YUAN = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_PERCENT = _YUAN


def _fold(text: str) -> str:
    """NFKC turns full-width digits and punctuation (１２．５０) into ASCII (12.50)."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_yuan(text: str, field: str) -> int:
    """ "12.5" → 1250 fen, exactly: decimal arithmetic, never a float."""
    cleaned = _fold(text).replace(",", "").lstrip("¥").strip()
    if not _YUAN.fullmatch(cleaned):
        raise ValidationFailed(
            "Enter a price in yuan with at most two decimals, e.g. 99.90.", loc=field
        )
    try:
        fen = int(Decimal(cleaned) * 100)
    except InvalidOperation as exc:  # the pattern already excludes this; belt and braces
        raise ValidationFailed("Enter a price in yuan.", loc=field) from exc
    if fen > MAX_FEN:
        raise ValidationFailed("The price is out of range.", loc=field)
    return fen


def yuan_input(fen: int | None) -> str:
    """The value for a price input: 1250 → "12.50"."""
    if fen is None:
        return ""
    return f"{fen // 100}.{fen % 100:02d}"


def parse_percent_bp(text: str, field: str) -> int:
    """ "13" → 1300 basis points, "9.1" → 910; a rate is 0–100%."""
    cleaned = _fold(text).rstrip("%").strip()
    if not _PERCENT.fullmatch(cleaned):
        raise ValidationFailed(
            "Enter a rate in percent with at most two decimals, e.g. 13.", loc=field
        )
    bp = int(Decimal(cleaned) * 100)
    if bp > 10000:
        raise ValidationFailed("A rate is at most 100%.", loc=field)
    return bp


def percent_input(bp: int | None) -> str:
    if bp is None:
        return ""
    whole, part = divmod(bp, 100)
    return f"{whole}.{part:02d}".rstrip("0").rstrip(".")


def parse_count(text: str, field: str) -> int:
    cleaned = _fold(text)
    if not re.fullmatch(r"[0-9]+", cleaned):
        raise ValidationFailed("Enter a whole number, 0 or more.", loc=field)
    value = int(cleaned)
    if value > MAX_COUNT:
        raise ValidationFailed("The number is out of range.", loc=field)
    return value


# The attribute name a value typed without one gets ("500ml×6瓶" → 规格:500ml×6瓶).
DEFAULT_ATTR = {"zh": "规格", "en": "Option"}


def parse_attrs(text: str, field: str, default_name: str = DEFAULT_ATTR["zh"]) -> dict[str, str]:
    """ "颜色:白; 尺码:M" (full-width punctuation too) → {"颜色": "白", "尺码": "M"}; a
    plain value ("500ml×6瓶") is the variant's ``default_name`` attribute."""
    attrs: dict[str, str] = {}
    for part in _ATTR_SPLIT.split(text):
        if not part.strip():
            continue
        m = _ATTR_PAIR.match(part)
        if m:
            name, value = m.group(1), m.group(2)
        elif not any(c in part for c in ":：="):
            name, value = default_name, part.strip()
            if name in attrs:
                raise FieldError(
                    "Only one value may go without a name; write the others as name:value.",
                    loc=field,
                    key="form.err.attrs_two_plain",
                    name=default_name,
                )
        else:
            raise FieldError(
                f"“{part.strip()}” needs a name and a value, e.g. 颜色:白.",
                loc=field,
                key="form.err.attrs_pair",
                part=part.strip(),
            )
        if len(name) > 20 or len(value) > 40:
            raise FieldError(
                "Attribute names are up to 20 characters, values up to 40.",
                loc=field,
                key="form.err.attrs_long",
            )
        attrs[name] = value
    if len(attrs) > 8:
        raise FieldError("A SKU has at most 8 attributes.", loc=field, key="form.err.attrs_many")
    return attrs


def attrs_text(attrs: dict[str, str]) -> str:
    return "; ".join(f"{k}:{v}" for k, v in attrs.items())


def parse_local_datetime(text: str, field: str) -> datetime:
    """A ``datetime-local`` value ("2026-11-28T20:00") in Beijing time → aware UTC."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationFailed("Enter a date and time.", loc=field) from exc
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=PAGE_TZ).astimezone(UTC)
