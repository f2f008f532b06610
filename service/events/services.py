"""Emitting events and managing agencies' webhook subscriptions."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from typing import Any
from urllib.parse import urlsplit

from service.accounts.guards import Principal
from service.errors import InvalidField, NotFound
from service.events.tables import Event, WebhookDelivery, WebhookSubscription
from service.security import IdNumberCipher

EVENT_TYPES = (
    "offer.made", "offer.accepted", "offer.declined", "offer.withdrawn",
    "placement.completed", "placement.terminated",
    "review.received",
    "credential.verified", "credential.rejected", "credential.revoked",
    "complaint.filed", "complaint.decided", "appeal.decided",
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
            WebhookSubscription.agency.is_in(recipients) & WebhookSubscription.active.eq(True)
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


async def check_outbound_url(url: str, *, allow_private: bool) -> str | None:
    """Refuse URLs that would make the service call itself or a private network (SSRF).

    Returns the checked address to connect to (None when private addresses are allowed),
    so the caller can pin it and a second DNS answer cannot differ (DNS rebinding)."""
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
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeUrl("无法解析主机名 (the host name does not resolve)") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise UnsafeUrl("不能指向内网、本机或保留地址 (must not point to a private, loopback or reserved address)")
    return infos[0][4][0]


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


async def subscribe(principal: Principal, *, url: str, event_types: list[str], cipher: IdNumberCipher,
                    allow_private: bool) -> dict:
    if unknown := sorted(set(event_types) - set(EVENT_TYPES)):
        raise InvalidField("event_types", f"unknown event types: {', '.join(unknown)}")
    try:
        await check_outbound_url(url, allow_private=allow_private)
    except UnsafeUrl as exc:
        raise InvalidField("url", str(exc)) from None
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = WebhookSubscription(agency=principal.agency_id, url=url, event_types=sorted(set(event_types)),
                              secret_encrypted=cipher.encrypt(secret, SECRET_PURPOSE))
    await row.save()
    return {**row.to_dict(), "secret": secret}


async def list_subscriptions(principal: Principal) -> list[dict]:
    return await WebhookSubscription.select().where(
        (WebhookSubscription.agency == principal.agency_id) & WebhookSubscription.active.eq(True)
    ).order_by(WebhookSubscription.id)


async def _own_subscription(principal: Principal, subscription_id: int) -> dict:
    row = await WebhookSubscription.select().where(
        (WebhookSubscription.id == subscription_id) & (WebhookSubscription.agency == principal.agency_id)
    ).first()
    if row is None:
        raise NotFound("订阅不存在 (no such subscription)")
    return row


async def unsubscribe(principal: Principal, subscription_id: int) -> None:
    await _own_subscription(principal, subscription_id)
    async with WebhookSubscription._meta.db.transaction():
        await WebhookSubscription.update({WebhookSubscription.active: False}).where(
            WebhookSubscription.id == subscription_id)
        await WebhookDelivery.update({WebhookDelivery.status: "dead", WebhookDelivery.last_error: "unsubscribed"}).where(
            (WebhookDelivery.subscription == subscription_id) & (WebhookDelivery.status == "pending"))


async def list_deliveries(principal: Principal, subscription_id: int, *, limit: int, offset: int) -> list[dict]:
    await _own_subscription(principal, subscription_id)
    return await WebhookDelivery.select(
        *WebhookDelivery.all_columns(), WebhookDelivery.event.type.as_alias("event_type"),
    ).where(WebhookDelivery.subscription == subscription_id).order_by(WebhookDelivery.id, ascending=False).limit(limit).offset(offset)
