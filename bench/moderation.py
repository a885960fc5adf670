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
import csv
import gc
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

import ahocorasick

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from livebase.compliance import Checker, MemoryChatGuard, learned, wordlist

TARGET_LINES_PER_S = 50_000  # issue 6
TARGET_COMMAND_LINES_PER_S = 100_000  # DESIGN.md §9: `livebase moderate` with its cache
TARGET_MODEL_SHARE = 1 / 3  # issue 17: the learned stage's share of the pipeline's time
TARGET_COLD_ACCURACY = 0.75
TARGET_COLD_SAFE_FLAGGED = 0.03
TARGET_EVERYDAY_FLAGGED = 0.01
ROOT = Path(__file__).resolve().parents[1]
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


def generate_everyday(n: int, seed: int = 7) -> list[str]:
    """Everyday live-selling chat only (the common and templated lines, no evasions)."""
    rng = random.Random(seed)
    return [rng.choice(COMMON) if rng.random() < 0.5 else _fill(rng.choice(TEMPLATES), rng)
            for _ in range(n)]  # fmt: skip


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


def model_share(lines: Sequence[str], rounds: int = 3) -> tuple[float, float, float, float]:
    """The learned stage's share of the no-cache pipeline's time, two ways, on one core:
    the rates with and without the model (best of interleaved rounds, so a disturbance
    of the shared machine hits both), and the time spent in the model itself for the
    lines that reach it over the time of the whole pipeline."""
    rules = Checker(cache_size=0, watch_interval=None, model=None)
    full = Checker(cache_size=0, watch_interval=None)
    model = full.model
    assert model is not None
    best_rules = best_full = 0.0
    for _ in range(rounds):
        best_rules = max(best_rules, rate(lambda t: rules.check("chat", t), lines, repeat=1))
        best_full = max(best_full, rate(lambda t: full.check("chat", t), lines, repeat=1))
    by_rate = (1 / best_full - 1 / best_rules) / (1 / best_full)
    reach = [t for t in lines if rules.check("chat", t).verdict in ("allow", "mask")]
    best_direct = 1.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        for t in reach:
            model.hits(t)
        spent = time.perf_counter() - t0
        t0 = time.perf_counter()
        for t in lines:
            full.check("chat", t)
        best_direct = min(best_direct, spent / (time.perf_counter() - t0))
    scored = sum(len(t) >= learned.MIN_CHARS for t in reach) / len(lines)
    return by_rate, best_direct, scored, best_full


def command_rate(lines: Sequence[str], cpu: int) -> tuple[float, float]:
    """Lines/s of a real `livebase moderate` process (its start-up time taken out), and
    its first-answer latency in ms while the input stays open."""
    import tempfile

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "livebase.cli", "moderate"]

    def pinned() -> None:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {cpu})

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.txt"
        src.write_text("".join(f"{t}\n" for t in lines), "utf-8")
        empty = Path(tmp) / "empty.txt"
        empty.write_text("好看\n", "utf-8")
        best = 0.0
        for _ in range(3):
            with empty.open("rb") as f:
                t0 = time.perf_counter()
                subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, env=env, check=True,
                               preexec_fn=pinned)  # fmt: skip
                startup = time.perf_counter() - t0
            with src.open("rb") as f:
                t0 = time.perf_counter()
                subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, env=env, check=True,
                               preexec_fn=pinned)  # fmt: skip
                total = time.perf_counter() - t0
            best = max(best, len(lines) / max(total - startup, 1e-9))
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                preexec_fn=pinned)  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("好看\n".encode())
        proc.stdin.flush()
        proc.stdout.readline()  # start-up
        t0 = time.perf_counter()
        proc.stdin.write("私聊我\n".encode())
        proc.stdin.flush()
        proc.stdout.readline()
        first_ms = (time.perf_counter() - t0) * 1000
        proc.stdin.close()
        proc.wait(timeout=60)
    return best, first_ms


def stream_baseline(lines: Sequence[str]) -> float:
    """The old per-line loop in-process (stdlib json, a flush per line) into memory."""
    import io

    from livebase.compliance.cli import moderate_stream

    checker = Checker(watch_interval=None)
    t0 = time.perf_counter()
    moderate_stream([f"{t}\n" for t in lines], io.StringIO(), checker=checker)
    return len(lines) / (time.perf_counter() - t0)


def cold_figures(split: str, checker: Checker) -> tuple[float, float, float] | None:
    """(accuracy, offensive recall, safe flagged) on a COLD split, if it was brought."""
    path = ROOT / "data" / "cold" / f"{split}.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = [(r["TEXT"], r["label"] == "1") for r in csv.DictReader(f)]
    flagged = [(not checker.check("chat", t).allowed, y) for t, y in rows]
    correct = sum(p == y for p, y in flagged) / len(flagged)
    pos = [p for p, y in flagged if y]
    neg = [p for p, y in flagged if not y]
    return correct, sum(pos) / len(pos), sum(neg) / len(neg)


