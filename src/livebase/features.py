"""The one place a feature is wired in.

Each feature package gets one :class:`Feature` entry in ``FEATURES``: its API routers,
its page router, its tables, its job handlers, its event subscribers, the runtime parts
it builds and the background services it runs. The app (routes, lifespan), Alembic's
metadata (``livebase.models``), ``livebase worker`` and the tests all read this list, so
they cannot disagree about what exists.

Entries name things as ``"module:attribute"`` strings, resolved when the app or a runtime
is built: importing this module imports no feature, and a broken entry (a missing module,
a missing or wrongly typed attribute) stops start-up with a :class:`FeatureError` that
names the feature and the entry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from fastapi import APIRouter

from livebase.events import Event
from livebase.jobs.registry import Handler
from livebase.runtime import Part, Runtime


class FeatureError(RuntimeError):
    """A feature entry points at something that does not exist or is not what it says."""


class Service(Protocol):
    """Something a feature runs while the app runs (a poller, a watcher)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True)
class JobSpec:
    kind: str
    handler: str  # "module:function" taking (session, payload)
    every: timedelta | None = None  # recurring: one chain, this period apart
    slow: bool = False  # takes seconds (ffmpeg, Tesseract): runs on the slow lane


@dataclass(frozen=True)
class Subscription:
    event: str  # "module:EventClass"
    handler: str  # "module:function" taking the event (a coroutine runs on the app's loop)


@dataclass(frozen=True)
class SocketSpec:
    """A WebSocket endpoint served straight from the ASGI entry (``livebase.sockets``),
    without the HTTP middleware and FastAPI's per-connection dependency machinery: a
    socket that stays open for hours keeps every frame of that stack alive, and a room of
    thousands of idle viewers pays for them in memory (docs/realtime.md "Memory").

    ``prefix`` is a literal path ending in ``/`` (``/ws/shows/``); the one path segment
    after it is passed on. ``handler`` is "module:function", an ``async`` function taking
    ``(websocket, segment)`` that does its own accepting, checking and closing."""

    prefix: str
    handler: str


@dataclass(frozen=True)
class MetricSpec:
    """A figure a base's dashboard counts from the records (never typed in).

    ``counter`` is "module:function" taking ``(db, base_id, start, end)`` with ``start`` and
    ``end`` aware UTC datetimes of a half-open interval, returning an int. A flow (GMV,
    shows held) counts what happened inside the interval; a ``cumulative`` figure (brands
    incubated, scenes registered) counts what stands at ``end``. ``monthly`` is an optional
    "module:function" with the same arguments returning ``{"YYYY-MM": int}`` for every
    month of the interval in one query (the dashboard falls back to one counter call per
    month without it).
    """

    name: str
    counter: str
    label_zh: str
    label_en: str
    unit: str = "count"  # "count" | "fen" | "hours"
    cumulative: bool = False
    monthly: str | None = None


@dataclass(frozen=True)
class Feature:
    name: str
    models: str | None = None  # module whose import defines the feature's tables
    api: tuple[str, ...] = ()  # "module:router" of JSON routers, in order
    pages: str | None = None  # "module:router" of the feature's pages
    jobs: tuple[JobSpec, ...] = ()
    subscribers: tuple[Subscription, ...] = ()
    parts: tuple[str, ...] = ()  # "module:PART", a runtime.Part the runtime builds
    services: tuple[str, ...] = ()  # "module:factory", Runtime -> Service
    metrics: tuple[MetricSpec, ...] = ()  # figures the base dashboard counts (plan targets)
    sockets: tuple[SocketSpec, ...] = ()  # WebSocket endpoints served directly


