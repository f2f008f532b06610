from piccolo.columns import Bytea, Integer, Timestamptz, Varchar
from piccolo.columns.column_types import Serial
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class IdempotencyRecord(Table, tablename="idempotency_record"):
    """The first answer to a (caller, key) pair, replayed to retries of the same request."""

    id: Serial
    caller = Varchar(length=32)
    key = Varchar(length=100)
    fingerprint = Varchar(length=64)
    state = Varchar(length=8)  # running | done
    locked_until = Timestamptz()
    status_code = Integer(null=True, default=None)
    body = Bytea(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
