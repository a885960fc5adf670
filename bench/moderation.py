"""Compliance engine benchmark (issue 6, DESIGN.md §9). A script, not a test.

    PYTHONPATH=src .venv/bin/python bench/moderation.py [--lines 200000] [--cpu 0]

Measures, on one core and in one run:

* chat lines/s through the full ``Checker.check`` pipeline, without and with the
  verdict cache, over a generated stream of realistic live-room chat;
* side by side, a plain pyahocorasick scan of the same word-list terms over the raw
  text (no normalisation, no rules) - the floor any engine is compared with;
* p50 / p99 latency per line, the memory the engine holds;
* recall and false-positive rate on the project's evaluation set, per label and per
  evasion type;

and prints each target with PASS or FALL SHORT next to it.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

import ahocorasick

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from livebase.compliance import Checker, MemoryChatGuard, wordlist

TARGET_LINES_PER_S = 50_000  # DESIGN.md §9
TARGET_PLAIN_RATIO = 0.5  # issue 6: at least half the plain scan's rate
TARGET_RECALL = 0.95
TARGET_FPR = 0.01

# --- the generated chat stream -----------------------------------------------------

# What a live room mostly says: short, repeated, about price, size, links and the host.
COMMON = [
    "好看", "666", "6666", "666666", "多少钱", "几号链接", "1号链接", "上链接", "已拍", "扣1",
    "想要", "想要想要", "主播好美", "好好看啊", "冲冲冲", "来了来了", "哈哈哈哈", "已下单",
    "什么时候发货", "有优惠券吗", "质量怎么样", "包邮吗", "有L码吗", "还有货吗", "主播晚上好",
    "宝宝们冲", "这个颜色最好看", "第一次来", "关注了", "点赞了", "谢谢主播", "好便宜",
    "能便宜点吗", "再讲讲3号", "求返场", "微信支付可以吗", "支付宝支付", "最后一件了吗",
    "爱了爱了", "nice", "ok", "yyds", "绝了", "主播最美", "去死皮的有吗", "大麻花好吃吗",
]  # fmt: skip
TEMPLATES = [
    "{n}号链接还有吗", "身高{h} 体重{w}斤 穿什么码", "{c}的有{s}码吗", "我拍了{k}件 什么时候发",
    "订单号 {order} 还没发货", "快递单号 SF{track}", "{c}和{c2}哪个好看", "主播 {c}的再试一下",
    "已拍{k}单 {c} {s}码", "{price}元的那款还有吗", "第{k}次来直播间了", "优惠码 VIP{k}{k} 怎么用",
]  # fmt: skip
EVASIONS = [
    "加 微 信 {wx}", "ＶＸ：{wx}", "威信 {wx}", "w x {wx}", "加薇 私聊", "{phone_spaced} 找我",
    "一三八{cn} 联系我", "jia wei xin {wx}", "扣扣 {qq}", "➕V❤ {wx}", "拼多多更便宜 搜{shop}",
    "主播是sb", "nmsl", "傻 逼主播", "私信我 内部价", "www.{shop}.com 全场五折", "高仿包包 有货",
]  # fmt: skip
COLOURS = ["黑色", "白色", "红色", "米色", "藏青", "焦糖色", "雾霾蓝", "奶白"]
SIZES = ["S", "M", "L", "XL", "XXL"]
CN_DIGITS = "零一二三四五六七八九"


def _fill(template: str, rng: random.Random) -> str:
    phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    return template.format(
        n=rng.randint(1, 60), h=rng.randint(150, 185), w=rng.randint(85, 180),
        c=rng.choice(COLOURS), c2=rng.choice(COLOURS), s=rng.choice(SIZES),
        k=rng.randint(1, 9), price=rng.randint(19, 999),
        order="".join(rng.choice("0123456789") for _ in range(20)),
        track="".join(rng.choice("0123456789") for _ in range(12)),
        wx=f"{rng.choice(['lily', 'mei', 'xm', 'shop'])}{rng.randint(100, 99999)}",
        qq=str(rng.randint(10_000_000, 3_999_999_999)),
        phone_spaced=f"{phone[:3]} {phone[3:7]} {phone[7:]}",
        cn="".join(rng.choice(CN_DIGITS) for _ in range(8)),
        shop=rng.choice(["haowu", "meijia", "outlet88"]),
    )  # fmt: skip


def generate_chat(n: int, seed: int = 2026) -> list[str]:
    """A chat stream: 60% common lines (Zipf-like), 25% templated, 5% evasions, 10% repeats."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(COMMON))]
    out: list[str] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.60:
            out.append(rng.choices(COMMON, weights)[0])
        elif r < 0.85:
            out.append(_fill(rng.choice(TEMPLATES), rng))
        elif r < 0.90:
            out.append(_fill(rng.choice(EVASIONS), rng))
        else:
            out.append(out[-rng.randint(1, min(50, len(out)))] if out else "好看")
    return out


