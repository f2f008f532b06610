"""Per-credential limits for the routes where each answer teaches the caller something
(ID-number lookups, claims), counted with the atomic counters of `accounts.throttle` in the
app's stores (Redis when configured), so parallel requests cannot overshoot."""

from __future__ import annotations

from litestar.stores.base import Store

from service.accounts.throttle import counter_for
from service.errors import AppError


class TooManyRequests(AppError):
    status_code = 429
    slug = "too-many-requests"
    title = "请求过于频繁，请稍后再试 (too many requests; try again later)"


async def spend(store: Store, key: str, *, limit: int, window: int) -> None:
    """Count one attempt; 429 (with Retry-After) when it is beyond `limit` in this window."""
    count, retry_after = await counter_for(store).hit(key, window)
    if count > limit:
        raise TooManyRequests(headers={"Retry-After": str(retry_after)})


async def give_back(store: Store, key: str) -> None:
    """Take back an attempt that taught the caller nothing."""
    await counter_for(store).undo(key)
