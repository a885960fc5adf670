"""`livebase moderate`: JSON lines in, one verdict per line out (DESIGN.md §6).

A plain line is a text of the default kind; a line starting with ``{`` is a JSON object
``{"text", "kind"?, "id"?}``. Each input line gives exactly one output line, in order,
flushed at once so the command works as a filter in a pipe. A line that cannot be read
gives ``{"error": ..., "line": N}`` and the run goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from livebase.compliance.checker import Checker
from livebase.compliance.verdict import KINDS, check_kind


class _Unreadable(Exception):
    pass


def _parse(raw: str | bytes, default_kind: str) -> tuple[str, str, dict[str, Any]]:
    """(kind, text, extra output fields) of one input line, or `_Unreadable`."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Unreadable(f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
    line = raw[:-1] if raw.endswith("\n") else raw
    line = line[:-1] if line.endswith("\r") else line
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from errors="surrogateescape"
        raise _Unreadable("not UTF-8") from exc
    if not line.startswith("{"):
        return default_kind, line, {}
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _Unreadable(f"bad JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(obj, dict):
        raise _Unreadable("a line starting with { must be a JSON object")
    text = obj.get("text")
    if not isinstance(text, str):
        raise _Unreadable("missing text" if text is None else "text must be a string")
    kind = obj.get("kind", default_kind)
    if kind not in KINDS:
        raise _Unreadable(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    extra = {"id": obj["id"]} if "id" in obj else {}
    return kind, text, extra


def moderate_stream(
    lines: Iterable[str | bytes],
    out: TextIO,
    default_kind: str = "chat",
    checker: Checker | None = None,
) -> None:
    """Check every line of ``lines`` and write one JSON line per input line to ``out``.

    ``lines`` may yield bytes (e.g. ``sys.stdin.buffer``): a line that is not UTF-8 then
    gets an error line instead of ending the run.
    """
    check_kind(default_kind)
    if checker is None:
        from livebase.compliance import default_checker

        checker = default_checker()
    for n, raw in enumerate(lines, 1):
        try:
            kind, text, extra = _parse(raw, default_kind)
        except _Unreadable as exc:
            record: dict[str, Any] = {"error": str(exc), "line": n}
        else:
            record = checker.check(kind, text).to_dict()
            record["kind"] = kind
            record.update(extra)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
