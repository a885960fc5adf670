"""One entry in ``livebase.features`` wires a feature everywhere (routes, pages, tables,
jobs, subscribers, runtime parts, services), and a broken entry stops start-up loudly."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.websockets import WebSocketDisconnect

import livebase
from livebase.app import create_app
from livebase.compliance.guard import MemoryChatGuard, RedisChatGuard
from livebase.compliance.parts import CHAT_GUARD
from livebase.db import build_sessionmaker
from livebase.events import notify_on_commit
from livebase.features import (
    FEATURES,
    Feature,
    FeatureError,
    JobSpec,
    MetricSpec,
    SocketSpec,
    Subscription,
    load,
)
from livebase.jobs import service as jobs
from livebase.models import metadata
from livebase.runtime import Part, Runtime, build_runtime
from tests.features import sample

M = "tests.features.sample"


def _fresh(rt: Runtime) -> Runtime:
    """A runtime on the test database that no feature list has been installed on yet."""
    return Runtime(rt.settings, rt.engine, build_sessionmaker(rt.engine), rt.limiter, rt.redis)


def test_one_entry_wires_routes_pages_jobs_subscribers_parts_and_services(rt: Runtime) -> None:
    sample.received.clear()
    sample.started.clear()
    fresh = _fresh(rt)
    app = create_app(runtime=fresh, features=(*FEATURES, sample.SAMPLE))
    with TestClient(app) as client:
        assert client.get("/api/v1/sample/ping").json() == {"pong": "yes"}
        assert client.get("/sample").json() == {"page": "sample"}
        assert client.get("/api/v1/products").status_code == 200  # the others still there
        (poller,) = sample.started
        assert poller.running and poller.rt is fresh
        assert fresh.part(sample.COUNTER).backend == rt.engine.dialect.name
        with fresh.sessions() as db:
            db.execute(text("SELECT 1"))
            notify_on_commit(db, sample.SampleHappened(n=1))
            jobs.do_enqueue(db, "sample.job", {"n": 2})
            db.commit()
        assert jobs.run_due(fresh.sessions, fresh.jobs) == 1
    assert poller.stopped
    assert sample.received == [1, 2]


def _broken(**entry: object) -> Feature:
    return dataclasses.replace(sample.SAMPLE, **entry)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"api": ("tests.features.missing:router",)}, "no module tests.features.missing"),
        ({"api": (f"{M}:nothing",)}, "has no 'nothing'"),
        ({"api": (f"{M}:not_a_router",)}, "is not an APIRouter"),
        ({"pages": f"{M}.router"}, "is not 'module:attribute'"),
        ({"models": "tests.features.no_models"}, "no module tests.features.no_models"),
        ({"jobs": (JobSpec("sample.job", f"{M}:nope"),)}, "has no 'nope'"),
        ({"subscribers": (Subscription(f"{M}:ping", f"{M}:on_sample"),)}, "is not an Event"),
        ({"parts": (f"{M}:Counter",)}, "is not a runtime.Part"),
        ({"services": (f"{M}:not_a_router",)}, "is not callable"),
        ({"metrics": (MetricSpec("sample_n", f"{M}:nope", "样例", "sample"),)}, "has no 'nope'"),
        ({"sockets": (SocketSpec("/ws/sample/", f"{M}:nope"),)}, "has no 'nope'"),
        ({"sockets": (SocketSpec("/ws/sample", f"{M}:echo_socket"),)}, "is not '/.../'"),
    ],
)
def test_a_broken_entry_stops_start_up_naming_the_feature(
    rt: Runtime, entry: dict[str, object], message: str
) -> None:
    broken = (*FEATURES, _broken(**entry))
    with pytest.raises(FeatureError, match="feature 'sample'") as err:
        create_app(runtime=rt, features=broken)
    assert message in str(err.value)
    with pytest.raises(FeatureError, match=re.escape(message)):
        build_runtime(rt.settings, broken)  # serve's lifespan and `livebase worker`


def test_two_features_cannot_share_a_name(rt: Runtime) -> None:
    with pytest.raises(FeatureError, match="repeat"):
        load((*FEATURES, dataclasses.replace(sample.SAMPLE, name="shows")))


def test_a_metric_entry_resolves_to_its_counter_and_names_cannot_repeat() -> None:
    spec = MetricSpec("sample_n", f"{M}:count_sample", "样例", "sample")
    (loaded,) = load((dataclasses.replace(sample.SAMPLE, metrics=(spec,)),))
    ((got, counter, monthly),) = loaded.metrics
    assert got is spec and counter is sample.count_sample and monthly is None
    twice = dataclasses.replace(sample.SAMPLE, name="other", api=(), pages=None, jobs=())
    with pytest.raises(FeatureError, match="metric names repeat"):
        load(
            (
                dataclasses.replace(sample.SAMPLE, metrics=(spec,)),
                dataclasses.replace(twice, metrics=(spec,), parts=(), services=()),
            )
        )


def test_a_socket_entry_is_served_before_the_http_stack_and_prefixes_cannot_repeat(
    rt: Runtime,
) -> None:
    entry = dataclasses.replace(
        sample.SAMPLE, sockets=(SocketSpec("/ws/sample/", f"{M}:echo_socket"),)
    )
    app = create_app(runtime=_fresh(rt), features=(*FEATURES, entry))
    with TestClient(app) as client:
        with client.websocket_connect("/ws/sample/abc") as ws:
            assert ws.receive_json() == {"segment": "abc", "app": "App"}
        # Not one segment after the prefix: the router's answer (no route: closed).
        for path in ("/ws/sample/", "/ws/sample/a/b", "/ws/other/abc"):
            with pytest.raises(WebSocketDisconnect), client.websocket_connect(path) as ws:
                ws.receive_json()
        assert client.get("/api/v1/sample/ping").json() == {"pong": "yes"}
    again = dataclasses.replace(
        sample.SAMPLE,
        name="other",
        api=(),
        pages=None,
        jobs=(),
        parts=(),
        services=(),
        sockets=(SocketSpec("/ws/shows/", f"{M}:echo_socket"),),
    )
    with pytest.raises(FeatureError, match="socket prefixes repeat"):
        load((*FEATURES, again))


def test_every_feature_table_is_on_the_alembic_metadata() -> None:
    tables = set(metadata.tables)
    assert {"users", "bases", "products", "shows", "jobs", "moderation_items"} <= tables


def test_the_chat_guard_is_a_part_the_compliance_feature_builds(rt: Runtime) -> None:
    guard = rt.part(CHAT_GUARD)
    expected = RedisChatGuard if rt.redis is not None else MemoryChatGuard
    assert isinstance(guard, expected)
    with pytest.raises(LookupError, match=r"sample\.counter"):
        _fresh(rt).part(Part("sample.counter", sample.Counter))


def test_the_core_runtime_imports_no_feature() -> None:
    code = (
        "import sys, livebase.runtime, livebase.features, livebase.events, livebase.jobs.service\n"
        "features = ('accounts', 'bases', 'catalog', 'shows', 'compliance')\n"
        "loaded = [m for m in sys.modules if m.split('.')[1:2] and m.split('.')[1] in features]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_job_kind_is_registered_once(rt: Runtime) -> None:
    with pytest.raises(ValueError, match="already has a handler"):
        rt.jobs.copy().register("accounts.purge_tokens", sample.sample_job)


def test_every_feature_module_on_disk_is_in_the_registry() -> None:
    # A package with routes, pages or tables but no entry would be silently absent (the
    # old web/feature_pages.py skipped a missing pages.py the same way).
    root = Path(livebase.__file__).parent
    named = {
        ref.split(":")[0]
        for f in FEATURES
        for ref in (*f.api, f.pages or "", f.models or "")
        if ref
    }
    on_disk = {
        f"livebase.{p.parent.name}.{p.stem}"
        for kind in ("api", "pages", "models")
        for p in root.glob(f"*/{kind}.py")
        if p.parent.name != "web"  # the shell (home, sign-in) that installs the features' pages
    }
    assert on_disk <= named, on_disk - named
