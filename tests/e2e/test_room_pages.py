"""The live room in real Chromium at phone size (zh and en): the viewer page joins the
room socket and renders its snapshot, chat from another client, the explaining card the
host changes from the console (中控台), a flash sale opened from the console with its
countdown and a one-tap grab, a network drop that resumes with ``since`` and misses no
critical frame, and the show's end. The last test is the issue's done-when: a host in the
console, a few browser viewers and a hundred scripted websocket clients share one room
and all see the same critical frames."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets
from playwright.sync_api import Page, expect

from livebase.rooms.bus import CRITICAL
from tests.e2e.conftest import DEMO_PASSWORD, Phone, Server, shot, sign_in

pytestmark = pytest.mark.e2e

LIVE_TITLE = "颐和美妆 冬季护肤直播间"  # the demo's live show (host ajie)
# Scripted clients for the shared-room test: the issue's "a hundred viewers".
SWARM = 100
WAIT_S = 15.0


# -- REST helpers --------------------------------------------------------------------


def _call(
    server: Server,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    key: str | None = None,
) -> tuple[int, Any]:
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    req = urllib.request.Request(server.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def _ok(answer: tuple[int, Any]) -> Any:
    status, body = answer
    assert 200 <= status < 300, (status, body)
    return body


def _token(server: Server, username: str, password: str = DEMO_PASSWORD) -> str:
    body = {"username": username, "password": password}
    token: str = _ok(_call(server, "POST", "/api/v1/auth/tokens", body=body))["access_token"]
    return token


def _live_show(server: Server) -> dict[str, Any]:
    shows = _ok(_call(server, "GET", "/api/v1/shows?status=live&limit=100"))["items"]
    show = next(s for s in shows if s["title"] == LIVE_TITLE)
    full: dict[str, Any] = _ok(_call(server, "GET", f"/api/v1/shows/{show['id']}"))
    return full


@dataclass
class Buyer:
    username: str
    token: str  # API bearer token
    session: str  # cookie session (lb_session)
    csrf: str


BUYER_PASSWORD = "e2e-password-1"
_ADDRESS = {
    "name": "陈七",
    "phone": "13700000007",
    "province": "北京市",
    "city": "北京市",
    "district": "朝阳区",
    "detail": "望京SOHO T1",
}


def _buyers(server: Server, n: int, display: str) -> list[Buyer]:
    """``n`` new accounts, each with an address, an API token and a cookie session,
    written straight to the server's database: sign-ups through the API are limited to
    LIVEBASE_SIGNUPS_PER_HOUR per address, which a test session on one address passes."""
    from livebase.accounts.security import csrf_token
    from livebase.accounts.service import do_issue_token, do_register, resolve_token
    from livebase.db import build_engine, build_sessionmaker
    from livebase.orders.service import AddressSpec, do_create_address
    from livebase.settings import DEMO_SECRET

    engine = build_engine(f"sqlite:///{server.data_dir / 'livebase.db'}")
    out = []
    try:
        with build_sessionmaker(engine)() as db, db.begin():
            for i in range(n):
                username = f"room_{secrets.token_hex(4)}"
                user = do_register(db, username, BUYER_PASSWORD, f"{display}{i if n > 1 else ''}")
                api, _ = do_issue_token(db, user, kind="api", ttl_seconds=3600)
                session, _ = do_issue_token(db, user, kind="session", ttl_seconds=3600)
                me = resolve_token(db, api, kind="api")
                assert me is not None
                do_create_address(db, me, AddressSpec(**_ADDRESS))
                out.append(Buyer(username, api, session, csrf_token(DEMO_SECRET, session)))
    finally:
        engine.dispose()
    return out


def _buyer(server: Server, display: str) -> tuple[str, str]:
    """A new account with an address; returns (username, token)."""
    b = _buyers(server, 1, display)[0]
    return b.username, b.token


def _in_minutes(m: float) -> str:
    t = time.time() + m * 60
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _coupon(server: Server, token: str, show_id: str, amount_fen: int = 500) -> str:
    body = {
        "quantity": 50,
        "kind": "amount",
        "amount_fen": amount_fen,
        "min_spend_fen": 0,
        "expires_at": _in_minutes(60),
    }
    cid: str = _ok(_call(server, "POST", f"/api/v1/shows/{show_id}/coupons", token, body))["id"]
    return cid


# -- scripted websocket clients -------------------------------------------------------


@dataclass
class Scripted:
    frames: list[dict[str, Any]] = field(default_factory=list)
    snapshot_seq: int | None = None

    def critical(self) -> list[tuple[str, int]]:
        return [(f["t"], f["seq"]) for f in self.frames if f["t"] in CRITICAL]


class Swarm:
    """``n`` websocket clients of one room on their own event loop in a thread, each
    recording every frame it reads."""

    def __init__(self, url: str, n: int, token: str | None = None) -> None:
        self.url = url + (f"?token={token}" if token else "")
        self.clients = [Scripted() for _ in range(n)]
        self.socks: list[Any] = []
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(WAIT_S), "the scripted clients did not connect"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self.socks = await asyncio.gather(
            *(websockets.connect(self.url, max_size=2**22) for _ in self.clients)
        )
        readers = [
            asyncio.create_task(self._read(ws, c))
            for ws, c in zip(self.socks, self.clients, strict=True)
        ]
        self._ready.set()
        await self._stop.wait()
        for ws in self.socks:
            await ws.close()
        await asyncio.gather(*readers, return_exceptions=True)

    async def _read(self, ws: Any, client: Scripted) -> None:
        async for raw in ws:
            f = json.loads(raw)
            if f["t"] == "snapshot" and client.snapshot_seq is None:
                client.snapshot_seq = f["seq"]
            client.frames.append(f)

    def send(self, i: int, obj: dict[str, Any]) -> None:
        asyncio.run_coroutine_threadsafe(self.socks[i].send(json.dumps(obj)), self._loop).result(5)

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(WAIT_S)


def _ws_url(server: Server, show_id: str) -> str:
    return server.url.replace("http://", "ws://") + f"/ws/shows/{show_id}"


def _wait(cond: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def swarm_factory() -> Iterator[Callable[..., Swarm]]:
    made: list[Swarm] = []

    def make(url: str, n: int, token: str | None = None) -> Swarm:
        s = Swarm(url, n, token)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


# -- page helpers ---------------------------------------------------------------------


def _viewer(phone: Phone, show_id: str, lang: str = "zh", user: str | None = None) -> Page:
    page = phone.open(lang)
    if user:
        sign_in(page, user, BUYER_PASSWORD)
    page.goto(f"/shows/{show_id}?lang={lang}")
    expect(page.get_by_test_id("room-conn")).to_have_attribute("data-state", "live")
    return page


def _viewer_critical(page: Page) -> list[tuple[str, int]]:
    got = page.evaluate("LivebaseRoom.viewer.critical.map(f => [f.t, f.seq])")
    return [(t, s) for t, s in got]


# -- tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_viewer_sees_the_snapshot_and_chat_from_another_client(
    phone: Phone, server: Server, swarm_factory: Callable[..., Swarm], lang: str
) -> None:
    show = _live_show(server)
    page = _viewer(phone, show["id"], lang)
    # The snapshot drew the explaining card with the line's live stock.
    card = page.get_by_test_id("explain-card")
    expect(card).to_be_visible()
    no = show["explaining"]
    line = next(x for x in show["shelf"] if x["no"] == no)
    expect(card).to_have_attribute("data-no", str(no))
    expect(card).to_contain_text(line["title"])
    expect(page.get_by_test_id("viewers")).not_to_contain_text("–")

    # A signed-in scripted client chats; the line appears on the phone.
    chatter = swarm_factory(_ws_url(server, show["id"]), 1, _token(server, "viewer"))
    text = (
        f"{'这个色号显白吗' if lang == 'zh' else 'Is it good for dry skin'} {secrets.token_hex(2)}"
    )
    _wait(lambda: chatter.clients[0].snapshot_seq is not None, "the chatter's snapshot")
    chatter.send(0, {"t": "chat", "text": text})
    expect(page.get_by_test_id("chat-list")).to_contain_text(text)
    shot(page, f"60-room-viewer-{lang}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_a_viewer_is_told_why_a_line_was_refused_and_sees_masked_lines_masked(
    phone: Phone, server: Server
) -> None:
    show = _live_show(server)
    username, _ = _buyer(server, "观众 阿明")
    page = _viewer(phone, show["id"], "zh", username)
    chat = page.get_by_test_id("chat-input")
    lst = page.get_by_test_id("chat-list")
    # A contact handle is masked: the room shows the line masked and tagged.
    chat.fill("加我微信 abc12345")
    page.get_by_test_id("chat-send").click()
    masked = lst.locator(".line.masked")
    expect(masked).to_have_count(1)
    expect(masked).to_contain_text("已屏蔽部分内容")
    assert "微信" not in masked.locator(".cl-text").inner_text()
    # A prohibited line is refused: only its author is told why.
    chat.fill("出售毒品")
    page.get_by_test_id("chat-send").click()
    refusal = lst.locator('[data-testid=chat-refusal][data-error="blocked"]')
    expect(refusal).to_contain_text("违反直播间规则")
    expect(refusal).to_contain_text("仅你可见")
    # Anonymous likes and chat are explained, not silently dropped.
    anon = _viewer(phone, show["id"], "en")
    anon.get_by_test_id("like").click()
    expect(anon.get_by_test_id("chat-refusal")).to_contain_text("Sign in")
    page.get_by_test_id("like").click()
    page.get_by_test_id("like").click()
    shot(page, "61-room-chat-refusals-zh")


def test_explain_from_the_console_changes_the_viewers_card(phone: Phone, server: Server) -> None:
    show = _live_show(server)
    viewer = _viewer(phone, show["id"], "zh")
    host = phone.open("zh")
    sign_in(host, "ajie")
    host.goto(f"/host/shows/{show['id']}/console")
    expect(host.get_by_test_id("room-conn")).to_have_attribute("data-state", "live")
    target = next(x for x in show["shelf"] if x["no"] != show["explaining"])
    host.get_by_test_id(f"explain-{target['no']}").click()
    card = viewer.get_by_test_id("explain-card")
    expect(card).to_have_attribute("data-no", str(target["no"]))
    expect(card).to_contain_text(target["title"])
    expect(host.locator(f'[data-testid=console-line][data-no="{target["no"]}"]')).to_have_class(
        "shelf-item explaining"
    )
    shot(host, "62-console-explain-zh")
    shot(viewer, "63-room-explain-changed-zh")
    # Back to the demo's explaining link for the other tests.
    host.get_by_test_id(f"explain-{show['explaining']}").click()
    expect(card).to_have_attribute("data-no", str(show["explaining"]))


def test_a_flash_sale_opened_from_the_console_counts_down_and_a_grab_works(
    phone: Phone, server: Server
) -> None:
    show = _live_show(server)
    username, _ = _buyer(server, "买家 小王")
    viewer = _viewer(phone, show["id"], "zh", username)
    host = phone.open("en")
    sign_in(host, "ajie")
    host.goto(f"/host/shows/{show['id']}/console?lang=en")
    line = max(show["shelf"], key=lambda x: x["stock"])
    host.get_by_test_id(f"flash-pick-{line['no']}").click()
    form = host.get_by_test_id("flash-form")
    form.locator('input[name="quantity"]').fill("3")
    form.locator('input[name="minutes"]').fill("3")
    host.get_by_test_id("flash-open").click()
    host.wait_for_function("() => LivebaseRoom.console.lastOpened")
    sale_id = host.evaluate("LivebaseRoom.console.lastOpened")
    current = host.get_by_test_id("flash-current")
    expect(current).to_have_attribute("data-sale-id", sale_id)
    expect(current).to_have_attribute("data-status", "open")
    shot(host, "64-console-flash-open-en")

    card = viewer.get_by_test_id("sale-card")
    expect(card).to_have_attribute("data-sale-id", sale_id)
    expect(card).to_have_attribute("data-status", "open")
    countdown = viewer.get_by_test_id("sale-countdown")
    expect(countdown).to_contain_text("后结束")
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first)  # it ticks
    expect(viewer.get_by_test_id("sale-remaining")).to_contain_text("3")
    viewer.get_by_test_id("sale-buy").click()
    expect(viewer.get_by_test_id("sale-order")).to_be_visible()
    # The purchase reaches the room: the remaining count falls on every screen.
    expect(viewer.get_by_test_id("sale-remaining")).to_contain_text("2")
    shot(viewer, "65-room-flash-grabbed-zh")
    href = viewer.get_by_test_id("sale-order").get_attribute("href")
    assert href and href.startswith("/me/orders/")
    host.get_by_test_id("flash-close").click()
    # Closed on the phone too; the card then shows any other open sale (the demo has one).
    viewer.wait_for_function(
        "id => (LivebaseRoom.viewer.sales()[id] || {}).status === 'closed'", arg=sale_id
    )
    expect(card).not_to_have_attribute("data-sale-id", sale_id)


def test_a_network_drop_reconnects_with_since_and_misses_no_critical_frame(
    phone: Phone, server: Server, swarm_factory: Callable[..., Swarm]
) -> None:
    show = _live_show(server)
    token = _token(server, "ajie")
    # A scripted client that stays connected is the reference for what the room sent.
    ref = swarm_factory(_ws_url(server, show["id"]), 1).clients[0]
    page = _viewer(phone, show["id"], "zh")
    urls: list[str] = []
    page.on("websocket", lambda ws: urls.append(ws.url))
    _wait(lambda: ref.snapshot_seq is not None, "the reference snapshot")
    _coupon(server, token, show["id"], 100)
    expect(page.get_by_test_id("coupon-card")).to_be_visible()

    page.context.set_offline(True)
    expect(page.get_by_test_id("room-conn")).to_have_attribute("data-state", "reconnecting")
    missed = [_coupon(server, token, show["id"], 200 + i) for i in range(3)]
    _wait(lambda: len(ref.critical()) >= 4, "the reference's four coupon frames")
    shot(page, "66-room-reconnecting-zh")
    page.context.set_offline(False)

    expect(page.get_by_test_id("room-conn")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("coupon-card")).to_have_attribute("data-coupon-id", missed[-1])
    assert any("since=" in u for u in urls), urls
    seen = _viewer_critical(page)
    assert seen == ref.critical(), (seen, ref.critical())
    seqs = [s for _, s in seen]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_a_viewer_sees_the_show_end(phone: Phone, server: Server) -> None:
    token = _token(server, "ajie")
    live = _live_show(server)
    body = {"org_id": live["org_id"], "title": "颐和美妆 晚间加场", "scheduled_at": _in_minutes(1)}
    show = _ok(_call(server, "POST", "/api/v1/shows", token, body))
    items = [{"sku_id": x["sku_id"]} for x in live["shelf"][:2]]
    _ok(_call(server, "PUT", f"/api/v1/shows/{show['id']}/shelf", token, {"items": items}))
    _ok(_call(server, "POST", f"/api/v1/shows/{show['id']}/start", token))
    page = _viewer(phone, show["id"], "en")
    expect(page.get_by_test_id("show-ended")).to_be_hidden()
    _ok(_call(server, "POST", f"/api/v1/shows/{show['id']}/end", token))
    expect(page.get_by_test_id("show-ended")).to_be_visible()
    expect(page.get_by_test_id("show-status")).to_have_text("Ended")
    shot(page, "67-room-ended-en")


def test_a_host_in_the_console_and_a_hundred_viewers_share_a_room(
    phone: Phone, server: Server, swarm_factory: Callable[..., Swarm]
) -> None:
    show = _live_show(server)
    token = _token(server, "ajie")
    url = _ws_url(server, show["id"])
    swarm = swarm_factory(url, SWARM)
    chatter = swarm_factory(url, 1, _token(server, "viewer"))
    browsers = [_viewer(phone, show["id"], lang) for lang in ("zh", "en", "zh")]
    host = phone.open("zh")
    sign_in(host, "ajie")
    host.goto(f"/host/shows/{show['id']}/console")
    expect(host.get_by_test_id("room-conn")).to_have_attribute("data-state", "live")
    everyone = [*swarm.clients, *chatter.clients]
    _wait(lambda: all(c.snapshot_seq is not None for c in everyone), "every snapshot")
    start = max(c.snapshot_seq or 0 for c in everyone)
    _wait(
        lambda: all(c.snapshot_seq == start for c in everyone),
        "all scripted snapshots at one seq",
    )

    # The host acts from the console: a coupon and a flash sale; the test closes it.
    host.get_by_test_id("coupon-panel").locator("summary").click()
    host.get_by_test_id("coupon-drop").click()
    expect(host.locator('[data-result="coupon"]')).to_have_attribute("data-ok", "1")
    line = max(show["shelf"], key=lambda x: x["stock"])
    host.get_by_test_id(f"flash-pick-{line['no']}").click()
    host.get_by_test_id("flash-form").locator('input[name="quantity"]').fill("2")
    host.get_by_test_id("flash-open").click()
    host.wait_for_function("() => LivebaseRoom.console.lastOpened")
    sale_id = host.evaluate("LivebaseRoom.console.lastOpened")
    _ok(_call(server, "POST", f"/api/v1/flash-sales/{sale_id}/close", token))
    text = f"主播好 {secrets.token_hex(2)}"
    chatter.send(0, {"t": "chat", "text": text})

    _wait(
        lambda: all(len([x for x in c.critical() if x[1] > start]) >= 3 for c in everyone),
        "the three critical frames at every scripted client",
    )
    expected = [x for x in swarm.clients[0].critical() if x[1] > start]
    assert [t for t, _ in expected] == ["coupon", "sale_open", "sale_close"]
    for c in everyone:
        assert [x for x in c.critical() if x[1] > start] == expected
    for page in browsers:
        expect(page.get_by_test_id("chat-list")).to_contain_text(text)
        page.wait_for_function(
            "id => (LivebaseRoom.viewer.sales()[id] || {}).status === 'closed'", arg=sale_id
        )
        assert [x for x in _viewer_critical(page) if x[1] > start] == expected
    # Everyone counted: the console's online number reaches the room's size.
    n = SWARM + 1 + len(browsers) + 1
    host.wait_for_function(
        "n => Number(document.querySelector('[data-testid=num-viewers]').textContent) >= n",
        arg=n,
        timeout=WAIT_S * 1000,
    )
    shot(host, "68-console-shared-room-zh")
    shot(browsers[1], "69-room-shared-en")


def test_a_lucky_bag_from_the_console_is_joined_drawn_and_links_to_its_verify_page(
    phone: Phone, server: Server
) -> None:
    show = _live_show(server)
    token = _token(server, "ajie")
    username, _ = _buyer(server, "观众 小福")
    viewer = _viewer(phone, show["id"], "zh", username)
    host = phone.open("zh")
    sign_in(host, "ajie")
    host.goto(f"/host/shows/{show['id']}/console")
    host.get_by_test_id("bag-panel").locator("summary").click()
    form = host.get_by_test_id("bag-form")
    form.locator('input[name="prize"]').fill("玻尿酸面膜 一盒")
    form.locator('input[name="winners"]').fill("1")
    form.locator('input[name="phrase"]').fill("想要面膜")
    host.get_by_test_id("bag-start").click()
    expect(host.locator('[data-result="bag"]')).to_have_attribute("data-ok", "1")

    card = viewer.get_by_test_id("bag-card")
    expect(card).to_have_attribute("data-phase", "running")
    expect(card).to_contain_text("想要面膜")
    expect(viewer.get_by_test_id("bag-countdown")).to_contain_text("后开奖")
    viewer.get_by_test_id("bag-join").click()
    expect(viewer.get_by_test_id("chat-list")).to_contain_text("想要面膜")
    shot(viewer, "70-room-lucky-bag-zh")
    bag_id = card.get_attribute("data-bag-id")
    assert bag_id
    # The chat line must be counted as an entry before an early draw; the entry writer
    # flushes on draw, and the line has reached the room once it is on screen.
    _ok(_call(server, "POST", f"/api/v1/lucky-bags/{bag_id}/draw", token))
    expect(card).to_have_attribute("data-phase", "drawn")
    result = viewer.get_by_test_id("bag-result")
    expect(result).to_contain_text("中奖")
    expect(result).to_contain_text("观**")
    assert viewer.get_by_test_id("bag-verify").get_attribute("href") == f"/lucky-bags/{bag_id}"
    shot(viewer, "71-room-lucky-bag-drawn-zh")


def test_notice_and_moderation_from_the_console_reach_the_room(
    phone: Phone, server: Server, swarm_factory: Callable[..., Swarm]
) -> None:
    show = _live_show(server)
    _, token = _buyer(server, "观众 捣乱")
    viewer = _viewer(phone, show["id"], "en")
    offender = swarm_factory(_ws_url(server, show["id"]), 1, token)
    host = phone.open("en")
    sign_in(host, "ajie")
    host.goto(f"/host/shows/{show['id']}/console?lang=en")
    expect(host.get_by_test_id("room-conn")).to_have_attribute("data-state", "live")
    host.get_by_test_id("notice-panel").locator("summary").click()
    text = f"Free shipping tonight {secrets.token_hex(2)}"
    host.get_by_test_id("notice-input").fill(text)
    host.get_by_test_id("notice-pin").click()
    expect(viewer.get_by_test_id("notice-banner")).to_have_text(text)

    _wait(lambda: offender.clients[0].snapshot_seq is not None, "the offender's snapshot")
    line = f"spam spam {secrets.token_hex(2)}"
    offender.send(0, {"t": "chat", "text": line})
    chat = host.get_by_test_id("console-chat")
    expect(chat).to_contain_text(line)
    chat.locator("li", has_text=line).get_by_test_id("mod-ban").click()
    expect(host.locator('[data-result="mod"]')).to_have_attribute("data-ok", "1")
    _wait(lambda: offender.socks[0].close_code == 4403, "the banned client closed with 4403")
    expect(viewer.get_by_test_id("chat-list")).to_contain_text(line)  # it was shown before
    shot(host, "72-console-moderation-en")
    shot(viewer, "73-room-notice-en")
    # Unpin for the other tests.
    host.get_by_test_id("notice-input").fill("")
    host.get_by_test_id("notice-pin").click()
    expect(viewer.get_by_test_id("notice-banner")).to_be_hidden()


# A burst of grabs: buyers on phones tapping at once when a sale opens. Each must be
# answered within the stall bound (201, 409 sold_out or a quick 503), and the sale never
# sells more than it has. 40 buyers for 10 units: enough to sell out mid-burst.
GRAB_BUYERS = 40
GRAB_UNITS = 10
# A stall is SQLAlchemy's 30 s pool timeout (the bug tests/test_burst.py names); answers
# slower than that have waited for a connection that never came. Not a speed target: on
# SQLite the grab's two reads per request queue behind one another (~0.2 s each at load
# average 19), see docs/room-pages.md.
STALL_BOUND_S = 30.0


def test_a_burst_of_grabs_is_answered_and_never_oversells(server: Server) -> None:
    import httpx

    show = _live_show(server)
    token = _token(server, "ajie")
    line = max(show["shelf"], key=lambda x: x["stock"])
    body = {
        "sku_id": line["sku_id"],
        "price_fen": 990,
        "quantity": GRAB_UNITS,
        "per_buyer_limit": 1,
        "starts_at": _in_minutes(0),
        "ends_at": _in_minutes(5),
    }
    sale = _ok(_call(server, "POST", f"/api/v1/shows/{show['id']}/flash-sales", token, body))
    _ok(_call(server, "POST", f"/api/v1/flash-sales/{sale['id']}/open", token))
    sessions = [({"lb_session": b.session}, b.csrf) for b in _buyers(server, GRAB_BUYERS, "抢购 ")]
    url = f"{server.url}/shows/{show['id']}/flash-sales/{sale['id']}/grab"

    async def grab(cookies: dict[str, str], csrf: str) -> tuple[int, dict[str, Any], float]:
        headers = {"X-CSRF-Token": csrf, "Idempotency-Key": secrets.token_hex(8)}
        async with httpx.AsyncClient(cookies=cookies, timeout=STALL_BOUND_S * 3) as c:
            t0 = time.monotonic()
            r = await c.post(url, headers=headers)
            return r.status_code, r.json(), time.monotonic() - t0

    async def burst() -> list[tuple[int, dict[str, Any], float]]:
        return await asyncio.gather(*(grab(c, s) for c, s in sessions))

    # Its own thread: the session's Playwright already runs an event loop on this one.
    with ThreadPoolExecutor(1) as pool:
        answers = pool.submit(asyncio.run, burst()).result()
    codes = [(status, body.get("error")) for status, body, _ in answers]
    assert all(
        (status, err) in {(201, None), (409, "sold_out"), (503, "overloaded")}
        for status, err in codes
    ), codes
    assert max(took for _, _, took in answers) < STALL_BOUND_S
    sold = [body["id"] for status, body, _ in answers if status == 201]
    assert len(sold) == len(set(sold)) <= GRAB_UNITS
    after = _ok(_call(server, "GET", f"/api/v1/flash-sales/{sale['id']}"))
    assert after["remaining"] == GRAB_UNITS - len(sold)
    if not any(status == 503 for status, _ in codes):
        assert len(sold) == GRAB_UNITS  # nobody shed: every unit went
