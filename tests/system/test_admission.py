"""The bound on requests in progress (`MAX_CONCURRENT_REQUESTS`)."""

from __future__ import annotations

import asyncio

from service.admission import bounded


async def test_past_the_bound_requests_wait_in_arrival_order_and_probes_do_not_wait():
    running, most, order = 0, 0, []
    release = asyncio.Event()

    async def app(scope, receive, send):
        nonlocal running, most
        running += 1
        most = max(most, running)
        order.append(scope["path"])
        if scope["path"] != "/health":
            await release.wait()
        running -= 1

    admitted = bounded(app, 2)
    calls = [asyncio.create_task(admitted({"type": "http", "path": f"/r{n}"}, None, None)) for n in range(5)]
    await asyncio.sleep(0.01)
    assert order == ["/r0", "/r1"]  # two at work, three waiting
    await asyncio.wait_for(admitted({"type": "http", "path": "/health"}, None, None), 1)  # not queued
    release.set()
    await asyncio.gather(*calls)
    assert order == ["/r0", "/r1", "/health", "/r2", "/r3", "/r4"] and most == 3  # two plus the probe


async def test_no_bound_is_the_app_itself():
    async def app(scope, receive, send):
        return None

    assert bounded(app, 0) is app


async def test_a_request_waiting_gives_up_its_place_and_queues_again_after():
    from service.admission import waiting

    order, release = [], asyncio.Event()

    async def app(scope, receive, send):
        order.append(("start", scope["path"]))
        if scope["path"] == "/slow":
            async with waiting():  # e.g. the index's first load
                await release.wait()
        order.append(("end", scope["path"]))

    admitted = bounded(app, 1)
    slow = asyncio.create_task(admitted({"type": "http", "path": "/slow"}, None, None))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(admitted({"type": "http", "path": "/quick"}, None, None), 1)  # not held up
    release.set()
    await slow
    assert order == [("start", "/slow"), ("start", "/quick"), ("end", "/quick"), ("end", "/slow")]
    async with waiting():  # outside a request: nothing to give up
        pass
    # The place came back (else these would wait for ever).
    await asyncio.wait_for(
        asyncio.gather(*(admitted({"type": "http", "path": f"/r{n}"}, None, None) for n in range(2))), 1
    )
    assert order[-4:] == [("start", "/r0"), ("end", "/r0"), ("start", "/r1"), ("end", "/r1")]
