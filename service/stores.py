"""The app's stores, and what they do when Redis is away.

With `REDIS_URL` every named store lives in Redis under the deployment's namespace. Redis
is not a hard dependency: each store wraps its Redis store in a `ResilientStore`, which
answers from process memory while Redis fails (rate limits, login locks and lookups are
then counted per process, logged and shown as degraded in `/ready`), and the match cache
is bypassed altogether (every match is ranked afresh). Match cache keys carry the request's
and the index's versions, so nothing cached before an outage can be served stale after it.

One `RedisHealth` per app remembers whether Redis answered last time; after a failure
Redis is tried again at most once every `retry_seconds`, so an outage costs one failed
attempt per interval, not one per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from redis.asyncio import Redis
from redis.exceptions import RedisError

from service.settings import Settings

log = logging.getLogger(__name__)

# What a Redis outage or pause raises: refused or reset connections, timeouts.
REDIS_FAILURES = (RedisError, OSError, asyncio.TimeoutError)

# Stores whose values are only a cache: bypassed (not kept in memory) while Redis fails.
CACHE_STORES = frozenset({"matches"})


class RedisHealth:
    """Whether Redis answered lately; shared by every store of one app."""

    def __init__(self, retry_seconds: float = 1.0) -> None:
        self.retry_seconds = retry_seconds
        self.available = True
        self.down_since: float | None = None
        self.last_error = ""
        self.outages = 0
        self._retry_at = 0.0

    def usable(self) -> bool:
        """Try Redis now? Always while it answers; once per interval while it does not."""
        if self.available:
            return True
        now = time.monotonic()
        if now >= self._retry_at:
            self._retry_at = now + self.retry_seconds
            return True
        return False

    def failed(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"[:200]
        self._retry_at = time.monotonic() + self.retry_seconds
        if self.available:
            self.available = False
            self.down_since = time.time()
            self.outages += 1
            log.error(
                "redis unavailable (%s): rate limits and login locks now count per process, match cache bypassed",
                self.last_error,
            )

    def succeeded(self) -> None:
        if not self.available:
            down_for = time.time() - (self.down_since or time.time())
            log.warning("redis is back after %.1f s: stores use redis again", down_for)
            self.available = True
            self.down_since = None


class ResilientStore(Store):
    """A Redis store that falls back to process memory (or, for a cache, to nothing)."""

    def __init__(self, redis: RedisStore, health: RedisHealth, *, cache: bool = False) -> None:
        self.redis = redis
        self.health = health
        self.cache = cache
        self.fallback = MemoryStore()

    async def _try(self, call: Callable[[], Awaitable[Any]]) -> tuple[bool, Any]:
        """(True, result) when Redis answered, else (False, None) after noting the failure."""
        if not self.health.usable():
            return False, None
        try:
            result = await call()
        except REDIS_FAILURES as exc:
            self.health.failed(exc)
            return False, None
        self.health.succeeded()
        return True, result

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        done, _ = await self._try(lambda: self.redis.set(key, value, expires_in))
        if not done and not self.cache:
            await self.fallback.set(key, value, expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        done, value = await self._try(lambda: self.redis.get(key, renew_for))
        if self.cache:
            return value if done else None
        if done and value is not None:
            return value
        # Written while Redis was away (or Redis is away now).
        return await self.fallback.get(key, renew_for)

    async def delete(self, key: str) -> None:
        await self._try(lambda: self.redis.delete(key))
        await self.fallback.delete(key)

    async def delete_all(self) -> None:
        await self._try(self.redis.delete_all)
        await self.fallback.delete_all()

    async def exists(self, key: str) -> bool:
        done, found = await self._try(lambda: self.redis.exists(key))
        return bool(found) or (not self.cache and await self.fallback.exists(key))

    async def expires_in(self, key: str) -> int | None:
        done, seconds = await self._try(lambda: self.redis.expires_in(key))
        if done and seconds is not None:
            return seconds
        return None if self.cache else await self.fallback.expires_in(key)


def redis_client(settings: Settings) -> Redis:
    """A client that gives up quickly (a paused Redis must not hold requests) and does not
    retry by itself (`RedisHealth` decides when to try again)."""
    timeout = settings.redis_timeout_seconds or None
    return Redis.from_url(
        settings.redis_url or "",
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry_on_timeout=False,
        retry_on_error=[],
    )


def make_stores(settings: Settings) -> tuple[StoreRegistry, RedisHealth | None]:
    """One root store (Redis when configured, else process memory), namespaced per use."""
    if not settings.redis_url:
        return StoreRegistry(default_factory=lambda _name: MemoryStore()), None
    health = RedisHealth(settings.redis_retry_seconds)
    root = RedisStore(redis_client(settings), namespace=settings.store_namespace)

    def factory(name: str) -> Store:
        return ResilientStore(root.with_namespace(name), health, cache=name in CACHE_STORES)

    return StoreRegistry(default_factory=factory), health


async def probe_redis(store: Store) -> str:
    """ "ok", or why Redis did not answer (asked directly, whatever the health says)."""
    if not isinstance(store, ResilientStore):
        return "ok"
    try:
        await store.redis.set("probe", b"1", expires_in=10)
        if await store.redis.get("probe") != b"1":
            return "error: read back failed"
    except REDIS_FAILURES as exc:
        store.health.failed(exc)
        return f"error: {type(exc).__name__}"
    store.health.succeeded()
    return "ok"
