"""Why one worker ranked where she did, or was not shown (PIPL Art. 24).

Both answers come from the same filters and scores as the ranked list (`ranking`), for
one worker against one request, computed now with the current algorithm version:

- for the worker herself, on a request she was offered: her place, out of how many, and
  each component of her score, or the hard filters she does not pass today;
- for the household that owns the request, about a worker it may see: which of the
  request's hard filters she does not pass. Nothing else of hers is said.

Once she has accepted the offer, her own placement from it fills the very dates the
request asks for; the caller then excuses the schedule filter (`excused`) when nothing
else keeps her busy, so she is not told she fails the dates because she took the job.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from service.matching.index import CandidateIndex
from service.matching.ranking import (
    ALGORITHM_VERSION,
    FILTER_LABELS,
    SCORE_SCALE,
    MatchQuery,
    _any_bit,
    _explain,
    filter_candidates,
    hard_filters,
    in_area,
    score_candidates,
)


def failed_filters(index: CandidateIndex, q: MatchQuery, row: int | None) -> list[str]:
    """The hard filters this row does not pass (all of them, not only the first)."""
    if row is None:
        return ["status"]  # not in the matcher at all: no consent, paused or blacklisted
    failed = [] if in_area(index, q, row) else ["area"]
    one = np.array([row], dtype=np.int64)
    failed.extend(name for name, condition in hard_filters(index, q) if not bool(condition(one)[0]))
    return failed


def explain_position(
    index: CandidateIndex, q: MatchQuery, worker_id: int, *, excused: frozenset[str] = frozenset()
) -> dict:
    """Her rank among everyone who passes the filters (1 is first), with her score's parts.
    Filters in `excused` do not count against her: she is ranked as if she passed them."""
    row = index.row_of(worker_id)
    failed = [name for name in failed_filters(index, q, row) if name not in excused]
    rows, _excluded, serves_district = filter_candidates(index, q)
    if row is not None and not failed and excused:
        position = int(np.searchsorted(rows, row))
        if position == rows.size or rows[position] != row:
            rows = np.insert(rows, position, row)
            serves_district = _any_bit(index.col("districts")[rows], index.districts.mask([q.district_code]))
    answer = {
        "worker_id": worker_id,
        "algorithm_version": ALGORITHM_VERSION,
        "shown": not failed,
        "rank": None,
        "total": int(rows.size),
        "failed": [{"filter": name, "label": FILTER_LABELS[name]} for name in failed],
        "match": None,
    }
    if failed or row is None:
        return answer
    position = int(np.searchsorted(rows, row))
    values = score_candidates(index, q, rows, serves_district)
    # The same order as `ranking.top_positions`: score (quantised), then worker id.
    ids = index.col("id")[rows].astype(np.int64)
    quantised = np.rint(values["_score"] * SCORE_SCALE).astype(np.int64)
    key = ((2 * SCORE_SCALE - quantised) << np.int64(32)) | ids
    answer["rank"] = int(np.count_nonzero(key < key[position])) + 1
    match = _explain(index, q, row, position, values)
    answer["match"] = dataclasses.asdict(match) | {"algorithm_version": ALGORITHM_VERSION}
    return answer
