"""Accounts: people who log in with a phone and password, and agencies with API keys."""

from piccolo.columns import Array, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.column_types import Serial
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class User(Table, tablename="app_user"):
    """An employer, a worker or a bureau admin. Agencies are not users: they use API keys."""

    id: Serial
    phone = Varchar(length=20, unique=True)
    password_hash = Text()
    role = Varchar(length=16, index=True)
    display_name = Varchar(length=64)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # Tokens issued before this moment (a password reset) are no longer accepted.
    password_changed_at = Timestamptz(null=True, default=None)


class Agency(Table):
    """A housekeeping company, training institution or evaluation institution (评价机构)."""

    id: Serial
    name = Varchar(length=128)
    kind = Varchar(length=16, index=True)
    district_code = Varchar(length=6)
    # 统一社会信用代码, 18 characters.
    credit_code = Varchar(length=18, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiKey(Table, tablename="api_key"):
    """An agency's key. Only its SHA-256 digest is kept; the prefix finds it."""

    id: Serial
    agency = ForeignKey(references=Agency, index=True)
    prefix = Varchar(length=8, unique=True)
    digest = Varchar(length=64)
    scopes = Array(base_column=Varchar(length=32))
    label = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class PhoneCode(Table, tablename="phone_code"):
    """A one-time code sent to a phone. Only an HMAC of phone, purpose and code is kept;
    the newest code per phone and purpose is the one that counts."""

    id: Serial
    phone = Varchar(length=20)
    purpose = Varchar(length=16)
    code_digest = Varchar(length=64)
    attempts = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class EmployerSuspension(Table, tablename="employer_suspension"):
    """The bureau stops an employer (a household account, or an agency for the jobs it
    posts) from posting job requests and making offers, for a serious complaint it upheld.
    A row is never deleted: lifting it records who, when and why, so the table is the audit
    trail. The complaint is named by id (complaints live in the employment domain).
    PostgreSQL holds each row to exactly one of user and agency, and an employer to one
    suspension in force (partial unique indexes on user, and on agency, WHERE lifted_at IS NULL)."""

    id: Serial
    # Restrict, not cascade: deleting an account or agency must not erase the record.
    user = ForeignKey(references=User, null=True, index=True, on_delete=OnDelete.restrict)
    agency = ForeignKey(references=Agency, null=True, index=True, on_delete=OnDelete.restrict)
    complaint_id = Integer(null=True, default=None)
    reason = Text()
    suspended_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    lifted_at = Timestamptz(null=True, default=None)
    lifted_by = ForeignKey(references=User, null=True, on_delete=OnDelete.restrict)
    lift_reason = Text(default="")
