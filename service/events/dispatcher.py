"""Delivers webhook rows at least once, in the background of each service process.

Each delivery is claimed with `FOR UPDATE SKIP LOCKED` inside a transaction that stays
open while the POST is made, so several processes share the work without sending the
same delivery at once, and a process that dies mid-way leaves the row pending: its lock
goes with the connection and another attempt follows. Failures are retried with
exponential backoff and jitter, then dead-lettered.

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

    async def run(self) -> None:
        """Deliver until cancelled; woken by NOTIFY at each committed event, else by the poll."""
        listener = None
        try:
            listener = await self.engine.get_new_connection()
            await listener.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
        except (OSError, asyncpg.PostgresError):
            log.warning("webhook dispatcher runs without LISTEN; polling every %.0f s", self.poll_seconds)
        try:
            while True:
                rounds = await asyncio.gather(
                    *(self.deliver_due() for _ in range(self.concurrency)), return_exceptions=True
                )
                for failure in (r for r in rounds if isinstance(r, BaseException)):
                    log.error("webhook delivery round failed (%s); retrying", type(failure).__name__)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()
        finally:
            if listener is not None:
                await listener.close()

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
