"""Subsidy rules and claims, targets and budgets, subsidy-integrity flags."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T14:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "subsidy rules, claims, targets, budgets, integrity flags"

STATEMENTS = [
    """
    CREATE TABLE subsidy_rule (
        id serial PRIMARY KEY,
        name varchar(64) NOT NULL,
        programme_code varchar(32) REFERENCES programme (code),
        training_type varchar(32),
        level smallint CHECK (level BETWEEN 1 AND 5),
        base_amount integer NOT NULL CHECK (base_amount >= 0),
        bonus_pct smallint NOT NULL DEFAULT 0 CHECK (bonus_pct BETWEEN 0 AND 100),
        bonus_max_level smallint NOT NULL DEFAULT 3,
        bonus_occupations varchar(16)[] NOT NULL DEFAULT '{}',
        valid_from date NOT NULL,
        valid_until date,
        active boolean NOT NULL DEFAULT true,
        created_by integer REFERENCES app_user (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE subsidy_claim (
        id serial PRIMARY KEY,
        institution integer NOT NULL REFERENCES agency (id),
        training integer NOT NULL REFERENCES training (id),
        worker integer NOT NULL REFERENCES worker (id),
        programme_code varchar(32) NOT NULL REFERENCES programme (code),
        certificate integer REFERENCES certificate (id),
        amount integer NOT NULL CHECK (amount >= 0),
        rule integer REFERENCES subsidy_rule (id),
        pricing jsonb NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'claimed',
        claimed_on date NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        decided_by integer REFERENCES app_user (id) ON DELETE SET NULL,
        decided_at timestamptz,
        decision_reason text NOT NULL DEFAULT '',
        CONSTRAINT subsidy_claim_status CHECK (status IN ('claimed', 'approved', 'paid', 'refused', 'recovered'))
    )
    """,
    "CREATE UNIQUE INDEX subsidy_claim_one_per_training ON subsidy_claim (training) WHERE status <> 'refused'",
    "CREATE INDEX subsidy_claim_institution ON subsidy_claim (institution)",
    "CREATE INDEX subsidy_claim_worker ON subsidy_claim (worker)",
    "CREATE INDEX subsidy_claim_claimed_on ON subsidy_claim (claimed_on)",
    """
    CREATE TABLE subsidy_claim_event (
        id serial PRIMARY KEY,
        claim integer NOT NULL REFERENCES subsidy_claim (id) ON DELETE CASCADE,
        from_status varchar(16),
        to_status varchar(16) NOT NULL,
        by_user integer REFERENCES app_user (id) ON DELETE SET NULL,
        by_agency integer REFERENCES agency (id) ON DELETE SET NULL,
        reason text NOT NULL DEFAULT '',
        at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX subsidy_claim_event_claim ON subsidy_claim_event (claim)",
    """
    CREATE TABLE bureau_target (
        id serial PRIMARY KEY,
        year integer NOT NULL,
        metric varchar(16) NOT NULL CHECK (metric IN ('trained', 'certified', 'placed', 'senior')),
        programme_code varchar(32) REFERENCES programme (code),
        district_code varchar(6),
        institution integer REFERENCES agency (id),
        target integer NOT NULL CHECK (target > 0),
        updated_by integer REFERENCES app_user (id) ON DELETE SET NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT bureau_target_once UNIQUE NULLS NOT DISTINCT (year, metric, programme_code, district_code, institution)
    )
    """,
    """
    CREATE TABLE programme_budget (
        id serial PRIMARY KEY,
        year integer NOT NULL,
        programme_code varchar(32) NOT NULL REFERENCES programme (code),
        amount bigint NOT NULL CHECK (amount >= 0),
        updated_by integer REFERENCES app_user (id) ON DELETE SET NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT programme_budget_once UNIQUE (year, programme_code)
    )
    """,
    """
    CREATE TABLE integrity_flag (
        id serial PRIMARY KEY,
        rule varchar(32) NOT NULL,
        fingerprint varchar(128) NOT NULL,
        worker integer REFERENCES worker (id),
        institution integer REFERENCES agency (id),
        claim integer REFERENCES subsidy_claim (id),
        evidence jsonb NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'dismissed')),
        decided_by integer REFERENCES app_user (id) ON DELETE SET NULL,
        decided_at timestamptz,
        decision_reason text NOT NULL DEFAULT '',
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT integrity_flag_once UNIQUE (rule, fingerprint)
    )
    """,
    "CREATE INDEX integrity_flag_claim ON integrity_flag (claim) WHERE status = 'confirmed'",
    "CREATE INDEX integrity_flag_institution ON integrity_flag (institution)",
    """
    CREATE TABLE integrity_check_run (
        id serial PRIMARY KEY,
        trigger varchar(16) NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        flags_seen integer NOT NULL DEFAULT 0,
        flags_new integer NOT NULL DEFAULT 0
    )
    """,
    # The reports join these often.
    "CREATE INDEX IF NOT EXISTS training_session_training ON training_session (training)",
    "CREATE INDEX IF NOT EXISTS placement_worker_start ON placement (worker, start_date)",
    "CREATE INDEX IF NOT EXISTS certificate_worker_occupation ON certificate (worker, occupation_code)",
]


async def migrate() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reports", description=DESCRIPTION)
    manager.add_raw(migrate)
    return manager
