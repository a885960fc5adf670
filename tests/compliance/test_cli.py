"""`moderate_stream`: the JSON-lines contract of `livebase moderate` (DESIGN.md §6)."""

import io
import json
from collections.abc import Iterator

import pytest

from livebase.compliance import Checker
from livebase.compliance.cli import moderate_stream


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(watch_interval=None)


def run(lines: list[str | bytes], checker: Checker, kind: str = "chat") -> list[dict[str, object]]:
    out = io.StringIO()
    moderate_stream(lines, out, default_kind=kind, checker=checker)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_plain_lines_get_one_verdict_each_in_order(checker: Checker) -> None:
    rows = run(["好看\n", "私聊我\n", "操你妈\n"], checker)
    assert [r["verdict"] for r in rows] == ["allow", "mask", "block"]
    assert all(r["kind"] == "chat" for r in rows)
    assert set(rows[1]) == {"verdict", "labels", "masked", "matches", "kind"}
    assert rows[1]["masked"] == "**我"


def test_json_line_carries_kind_and_id_back(checker: Checker) -> None:
    line = json.dumps({"text": "全网最低价", "kind": "listing", "id": "p-1"}, ensure_ascii=False)
    (row,) = run([line + "\n"], checker)
    assert (row["verdict"], row["kind"], row["id"]) == ("review", "listing", "p-1")
    assert row["labels"] == ["ad_law"]


def test_id_is_echoed_whatever_its_json_type_and_absent_when_not_given(checker: Checker) -> None:
    rows = run(['{"text": "好看", "id": 7}\n', '{"text": "好看"}\n'], checker)
    assert rows[0]["id"] == 7
    assert "id" not in rows[1]


def test_unreadable_lines_give_an_error_with_the_line_number_and_the_run_goes_on(
    checker: Checker,
) -> None:
    rows = run(
        [
            "好看\n",
            "{not json\n",
            '{"text": "好看", "kind": "comment"}\n',
            '{"kind": "chat"}\n',
            '{"text": 5}\n',
            "[1, 2]\n",
            b"\xff\xfe broken\n",
            "私聊我\n",
        ],
        checker,
    )
    assert [r.get("line") for r in rows] == [None, 2, 3, 4, 5, None, 7, None]
    assert "bad JSON" in str(rows[1]["error"])
    assert "unknown kind" in str(rows[2]["error"])
    assert rows[3]["error"] == "missing text"
    assert rows[4]["error"] == "text must be a string"
    assert rows[5]["verdict"] == "allow"  # "[1, 2]" does not start with { : it is plain text
    assert "UTF-8" in str(rows[6]["error"])
    assert rows[7]["verdict"] == "mask"


def test_blank_line_is_allowed_text(checker: Checker) -> None:
    assert (
        run(["\n", "\r\n"], checker)
        == [{"verdict": "allow", "labels": [], "masked": None, "matches": [], "kind": "chat"}] * 2
    )


def test_default_kind_applies_to_plain_lines(checker: Checker) -> None:
    (row,) = run(["全网最低价\n"], checker, kind="script")
    assert (row["kind"], row["verdict"]) == ("script", "review")


def test_unknown_default_kind_is_refused_before_reading(checker: Checker) -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        moderate_stream(iter(["好看\n"]), io.StringIO(), default_kind="comment", checker=checker)


def test_output_is_utf8_text_not_ascii_escapes(checker: Checker) -> None:
    out = io.StringIO()
    moderate_stream(["私聊我\n"], out, checker=checker)
    assert "私聊" in out.getvalue()
    assert "\\u" not in out.getvalue()


def test_it_streams_the_first_answer_before_the_input_ends(checker: Checker) -> None:
    out = io.StringIO()
    seen_before_second: list[str] = []

    def lines() -> Iterator[str]:
        yield "好看\n"
        seen_before_second.append(out.getvalue())
        yield "私聊我\n"

    moderate_stream(lines(), out, checker=checker)
    assert seen_before_second[0].count("\n") == 1
    assert json.loads(seen_before_second[0])["verdict"] == "allow"


# --- moderate_binary: what `livebase moderate` runs ---------------------------------


class _Chunks(io.RawIOBase):
    """A binary input that hands out fixed chunks, as a pipe would."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


def run_binary(
    chunks: list[bytes], checker: Checker, kind: str = "chat"
) -> list[dict[str, object]]:
    from livebase.compliance.cli import moderate_binary

    out = io.BytesIO()
    n = moderate_binary(_Chunks(chunks), out, default_kind=kind, checker=checker)  # type: ignore[arg-type]
    rows = [json.loads(line) for line in out.getvalue().decode("utf-8").splitlines()]
    assert n == len(rows)
    return rows


def test_binary_lines_split_across_chunks_and_a_last_line_without_newline(
    checker: Checker,
) -> None:
    text = "好看\n私聊我\n操你妈\n".encode()
    # cut inside a multi-byte character and inside a line
    rows = run_binary([text[:4], text[4:11], text[11:], "全网最低价".encode()], checker)
    assert [r["verdict"] for r in rows] == ["allow", "mask", "block", "allow"]
    assert rows[1]["masked"] == "**我"


def test_binary_answers_repeats_from_its_cache_the_same_as_fresh(checker: Checker) -> None:
    rows = run_binary(
        [b"\xe7\xa7\x81\xe8\x81\x8a\xe6\x88\x91\n" * 3, b'{"text": "x", "id": 1}\n'], checker
    )
    assert rows[0] == rows[1] == rows[2]
    assert rows[3]["id"] == 1


def test_binary_errors_keep_their_line_numbers(checker: Checker) -> None:
    rows = run_binary([b"ok\n{bad\n\xff\n", b'{"text": "a", "kind": "x"}\n', b"{bad\n"], checker)
    assert [r.get("line") for r in rows] == [None, 2, 3, 4, 5]
    assert "bad JSON" in str(rows[1]["error"])
    assert "UTF-8" in str(rows[2]["error"])
    assert "unknown kind" in str(rows[3]["error"])


def test_binary_kind_option_and_contract_fields(checker: Checker) -> None:
    (row,) = run_binary(["全网最低价\n".encode()], checker, kind="listing")
    assert set(row) == {"verdict", "labels", "masked", "matches", "kind"}
    assert (row["verdict"], row["kind"]) == ("review", "listing")


def test_the_command_streams_before_its_input_ends(tmp_path: object) -> None:
    """A real `livebase moderate` process answers a line while its stdin stays open."""
    import os
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "livebase.cli", "moderate"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ},
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("私聊我\n".encode())
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())
        assert first["verdict"] == "mask"
        proc.stdin.write(b"666\n")
        proc.stdin.close()
        assert json.loads(proc.stdout.readline())["verdict"] == "allow"
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
