"""Webhook delivery under faults: a retry goes out when it falls due, not at the next
poll; a dispatcher killed mid-POST sends the event again (at least once: the receiver
sees the same event id twice and deduplicates by it); the last failure is dead-lettered,
logged and counted."""

from __future__ import annotations

import asyncio
import logging
import time

import prometheus_client

from service.events.dispatcher import WebhookDispatcher
from tests.conftest import deliver, in_app
from tests.factories import bound_worker, offer, post_request


async def subscribe(client, agency, url: str, types: list[str]) -> dict:
    response = await client.post("/api/v1/webhooks", headers=agency.headers, json={"url": url, "event_types": types})
    assert response.status_code == 201, response.text
    return response.json()


async def _offer_with_hook(client, actors, registry, url: str) -> dict:
    agency = await actors.agency("housekeeping")
    hook = await subscribe(client, agency, url, ["offer.made"])
    _, worker = await bound_worker(client, actors, registry, agency)
    employer = await actors.employer()
    job = await post_request(client, employer)
    await offer(client, employer, job["id"], worker["id"])
    return {"agency": agency, "hook": hook}


async def test_a_failed_delivery_is_retried_when_due_not_at_the_next_poll(client, actors, registry, app, receiver):
    url = "https://hooks.retry.test/in"
    await _offer_with_hook(client, actors, registry, url)
    receiver.answers[url] = 503

    async def run_until_retried() -> float:
        dispatcher = WebhookDispatcher(
            app.state.engine,
            app.state.http,
            app.state.cipher,
            backoff_base=0.3,
            poll_seconds=60.0,
            allow_private=True,
            resolve=app.state.resolver,
        )
        task = asyncio.create_task(dispatcher.run())
        try:
            started = time.monotonic()
            while len(receiver.to(url)) < 1:
                await asyncio.sleep(0.02)
            receiver.answers[url] = 200
            while len(receiver.to(url)) < 2:
                assert time.monotonic() - started < 10, "the retry waited for the poll"
                await asyncio.sleep(0.02)
            return time.monotonic() - started
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    seconds = in_app(client, run_until_retried)
    # The first retry is due 0.15-0.45 s after the failure; the poll is a minute away.
    assert seconds < 5
    first, second = receiver.to(url)
    assert first.json["id"] == second.json["id"]


async def test_a_dispatcher_killed_mid_post_sends_the_same_event_again(client, actors, registry, app, receiver):
    url = "https://hooks.dedupe.test/in"
    made = await _offer_with_hook(client, actors, registry, url)
    receiver.answers[url] = "hang"

    async def kill_mid_post() -> None:
        receiver.released, receiver.arrived = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(app.state.dispatcher.deliver_one())
        await asyncio.wait_for(receiver.arrived.wait(), timeout=10)
        # The receiver has the body (and may have acted on it); the process dies before its commit.
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        receiver.released.set()

    in_app(client, kill_mid_post)
    receiver.answers.pop(url)
    deliver(client, app)
    got = receiver.to(url)
    assert len(got) == 2
    # The same event twice: receivers deduplicate by its id.
    assert got[0].json["id"] == got[1].json["id"] and got[0].json == got[1].json
    log = (await client.get(f"/api/v1/webhooks/{made['hook']['id']}/deliveries", headers=made["agency"].headers)).json()
    assert [(d["status"], d["attempts"]) for d in log] == [("delivered", 1)]


async def test_the_last_failure_is_dead_lettered_logged_and_counted(
    client, actors, registry, app, receiver, settings, caplog
):
    url = "https://hooks.gone.test/in"
    made = await _offer_with_hook(client, actors, registry, url)
    receiver.answers[url] = 500
    before = prometheus_client.REGISTRY.get_sample_value("nanyue_webhook_dead_letters_total") or 0
    with caplog.at_level(logging.WARNING, logger="service.events.dispatcher"):
        for _ in range(settings.webhook_max_attempts + 1):
            deliver(client, app)
    assert len(receiver.to(url)) == settings.webhook_max_attempts
    assert prometheus_client.REGISTRY.get_sample_value("nanyue_webhook_dead_letters_total") == before + 1
    assert any("dead after" in r.getMessage() for r in caplog.records)
    log = (await client.get(f"/api/v1/webhooks/{made['hook']['id']}/deliveries", headers=made["agency"].headers)).json()
    assert log[0]["status"] == "dead" and log[0]["last_status_code"] == 500
