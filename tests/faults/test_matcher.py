"""A database failure between the index's read of changed workers and its read of their
placements leaves the index as it was: the next round reads the same changes again."""

from __future__ import annotations

import pytest

from service.employment.services import busy_periods
from service.matching.facts import DatabaseFacts
from service.matching.index import CandidateIndex
from tests.conftest import in_app


async def test_a_failure_between_the_fact_read_and_the_busy_read_loses_no_change(client, app, registry):
    person, worker = await registry.worker()
    asked: list[list[int] | None] = []
    away = {"now": False}

    async def flaky_busy(worker_ids):
        asked.append(worker_ids)
        if away["now"]:
            raise ConnectionRefusedError("the database went away")
        return await busy_periods(worker_ids)

    async def load() -> CandidateIndex:
        index = CandidateIndex(app.state.taxonomy, DatabaseFacts(app.state.engine), busy=flaky_busy)
        await index.ensure_fresh()
        return index

    index = in_app(client, load)
    before = (index.version, index.xmin)
    withdrawn = await client.delete(f"/api/v1/workers/{worker['id']}/consent", headers=person.headers)
    assert withdrawn.status_code in (200, 204)

    async def refresh_while_away() -> None:
        away["now"] = True
        try:
            with pytest.raises(ConnectionRefusedError):
                await index.ensure_fresh()
        finally:
            away["now"] = False

    in_app(client, refresh_while_away)
    assert (index.version, index.xmin) == before  # nothing half-applied
    asked.clear()
    in_app(client, index.ensure_fresh)
    # The change is read again and her placements with it.
    assert asked and worker["id"] in asked[-1]
    assert index.version != before[0]


async def test_placements_of_more_workers_than_a_query_has_parameters(client, registry):
    """A refresh can see more changed workers than PostgreSQL takes parameters (32,767): a
    bulk change, or a snapshot horizon held back by an old transaction elsewhere on the
    server; their placements are still read."""
    _, worker = await registry.worker()

    async def read():
        return await busy_periods([worker["id"], *range(10_000_000, 10_040_000)])

    periods = in_app(client, read)
    assert periods.by_worker == {} and periods.placed_workers == set()
