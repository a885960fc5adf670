"""Flood control and reputation, the same tests for the in-memory and the Redis store."""

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from livebase.compliance import (
    ChatGuard,
    CheckContext,
    Checker,
    GuardPolicy,
    MemoryChatGuard,
    RedisChatGuard,
    Verdict,
)
from livebase.compliance.verdict import Match

REDIS_URL = os.environ.get("LIVEBASE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
T0 = 1_800_000_000.0  # a fixed "now"; every test moves time explicitly


@pytest.fixture(params=["memory", "redis"])
def guard(request: pytest.FixtureRequest) -> Iterator[ChatGuard]:
    policy = GuardPolicy(repeat_window=30, repeat_limit=3, burst_window=10, burst_limit=8)
    if request.param == "memory":
        yield MemoryChatGuard(policy)
        return
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"livebase:test:{uuid.uuid4().hex}:"
    try:
        yield RedisChatGuard(client, prefix=prefix, policy=policy)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


MASKED = Verdict("mask", ["contact"], "**我", [Match("contact:term", "contact", 0, 2, "私聊")])
ALLOWED = Verdict("allow")


def test_a_new_user_has_full_reputation(guard: ChatGuard) -> None:
    assert guard.reputation("u1", now=T0) == 100


def test_third_identical_line_within_the_window_is_spam(guard: ChatGuard) -> None:
    assert guard.judge("u1", "666", ALLOWED, now=T0).verdict == "allow"
    assert guard.judge("u1", "666", ALLOWED, now=T0 + 1).verdict == "allow"
    third = guard.judge("u1", "666", ALLOWED, now=T0 + 2)
    assert (third.verdict, third.labels) == ("block", ["spam"])
    assert third.matches[-1].rule == "spam:repeat"


def test_repeats_are_counted_on_the_folded_line(guard: ChatGuard) -> None:
    guard.judge("u1", "666", ALLOWED, now=T0)
    guard.judge("u1", "６６６", ALLOWED, now=T0 + 1)
    assert guard.judge("u1", "6 6 6", ALLOWED, now=T0 + 2).verdict == "block"


def test_repeats_outside_the_window_are_forgotten(guard: ChatGuard) -> None:
    guard.judge("u1", "好看", ALLOWED, now=T0)
    guard.judge("u1", "好看", ALLOWED, now=T0 + 1)
    assert guard.judge("u1", "好看", ALLOWED, now=T0 + 31.5).verdict == "allow"


def test_other_users_repeats_do_not_count(guard: ChatGuard) -> None:
    guard.judge("u1", "扣1", ALLOWED, now=T0)
    guard.judge("u2", "扣1", ALLOWED, now=T0)
    assert guard.judge("u3", "扣1", ALLOWED, now=T0).verdict == "allow"


def test_a_burst_of_lines_is_spam(guard: ChatGuard) -> None:
    verdicts = [guard.judge("u1", f"第{i}句", ALLOWED, now=T0 + i * 0.5).verdict for i in range(9)]
    assert verdicts[:8] == ["allow"] * 8
    assert verdicts[8] == "block"
    # Ten seconds after the first lines, the window has room again.
    assert guard.judge("u1", "好看", ALLOWED, now=T0 + 15).verdict == "allow"


def test_violations_lower_reputation_and_turn_masks_into_reviews_then_blocks(
    guard: ChatGuard,
) -> None:
    # mask costs 10: 100 → 90 → ... The fifth mask sees reputation 60, the sixth 50.
    outcomes = [guard.judge("u1", f"私聊我{i}", MASKED, now=T0 + i * 2).verdict for i in range(5)]
    assert outcomes == ["mask"] * 5
    assert guard.reputation("u1", now=T0 + 10) == 50
    review = guard.judge("u1", "私聊我 again", MASKED, now=T0 + 12)
    assert (review.verdict, review.masked) == ("review", None)
    assert guard.reputation("u1", now=T0 + 12) == 30
    assert guard.judge("u1", "私聊我 last", MASKED, now=T0 + 14).verdict == "review"
    assert guard.judge("u1", "私聊我 final", MASKED, now=T0 + 16).verdict == "block"
    # A clean line stays clean whatever the reputation.
    assert guard.judge("u1", "好看", ALLOWED, now=T0 + 18).verdict == "allow"


def test_reputation_recovers_after_its_window(guard: ChatGuard) -> None:
    guard.record_violation("u1", 30, now=T0)
    assert guard.reputation("u1", now=T0 + 1) == 70
    assert guard.reputation("u1", now=T0 + 86_401) == 100


def test_forget_resets_a_user(guard: ChatGuard) -> None:
    guard.judge("u1", "666", ALLOWED, now=T0)
    guard.judge("u1", "666", ALLOWED, now=T0)
    guard.record_violation("u1", 50, now=T0)
    guard.forget("u1")
    assert guard.reputation("u1", now=T0) == 100
    assert guard.judge("u1", "666", ALLOWED, now=T0).verdict == "allow"


def test_checker_applies_the_guard_to_chat_only(guard: ChatGuard) -> None:
    checker = Checker(watch_interval=None)
    context = CheckContext(user_id="u9", show_id="s1", guard=guard)
    results = [checker.check("chat", "主播好美", context).verdict for _ in range(3)]
    assert results == ["allow", "allow", "block"]
    listing = [checker.check("listing", "纯棉四件套", context).verdict for _ in range(3)]
    assert listing == ["allow"] * 3
    # Without a user there is nobody to hold to account: the line's own verdict stands.
    anonymous = CheckContext(user_id=None, guard=guard)
    assert [checker.check("chat", "主播好美", anonymous).verdict for _ in range(3)] == ["allow"] * 3


def test_lines_judged_together_are_judged_as_one_after_another(guard: ChatGuard) -> None:
    """judge_many (a room's lines of one tick, one round trip) gives each line the verdict
    judge would have given it in that order: the third copy is spam, another user's copy
    is not, the burst counts every line before it."""
    lines = [("u1", "666", ALLOWED), ("u2", "666", ALLOWED), ("u1", "666", ALLOWED),
             ("u1", "666", ALLOWED), ("u2", "hello", MASKED)]  # fmt: skip
    together = guard.judge_many(lines, now=T0)
    assert [v.verdict for v in together] == ["allow", "allow", "allow", "block", "mask"]
    assert together[3].labels == ["spam"] and together[3].matches[-1].rule == "spam:repeat"
    # The same lines alone, one after another, for a fresh pair of users: the same answers.
    alone = [guard.judge(u + "b", t, v, now=T0) for u, t, v in lines]
    assert [(v.verdict, v.labels) for v in alone] == [(v.verdict, v.labels) for v in together]
    # The violation was recorded once: u1 lost the spam weight, u2 the mask weight.
    assert guard.reputation("u1", now=T0) == guard.reputation("u1b", now=T0) < 100
    assert guard.reputation("u2", now=T0) == guard.reputation("u2b", now=T0) < 100