# Order matters twice: API routers are included in this order, and page routers in this
# order make the nav bar's.
FEATURES: tuple[Feature, ...] = (
    Feature(
        "accounts",
        models="livebase.accounts.models",
        api=("livebase.accounts.api:router",),
        jobs=(
            JobSpec(
                "accounts.purge_tokens",
                "livebase.accounts.jobs:purge_tokens",
                every=timedelta(hours=1),
            ),
        ),
    ),
    Feature(
        "bases",
        models="livebase.bases.models",
        api=("livebase.bases.api:router",),
        pages="livebase.bases.pages:router",
        metrics=(
            MetricSpec(
                "brands_incubated",
                "livebase.dashboard.counters:count_brands_incubated",
                "孵化品牌",
                "Brands incubated",
                cumulative=True,
            ),
            MetricSpec(
                "new_brands_launched",
                "livebase.dashboard.counters:count_new_brands_launched",
                "新品牌首发",
                "New brands launched",
            ),
        ),
    ),
    Feature(
        "catalog",
        models="livebase.catalog.models",
        api=("livebase.catalog.api:router", "livebase.catalog.api:uploads"),
        pages="livebase.catalog.pages:router",
    ),
    Feature(
        "shows",
        models="livebase.shows.models",
        api=("livebase.shows.api:router", "livebase.shows.api:uploads"),
        pages="livebase.shows.pages:router",
        subscribers=tuple(
            Subscription(f"livebase.shows.events:{name}", "livebase.shows.events:log_show_event")
            for name in ("ShowStarted", "ShowEnded", "ExplainingChanged", "ShelfChanged")
        ),
        metrics=(
            MetricSpec(
                "shows_held",
                "livebase.dashboard.counters:count_shows_held",
                "直播场次",
                "Shows held",
            ),
            MetricSpec(
                "live_hours",
                "livebase.dashboard.counters:count_live_hours",
                "直播时长",
                "Live hours",
                unit="hours",
            ),
        ),
    ),
    Feature(
        "compliance",
        models="livebase.compliance.models",
        api=("livebase.compliance.api:router",),
        pages="livebase.compliance.pages:router",
        parts=("livebase.compliance.parts:CHAT_GUARD",),
        services=("livebase.compliance.parts:term_sync",),
        # The text inside an uploaded picture (Tesseract, timed out after 30 s), checked
        # as a listing; enqueued by the feature that stored the image.
        jobs=(JobSpec("compliance.ocr_image", "livebase.compliance.ocr:ocr_image", slow=True),),
    ),
    Feature("jobs", models="livebase.jobs.models"),
    # Who changed what (users and system actors); written by the other features' do_*.
    Feature("audit", models="livebase.audit.models"),
    Feature(
        "orders",
        models="livebase.orders.models",
        api=("livebase.orders.api:router",),
        pages="livebase.orders.pages:router",
        jobs=(
            # Expiry at pay_by: a sweep every 5 s returns an unpaid order's units within
            # seconds of its deadline, with one job row however many orders are due.
            JobSpec(
                "orders.expire_due", "livebase.orders.jobs:expire_due", every=timedelta(seconds=5)
            ),
            JobSpec("orders.request_refund", "livebase.orders.jobs:request_refund"),
            # shipped → completed once the receipt window (days) is over; minutes are plenty.
            JobSpec(
                "orders.complete_due",
                "livebase.orders.jobs:complete_due",
                every=timedelta(minutes=10),
            ),
        ),
        parts=("livebase.orders.parts:ORDER_RULES",),
        metrics=(
            MetricSpec(
                "gmv_fen",
                "livebase.dashboard.counters:count_gmv_fen",
                "成交额 (GMV)",
                "GMV",
                unit="fen",
            ),
            MetricSpec(
                "orders_paid",
                "livebase.dashboard.counters:count_orders_paid",
                "支付订单",
                "Paid orders",
            ),
        ),
    ),
    Feature(
        "rooms",
        models="livebase.rooms.models",
        api=("livebase.rooms.api:router",),
        pages="livebase.rooms.pages:router",
        sockets=(SocketSpec("/ws/shows/", "livebase.rooms.socket:room_socket"),),
        parts=("livebase.rooms.parts:BUS", "livebase.rooms.parts:ROOM_KIT"),
        # Demo mode only (a no-op otherwise): scripted viewers make the live room move.
        services=("livebase.rooms.demo:room_demo",),
    ),
    # A viewer follows a host (关注); the lucky bag's "follow" condition reads it.
    Feature(
        "follows",
        models="livebase.rooms.follows_models",
        api=("livebase.rooms.follows_api:router",),
    ),
    Feature(
        "luckybag",
        models="livebase.rooms.luckybag_models",
        api=("livebase.rooms.luckybag_api:router",),
        pages="livebase.rooms.luckybag_pages:router",
        jobs=(JobSpec("luckybag.draw", "livebase.rooms.luckybag:draw_due"),),
        # ChatAccepted → entries: the part subscribes its recorder on rt.events (it needs
        # the runtime's sessions, which a Subscription handler cannot reach).
        parts=("livebase.rooms.luckybag_entries:ENTRIES",),
        services=("livebase.rooms.luckybag_entries:entry_writer",),
    ),
    Feature(
        "flash_sales",
        models="livebase.orders.flash_models",
        api=("livebase.orders.flash_api:router",),
        jobs=(
            JobSpec("flash_sales.open", "livebase.orders.flash:open_due"),
            JobSpec("flash_sales.close", "livebase.orders.flash:close_due"),
        ),
        parts=("livebase.orders.tokencache:TOKEN_CACHE", "livebase.orders.hotpath:FLASH_OWNERS"),
    ),
    Feature(
        "payments",
        models="livebase.payments.models",
        api=("livebase.payments.api:router", "livebase.payments.api:callbacks"),
        pages="livebase.payments.pages:router",
        jobs=(
            JobSpec("payments.sandbox_callback", "livebase.payments.jobs:deliver_sandbox_callback"),
            JobSpec("payments.refund", "livebase.payments.jobs:send_refund"),
            JobSpec(
                "payments.purge_nonces",
                "livebase.payments.jobs:purge_nonces",
                every=timedelta(hours=1),
            ),
        ),
        parts=("livebase.payments.parts:PAYMENTS",),
    ),
    Feature(
        "media",
        models="livebase.media.models",
        api=("livebase.media.api:callbacks", "livebase.media.api:router"),
        pages="livebase.media.pages:router",
        jobs=(
            JobSpec("media.end_after_grace", "livebase.media.service:end_after_grace"),
            JobSpec(
                "media.process_recording", "livebase.media.service:process_recording", slow=True
            ),
            JobSpec("media.build_replay", "livebase.media.service:build_replay_job", slow=True),
            JobSpec("media.cut_clip", "livebase.media.service:cut_clip", slow=True),
            # A frame of each live stream, read by Tesseract and checked as a listing.
            JobSpec("media.check_frame", "livebase.media.frames:check_frame", slow=True),
        ),
        parts=("livebase.media.parts:MEDIA",),
    ),
    Feature(
        "bonded",
        models="livebase.bonded.models",
        api=("livebase.bonded.api:router",),
        pages="livebase.bonded.pages:router",
        jobs=(
            # The declaration (CEB311/411/511/621) is owed to customs: an outbox job
            # written with the payment, retried until the submitter takes it.
            JobSpec("bonded.declare", "livebase.bonded.jobs:declare"),
            JobSpec("bonded.sandbox_receipt", "livebase.bonded.jobs:sandbox_receipt"),
            JobSpec("bonded.resend", "livebase.bonded.jobs:resend"),
            JobSpec("bonded.settle_tax", "livebase.bonded.jobs:settle_tax"),
            JobSpec("bonded.close", "livebase.bonded.jobs:close"),
            # The real exchange's receipts are files in the transfer client's inbox.
            JobSpec(
                "bonded.poll_receipts",
                "livebase.bonded.jobs:poll_receipts",
                every=timedelta(seconds=10),
            ),
        ),
        parts=("livebase.bonded.parts:BONDED",),
    ),
    # Campaigns (活动), the brand directory with tags, incubation and launches (首发), and
    # demonstration scenes (直播示范场景): docs/campaigns.md.
    Feature(
        "campaigns",
        models="livebase.campaigns.models",
        api=(
            "livebase.campaigns.api:router",
            "livebase.campaigns.brands_api:router",
            "livebase.campaigns.scenes_api:router",
            "livebase.campaigns.scenes_api:uploads",
        ),
        pages="livebase.campaigns.pages:router",
        jobs=(
            # The incubation rule counts shows and paid GMV over months; hourly is plenty.
            JobSpec(
                "campaigns.apply_incubation",
                "livebase.campaigns.brands:apply_incubation",
                every=timedelta(hours=1),
            ),
        ),
        metrics=(
            MetricSpec(
                "campaigns_held",
                "livebase.campaigns.service:count_campaigns_held",
                "活动场次",
                "Campaigns held",
            ),
            MetricSpec(
                "demo_scenes",
                "livebase.campaigns.scenes:count_scenes",
                "直播示范场景",
                "Demonstration scenes",
                cumulative=True,
            ),
        ),
    ),
    # Talent training (人才培养): courses, sessions with a waiting list, attendance, scores
    # and verifiable certificates of 互联网营销师 (直播销售员).
    Feature(
        "training",
        models="livebase.training.models",
        api=("livebase.training.api:router",),
        pages="livebase.training.pages:router",
        metrics=(
            MetricSpec(
                "certificates_issued",
                "livebase.training.certificates:count_certificates_issued",
                "培训发证数",
                "Training certificates issued",
                monthly="livebase.training.certificates:monthly_certificates_issued",
            ),
        ),
    ),
    # Studios (直播间) of a base and the slots brands and agencies book (issue 16 item 1).
    Feature(
        "studios",
        models="livebase.studios.models",
        api=("livebase.studios.api:router",),
        pages="livebase.studios.pages:router",
        metrics=(
            MetricSpec(
                "studio_hours_booked",
                "livebase.studios.service:count_hours_booked",
                "直播间预订时长",
                "Studio hours booked",
                unit="hours",
            ),
        ),
    ),
    # Host incubation (主播孵化): profiles, cohorts, levels, growth figures, leaderboard.
    Feature(
        "incubation",
        models="livebase.incubation.models",
        api=("livebase.incubation.api:router", "livebase.incubation.api:uploads"),
        pages="livebase.incubation.pages:router",
        jobs=(
            # The leaderboard's per-show rollup: live shows, newly ended ones and those
            # whose orders can still move; 2 minutes is the board's staleness at most.
            JobSpec(
                "incubation.refresh_rollups",
                "livebase.incubation.promotions:refresh_rollups",
                every=timedelta(minutes=2),
            ),
            # Promotions move on hours and GMV: ten minutes is prompt enough.
            JobSpec(
                "incubation.promote_hosts",
                "livebase.incubation.promotions:promote_hosts",
                every=timedelta(minutes=10),
            ),
        ),
        parts=("livebase.incubation.parts:ROLLUP_ON_END",),
        metrics=(
            MetricSpec(
                "hosts_incubated",
                "livebase.incubation.figures:count_hosts_incubated",
                "孵化主播",
                "Hosts incubated",
                cumulative=True,
            ),
        ),
    ),
    # The base dashboard: monthly rollups of every metric above (and any feature's), the
    # operator's and the public pages, exports; its rollup job keeps the recent months fresh.
    Feature(
        "dashboard",
        models="livebase.dashboard.models",
        api=("livebase.dashboard.api:router",),
        pages="livebase.dashboard.pages:router",
        jobs=(
            # Every 30 s: the current month on the dashboard is at most this old (plus the
            # run's own time); older months are refreshed round-robin (rollup.py).
            JobSpec(
                "dashboard.rollup",
                "livebase.dashboard.rollup:rollup_job",
                every=timedelta(seconds=30),
            ),
        ),
    ),
)


