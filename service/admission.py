"""A bound on the requests one process works on at once (`MAX_CONCURRENT_REQUESTS`).

Past the bound a request waits, in arrival order, before any of its work starts; none is
refused. One process runs its requests on one event loop: with many in progress, each
await (a query, a store call) waits for every other request's turn, so a request with
nine queries (an offer) takes nine turns of a long queue while a cached read takes two.
Working on a few at a time and queueing the rest makes the turns short and every request's
wait about the same, which is what the slowest requests (p99) gain. Health and readiness
probes are not queued: an orchestrator must hear a busy process answer.
"""

from __future__ import annotations

import asyncio

from litestar.types import ASGIApp, Receive, Scope, Send

UNQUEUED_PATHS = frozenset({"/health", "/ready"})


def bounded(app: ASGIApp, limit: int) -> ASGIApp:
    """`app` working on at most `limit` HTTP requests at once (0: no bound)."""
    if limit <= 0:
        return app
    slots = asyncio.Semaphore(limit)  # wakes its waiters first come, first served

    async def admit(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNQUEUED_PATHS:
            await app(scope, receive, send)
            return
        async with slots:
            await app(scope, receive, send)

    return admit
