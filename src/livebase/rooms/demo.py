"""Demo mode (``LIVEBASE_DEMO=1``): a few scripted viewers make the demo's live show's
room move, so ``make run`` greets a newcomer with a room that talks. Their lines go
through the same path as anyone's (rate limit, ``compliance.check``, the bus); their
likes and their presence go through the room's counters as a node of their own."""

from __future__ import annotations

import random
import threading
from contextlib import suppress

from livebase.accounts.service import do_register, user_by_username
from livebase.errors import ApiError
from livebase.logs import get_logger
from livebase.rooms import chat
from livebase.rooms.hub import Viewer
from livebase.rooms.parts import ROOM_KIT
from livebase.rooms.service import RoomInfo
from livebase.runtime import Runtime
from livebase.shows import service as shows

log = get_logger("livebase.rooms")

FANS = [("demo_fan1", "小雨"), ("demo_fan2", "阿杰"), ("demo_fan3", "Lily"), ("demo_fan4", "老王")]
LINES = [
    "主播好！",
    "这个颜色好看",
    "1号链接还有吗",
    "已下单～",
    "求讲一下尺码",
    "666",
    "包邮吗",
    "质量怎么样",
    "刚拍了两件",
    "主播声音好好听",
    "还会补货吗",
    "支持支持",
    "加我微信 abc12345 私聊",  # masked by compliance: the room shows stars
]
# One scripted step every 2.5 s: a lively room without drowning real viewers' lines.
STEP_S = 2.5


class RoomDemo:
    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._rt.settings.demo:
            return
        self._thread = threading.Thread(target=self._run, name="rooms-demo", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _fans(self) -> list[Viewer]:
        out = []
        with self._rt.sessions() as db, db.begin():
            for username, name in FANS:
                user = user_by_username(db, username) or do_register(
                    db, username, "livebase-demo", name
                )
                out.append(Viewer(user.id, user.display_name, "viewer"))
        return out

    def _live(self) -> RoomInfo | None:
        """The demo data's live show (by its title), if it is live: never anyone else's
        show, so a test or a real show in demo mode stays untouched."""
        from livebase.demo import LIVE_TITLE

        with self._rt.sessions() as db:
            live = shows.list_shows(db, status="live", limit=20, cursor=None)
            s = next((x for x in live if x.title == LIVE_TITLE), None)
            if s is None:
                return None
            return RoomInfo(s.id, s.base_id, s.org_id, s.host_id, s.status)

    def step(self, fans: list[Viewer], n: int, rng: random.Random) -> bool:
        """One scripted moment of the demo's live room; False when it is not live."""
        kit = self._rt.part(ROOM_KIT)
        info = self._live()
        if info is None:
            return False
        kit.counters.tick(info.show_id, "demo", len(fans), rng.randint(1, 12), STEP_S)
        if n % 2 == 0:
            fan = fans[(n // 2) % len(fans)]
            # Refused like anyone's line (rate limit, guard): fine.
            with suppress(ApiError):
                chat.take_line(kit, info, fan, LINES[(n // 2) % len(LINES)], 0)
        return True

    def fans(self) -> list[Viewer]:
        return self._fans()

    def _run(self) -> None:
        rng = random.Random()
        fans: list[Viewer] | None = None
        n = 0
        while not self._stop.wait(STEP_S):
            try:
                # The scripted viewers are made only once the demo's live show exists:
                # a database without the demo data (a test's, a real base's) gets nothing.
                if fans is None:
                    if self._live() is None:
                        continue
                    fans = self._fans()
                self.step(fans, n, rng)
                n += 1
            except Exception:
                log.exception("room demo step failed")


def room_demo(rt: Runtime) -> RoomDemo:
    return RoomDemo(rt)
