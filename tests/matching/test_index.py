"""The candidate index holds the same facts however it was loaded."""

from datetime import timedelta

import numpy as np

from service.employment.services import busy_periods
from service.matching.facts import DatabaseFacts, positions_to_masks
from service.matching.index import BitVocabulary, CandidateIndex
from service.registry.domain import today_local
from tests.conftest import in_app


class RowByRow:
    """The same source without its bulk path."""

    def __init__(self, source):
        self.source = source

    async def all_workers(self):
        return await self.source.all_workers()

    async def changed_workers(self, since):
        return await self.source.changed_workers(since)


async def test_the_bulk_load_equals_the_row_by_row_load(client, actors, registry, app):
    await registry.worker(
        real_name="欧阳丽华",
        certificate_level=3,
        trained_on=today_local() - timedelta(days=20),
        languages=["粤语", "闽南话"],
    )
    await registry.worker(real_name="陈好", health="home", location=None, wage_unit="hour", wage_min=35, wage_max=45)
    # Certificates of several 工种, one 二级 (not split by 工种), and a price per 单.
    await registry.worker(
        real_name="司徒燕",
        wage_unit="term",
        wage_min=15000,
        wage_max=18000,
        certificates=[("4-10-01-06", "家务服务员", 4), ("4-10-01-06", None, 2), ("4-10-01-02", None, 3)],
    )
    _, blacklisted = await registry.worker(real_name="黄丽", consent=False, health=None)
    await client.post(
        f"/api/v1/workers/{blacklisted['id']}/checks",
        headers=registry.admin.headers,
        json={"kind": "background", "result": "failed", "checked_on": today_local().isoformat()},
    )
    _, passed = await registry.worker(real_name="李美玲", categories=["elderly", "medical"], health="elderly")
    await client.post(
        f"/api/v1/workers/{passed['id']}/checks",
        headers=registry.admin.headers,
        json={"kind": "background", "result": "passed", "checked_on": today_local().isoformat()},
    )

    async def build_both():
        indexes = []
        for source in (DatabaseFacts(app.state.engine), RowByRow(DatabaseFacts(app.state.engine))):
            index = CandidateIndex(app.state.taxonomy, source, busy=busy_periods)
            await index.ensure_fresh()
            indexes.append(index)
        return indexes

    bulk, rows = in_app(client, build_both)
    assert bulk.n == rows.n == 5
    assert bulk.version == rows.version and bulk.languages.bits == rows.languages.bits
    for name in bulk._columns:
        if name == "surname":
            continue
        np.testing.assert_array_equal(bulk.col(name), rows.col(name), err_msg=name)
    assert (
        [bulk.surname_of(r) for r in range(5)]
        == [rows.surname_of(r) for r in range(5)]
        == ["欧阳", "陈", "司徒", "黄", "李"]
    )
    levels = dict(zip(bulk.occupations, bulk.col("certificates")[2].tolist()))
    assert levels["4-10-01-06"] == 2 and levels["4-10-01-02"] == 3
    # 二级 serves every 工种; a 三级 母婴护理员 certificate only its own.
    assert levels["4-10-01-06:母婴护理员"] == levels["4-10-01-06:家务服务员"] == levels["4-10-01-06:家庭照护员"] == 2
    first = dict(zip(bulk.occupations, bulk.col("certificates")[0].tolist()))
    assert (first["4-10-01-06"], first["4-10-01-06:母婴护理员"], first["4-10-01-06:家务服务员"]) == (3, 3, 0)
    assert bulk.col("wage_term").tolist() == [False, False, True, False, False]
    assert bulk.col("background").max() > 0 and bulk.col("blacklisted").max() > 0 and bulk.col("trained").max() > 0


def test_vocabulary_positions_become_the_same_masks_as_the_vocabulary_makes():
    vocabulary = BitVocabulary([f"code{i}" for i in range(150)], capacity_words=3)
    rows = [["code0", "code63", "code64"], ["code149"], [], ["code5", "code5", "code127", "code128"]]
    width = max(len(r) for r in rows)
    positions = np.array([[vocabulary.bits[c] + 1 for c in r] + [0] * (width - len(r)) for r in rows], dtype=np.int16)
    masks = positions_to_masks(positions, vocabulary.words)
    assert masks.dtype == np.uint64
    assert masks.tolist() == [vocabulary.words_of(r) for r in rows]
    assert masks[0].tolist() == [1 | 1 << 63, 1, 0]


async def test_the_bulk_load_of_an_empty_registry_is_empty(client, app):
    async def load():
        index = CandidateIndex(app.state.taxonomy, DatabaseFacts(app.state.engine), busy=busy_periods)
        await index.ensure_fresh()
        return index

    index = in_app(client, load)
    assert index.loaded and index.n == 0 and index.skipped == {}


async def test_the_load_in_id_ranges_equals_the_load_in_one(client, actors, registry, app):
    """Read in three ranges at once, over connections sharing one snapshot, the columns
    are those of one read."""
    from service.matching import facts

    for n in range(7):
        await registry.worker(experience_years=n, health="home" if n % 2 else "maternity")

    async def build(chunks):
        source = DatabaseFacts(app.state.engine, load_chunks=chunks)
        index = CandidateIndex(app.state.taxonomy, source, busy=busy_periods)
        await index.ensure_fresh()
        return index

    one, three = in_app(client, lambda: build(1)), in_app(client, lambda: build(3))
    assert one.n == three.n == 7
    for name in one._columns:
        np.testing.assert_array_equal(one.col(name), three.col(name), err_msg=name)
    assert facts._id_ranges(1, 10, 3) == [(1, 3), (4, 6), (7, 10)]
    assert facts._id_ranges(1, 5, 3) == [(1, 5)]