def own_training_lines() -> dict[str, list[str]]:
    """The hand-written training lines, each slot filled with its first value."""
    folder = ROOT / "scripts" / "compliance_training"
    slots = {}
    for raw in (folder / "slots.tsv").read_text("utf-8").splitlines():
        if raw and not raw.startswith("#"):
            name, values = raw.split("\t")
            slots[name] = values.split("|")[0]
    out: dict[str, list[str]] = {}
    for raw in (folder / "lines.tsv").read_text("utf-8").splitlines():
        if raw and not raw.startswith("#"):
            label, text = raw.split("\t")
            out.setdefault(label, []).append(text.format(**slots))
    return out


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

    share_rate, share_direct, scored, _ = model_share(lines[:50_000])
    print(f"learned stage: scores {scored:.1%} of the stream's lines (rules leave them at "
          f"allow/mask and they have >= {learned.MIN_CHARS} characters); share of the "
          f"no-cache pipeline's time {share_rate:.1%} (rates with/without, interleaved), "
          f"{share_direct:.1%} (time inside the model)")  # fmt: skip
    model_worst = max(share_rate, share_direct)
    cmd_rate, first_ms = command_rate(lines, args.cpu)
    old_rate = stream_baseline(lines[:50_000])
    print(f"livebase moderate (real process, stdin file -> /dev/null): {cmd_rate:,.0f} lines/s; "
          f"first answer with the input still open {first_ms:.1f} ms")  # fmt: skip
    print(f"  baseline: moderate_stream in-process, stdlib json, flush per line: "
          f"{old_rate:,.0f} lines/s")  # fmt: skip
    everyday = generate_everyday(20_000)
    everyday_flagged = sum(not cached.check("chat", t).allowed for t in everyday) / len(everyday)
    print(f"everyday live-selling chat (generated, no evasions): {everyday_flagged:.2%} flagged")
    print()
    cold_rows = _cold(uncached)
    _own(uncached)
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
        (f"livebase moderate >= {TARGET_COMMAND_LINES_PER_S:,}/s (cache)",
         cmd_rate >= TARGET_COMMAND_LINES_PER_S, f"{cmd_rate:,.0f}"),
        ("learned stage <= 1/3 of pipeline time", model_worst <= TARGET_MODEL_SHARE,
         f"{model_worst:.1%}"),
        (f"everyday chat flagged <= {TARGET_EVERYDAY_FLAGGED:.0%}",
         everyday_flagged <= TARGET_EVERYDAY_FLAGGED, f"{everyday_flagged:.2%}"),
        *cold_rows,
        *ev_ok,
    ]  # fmt: skip
    for name, ok, figure in rows:
        print(f"  {name:<44}{figure:>14}  {verdict(ok)}")


def _cold(checker: Checker) -> list[tuple[str, bool, str]]:
    rules = Checker(cache_size=0, watch_interval=None, model=None)
    rows: list[tuple[str, bool, str]] = []
    for split in ("train", "dev", "test"):
        for name, c in (("rules", rules), ("rules+model", checker)):
            got = cold_figures(split, c)
            if got is None:
                print(f"COLD {split}: data/cold/{split}.csv absent (docs/compliance-model.md)")
                break
            acc, recall, flagged = got
            note = "  (trained on)" if split == "train" else ""
            print(f"COLD {split:<5} {name:<12} accuracy {acc:.3f}  offensive recall {recall:.3f}  "
                  f"safe flagged {flagged:.3f}{note}")  # fmt: skip
            if split == "test" and c is checker:
                rows += [
                    (f"COLD test accuracy >= {TARGET_COLD_ACCURACY}", acc >= TARGET_COLD_ACCURACY,
                     f"{acc:.3f}"),
                    (f"COLD test safe flagged <= {TARGET_COLD_SAFE_FLAGGED:.0%}",
                     flagged <= TARGET_COLD_SAFE_FLAGGED, f"{flagged:.2%}"),
                ]  # fmt: skip
    return rows


def _own(checker: Checker) -> None:
    for label, texts in sorted(own_training_lines().items()):
        flagged = sum(not checker.check("chat", t).allowed for t in texts) / len(texts)
        print(
            f"own training lines ({label}, trained on): {len(texts)} lines, {flagged:.1%} flagged"
        )


def _evaluation() -> list[tuple[str, bool, str]]:
    from livebase.compliance.evaluation import evaluate, load_eval_set

    checker = Checker(watch_interval=None)
    report = evaluate(load_eval_set(), checker.check)
    print("evaluation set (tests/compliance/eval/eval_set.jsonl; word lists were tuned on it)")
    print(report.format(limit=20))
    holdout_path = Path(__file__).resolve().parents[1] / "tests/compliance/eval/holdout_set.jsonl"
    held = evaluate(load_eval_set(holdout_path), checker.check)
    print("\nblind hold-out set (never tuned on: how the engine meets evasions it has not seen;")
    print("its items are not printed, so that nobody tunes on them)")
    print(held.format(limit=0))
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
