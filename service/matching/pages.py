"""Match pages kept in this process, and carried to the next version of their area when a
change to the workers there cannot alter them.

A page's key names the state of the workers in its area (`CandidateIndex.area_version`), so
any write to a worker there makes a new key and, without more, a new ranking. Most such
writes change nothing a page shows: a worker far down the list updates her experience, or
one who fails a filter still fails it. So when the index applies changes, each kept page
whose area a changed worker was or is in is checked for that worker, before and after the
change, with the ranking's own filters and score:

- which filter first removes her (or none, or the area itself), and
- where her score stands against the lowest score on the page.

If the first filter is the same before and after, and she was neither on the page nor, by
score, at or above its lowest item (when the page is full), the page is unchanged: every
count, every item and every explanation on it is as ranking anew would make it. It is then
kept under its new key as well. Any doubt (a worker on the page, a new row in the index, a
row that could not be read, a province-wide page) leaves the page to be ranked anew.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from service.matching.index import GRID_DEGREES, CandidateIndex, bits_of, cell_box
from service.matching.ranking import (
    SCORE_SCALE,
    MatchQuery,
    area_codes,
    codes_of_area,
    hard_filters,
    in_area,
    score_candidates,
    serving_district,
)

PAGES_IN_MEMORY = 256


@dataclass
class KeptPage:
    """What is needed to tell whether a change alters a page, and to name it anew."""

    query: MatchQuery
    key_of: Callable[[str], str]  # the page's key for a workers' version
    shown: frozenset[int]  # worker ids on the page
    lowest: int | None  # the quantised score of its last item; None when it lists every candidate
    district_bits: frozenset[int]
    cells: tuple[int, int, int, int] | None  # grid cell ranges (i0, i1, j0, j1) of its radius's box


class PageMemory:
    """The latest match pages of this process, by key (the bytes as served)."""

    def __init__(self, size: int = PAGES_IN_MEMORY) -> None:
        self.size = size
        self.bodies: OrderedDict[str, bytes] = OrderedDict()
        self.kept: dict[str, KeptPage] = {}
        self.carried = 0  # pages carried to a new key (for tests and metrics)
        # Area versions by area, for the index's generation they were computed at.
        self._versions: dict[tuple, str] = {}
        self._versions_generation = -1

    def versions(self, generation: int) -> dict[tuple, str]:
        """The area versions remembered for this generation of the index (a new one forgets them)."""
        if generation != self._versions_generation:
            self._versions = {}
            self._versions_generation = generation
        return self._versions

    def __len__(self) -> int:
        return len(self.bodies)

    def get(self, key: str) -> bytes | None:
        body = self.bodies.get(key)
        if body is not None:
            self.bodies.move_to_end(key)
        return body

    def put(self, key: str, body: bytes, kept: KeptPage | None = None) -> None:
        self.bodies[key] = body
        self.bodies.move_to_end(key)
        if kept is not None:
            self.kept[key] = kept
        while len(self.bodies) > self.size:
            old, _ = self.bodies.popitem(last=False)
            self.kept.pop(old, None)

    def clear(self) -> None:
        self.bodies.clear()
        self.kept.clear()

    # The index's observer ------------------------------------------------------------------

    def before_change(self, index: CandidateIndex, rows: list[int]) -> dict:
        """Each kept page's verdict on each changed row it may concern, before the change."""
        places = _places(index, rows)
        return {
            (key, row): _verdict(index, page, row)
            for key, page in self.kept.items()
            if page.query.scope != "province"
            for row in rows
            if _may_concern(page, places[row])
        }

    def after_change(self, index: CandidateIndex, rows: list[int], before: dict, *, exact: bool) -> None:
        """Carry every kept page that no change alters to its key for the new state.
        `exact` is False when the change did more than rewrite `rows` (new rows, rows that
        could not be read): nothing is carried then."""
        if not exact:
            self.kept.clear()
            return
        places = _places(index, rows)
        carried: list[tuple[str, bytes, KeptPage]] = []
        for key, page in list(self.kept.items()):
            if page.query.scope == "province":
                continue
            concerned = [row for row in rows if (key, row) in before or _may_concern(page, places[row])]
            if not concerned:
                continue  # no changed row is or was in its area: its version, and key, stand
            altered = False
            for row in concerned:
                was = before.get((key, row), ("area", None))
                now = _verdict(index, page, row)
                worker_id = int(index.col("id")[row])
                if was[0] != now[0] or worker_id in page.shown or _reaches(page, was) or _reaches(page, now):
                    altered = True
                    break
            if altered:
                self.kept.pop(key, None)
                continue
            new_key = page.key_of(workers_version(index, page.query))
            if new_key != key and key in self.bodies:
                # No reader asks for the old key again: its version is gone.
                carried.append((new_key, self.bodies.pop(key), page))
                self.kept.pop(key, None)
        for new_key, body, page in carried:
            self.put(new_key, body, page)
            self.carried += 1