# --- measurements --------------------------------------------------------------------


def rate(fn: Callable[[str], object], lines: Sequence[str], repeat: int = 3) -> float:
    """Best lines/s of ``repeat`` passes (the least disturbed by the shared machine)."""
    best = 0.0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for line in lines:
            fn(line)
        best = max(best, len(lines) / (time.perf_counter() - start))
    return best


def latencies_us(fn: Callable[[str], object], lines: Sequence[str]) -> tuple[float, float]:
    samples: list[float] = []
    clock = time.perf_counter_ns
    for line in lines:
        t0 = clock()
        fn(line)
        samples.append((clock() - t0) / 1000)
    q = statistics.quantiles(samples, n=100)
    return q[49], q[98]


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def plain_automaton() -> ahocorasick.Automaton:
    """The same terms as written in the word lists, no normalisation, no variants."""
    automaton = ahocorasick.Automaton()
    for term in wordlist.load([wordlist.PACKAGE_DIR]).terms:
        if not term.allow and not term.scope:
            automaton.add_word(term.term, term.label)
    automaton.make_automaton()
    return automaton


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FALL SHORT"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--cpu", type=int, default=0, help="core to pin to")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    lines = generate_chat(args.lines)
    print(f"chat stream: {len(lines):,} lines, {len(set(lines)):,} distinct, "
          f"{sum(map(len, lines)) / len(lines):.1f} code points a line")  # fmt: skip

    rss0 = rss_kib()
    t0 = time.perf_counter()
    cached = Checker(watch_interval=None)  # first build: character tables + automata
    build_s = time.perf_counter() - t0
    rss_engine = rss_kib() - rss0
    t0 = time.perf_counter()
    cached.force_reload()  # what a word-list edit costs: automata only
    rebuild_s = time.perf_counter() - t0
    tracemalloc.start()
    uncached = Checker(cache_size=0, watch_interval=None)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    plain = plain_automaton()

    def plain_scan(text: str) -> object:
        return list(plain.iter(text))

    def no_cache(text: str) -> object:
        return uncached.check("chat", text)

    def with_cache(text: str) -> object:
        return cached.check("chat", text)

    # The guard keeps time per user, so it is fed a simulated clock: a busy room of
    # 20,000 chatters writing 200 lines/s in all (real time would make every bench
    # "user" a flooder at 100,000 lines/s).
    guard = MemoryChatGuard()
    users = [f"u{i}" for i in range(20_000)]
    clock = [1_800_000_000.0]

    def with_guard(text: str) -> object:
        clock[0] += 1 / 200
        user = users[int(clock[0] * 200) % len(users)]
        return guard.judge(user, text, cached.check("chat", text), now=clock[0])

    plain_rate = rate(plain_scan, lines)
    nocache_rate = rate(no_cache, lines)
    rss_before_cache = rss_kib()
    cache_rate = rate(with_cache, lines)
    rss_cache = rss_kib() - rss_before_cache
    guard_rate = rate(with_guard, lines, repeat=1)
    p50, p99 = latencies_us(no_cache, lines[:50_000])
    cp50, cp99 = latencies_us(with_cache, lines[:50_000])
    flagged = sum(1 for line in lines[:50_000] if uncached.check("chat", line).verdict != "allow")

    print(f"engine: first build {build_s:.2f} s (character tables + automata), "
          f"rebuild after a word-list edit {rebuild_s:.2f} s, "
          f"{uncached.term_count:,} automaton keys")  # fmt: skip
    print(f"memory: automata {held / 2**20:.1f} MiB traced, RSS +{rss_engine / 1024:.1f} MiB "
          f"with the tables; "
          f"verdict cache RSS +{rss_cache / 1024:.1f} MiB")  # fmt: skip
    print(f"flagged in stream: {flagged / 500:.1f}% of the first 50,000 lines\n")
    print(f"{'':38}{'lines/s':>12}{'p50 µs':>9}{'p99 µs':>9}")
    print(f"{'plain pyahocorasick, raw text':38}{plain_rate:>12,.0f}")
    print(f"{'check(), no cache':38}{nocache_rate:>12,.0f}{p50:>9.1f}{p99:>9.1f}")
    print(f"{'check(), verdict cache':38}{cache_rate:>12,.0f}{cp50:>9.1f}{cp99:>9.1f}")
    print(f"{'check(), cache + in-memory ChatGuard':38}{guard_rate:>12,.0f}")
    print("  (guard: 20,000 users, simulated 200 lines/s room; see with_guard)")
    print()

    ev_ok = _evaluation()
    print("\ntargets")
    rows = [
        (f"chat lines/s >= {TARGET_LINES_PER_S:,} (no cache)", nocache_rate >= TARGET_LINES_PER_S,
         f"{nocache_rate:,.0f}"),
        (f"chat lines/s >= {TARGET_LINES_PER_S:,} (cache)", cache_rate >= TARGET_LINES_PER_S,
         f"{cache_rate:,.0f}"),
        ("rate >= 0.5 x plain scan (no cache)", nocache_rate >= TARGET_PLAIN_RATIO * plain_rate,
         f"{nocache_rate / plain_rate:.2f} x"),
        ("rate >= 0.5 x plain scan (cache)", cache_rate >= TARGET_PLAIN_RATIO * plain_rate,
         f"{cache_rate / plain_rate:.2f} x"),
        *ev_ok,
    ]  # fmt: skip
    for name, ok, figure in rows:
        print(f"  {name:<44}{figure:>14}  {verdict(ok)}")


