"""The suite's own check that no raw ID number or unmasked mobile number leaves the
service: every response body the app sends (to any test client) and every log line the
service formats are scanned, and the run fails at its end if any carried one.

A response may carry one only when
- the request logged a read (`service.privacy.audit.record_reads`: her own export, an
  audited reveal, the household's contact after a placement, her own profile form), or
- the request itself carried that number (a form shown again with what was typed), or
- it is the signed-in caller's own account phone (the claim form sends her code to it).
Documentation (`/schema`) and the import template (`/agency/import/template.csv`), whose
examples are made-up numbers, are not scanned.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from service.observability import JsonFormatter
from service.privacy import _ID15_IN_TEXT, _ID18_IN_TEXT, _PHONE_IN_TEXT, carries_personal_data, mask_text
from service.privacy.audit import reads_in_request

SCANNED_TYPES = (b"json", b"html", b"text", b"csv")
NOT_SCANNED_PATHS = ("/schema", "/agency/import/template.csv")


def _standalone(text: str, m: re.Match) -> bool:
    """Not a digit run inside a token (hex ids, CSRF tokens, keys): no ASCII letter
    right before or after it."""
    before = text[m.start() - 1] if m.start() > 0 else " "
    after = text[m.end()] if m.end() < len(text) else " "
    return not (before.isascii() and before.isalpha()) and not (after.isascii() and after.isalpha())


def numbers_in(text: str) -> set[str]:
    """The ID and mobile numbers in `text`, as bare digits (an ID's X upper-cased)."""
    found = set()
    for pattern in (_ID18_IN_TEXT, _ID15_IN_TEXT):
        for m in pattern.finditer(text):
            digits = re.sub(r"[^0-9Xx]", "", m.group(0)).upper()
            # Only numbers with a birth date in them: a certificate number's 15 digits are not an ID.
            month, day = (digits[10:12], digits[12:14]) if len(digits) == 18 else (digits[8:10], digits[10:12])
            if "01" <= month <= "12" and "01" <= day <= "31" and _standalone(text, m):
                found.add(digits)
    for m in _PHONE_IN_TEXT.finditer(text):
        if _standalone(text, m):
            found.add(re.sub(r"[^0-9]", "", m.group(2) + m.group(3) + m.group(4)))
    return found


async def own_phone(scope) -> str | None:
    user = scope.get("user")
    if getattr(user, "user_id", None) is None:
        return None
    from service.accounts.tables import User

    row = await User.select(User.phone).where(User.id == user.user_id).first()
    return row["phone"] if row else None


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
            sent: list[bytes] = [scope.get("query_string", b"")]
            scanned_type = True
            reads: list = []
            token = reads_in_request.set(reads)

            async def listen():
                message = await receive()
                if message["type"] == "http.request":
                    sent.append(message.get("body", b""))
                return message

            async def capture(message):
                nonlocal scanned_type
                if message["type"] == "http.response.start":
                    content_type = dict(message.get("headers") or []).get(b"content-type", b"")
                    scanned_type = not content_type or any(t in content_type for t in SCANNED_TYPES)
                elif message["type"] == "http.response.body" and scanned_type:
                    chunks.append(message.get("body", b""))
                await send(message)

            try:
                await asgi(scope, listen, capture)
            finally:
                reads_in_request.reset(token)
            self.responses += 1
            body = b"".join(chunks).decode("utf-8", "replace")
            if reads or not carries_personal_data(body):
                return
            echoed = numbers_in(unquote_plus(b"&".join(sent).decode("utf-8", "replace")))
            unexplained = numbers_in(body) - echoed
            if unexplained and unexplained - {await own_phone(scope)}:
                self.found(f"response to {scope['method']} {scope['path']}", _around(body))

        return scanned

    def watch_logs(self) -> None:
        scan = self
        original = JsonFormatter.format

        def format(self, record: logging.LogRecord) -> str:
            line = original(self, record)
            scan.lines += 1
            if carries_personal_data(line) and numbers_in(line):
                scan.found(f"log line of {record.name}", line)
            return line

        JsonFormatter.format = format  # type: ignore[method-assign]


def _around(text: str) -> str:
    masked = mask_text(text)
    for i, (a, b) in enumerate(zip(text, masked)):
        if a != b:
            return text[max(0, i - 80) : i + 80]
    return text[:160]
