"""The flash-sale hot path: one owner per sale on the event loop, group commit.

A :class:`SaleOwner` decides in memory, with no ``await`` between the check and the
reservation, whether a request gets its units (status, per-buyer limit, remaining,
idempotency key): sold-out, over-limit and replays are answered without touching the
database. Accepted requests wait in the owner's pending list; its writer task collects
them for ``COLLECT_S``, writes the whole batch in ONE transaction in a worker thread
(:func:`write_batch`) while the loop keeps collecting the next one, and only after the
commit answers every request of the batch. So every 201 is durable before it is sent.

The batch's statements are conditional, so the database stays the arbiter when the
memory is wrong (a second app node selling the same sale, units given back meanwhile, a
restart): an idempotency key already taken, a sale that no longer has the units, a buyer
already at the limit are taken out of the batch and the rest is written; the owner then
resynchronises from what the database returned. See docs/flash-sale.md.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from livebase.bases import service as bases
from livebase.catalog import service as catalog
from livebase.db import new_id, utcnow
from livebase.errors import ApiError, Code, Overloaded
from livebase.logs import get_logger
from livebase.orders import idempotency
from livebase.orders.flash import PAY_WINDOW, new_order_view
from livebase.orders.flash_models import FlashSaleBuyer
from livebase.orders.models import Address, FlashSale, IdempotencyRecord
from livebase.orders.service import SHIP_TO_FIELDS, NewOrder, do_insert_orders_batch
from livebase.rooms import frames
from livebase.runtime import Part, Runtime

log = get_logger("livebase.flash")

# How long the writer collects accepted requests before writing them: long enough that
# a burst shares one commit, short enough to stay far below the 50 ms p99 budget.
COLLECT_S = 0.001
# At most this many requests per transaction (SQLite binds at most 32,766 parameters;
# 500 orders x 17 columns stays below it).
MAX_BATCH = 500
# Batches of one sale in flight at once. On PostgreSQL a second batch writes its keys,
# buyers and orders while the first commits; the sale row's UPDATE comes last in each, so
# it waits only for the other's COMMIT. SQLite has one writer: a second batch would only
# wait for the lock.
DEPTH = {"postgresql": 2}
# A sale that is not open re-reads its status at most this often (the job that opens it
# at starts_at runs in another thread or on another node).
STATUS_REFRESH_S = 0.2
# A batch's purchase frame names at most this many buyers (the room packs and caps the
# stream class anyway; the frame stays small whatever the batch).
PURCHASE_ITEMS = 20
# A sold-out sale re-reads its remaining units at most this often (units another node did
# not sell, or units given back by an expired order).
REMAINING_REFRESH_S = 1.0

Answer = tuple[int, dict[str, Any]]
# A batch refused by admission answers 503 ``overloaded`` with this ``Retry-After``
# (seconds; admission's own refusals carry the same default).
RETRY_AFTER_S = 1


def headers_of(answer: Answer) -> dict[str, str] | None:
    """The headers an answer goes out with: ``Retry-After`` on a 503 (DESIGN §4)."""
    return {"Retry-After": str(RETRY_AFTER_S)} if answer[0] == 503 else None


class Refusal(tuple[int, dict[str, Any]]):
    """An answer that is the same for everyone who gets it (sold out, over the limit, not
    open), with its JSON body rendered once: after a sell-out almost every request is
    one of these, and rendering the same dict thousands of times a second is waste."""

    rendered: bytes


@functools.lru_cache(maxsize=256)
def error_answer(code: Code, detail: str) -> Answer:
    """The answer for a refusal; equal arguments give the same (shared, never mutated)
    answer. Bounded: details vary only with a sale's limit or its last few units."""
    from livebase.http_errors import HTTP_STATUS

    answer = Refusal((HTTP_STATUS[code], {"error": str(code), "detail": detail}))
    # The bytes Starlette's JSONResponse would send for the same content.
    answer.rendered = json.dumps(
        answer[1], ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode()
    return answer


def scope_of(sale_id: str) -> str:
    """Keys are per user and per sale: the same key on another sale is another request."""
    return idempotency.scope_of("POST", f"/api/v1/flash-sales/{sale_id}/orders")


@dataclass(frozen=True)
class SaleInfo:
    id: str
    show_id: str
    sku_id: str
    org_id: str
    base_id: str
    price_fen: int
    per_buyer_limit: int
    product_id: str
    title: str
    attrs: dict[str, Any]
    quantity: int | None = None
    ends_at: datetime | None = None


@dataclass
class Ask:
    """One accepted request waiting for its batch."""

    buyer_id: str
    key: str
    digest: bytes
    quantity: int
    address_id: str | None
    pickup_counter_id: str | None
    future: asyncio.Future[Answer]
    # "张**" for the room's purchase frame (masked when the request is decided).
    buyer: str = "**"


@dataclass
class _Key:
    digest: bytes
    future: asyncio.Future[Answer] | None = None
    answer: Answer | None = None


@dataclass
class BatchResult:
    answers: list[Answer | None]  # None: rejected for stock/limit/status, see `refused`
    refused: dict[int, Code] = field(default_factory=dict)
    status: str | None = None  # the sale's status and remaining after the batch
    remaining: int | None = None


class SaleOwner:
    def __init__(
        self,
        owners: FlashOwners,
        info: SaleInfo,
        status: str,
        remaining: int,
        bought: dict[str, int],
        keys: dict[tuple[str, str], _Key],
    ) -> None:
        self._owners = owners
        self.info = info
        self.status = status
        self.remaining = remaining
        self.bought = bought
        self.keys = keys
        self.pending: list[Ask] = []
        self._in_flight = 0
        self._slots = asyncio.Semaphore(DEPTH.get(owners.rt.engine.dialect.name, 1))
        # The lowest ``remaining`` a batch saw while others were in flight: the latest
        # value the database held (only sales lower it; returns are found by the refresh).
        self._seen_remaining: int | None = None
        self._wake = asyncio.Event()
        self._checked = time.monotonic()
        self._refreshing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._task = asyncio.get_running_loop().create_task(self._run())

    # -- deciding (synchronous: nothing can interleave between check and reserve) -----

    def submit(
        self,
        buyer_id: str,
        key: str,
        digest: bytes,
        quantity: int,
        address_id: str | None,
        pickup_counter_id: str | None,
        buyer_name: str = "",
    ) -> Answer | asyncio.Future[Answer]:
        seen = self.keys.get((buyer_id, key))
        if seen is not None:
            if seen.digest != digest:
                return error_answer(
                    Code.IDEMPOTENCY_CONFLICT, "This Idempotency-Key was used with another body."
                )
            if seen.answer is not None:
                return seen.answer
            assert_future = seen.future
            if assert_future is not None:
                return assert_future
        if self.status != "open":
            if self.status == "sold_out":
                return error_answer(Code.SOLD_OUT, "The sale is sold out.")
            return error_answer(Code.NOT_OPEN, "The sale is not open.")
        limit = self.info.per_buyer_limit
        if self.bought.get(buyer_id, 0) + quantity > limit:
            return error_answer(Code.LIMIT_EXCEEDED, f"At most {limit} per buyer in this sale.")
        if self.remaining < quantity:
            self._maybe_refresh_remaining()
            if self.remaining == 0:
                return error_answer(Code.SOLD_OUT, "The sale is sold out.")
            return error_answer(Code.SOLD_OUT, f"Only {self.remaining} left.")
        self.remaining -= quantity
        self.bought[buyer_id] = self.bought.get(buyer_id, 0) + quantity
        fut: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self.keys[(buyer_id, key)] = _Key(digest, future=fut)
        self.pending.append(
            Ask(
                buyer_id,
                key,
                digest,
                quantity,
                address_id,
                pickup_counter_id,
                fut,
                frames.mask_name(buyer_name),
            )
        )
        self._wake.set()
        return fut

    def stale_status(self) -> bool:
        return self.status != "open" and time.monotonic() - self._checked > STATUS_REFRESH_S

    async def refresh_status(self) -> None:
        status, remaining = await self._owners.read_state(self.info.id)
        self._checked = time.monotonic()
        if self._in_flight or self.pending:
            self.status = status
            return
        self.status, self.remaining = status, remaining

    def note_status(self, status: str) -> None:
        """The sale's status changed on this node (open/close routes)."""
        self.status = status
        self._checked = time.monotonic()
        if status == "closed":
            self.remaining = 0

    def _maybe_refresh_remaining(self) -> None:
        if self._refreshing or self._in_flight or self.pending:
            return
        if time.monotonic() - self._checked < REMAINING_REFRESH_S:
            return
        self._refreshing = True
        self._checked = time.monotonic()

        async def _refresh() -> None:
            try:
                status, remaining = await self._owners.read_state(self.info.id)
                if not self._in_flight and not self.pending:
                    self.status, self.remaining = status, remaining
            finally:
                self._refreshing = False

        task = asyncio.get_running_loop().create_task(_refresh())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- writing ---------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(COLLECT_S)
            while self.pending:
                # Requests keep gathering while every slot is taken.
                await self._slots.acquire()
                if not self.pending:
                    self._slots.release()
                    break
                batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
                self._in_flight += 1
                task = asyncio.get_running_loop().create_task(self._write(batch))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _write(self, batch: list[Ask]) -> None:
        loop = asyncio.get_running_loop()
        try:
            # A batch is one admitted database request (livebase.admission).
            async with self._owners.rt.admission.slot():
                result = await loop.run_in_executor(
                    self._owners.executor, write_batch, self._owners.rt, self.info, batch
                )
        except Overloaded as exc:
            result = BatchResult([(503, exc.body())] * len(batch))
        except Exception:
            log.exception("flash sale batch failed", sale_id=self.info.id, n=len(batch))
            result = BatchResult(
                [error_answer(Code.INTERNAL_ERROR, "The order could not be written.")] * len(batch)
            )
        finally:
            self._in_flight -= 1
            self._slots.release()
        self._apply(batch, result)

    def _apply(self, batch: list[Ask], result: BatchResult) -> None:
        for i, ask in enumerate(batch):
            answer = result.answers[i]
            refused = result.refused.get(i)
            if refused is not None or answer is None or answer[0] != 201:
                # Nothing of it was written: its units and its key are free again.
                self.bought[ask.buyer_id] = self.bought.get(ask.buyer_id, 0) - ask.quantity
                if result.remaining is None:
                    self.remaining += ask.quantity
                if refused is not None:
                    answer = error_answer(refused, REFUSAL_DETAIL[refused])
                if answer is None:  # a refusal always names its reason; never send nothing
                    answer = error_answer(Code.INTERNAL_ERROR, "The order could not be written.")
                entry = self.keys.get((ask.buyer_id, ask.key))
                replayed = answer[0] == 201  # a key taken before this node knew of it
                if entry is not None and not replayed:
                    del self.keys[(ask.buyer_id, ask.key)]
                elif entry is not None:
                    entry.answer, entry.future = answer, None
            else:
                entry = self.keys[(ask.buyer_id, ask.key)]
                entry.answer, entry.future = answer, None
            if not ask.future.done():
                ask.future.set_result(answer)
        if result.remaining is not None:
            seen = self._seen_remaining
            self._seen_remaining = result.remaining if seen is None else min(seen, result.remaining)
        if self._in_flight == 0 and self._seen_remaining is not None:
            # What the database holds now, less what was reserved here since the batches
            # left (with one in flight, its reservations are not in the figure yet).
            self.remaining = self._seen_remaining - sum(a.quantity for a in self.pending)
            self._seen_remaining = None
        if result.status is not None:
            self.status = "open" if result.status == "sold_out" else result.status
            self._checked = time.monotonic()


REFUSAL_DETAIL = {
    Code.SOLD_OUT: "The sale is sold out.",
    Code.LIMIT_EXCEEDED: "The per-buyer limit of this sale is reached.",
    Code.NOT_OPEN: "The sale is not open.",
}


# -- the batch transaction (a worker thread) -----------------------------------------


def _dialect_insert(db: Session, table: Any) -> Any:
    return (postgresql if db.get_bind().dialect.name == "postgresql" else sqlite).insert(table)


def _durable(db: Session) -> None:
    """Make this transaction's commit durable before it returns: on SQLite ``synchronous=
    FULL`` (WAL with NORMAL may lose the last commits on power loss), on PostgreSQL
    ``synchronous_commit`` on whatever the server's default says."""
    conn = db.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA synchronous=FULL")
    else:
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO on")


def _relax(db: Session) -> None:
    conn = db.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA synchronous=NORMAL")  # the pool's default again
    db.rollback()


def _destinations(db: Session, info: SaleInfo, batch: list[Ask]) -> dict[int, Any]:
    """Each ask's ``ship_to`` (None for a pickup counter), or an Answer when invalid."""
    out: dict[int, Any] = {}
    ids = {a.address_id for a in batch if a.address_id}
    # Columns, not ORM objects: a batch reads up to 500 addresses, and building an ORM
    # instance per row was a seventh of the batch's time, holding the GIL.
    columns = [getattr(Address, k) for k in SHIP_TO_FIELDS]
    query = select(Address.id, Address.user_id, *columns).where(Address.id.in_(ids))
    rows = {r[0]: r for r in db.execute(query)} if ids else {}
    counters: dict[str, bool] = {}
    for i, a in enumerate(batch):
        if a.address_id:
            adr = rows.get(a.address_id)
            if adr is None or adr[1] != a.buyer_id:
                out[i] = _fielderror_answer("body.address_id", "No address of yours with this id.")
            else:
                out[i] = dict(zip(SHIP_TO_FIELDS, adr[2:], strict=True))
        else:
            cid = a.pickup_counter_id or ""
            if cid not in counters:
                try:
                    counters[cid] = bases.get_pickup_counter(db, cid).base_id == info.base_id
                except ApiError:
                    counters[cid] = False
            out[i] = (
                None
                if counters[cid]
                else _fielderror_answer("body.pickup_counter_id", "No pickup counter of this base.")
            )
    return out


def _fielderror_answer(loc: str, msg: str) -> Answer:
    return 422, {"error": "validation_failed", "detail": msg, "fields": [{"loc": loc, "msg": msg}]}


def write_batch(
    rt: Runtime, info: SaleInfo, batch: list[Ask], *, lock_first: bool = False
) -> BatchResult:
    """Write every ask that the database still allows, in one transaction; retry without
    the ones it refused (rare: only when this node's memory was behind). ``lock_first``
    (the bench's B1 baseline) reads the sale row ``FOR UPDATE`` before anything else."""
    result = BatchResult([None] * len(batch))
    with rt.sessions() as db:
        _durable(db)
        dest = _destinations(db, info, batch)
        live = []
        for i in range(len(batch)):
            if isinstance(dest[i], tuple):
                result.answers[i] = dest[i]
            else:
                live.append(i)
        dups: list[int] = []
        while live:
            refused, taken = _attempt(db, info, batch, live, dest, result, lock_first)
            if refused is None:
                db.commit()
                break
            db.rollback()
            _durable(db)
            result.refused.update(refused)
            dups.extend(taken)
            live = [i for i in live if i not in refused and i not in taken]
        if not live and result.status is None:
            row = db.execute(
                select(FlashSale.status, FlashSale.remaining).where(FlashSale.id == info.id)
            ).one()
            result.status, result.remaining = row.status, row.remaining
        for i in dups:
            result.answers[i] = _replay(db, info, batch[i])
        _relax(db)
    return result


def _replay(db: Session, info: SaleInfo, ask: Ask) -> Answer:
    try:
        found = idempotency.find(db, ask.buyer_id, scope_of(info.id), ask.key, ask.digest)
    except ApiError as exc:
        return 409, exc.body()
    if found is None:  # taken and gone again (expired): refuse rather than guess
        return error_answer(Code.CONFLICT, "Retry with a new Idempotency-Key.")
    return found.status_code, found.response


def _attempt(
    db: Session,
    info: SaleInfo,
    batch: list[Ask],
    live: list[int],
    dest: dict[int, Any],
    result: BatchResult,
    lock_first: bool = False,
) -> tuple[dict[int, Code] | None, list[int]]:
    if lock_first:
        row = db.execute(
            select(FlashSale.status, FlashSale.remaining)
            .where(FlashSale.id == info.id)
            .with_for_update()
        ).one()
        need = sum(batch[i].quantity for i in live)
        if row.status != "open" or row.remaining < need:
            result.status, result.remaining = row.status, row.remaining
            code = Code.NOT_OPEN if row.status not in ("open", "sold_out") else Code.SOLD_OUT
            return {i: code for i in live}, []
    now = utcnow()
    pay_by = now + PAY_WINDOW
    orders = {
        i: NewOrder(
            id=new_id("ord"),
            buyer_id=batch[i].buyer_id,
            org_id=info.org_id,
            base_id=info.base_id,
            show_id=info.show_id,
            flash_sale_id=info.id,
            sku_id=info.sku_id,
            product_id=info.product_id,
            title=info.title,
            attrs=info.attrs,
            unit_price_fen=info.price_fen,
            quantity=batch[i].quantity,
            total_fen=info.price_fen * batch[i].quantity,
            pay_by=pay_by,
            address_id=batch[i].address_id,
            pickup_counter_id=None if batch[i].address_id else batch[i].pickup_counter_id,
            ship_to=dest[i],
        )
        for i in live
    }
    bodies = {i: new_order_view(o) for i, o in orders.items()}
    if db.get_bind().dialect.name == "postgresql":
        return pg_attempt(db, info, batch, live, orders, bodies, result, now)
    scope = scope_of(info.id)
    # 1. The idempotency keys: one taken before (another node, a previous life of this
    #    one) is answered with its first response instead.
    taken_rows = db.execute(
        _dialect_insert(db, IdempotencyRecord)
        .values(
            [
                {
                    "user_id": batch[i].buyer_id,
                    "scope": scope,
                    "key": batch[i].key,
                    "body_sha256": batch[i].digest,
                    "status_code": 201,
                    "response": bodies[i],
                    "created_at": now,
                }
                for i in live
            ]
        )
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.user_id, IdempotencyRecord.key)
    ).all()
    got = {(r.user_id, r.key) for r in taken_rows}
    dups = [i for i in live if (batch[i].buyer_id, batch[i].key) not in got]
    if dups:
        return {}, dups
    # 2. The units: one conditional update for the whole batch.
    k = sum(batch[i].quantity for i in live)
    after = db.execute(
        update(FlashSale)
        .where(FlashSale.id == info.id, FlashSale.status == "open", FlashSale.remaining >= k)
        .values(
            remaining=FlashSale.remaining - k,
            status=_sold_out_when_zero(k),
        )
        .returning(FlashSale.status, FlashSale.remaining)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if after is None:
        row = db.execute(
            select(FlashSale.status, FlashSale.remaining).where(FlashSale.id == info.id)
        ).one()
        result.status, result.remaining = row.status, row.remaining
        if row.status != "open":
            code = Code.SOLD_OUT if row.status == "sold_out" else Code.NOT_OPEN
            return {i: code for i in live}, []
        refused: dict[int, Code] = {}
        left = row.remaining
        for i in live:
            if batch[i].quantity <= left:
                left -= batch[i].quantity
            else:
                refused[i] = Code.SOLD_OUT
        return refused, []
    result.status, result.remaining = after.status, after.remaining
    # 3. The per-buyer limit, checked by the database too (two nodes, one buyer).
    per_buyer: dict[str, int] = {}
    for i in live:
        per_buyer[batch[i].buyer_id] = per_buyer.get(batch[i].buyer_id, 0) + batch[i].quantity
    ins = _dialect_insert(db, FlashSaleBuyer).values(
        [{"sale_id": info.id, "buyer_id": b, "units": u} for b, u in per_buyer.items()]
    )
    ok = db.execute(
        ins.on_conflict_do_update(
            index_elements=["sale_id", "buyer_id"],
            set_={"units": FlashSaleBuyer.units + ins.excluded.units},
            where=FlashSaleBuyer.units + ins.excluded.units <= info.per_buyer_limit,
        ).returning(FlashSaleBuyer.buyer_id)
    ).all()
    allowed = {r.buyer_id for r in ok}
    over = {i: Code.LIMIT_EXCEEDED for i in live if batch[i].buyer_id not in allowed}
    if over:
        result.status = result.remaining = None
        return over, []
    # 4. The orders, their lines and first transitions: multi-row inserts.
    do_insert_orders_batch(db, [orders[i] for i in live])
    for i in live:
        result.answers[i] = (201, bodies[i])
    _notify_batch(db, info, [batch[i] for i in live], after.status, after.remaining)
    return None, []


# -- PostgreSQL: the same four steps as fixed statements over arrays, orders by COPY --
#
# The portable path above builds multi-row VALUES statements whose text changes with the
# batch size: SQLAlchemy compiles and psycopg parses each new size again, and that client
# work (measured with py-spy: two thirds of the writer thread) holds the GIL against the
# event loop. Here every statement's text is fixed (arrays through ``unnest``), so psycopg
# prepares it once per connection, and the orders, lines and transitions go in by COPY.

_PG_KEYS = (
    "INSERT INTO idempotency_records"
    " (user_id, scope, key, body_sha256, status_code, response, created_at)"
    " SELECT u, %s, k, decode(d, 'hex'), 201, r, %s"
    " FROM json_to_recordset(%s::json) AS t(u text, k text, d text, r json)"
    " ON CONFLICT DO NOTHING RETURNING user_id, key"
)
_PG_UNITS = (
    "UPDATE flash_sales SET remaining = remaining - %(k)s,"
    " status = CASE WHEN remaining - %(k)s = 0 THEN 'sold_out' ELSE status END"
    " WHERE id = %(id)s AND status = 'open' AND remaining >= %(k)s"
    " RETURNING status, remaining"
)
_PG_BUYERS = (
    "INSERT INTO flash_sale_buyers (sale_id, buyer_id, units)"
    " SELECT %(sale)s, b, u FROM json_to_recordset(%(rows)s::json) AS t(b text, u int)"
    " ON CONFLICT (sale_id, buyer_id) DO UPDATE"
    " SET units = flash_sale_buyers.units + excluded.units"
    " WHERE flash_sale_buyers.units + excluded.units <= %(limit)s"
    " RETURNING buyer_id"
)
# Rows as arrays ([order, line, transition, buyer, quantity, address, counter, ship_to]):
# orjson writes them in C, where COPY formatted 17 columns a row in psycopg (py-spy: the
# writer thread's largest cost after the collector was tuned). One statement: the
# foreign keys of lines and transitions are checked at its end, after the orders' insert.
_PG_ORDERS = (
    "WITH t AS (SELECT r->>0 AS o, r->>1 AS l, r->>2 AS x, r->>3 AS b, (r->>4)::int AS q,"
    " r->>5 AS a, r->>6 AS p, r->7 AS s FROM json_array_elements(%(rows)s::json) AS r),"
    " ins_o AS (INSERT INTO orders (id, buyer_id, org_id, base_id, show_id, flash_sale_id,"
    " status, goods_fen, discount_fen, freight_fen, total_fen, address_id, pickup_counter_id,"
    " ship_to, pay_by, created_at, updated_at)"
    " SELECT o, b, %(org)s, %(base)s, %(show)s, %(sale)s, 'pending_payment', %(price)s * q, 0,"
    " 0, %(price)s * q, a, p, CASE WHEN json_typeof(s) = 'null' THEN NULL ELSE s END,"
    " %(pay_by)s, %(now)s, %(now)s FROM t),"
    " ins_l AS (INSERT INTO order_lines (id, order_id, sku_id, product_id, title, attrs,"
    " unit_price_fen, quantity, line_total_fen)"
    " SELECT l, o, %(sku)s, %(product)s, %(title)s, %(attrs)s::json, %(price)s, q,"
    " %(price)s * q FROM t)"
    " INSERT INTO order_transitions (id, order_id, from_status, to_status, actor, at)"
    " SELECT x, o, NULL, 'pending_payment', b, %(now)s FROM t"
)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def pg_attempt(
    db: Session,
    info: SaleInfo,
    batch: list[Ask],
    live: list[int],
    orders: dict[int, NewOrder],
    bodies: dict[int, dict[str, Any]],
    result: BatchResult,
    now: datetime,
) -> tuple[dict[int, Code] | None, list[int]]:
    """:func:`_attempt` on PostgreSQL, in the session's transaction (its raw connection)."""
    raw = db.connection().connection.driver_connection
    if raw is None:  # a pool connection always has its driver's; never seen
        raise RuntimeError("no driver connection")
    with raw.cursor() as cur:
        # 1. The idempotency keys.
        cur.execute(
            _PG_KEYS,
            (
                scope_of(info.id),
                now,
                # One JSON document rather than four arrays: psycopg quotes an array
                # element by element in Python (about 12 ms for 500 rows), orjson and
                # PostgreSQL's json_to_recordset do the same work in C.
                orjson.dumps(
                    [
                        {
                            "u": batch[i].buyer_id,
                            "k": batch[i].key,
                            "d": batch[i].digest.hex(),
                            "r": bodies[i],
                        }
                        # In key order, like the buyers below: two transactions that
                        # share rows take them in the same order and cannot deadlock.
                        for i in sorted(live, key=lambda i: (batch[i].buyer_id, batch[i].key))
                    ]
                ).decode(),
            ),
        )
        got = set(cur.fetchall())
        dups = [i for i in live if (batch[i].buyer_id, batch[i].key) not in got]
        if dups:
            return {}, dups
        # 2. The per-buyer limit.
        per_buyer: dict[str, int] = {}
        for i in live:
            per_buyer[batch[i].buyer_id] = per_buyer.get(batch[i].buyer_id, 0) + batch[i].quantity
        cur.execute(
            _PG_BUYERS,
            {
                "sale": info.id,
                "rows": orjson.dumps(
                    [{"b": b, "u": u} for b, u in sorted(per_buyer.items())]
                ).decode(),
                "limit": info.per_buyer_limit,
            },
        )
        allowed = {row[0] for row in cur.fetchall()}
        over = {i: Code.LIMIT_EXCEEDED for i in live if batch[i].buyer_id not in allowed}
        if over:
            result.status = result.remaining = None
            return over, []
        # 3. The orders, their lines and first transitions: one statement over one JSON
        #    document of what differs per order (everything else is the sale's).
        first = orders[live[0]]
        cur.execute(
            _PG_ORDERS,
            {
                "rows": orjson.dumps(
                    [
                        (
                            o.id, o.line_id, new_id("otr"), o.buyer_id, o.quantity,
                            o.address_id, o.pickup_counter_id, o.ship_to,
                        )
                        for o in (orders[i] for i in live)
                    ]
                ).decode(),
                "org": info.org_id, "base": info.base_id, "show": info.show_id,
                "sale": info.id, "sku": info.sku_id, "product": info.product_id,
                "title": info.title, "attrs": _json(info.attrs), "price": info.price_fen,
                "pay_by": first.pay_by, "now": now,
            },
        )  # fmt: skip
        # 4. The units, last: the sale row stays locked from here to COMMIT, so a second
        #    batch of the sale (DEPTH) waits only for that, not for this one's inserts.
        k = sum(batch[i].quantity for i in live)
        cur.execute(_PG_UNITS, {"k": k, "id": info.id})
        after = cur.fetchone()
        if after is None:
            cur.execute("SELECT status, remaining FROM flash_sales WHERE id = %s", (info.id,))
            status, remaining = cur.fetchone()
            result.status, result.remaining = status, remaining
            if status != "open":
                code = Code.SOLD_OUT if status == "sold_out" else Code.NOT_OPEN
                return {i: code for i in live}, []
            refused: dict[int, Code] = {}
            for i in live:
                if batch[i].quantity <= remaining:
                    remaining -= batch[i].quantity
                else:
                    refused[i] = Code.SOLD_OUT
            return refused, []
        result.status, result.remaining = after
    for i in live:
        result.answers[i] = (201, bodies[i])
    _notify_batch(db, info, [batch[i] for i in live], after[0], after[1])
    return None, []


def _notify_batch(
    db: Session, info: SaleInfo, asks: list[Ask], status: str, remaining: int
) -> None:
    """The room hears of a written batch once: a ``purchase`` frame with its latest
    buyers, the ``sale`` state with the remaining units, and ``sold_out`` when this batch
    took the last one. Queued on the batch's transaction, so a rolled-back attempt sends
    nothing."""
    frames.notify(
        db,
        frames.Purchase(
            show_id=info.show_id,
            items=[
                frames.PurchaseItem(
                    sku_id=info.sku_id, title=info.title, quantity=a.quantity, buyer=a.buyer
                )
                for a in asks[-PURCHASE_ITEMS:]
            ],
        ),
    )
    frames.notify(
        db, frames.SaleState(show_id=info.show_id, id=info.id, status=status, remaining=remaining)
    )
    if status == "sold_out":
        frames.notify(
            db,
            frames.SoldOut(
                show_id=info.show_id,
                id=info.id,
                sku_id=info.sku_id,
                status=status,
                price_fen=info.price_fen,
                remaining=remaining,
                quantity=info.quantity,
                per_buyer_limit=info.per_buyer_limit,
                ends_at=info.ends_at,
            ),
        )


def _sold_out_when_zero(k: int) -> Any:
    from sqlalchemy import case

    return case((FlashSale.remaining - k == 0, "sold_out"), else_=FlashSale.status)


# -- the owners of one app process ---------------------------------------------------


class FlashOwners:
    """This process's sale owners, created on first use on the app's event loop."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        # Batches of different sales write in parallel; one sale has DEPTH in flight.
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="flash-writer")
        self._owners: dict[str, SaleOwner] = {}
        self._loading: dict[str, asyncio.Future[SaleOwner | None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self, sale_id: str) -> SaleOwner | None:
        owner = self._owners.get(sale_id)
        if owner is not None:
            return owner
        pending = self._loading.get(sale_id)
        if pending is not None:
            return await pending
        loop = asyncio.get_running_loop()
        self._loop = loop
        fut: asyncio.Future[SaleOwner | None] = loop.create_future()
        self._loading[sale_id] = fut
        try:
            async with self.rt.admission.slot():
                loaded = await loop.run_in_executor(self.executor, self._load, sale_id)
            owner = None if loaded is None else SaleOwner(self, *loaded)
            if owner is not None:
                self._owners[sale_id] = owner
            fut.set_result(owner)
            return owner
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()
            raise
        finally:
            self._loading.pop(sale_id, None)

    def _load(self, sale_id: str) -> tuple[Any, ...] | None:
        with self.rt.sessions() as db:
            sale = db.get(FlashSale, sale_id)
            if sale is None:
                return None
            view = catalog.sku_views(db, [sale.sku_id])[sale.sku_id]
            info = SaleInfo(
                sale.id,
                sale.show_id,
                sale.sku_id,
                sale.org_id,
                sale.base_id,
                sale.price_fen,
                sale.per_buyer_limit,
                view.product_id,
                view.title,
                dict(view.attrs),
                sale.quantity,
                sale.ends_at,
            )
            bought = dict(
                db.execute(
                    select(FlashSaleBuyer.buyer_id, FlashSaleBuyer.units).where(
                        FlashSaleBuyer.sale_id == sale_id
                    )
                ).all()
            )
            keys = {
                (r.user_id, r.key): _Key(r.body_sha256, answer=(r.status_code, r.response))
                for r in db.scalars(
                    select(IdempotencyRecord).where(IdempotencyRecord.scope == scope_of(sale_id))
                )
            }
            status = "open" if sale.status == "sold_out" else sale.status
            return info, status, sale.remaining, bought, keys

    async def read_state(self, sale_id: str) -> tuple[str, int]:
        def _read() -> tuple[str, int]:
            with self.rt.sessions() as db:
                row = db.execute(
                    select(FlashSale.status, FlashSale.remaining).where(FlashSale.id == sale_id)
                ).one()
                return ("open" if row.status == "sold_out" else row.status), row.remaining

        async with self.rt.admission.slot():
            return await asyncio.get_running_loop().run_in_executor(self.executor, _read)

    def note_status(self, sale_id: str, status: str) -> None:
        """Called from any thread after a commit that opened or closed a sale here."""
        loop = self._loop
        if loop is None or sale_id not in self._owners:
            return
        owner = self._owners[sale_id]
        loop.call_soon_threadsafe(owner.note_status, status)


def _build(rt: Runtime) -> FlashOwners:
    return FlashOwners(rt)


FLASH_OWNERS: Part[FlashOwners] = Part("orders.flash_owners", _build)