@dataclass
class LoadedFeature:
    """A feature entry with every reference resolved."""

    feature: Feature
    api: list[APIRouter] = field(default_factory=list)
    pages: APIRouter | None = None
    jobs: list[tuple[JobSpec, Handler]] = field(default_factory=list)
    subscribers: list[tuple[type[Event], Callable[[Any], Any]]] = field(default_factory=list)
    parts: list[Part[Any]] = field(default_factory=list)
    services: list[Callable[[Runtime], Service]] = field(default_factory=list)
    metrics: list[tuple[MetricSpec, Callable[..., Any], Callable[..., Any] | None]] = field(
        default_factory=list
    )
    sockets: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)


def _resolve(feature: Feature, ref: str) -> Any:
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise FeatureError(f"feature {feature.name!r}: {ref!r} is not 'module:attribute'")
    module = _import(feature, module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise FeatureError(f"feature {feature.name!r}: {module_name} has no {attr!r}") from None


def _import(feature: Feature, module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise FeatureError(f"feature {feature.name!r}: no module {module_name}") from exc
        raise  # the module exists but imports something missing: show the real error


def _typed(feature: Feature, ref: str, value: Any, check: Callable[[Any], bool], what: str) -> Any:
    if not check(value):
        raise FeatureError(f"feature {feature.name!r}: {ref} is not {what}")
    return value


def _is_event_type(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, Event) and value is not Event


def load(features: Sequence[Feature] = FEATURES) -> list[LoadedFeature]:
    """Resolve every entry; raise :class:`FeatureError` on the first broken one."""
    names = [f.name for f in features]
    if len(set(names)) != len(names):
        raise FeatureError(f"feature names repeat: {names}")
    loaded = []
    for f in features:
        out = LoadedFeature(f)
        if f.models:
            _import(f, f.models)
        for ref in f.api:
            router = _resolve(f, ref)
            out.api.append(_typed(f, ref, router, _is_router, "an APIRouter"))
        if f.pages:
            out.pages = _typed(f, f.pages, _resolve(f, f.pages), _is_router, "an APIRouter")
        for spec in f.jobs:
            handler = _typed(f, spec.handler, _resolve(f, spec.handler), callable, "callable")
            out.jobs.append((spec, handler))
        for sub in f.subscribers:
            event_type = _typed(f, sub.event, _resolve(f, sub.event), _is_event_type, "an Event")
            fn = _typed(f, sub.handler, _resolve(f, sub.handler), callable, "callable")
            out.subscribers.append((event_type, fn))
        for ref in f.parts:
            out.parts.append(_typed(f, ref, _resolve(f, ref), _is_part, "a runtime.Part"))
        for ref in f.services:
            out.services.append(_typed(f, ref, _resolve(f, ref), callable, "callable"))
        for m in f.metrics:
            counter = _typed(f, m.counter, _resolve(f, m.counter), callable, "callable")
            monthly = None
            if m.monthly:
                monthly = _typed(f, m.monthly, _resolve(f, m.monthly), callable, "callable")
            out.metrics.append((m, counter, monthly))
        for sock in f.sockets:
            if not (sock.prefix.startswith("/") and sock.prefix.endswith("/")):
                raise FeatureError(
                    f"feature {f.name!r}: socket prefix {sock.prefix!r} is not '/.../'"
                )
            fn = _typed(f, sock.handler, _resolve(f, sock.handler), callable, "callable")
            out.sockets.append((sock.prefix, fn))
        loaded.append(out)
    prefixes = [p for lf in loaded for p, _ in lf.sockets]
    if len(set(prefixes)) != len(prefixes):
        raise FeatureError(f"socket prefixes repeat: {prefixes}")
    metric_names = [m.name for lf in loaded for m, _, _ in lf.metrics]
    if len(set(metric_names)) != len(metric_names):
        raise FeatureError(f"metric names repeat: {metric_names}")
    return loaded


def _is_router(value: Any) -> bool:
    return isinstance(value, APIRouter)


def _is_part(value: Any) -> bool:
    return isinstance(value, Part)


def install(rt: Runtime, loaded: Sequence[LoadedFeature]) -> None:
    """Register the features' jobs and subscribers on ``rt`` and build their parts (once)."""
    if rt.installed:
        return
    for lf in loaded:
        for spec, handler in lf.jobs:
            rt.jobs.register(spec.kind, handler, every=spec.every, slow=spec.slow)
        for event_type, fn in lf.subscribers:
            rt.events.subscribe(event_type, fn)
        for part in lf.parts:
            rt.parts[part.name] = part.build(rt)
    rt.installed = True


def import_models(features: Sequence[Feature] = FEATURES) -> None:
    """Import every feature's tables onto the shared metadata (Alembic, tests)."""
    for f in features:
        if f.models:
            _import(f, f.models)