def _evaluation() -> list[tuple[str, bool, str]]:
    from livebase.compliance.evaluation import evaluate, load_eval_set

    checker = Checker(watch_interval=None)
    report = evaluate(load_eval_set(), checker.check)
    print("evaluation set (tests/compliance/eval/eval_set.jsonl; word lists were tuned on it)")
    print(report.format(limit=20))
    holdout_path = Path(__file__).resolve().parents[1] / "tests/compliance/eval/holdout_set.jsonl"
    held = evaluate(load_eval_set(holdout_path), checker.check)
    print("\nblind hold-out set (never tuned on: how the engine meets evasions it has not seen)")
    print(held.format(limit=20))
    return [
        (f"recall >= {TARGET_RECALL}", report.recall.ratio >= TARGET_RECALL,
         f"{report.recall.ratio:.3f}"),
        (f"FPR <= {TARGET_FPR:.0%}", report.fpr.ratio <= TARGET_FPR, f"{report.fpr.ratio:.3%}"),
        (f"hold-out recall >= {TARGET_RECALL}", held.recall.ratio >= TARGET_RECALL,
         f"{held.recall.ratio:.3f}"),
        (f"hold-out FPR <= {TARGET_FPR:.0%}", held.fpr.ratio <= TARGET_FPR,
         f"{held.fpr.ratio:.3%}"),
    ]  # fmt: skip


if __name__ == "__main__":
    main()
