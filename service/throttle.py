"""Fixed-window counters in the app's stores (Redis when configured): per-credential limits
for the routes where each answer teaches the caller something (ID-number lookups, claims)."""

from __future__ import annotations

import time

from litestar.stores.base import Store

from service.errors import AppError


class TooManyRequests(AppError):
    status_code = 429
    slug = "too-many-requests"
    title = "请求过于频繁，请稍后再试 (too many requests; try again later)"


def _bucket(key: str, window: int) -> tuple[str, int]:
    now = int(time.time())
    return f"{key}|{now // window}", window - now % window


async def used(store: Store, key: str, *, window: int) -> int:
    bucket, _ = _bucket(key, window)
    return int(await store.get(bucket) or 0)


async def ensure_below(store: Store, key: str, *, limit: int, window: int) -> None:
    """429 (with Retry-After) once `limit` has been spent in this window."""
    bucket, left = _bucket(key, window)
    if int(await store.get(bucket) or 0) >= limit:
        raise TooManyRequests(headers={"Retry-After": str(left)})


async def spend(store: Store, key: str, *, window: int) -> None:
    bucket, left = _bucket(key, window)
    # Read-then-write: concurrent requests of one credential may overshoot by their number.
    await store.set(bucket, str(int(await store.get(bucket) or 0) + 1), expires_in=left + 1)
