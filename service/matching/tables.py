"""Job requests: what an employer needs, in the form the matcher reads."""

from enum import StrEnum

from piccolo.columns import (
    JSONB,
    Array,
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
from service.registry.tables import Worker


class JobRequestStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"


class WorkerVisibility(StrEnum):
    """Who may find the request from the worker's side (she can always be sent an offer)."""

    FITTING = "fitting"  # workers who pass every hard filter see it and may say they are interested
    HIDDEN = "hidden"  # no worker sees it; the household only makes offers


class JobRequest(Table, tablename="job_request"):
    id: Serial
    # The household the job is for; an agency may post for an employer.
    employer = ForeignKey(references=User, null=True, index=True)
    agency = ForeignKey(references=Agency, null=True, index=True)

    category = Varchar(length=16)
    skills = Array(base_column=Varchar(length=48))
    skills_text = Text(default="")
    # What the free text was understood as: {"matched": [...], "not_understood": [...]}.
    understood = JSONB(default={"matched": [], "not_understood": []})
    household_notes = Text(default="")
    district_code = Varchar(length=6, index=True)
    search_scope = Varchar(length=16, default="district")  # district | city | province
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    radius_km = Integer(null=True, default=None)
    start_date = Date()
    end_date = Date(null=True, default=None)
    hours_per_week = SmallInt(null=True, default=None)
    live_in = Boolean(default=False)
    budget_min = Integer()
    budget_max = Integer()
    budget_unit = Varchar(length=8)
    required_occupation_code = Varchar(length=16, null=True, default=None)
    required_work_type = Varchar(length=32, null=True, default=None)  # 工种; None: any of the occupation
    required_min_level = SmallInt(null=True, default=None)
    # 月嫂: the expected due date (预产期) window, and how many 单 (26 days each) are booked.
    due_date_from = Date(null=True, default=None)
    due_date_to = Date(null=True, default=None)
    terms = SmallInt(default=1)
    # Reopened to replace someone who left: the replacement is needed from this day, not
    # from the start (or the earliest due date) the request first had.
    reopened_from = Date(null=True, default=None)
    languages = Array(base_column=Varchar(length=16))
    background_check_required = Boolean(default=False)
    headcount = SmallInt(default=1)
    worker_visibility = Varchar(length=16, default=WorkerVisibility.FITTING, choices=WorkerVisibility)
    # Bumped whenever a worker says she is interested or withdraws it: keys the match cache.
    interest_version = Integer(default=0)
    status = Varchar(length=16, default=JobRequestStatus.OPEN, index=True, choices=JobRequestStatus)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Interest(Table):
    """A worker said she would like this job. One row per request and worker (a unique
    index); withdrawing deletes it. The household sees it flagged in its matches."""

    id: Serial
    request = ForeignKey(references=JobRequest, index=True)
    worker = ForeignKey(references=Worker, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
