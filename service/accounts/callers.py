"""Who a credential names, remembered for a few seconds in each process.

Reading the caller (the account behind a bearer token, the key and agency behind an
X-API-Key) was a database round trip on every API request. Each process now keeps the
principals it has read, for at most `CALLER_CACHE_SECONDS`, and forgets them all:

- at once, in the process that deactivates an account, changes a password, erases an
  account or revokes a key (`forget_callers()`, called by those services after their write);
- in every other process, when PostgreSQL tells it: triggers on `app_user`, `api_key` and
  `agency` send `NOTIFY nanyue_callers` when a column that decides a caller changes (and on
  DELETE and TRUNCATE); each process listens on its own connection;
- while that connection is down (or not yet up) nothing is remembered: every request reads
  its caller afresh, as before. "Up" means heard: before the cache is used, and every
  `CALLER_CACHE_SECONDS` after, the process sends a NOTIFY of its own on the channel and
  waits for it to come back (behind a transaction pooler LISTEN succeeds but nothing is
  ever delivered; such a connection never turns the cache on). Whatever happens, an entry is used for at most
  `CALLER_CACHE_SECONDS` after it was read.

A principal read while a change is being announced is not kept (the cache's generation
moved on between the read and the put), so a stale read cannot outlive the change.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections import OrderedDict
from typing import Any

import asyncpg

from service.accounts.guards import Principal

log = logging.getLogger(__name__)

CHANNEL = "nanyue_callers"
# How long a principal read from the database may be used without reading it again.
CALLER_CACHE_SECONDS = 5.0
# Principals kept per process (the least recently used go first).
CALLER_CACHE_SIZE = 10_000
_RECONNECT_SECONDS = (0.5, 30.0)
# The payload of the process's own round-trip NOTIFYs (the triggers send a table name).
PING_PREFIX = "ping:"

_caches: weakref.WeakSet[CallerCache] = weakref.WeakSet()


class CallerCache:
    def __init__(self, ttl: float = CALLER_CACHE_SECONDS, size: int = CALLER_CACHE_SIZE) -> None:
        self.ttl = ttl
        self.size = size
        # Entries are used only while the invalidation signal is heard.
        self.listening = False
        self.generation = 0
        # The signing secrets the remembered tokens were checked with (see `signed_with`).
        self._secrets: tuple[str, tuple[str, ...]] | None = None
        self._entries: OrderedDict[str, tuple[float, float | None, Principal]] = OrderedDict()
        _caches.add(self)

    def get(self, key: str) -> Principal | None:
        if not self.listening:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        fresh_until, expires_at, principal = entry
        if time.monotonic() >= fresh_until or (expires_at is not None and time.time() >= expires_at):
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return principal

    def put(self, key: str, principal: Principal, *, generation: int, expires_at: float | None = None) -> None:
        """Remember `principal`, read when the cache was at `generation` (dropped if a change
        was announced since); `expires_at` (epoch seconds) is the credential's own end."""
        if not self.listening or generation != self.generation or self.ttl <= 0:
            return
        self._entries[key] = (time.monotonic() + self.ttl, expires_at, principal)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def signed_with(self, secret: str, old_secrets: tuple[str, ...]) -> None:
        """Forget every caller when the secrets that verify tokens change (a secret dropped
        from OLD_SECRET_KEYS must refuse its tokens at once)."""
        if self._secrets != (secret, old_secrets):
            self._secrets = (secret, old_secrets)
            self.clear()

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    async def listen(self, engine: Any) -> None:
        """Hear `NOTIFY nanyue_callers` until cancelled, reconnecting with backoff; the
        cache is used only while a NOTIFY of its own has come back on the connection
        (checked again every `ttl` seconds), and emptied whenever the connection changes."""
        backoff = 0.0
        while True:
            connection = None
            try:
                connection = await engine.get_new_connection()
                closed = asyncio.Event()
                pings: dict[str, asyncio.Event] = {}

                def heard(_connection: Any, _pid: int, _channel: str, payload: str, pings=pings) -> None:
                    if payload.startswith(PING_PREFIX):
                        if (event := pings.get(payload)) is not None:
                            event.set()
                        return
                    self.clear()

                await connection.add_listener(CHANNEL, heard)
                connection.add_termination_listener(lambda *_, closed=closed: closed.set())
                await self._round_trip(connection, pings)
                self.clear()
                self.listening = True
                if backoff:
                    log.warning("caller cache hears changes again")
                backoff = 0.0
                while not closed.is_set():
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                    # cancellation that lands as its timeout fires, and shutdown then waits
                    # for this task for ever.
                    try:
                        async with asyncio.timeout(self.ttl):
                            await closed.wait()
                    except TimeoutError:
                        # A connection that stopped delivering stops the cache.
                        await self._round_trip(connection, pings)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncio.TimeoutError) as exc:
                log.warning("caller cache stopped hearing changes (%s); callers are read afresh", type(exc).__name__)
            finally:
                self.listening = False
                self.clear()
                if connection is not None:
                    connection.terminate()
            backoff = min(_RECONNECT_SECONDS[1], max(_RECONNECT_SECONDS[0], backoff * 2))
            await asyncio.sleep(backoff)

    async def _round_trip(self, connection: Any, pings: dict[str, asyncio.Event]) -> None:
        """Send a NOTIFY on the channel and wait (at most `ttl` seconds, else TimeoutError)
        until the listener hears it: proof that announcements reach this process."""
        payload = PING_PREFIX + secrets.token_hex(8)
        event = pings[payload] = asyncio.Event()
        try:
            async with asyncio.timeout(self.ttl):
                await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
            async with asyncio.timeout(self.ttl):
                await event.wait()
        finally:
            pings.pop(payload, None)


def forget_callers() -> None:
    """Forget every remembered caller in this process (after a change to an account or a
    key; other processes hear of it through NOTIFY)."""
    for cache in list(_caches):
        cache.clear()
