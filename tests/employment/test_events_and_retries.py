"""Events reach the right agencies, signed, at least once; POSTs are safe to retry;
certificates are confirmed with their issuer."""

import asyncio
import hashlib
import hmac
import time
from datetime import timedelta

import asyncpg
import pytest

from service.events.services import UnsafeUrl, check_outbound_url
from service.registry import services as registry_services
from service.registry.domain import today_local
from service.registry.issuer import IssuerClient
from tests.conftest import deliver, in_app
from tests.factories import bound_worker, offer, post_request
from tests.receiver import ISSUER_URL


async def subscribe(client, agency, url, types):
    response = await client.post("/api/v1/webhooks", headers=agency.headers, json={"url": url, "event_types": types})
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_agency_receives_signed_events_about_its_own_worker_only(client, actors, registry, app, receiver):
    mine, theirs = await actors.agency("housekeeping"), await actors.agency("housekeeping", name="别家家政")
    created = await subscribe(client, mine, "https://hooks.mine.test/nanyue", ["offer.made", "offer.accepted"])
    assert created["secret"].startswith("whsec_")
    await subscribe(client, theirs, "https://hooks.theirs.test/nanyue", ["offer.made", "offer.accepted"])
    person, worker = await bound_worker(client, actors, registry, mine)
    employer = await actors.employer()
    job = await post_request(client, employer)
    made = await offer(client, employer, job["id"], worker["id"])
    await client.post(f"/api/v1/offers/{made['id']}/accept", headers=person.headers)

    assert deliver(client, app) == 2
    got = receiver.to("https://hooks.mine.test/nanyue")
    assert [r.json["type"] for r in got] == ["offer.made", "offer.accepted"]
    assert receiver.to("https://hooks.theirs.test/nanyue") == []
    for delivery in got:
        timestamp = delivery.headers["x-nanyue-timestamp"]
        expected = (
            "v1="
            + hmac.new(
                created["secret"].encode(), timestamp.encode() + b"." + delivery.body, hashlib.sha256
            ).hexdigest()
        )
        assert delivery.headers["x-nanyue-signature"] == expected
        assert abs(int(timestamp) - time.time()) < 60
    assert got[0].json["data"]["worker_id"] == worker["id"]
    log = await client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=mine.headers)
    assert [d["status"] for d in log.json()] == ["delivered", "delivered"]
    assert (await client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=theirs.headers)).status_code == 404


async def test_failed_deliveries_are_retried_then_dead_lettered(client, actors, registry, app, receiver, settings):
    agency = await actors.agency("housekeeping")
    url = "https://hooks.flaky.test/in"
    hook = await subscribe(client, agency, url, ["offer.made"])
    _, worker = await bound_worker(client, actors, registry, agency)
    employer = await actors.employer()
    job = await post_request(client, employer)
    receiver.answers[url] = 503
    await offer(client, employer, job["id"], worker["id"])
    for _ in range(settings.webhook_max_attempts + 2):
        deliver(client, app)
    assert len(receiver.to(url)) == settings.webhook_max_attempts
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=agency.headers)).json()
    assert log[0]["status"] == "dead" and log[0]["attempts"] == settings.webhook_max_attempts
    assert log[0]["last_status_code"] == 503


def test_backoff_grows_exponentially_with_jitter():
    from service.events.dispatcher import backoff_seconds

    samples = {n: [backoff_seconds(n, base=30, cap=3600) for _ in range(200)] for n in (1, 2, 5, 12)}
    assert all(15 <= s <= 45 for s in samples[1]) and all(30 <= s <= 90 for s in samples[2])
    assert all(240 <= s <= 720 for s in samples[5]) and max(samples[12]) <= 5400
    assert len({round(s, 6) for s in samples[1]}) > 100  # jittered, not fixed


