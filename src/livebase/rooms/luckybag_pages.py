"""The public verify page of a lucky bag (``/lucky-bags/{id}``) and "my prizes"
(``/me/prizes``).

The verify page recomputes the draw in the browser (static/luckybag-verify.js, Web Crypto
SHA-256) from what the API publishes: the seed against its hash, the entrants against
their digest, the winners from the seed. Its words are kept here rather than in
``rooms/i18n/`` (the room feature's own catalog, being written beside this one).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from livebase.http import DB
from livebase.rooms import luckybag
from livebase.shows import service as shows
from livebase.web.i18n import pick_lang
from livebase.web.render import PageRoute, PageUser, SignedIn, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "福袋",
        "prize": "奖品",
        "winners_count": "中奖名额",
        "condition": "参与条件",
        "condition.chat": "在福袋期间发送口令：",
        "condition.follow": "开奖时已关注主播",
        "status.open": "进行中",
        "status.drawn": "已开奖",
        "ends_in": "距开奖",
        "drawing": "开奖中…",
        "seed_hash": "种子哈希（开始时公布）",
        "seed": "种子（开奖时公开）",
        "entrants": "参与者",
        "entrants_digest": "参与者摘要",
        "winners": "中奖者",
        "no_winners": "没有符合条件的参与者。",
        "verify": "独立验证",
        "verifying": "正在浏览器中重新计算…",
        "verified": "已验证 ✓ 种子、参与者名单和中奖者都与公布的一致",
        "mismatch": "不一致 ✗",
        "how": (
            "算法：h = SHA-256(种子 ‖ i 的 8 字节大端)，"
            "在剩余名单中取第 h mod 剩余人数 位，取出后继续。"
        ),
        "more": "还有 {n} 人，见完整名单",
        "show": "所在直播",
        "my_prizes": "我的奖品",
        "no_prizes": "还没有中奖。去直播间参与福袋吧。",
        "rank": "第 {n} 位",
        "you_won": "恭喜，你中奖了！",
    },
    "en": {
        "title": "Lucky bag",
        "prize": "Prize",
        "winners_count": "Winners",
        "condition": "How to enter",
        "condition.chat": "Send this phrase in chat during the bag:",
        "condition.follow": "Follow the host by the draw",
        "status.open": "Open",
        "status.drawn": "Drawn",
        "ends_in": "Draw in",
        "drawing": "Drawing…",
        "seed_hash": "Seed hash (published at the start)",
        "seed": "Seed (revealed at the draw)",
        "entrants": "Entrants",
        "entrants_digest": "Entrants digest",
        "winners": "Winners",
        "no_winners": "Nobody met the condition.",
        "verify": "Independent check",
        "verifying": "Recomputing in your browser…",
        "verified": "verified ✓ seed, entrants and winners match what was published",
        "mismatch": "mismatch ✗",
        "how": (
            "Algorithm: h = SHA-256(seed ‖ i as 8 bytes big-endian); take the entry at "
            "h mod remaining from the remaining list, remove it, go on."
        ),
        "more": "{n} more: see the full list",
        "show": "Show",
        "my_prizes": "My prizes",
        "no_prizes": "No prizes yet. Join a lucky bag in a live show.",
        "rank": "#{n}",
        "you_won": "Congratulations, you won!",
    },
}

# The verify page lists this many entrants inline; the rest are one tap away (the .txt).
INLINE_ENTRANTS = 200


def _words(request: Request) -> dict[str, str]:
    return WORDS[pick_lang(request)]


@router.get("/lucky-bags/{bag_id}", response_class=HTMLResponse)
def verify_page(request: Request, bag_id: str, db: DB, user: PageUser) -> Response:
    bag = luckybag.get_bag(db, bag_id)
    view = luckybag.bag_view(db, bag)
    show = shows.get_show(db, bag.show_id)
    ids = luckybag.entrants(db, bag) if bag.status == "drawn" else []
    return render(
        request,
        "luckybag/verify.html",
        user,
        bag=view,
        show=show,
        w=_words(request),
        entrants=ids[:INLINE_ENTRANTS],
        more=max(0, len(ids) - INLINE_ENTRANTS),
        bag_json=Markup(json.dumps(view, ensure_ascii=False).replace("</", "<\\/")),
        words_json=Markup(json.dumps(_words(request), ensure_ascii=False).replace("</", "<\\/")),
    )


@router.get("/me/prizes", response_class=HTMLResponse)
def prizes_page(request: Request, db: DB, me: SignedIn) -> Response:
    rows: list[Any] = luckybag.my_prizes(db, me, limit=100)
    return render(request, "luckybag/prizes.html", me, prizes=rows[:100], w=_words(request))
