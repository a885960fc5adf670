"""Text normalisation for the compliance engine.

Every evasion trick that survives normalisation has to be listed in the word lists, so
this module folds as much as it safely can into ONE per-code-point table, built once per
process:

* NFKC (full-width, circled, math-styled, compatibility ideographs), case folding,
  accents dropped from Latin letters (also strips pinyin tone marks: wēixìn → weixin);
* traditional → simplified, derived by running OpenCC ``t2s`` over the CJK blocks once;
* Chinese and styled numerals → ASCII digits (一三八, 壹贰叁, ①, ⑴, ❶, 𝟏, 0️⃣);
* Cyrillic / Greek look-alikes and emoji letters (🅆, 🅰, 🇶) → Latin letters, emoji
  used as words → the word (➕ → +, 🐧 → 企鹅, 🐴 → 马);
* spaces, punctuation, symbols, emoji, zero-width and combining characters → removed
  (``+`` and ``%`` stay: ``+v`` means 加v and ``100%`` is an advertising claim).

Why a table: per-character calls into OpenCC, unicodedata or pypinyin cost microseconds
each, while ``str.translate`` with a dict runs in C. Check time therefore does one
``translate`` and, when two equal characters touch, one regex substitution (repeat
collapsing); the Python loop that maps
each normalised character back to its span in the original text runs only for the few
lines where something matched (``stripped_spans``).
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Characters kept in the stripped view although they are symbols: "+" is used for 加
# ("+v", "+微"), "%" carries the "100%" claim of the Advertising Law word list.
_KEEP_SYMBOLS = frozenset("+%")

# Chinese numerals as used to spell phone numbers (一三八…, 壹叁捌…). 幺 is the spoken
# "one" in phone numbers; 两 is "two". 十/百/千 are not digits of a spelled number.
_CN_DIGITS = {
    "零": "0", "〇": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
    "六": "6", "七": "7", "八": "8", "九": "9", "壹": "1", "贰": "2", "叁": "3",
    "肆": "4", "伍": "5", "陆": "6", "柒": "7", "捌": "8", "玖": "9", "幺": "1",
    "两": "2", "腰": "1", "洞": "0",
}  # fmt: skip
# 腰 is the way 幺 is misspelled in spoken phone numbers (腰三八), 洞 the radio zero; in
# other words they only turn up next to clothing sizes (腰围2尺3), never in 11-digit runs.

# Emoji used as words to dodge filters: ➕ for 加, 🐧 for QQ (企鹅), 🐴 for 马/妈, 🍑 for
# 淘 (桃), ❤ for 信 (心), 🧧 for 红包, 💳 for a (bank) card, 🍃 for 叶子 (cannabis).
# Mapped to the word they stand for.
_EMOJI_WORDS = {
    "➕": "+", "🐧": "企鹅", "🐴": "马", "🐎": "马", "🐶": "狗", "🐕": "狗", "🍑": "桃",
    "🐟": "鱼", "🐠": "鱼", "❤": "心", "♥": "心", "💗": "心", "💕": "心", "❄": "冰",
    "🎲": "赌", "🔫": "枪", "💊": "药", "🚬": "烟", "🐷": "猪", "💩": "屎",
    "🧧": "红包", "🔪": "刀", "💳": "卡", "📱": "手机", "🎰": "老虎机", "🧨": "炮",
    "🔞": "成人", "🍃": "叶子",
}  # fmt: skip

# Capital look-alikes are mapped BEFORE case folding, because folding turns Greek Ν (looks
# like N) into ν (looks like v).
_UPPER_LOOKALIKES = dict(
    zip("АВЕКМНОРСТУХЅІЈѴΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abekmhopctyxsijvabezhikmnoptyx", strict=True)
)
_LOWER_LOOKALIKES = dict(
    zip("авекмнорстухѕіјԛԝѵзαβεικνορτυχ", "abekmhopctyxsijqwv3abeikvoptux", strict=True)
)

_NUMBER_WORDS = {
    "ZERO": "0", "ONE": "1", "TWO": "2", "THREE": "3", "FOUR": "4", "FIVE": "5",
    "SIX": "6", "SEVEN": "7", "EIGHT": "8", "NINE": "9", "TEN": "10",
}  # fmt: skip
# Emoji and dingbats that look like letters or digits but have no NFKC decomposition
# (🅰 NEGATIVE SQUARED LATIN CAPITAL LETTER A, 🇶 REGIONAL INDICATOR SYMBOL LETTER Q,
# ❶ DINGBAT NEGATIVE CIRCLED DIGIT ONE, 🔟 KEYCAP TEN): their Unicode names say what
# they look like.
_NAME_LETTER = re.compile(r"(?:LATIN CAPITAL LETTER|SYMBOL LETTER) ([A-Z])$")
_NAME_DIGIT = re.compile(
    r"(?:DIGIT|NUMBER|KEYCAP) (ZERO|ONE|TWO|THREE|FOUR|FIVE|SIX|SEVEN|EIGHT|NINE|TEN)$"
)

_STRIP_CATEGORIES = frozenset(
    {"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Mn", "Me", "Sk", "Sm", "Sc", "So",
     "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"}
)  # fmt: skip
# Removed in both views: invisible and combining characters carry no visible text (a
# keycap 1️⃣ is "1" + U+FE0F + U+20E3).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Mn", "Me"})

# The code points worth a table entry. Everything else maps to itself, which is what
# translate does for a missing key. Covers BMP, math alphanumerics, enclosed
# alphanumerics and emoji, and the CJK compatibility supplement.
_RANGES = ((0x0000, 0x10000), (0x1D400, 0x1D800), (0x1F000, 0x1FB00), (0x2F800, 0x2FA20))
_CJK_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000))

# The second and later characters of a run of one non-digit character. Replaced by a
# literal "" rather than by a backreference template: re expands a template in Python for
# every match, a literal replacement stays in C.
_REPEAT = re.compile(r"(?<=([^0-9]))\1+")
# A cheaper test run first: most lines have no doubled character at all.
HAS_REPEAT = re.compile(r"([^0-9])\1")


@dataclass(frozen=True, slots=True)
class Tables:
    """The precomputed translation tables (code point → replacement string).

    ``folds`` finds any character the stripped table changes: a line without one is its
    own stripped view (before repeat collapsing), so most chat skips ``translate``.
    The tables also map the common unchanged characters (ASCII, the CJK unified block) to
    themselves: ``translate`` raises and clears a KeyError inside CPython for every
    character missing from its table, which made a missing character cost about three
    times a present one.
    """

    stripped: dict[int, str]
    kept: dict[int, str]
    pinyin: dict[int, str]
    fold_class: str  # the inside of a regex class: every character `stripped` may change
    folds: re.Pattern[str]
    uneven: re.Pattern[str]  # a character whose stripped form is not exactly one character


_tables: Tables | None = None
_tables_lock = threading.Lock()


def tables() -> Tables:
    """Build the tables on first use (about half a second), then reuse them."""
    global _tables
    if _tables is None:
        with _tables_lock:
            if _tables is None:
                _tables = _build_tables()
    return _tables


def _t2s_map() -> dict[str, str]:
    import opencc

    converter = opencc.OpenCC("t2s")
    chars = [chr(cp) for lo, hi in _CJK_RANGES for cp in range(lo, hi)]
    chars += [chr(cp) for cp in range(0xF900, 0xFB00)]
    # One call over newline-separated single characters: OpenCC converts phrase by phrase,
    # a lone character is its own phrase, so this yields the per-character mapping.
    converted = converter.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - would mean OpenCC merged lines
        raise RuntimeError("OpenCC t2s changed the number of lines")
    return {a: b for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1}


def _drop_marks(ch: str) -> str:
    cp = ord(ch)
    if 0xC0 <= cp < 0x250 or 0x1E00 <= cp < 0x1F00:
        return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return ch


def _from_name(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    m = _NAME_LETTER.search(name)
    if m:
        return m.group(1).lower()
    m = _NAME_DIGIT.search(name)
    if m:
        return _NUMBER_WORDS[m.group(1)]
    return None


def _fold_char(ch: str, t2s: dict[str, str], *, strip: bool) -> str:
    """The normalised form of one code point (may be empty or several characters)."""
    if ch in _EMOJI_WORDS:
        return _EMOJI_WORDS[ch]
    base = unicodedata.normalize("NFKC", ch)
    if base == ch and unicodedata.category(ch) in ("So", "No"):
        base = _from_name(ch) or ch
    out: list[str] = []
    for c in base:
        c = _UPPER_LOOKALIKES.get(c, c)
        for x in c.casefold():
            x = t2s.get(x, x)
            x = _LOWER_LOOKALIKES.get(x, x)
            x = _CN_DIGITS.get(x, x)
            x = _drop_marks(x)
            if len(x) != 1:
                out.append(x)
                continue
            decimal = unicodedata.decimal(x, None)
            if decimal is not None:
                out.append(str(decimal))
                continue
            category = unicodedata.category(x)
            if category in _INVISIBLE_CATEGORIES:
                continue
            if strip and category in _STRIP_CATEGORIES and x not in _KEEP_SYMBOLS:
                continue
            if not strip and category[0] == "Z":
                x = " "
            elif not strip and x in "。｡":
                x = "."  # "abc。com" is a domain for the kept view's URL scanner
            out.append(x)
    return "".join(out)


def _pinyin_table(stripped: dict[int, str]) -> dict[int, str]:
    from pypinyin.pinyin_dict import pinyin_dict

    table: dict[int, str] = {}
    for lo, hi in _CJK_RANGES:
        for cp in range(lo, hi):
            # Look the pinyin up for the simplified form: the text is already simplified.
            target = stripped.get(cp, chr(cp))
            if len(target) != 1:
                continue
            reading = pinyin_dict.get(ord(target))
            if reading is None:
                continue
            table[cp] = plain_pinyin(reading.split(",")[0])
    return table


def plain_pinyin(syllable: str) -> str:
    """Tone-less ASCII pinyin, ü written as v like pypinyin's NORMAL style ('lǜ' → 'lv')."""
    decomposed = unicodedata.normalize("NFD", syllable).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _build_tables() -> Tables:
    t2s = _t2s_map()
    stripped: dict[int, str] = {}
    kept: dict[int, str] = {}
    for lo, hi in _RANGES:
        for cp in range(lo, hi):
            ch = chr(cp)
            if 0xD800 <= cp < 0xE000:
                continue
            folded = _fold_char(ch, t2s, strip=True)
            if folded != ch:
                stripped[cp] = folded
            kept_form = _fold_char(ch, t2s, strip=False)
            if kept_form != ch:
                kept[cp] = kept_form
    pinyin = _pinyin_table(stripped)
    fold_class = _may_fold(stripped)
    uneven = _may_fold({cp: s for cp, s in stripped.items() if len(s) != 1})
    for cp in itertools.chain(range(0x80), range(*_CJK_RANGES[1])):
        ch = chr(cp)
        stripped.setdefault(cp, ch)
        kept.setdefault(cp, ch)
        pinyin.setdefault(cp, ch)
    return Tables(
        stripped, kept, pinyin, fold_class, re.compile(f"[{fold_class}]"), re.compile(f"[{uneven}]")
    )


