"""The kept training outcomes follow two rules that landed beside them.

A per-单 (26-day term) placement counts in the median monthly wage at its monthly figure,
through the one conversion `units_per_month`; and a certificate counts when
`credential_counts` says so, the one owner of that rule. The view is replaced (same
columns) and every outcome rebuilt from it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from service.registry.domain import units_per_month

ID = "2026-11-27T18:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "training_outcome_source: per-单 wages and credential_counts"

VIEW = """
    CREATE OR REPLACE VIEW training_outcome_source AS
    SELECT t.id AS training, t.worker, t.programme_code AS programme,
           coalesce(t.training_type, 'unspecified')::varchar(32) AS training_type,
           t.institution, t.started_on, t.finished_on,
           -- "IS TRUE" keeps the date range off the issued_on index: one person's few
           -- certificates are found by worker; without statistics (a bulk load) the planner
           -- would otherwise scan a year of everyone's certificates per training.
           EXISTS (SELECT 1 FROM certificate c
                   WHERE c.worker = t.worker AND credential_counts(c.status)
                     AND (c.issued_on BETWEEN t.started_on AND t.finished_on + 365) IS TRUE) AS certified,
           fp.id AS placement, fp.start_date AS placement_start, fp.status AS placement_status,
           coalesce(fp.end_date, (fp.ended_at AT TIME ZONE 'Asia/Shanghai')::date) AS placement_end,
           CASE WHEN fp.wage_unit = 'month' THEN fp.wage
                WHEN fp.wage_unit = 'term' THEN round(fp.wage * {term_per_month})::integer END AS monthly_wage,
           (SELECT avg(r.overall) FROM review r
            WHERE r.placement = fp.id AND r.author_role = 'employer') AS rating
    FROM training t
    LEFT JOIN LATERAL (
        SELECT p.id, p.start_date, p.end_date, p.ended_at, p.status, p.wage, p.wage_unit
        FROM placement p
        WHERE p.worker = t.worker AND p.start_date >= t.finished_on AND p.status <> 'no_show'
        ORDER BY p.start_date, p.id
        LIMIT 1
    ) fp ON true
    WHERE t.status = 'verified' AND t.finished_on IS NOT NULL
"""


async def migrate() -> None:
    db = engine_finder()
    await db.run_ddl(VIEW.format(term_per_month=repr(units_per_month("term", 0))))
    await db.run_ddl("SELECT training_outcome_refresh(NULL)")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reports", description=DESCRIPTION)
    manager.add_raw(migrate)
    return manager
