"""Stands in for everything outside the service that it calls over HTTP: agencies'
webhook receivers and the certificate issuer (through httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import httpx

ISSUER_URL = "https://issuer.test/verify"


@dataclass
class Received:
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    received: list[Received] = field(default_factory=list)
    # status to answer per URL (default 200); "hang" waits until released
    answers: dict[str, object] = field(default_factory=dict)
    genuine_certificates: set[str] = field(default_factory=set)
    issuer_down: bool = False
    released: asyncio.Event | None = None
    arrived: asyncio.Event | None = None

    def reset(self) -> None:
        self.received.clear()
        self.answers.clear()
        self.genuine_certificates.clear()
        self.issuer_down = False
        self.released = self.arrived = None

    async def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url == ISSUER_URL:
            if self.issuer_down:
                raise httpx.ConnectTimeout("issuer unreachable", request=request)
            number = json.loads(request.content)["certificate_no"]
            return httpx.Response(200, json={"valid": number in self.genuine_certificates})
        self.received.append(Received(url=url, headers=dict(request.headers), body=request.content))
        answer = self.answers.get(url, 200)
        if answer == "hang":
            if self.arrived is not None:
                self.arrived.set()
            await self.released.wait()
            answer = 200
        return httpx.Response(int(answer))

    def to(self, url: str) -> list[Received]:
        return [r for r in self.received if r.url == url]
