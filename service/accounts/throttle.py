"""Atomic counters over fixed windows, and the rate limit that uses them.

One small interface, `Counter`, two implementations behind it: Redis (one Lua script
does INCR and EXPIRE, so parallel requests in any number of processes are each
counted; the hits a process makes while its previous call is on its way go together in
the next call, each still told its own exact count) and process memory (an `asyncio.Lock` around the read and the write); a third,
`FallbackCounter`, uses Redis while it answers and process memory while it does not. Both keep
their keys in the Litestar store they are made from, so the store's namespace and
`delete_all` cover them.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any, Protocol

from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import RateLimitMiddleware
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import Receive, Scope, Send

from service.stores import REDIS_FAILURES, ResilientStore


class Counter(Protocol):
    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Add one to `key` and answer (the count, seconds until its window ends). The
        window starts at the first hit and does not move with later ones."""

    async def undo(self, key: str) -> None:
        """Take one back (an attempt that turned out fine), never below zero."""

    async def forget(self, key: str) -> None:
        """Drop the count."""


_HIT = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""

# Many hits in one call: KEYS[i] is added ARGV[2i-1] and given a window of ARGV[2i] seconds
# if it has none; answers each key's count and seconds left, in order.
_HITS = """
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCRBY', key, tonumber(ARGV[2 * i - 1]))
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    redis.call('EXPIRE', key, ARGV[2 * i])
    ttl = tonumber(ARGV[2 * i])
  end
  out[2 * i - 1] = n
  out[2 * i] = ttl
end
return out
"""

_UNDO = """
if redis.call('GET', KEYS[1]) and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class RedisCounter:
    """Counts in Redis. At most one call for hits is on its way per process: hits that come
    meanwhile wait and go in the next call, one INCRBY per key, each hit told the count it
    would have had alone (the counts a key's hits get are consecutive, as if made one by
    one), so limits stay exact across processes with fewer round trips under load."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._redis = store._redis
        self._hit = self._redis.register_script(_HIT)
        self._hits = self._redis.register_script(_HITS)
        self._undo = self._redis.register_script(_UNDO)
        self._waiting: dict[tuple[str, int], list[asyncio.Future]] = {}
        self._sender: asyncio.Task | None = None

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        if self._sender is not None and not self._sender.done() and self._sender.get_loop() is not loop:
            # Another event loop (a test's app started again): count this hit alone.
            count, ttl = await self._hit(keys=[self._store._make_key(key)], args=[window_seconds])
            return int(count), max(int(ttl), 1)
        answer: asyncio.Future = loop.create_future()
        self._waiting.setdefault((self._store._make_key(key), window_seconds), []).append(answer)
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send())
        return await answer

    async def _send(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            keys = [key for key, _ in batch]
            args = [value for (_, window), answers in batch.items() for value in (len(answers), window)]
            try:
                out = await self._hits(keys=keys, args=args)
            except BaseException as exc:  # noqa: BLE001 - every waiter sees its call fail
                for answers in batch.values():
                    for answer in answers:
                        if not answer.done():
                            answer.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for i, answers in enumerate(batch.values()):
                last, ttl = int(out[2 * i]), max(int(out[2 * i + 1]), 1)
                first = last - len(answers) + 1
                for n, answer in enumerate(answers):
                    if not answer.done():
                        answer.set_result((first + n, ttl))

    async def undo(self, key: str) -> None:
        await self._undo(keys=[self._store._make_key(key)])

    async def forget(self, key: str) -> None:
        await self._store.delete(key)


class MemoryCounter:
    """For one process: the lock makes each read-and-write one step for every coroutine."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = asyncio.Lock()

    async def _read(self, key: str) -> tuple[int, float]:
        raw = await self._store.get(key)
        if raw is None:
            return 0, 0.0
        count, _, ends = raw.decode().partition(" ")
        return int(count), float(ends)

    async def _write(self, key: str, count: int, ends: float) -> None:
        await self._store.set(key, f"{count} {ends}", expires_in=max(math.ceil(ends - time.time()), 1))

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        async with self._lock:
            count, ends = await self._read(key)
            now = time.time()
            if count == 0 or ends <= now:
                count, ends = 0, now + window_seconds
            count += 1
            await self._write(key, count, ends)
        return count, max(math.ceil(ends - now), 1)

    async def undo(self, key: str) -> None:
        async with self._lock:
            count, ends = await self._read(key)
            if count > 0 and ends > time.time():
                await self._write(key, count - 1, ends)

    async def forget(self, key: str) -> None:
        async with self._lock:
            await self._store.delete(key)


class FallbackCounter:
    """Redis while it answers, else this process's memory (see `service.stores`): a Redis
    outage turns limits per-process instead of failing every request."""

    def __init__(self, store: ResilientStore) -> None:
        self._redis = RedisCounter(store.redis)
        self._memory = MemoryCounter(store.fallback)
        self._health = store.health

    async def _either(self, redis_call: Any, memory_call: Any) -> Any:
        if self._health.usable():
            try:
                result = await redis_call()
            except REDIS_FAILURES as exc:
                self._health.failed(exc)
            else:
                self._health.succeeded()
                return result
        return await memory_call()

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        return await self._either(
            lambda: self._redis.hit(key, window_seconds), lambda: self._memory.hit(key, window_seconds)
        )

    async def undo(self, key: str) -> None:
        await self._either(lambda: self._redis.undo(key), lambda: self._memory.undo(key))

    async def forget(self, key: str) -> None:
        await self._either(lambda: self._redis.forget(key), lambda: self._memory.forget(key))
        await self._memory.forget(key)


# Stores live as long as their app; each entry keeps its store, so ids are not reused.
_counters: dict[int, tuple[Store, Counter]] = {}


def counter_for(store: Store) -> Counter:
    """The counter that keeps its keys in `store` (one per store, so one lock per store)."""
    entry = _counters.get(id(store))
    if entry is None:
        counter: Counter
        if isinstance(store, ResilientStore):
            counter = FallbackCounter(store)
        elif isinstance(store, RedisStore):
            counter = RedisCounter(store)
        else:
            counter = MemoryCounter(store)
        entry = _counters[id(store)] = (store, counter)
    return entry[1]


def counter_of(app: Any, name: str = "throttle") -> Counter:
    return counter_for(app.stores.get(name))


class AddressRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's rate limit, counted with the atomic counter over a fixed minute and
    keyed by `RateLimitConfig.identifier_for_request` (the service's `client_address`).
    The limit is read from the app's settings at each request; a 429 says `Retry-After`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request = app.request_class(scope)
        if await self.should_check_request(request=request):
            limit = app.state.settings.rate_limit_per_minute
            counter = counter_for(self.config.get_store_from_app(app))
            count, retry_after = await counter.hit(self.cache_key_from_request(request), 60)
            if count > limit:
                raise TooManyRequestsException(headers={"Retry-After": str(retry_after)})
        await self.app(scope, receive, send)
