"""Webhook addresses that reach private networks are refused when subscribing and again
when delivering, whether written as a literal or answered by DNS. DNS is a stand-in here:
no real lookups of outside hosts."""

import msgspec
import pytest

from service.events.services import UnsafeUrl, check_outbound_url, is_public_address
from tests.conftest import deliver, in_app
from tests.factories import bound_worker, offer, post_request

# Addresses that must never be reached, each with why.
REFUSED = {
    "64:ff9b::7f00:1": "NAT64 of 127.0.0.1",
    "64:ff9b::a9fe:a9fe": "NAT64 of 169.254.169.254 (cloud metadata)",
    "64:ff9b:1::a00:1": "local-use NAT64 of 10.0.0.1",
    "::7f00:1": "IPv4-compatible 127.0.0.1",
    "::ffff:127.0.0.1": "IPv4-mapped 127.0.0.1",
    "::ffff:a9fe:a9fe": "IPv4-mapped 169.254.169.254",
    "2002:7f00:1::": "6to4 of 127.0.0.1",
    "2002:c0a8:101::1": "6to4 of 192.168.1.1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo (client 127.0.0.1)",
    "fec0::1": "site-local",
    "fe80::1": "link-local",
    "fd00::1": "unique local",
    "::1": "loopback",
    "::": "unspecified",
    "ff02::1": "multicast",
    "2001:db8::1": "documentation",
    "3fff::1": "documentation (2024)",
    "100::1": "discard-only",
    "5f00::1": "SRv6 SID",
    "4000::1": "not global unicast",
    "192.0.0.8": "IPv4 dummy address (192.0.0.0/24)",
    "192.0.0.170": "NAT64 discovery (192.0.0.0/24)",
    "127.0.0.1": "loopback",
    "10.1.2.3": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "shared address space (CGNAT)",
    "169.254.169.254": "link-local (cloud metadata)",
    "0.0.0.0": "this network",
    "192.0.2.10": "documentation",
    "198.18.0.1": "benchmarking",
    "198.51.100.7": "documentation",
    "203.0.113.7": "documentation",
    "192.88.99.1": "6to4 relay anycast",
    "192.31.196.1": "AS112",
    "192.52.193.1": "AMT",
    "192.175.48.1": "AS112 direct delegation",
    "224.0.0.1": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
}
PUBLIC = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]


def literal_url(address: str, port: str = "") -> str:
    host = f"[{address}]" if ":" in address else address
    return f"https://{host}{port}/hook"


def resolver(answers: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        assert port == 443
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    return resolve


@pytest.mark.parametrize("address", REFUSED, ids=[f"{a} ({why})" for a, why in REFUSED.items()])
async def test_special_purpose_addresses_are_refused(address):
    assert not is_public_address(address)
    with pytest.raises(UnsafeUrl):
        await check_outbound_url(literal_url(address), allow_private=False, resolve=resolver({}))
    with pytest.raises(UnsafeUrl):  # a public name whose DNS answer is that address
        await check_outbound_url(
            "https://hooks.agency.test/in",
            allow_private=False,
            resolve=resolver({"hooks.agency.test": [PUBLIC[0], address]}),
        )


async def test_public_addresses_on_443_pass_and_are_pinned():
    for address in PUBLIC:
        assert is_public_address(address)
        assert await check_outbound_url(literal_url(address), allow_private=False, resolve=resolver({})) == address
        assert (
            await check_outbound_url(literal_url(address, ":443"), allow_private=False, resolve=resolver({})) == address
        )
    answer = await check_outbound_url(
        "https://hooks.agency.test/in", allow_private=False, resolve=resolver({"hooks.agency.test": PUBLIC})
    )
    assert answer == PUBLIC[0]


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.agency.test:8443/in",
        "https://hooks.agency.test:80/in",
        "https://93.184.215.14:22/in",
        "http://hooks.agency.test/in",
        "https://unknown.agency.test/in",
    ],
)
async def test_other_ports_plain_http_and_unresolvable_names_are_refused(url):
    with pytest.raises(UnsafeUrl):
        await check_outbound_url(url, allow_private=False, resolve=resolver({"hooks.agency.test": PUBLIC}))


