"""Resident identity numbers (居民身份证号码, GB 11643-1999): the checks a number must pass
before it is stored, each failure naming its rule, and the masked form shown to people.

The number is 18 characters: a 6-digit administrative division code (its first two digits
a province of GB/T 2260), the birth date as YYYYMMDD, a 3-digit sequence and a check
character computed over the first 17 (ISO 7064 MOD 11-2). First-generation 15-digit
numbers stopped being valid in 2013 and are refused rather than converted: customs checks
the 18-digit number against the public security register.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from livebase.errors import ApiError, Code

# ISO 7064 MOD 11-2 weights of positions 1–17 and the check character for sum mod 11.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
# Province-level codes of GB/T 2260 (the first two digits), plus 71 (Taiwan) and 81/82/83
# (Hong Kong, Macau and Taiwan residents' residence permits, which carry an 18-digit
# number of the same form and are accepted by customs for 跨境 orders).
PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
EARLIEST_BIRTH = date(1900, 1, 1)


class InvalidIdNumber(ApiError):
    code = Code.INVALID_ID_NUMBER

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(
            f"{rule}: {detail}",
            fields=[{"loc": "body.id_number", "msg": rule}],
            extra={"rule": rule},
        )
        self.rule = rule


@dataclass(frozen=True)
class IdNumber:
    value: str  # 18 characters, the check character upper-case

    @property
    def birth(self) -> date:
        return date(int(self.value[6:10]), int(self.value[10:12]), int(self.value[12:14]))

    @property
    def last4(self) -> str:
        return self.value[-4:]

    def masked(self) -> str:
        return mask(self.value)


def check_character(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def parse(raw: str, *, today: date | None = None) -> IdNumber:
    """The number as stored, or :class:`InvalidIdNumber` naming the first rule it fails:
    ``length``, ``characters``, ``province``, ``birth date``, ``checksum``. Spaces around
    it are dropped and a lower-case ``x`` is read as ``X`` (phones offer a lower-case
    keyboard). The error never repeats the number."""
    value = raw.strip().upper()
    if len(value) == 15 and value.isdigit():
        raise InvalidIdNumber(
            "length",
            "15-digit first-generation numbers are no longer valid; send the 18-digit one.",
        )
    if len(value) != 18:
        raise InvalidIdNumber("length", "an identity number has 18 characters.")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdNumber("characters", "17 digits then a digit or X.")
    if int(value[:2]) not in PROVINCES:
        raise InvalidIdNumber("province", "the first two digits are not a province code.")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber("birth date", "digits 7–14 are not a calendar date.") from None
    if birth < EARLIEST_BIRTH or birth > (today or date.today()):
        raise InvalidIdNumber("birth date", "the birth date is before 1900 or in the future.")
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumber("checksum", "the check character does not match (GB 11643).")
    return IdNumber(value)


def mask(value: str) -> str:
    """``110105********123X``: the division code and the last four, nothing of the birth
    date (the masked form DESIGN §5 shows)."""
    return value[:6] + "*" * (len(value) - 10) + value[-4:]
