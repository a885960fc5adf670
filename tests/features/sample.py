"""A feature that exists only for the tests: one entry in a feature list wires all of it."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from sqlalchemy.orm import Session

from livebase.events import Event
from livebase.features import Feature, JobSpec, Subscription
from livebase.runtime import Part, Runtime
from livebase.web.render import PageRoute

router = APIRouter(prefix="/api/v1")
pages = APIRouter(include_in_schema=False, route_class=PageRoute)
not_a_router = "surprise"


@router.get("/sample/ping")
def ping() -> dict[str, str]:
    return {"pong": "yes"}


@pages.get("/sample")
def sample_page() -> dict[str, str]:
    return {"page": "sample"}


class SampleHappened(Event):
    type: Literal["sample.happened"] = "sample.happened"
    n: int


received: list[int] = []


def on_sample(event: SampleHappened) -> None:
    received.append(event.n)


def count_sample(_db: Session, _base_id: str, _start: object, _end: object) -> int:
    return 7


def sample_job(_db: Session, payload: dict[str, Any]) -> None:
    received.append(int(payload["n"]))


class Counter:
    """A runtime part: something per runtime the feature needs (a bus, a guard)."""

    def __init__(self, rt: Runtime) -> None:
        self.backend = rt.engine.dialect.name


COUNTER: Part[Counter] = Part("sample.counter", Counter)


class Poller:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.running = False
        self.stopped = False

    def start(self) -> None:
        self.running = True
        started.append(self)

    def stop(self) -> None:
        self.running = False
        self.stopped = True


started: list[Poller] = []

M = "tests.features.sample"
SAMPLE = Feature(
    "sample",
    api=(f"{M}:router",),
    pages=f"{M}:pages",
    jobs=(JobSpec("sample.job", f"{M}:sample_job"),),
    subscribers=(Subscription(f"{M}:SampleHappened", f"{M}:on_sample"),),
    parts=(f"{M}:COUNTER",),
    services=(f"{M}:Poller",),
)


async def echo_socket(websocket: Any, segment: str) -> None:
    """A socket entry: accepts, says which segment it was given, closes."""
    await websocket.accept()
    await websocket.send_json({"segment": segment, "app": type(websocket.app).__name__})
    await websocket.close()
