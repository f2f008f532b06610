"""Coded training records and their evidence; certificate kinds; evaluation institutions' 备案.

Free-text programmes are mapped to coded ones by name; unknown names become "other" and
keep their text in `programme_text`. Existing trainings keep their status (they were
verified on push); new ones start pending.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "programmes, training types, attendance, rosters, certificate kinds, evaluator registrations"

STATEMENTS = [
    """
    CREATE TABLE programme (
        id serial PRIMARY KEY,
        code varchar(32) NOT NULL UNIQUE,
        name_zh varchar(64) NOT NULL UNIQUE,
        aliases varchar(64)[] NOT NULL DEFAULT '{}',
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    INSERT INTO programme (code, name_zh, aliases) VALUES
        ('nanyue_jiazheng', '南粤家政', '{南粤家政培训,南粤家政工程,nanyue jiazheng}'),
        ('yuecai_shifu', '粤菜师傅', '{粤菜师傅培训,粤菜师傅工程,粤菜}'),
        ('guangdong_jigong', '广东技工', '{广东技工培训,广东技工工程}'),
        ('other', '其他', '{}')
    """,
    "ALTER TABLE training RENAME COLUMN programme TO programme_text",
    "ALTER TABLE training ALTER COLUMN programme_text SET DEFAULT ''",
    """
    ALTER TABLE training
        ADD COLUMN programme_code varchar(32) REFERENCES programme (code),
        ADD COLUMN training_type varchar(32),
        ADD COLUMN occupation_code varchar(16),
        ADD COLUMN level smallint,
        ADD COLUMN verified_by integer REFERENCES app_user (id) ON DELETE SET NULL,
        ADD COLUMN verified_at timestamptz
    """,
    """
    UPDATE training t SET programme_code = coalesce(
        (SELECT p.code FROM programme p
         WHERE p.code <> 'other' AND (btrim(t.programme_text) = p.name_zh OR btrim(t.programme_text) = ANY (p.aliases))),
        'other')
    """,
    # A known name says all the text said; "other" keeps the text.
    "UPDATE training SET programme_text = '' WHERE programme_code <> 'other'",
    "ALTER TABLE training ALTER COLUMN programme_code SET NOT NULL",
    "CREATE INDEX training_programme_code ON training (programme_code)",
    "CREATE INDEX training_finished_on ON training (finished_on)",
    """
    CREATE TABLE training_session (
        id serial PRIMARY KEY,
        training integer NOT NULL REFERENCES training (id) ON DELETE CASCADE,
        on_date date NOT NULL,
        starts_at time NOT NULL,
        ends_at time NOT NULL,
        hours numeric(4, 1) GENERATED ALWAYS AS (round((extract(epoch FROM ends_at - starts_at) / 3600)::numeric, 1)) STORED,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT training_session_order CHECK (ends_at > starts_at),
        CONSTRAINT training_session_once UNIQUE (training, on_date, starts_at)
    )
    """,
    """
    CREATE TABLE training_roster (
        id serial PRIMARY KEY,
        institution integer NOT NULL REFERENCES agency (id),
        course varchar(128) NOT NULL,
        started_on date NOT NULL,
        size integer NOT NULL,
        uploaded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE training_roster_entry (
        id serial PRIMARY KEY,
        roster integer NOT NULL REFERENCES training_roster (id) ON DELETE CASCADE,
        id_number_index varchar(64) NOT NULL,
        CONSTRAINT training_roster_entry_once UNIQUE (roster, id_number_index)
    )
    """,
    "CREATE INDEX training_roster_entry_person ON training_roster_entry (id_number_index)",
    "CREATE INDEX training_roster_class ON training_roster (institution, course, started_on)",
    """
    CREATE TABLE training_verification_rule (
        id integer PRIMARY KEY CHECK (id = 1),
        auto_verify boolean NOT NULL DEFAULT false,
        min_attendance_ratio numeric(4, 2) NOT NULL DEFAULT 1.00,
        require_roster boolean NOT NULL DEFAULT true,
        updated_by integer REFERENCES app_user (id) ON DELETE SET NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "INSERT INTO training_verification_rule (id) VALUES (1)",
    "ALTER TABLE certificate ADD COLUMN kind varchar(32) NOT NULL DEFAULT 'skill_level'",
    "ALTER TABLE certificate ALTER COLUMN level DROP NOT NULL",
    """
    ALTER TABLE certificate ADD CONSTRAINT certificate_level_by_kind CHECK (
        (kind IN ('skill_level', 'qualification') AND level BETWEEN 1 AND 5)
        OR (kind IN ('special_ability', 'training_pass') AND level IS NULL))
    """,
    "CREATE INDEX certificate_issued_on ON certificate (issued_on)",
    """
    CREATE TABLE evaluator_registration (
        id serial PRIMARY KEY,
        agency integer NOT NULL REFERENCES agency (id),
        registration_no varchar(64) NOT NULL UNIQUE,
        status varchar(16) NOT NULL DEFAULT 'active',
        valid_from date NOT NULL,
        valid_until date NOT NULL,
        occupation_codes varchar(16)[] NOT NULL,
        decided_by integer REFERENCES app_user (id) ON DELETE SET NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT evaluator_registration_period CHECK (valid_until >= valid_from)
    )
    """,
    "CREATE INDEX evaluator_registration_agency ON evaluator_registration (agency)",
]


async def migrate() -> None:
    db = engine_finder()
    for statement in STATEMENTS:
        await db.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    manager.add_raw(migrate)
    return manager
