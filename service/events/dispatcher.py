"""Delivers webhook rows at least once, in the background of each service process.

Each delivery is claimed with `FOR UPDATE SKIP LOCKED` inside a transaction that stays
open while the POST is made, so several processes share the work without sending the
same delivery at once, and a process that dies mid-way leaves the row pending: its lock
goes with the connection and another attempt follows. Failures are retried with
exponential backoff and jitter, then dead-lettered (status `dead`, logged and counted in
the metrics; the row keeps the last status code and error).

Delivery is at least once: a process killed after the receiver answered but before its
commit leaves the row pending, and the next attempt sends the same event again (the same
`id` in the body, another `X-Nanyue-Delivery` attempt). Receivers deduplicate by the
event's `id`.

The dispatcher hears each committed event through LISTEN on its own connection. When that
connection is lost (a PostgreSQL restart), it polls every `poll_seconds` and connects the
listener again with backoff (1 s doubling to 30 s), logging each loss and recovery; its
state is in `/ready` and in the metrics. Retries wake it when they fall due, not at the
next poll.

Receivers verify `X-Nanyue-Signature: v1=<hex>`, the HMAC-SHA256 with their secret over
`"<X-Nanyue-Timestamp>." + body`, and should refuse stale timestamps.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
from datetime import datetime, timedelta, timezone

import asyncpg
import httpx
from piccolo.engine.postgres import PostgresEngine
from prometheus_client import Counter, Gauge

from service.database import jsonb
from service.events.services import (
    NOTIFY_CHANNEL,
    SECRET_PURPOSE,
    Resolver,
    UnsafeUrl,
    check_outbound_url,
    pinned,
)
from service.security import IdNumberCipher

log = logging.getLogger(__name__)

LISTENING = Gauge("nanyue_webhook_listening", "1 while the webhook dispatcher hears events through LISTEN")
RECONNECTS = Counter("nanyue_webhook_listener_reconnects", "Times the webhook dispatcher connected LISTEN again")
DEAD_LETTERS = Counter("nanyue_webhook_dead_letters", "Webhook deliveries given up after their last attempt")
DELIVERED = Counter("nanyue_webhook_deliveries", "Webhook delivery attempts by outcome", ["outcome"])

_NEXT_DUE = "SELECT min(next_attempt_at) FROM webhook_delivery WHERE status = 'pending'"

_CLAIM = """
    SELECT d.id, d.attempts, d.event AS event_id, e.type, e.payload, e.created_at,
           s.url, s.secret_encrypted, s.agency, s.active
    FROM webhook_delivery d
    JOIN event e ON e.id = d.event
    JOIN webhook_subscription s ON s.id = d.subscription
    WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND s.active
    ORDER BY d.next_attempt_at, d.id
    LIMIT 1
    FOR UPDATE OF d SKIP LOCKED
"""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Exponential backoff with full jitter around its middle: base·2^(n-1), ±50 %."""
    return min(cap, base * 2 ** (attempts - 1)) * random.uniform(0.5, 1.5)


class DispatcherState:
    """What `/ready` says about the dispatcher of this process."""

    def __init__(self) -> None:
        self.running = False
        self.listening = False
        self.reconnects = 0
        self.last_error = ""


