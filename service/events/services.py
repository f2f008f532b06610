"""Emitting events and managing agencies' webhook subscriptions."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from service.accounts.guards import Principal
from service.errors import InvalidField, NotFound
from service.events.tables import Event, WebhookDelivery, WebhookSubscription
from service.security import IdNumberCipher

EVENT_TYPES = (
    "offer.made",
    "offer.accepted",
    "offer.declined",
    "offer.withdrawn",
    "placement.completed",
    "placement.terminated",
    "request.vacancy",
    "review.received",
    "credential.verified",
    "credential.rejected",
    "credential.revoked",
    "complaint.filed",
    "complaint.decided",
    "appeal.decided",
)
NOTIFY_CHANNEL = "nanyue_events"
SECRET_PURPOSE = b"webhook.secret.v1"


async def emit(event_type: str, payload: dict[str, Any], agency_ids: list[int | None]) -> int:
    """Record an event for the agencies it concerns. Call inside the transaction of the
    change it describes: both commit together or neither does. The dispatcher is woken
    by a NOTIFY that PostgreSQL sends only at commit."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type: {event_type}")
    recipients = sorted({a for a in agency_ids if a is not None})
    event = Event(type=event_type, payload=payload, agency_ids=recipients)
    await event.save()
    if recipients:
        subscriptions = await WebhookSubscription.select(WebhookSubscription.id).where(
            WebhookSubscription.agency.is_in(recipients)
            & WebhookSubscription.active.eq(True)
            & WebhookSubscription.event_types.any(event_type)
        )
        if subscriptions:
            await WebhookDelivery.insert(
                *[WebhookDelivery(event=event.id, subscription=s["id"]) for s in subscriptions]
            )
            await Event.raw(f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')")
    return event.id


class UnsafeUrl(ValueError):
    pass


# A resolver answers the addresses of a host name; the service asks the system's, tests
# pass their own (no real DNS lookups of outside hosts in tests).
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


# Everything in IANA's IPv4 and IPv6 Special-Purpose Address Registries, whether or not the
# registry marks the block globally reachable: no agency's receiver lives in them, and
# several embed an IPv4 address (NAT64, 6to4, Teredo, IPv4-compatible and -mapped) that a
# gateway would turn into a private one. IPv6 outside 2000::/3 is not assigned and refused.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.31.196.0/24",
        "192.52.193.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "192.175.48.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback, IPv4-compatible (deprecated)
        "::ffff:0:0/96",  # IPv4-mapped
        "::ffff:0:0:0/96",  # IPv4-translated
        "64:ff9b::/96",  # NAT64, well-known prefix
        "64:ff9b:1::/48",  # NAT64, local use
        "100::/64",  # discard-only
        "100:0:0:1::/64",  # dummy prefix
        "2001::/23",  # IETF protocol assignments: Teredo (2001::/32), benchmarking, AMT, AS112, ORCHID
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "2620:4f:8000::/48",  # AS112 direct delegation
        "3fff::/20",  # documentation
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)


