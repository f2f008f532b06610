"""The candidate index: every worker's matching facts as compact numpy columns, per process.

Why: ranking a province's workers per request in SQL costs a full scan each time; the
same facts held as columns (bitmasks for skills, districts and languages; small integers
for levels, dates and wages) are filtered and scored with vectorised arithmetic.

Freshness, strictly: a trigger stamps every write to a worker row with its transaction id
(`worker.change_txid`); every write to a credential, consent or placement also updates the
worker row. Before each use, `refresh()` re-reads the rows whose `change_txid` is at or
above the oldest transaction that was still running at the previous refresh
(`pg_snapshot_xmin`). Every transaction below that was finished then, so its writes were
already read; anything committed since is read now. A change that committed before a
match request began is therefore always in that request's ranking.

`version` is the sum of all rows' `change_txid`: any write changes it, in every process
alike, so it keys the shared match cache of province-wide requests. Requests scoped to an
area are keyed by that area's fingerprint instead (`area_version`): the sum of a 64-bit
hash of (id, change_txid) over the rows listed in its districts and grid cells. It is a
function of those rows alone, the same in every process that has read the same writes,
and any write to a worker there (or one who leaves or joins) changes it, so a change in
one district leaves the cached pages of every other district valid.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from prometheus_client import Gauge

from service.admission import waiting
from service.privacy import name_head, surname
from service.taxonomy.rules import CATEGORY_CODES, HEALTH_TIER_CODES, best_levels, credential_keys
from service.taxonomy.services import Taxonomy

if TYPE_CHECKING:
    from service.matching.checkpoint import CheckpointStore, Snapshot

log = logging.getLogger(__name__)
T = TypeVar("T")

EPOCH = date(1970, 1, 1)
NEVER = 0  # "no such date" for columns where later is better
FOREVER = np.iinfo(np.int32).max
GRID_DEGREES = 0.05
# How far inside a radius a whole grid cell must lie to take its rows without measuring
# each (float32 coordinates and rounding are far finer than this).
INSIDE_MARGIN_KM = 0.1
INSIDE_MARGIN_DEGREES = 0.001
# Bit i of a worker's category mask is CATEGORIES[i].
CATEGORIES = CATEGORY_CODES
# Column t of `health` is HEALTH_TIER_CODES[t]: the latest valid_until of a report of that tier.
N_TIERS = len(HEALTH_TIER_CODES)
# What the index can hold. A row with a date outside (PostgreSQL's `infinity`, a year
# 9999) or coordinates off the globe cannot be read into the columns: it is skipped,
# logged with its id, counted, and reported by /ready, and every other row still loads.
READABLE_DATES = (date(1900, 1, 1), date(2200, 12, 31))
READABLE_LAT, READABLE_LON = (-90.0, 90.0), (-180.0, 180.0)
SKIPPED_ROWS = Gauge("nanyue_matcher_skipped_rows", "Worker rows the candidate index could not read and left out")
MAX_SKIP_LOG_LINES = 100
# With a lagging source: the least time between refreshes while the primary reports
# changes the replica has not shown yet.
LAGGING_REFRESH_SECONDS = 0.2


# The checks of the bulk load, in the order of the bits of its `unreadable` column.
UNREADABLE_CHECKS = (
    "blacklisted_until",
    "available_from",
    "lat",
    "lon",
    "health_until",
    "background_until",
    "last_trained",
)


def day_number(value: date | None) -> int:
    return (value - EPOCH).days if value is not None else NEVER


# Grid cells packed into one integer: i * _CELL_PACK + (j + _CELL_SHIFT), j ≥ -180/0.05.
_CELL_SHIFT = 4_000
_CELL_PACK = 10_000
MASK64 = (1 << 64) - 1
_MIX = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB)


def fingerprint(worker_id: int, txid: int) -> int:
    """A 64-bit hash of one row's state (splitmix64 of id and change_txid); equal, bit for
    bit, to `fingerprints` of the same values."""
    x = (worker_id * _MIX[0] + txid) & MASK64
    x = ((x ^ (x >> 30)) * _MIX[1]) & MASK64
    x = ((x ^ (x >> 27)) * _MIX[2]) & MASK64
    return x ^ (x >> 31)


def fingerprints(ids: np.ndarray, txids: np.ndarray) -> np.ndarray:
    """`fingerprint` over arrays (uint64 arithmetic wraps modulo 2**64, as masked above)."""
    with np.errstate(over="ignore"):
        x = ids.astype(np.uint64) * np.uint64(_MIX[0]) + txids.astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(_MIX[1])
        x = (x ^ (x >> np.uint64(27))) * np.uint64(_MIX[2])
        return x ^ (x >> np.uint64(31))


def bits_of(words: Iterable[int]) -> Iterable[int]:
    """The set bits of a mask given as 64-bit words."""
    for word_index, word in enumerate(words):
        while word:
            low = word & -word
            yield word_index * 64 + low.bit_length() - 1
            word ^= low


def _cell(lat: float, lon: float) -> tuple[int, int] | None:
    """The location grid cell of a point, or None without a location."""
    if np.isnan(lat):
        return None
    return int(math.floor(lat / GRID_DEGREES)), int(math.floor(lon / GRID_DEGREES))


def half_box(lat: float, radius_km: float) -> tuple[float, float]:
    """The half-sides, in degrees of latitude and longitude, of the box around a radius."""
    return radius_km / 111.0, radius_km / (111.0 * max(0.2, math.cos(math.radians(lat))))


def cell_box(lat: float, lon: float, radius_km: float) -> tuple[range, range]:
    """The grid cells (rows i, columns j) that the box around a radius touches."""
    dlat, dlon = half_box(lat, radius_km)
    return (
        range(math.floor((lat - dlat) / GRID_DEGREES), math.floor((lat + dlat) / GRID_DEGREES) + 1),
        range(math.floor((lon - dlon) / GRID_DEGREES), math.floor((lon + dlon) / GRID_DEGREES) + 1),
    )


def _cell_within(i: int, j: int, lat: float, lon: float, dlat: float, dlon: float, radius_km: float) -> bool:
    """Whether grid cell (i, j) lies inside the box of half-sides `dlat`, `dlon` and within
    `radius_km` of (lat, lon), with a margin. On a sphere the farthest point of a small
    latitude-longitude rectangle from a point is one of its corners."""
    m = INSIDE_MARGIN_DEGREES
    south, north = i * GRID_DEGREES - m, (i + 1) * GRID_DEGREES + m
    west, east = j * GRID_DEGREES - m, (j + 1) * GRID_DEGREES + m
    if south < lat - dlat or north > lat + dlat or west < lon - dlon or east > lon + dlon:
        return False
    corners_lat = np.array([south, south, north, north])
    corners_lon = np.array([west, east, west, east])
    p1, p2 = math.radians(lat), np.radians(corners_lat)
    a = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(np.radians(corners_lon - lon) / 2) ** 2
    farthest = 6371.0 * 2 * np.arcsin(np.sqrt(np.minimum(a, 1.0))).max()
    return bool(farthest <= radius_km - INSIDE_MARGIN_KM)


def words_for(bits: int) -> int:
    return max(1, math.ceil(bits / 64))


class BitVocabulary:
    """Assigns each distinct string a bit; new strings get the next free bit."""

    def __init__(self, names: Iterable[str] = (), capacity_words: int = 1) -> None:
        self.bits: dict[str, int] = {}
        self.words = capacity_words
        for name in names:
            self.bit(name)

    def bit(self, name: str) -> int | None:
        position = self.bits.get(name)
        if position is None:
            if len(self.bits) >= self.words * 64:
                return None  # beyond capacity: not representable, ignored
            position = self.bits[name] = len(self.bits)
        return position

    def words_of(self, names: Iterable[str]) -> list[int]:
        """The mask of `names` as `words` unsigned 64-bit integers."""
        mask = 0
        for name in names:
            position = self.bit(name)
            if position is not None:
                mask |= 1 << position
        return [(mask >> (64 * w)) & 0xFFFF_FFFF_FFFF_FFFF for w in range(self.words)]

    def mask(self, names: Iterable[str]) -> np.ndarray:
        out = np.zeros(self.words, dtype=np.uint64)
        for name in names:
            position = self.bit(name)
            if position is not None:
                out[position // 64] |= np.uint64(1) << np.uint64(position % 64)
        return out


@dataclass
class WorkerFacts:
    """One worker's matching facts, as read from the database."""

    id: int
    txid: int
    active: bool
    consented: bool
    blacklisted_until: date | None
    categories: Sequence[str]
    skills: Sequence[str]
    district_codes: Sequence[str]
    languages: Sequence[str]
    live_in: bool
    experience_years: int
    wage_min: int
    wage_max: int
    wage_unit: str
    available_from: date | None
    lat: float | None
    lon: float | None
    surname: str
    female: bool
    # (occupation, 工种 or None) → best level of the verified certificates of that kind.
    certificates: dict[tuple[str, str | None], int] = field(default_factory=dict)
    health_until: dict[str, date] = field(default_factory=dict)  # tier code → latest valid_until
    background_until: date | None = None
    background_forever: bool = False
    last_trained: date | None = None
    integrity: float | None = None
    placed: bool = False
    # Why the row could not be read (set by the source when even decoding failed).
    unreadable: str | None = None

    @classmethod
    def unreadable_row(cls, id: int, txid: int, reason: str) -> WorkerFacts:
        return cls(
            id=id,
            txid=txid,
            active=False,
            consented=False,
            blacklisted_until=None,
            categories=(),
            skills=(),
            district_codes=(),
            languages=(),
            live_in=False,
            experience_years=0,
            wage_min=0,
            wage_max=0,
            wage_unit="month",
            available_from=None,
            lat=None,
            lon=None,
            surname="",
            female=False,
            unreadable=reason,
        )

    def problem(self) -> str | None:
        """Why these facts cannot go into the index, or None."""
        if self.unreadable:
            return self.unreadable

        def date_ok(*values: date | None) -> bool:
            return all(v is None or READABLE_DATES[0] <= v <= READABLE_DATES[1] for v in values)

        def within(value: float | None, bounds: tuple[float, float]) -> bool:
            return value is None or bounds[0] <= value <= bounds[1]

        ok = {  # the same checks, in the same order and words, as the bulk load's
            "blacklisted_until": date_ok(self.blacklisted_until),
            "available_from": date_ok(self.available_from),
            "lat": within(self.lat, READABLE_LAT),
            "lon": within(self.lon, READABLE_LON),
            "health_until": date_ok(*self.health_until.values()),
            "background_until": date_ok(self.background_until),
            "last_trained": date_ok(self.last_trained),
        }
        bad = [f"{name} out of range" for name, fine in ok.items() if not fine]
        return ", ".join(bad) or None