class WebhookDispatcher:
    def __init__(
        self,
        engine: PostgresEngine,
        http: httpx.AsyncClient,
        cipher: IdNumberCipher,
        *,
        max_attempts: int = 8,
        backoff_base: float = 30.0,
        backoff_cap: float = 3600.0,
        allow_private: bool = False,
        poll_seconds: float = 5.0,
        concurrency: int = 4,
        resolve: Resolver | None = None,
    ) -> None:
        self.engine, self.http, self.cipher = engine, http, cipher
        self.max_attempts, self.backoff_base, self.backoff_cap = max_attempts, backoff_base, backoff_cap
        self.allow_private, self.poll_seconds = allow_private, poll_seconds
        # Every delivery resolves the host again and checks every answer (DNS rebinding).
        self.resolve = resolve
        # Deliveries in flight at once (each holds a pool connection), so one slow
        # receiver does not hold up every other agency's events.
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self.state = DispatcherState()
        self._listener: asyncpg.Connection | None = None
        # Seconds before the next attempt to connect the listener, and when it is due.
        self.listen_backoff_min, self.listen_backoff_max = 1.0, 30.0
        self._listen_backoff = 0.0
        self._listen_at = 0.0

    async def run(self) -> None:
        """Deliver until cancelled; woken by NOTIFY at each committed event, when a retry
        falls due, or by the poll."""
        self.state.running = True
        try:
            while True:
                await self.ensure_listening()
                rounds = await asyncio.gather(
                    *(self.deliver_due() for _ in range(self.concurrency)), return_exceptions=True
                )
                failures = {type(r).__name__ for r in rounds if isinstance(r, BaseException)}
                if failures:
                    log.error("webhook delivery round failed (%s); retrying", ", ".join(sorted(failures)))
                pause = await self._pause()  # before the wait's coroutine exists: a cancel here leaves none behind
                try:  # asyncio.timeout: on 3.11 wait_for can swallow a cancellation
                    async with asyncio.timeout(pause):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            self.state.running = self.state.listening = False
            LISTENING.set(0)
            await self._drop_listener()

    async def ensure_listening(self) -> bool:
        """Connect the listener if it is not connected and its backoff has passed."""
        if self._listener is not None and not self._listener.is_closed():
            return True
        if self._listener is not None:
            await self._drop_listener()
            self._lost("connection closed")
        if time.monotonic() < self._listen_at:
            return False
        try:
            listener = await self.engine.get_new_connection()
            await listener.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            listener.add_termination_listener(lambda *_: self._wake.set())
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncio.TimeoutError) as exc:
            self._lost(f"{type(exc).__name__}: {exc}"[:200])
            return False
        if self.state.reconnects or self.state.last_error:
            log.warning("webhook dispatcher listens again (reconnect %d)", self.state.reconnects + 1)
            self.state.reconnects += 1
            RECONNECTS.inc()
        self._listener = listener
        self._listen_backoff = 0.0
        self.state.listening = True
        self.state.last_error = ""
        LISTENING.set(1)
        return True

    def _lost(self, error: str) -> None:
        self._listen_backoff = min(self.listen_backoff_max, max(self.listen_backoff_min, self._listen_backoff * 2))
        self._listen_at = time.monotonic() + self._listen_backoff
        if self.state.listening or not self.state.last_error:
            log.error(
                "webhook dispatcher lost LISTEN (%s); polling every %.0f s, reconnecting with backoff",
                error,
                self.poll_seconds,
            )
        self.state.listening = False
        self.state.last_error = error
        LISTENING.set(0)

    async def _drop_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                await asyncio.wait_for(listener.close(), timeout=1.0)
            except Exception:  # noqa: BLE001 - already gone
                listener.terminate()

    async def _pause(self) -> float:
        """Seconds to wait for a NOTIFY: until the next retry falls due, at most the poll;
        while not listening, at most until the listener's next attempt."""
        pause = self.poll_seconds
        if not self.state.listening:
            pause = min(pause, max(self._listen_at - time.monotonic(), 0.05))
        try:
            due = await self.engine.pool.fetchval(_NEXT_DUE) if self.engine.pool else None
        except Exception:  # noqa: BLE001 - the database is away; poll
            return pause
        if due is not None:
            pause = min(pause, max((due - datetime.now(timezone.utc)).total_seconds(), 0.0) + 0.01)
        return pause

    async def deliver_due(self, limit: int = 100) -> int:
        delivered = 0
        while delivered < limit and await self.deliver_one():
            delivered += 1
        return delivered

    async def deliver_one(self) -> bool:
        pool = self.engine.pool
        if pool is None:
            raise RuntimeError("the engine's connection pool is not started")
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_CLAIM)
            if row is None:
                return False
            attempts = row["attempts"] + 1
            try:
                status_code, error = await self._post(row)
            except Exception as exc:  # noqa: BLE001 - one bad delivery must not stop the others
                log.exception("webhook delivery %s failed unexpectedly", row["id"])
                status_code, error = None, f"{type(exc).__name__}"
            now = datetime.now(timezone.utc)
            if status_code is not None and 200 <= status_code < 300:
                DELIVERED.labels("delivered").inc()
                await conn.execute(
                    "UPDATE webhook_delivery SET status = 'delivered', attempts = $2, last_status_code = $3, "
                    "last_error = '', delivered_at = $4 WHERE id = $1",
                    row["id"],
                    attempts,
                    status_code,
                    now,
                )
            else:
                dead = attempts >= self.max_attempts
                DELIVERED.labels("dead" if dead else "retry").inc()
                if dead:
                    DEAD_LETTERS.inc()
                    log.warning(
                        "webhook delivery %s dead after %d attempts (last: %s %s)",
                        row["id"],
                        attempts,
                        status_code,
                        error[:100],
                    )
                retry_at = now + timedelta(
                    seconds=backoff_seconds(attempts, base=self.backoff_base, cap=self.backoff_cap)
                )
                await conn.execute(
                    "UPDATE webhook_delivery SET status = $2, attempts = $3, last_status_code = $4, last_error = $5, "
                    "next_attempt_at = $6 WHERE id = $1",
                    row["id"],
                    "dead" if dead else "pending",
                    attempts,
                    status_code,
                    error[:500],
                    retry_at,
                )
            return True

    async def _post(self, row: asyncpg.Record) -> tuple[int | None, str]:
        try:
            address = await check_outbound_url(row["url"], allow_private=self.allow_private, resolve=self.resolve)
        except UnsafeUrl as exc:
            return None, f"refused: {exc}"
        body = json.dumps(
            {
                "id": row["event_id"],
                "type": row["type"],
                "created_at": row["created_at"].isoformat(),
                "data": jsonb(row["payload"]),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Nanyue-Event": row["type"],
            "X-Nanyue-Delivery": str(row["id"]),
            "X-Nanyue-Timestamp": timestamp,
            "X-Nanyue-Signature": sign(self.cipher.decrypt(row["secret_encrypted"], SECRET_PURPOSE), timestamp, body),
        }
        try:
            url, host, extensions = pinned(row["url"], address)
            response = await self.http.post(
                url, content=body, headers=headers | host, timeout=10.0, extensions=extensions
            )
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, "" if response.is_success else response.text[:200]