def kept_page(index: CandidateIndex, query: MatchQuery, key_of: Callable[[str], str], shown, lowest) -> KeptPage:
    district_bits = frozenset(
        bit for code in area_codes(index, query) if (bit := index.districts.bits.get(code)) is not None
    )
    cells = None
    if query.lat is not None and query.lon is not None and query.radius_km:
        rows, columns = cell_box(query.lat, query.lon, query.radius_km)
        cells = (rows.start, rows.stop - 1, columns.start, columns.stop - 1)
    return KeptPage(query, key_of, frozenset(shown), lowest, district_bits, cells)


Place = tuple[frozenset[int], tuple[int, int] | None]


def _places(index: CandidateIndex, rows: list[int]) -> dict[int, Place]:
    """Each row's district bits and grid cell, read once for every kept page to test."""
    districts, lats, lons = index.col("districts"), index.col("lat"), index.col("lon")
    places: dict[int, Place] = {}
    for row in rows:
        lat, lon = float(lats[row]), float(lons[row])
        cell = None if math.isnan(lat) else (math.floor(lat / GRID_DEGREES), math.floor(lon / GRID_DEGREES))
        places[row] = (frozenset(bits_of(districts[row].tolist())), cell)
    return places


def _may_concern(page: KeptPage, place: Place) -> bool:
    """Whether a row is listed in the page's area (a superset of the rows in it)."""
    bits, cell = place
    if not page.district_bits.isdisjoint(bits):
        return True
    if page.cells is not None and cell is not None:
        i0, i1, j0, j1 = page.cells
        return i0 <= cell[0] <= i1 and j0 <= cell[1] <= j1
    return False


def _verdict(index: CandidateIndex, page: KeptPage, row: int) -> tuple[str, int | None]:
    """The first filter that removes the row ("area" when outside it), or "pass" with its
    quantised score."""
    q = page.query
    if not in_area(index, q, row):
        return ("area", None)
    rows = np.array([row], dtype=np.int64)
    for name, condition in hard_filters(index, q):
        if not bool(condition(rows)[0]):
            return (name, None)
    score = score_candidates(index, q, rows, serving_district(index, q, rows))["_score"]
    return ("pass", int(np.rint(score[0] * SCORE_SCALE)))


def _reaches(page: KeptPage, verdict: tuple[str, int | None]) -> bool:
    """Whether a passing row would stand on the page or above it."""
    if verdict[0] != "pass":
        return False
    return page.lowest is None or (verdict[1] is not None and verdict[1] >= page.lowest)


def workers_version(index: CandidateIndex, query: MatchQuery) -> str:
    """What names the state of the workers a ranking for `query` reads: the fingerprint of
    its area (so a change elsewhere keeps its cached pages), or for a province-wide request
    the whole index's version."""
    return area_version(index, query.scope, query.district_code, query.lat, query.lon, query.radius_km)


def area_version(
    index: CandidateIndex,
    scope: str,
    district_code: str,
    lat: float | None,
    lon: float | None,
    radius_km: float | None,
) -> str:
    """`workers_version` from a request's area fields, remembered until the index changes
    (a city's radius box is dozens of grid cells to add up on every read)."""
    area = (scope, district_code, lat, lon, radius_km)
    remembered = index.pages.versions(index.generation)
    found = remembered.get(area)
    if found is None:
        if scope == "province":
            found = f"p{index.version}"
        else:
            found = index.area_version(codes_of_area(index, scope, district_code), lat, lon, radius_km or 0)
        remembered[area] = found
    return found
