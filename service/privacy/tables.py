"""The log of reads of sensitive personal information (PIPL Arts. 51, 55).

One row per read of a worker's full ID number, phone, background-check detail or health
results: who read it (account, agency, API key, role), which field, when, and why (the
purpose the caller gave). PostgreSQL refuses to change or delete a row (a trigger), and the
API offers neither; only the bureau reads it, and a worker reads the rows about herself in
her data export.
"""

from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.columns.column_types import BigSerial
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class PersonalDataRead(Table, tablename="personal_data_read"):
    id = BigSerial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    # Who read: the account or the agency and its key (no foreign keys: the log outlives them).
    actor_role = Varchar(length=16)
    user_id = Integer(null=True, default=None)
    agency_id = Integer(null=True, default=None)
    api_key_id = Integer(null=True, default=None)
    worker_id = Integer(index=True)
    field = Varchar(length=32)  # domain.SensitiveField
    purpose = Varchar(length=200)
    route = Varchar(length=200)
    request_id = Varchar(length=64, default="")
