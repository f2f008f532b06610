"""The Redis counter sends the hits that come while its previous call is on its way in
one call; every hit is still told its own count, exactly as if counted one by one, in
any number of processes (two counters on one Redis stand for two processes here)."""

from __future__ import annotations

import asyncio

import pytest
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from service.accounts.throttle import RedisCounter
from tests.faults.support import RedisServer, free_port


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


async def test_parallel_hits_in_two_processes_get_every_count_once(redis_server):
    clients = [Redis.from_url(redis_server.url) for _ in range(2)]
    try:
        counters = [RedisCounter(RedisStore(client, namespace="batches")) for client in clients]
        sent: list[int] = []
        for counter in counters:  # count the calls each counter makes
            real = counter._hits

            async def counting(*args, _real=real, **kwargs):
                sent.append(len(kwargs["keys"]))
                return await _real(*args, **kwargs)

            counter._hits = counting
        hits = [counters[n % 2].hit("203.0.113.9" if n % 3 else "203.0.113.10", 60) for n in range(300)]
        results = await asyncio.gather(*hits)
        by_key = {"a": [], "b": []}
        for n, (count, ttl) in enumerate(results):
            by_key["a" if n % 3 else "b"].append(count)
            assert 1 <= ttl <= 60
        assert sorted(by_key["a"]) == list(range(1, 201))
        assert sorted(by_key["b"]) == list(range(1, 101))
        assert len(sent) < 300  # hits went together
        count, _ = await counters[1].hit("203.0.113.9", 60)
        assert count == 201
    finally:
        for client in clients:
            await client.aclose()


async def test_every_waiting_hit_sees_the_call_fail():
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    counter = RedisCounter(RedisStore(client, namespace="batches"))
    try:
        results = await asyncio.gather(*(counter.hit("k", 60) for _ in range(5)), return_exceptions=True)
        assert all(isinstance(r, OSError) or "Connect" in type(r).__name__ for r in results), results
    finally:
        await client.aclose()