async def test_a_killed_dispatcher_loses_nothing_and_misdelivers_nothing(client, actors, registry, app, receiver):
    first, second = await actors.agency("housekeeping"), await actors.agency("housekeeping", name="第二家政")
    first_url, second_url = "https://hooks.first.test/in", "https://hooks.second.test/in"
    await subscribe(client, first, first_url, ["offer.made"])
    await subscribe(client, second, second_url, ["offer.made"])
    employer = await actors.employer()
    job = await post_request(client, employer)
    expected = {first_url: set(), second_url: set()}
    for agency, url in ((first, first_url), (second, second_url), (first, first_url), (second, second_url)):
        _, worker = await bound_worker(client, actors, registry, agency)
        made = await offer(client, employer, job["id"], worker["id"])
        expected[url].add(made["id"])

    receiver.answers[second_url] = "hang"  # the receiver stalls; the dispatcher is killed mid-delivery

    async def kill_mid_delivery():
        receiver.released, receiver.arrived = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(app.state.dispatcher.run())
        await asyncio.wait_for(receiver.arrived.wait(), timeout=10)
        # While one receiver hangs, the other agency's events still go out.
        for _ in range(100):
            if len({r.json["data"]["offer_id"] for r in receiver.to(first_url)}) == 2:
                break
            await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        receiver.released.set()

    in_app(client, kill_mid_delivery)
    assert {r.json["data"]["offer_id"] for r in receiver.to(first_url)} == expected[first_url]
    receiver.answers.pop(second_url)
    deliver(client, app)  # a new dispatcher picks up what was left

    for url, offer_ids in expected.items():
        got = {r.json["data"]["offer_id"] for r in receiver.to(url)}
        assert got == offer_ids, url  # everything arrived, each at its own agency only

    async def statuses():
        from service.events.tables import WebhookDelivery

        return {r["status"] for r in await WebhookDelivery.select(WebhookDelivery.status)}

    assert in_app(client, statuses) == {"delivered"}


async def test_webhook_urls_are_checked_against_ssrf(client, actors):
    for url in (
        "http://127.0.0.1:8000/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/x",
        "https://localhost/hook",
        "ftp://files.test/x",
        "https://user:pw@hooks.test/x",
    ):
        with pytest.raises(UnsafeUrl):
            await check_outbound_url(url, allow_private=False)
    agency = await actors.agency("housekeeping")
    unknown = await client.post(
        "/api/v1/webhooks",
        headers=agency.headers,
        json={"url": "https://hooks.test/x", "event_types": ["no.such.event"]},
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "event_types"
    employer = await actors.employer()
    assert (
        await client.post(
            "/api/v1/webhooks",
            headers=employer.headers,
            json={"url": "https://hooks.test/x", "event_types": ["offer.made"]},
        )
    ).status_code == 403


async def test_retrying_a_post_with_the_same_key_has_one_effect(client, actors, registry, app):
    _, worker = await registry.worker()
    employer = await actors.employer()
    job = await post_request(client, employer)
    url = f"/api/v1/job-requests/{job['id']}/offers"
    headers = employer.headers | {"Idempotency-Key": "offer-2026-11-27-001"}
    first = await client.post(url, headers=headers, json={"worker_id": worker["id"]})
    again = await client.post(url, headers=headers, json={"worker_id": worker["id"]})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other_body = await client.post(url, headers=headers, json={"worker_id": worker["id"], "wage": 8000})
    assert other_body.status_code == 422
    # Keys are the caller's own: another caller's same key is a different request.
    other = await actors.employer()
    foreign = await client.post(
        url, headers=other.headers | {"Idempotency-Key": "offer-2026-11-27-001"}, json={"worker_id": worker["id"]}
    )
    assert foreign.status_code == 404

    async def offers_made():
        from service.employment.tables import Offer

        return await Offer.count()

    assert in_app(client, offers_made) == 1


async def test_a_duplicate_while_the_first_runs_is_409_with_retry_after(client, actors, registry, settings):
    _, worker = await registry.worker()
    employer = await actors.employer()
    job = await post_request(client, employer)
    url = f"/api/v1/job-requests/{job['id']}/offers"
    headers = employer.headers | {"Idempotency-Key": "k-1"}
    # Another request with this key is running: its transaction holds the key's lock.
    holder = await asyncpg.connect(settings.database_url)
    try:
        async with holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"user:{employer.id}|k-1")
            response = await client.post(url, headers=headers, json={"worker_id": worker["id"]})
            assert response.status_code == 409
            assert response.headers["retry-after"] == "1"
            assert response.json()["status"] == 409
    finally:
        await holder.close()
    # It ended without an effect (rolled back): the retry runs.
    response = await client.post(url, headers=headers, json={"worker_id": worker["id"]})
    assert response.status_code == 201


async def test_a_key_left_running_by_a_killed_process_does_not_block_the_retry(client, actors, registry):
    """A row marked "running" whose holder died (no lock held) is no obstacle: the retry
    runs at once instead of answering 409 until a lease expires."""
    _, worker = await registry.worker()
    employer = await actors.employer()
    job = await post_request(client, employer)
    body = ('{"worker_id":%d}' % worker["id"]).encode()
    url = f"/api/v1/job-requests/{job['id']}/offers"

    async def left_running():
        from datetime import datetime, timezone

        from service.idempotency.tables import IdempotencyRecord

        fingerprint = hashlib.sha256(b"POST " + url.encode() + b"\n" + body).hexdigest()
        await IdempotencyRecord.insert(
            IdempotencyRecord(
                caller=f"user:{employer.id}",
                key="k-crash",
                fingerprint=fingerprint,
                state="running",
                locked_until=datetime.now(timezone.utc) + timedelta(seconds=60),
            )
        )

    in_app(client, left_running)
    headers = employer.headers | {"Idempotency-Key": "k-crash", "Content-Type": "application/json"}
    first = await client.post(url, headers=headers, content=body)
    assert first.status_code == 201, first.text
    again = await client.post(url, headers=headers, content=body)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = await client.post(url, headers=headers, json={"worker_id": worker["id"], "wage": 8000})
    assert other.status_code == 422