@dataclass
class BusyPeriods:
    """Date ranges in which workers are taken (from placements), by worker id."""

    by_worker: dict[int, list[tuple[date, date]]]
    placed_workers: set[int]


class FactsSource:
    """Where the index reads from; the database in the service, anything in tests."""

    async def all_workers(self) -> tuple[list[WorkerFacts], int]:
        raise NotImplementedError

    async def changed_workers(self, since_xmin: int) -> tuple[list[WorkerFacts], int]:
        raise NotImplementedError


BusyProvider = Callable[[list[int] | None], Awaitable[BusyPeriods]]


async def no_busy_periods(worker_ids: list[int] | None) -> BusyPeriods:
    return BusyPeriods(by_worker={}, placed_workers=set())


@dataclass(frozen=True)
class Probe:
    """A freshness probe taken by the caller in its own query: the snapshot's xmin and
    whether any worker row was stamped at or above `since` (the index's xmin then)."""

    since: int
    xmin: int
    changed: bool


class CandidateIndex:
    def __init__(
        self,
        taxonomy: Taxonomy,
        source: FactsSource,
        busy: BusyProvider = no_busy_periods,
        *,
        may_lag: bool = False,
        lagging_refresh_seconds: float = LAGGING_REFRESH_SECONDS,
        checkpoints: CheckpointStore | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.source = source
        self.busy_provider = busy
        # Where a first load looks for a checkpoint to start from (None: always the bulk load).
        self.checkpoints = checkpoints
        # Certificate columns, one per credential key: each occupation, and each of its 工种.
        self.occupations = credential_keys(taxonomy.occupations)
        self.occupation_column = {code: i for i, code in enumerate(self.occupations)}
        self._empty()
        self._district_rows: dict[int, list[np.ndarray]] = {}
        # District bits whose lists may hold rows that no longer serve there (a worker
        # dropped the district): only lookups over these re-check the column.
        self._stale_districts: set[int] = set()
        self._grid_rows: dict[tuple[int, int], list[np.ndarray]] = {}
        # Grid cells whose lists may hold rows that have moved away (as for districts).
        self._stale_cells: set[tuple[int, int]] = set()
        # Per district bit and per grid cell: the sum (mod 2**64) of the fingerprints of
        # the rows serving there / located there now (see `area_version`).
        self._district_prints: dict[int, int] = {}
        self._cell_prints: dict[tuple[int, int], int] = {}
        self._busy: dict[int, list[tuple[int, int]]] = {}
        self._busy_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.xmin = 0
        self.version = 0
        # Counts the refreshes that changed the columns: a page ranked while it stayed the
        # same was ranked from the state its key names.
        self.generation = 0
        self.loaded = False
        # The source is a replica that may lag (DATABASE_READ_URL): callers check on the
        # primary that the workers they show may still be shown; and while the replica has
        # not caught up with a change the primary reports, it is asked again at most every
        # `lagging_refresh_seconds`, not on every request.
        self.may_lag = may_lag
        self.lagging_refresh_seconds = lagging_refresh_seconds
        self._lagging_since: float | None = None
        # When (time.monotonic()) the query of the latest refresh or load was sent: its
        # snapshot holds every change committed before then.
        self._fresh_as_of = -math.inf
        self._lock = asyncio.Lock()
        # Rankings read the columns in a thread of their own while the event loop serves
        # other requests; a refresh writes them only when no ranking is reading.
        self._readers = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ranking")
        self.load_seconds = 0.0
        # Match pages made from this index, by a key naming all they depend on (see
        # matching.services.match_page_json); the most recent few, in this process. It
        # also watches each refresh, to keep the pages a change cannot alter.
        from service.matching.pages import PageMemory

        self.pages = PageMemory()
        # The checkpoint the first load started from (None: the bulk load), and how many
        # changed rows it caught up with.
        self.restored_from: int | None = None
        self.caught_up_rows = 0

    def _empty(self) -> None:
        """No rows, and the vocabularies and tables as the taxonomy alone makes them."""
        taxonomy = self.taxonomy
        self.skills = BitVocabulary(taxonomy.skills, words_for(len(taxonomy.skills) + 64))
        self.districts = BitVocabulary(taxonomy.districts, words_for(len(taxonomy.districts) + 64))
        self.languages = BitVocabulary(("mandarin", "cantonese", "hakka", "teochew", "english"), 1)
        self.surnames: list[str] = []
        self._surname_ids: dict[str, int] = {}
        # Worker id → why its row was left out (until a later write makes it readable).
        self.skipped: dict[int, str] = {}
        self.n = 0
        self._capacity = 0
        self._columns: dict[str, np.ndarray] = {}
        self._allocate(1024)
        # Worker ids are serial, so a dense array maps id → row (-1: not indexed).
        self._row_by_id = np.full(1024, -1, dtype=np.int32)

    # Columns ---------------------------------------------------------------------------

    def _schema(self) -> dict[str, tuple[type, tuple[int, ...]]]:
        return {
            "id": (np.int64, ()),
            "txid": (np.int64, ()),
            "active": (np.bool_, ()),
            "consented": (np.bool_, ()),
            "blacklisted": (np.int32, ()),
            "categories": (np.uint8, ()),
            "skills": (np.uint64, (self.skills.words,)),
            "districts": (np.uint64, (self.districts.words,)),
            "languages": (np.uint64, ()),
            "live_in": (np.bool_, ()),
            "experience": (np.int16, ()),
            "wage_min": (np.int32, ()),
            "wage_max": (np.int32, ()),
            "wage_hourly": (np.bool_, ()),
            "wage_term": (np.bool_, ()),  # priced per 单 of 26 days
            "available": (np.int32, ()),
            "lat": (np.float32, ()),
            "lon": (np.float32, ()),
            "certificates": (np.int8, (max(1, len(self.occupations)),)),
            "health": (np.int32, (N_TIERS,)),
            "background": (np.int32, ()),
            "trained": (np.int32, ()),
            "integrity": (np.float32, ()),
            "placed": (np.bool_, ()),
            "surname": (np.uint32, ()),
            "female": (np.bool_, ()),
        }

    def _allocate(self, capacity: int) -> None:
        grown: dict[str, np.ndarray] = {}
        for name, (dtype, extra) in self._schema().items():
            column: np.ndarray = np.zeros((capacity, *extra), dtype=dtype)
            if name in self._columns:
                column[: self.n] = self._columns[name][: self.n]
            grown[name] = column
        self._columns = grown
        self._capacity = capacity

    def col(self, name: str) -> np.ndarray:
        """A column, as a view over the rows in use."""
        return self._columns[name][: self.n]

    def memory_bytes(self) -> int:
        return sum(c.nbytes for c in self._columns.values())

    # Loading ---------------------------------------------------------------------------

    async def ensure_fresh(self, probe: Probe | None = None) -> None:
        """Load everything on first use, then apply what changed since. With a `probe`
        that found nothing changed since the current xmin, no query is needed; nor when a
        refresh that began after this call did (callers waiting for one refresh share the
        next instead of each making its own)."""
        if self.loaded:
            await self._fresh(probe)
            return
        # The first load takes seconds at province scale: a request waiting for it gives
        # up its place among the requests in progress (MAX_CONCURRENT_REQUESTS) meanwhile.
        async with waiting():
            await self._fresh(probe)

    async def _fresh(self, probe: Probe | None) -> None:
        entered = time.monotonic()
        async with self._lock:
            started = time.perf_counter()
            # Its snapshot was taken after this call began, so it holds every change
            # committed before (not so for a replica, which may lag).
            if self.loaded and not self.may_lag and self._fresh_as_of >= entered:
                return
            if not self.loaded:
                await self._until_no_readers()
                issued = time.monotonic()
                if not await self._restore():
                    if hasattr(self.source, "all_columns"):
                        columns, self.xmin = await self.source.all_columns(self)
                        self._load_columns(self._readable_columns(columns))
                    else:
                        facts, self.xmin = await self.source.all_workers()
                        self._apply(self._readable_facts(facts), initial=True)
                await self._apply_busy(None)
                self.generation += 1
                self._fresh_as_of = issued
                self.loaded = True
                self.load_seconds = time.perf_counter() - started
                if self.restored_from is None:
                    log.info("candidate index loaded: %d workers in %.1f s", self.n, self.load_seconds)
                else:
                    log.info(
                        "candidate index restored from checkpoint %d and %d changed rows: %d workers in %.1f s",
                        self.restored_from,
                        self.caught_up_rows,
                        self.n,
                        self.load_seconds,
                    )
                return
            if probe is not None and probe.since == self.xmin and not probe.changed:
                self.xmin = probe.xmin
                self._lagging_since = None
                return
            if (
                probe is not None
                and self._lagging_since is not None
                and time.monotonic() - self._lagging_since < self.lagging_refresh_seconds
            ):
                return
            issued = time.monotonic()
            facts, xmin = await self.source.changed_workers(self.xmin)
            # A replica that read nothing new while the primary reported a change is behind.
            self._lagging_since = time.monotonic() if self.may_lag and not facts and probe is not None else None
            if facts:
                # Every read before any change: a database failure in between (facts read,
                # placements not) leaves the index as it was, to read the same changes again.
                periods = await self.busy_provider([f.id for f in facts])
                await self._until_no_readers()
                self.generation += 1
                n_before = self.n
                rows = [row for f in facts if (row := self.row_of(f.id)) is not None]
                before = self.pages.before_change(self, rows) if self.pages.kept else {}
                readable = self._readable_facts(facts)
                if readable:
                    self._apply(readable, initial=False)
                    self._set_busy([f.id for f in readable], periods)
                if self.pages.kept:
                    exact = len(readable) == len(facts) and self.n == n_before
                    self.pages.after_change(self, rows, before, exact=exact)
            self.xmin = xmin
            self._fresh_as_of = issued

    async def _until_no_readers(self) -> None:
        """Wait (holding the lock, so no new ranking starts) until no ranking reads the columns."""
        while self._readers:
            self._idle.clear()
            await self._idle.wait()

    async def read(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run `fn` (a ranking over the columns) in the index's thread, so that the event
        loop keeps serving while it computes; no refresh writes the columns meanwhile."""
        async with self._lock:
            self._readers += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, partial(fn, *args, **kwargs))
        finally:
            self._done_reading()

    def _done_reading(self) -> None:
        self._readers -= 1
        if not self._readers:
            self._idle.set()

    # Checkpoints (service.matching.checkpoint) -------------------------------------------

    async def snapshot(self) -> Snapshot:
        """What a checkpoint saves: the columns over the rows in use, copied into one
        buffer in a thread of its own (counted as a reading, so no refresh writes them
        meanwhile while rankings go on), and what they depend on, as of the same state."""
        from service.matching.checkpoint import Snapshot

        async with self._lock:
            if not self.loaded:
                raise RuntimeError("the index is not loaded")
            self._readers += 1
            # A probe may raise `xmin` while the copy runs (the columns stay as they are):
            # the xmin taken now is the one they are fresh as of, at worst older.
            n, xmin = self.n, self.xmin
            skipped = np.fromiter(self.skipped, dtype=np.int64, count=len(self.skipped))
            surnames = list(self.surnames)
            meta = {
                "xmin": xmin,
                "skills": [self.skills.words, dict(self.skills.bits)],
                "districts": [self.districts.words, dict(self.districts.bits)],
                "languages": [self.languages.words, dict(self.languages.bits)],
                "occupations": list(self.occupations),
                "skipped": {str(k): v for k, v in self.skipped.items()},
            }
        try:
            loop = asyncio.get_running_loop()
            data, layout, kept, kept_surnames = await loop.run_in_executor(
                None, self._column_bytes, n, skipped, surnames
            )
            checksum = await loop.run_in_executor(None, zlib.crc32, data.data)
        finally:
            self._done_reading()
        meta.update(n=kept, surnames=kept_surnames, columns=layout)
        return Snapshot(xmin=xmin, n=kept, meta=meta, data=data, checksum=checksum)

    def _column_bytes(
        self, n: int, skipped: np.ndarray, surnames: list[str]
    ) -> tuple[np.ndarray, list, int, list[str]]:
        """Every column's first `n` rows, one after another in one buffer, and where each
        lies; with the number of rows written and the surnames they name.

        A row that became unreadable after it was indexed stays in the columns (taken out
        of rankings) with what it held before; it is not written: a full load would not
        have it either, and what it held may be personal data erased since. The surnames
        are those of the rows written, renumbered, so that a surname no row names any more
        (an erased worker's) is not carried from checkpoint to checkpoint."""
        ids = self._columns["id"][:n]
        keep = ~np.isin(ids, skipped) if skipped.size else np.ones(n, dtype=bool)
        rows = np.flatnonzero(keep)
        used, renumbered = np.unique(self._columns["surname"][:n][rows], return_inverse=True)
        kept_surnames = [surnames[i] for i in used.tolist()]
        kept = int(rows.size)
        names = [name for name in self._columns if name != "placed"]  # placements are read anew
        starts, offset = [], 0
        for name in names:
            starts.append(offset)
            offset += kept * self._columns[name][0].nbytes  # bytes of one row, times the rows kept
        # Not a bytearray: CPython zeroes one while holding the GIL (300 MB at 2.3 M workers:
        # the event loop stood still for a fifth of a second); numpy's pages are touched
        # by the copies below, which release it.
        data = np.empty(offset, dtype=np.uint8)
        whole = kept == n
        for name, start in zip(names, starts):
            column = self._columns[name]
            target = np.ndarray((kept, *column.shape[1:]), dtype=column.dtype, buffer=data, offset=start)
            if name == "surname":
                target[...] = renumbered.astype(column.dtype)
            else:
                target[...] = column[:n] if whole else column[:n][rows]
        layout = [
            [name, self._columns[name].dtype.str, list(self._columns[name].shape[1:]), start]
            for name, start in zip(names, starts)
        ]
        return data, layout, kept, kept_surnames

    async def _restore(self) -> bool:
        """Start from the newest usable checkpoint and catch up with what changed since,
        as a refresh would; False (the index as it was) when there is none, or when it
        cannot be read or applied: the caller then loads in bulk."""
        if self.checkpoints is None:
            return False
        try:
            checkpoint = await self.checkpoints.newest(self)
            if checkpoint is None:
                return False
            facts, xmin = await self.source.changed_workers(checkpoint.xmin)
        except Exception as exc:  # noqa: BLE001 - the bulk load still gives a correct index
            log.warning("candidate index: the checkpoint could not be read (%r), loading in bulk", exc)
            return False
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._take_checkpoint, checkpoint, facts)
        except Exception:  # noqa: BLE001 - the bulk load still gives a correct index
            log.exception("candidate index: checkpoint %d could not be applied, loading in bulk", checkpoint.id)
            self._empty()
            return False
        self.xmin = xmin
        self.restored_from = checkpoint.id
        self.caught_up_rows = len(facts)
        return True

    def _take_checkpoint(self, checkpoint, facts: list[WorkerFacts]) -> None:
        """The checkpoint's columns and tables, then the changed rows (in a thread: nothing
        reads the index before its first load ends)."""
        meta = checkpoint.meta
        if meta["occupations"] != list(self.occupations):
            raise ValueError("the checkpoint's credential keys are not the index's")
        for name in ("skills", "districts", "languages"):
            words, bits = meta[name]
            vocabulary = BitVocabulary(capacity_words=words)
            vocabulary.bits = {code: int(bit) for code, bit in bits.items()}
            setattr(self, name, vocabulary)
        self.surnames = list(meta["surnames"])
        self._surname_ids = {s: i for i, s in enumerate(self.surnames)}
        self.skipped = {int(k): v for k, v in meta["skipped"].items()}
        SKIPPED_ROWS.set(len(self.skipped))
        self._take_columns(checkpoint.columns())
        readable = self._readable_facts(facts)
        if readable:
            self._apply(readable, initial=True)  # writes the rows, then builds the lists once
        else:
            self._build_inverted_indexes()

    # Rows that cannot be read ------------------------------------------------------------

    def _readable_facts(self, facts: list[WorkerFacts]) -> list[WorkerFacts]:
        """The facts that can go in; the others are skipped (and, if indexed before, taken
        out of every ranking until a later write makes them readable)."""
        readable, skipped = [], {}
        for f in facts:
            problem = f.problem()
            if problem is None:
                readable.append(f)
                self.skipped.pop(f.id, None)
            else:
                skipped[f.id] = problem
                row = self.row_of(f.id)
                if row is not None:
                    self._columns["active"][row] = False
                    old_txid = int(self._columns["txid"][row])
                    self.version += f.txid - old_txid
                    self._columns["txid"][row] = f.txid
                    place = (self._columns["districts"][row], self._columns["lat"][row], self._columns["lon"][row])
                    self._move_prints(f.id, (old_txid, *place), (f.txid, *place))
        self._skip(skipped)
        return readable

    def _readable_columns(self, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Drop the bulk load's unreadable rows (flagged by the query, one bit per check)."""
        flags = columns.pop("unreadable", None)
        if flags is None or not flags.any():
            self._skip({})
            return columns
        bad = flags != 0
        self._skip(
            {
                int(i): ", ".join(f"{n} out of range" for bit, n in enumerate(UNREADABLE_CHECKS) if f >> bit & 1)
                for i, f in zip(columns["id"][bad].tolist(), flags[bad].tolist())
            }
        )
        return {name: values[~bad] for name, values in columns.items()}

    def _skip(self, skipped: dict[int, str]) -> None:
        for n, (worker_id, reason) in enumerate(sorted(skipped.items())):
            if n < MAX_SKIP_LOG_LINES:
                log.error("candidate index: skipped worker %d, its row cannot be read (%s)", worker_id, reason)
        if len(skipped) > MAX_SKIP_LOG_LINES:
            log.error("candidate index: skipped %d more unreadable worker rows", len(skipped) - MAX_SKIP_LOG_LINES)
        self.skipped.update(skipped)
        SKIPPED_ROWS.set(len(self.skipped))

    def _load_columns(self, columns: dict[str, np.ndarray]) -> None:
        """Take whole columns at once (the bulk initial load)."""
        heads = columns.pop("surname")
        keys = heads[:, 0].astype(np.int64) * (1 << 21) + heads[:, 1]
        unique, inverse = np.unique(keys, return_inverse=True)
        ids = np.array(
            [self._surname_id(surname(name_head(k >> 21, k & ((1 << 21) - 1)))) for k in unique.tolist()],
            dtype=np.uint32,
        )
        self._take_columns({**columns, "surname": ids[inverse]})
        self._build_inverted_indexes()

    def _take_columns(self, columns: dict[str, np.ndarray]) -> None:
        """Whole columns at once as the rows in use, with the row of each id and the version
        (the district and grid lists are the caller's to build)."""
        n = len(columns["id"])
        self.n = 0
        self._allocate(max(1024, n))
        self.n = n
        for name, values in columns.items():
            self._columns[name][:n] = values
        ids = self._columns["id"][:n]
        self._row_by_id = np.full(max(1024, int(ids.max()) + 1 if n else 0), -1, dtype=np.int32)
        self._row_by_id[ids] = np.arange(n, dtype=np.int32)
        self.version = int(self._columns["txid"][:n].sum())

    def _surname_id(self, surname: str) -> int:
        found = self._surname_ids.get(surname)
        if found is None:
            found = self._surname_ids[surname] = len(self.surnames)
            self.surnames.append(surname)
        return found

    def _apply(self, facts: list[WorkerFacts], *, initial: bool) -> None:
        top_id = max((f.id for f in facts), default=0)
        if top_id >= self._row_by_id.size:
            grown = np.full(max(top_id + 1, int(self._row_by_id.size * 1.5)), -1, dtype=np.int32)
            grown[: self._row_by_id.size] = self._row_by_id
            self._row_by_id = grown
        new = [f for f in facts if self._row_by_id[f.id] < 0]
        needed = self.n + len(new)
        if needed > self._capacity:
            self._allocate(max(needed, int(self._capacity * 1.5)))
        for f in new:
            self._row_by_id[f.id] = self.n
            self.n += 1
        cols = self._columns
        rows = self._row_by_id[np.fromiter((f.id for f in facts), dtype=np.int64, count=len(facts))].astype(np.int64)
        old_txid = cols["txid"][rows].copy()
        old_districts = cols["districts"][rows].copy()
        old_lat, old_lon = cols["lat"][rows].copy(), cols["lon"][rows].copy()
        self._write_rows(rows, facts)
        self.version += int(cols["txid"][rows].sum() - old_txid.sum())
        if initial:
            self._build_inverted_indexes()
        else:
            self._extend_inverted_indexes(rows, old_districts, old_lat, old_lon)
            districts, lat, lon, txid = cols["districts"], cols["lat"], cols["lon"], cols["txid"]
            for i, row in enumerate(rows.tolist()):
                self._move_prints(
                    int(cols["id"][row]),
                    (int(old_txid[i]), old_districts[i], old_lat[i], old_lon[i]),
                    (int(txid[row]), districts[row], lat[row], lon[row]),
                )

    def _write_rows(self, rows: np.ndarray, facts: list[WorkerFacts]) -> None:
        """Write many workers at once, column by column."""
        cols = self._columns

        def put(name: str, values: Iterable, dtype=None) -> None:
            cols[name][rows] = np.array(list(values), dtype=dtype or cols[name].dtype)

        put("id", (f.id for f in facts))
        put("txid", (f.txid for f in facts))
        put("active", (f.active for f in facts))
        put("consented", (f.consented for f in facts))
        put("blacklisted", (day_number(f.blacklisted_until) for f in facts))
        put("categories", (sum(1 << CATEGORIES.index(c) for c in set(f.categories) if c in CATEGORIES) for f in facts))
        put("skills", (self.skills.words_of(f.skills) for f in facts))
        put("districts", (self.districts.words_of(f.district_codes) for f in facts))
        put("languages", (self.languages.words_of(f.languages)[0] for f in facts))
        put("live_in", (f.live_in for f in facts))
        put("experience", (f.experience_years for f in facts))
        put("wage_min", (f.wage_min for f in facts))
        put("wage_max", (f.wage_max for f in facts))
        put("wage_hourly", (f.wage_unit == "hour" for f in facts))
        put("wage_term", (f.wage_unit == "term" for f in facts))
        put("available", (day_number(f.available_from) for f in facts))
        put("lat", (np.nan if f.lat is None else f.lat for f in facts))
        put("lon", (np.nan if f.lon is None else f.lon for f in facts))
        put("certificates", (self._certificate_levels(f.certificates) for f in facts))
        put("health", (self._health_days(f.health_until) for f in facts))
        put("background", (FOREVER if f.background_forever else day_number(f.background_until) for f in facts))
        put("trained", (day_number(f.last_trained) for f in facts))
        put("integrity", (np.nan if f.integrity is None else f.integrity for f in facts))
        put("surname", (self._surname_id(f.surname) for f in facts))
        put("female", (f.female for f in facts))

    def _certificate_levels(self, certificates: dict[tuple[str, str | None], int]) -> list[int]:
        levels = [0] * self._columns["certificates"].shape[1]
        found = ((occupation, work_type, level) for (occupation, work_type), level in certificates.items())
        for key, level in best_levels(self.taxonomy.occupations, found).items():
            column = self.occupation_column.get(key)
            if column is not None:
                levels[column] = level
        return levels

    @staticmethod
    def _health_days(health_until: dict[str, date]) -> list[int]:
        days = [NEVER] * N_TIERS
        for tier, until in health_until.items():
            if tier in HEALTH_TIER_CODES:
                days[HEALTH_TIER_CODES.index(tier)] = day_number(until)
        return days

    # Area lookups ------------------------------------------------------------------------

    def _build_inverted_indexes(self) -> None:
        self._district_rows = {}
        self._stale_districts = set()
        self._district_prints = {}
        self._cell_prints = {}
        prints = fingerprints(self.col("id"), self.col("txid"))
        districts = self.col("districts")
        for bit in self.districts.bits.values():
            word, shift = divmod(bit, 64)
            rows = np.flatnonzero((districts[:, word] >> np.uint64(shift)) & np.uint64(1))
            if rows.size:
                self._district_rows[bit] = [rows]
                self._district_prints[bit] = int(prints[rows].sum(dtype=np.uint64))
        self._grid_rows = {}
        self._stale_cells = set()
        lat, lon = self.col("lat"), self.col("lon")
        located = np.flatnonzero(~np.isnan(lat))
        if located.size:
            # One number per cell, for sorting: (i, j) packed with j shifted to be positive.
            keys = np.floor(lat[located] / GRID_DEGREES).astype(np.int64) * _CELL_PACK + (
                np.floor(lon[located] / GRID_DEGREES).astype(np.int64) + _CELL_SHIFT
            )
            order = np.argsort(keys, kind="stable")
            keys, located = keys[order], located[order]
            boundaries = np.flatnonzero(np.diff(keys)) + 1
            for chunk_keys, chunk_rows in zip(np.split(keys, boundaries), np.split(located, boundaries)):
                i, shifted = divmod(int(chunk_keys[0]), _CELL_PACK)
                cell = (i, shifted - _CELL_SHIFT)
                self._grid_rows[cell] = [chunk_rows]
                self._cell_prints[cell] = int(prints[chunk_rows].sum(dtype=np.uint64))

    def _move_prints(self, worker_id: int, old: tuple, new: tuple) -> None:
        """Update the area fingerprints for one row going from `old` to `new`, each given
        as (txid, district words, lat, lon); a row not indexed before has txid 0, no
        districts and no location, so it takes nothing away."""
        (old_txid, old_districts, old_lat, old_lon), (txid, districts, lat, lon) = old, new
        before, after = fingerprint(worker_id, old_txid), fingerprint(worker_id, txid)
        if old_txid:
            for bit in bits_of(old_districts.tolist()):
                self._district_prints[bit] = (self._district_prints.get(bit, 0) - before) & MASK64
        for bit in bits_of(districts.tolist()):
            self._district_prints[bit] = (self._district_prints.get(bit, 0) + after) & MASK64
        old_cell, cell = _cell(old_lat, old_lon), _cell(lat, lon)
        if old_txid and old_cell is not None:
            self._cell_prints[old_cell] = (self._cell_prints.get(old_cell, 0) - before) & MASK64
        if cell is not None:
            self._cell_prints[cell] = (self._cell_prints.get(cell, 0) + after) & MASK64

    def area_version(
        self, district_codes: Iterable[str], lat: float | None = None, lon: float | None = None, radius_km: float = 0
    ) -> str:
        """The fingerprint of what a ranking over this area reads: the rows serving the
        districts, and (with a radius) those located in the grid cells its box touches, as
        `rows_serving` and `rows_near` list them; with the number of rows indexed (the
        area filter counts the rows it removes)."""
        served = 0
        for code in district_codes:
            bit = self.districts.bits.get(code)
            if bit is not None:
                served = (served + self._district_prints.get(bit, 0)) & MASK64
        located = 0
        if lat is not None and lon is not None and radius_km:
            rows, columns = cell_box(lat, lon, radius_km)
            cell_prints = self._cell_prints
            for i in rows:
                for j in columns:
                    located = (located + cell_prints.get((i, j), 0)) & MASK64
        return f"a{served:x}.{located:x}.{self.n}"

    def _extend_inverted_indexes(
        self, rows: np.ndarray, old_districts: np.ndarray, old_lat: np.ndarray, old_lon: np.ndarray
    ) -> None:
        """Add rows to the lists of districts and cells they newly belong to (stale entries
        are harmless: every lookup re-checks the current columns)."""
        districts, lat, lon = self._columns["districts"], self._columns["lat"], self._columns["lon"]
        touched: list[tuple[dict, object]] = []
        for i, row in enumerate(rows.tolist()):
            for word_index, word in enumerate((old_districts[i] & ~districts[row]).tolist()):
                while word:
                    low = word & -word
                    self._stale_districts.add(word_index * 64 + low.bit_length() - 1)
                    word ^= low
            added = districts[row] & ~old_districts[i]
            for word_index, word in enumerate(added.tolist()):
                while word:
                    low = word & -word
                    bit = word_index * 64 + low.bit_length() - 1
                    self._district_rows.setdefault(bit, []).append(np.array([row], dtype=np.int64))
                    touched.append((self._district_rows, bit))
                    word ^= low
            cell, old_cell = _cell(lat[row], lon[row]), _cell(old_lat[i], old_lon[i])
            if old_cell is not None and old_cell != cell:
                self._stale_cells.add(old_cell)
            if cell is not None and cell != old_cell:
                self._grid_rows.setdefault(cell, []).append(np.array([row], dtype=np.int64))
                touched.append((self._grid_rows, cell))
        for lists, key in touched:
            if len(lists.get(key, ())) > 64:
                lists[key] = [np.unique(np.concatenate(lists[key]))]

    def rows_serving(self, district_codes: Iterable[str]) -> np.ndarray:
        """Rows listed for the districts: a superset of the rows serving them."""
        chunks = []
        for code in district_codes:
            bit = self.districts.bits.get(code)
            if bit is not None:
                chunks.extend(self._district_rows.get(bit, []))
        return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)

    def serving_lists_exact(self, district_codes: Iterable[str]) -> bool:
        """Whether every row `rows_serving` lists for these districts still serves one of
        them (no worker listed there has dropped the district since the lists were built)."""
        return not any(self.districts.bits.get(code) in self._stale_districts for code in district_codes)

    def rows_near(self, lat: float, lon: float, radius_km: float) -> tuple[np.ndarray, np.ndarray]:
        """Rows listed in the grid cells the radius's box touches, in two parts: those of
        cells lying wholly inside both the box and the circle, with a margin, and listing
        no row that has moved away (every row there is within the radius); and the others,
        a superset that the caller measures."""
        dlat, dlon = half_box(lat, radius_km)
        rows, columns = cell_box(lat, lon, radius_km)
        inside: list[np.ndarray] = []
        border: list[np.ndarray] = []
        for i in rows:
            for j in columns:
                chunks = self._grid_rows.get((i, j))
                if chunks:
                    within = (i, j) not in self._stale_cells and _cell_within(i, j, lat, lon, dlat, dlon, radius_km)
                    (inside if within else border).extend(chunks)
        empty = np.empty(0, dtype=np.int64)
        return (np.concatenate(inside) if inside else empty), (np.concatenate(border) if border else empty)

    # Placements --------------------------------------------------------------------------

    async def _apply_busy(self, worker_ids: list[int] | None) -> None:
        self._set_busy(worker_ids, await self.busy_provider(worker_ids))

    def _set_busy(self, worker_ids: list[int] | None, periods: BusyPeriods) -> None:
        """Replace the busy periods of `worker_ids` (None: everyone's) by `periods`."""
        only = None if worker_ids is None else set(worker_ids)
        if worker_ids is None:
            self._busy = {}
            self._columns["placed"][: self.n] = False
        else:
            for worker_id in worker_ids:
                row = self.row_of(worker_id)
                if row is not None:
                    self._busy.pop(row, None)
                    self._columns["placed"][row] = False
        for worker_id, ranges in periods.by_worker.items():
            row = self.row_of(worker_id)
            if row is not None and (only is None or worker_id in only):
                self._busy[row] = [(day_number(s), day_number(e)) for s, e in ranges]
        for worker_id in periods.placed_workers:
            row = self.row_of(worker_id)
            if row is not None and (only is None or worker_id in only):
                self._columns["placed"][row] = True
        self._busy_arrays = None

    def busy_rows(self, start: int, end: int) -> np.ndarray:
        """Rows with a placement overlapping [start, end] (day numbers, inclusive)."""
        if self._busy_arrays is None:
            row_list, start_list, end_list = [], [], []
            for row, ranges in self._busy.items():
                for s, e in ranges:
                    row_list.append(row)
                    start_list.append(s)
                    end_list.append(e)
            self._busy_arrays = (
                np.array(row_list, dtype=np.int64),
                np.array(start_list, dtype=np.int32),
                np.array(end_list, dtype=np.int32),
            )
        rows, starts, ends = self._busy_arrays
        return rows[(starts <= end) & (ends >= start)]

    def row_of(self, worker_id: int) -> int | None:
        if 0 <= worker_id < self._row_by_id.size and self._row_by_id[worker_id] >= 0:
            return int(self._row_by_id[worker_id])
        return None

    def surname_of(self, row: int) -> str:
        return self.surnames[int(self._columns["surname"][row])]
