"""Employment: offers, placements, two-way reviews, complaints with appeals, and the
integrity rating they feed."""

from enum import StrEnum

from piccolo.columns import (
    JSONB,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.column_types import Serial
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from service.accounts.tables import Agency, User
from service.matching.tables import JobRequest
from service.registry.tables import Worker


class OfferStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class PlacementStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    NO_SHOW = "no_show"
    RESIGNED = "resigned"  # she ended it after it began; she works until end_date (her last day)
    CANCELLED = "cancelled"  # she ended it before it began


class ComplaintStatus(StrEnum):
    OPEN = "open"
    SUBSTANTIATED = "substantiated"
    DISMISSED = "dismissed"
    OVERTURNED = "overturned"


class ComplaintAgainst(StrEnum):
    WORKER = "worker"  # filed by the employer side about her
    EMPLOYER = "employer"  # filed by her about the household (or the agency that posted the job)


class AppealStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"
    UPHELD = "upheld"
    REJECTED = "rejected"


class Offer(Table):
    id: Serial
    request = ForeignKey(references=JobRequest, index=True)
    worker = ForeignKey(references=Worker, index=True)
    made_by_user = ForeignKey(references=User, null=True)
    made_by_agency = ForeignKey(references=Agency, null=True)
    wage = Integer()
    wage_unit = Varchar(length=8)
    message = Text(default="")
    status = Varchar(length=16, default=OfferStatus.OFFERED, index=True, choices=OfferStatus)
    expires_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)
    # Why it closed when neither side chose to (e.g. the bureau suspended the employer).
    closed_reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Placement(Table):
    """A worker's engagement. PostgreSQL refuses two active placements of one worker whose
    date ranges overlap (an exclusion constraint over worker and period)."""

    id: Serial
    offer = ForeignKey(references=Offer, unique=True)
    request = ForeignKey(references=JobRequest, index=True)
    worker = ForeignKey(references=Worker, index=True)
    employer = ForeignKey(references=User, null=True, index=True)
    agency = ForeignKey(references=Agency, null=True, index=True)
    start_date = Date()
    end_date = Date(null=True, default=None)
    wage = Integer()
    wage_unit = Varchar(length=8)
    status = Varchar(length=16, default=PlacementStatus.ACTIVE, index=True, choices=PlacementStatus)
    ended_at = Timestamptz(null=True, default=None)
    end_reason = Text(default="")
    ended_by_user = ForeignKey(references=User, null=True)
    ended_by_agency = ForeignKey(references=Agency, null=True)
    # When she ends it (status "resigned"): why, the notice the rule asks and the notice given.
    end_category = Varchar(length=24, default="")
    notice_required_days = SmallInt(null=True, default=None)
    notice_given_days = SmallInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Review(Table):
    id: Serial
    placement = ForeignKey(references=Placement, index=True)
    # "employer" reviews the worker; "worker" reviews the employer.
    author_role = Varchar(length=16)
    ratings = JSONB()
    overall = DoublePrecision()
    comment = Text(default="")
    editable_until = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Complaint(Table):
    id: Serial
    placement = ForeignKey(references=Placement, index=True)
    worker = ForeignKey(references=Worker, index=True)
    # Who the complaint is about; the worker column names her either way (she is a party).
    against = Varchar(length=16, default=ComplaintAgainst.WORKER, choices=ComplaintAgainst)
    filed_by_user = ForeignKey(references=User, null=True)
    filed_by_agency = ForeignKey(references=Agency, null=True)
    category = Varchar(length=24)
    description = Text()
    status = Varchar(length=16, default=ComplaintStatus.OPEN, index=True, choices=ComplaintStatus)
    serious = Boolean(default=False)
    decision_reason = Text(default="")
    decided_by = ForeignKey(references=User, null=True)
    decided_at = Timestamptz(null=True, default=None)
    appeal_text = Text(default="")
    appeal_filed_at = Timestamptz(null=True, default=None)
    appeal_status = Varchar(length=16, default=AppealStatus.NONE, choices=AppealStatus)
    appeal_reason = Text(default="")
    appeal_decided_by = ForeignKey(references=User, null=True)
    appeal_decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class IntegrityRating(Table, tablename="integrity_rating"):
    """The current rating of each worker, with its explanation."""

    id: Serial
    worker = ForeignKey(references=Worker, unique=True)
    score = SmallInt()
    stars = SmallInt()
    components = JSONB()
    advice = JSONB()
    algorithm_version = Varchar(length=16)
    computed_at = Timestamptz(default=TimestamptzNow())


class IntegrityHistory(Table, tablename="integrity_history"):
    id: Serial
    worker = ForeignKey(references=Worker, index=True)
    score = SmallInt()
    stars = SmallInt()
    previous_score = SmallInt(null=True, default=None)
    reason = Varchar(length=64)
    algorithm_version = Varchar(length=16)
    computed_at = Timestamptz(default=TimestamptzNow())