async def test_certificates_are_confirmed_with_the_issuer(client, actors, registry, app, receiver):
    _, record = await actors.registered_worker()
    number = actors.last_body["id_number"]
    evaluator = await actors.agency("evaluation")
    issuer = IssuerClient(app.state.http, ISSUER_URL, pause=0.0)
    from service.accounts.guards import Principal, Role

    caller = Principal(role=Role.EVALUATION, agency_id=evaluator.id, scopes=frozenset({"certificates:write"}))

    def push(certificate_no):
        async def run():
            return await registry_services.add_certificate(
                caller,
                record["id"],
                {
                    "id_number": number,
                    "occupation_code": "4-10-01-06",
                    "work_type": None,
                    "level": 4,
                    "certificate_no": certificate_no,
                    "issued_on": today_local(),
                },
                taxonomy=app.state.taxonomy,
                cipher=app.state.cipher,
                issuer=issuer,
            )

        return in_app(client, run)

    receiver.genuine_certificates.add("GD2026000001")
    assert push("GD2026000001")["status"] == "verified"
    assert push("GD2026000002")["status"] == "rejected"
    receiver.issuer_down = True
    pending = push("GD2026000003")
    assert pending["status"] == "pending"  # the issuer is down: a clear pending state
    receiver.issuer_down = False
    receiver.genuine_certificates.add("GD2026000003")
    admin = registry.admin

    async def recheck():
        from service.accounts.guards import Principal as P

        return await registry_services.recheck_certificate(
            P(role=Role.ADMIN, user_id=admin.id), record["id"], pending["id"], issuer
        )

    assert in_app(client, recheck)["status"] == "verified"


async def test_unsubscribing_stops_pending_deliveries(client, actors, registry, app, receiver):
    agency = await actors.agency("housekeeping")
    url = "https://hooks.gone.test/in"
    hook = await subscribe(client, agency, url, ["offer.made"])
    _, worker = await bound_worker(client, actors, registry, agency)
    employer = await actors.employer()
    await offer(client, employer, (await post_request(client, employer))["id"], worker["id"])
    assert (await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=agency.headers)).status_code == 204
    deliver(client, app)
    assert receiver.to(url) == []
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=agency.headers)).json()
    assert [d["status"] for d in log] == ["dead"]


async def test_malformed_webhook_urls_are_422_not_500(client, actors):
    agency = await actors.agency("housekeeping")
    for url in ("https://[::1/x", "https://hooks.test:99999/x", "https://" + "a" * 300 + ".test/x"):
        response = await client.post(
            "/api/v1/webhooks", headers=agency.headers, json={"url": url, "event_types": ["offer.made"]}
        )
        assert response.status_code in (400, 422), (url, response.text)
    with pytest.raises(UnsafeUrl):
        await check_outbound_url("https://hooks.test:99999/x", allow_private=False)


async def test_replayed_answers_are_stored_encrypted(client, actors, app):
    agency = await actors.agency("housekeeping")
    headers = agency.headers | {"Idempotency-Key": "hook-1"}
    body = {"url": "https://hooks.mine.test/in", "event_types": ["offer.made"]}
    first = await client.post("/api/v1/webhooks", headers=headers, json=body)
    again = await client.post("/api/v1/webhooks", headers=headers, json=body)
    assert first.status_code == again.status_code == 201 and again.json()["secret"] == first.json()["secret"]

    async def stored():
        from service.idempotency.tables import IdempotencyRecord

        return await IdempotencyRecord.select(IdempotencyRecord.body)

    rows = in_app(client, stored)
    assert len(rows) == 1 and first.json()["secret"].encode() not in rows[0]["body"]


def test_deliveries_connect_to_the_address_that_was_checked():
    from service.events.services import pinned

    assert pinned("https://hooks.agency.cn/in?x=1", "203.0.113.7") == (
        "https://203.0.113.7/in?x=1",
        {"Host": "hooks.agency.cn"},
        {"sni_hostname": "hooks.agency.cn"},
    )
    assert pinned("https://hooks.agency.cn:8443/in", "2001:db8::1")[0] == "https://[2001:db8::1]:8443/in"
    assert pinned("http://127.0.0.1:9000/in", None) == ("http://127.0.0.1:9000/in", {}, {})
