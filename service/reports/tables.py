"""The bureau's books: subsidy rules and claims, targets and budgets, integrity flags.

Created by raw SQL in this app's migration (partial unique indexes, NULLS NOT DISTINCT);
the tables here describe the same columns for Piccolo's queries.
"""

from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    Boolean,
    Date,
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
from service.registry.tables import Certificate, Training, Worker


class SubsidyRule(Table, tablename="subsidy_rule"):
    """Prices a claim: the most specific active rule (programme, type, level) valid on the
    day the training finished; `bonus_pct` more at `bonus_max_level` or above in the
    listed (shortage) occupations."""

    id: Serial
    name = Varchar(length=64)
    programme_code = Varchar(length=32, null=True, default=None)
    training_type = Varchar(length=32, null=True, default=None)
    level = SmallInt(null=True, default=None)
    base_amount = Integer()
    bonus_pct = SmallInt(default=0)
    bonus_max_level = SmallInt(default=3)
    bonus_occupations = Array(base_column=Varchar(length=16))
    valid_from = Date()
    valid_until = Date(null=True, default=None)
    active = Boolean(default=True)
    created_by = ForeignKey(references=User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SubsidyClaim(Table, tablename="subsidy_claim"):
    id: Serial
    institution = ForeignKey(references=Agency)
    training = ForeignKey(references=Training)
    worker = ForeignKey(references=Worker)
    programme_code = Varchar(length=32)
    certificate = ForeignKey(references=Certificate, null=True, default=None)
    amount = Integer()
    rule = ForeignKey(references=SubsidyRule, null=True, default=None)
    pricing = JSONB()
    status = Varchar(length=16, default="claimed")  # claimed | approved | paid | refused | recovered
    claimed_on = Date()
    claimed_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(references=User, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_reason = Text(default="")


class SubsidyClaimEvent(Table, tablename="subsidy_claim_event"):
    id: Serial
    claim = ForeignKey(references=SubsidyClaim)
    from_status = Varchar(length=16, null=True, default=None)
    to_status = Varchar(length=16)
    by_user = ForeignKey(references=User, null=True, default=None)
    by_agency = ForeignKey(references=Agency, null=True, default=None)
    reason = Text(default="")
    at = Timestamptz(default=TimestamptzNow())


class Target(Table, tablename="bureau_target"):
    """A yearly target for a programme, district or institution (or the whole area when all are None)."""

    id: Serial
    year = Integer()
    metric = Varchar(length=16)  # trained | certified | placed | senior
    programme_code = Varchar(length=32, null=True, default=None)
    district_code = Varchar(length=6, null=True, default=None)
    institution = ForeignKey(references=Agency, null=True, default=None)
    target = Integer()
    updated_by = ForeignKey(references=User, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class ProgrammeBudget(Table, tablename="programme_budget"):
    id: Serial
    year = Integer()
    programme_code = Varchar(length=32)
    amount = BigInt()
    updated_by = ForeignKey(references=User, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class IntegrityFlag(Table, tablename="integrity_flag"):
    """One suspicion, raised by one rule, with its evidence. (rule, fingerprint) is unique:
    a later run that finds the same evidence updates `last_seen_at` instead of adding a flag."""

    id: Serial
    rule = Varchar(length=32)
    fingerprint = Varchar(length=128)
    worker = ForeignKey(references=Worker, null=True, default=None)
    institution = ForeignKey(references=Agency, null=True, default=None)
    claim = ForeignKey(references=SubsidyClaim, null=True, default=None)
    evidence = JSONB()
    status = Varchar(length=16, default="open")  # open | confirmed | dismissed
    decided_by = ForeignKey(references=User, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_reason = Text(default="")
    first_seen_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())


class IntegrityCheckRun(Table, tablename="integrity_check_run"):
    id: Serial
    trigger = Varchar(length=16)  # api | nightly | import
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    flags_seen = Integer(default=0)
    flags_new = Integer(default=0)
