"""The registry: workers, their consent, and their credentials.

A worker's national ID number is stored only encrypted (`id_number_encrypted`), with an
HMAC blind index (`id_number_index`) that makes a second registration of the same person
a conflict, and a masked copy for display.
"""

from decimal import Decimal

from piccolo.columns import (
    Array,
    BigInt,
    Boolean,
    Bytea,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Numeric,
    SmallInt,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.column_types import Serial
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from service.accounts.tables import Agency, User
from service.registry.domain import CredentialStatus, WorkerStatus


class Worker(Table):
    id: Serial
    user = ForeignKey(references=User, null=True, unique=True)
    # The housekeeping agency she is bound to; the binding counts once she confirms it.
    agency = ForeignKey(references=Agency, null=True, index=True)
    agency_confirmed_at = Timestamptz(null=True, default=None)

    real_name = Varchar(length=64)
    gender = Varchar(length=8)
    birth_date = Date()
    id_number_encrypted = Bytea()
    id_number_index = Varchar(length=80, unique=True)
    id_number_masked = Varchar(length=18)
    phone = Varchar(length=20, index=True)

    languages = Array(base_column=Varchar(length=16))
    district_codes = Array(base_column=Varchar(length=6))
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    categories = Array(base_column=Varchar(length=16))
    skills = Array(base_column=Varchar(length=48))
    experience_years = SmallInt(default=0)
    wage_min = Integer()
    wage_max = Integer()
    wage_unit = Varchar(length=8)
    live_in = Boolean(default=False)
    available_from = Date(null=True, default=None)
    status = Varchar(length=16, default=WorkerStatus.ACTIVE, index=True, choices=WorkerStatus)

    # Her integrity rating (0-100, 1-5 stars), kept by the employment domain; None until first computed.
    integrity_score = SmallInt(null=True, default=None)
    integrity_stars = SmallInt(null=True, default=None)

    # Current state of her credit-information authorisation; history in ConsentEvent.
    consented_at = Timestamptz(null=True, default=None)
    blacklisted_until = Date(null=True, default=None)

    # Protected attributes: kept for her own record, never shown to employers and never
    # an input to matching.
    ethnicity = Varchar(length=16, null=True, default=None)
    native_place = Varchar(length=32, null=True, default=None)
    marital_status = Varchar(length=16, null=True, default=None)
    religion = Varchar(length=16, null=True, default=None)

    # Her request to erase her data (PIPL Art. 47), and when her personal fields were erased.
    erasure_requested_at = Timestamptz(null=True, default=None)
    erased_at = Timestamptz(null=True, default=None)

    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # The id of the last transaction that wrote this row, set by a trigger: the matcher
    # re-reads rows written by transactions it may not have seen (see matching.index).
    change_txid = BigInt(default=0, index=True)


class ConsentEvent(Table, tablename="consent_event"):
    id: Serial
    worker = ForeignKey(references=Worker, index=True)
    action = Varchar(length=16)  # granted | withdrawn
    terms_version = Varchar(length=16)
    at = Timestamptz(default=TimestamptzNow())


class Programme(Table):
    """A training programme (南粤家政, 粤菜师傅, 广东技工, local ones); the bureau adds more."""

    id: Serial
    code = Varchar(length=32, unique=True)
    name_zh = Varchar(length=64, unique=True)
    aliases = Array(base_column=Varchar(length=64))
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Training(Table):
    """One person's place on one course. It stays `pending` until its evidence is in
    (attendance sessions, the institution's roster) and the bureau, or the bureau's
    verification rule, verifies it."""

    id: Serial
    worker = ForeignKey(references=Worker, index=True)
    programme_code = Varchar(length=32)  # programme.code
    # Free text of a record made before programmes were coded, when no code matched it.
    programme_text = Varchar(length=64, default="")
    training_type = Varchar(length=32, null=True, default=None)  # domain.TrainingType; None on old records
    course = Varchar(length=128)
    occupation_code = Varchar(length=16, null=True, default=None)
    level = SmallInt(null=True, default=None)  # the level the course leads to
    institution = ForeignKey(references=Agency, null=True, index=True)
    hours = Integer()  # the course's hours
    started_on = Date()
    finished_on = Date(null=True, default=None)
    result = Varchar(length=16)  # passed | failed | in_progress
    status = Varchar(length=16, choices=CredentialStatus)
    status_reason = Text(default="")
    verified_by = ForeignKey(references=User, null=True, default=None)
    verified_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class TrainingSession(Table, tablename="training_session"):
    """One attended session. Its `hours` column is computed by PostgreSQL from the times
    (a generated column, so it is not declared here and never written)."""

    id: Serial
    training = ForeignKey(references=Training, index=True)
    on_date = Date()
    starts_at = Time()
    ends_at = Time()
    created_at = Timestamptz(default=TimestamptzNow())


class TrainingRoster(Table, tablename="training_roster"):
    """The class list (花名册) an institution uploads for a course starting on a date."""

    id: Serial
    institution = ForeignKey(references=Agency)
    course = Varchar(length=128)
    started_on = Date()
    size = Integer()
    uploaded_at = Timestamptz(default=TimestamptzNow())


class TrainingRosterEntry(Table, tablename="training_roster_entry"):
    id: Serial
    roster = ForeignKey(references=TrainingRoster)
    id_number_index = Varchar(length=80)  # the person's blind index, never her ID number


class TrainingVerificationRule(Table, tablename="training_verification_rule"):
    """The bureau's rule for verifying trainings without a person looking (one row)."""

    id: Serial
    auto_verify = Boolean(default=False)
    min_attendance_ratio = Numeric(digits=(4, 2), default=Decimal("1.00"))
    require_roster = Boolean(default=True)
    updated_by = ForeignKey(references=User, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class EvaluatorRegistration(Table, tablename="evaluator_registration"):
    """An evaluation institution's 备案: the occupations it may certify, for a period."""

    id: Serial
    agency = ForeignKey(references=Agency)
    registration_no = Varchar(length=64, unique=True)
    status = Varchar(length=16, default="active")  # active | suspended | revoked
    valid_from = Date()
    valid_until = Date()
    occupation_codes = Array(base_column=Varchar(length=16))
    decided_by = ForeignKey(references=User, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())


class Certificate(Table):
    id: Serial
    worker = ForeignKey(references=Worker, index=True)
    occupation_code = Varchar(length=16)
    occupation_name = Varchar(length=64)
    work_type = Varchar(length=32, null=True, default=None)
    kind = Varchar(length=32, default="skill_level")  # domain.CertificateKind
    level = SmallInt(null=True, default=None)  # None for kinds without levels
    certificate_no = Varchar(length=64, unique=True)
    issuer = ForeignKey(references=Agency, null=True, index=True)
    issued_on = Date()
    status = Varchar(length=16, choices=CredentialStatus)
    status_reason = Text(default="")
    revoked_at = Timestamptz(null=True, default=None)
    # The bureau's verification or rejection: who and when (None while pending).
    decided_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Check(Table, tablename="worker_check"):
    """A health check (tiered, valid one year) or a background check."""

    id: Serial
    worker = ForeignKey(references=Worker, index=True)
    kind = Varchar(length=16)  # health | background
    tier = Varchar(length=16, null=True, default=None)
    result = Varchar(length=16)  # passed | failed
    scope = Varchar(length=128, null=True, default=None)
    checked_on = Date()
    valid_until = Date(null=True, default=None)
    status = Varchar(length=16, choices=CredentialStatus)
    status_reason = Text(default="")
    recorded_by_agency = ForeignKey(references=Agency, null=True)
    # The bureau's verification or rejection: who and when (None while pending).
    decided_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WorkerLookup(Table):
    """Who looked a worker up by ID number, when, and whom they found (None: nobody they
    may see). The ID number itself is not kept."""

    id: Serial
    at = Timestamptz(default=TimestamptzNow(), index=True)
    user = ForeignKey(references=User, null=True)
    agency = ForeignKey(references=Agency, null=True, index=True)
    api_key_id = Integer(null=True, default=None)
    worker = ForeignKey(references=Worker, null=True)
