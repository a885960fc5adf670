"""The positive list (跨境电子商务零售进口商品清单, 正面清单): the 8-digit HS codes that may be
sold through cross-border retail, each with its notes (监管要求).

A fresh install carries the common lines below (``COMMON``); an operator extends a base's
list, or replaces it, with a CSV (``import_csv``): ``hs_code,name,notes[,allowed]`` with a
header row. Every line is checked; one bad line refuses the whole file (a failed import
changes nothing) and every bad line is reported with its number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

# The lines most bonded live streams sell, from the 2019 list (and its 2022 update), with
# the notes an operator needs at hand (positive_list.csv, 8-digit Chinese tariff codes).
COMMON_CSV = (Path(__file__).parent / "positive_list.csv").read_text(encoding="utf-8")

MAX_LINES = 20_000


@dataclass(frozen=True)
class Line:
    hs_code: str
    name: str
    notes: str
    allowed: bool = True


@dataclass(frozen=True)
class LineError:
    line: int  # 1-based line number of the file, header included
    error: str


def _check(row: dict[str, str], n: int) -> Line | LineError:
    code = (row.get("hs_code") or "").strip()
    name = (row.get("name") or "").strip()
    notes = (row.get("notes") or "").strip()
    allowed_raw = (row.get("allowed") or "").strip().lower()
    if not (len(code) == 8 and code.isdigit()):
        return LineError(n, f"hs_code {code!r} is not 8 digits")
    if not name:
        return LineError(n, "name is empty")
    if len(name) > 100:
        return LineError(n, "name is longer than 100 characters")
    if len(notes) > 2000:
        return LineError(n, "notes are longer than 2000 characters")
    if allowed_raw not in ("", "true", "false", "1", "0", "yes", "no"):
        return LineError(n, f"allowed {allowed_raw!r} is not true or false")
    return Line(code, name, notes, allowed_raw not in ("false", "0", "no"))


def parse_csv(text: str) -> tuple[list[Line], list[LineError]]:
    """Every line checked: the good lines and the errors (with line numbers)."""
    text = text.lstrip("\ufeff")  # Excel's BOM
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = {"hs_code", "name"} - set(header)
    if missing:
        return [], [LineError(1, f"the header lacks {', '.join(sorted(missing))}")]
    reader.fieldnames = header
    lines: list[Line] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    for row in reader:
        n = reader.line_num
        if n > MAX_LINES:
            errors.append(LineError(n, f"a list has at most {MAX_LINES} lines"))
            break
        if None in row:
            errors.append(LineError(n, "more fields than the header names"))
            continue
        got = _check(row, n)
        if isinstance(got, LineError):
            errors.append(got)
        elif got.hs_code in seen:
            errors.append(LineError(n, f"hs_code {got.hs_code} repeats line {seen[got.hs_code]}"))
        else:
            seen[got.hs_code] = n
            lines.append(got)
    if not lines and not errors:
        errors.append(LineError(1, "the file has no lines"))
    return lines, errors


COMMON: dict[str, Line] = {ln.hs_code: ln for ln in parse_csv(COMMON_CSV)[0]}
