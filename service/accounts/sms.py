"""Sending one-time codes by SMS: a development sender and an SMS gateway adapter.

`SMS_SENDER=log` (the default) writes each message to the log and keeps the last ones in
memory, so a developer (or a test) reads the code there. `SMS_SENDER=http` POSTs
`{"phone", "message"}` as JSON to `SMS_GATEWAY_URL` with `Authorization: Bearer
SMS_GATEWAY_KEY`; any answer but 2xx, or no answer, is a failed send.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from typing import Any, Protocol

import httpx

from service.settings import Settings

log = logging.getLogger(__name__)

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


class SmsError(Exception):
    """The message could not be handed to the gateway."""


class SmsSender(Protocol):
    async def send(self, phone: str, message: str) -> None: ...


class LogSmsSender:
    """Development: the message goes to the log (phone masked there) and stays in memory."""

    def __init__(self, keep: int = 200) -> None:
        self.sent: deque[tuple[str, str]] = deque(maxlen=keep)

    async def send(self, phone: str, message: str) -> None:
        self.sent.append((phone, message))
        log.info("SMS to %s: %s", phone, message)

    def last_code(self, phone: str) -> str | None:
        """The code in the last message sent to `phone`, if any."""
        for number, message in reversed(self.sent):
            if number == phone:
                found = _CODE.search(message)
                return found.group(1) if found else None
        return None


class HttpSmsSender:
    """An SMS gateway reached over HTTP(S)."""

    def __init__(self, http: httpx.AsyncClient, url: str, key: str) -> None:
        self._http = http
        self._url = url
        self._key = key

    async def send(self, phone: str, message: str) -> None:
        try:
            response = await self._http.post(
                self._url,
                json={"phone": phone, "message": message},
                headers={"Authorization": f"Bearer {self._key}"},
                timeout=10.0,
            )
        except httpx.HTTPError as exc:
            raise SmsError(f"SMS gateway unreachable: {type(exc).__name__}") from exc
        if not response.is_success:
            raise SmsError(f"SMS gateway answered {response.status_code}")


def make_sender(settings: Settings, http: httpx.AsyncClient | None) -> SmsSender:
    if settings.sms_sender == "http":
        if http is None or not settings.sms_gateway_url or not settings.sms_gateway_key:
            raise RuntimeError("SMS_SENDER=http needs SMS_GATEWAY_URL, SMS_GATEWAY_KEY and an HTTP client")
        return HttpSmsSender(http, settings.sms_gateway_url, settings.sms_gateway_key)
    if settings.environment == "production":
        log.warning("SMS_SENDER=log in production: one-time codes go to the log, not to phones")
    return LogSmsSender()


def sender_of(app: Any) -> SmsSender:
    """The app's sender, made from its settings on first use."""
    sender = getattr(app.state, "sms_sender", None)
    if sender is None:
        sender = app.state.sms_sender = make_sender(app.state.settings, getattr(app.state, "http", None))
    return sender
