from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from service.schemas import LINE, TEXT, BodyId, Input, Output

Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
Reason = Annotated[str, msgspec.Meta(max_length=1000, pattern=TEXT)]


class OfferCreate(Input, kw_only=True):
    worker_id: BodyId
    wage: Annotated[int, msgspec.Meta(ge=0, le=200_000)] | None = None
    message: Annotated[str, msgspec.Meta(max_length=500, pattern=TEXT)] = ""


class OfferOut(Output, kw_only=True):
    id: int
    request_id: int
    worker_id: int
    wage: int
    wage_unit: str
    message: str
    status: str
    expires_at: datetime
    decided_at: datetime | None
    created_at: datetime


class WorkerContact(Output, kw_only=True):
    name: str
    phone: str


class PlacementOut(Output, kw_only=True):
    id: int
    offer_id: int
    request_id: int
    worker_id: int
    worker_display_name: str
    worker_contact: WorkerContact | None
    employer_id: int | None
    agency_id: int | None
    start_date: date
    end_date: date | None
    wage: int
    wage_unit: str
    status: str
    ended_at: datetime | None
    end_reason: str
    created_at: datetime


class PlacementEnd(Input, kw_only=True):
    reason: Reason = ""


class PlacementTerminate(Input, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=TEXT)]
    no_show: bool = False


class ReviewCreate(Input, kw_only=True):
    ratings: dict[Annotated[str, msgspec.Meta(max_length=32, pattern=LINE)], Rating]
    comment: Annotated[str, msgspec.Meta(max_length=1000, pattern=TEXT)] = ""


class ReviewUpdate(Input, kw_only=True):
    ratings: dict[Annotated[str, msgspec.Meta(max_length=32, pattern=LINE)], Rating] | None = None
    comment: Annotated[str, msgspec.Meta(max_length=1000, pattern=TEXT)] | None = None


class ReviewOut(Output, kw_only=True):
    id: int
    placement_id: int
    author_role: str
    ratings: dict[str, int]
    overall: float
    comment: str
    editable_until: datetime
    created_at: datetime
    updated_at: datetime


class ComplaintCreate(Input, kw_only=True):
    category: Literal["abuse", "theft", "violence", "negligence", "misconduct", "no_show", "other"]
    description: Annotated[str, msgspec.Meta(min_length=5, max_length=2000, pattern=TEXT)]


class ComplaintDecision(Input, kw_only=True):
    outcome: Literal["substantiated", "dismissed"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=TEXT)]


class AppealCreate(Input, kw_only=True):
    text: Annotated[str, msgspec.Meta(min_length=5, max_length=2000, pattern=TEXT)]


class AppealDecision(Input, kw_only=True):
    outcome: Literal["upheld", "rejected"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=TEXT)]


class ComplaintOut(Output, kw_only=True):
    id: int
    placement_id: int
    worker_id: int
    category: str
    description: str
    serious: bool
    status: str
    decision_reason: str
    decided_by: int | None
    decided_at: datetime | None
    appeal_text: str
    appeal_status: str
    appeal_filed_at: datetime | None
    appeal_reason: str
    appeal_decided_by: int | None
    appeal_decided_at: datetime | None
    created_at: datetime


class IntegrityComponent(Output, kw_only=True):
    name: str
    label: str
    points: float
    detail: str


class IntegrityChange(Output, kw_only=True):
    score: int
    stars: int
    previous_score: int | None
    reason: str
    algorithm_version: str
    computed_at: datetime


class Integrity(Output, kw_only=True):
    """For the worker herself, her agency and admins."""

    worker_id: int
    score: int
    stars: int
    components: list[IntegrityComponent]
    advice: list[str]
    algorithm_version: str
    computed_at: datetime
    history: list[IntegrityChange]


class IntegritySummary(Output, kw_only=True):
    """For employers: the score, the stars and what it is made of, no details."""

    worker_id: int
    score: int
    stars: int
    components: list[str]
    algorithm_version: str
