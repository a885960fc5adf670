"""Compliance checks (智能审核): `check(kind, text, context)` is the one call site for every
text that enters livebase - chat lines, product titles and descriptions, host scripts.

See docs/compliance.md for the pipeline, the word-list format and the sources of the lists.
"""

from __future__ import annotations

import threading

from livebase.compliance.checker import Checker
from livebase.compliance.guard import ChatGuard, GuardPolicy, MemoryChatGuard, RedisChatGuard
from livebase.compliance.verdict import KINDS, LABELS, CheckContext, Match, Verdict

__all__ = [
    "KINDS",
    "LABELS",
    "ChatGuard",
    "CheckContext",
    "Checker",
    "GuardPolicy",
    "Match",
    "MemoryChatGuard",
    "RedisChatGuard",
    "Verdict",
    "check",
    "default_checker",
    "set_default_checker",
]

_default: Checker | None = None
_default_lock = threading.Lock()


def default_checker() -> Checker:
    """The process-wide checker, built on first use from the shipped word lists."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Checker()
    return _default


def set_default_checker(checker: Checker | None) -> None:
    """Install the checker `check` uses (the app passes one with the override dir)."""
    global _default
    with _default_lock:
        _default = checker


def check(kind: str, text: str, context: CheckContext | None = None) -> Verdict:
    """Check one text of ``kind`` ("chat", "listing", "script"); ValueError for another."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return default_checker().check(kind, text, context)
