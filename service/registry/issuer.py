"""Asks the issuing body whether a certificate number is genuine.

The endpoint is configurable (`CERTIFICATE_ISSUER_URL`); it receives
`{"certificate_no", "occupation_code", "level"}` and answers 200 `{"valid": true|false}`
(404 also means "no such certificate"). Timeouts and 5xx answers are retried a few times;
when the issuer stays unreachable the certificate simply stays `pending`.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

log = logging.getLogger(__name__)


class IssuerClient:
    def __init__(
        self, http: httpx.AsyncClient, url: str, *, attempts: int = 3, timeout: float = 3.0, pause: float = 0.2
    ) -> None:
        self.http, self.url, self.attempts, self.timeout, self.pause = http, url, attempts, timeout, pause

    async def confirm(self, *, certificate_no: str, occupation_code: str, level: int) -> bool | None:
        """True: genuine; False: the issuer does not know it; None: the issuer could not be asked."""
        body = {"certificate_no": certificate_no, "occupation_code": occupation_code, "level": level}
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self.http.post(self.url, json=body, timeout=self.timeout)
            except httpx.HTTPError as exc:
                log.warning("issuer unreachable (attempt %d): %s", attempt, type(exc).__name__)
            else:
                if response.status_code == 404:
                    return False
                if response.is_success:
                    try:
                        return bool(response.json()["valid"])
                    except (ValueError, KeyError, TypeError):
                        log.warning("issuer answered without a verdict: %s", response.text[:200])
                        return None
                log.warning("issuer answered %d (attempt %d)", response.status_code, attempt)
                if response.status_code < 500:
                    return None
            if attempt < self.attempts:
                await asyncio.sleep(self.pause * 2 ** (attempt - 1))
        return None
