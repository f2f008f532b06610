"""Training outcomes kept per training, refreshed in the writing transaction.

The training → employment report used to join every verified training to its person's
certificates, placements and reviews on each request. `training_outcome` keeps those facts
per verified training (certified within a year, the first placement after finishing, its
wage, status and end, the employer's rating of it); statement-level triggers on training,
certificate, placement and review recompute the rows of the people a statement touched,
inside the same transaction, so the table is never staler than the rows it summarises.
The view `training_outcome_source` is the one definition of the facts; the triggers and
the full rebuild both read it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "training_outcome facts for the training-employment report"

# Advisory-lock class for refreshing one person's outcomes; people are locked in 256 buckets
# (in bucket order) so a bulk statement takes at most 256 locks.
LOCK_CLASS = 880801

STATEMENTS = [
    """
    CREATE OR REPLACE VIEW training_outcome_source AS
    SELECT t.id AS training, t.worker, t.programme_code AS programme,
           coalesce(t.training_type, 'unspecified')::varchar(32) AS training_type,
           t.institution, t.started_on, t.finished_on,
           -- "IS TRUE" keeps the date range off the issued_on index: one person's few
           -- certificates are found by worker; without statistics (a bulk load) the planner
           -- would otherwise scan a year of everyone's certificates per training.
           EXISTS (SELECT 1 FROM certificate c
                   WHERE c.worker = t.worker AND c.status = 'verified'
                     AND (c.issued_on BETWEEN t.started_on AND t.finished_on + 365) IS TRUE) AS certified,
           fp.id AS placement, fp.start_date AS placement_start, fp.status AS placement_status,
           coalesce(fp.end_date, (fp.ended_at AT TIME ZONE 'Asia/Shanghai')::date) AS placement_end,
           CASE WHEN fp.wage_unit = 'month' THEN fp.wage END AS monthly_wage,
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
    """,
    """
    CREATE TABLE training_outcome (
        training integer PRIMARY KEY REFERENCES training (id) ON DELETE CASCADE,
        worker integer NOT NULL,
        programme varchar(32) NOT NULL,
        training_type varchar(32) NOT NULL,
        institution integer,
        started_on date,
        finished_on date NOT NULL,
        certified boolean NOT NULL,
        placement integer,
        placement_start date,
        placement_status varchar(16),
        placement_end date,
        monthly_wage integer,
        rating double precision
    )
    """,
    "CREATE INDEX training_outcome_worker ON training_outcome (worker)",
    "CREATE INDEX training_outcome_finished_on ON training_outcome (finished_on)",
    "CREATE INDEX training_outcome_institution ON training_outcome (institution, finished_on)",
    f"""
    CREATE FUNCTION training_outcome_refresh(workers integer[]) RETURNS void AS $$
    BEGIN
        IF workers IS NULL THEN
            LOCK TABLE training_outcome IN SHARE ROW EXCLUSIVE MODE;
            DELETE FROM training_outcome;
            INSERT INTO training_outcome SELECT * FROM training_outcome_source;
            RETURN;
        END IF;
        PERFORM pg_advisory_xact_lock({LOCK_CLASS}, b.bucket)
        FROM (SELECT DISTINCT w % 256 AS bucket FROM unnest(workers) AS w WHERE w IS NOT NULL ORDER BY 1) b;
        -- Each statement below reads with a fresh snapshot, taken after the locks: a
        -- concurrent writer of the same people has committed by now.
        DELETE FROM training_outcome WHERE worker = ANY(workers);
        INSERT INTO training_outcome
        SELECT * FROM training_outcome_source WHERE worker = ANY(workers);
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION training_outcome_on_person_rows() RETURNS trigger AS $$
    DECLARE
        workers integer[] := '{}';
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            workers := workers || ARRAY(SELECT DISTINCT worker FROM new_rows);
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            workers := workers || ARRAY(SELECT DISTINCT worker FROM old_rows);
        END IF;
        IF cardinality(workers) > 0 THEN
            PERFORM training_outcome_refresh(ARRAY(SELECT DISTINCT unnest(workers)));
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION training_outcome_on_review_rows() RETURNS trigger AS $$
    DECLARE
        placements integer[] := '{}';
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            placements := placements || ARRAY(SELECT DISTINCT placement FROM new_rows);
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            placements := placements || ARRAY(SELECT DISTINCT placement FROM old_rows);
        END IF;
        IF cardinality(placements) > 0 THEN
            PERFORM training_outcome_refresh(
                ARRAY(SELECT DISTINCT p.worker FROM placement p WHERE p.id IN (SELECT unnest(placements))));
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
]

for table, function in (
    ("training", "training_outcome_on_person_rows"),
    ("certificate", "training_outcome_on_person_rows"),
    ("placement", "training_outcome_on_person_rows"),
    ("review", "training_outcome_on_review_rows"),
):
    STATEMENTS += [
        f"""CREATE TRIGGER {table}_outcome_insert AFTER INSERT ON {table}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"""CREATE TRIGGER {table}_outcome_update AFTER UPDATE ON {table}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"""CREATE TRIGGER {table}_outcome_delete AFTER DELETE ON {table}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
    ]

STATEMENTS.append("SELECT training_outcome_refresh(NULL)")


async def migrate() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reports", description=DESCRIPTION)
    manager.add_raw(migrate)
    return manager
