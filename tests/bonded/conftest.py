"""Fixtures of the bonded tests: a shop of imported goods, and the signed-in page client of
tests/web (cookies and CSRF as a browser keeps them)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from livebase.runtime import Runtime
from tests.bonded.helpers import BondedShop, make_bonded_shop
from tests.conftest import World
from tests.web.conftest import browser  # noqa: F401  (the page client fixture)


@pytest.fixture
def shop(rt: Runtime, world: World, client: TestClient) -> BondedShop:
    return make_bonded_shop(rt, world, client)