async def test_private_webhooks_allowed_lets_any_port_and_http_through():
    for url in ("http://127.0.0.1:9000/in", "https://[64:ff9b::7f00:1]:8443/in"):
        assert await check_outbound_url(url, allow_private=True, resolve=resolver({})) is None


@pytest.fixture
def public_only(app):
    """The shared app as deployed: private webhooks not allowed, DNS answered by `answers`."""
    answers: dict[str, list[str]] = {}
    settings, resolve = app.state.settings, app.state.resolver
    app.state.settings = msgspec.structs.replace(settings, allow_private_webhooks=False)
    app.state.resolver = app.state.dispatcher.resolve = resolver(answers)
    app.state.dispatcher.allow_private = False
    yield answers
    app.state.settings, app.state.resolver = settings, resolve
    app.state.dispatcher.resolve, app.state.dispatcher.allow_private = resolve, settings.allow_private_webhooks


async def test_subscribing_refuses_each_address_as_literal_and_as_dns_answer(client, actors, public_only):
    agency = await actors.agency("housekeeping")
    public_only["rebinding.agency.test"] = [PUBLIC[0]]
    for address in REFUSED:
        public_only["hooks.agency.test"] = [address]
        for url in (literal_url(address), "https://hooks.agency.test/in"):
            response = await client.post(
                "/api/v1/webhooks", headers=agency.headers, json={"url": url, "event_types": ["offer.made"]}
            )
            assert response.status_code == 422, (url, address, response.text)
            assert response.json()["errors"][0]["field"] == "url"
    for url in ("https://rebinding.agency.test:8443/in", "http://rebinding.agency.test/in"):
        response = await client.post(
            "/api/v1/webhooks", headers=agency.headers, json={"url": url, "event_types": ["offer.made"]}
        )
        assert response.status_code == 422, url
    assert (await client.get("/api/v1/webhooks", headers=agency.headers)).json() == []
    ok = await client.post(
        "/api/v1/webhooks",
        headers=agency.headers,
        json={"url": "https://rebinding.agency.test/in", "event_types": ["offer.made"]},
    )
    assert ok.status_code == 201, ok.text


async def test_delivery_checks_the_dns_answer_again(client, actors, registry, app, receiver, public_only):  # noqa: F811
    agency = await actors.agency("housekeeping")
    public_only["hooks.agency.test"] = [PUBLIC[0]]
    hook = await client.post(
        "/api/v1/webhooks",
        headers=agency.headers,
        json={"url": "https://hooks.agency.test/in", "event_types": ["offer.made"]},
    )
    assert hook.status_code == 201, hook.text
    _, worker = await bound_worker(client, actors, registry, agency)
    employer = await actors.employer()
    job = await post_request(client, employer)

    delivered_to = []
    for address in [
        "64:ff9b::7f00:1",
        "::7f00:1",
        "2002:7f00:1::",
        "64:ff9b::a9fe:a9fe",
        "fec0::1",
        "192.0.0.8",
        PUBLIC[0],
    ]:
        public_only["hooks.agency.test"] = [address]  # the name now answers another address
        receiver.reset()
        made = await offer(client, employer, job["id"], worker["id"])
        assert deliver(client, app) >= 1
        delivered_to.append([r.url for r in receiver.received])
        await client.post(f"/api/v1/offers/{made['id']}/withdraw", headers=employer.headers)

    assert delivered_to[:-1] == [[]] * 6  # nothing reached any refused address
    assert delivered_to[-1] == [f"https://{PUBLIC[0]}/in"]

    async def errors():
        from service.events.tables import WebhookDelivery

        rows = await WebhookDelivery.select(WebhookDelivery.last_error).order_by(WebhookDelivery.id)
        return [r["last_error"] for r in rows]

    refused = in_app(client, errors)
    assert sum(e.startswith("refused: ") for e in refused) == 6
