"""The suite's own check that no raw ID number or unmasked mobile number leaves the
service: every response body the app sends (to any test client) and every log line the
service formats are scanned, and the run fails at its end if any carried one.

A response may carry them only when the request logged a read of them
(`service.privacy.audit.record_reads`: her own export, an audited reveal, the household's
contact after a placement). Documentation (`/schema`, whose examples are made-up numbers)
is not scanned.
"""

from __future__ import annotations

import logging

from service.observability import JsonFormatter
from service.privacy import carries_personal_data, mask_text
from service.privacy.audit import reads_in_request

SCANNED_TYPES = (b"json", b"html", b"text", b"csv")
NOT_SCANNED_PATHS = ("/schema",)


class Scan:
    def __init__(self) -> None:
        self.findings: list[str] = []
        self.responses = 0
        self.lines = 0

    def found(self, where: str, text: str) -> None:
        if len(self.findings) < 50:
            # The finding is reported masked too: the test output is a log as well.
            self.findings.append(f"{where}: {mask_text(text)[:300]}")

    def wrap(self, asgi):
        async def scanned(scope, receive, send):
            if scope["type"] != "http" or scope["path"].startswith(NOT_SCANNED_PATHS):
                return await asgi(scope, receive, send)
            chunks: list[bytes] = []
            scanned_type = True
            reads: list = []
            token = reads_in_request.set(reads)

            async def capture(message):
                nonlocal scanned_type
                if message["type"] == "http.response.start":
                    content_type = dict(message.get("headers") or []).get(b"content-type", b"")
                    scanned_type = not content_type or any(t in content_type for t in SCANNED_TYPES)
                elif message["type"] == "http.response.body" and scanned_type:
                    chunks.append(message.get("body", b""))
                await send(message)

            try:
                await asgi(scope, receive, capture)
            finally:
                reads_in_request.reset(token)
            self.responses += 1
            body = b"".join(chunks).decode("utf-8", "replace")
            if not reads and carries_personal_data(body):
                self.found(f"response to {scope['method']} {scope['path']}", _around(body))

        return scanned

    def watch_logs(self) -> None:
        scan = self
        original = JsonFormatter.format

        def format(self, record: logging.LogRecord) -> str:
            line = original(self, record)
            scan.lines += 1
            if carries_personal_data(line):
                scan.found(f"log line of {record.name}", line)
            return line

        JsonFormatter.format = format  # type: ignore[method-assign]


def _around(text: str) -> str:
    masked = mask_text(text)
    for i, (a, b) in enumerate(zip(text, masked)):
        if a != b:
            return text[max(0, i - 80) : i + 80]
    return text[:160]
