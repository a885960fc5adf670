"""Page-test helpers: a client that does not follow redirects (so 303s are seen), and
signing in through a real cookie session without going through the login form."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from livebase.accounts.security import csrf_token
from livebase.accounts.service import do_issue_token, user_by_username
from livebase.app import create_app
from livebase.catalog import service as catalog
from livebase.http import SESSION_COOKIE
from livebase.runtime import Runtime
from tests.conftest import SYSTEM_TESTS, World


@dataclass
class Browser:
    """A TestClient signed in as one user at a time, with that session's CSRF token."""

    client: TestClient
    rt: Runtime
    csrf: str = ""

    def sign_in(self, username: str) -> str:
        with self.rt.sessions() as db, db.begin():
            user = user_by_username(db, username)
            assert user is not None, username
            raw, _ = do_issue_token(db, user, kind="session", ttl_seconds=3600)
        self.client.cookies.set(SESSION_COOKIE, raw)
        self.csrf = csrf_token(self.rt.settings.secret_key, raw)
        return self.csrf

    def sign_out(self) -> None:
        self.client.cookies.delete(SESSION_COOKIE)
        self.csrf = ""

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.get(url, **kw)

    def post(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any
    ) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body["csrf_token"] = self.csrf
        return self.client.post(url, data=body, **kw)


@pytest.fixture
def browser(rt: Runtime) -> Iterator[Browser]:
    with TestClient(
        create_app(runtime=rt), follow_redirects=False, client=("203.0.113.9", 5000)
    ) as c:
        yield Browser(c, rt)


def make_product(
    world: World,
    org_id: str,
    title: str = "纯棉圆领T恤",
    description: str = "纯棉，白色。",
    price_fen: int = 9900,
    stock: int = 10,
    attrs: dict[str, str] | None = None,
) -> str:
    """A product made through the catalog service, as the fixtures' system actor."""
    with world.rt.sessions() as db, db.begin():
        product = catalog.do_create_product(
            db,
            SYSTEM_TESTS,
            org_id,
            title,
            description,
            [
                catalog.SkuSpec(attrs or {"颜色": "白", "尺码": "M"}, price_fen, stock),
                catalog.SkuSpec({"颜色": "黑", "尺码": "L"}, price_fen + 1000, stock),
            ],
        )
        return product.id