def is_public_address(address: str) -> bool:
    """True only for a globally routable unicast address outside every special-purpose block."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        return ip.is_global and not any(ip in block for block in _BLOCKED_V4)
    if ip.scope_id or ip not in _GLOBAL_UNICAST_V6:
        return False
    return ip.is_global and not any(ip in block for block in _BLOCKED_V6)


async def check_outbound_url(url: str, *, allow_private: bool, resolve: Resolver | None = None) -> str | None:
    """Refuse URLs that would make the service call itself or a private network (SSRF).

    Unless private webhooks are allowed: `https` on port 443 only, and the host (an address
    literal, or every address its name resolves to) must be public. Returns the checked
    address to connect to (None when private addresses are allowed), so the caller can pin
    it and a second DNS answer cannot differ (DNS rebinding)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("地址格式无效 (not a valid URL)") from None
    if parts.scheme not in ("https", "http") or not parts.hostname or len(parts.hostname) > 253:
        raise UnsafeUrl("须为 http(s) 地址 (must be an http(s) URL)")
    if parts.username or parts.password:
        raise UnsafeUrl("地址中不能包含账号密码 (no credentials in the URL)")
    if allow_private:
        return None
    if parts.scheme != "https":
        raise UnsafeUrl("须使用 https (must use https)")
    if port not in (None, 443):
        raise UnsafeUrl("只能使用 443 端口 (only port 443 is allowed)")
    private = UnsafeUrl("不能指向内网、本机或保留地址 (must not point to a private, loopback or reserved address)")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None:
        if not is_public_address(str(literal)):
            raise private
        return str(literal)
    try:
        addresses = await (resolve or system_resolver)(parts.hostname, 443)
    except (OSError, UnicodeError):
        raise UnsafeUrl("无法解析主机名 (the host name does not resolve)") from None
    if not addresses:
        raise UnsafeUrl("无法解析主机名 (the host name does not resolve)")
    if not all(is_public_address(a) for a in addresses):
        raise private
    return addresses[0]


def pinned(url: str, address: str | None) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL to request, extra headers and httpx extensions that connect to `address`
    while the Host header and TLS (SNI and certificate check) still use the host name."""
    if address is None:
        return url, {}, {}
    parts = urlsplit(url)
    if parts.hostname is None:
        raise ValueError(f"URL without a host: {url}")
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    host_header = parts.hostname + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl(), {"Host": host_header}, {"sni_hostname": parts.hostname}


async def subscribe(
    principal: Principal,
    *,
    url: str,
    event_types: list[str],
    cipher: IdNumberCipher,
    allow_private: bool,
    resolve: Resolver | None = None,
) -> dict:
    if unknown := sorted(set(event_types) - set(EVENT_TYPES)):
        raise InvalidField("event_types", f"unknown event types: {', '.join(unknown)}")
    try:
        await check_outbound_url(url, allow_private=allow_private, resolve=resolve)
    except UnsafeUrl as exc:
        raise InvalidField("url", str(exc)) from None
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = WebhookSubscription(
        agency=principal.agency_id,
        url=url,
        event_types=sorted(set(event_types)),
        secret_encrypted=cipher.encrypt(secret, SECRET_PURPOSE),
    )
    await row.save()
    return {**row.to_dict(), "secret": secret}


async def list_subscriptions(principal: Principal) -> list[dict]:
    return (
        await WebhookSubscription.select()
        .where((WebhookSubscription.agency == principal.agency_id) & WebhookSubscription.active.eq(True))
        .order_by(WebhookSubscription.id)
    )


async def _own_subscription(principal: Principal, subscription_id: int) -> dict:
    row = (
        await WebhookSubscription.select()
        .where((WebhookSubscription.id == subscription_id) & (WebhookSubscription.agency == principal.agency_id))
        .first()
    )
    if row is None:
        raise NotFound("订阅不存在 (no such subscription)")
    return row


async def unsubscribe(principal: Principal, subscription_id: int) -> None:
    await _own_subscription(principal, subscription_id)
    async with WebhookSubscription._meta.db.transaction():
        await WebhookSubscription.update({WebhookSubscription.active: False}).where(
            WebhookSubscription.id == subscription_id
        )
        await WebhookDelivery.update(
            {WebhookDelivery.status: "dead", WebhookDelivery.last_error: "unsubscribed"}
        ).where((WebhookDelivery.subscription == subscription_id) & (WebhookDelivery.status == "pending"))


async def list_deliveries(principal: Principal, subscription_id: int, *, limit: int, offset: int) -> list[dict]:
    await _own_subscription(principal, subscription_id)
    return (
        await WebhookDelivery.select(
            *WebhookDelivery.all_columns(),
            WebhookDelivery.event.type.as_alias("event_type"),
        )
        .where(WebhookDelivery.subscription == subscription_id)
        .order_by(WebhookDelivery.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