def _may_fold(table: dict[int, str]) -> str:
    """The class of characters ``table`` may change: its BMP keys, or any astral one.

    re compiles a class of BMP characters into a bitmap tested in constant time, but
    one that also lists astral characters into ranges it tries one by one (about four
    times slower on a line). Astral characters (emoji, math letters) are rare in chat, so
    every one of them counts as "may fold" and sends the line through ``translate``.
    """
    bmp = char_class(cp for cp in table if cp < 0x10000)
    return f"{bmp[1:-1]}\U00010000-\U0010ffff"


def char_class(code_points: Iterable[int]) -> str:
    """A regex character class matching exactly ``code_points`` (as ranges, compact)."""
    parts: list[str] = []
    cps = sorted(set(code_points))
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = re.escape(chr(cps[i])), re.escape(chr(cps[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    # An empty class would not compile; (?!) never matches.
    return f"[{''.join(parts)}]" if parts else "(?!)"


def chars_whose(view: dict[int, str], marks: str) -> re.Pattern[str]:
    """Finds any character whose form in ``view`` (a table) contains one of ``marks``."""
    unchanged = (ord(m) for m in marks if ord(m) not in view)
    changed = (cp for cp, s in view.items() if any(m in s for m in marks))
    return re.compile(char_class([*unchanged, *changed]))


def collapse(view: str) -> str:
    """Collapse runs of one repeated non-digit character (微微微信 → 微信, ssbb → sb).

    Digits are never collapsed: 13888888888 is a phone number and 666666 must stay itself.
    """
    return _REPEAT.sub("", view) if HAS_REPEAT.search(view) else view


def folded(text: str) -> str:
    """The stripped fold before repeat collapsing; ``text`` itself when nothing folds."""
    t = tables()
    return text if t.folds.search(text) is None else text.translate(t.stripped)


def stripped(text: str) -> str:
    """The matching view: folded, symbols and spaces removed, repeats collapsed (fast path)."""
    return collapse(folded(text))


def kept(text: str) -> str:
    """The folded view that keeps punctuation and spaces (URLs, e-mail, word boundaries)."""
    return text.translate(tables().kept)


def pinyin_of(view: str) -> str:
    """Pinyin of a stripped view: CJK characters become tone-less pinyin, the rest stays."""
    return view.translate(tables().pinyin)


@dataclass(frozen=True, slots=True)
class Spans:
    """A normalised view with, for each of its characters, the original code-point span."""

    text: str
    starts: list[int]
    ends: list[int]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """Map the view slice [start, end) back to the original text (end exclusive)."""
        return self.starts[start], self.ends[end - 1]


def _is_attached(ch: str) -> bool:
    """Combining marks and variation selectors are part of the character they follow."""
    return unicodedata.category(ch) in ("Mn", "Me") or 0xFE00 <= ord(ch) <= 0xFE0F


def stripped_spans(text: str) -> Spans:
    """Slow path of `stripped`: the same string plus the map back to the original.

    Built from C-level pieces rather than a loop over characters: the folded text comes
    from ``translate``; only the characters whose fold is not exactly one character
    (removed spaces and punctuation, ⑩ → 10) and the collapsed repeats are visited in
    Python.
    """
    t = tables()
    raw = text if t.folds.search(text) is None else text.translate(t.stripped)
    if t.uneven.search(text) is None:
        src = list(range(len(text)))  # one view character per character of the text
        ends = list(range(1, len(text) + 1))
    else:
        src, ends = _uneven_sources(text, t)
    if HAS_REPEAT.search(raw) is None:
        return Spans(raw, src, ends)
    return _collapse_spans(raw, src, ends)


def _uneven_sources(text: str, t: Tables) -> tuple[list[int], list[int]]:
    """For each character of the folded text, the span of the character it came from.

    A removed combining mark or variation selector (a keycap's U+FE0F U+20E3) widens the
    span of the character before it.
    """
    src: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in t.uneven.finditer(text):
        i = m.start()
        src += range(pos, i)
        ends += range(pos + 1, i + 1)
        ch = text[i]
        n = len(t.stripped.get(ord(ch), ch))
        if n == 0 and ends and _is_attached(ch):
            ends[-1] = i + 1
        src += [i] * n
        ends += [i + 1] * n
        pos = i + 1
    src += range(pos, len(text))
    ends += range(pos + 1, len(text) + 1)
    return src, ends


def _collapse_spans(raw: str, src: list[int], ends: list[int]) -> Spans:
    """Collapse repeats; the kept character's span stretches over the run it absorbed."""
    starts: list[int] = []
    view_ends: list[int] = []
    pos = 0
    for m in _REPEAT.finditer(raw):
        a, b = m.span()
        starts += src[pos:a]
        view_ends += ends[pos:a]
        view_ends[-1] = ends[b - 1]
        pos = b
    starts += src[pos:]
    view_ends += ends[pos:]
    return Spans(_REPEAT.sub("", raw), starts, view_ends)


def kept_spans(text: str) -> Spans:
    """Slow path of `kept`, with the map back to the original."""
    table = tables().kept
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        folded = table.get(ord(ch), ch)
        if not folded:
            if out and _is_attached(ch):
                ends[-1] = i + 1
            continue
        for x in folded:
            out.append(x)
            starts.append(i)
            ends.append(i + 1)
    return Spans("".join(out), starts, ends)


def pinyin_spans(view: Spans) -> Spans:
    """The pinyin view of a stripped view, mapped back to the ORIGINAL text."""
    table = tables().pinyin
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for j, ch in enumerate(view.text):
        for x in table.get(ord(ch), ch):
            out.append(x)
            starts.append(view.starts[j])
            ends.append(view.ends[j])
    return Spans("".join(out), starts, ends)


def term_form(term: str) -> str:
    """How a word-list term is stored: the same fold as the text it will be matched in."""
    return stripped(term)
