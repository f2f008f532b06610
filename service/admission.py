"""A bound on the requests one process works on at once (`MAX_CONCURRENT_REQUESTS`).

Past the bound a request waits, in arrival order, before any of its work starts; none is
refused. One process runs its requests on one event loop: with many in progress, each
await (a query, a store call) waits for every other request's turn, so a request with
nine queries (an offer) takes nine turns of a long queue while a cached read takes two.
Working on a few at a time and queueing the rest makes the turns short and every request's
wait about the same, which is what the slowest requests (p99) gain. Health and readiness
probes are not queued: an orchestrator must hear a busy process answer. A request that
waits on something slow that is not its own work (the candidate index's first load, seconds
at province scale) gives up its place meanwhile (`waiting`), so the requests that do not
need the index are not held up behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from litestar.types import ASGIApp, Receive, Scope, Send

UNQUEUED_PATHS = frozenset({"/health", "/ready"})


@dataclass
class _Place:
    slots: asyncio.Semaphore
    held: bool = False


_place: ContextVar[_Place | None] = ContextVar("admission_place", default=None)


@asynccontextmanager
async def waiting() -> AsyncIterator[None]:
    """Give up this request's place while it waits, and queue for one again after (a
    no-op outside a bounded request)."""
    place = _place.get()
    if place is None or not place.held:
        yield
        return
    place.held = False
    place.slots.release()
    try:
        yield
    finally:
        await place.slots.acquire()  # if cancelled here, no place is held, and none is given back
        place.held = True


def bounded(app: ASGIApp, limit: int) -> ASGIApp:
    """`app` working on at most `limit` HTTP requests at once (0: no bound)."""
    if limit <= 0:
        return app
    slots = asyncio.Semaphore(limit)  # wakes its waiters first come, first served

    async def admit(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNQUEUED_PATHS:
            await app(scope, receive, send)
            return
        place = _Place(slots)
        await slots.acquire()
        place.held = True
        token = _place.set(place)
        try:
            await app(scope, receive, send)
        finally:
            _place.reset(token)
            if place.held:
                slots.release()

    return admit
