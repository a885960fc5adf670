"""What text livebase stores: the rules every request field is held to (see docs/api.md).

Three levels, each including the one before:

- *storable*: what the databases can hold and a response can encode: no NUL (PostgreSQL
  text cannot hold U+0000) and no lone surrogate (U+D800–U+DFFF arrive through JSON's
  ``"\\udfff"`` escape; UTF-8 cannot encode them, so the answer would fail after commit).
- *prose* (descriptions, reasons, scripts): line breaks and tabs are fine; other control
  characters (an ANSI escape repaints a terminal that shows a log), bidi embedding,
  override and isolate controls (U+202E turns "gpj.exe" around) and noncharacters are not.
- *name* (titles, names, display names, attribute names and values): one line of prose
  that shows something: not only spaces or invisible characters.

Each check returns the value unchanged or raises ``ValueError`` with a sentence for people,
so pydantic turns it into a 422 naming the field, and a service or page can reuse it.
"""

from __future__ import annotations

import re
import unicodedata

_SURROGATE = re.compile("[\ud800-\udfff]")
# Bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI). The
# marks (LRM, RLM, ALM) do not reorder what follows and stay allowed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_PROSE_CONTROLS = frozenset("\n\r\t")
# Letters that render as nothing and are used to fake a blank name (Hangul fillers, the
# braille blank), on top of the format characters (zero-width space, joiners, BOM).
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _is_noncharacter(ch: str) -> bool:
    cp = ord(ch)
    return 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE


def check_storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if _SURROGATE.search(value):
        raise ValueError("text must be valid Unicode (a lone surrogate is not)")
    return value


def _check_chars(value: str, allowed_controls: frozenset[str]) -> str:
    check_storable(value)
    for ch in value:
        if ch in allowed_controls:
            continue
        if unicodedata.category(ch) == "Cc":
            raise ValueError(f"text must not contain control characters (U+{ord(ch):04X})")
        if ch in _BIDI_CONTROLS:
            raise ValueError(f"text must not contain bidi override characters (U+{ord(ch):04X})")
        if _is_noncharacter(ch):
            raise ValueError(f"text must not contain noncharacters (U+{ord(ch):04X})")
    return value


def check_prose(value: str) -> str:
    return _check_chars(value, _PROSE_CONTROLS)


def check_name(value: str) -> str:
    _check_chars(value, frozenset())
    if not value:
        return value  # emptiness is the field's min_length to judge, with its own message
    if all(
        ch.isspace() or ch in _BLANK_LOOKING or unicodedata.category(ch) in ("Cf", "Mn", "Zs")
        for ch in value
    ):
        raise ValueError("text must show something: not only spaces or invisible characters")
    return value
