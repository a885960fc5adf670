"""`livebase moderate`: JSON lines in, one verdict per line out (DESIGN.md §6).

A plain line is a text of the default kind; a line starting with ``{`` is a JSON object
``{"text", "kind"?, "id"?}``. Each input line gives exactly one output line, in order. A
line that cannot be read gives ``{"error": ..., "line": N}`` and the run goes on.

Two entry points share the per-line work. `moderate_stream` takes any iterable of lines
and writes text, flushing after every line (a filter in a pipe, the tests).
`moderate_binary` is what the command runs: it reads whatever bytes standard input has
ready (``read1``: one system call, never waiting for a full buffer), answers every
complete line of that chunk, writes the answers in one call and flushes, so the first
answer still comes before the input ends while a fast producer's lines are answered a
chunk at a time. It keeps the finished output line of each plain input line it has seen
(chat repeats itself: 666, 好看, 扣1), so a repeated line costs one dictionary look-up;
JSON is written with orjson.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO, TextIO

import orjson

from livebase.compliance.checker import Checker
from livebase.compliance.verdict import KINDS, Verdict, check_kind

# Plain lines whose finished answer is kept (the bytes of the line → the answer line).
OUTPUT_CACHE_SIZE = 65_536
READ_SIZE = 1 << 16


class _Unreadable(Exception):
    pass


def _decode(raw: str | bytes) -> str:
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
    return line


def _parse_json(line: str, default_kind: str) -> tuple[str, str, dict[str, Any]]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
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


def _parse(raw: str | bytes, default_kind: str) -> tuple[str, str, dict[str, Any]]:
    """(kind, text, extra output fields) of one input line, or `_Unreadable`."""
    line = _decode(raw)
    if not line.startswith("{"):
        return default_kind, line, {}
    return _parse_json(line, default_kind)


def _record(verdict: Verdict, kind: str, extra: dict[str, Any]) -> dict[str, Any]:
    record = verdict.to_dict()
    record["kind"] = kind
    record.update(extra)
    return record


def _answer(raw: str | bytes, n: int, default_kind: str, checker: Checker) -> bytes:
    try:
        kind, text, extra = _parse(raw, default_kind)
    except _Unreadable as exc:
        return orjson.dumps({"error": str(exc), "line": n}) + b"\n"
    try:
        return orjson.dumps(_record(checker.check(kind, text), kind, extra)) + b"\n"
    except TypeError:  # an id orjson cannot write (an integer beyond 64 bits)
        return orjson.dumps({"error": "id cannot be written back", "line": n}) + b"\n"


def _checker(checker: Checker | None) -> Checker:
    if checker is not None:
        return checker
    from livebase.compliance import default_checker

    return default_checker()


def moderate_stream(
    lines: Iterable[str | bytes],
    out: TextIO,
    default_kind: str = "chat",
    checker: Checker | None = None,
) -> None:
    """Check every line of ``lines`` and write one JSON line per input line to ``out``,
    flushed at once.

    ``lines`` may yield bytes (e.g. ``sys.stdin.buffer``): a line that is not UTF-8 then
    gets an error line instead of ending the run.
    """
    check_kind(default_kind)
    checker = _checker(checker)
    for n, raw in enumerate(lines, 1):
        out.write(_answer(raw, n, default_kind, checker).decode("utf-8"))
        out.flush()


def moderate_binary(
    infile: BinaryIO,
    outfile: BinaryIO,
    default_kind: str = "chat",
    checker: Checker | None = None,
    *,
    cache_size: int = OUTPUT_CACHE_SIZE,
) -> int:
    """The command's loop over a binary input and output; returns the lines answered."""
    check_kind(default_kind)
    checker = _checker(checker)
    read = getattr(infile, "read1", infile.read)
    done: dict[bytes, bytes] = {}  # plain line → its answer line
    generation = checker.generation
    n = 0
    tail = b""
    while True:
        chunk = read(READ_SIZE)
        if not chunk:
            break
        if checker.generation is not generation:  # the word lists were reloaded
            generation = checker.generation
            done.clear()
        lines = (tail + chunk).split(b"\n") if tail else chunk.split(b"\n")
        tail = lines.pop()
        out: list[bytes] = []
        for raw in lines:
            n += 1
            answer = done.get(raw)
            if answer is None:
                answer = _answer(raw, n, default_kind, checker)
                if not raw.startswith(b"{") and not answer.startswith(b'{"error"'):
                    if len(done) >= cache_size:
                        done.clear()  # a new working set; cheaper than an LRU per line
                    done[raw] = answer
            out.append(answer)
        outfile.write(b"".join(out))
        outfile.flush()
    if tail:
        n += 1
        outfile.write(_answer(tail, n, default_kind, checker))
        outfile.flush()
    return n
