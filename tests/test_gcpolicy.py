"""The server's garbage-collector policy (livebase.gcpolicy): applied by a started app
whose settings ask for it, asked for by ``livebase serve``, left alone otherwise."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from livebase import gcpolicy
from livebase.app import create_app
from livebase.runtime import Runtime
from tests.clikit import invoke


@pytest.fixture
def collector() -> Iterator[None]:
    """Whatever a test does to the collector is undone after it."""
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_apply_freezes_what_exists_and_raises_the_young_threshold(collector: None) -> None:
    gc.unfreeze()
    survivor = {"made": "before"}
    gcpolicy.apply()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (gcpolicy.YOUNG, gcpolicy.MIDDLE, gcpolicy.OLD)
    # A frozen object is out of the generations the collector walks.
    assert not any(o is survivor for o in gc.get_objects())


@pytest.mark.parametrize("tuned", [True, False])
def test_a_started_app_tunes_the_collector_only_when_asked(
    rt: Runtime, collector: None, tuned: bool
) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    settings = rt.settings.model_copy(update={"gc_tuning": tuned})
    with TestClient(create_app(settings, runtime=rt)) as c:
        assert c.get("/healthz").status_code == 200
        if tuned:
            assert gc.get_threshold()[0] == gcpolicy.YOUNG and gc.get_freeze_count() > 0
        else:
            assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def test_serve_asks_for_the_policy_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import uvicorn

    seen: list[str | None] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda *a, **k: seen.append(os.environ.get("LIVEBASE_GC_TUNING"))
    )
    # serve sets the variable in this process's environment: undone after the test.
    monkeypatch.setenv("LIVEBASE_GC_TUNING", "")
    monkeypatch.delenv("LIVEBASE_GC_TUNING")
    env = {"LIVEBASE_DEMO": "1", "LIVEBASE_DATA_DIR": str(tmp_path)}
    invoke(env, "serve", "--port", "1")
    invoke({**env, "LIVEBASE_GC_TUNING": "0"}, "serve", "--port", "1")
    assert seen == ["1", "0"]


def test_the_variable_serve_sets_does_not_outlive_its_test() -> None:
    assert "LIVEBASE_GC_TUNING" not in os.environ
