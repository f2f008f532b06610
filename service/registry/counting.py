"""When a credential counts, for queries through the ORM.

The rule itself lives in the database: `credential_counts(status, result)` and
`credential_valid_on(valid_until, day)` (created by the registry migration
`2026-11-27T17:00:00`). Raw SQL calls them directly; these wrap them as `where` clauses.
"""

from __future__ import annotations

from datetime import date

from piccolo.columns.combination import WhereRaw
from piccolo.table import Table


def counts(table: type[Table]) -> WhereRaw:
    """The row is verified and, if it has a result, passed."""
    name = table._meta.tablename
    has_result = any(column._meta.name == "result" for column in table._meta.columns)
    result = f'"{name}"."result"' if has_result else "'passed'"
    return WhereRaw(f'credential_counts("{name}"."status", {result})')


def valid_on(table: type[Table], day: date) -> WhereRaw:
    """The row has no end date, or it ends on `day` or later."""
    return WhereRaw(f'credential_valid_on("{table._meta.tablename}"."valid_until", {{}})', day)
