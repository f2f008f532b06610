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


class JobRequestStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"


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
    languages = Array(base_column=Varchar(length=16))
    background_check_required = Boolean(default=False)
    headcount = SmallInt(default=1)
    status = Varchar(length=16, default=JobRequestStatus.OPEN, index=True, choices=JobRequestStatus)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
