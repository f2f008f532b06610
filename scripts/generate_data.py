"""Synthetic registry data across Guangdong's 21 cities, reproducible from a seed.

    .venv/bin/python scripts/generate_data.py --workers 100000 --seed 7 [--database nanyue_synthetic]

Makes agencies, employers, workers (in Chinese, with encrypted ID numbers), their
certificates, trainings, health and background checks, and open job requests, with
COPY in batches and a progress bar. It writes to a database of its own (created fresh on
the server of DATABASE_URL, or on the embedded server) so it never touches real data.
The embedded server (data in var/bench-pg) stops when the script ends, also on SIGTERM or
Ctrl-C; the data stays for the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.database import ensure_database, exit_on_sigterm, make_engine, run_migrations, start_embedded_server  # noqa: E402
from service.privacy import mask_id_number  # noqa: E402
from service.registry.domain import add_years, id_check_digit, today_local  # noqa: E402
from service.security import IdNumberCipher  # noqa: E402
from service.settings import PROJECT_ROOT, load_settings  # noqa: E402
from service.taxonomy.rules import CATEGORY_CODES, tiers_covering  # noqa: E402

try:
    from tqdm import tqdm
except ImportError:  # pragma: no cover - tqdm is a dev dependency
    tqdm = None

BATCH = 20_000
# Surnames by their frequency in Guangdong (approximate); a few compound ones too.
SURNAMES = (
    ("陈", 10.0),
    ("李", 7.0),
    ("黄", 6.5),
    ("张", 5.0),
    ("梁", 4.0),
    ("林", 4.0),
    ("刘", 3.5),
    ("吴", 3.0),
    ("罗", 2.8),
    ("何", 2.6),
    ("郑", 2.4),
    ("杨", 2.3),
    ("周", 2.2),
    ("谢", 2.0),
    ("邓", 1.9),
    ("叶", 1.8),
    ("王", 1.8),
    ("曾", 1.7),
    ("麦", 1.2),
    ("钟", 1.5),
    ("朱", 1.4),
    ("冯", 1.3),
    ("蔡", 1.2),
    ("苏", 1.1),
    ("卢", 1.1),
    ("潘", 1.0),
    ("彭", 0.9),
    ("邱", 0.9),
    ("莫", 0.8),
    ("温", 0.8),
    ("欧阳", 0.3),
    ("司徒", 0.2),
)
GIVEN = "秀英丽华美玲芳燕红霞桂兰凤玉梅琼敏静婷慧娟妹颖珍萍翠莲彩金银嫦好带娣转群艳春惠"
GIVEN_MALE = "伟强明华军国建志勇文斌辉"
OTHER_PROVINCES = ("430000", "450000", "510000", "360000", "420000", "520000", "350000")
# Share of the province's domestic workers by city (rough, by population and economy).
CITY_WEIGHTS = {
    "440100": 16,
    "440300": 15,
    "441900": 9,
    "440600": 9,
    "441300": 5,
    "442000": 4,
    "440700": 4,
    "440500": 4,
    "440800": 5,
    "440900": 5,
    "445200": 4,
    "441200": 3,
    "441400": 3,
    "441800": 3,
    "441600": 2,
    "440200": 2,
    "441700": 2,
    "445100": 2,
    "441500": 2,
    "445300": 2,
    "440400": 2,
}
CANTONESE_CITIES = {
    "440100",
    "440300",
    "441900",
    "440600",
    "442000",
    "440700",
    "441200",
    "441800",
    "440400",
    "441700",
    "445300",
    "441300",
}
HAKKA_CITIES = {"441400", "441600", "440200", "441300"}
TEOCHEW_CITIES = {"440500", "445100", "445200", "441500"}
CATEGORY_WEIGHTS = {"household": 45, "maternity": 30, "elderly": 20, "medical": 5}
WAGES = {"maternity": (6000, 16000), "household": (4000, 8500), "elderly": (4500, 9000), "medical": (5000, 10000)}
OCCUPATION_FOR = {
    "maternity": "4-10-01-06",
    "household": "4-10-01-06",
    "elderly": "4-10-01-05",
    "medical": "4-14-01-02",
}
WORK_TYPE_FOR = {"maternity": "母婴护理员", "household": "家务服务员"}
# The laxest health report that covers each category (service/taxonomy/data/health_checks.json).
HEALTH_TIER_FOR = {category: tiers_covering(category)[0] for category in CATEGORY_CODES}
COURSES = {
    "maternity": "母婴护理员培训",
    "household": "家务服务员培训",
    "elderly": "养老护理员培训",
    "medical": "医疗护理员培训",
}


@dataclass
class Reference:
    districts: dict[str, dict]
    by_city: dict[str, list[str]]
    skills_by_category: dict[str, list[str]]
    occupations: dict[str, list[int]]


async def reference(conn: asyncpg.Connection) -> Reference:
    districts = {r["code"]: dict(r) for r in await conn.fetch("SELECT code, city_code, lat, lon FROM district")}
    by_city: dict[str, list[str]] = {}
    for code, d in sorted(districts.items()):
        by_city.setdefault(d["city_code"], []).append(code)
    skills: dict[str, list[str]] = {}
    for r in await conn.fetch("SELECT code, category FROM skill ORDER BY code"):
        skills.setdefault(r["category"], []).append(r["code"])
    occupations = {r["code"]: list(r["levels"]) for r in await conn.fetch("SELECT code, levels FROM occupation")}
    return Reference(districts, by_city, skills, occupations)


def progress(total: int, label: str):
    if tqdm is None:

        class Plain:
            def update(self, n):
                pass

            def close(self):
                print(f"{label}: {total} rows")

        return Plain()
    return tqdm(total=total, desc=label, unit="rows", unit_scale=True, file=sys.stderr)


WORKER_COLUMNS = [
    "id",
    "real_name",
    "gender",
    "birth_date",
    "id_number_encrypted",
    "id_number_index",
    "id_number_masked",
    "phone",
    "languages",
    "district_codes",
    "lat",
    "lon",
    "categories",
    "skills",
    "experience_years",
    "wage_min",
    "wage_max",
    "wage_unit",
    "live_in",
    "available_from",
    "status",
    "consented_at",
    "blacklisted_until",
    "ethnicity",
    "native_place",
    "marital_status",
    "religion",
    "version",
    "created_at",
    "updated_at",
    "agency",
]


class Generator:
    def __init__(self, ref: Reference, cipher: IdNumberCipher, seed: int, agencies: dict[str, list[int]]) -> None:
        self.ref, self.cipher, self.rng, self.agencies = ref, cipher, random.Random(seed), agencies
        self.today = today_local()
        self.now = datetime.now(timezone.utc)
        self.cities = list(CITY_WEIGHTS)
        self.city_weights = list(CITY_WEIGHTS.values())
        self.surnames = [s for s, _ in SURNAMES]
        self.surname_weights = [w for _, w in SURNAMES]
        self.categories = list(CATEGORY_WEIGHTS)
        self.category_weights = list(CATEGORY_WEIGHTS.values())
        self.seen_ids: set[str] = set()

    def worker(self, worker_id: int) -> tuple[tuple, list[tuple], list[tuple], list[tuple]]:
        rng = self.rng
        city = rng.choices(self.cities, self.city_weights)[0]
        home = rng.choice(self.ref.by_city[city])
        female = rng.random() < 0.92
        name = rng.choices(self.surnames, self.surname_weights)[0] + "".join(
            rng.choice(GIVEN if female else GIVEN_MALE) for _ in range(rng.choice((1, 2, 2)))
        )
        born = self.today - timedelta(days=rng.randint(24 * 365, 57 * 365))
        region = home if rng.random() < 0.7 else rng.choice(OTHER_PROVINCES)
        while True:
            order = rng.randrange(0, 500) * 2 + (0 if female else 1)
            body = f"{region}{born:%Y%m%d}{order:03d}"
            id_number = body + id_check_digit(body)
            if id_number not in self.seen_ids:
                self.seen_ids.add(id_number)
                break
        served = [home] + rng.sample(
            [d for d in self.ref.by_city[city] if d != home],
            k=min(rng.choice((0, 0, 1, 2, 3)), len(self.ref.by_city[city]) - 1),
        )
        district = self.ref.districts[home]
        located = rng.random() < 0.7
        lat = district["lat"] + rng.uniform(-0.08, 0.08) if located else None
        lon = district["lon"] + rng.uniform(-0.08, 0.08) if located else None
        languages = ["mandarin"] if rng.random() < 0.9 else []
        if city in CANTONESE_CITIES and rng.random() < 0.7:
            languages.append("cantonese")
        if city in HAKKA_CITIES and rng.random() < 0.5:
            languages.append("hakka")
        if city in TEOCHEW_CITIES and rng.random() < 0.6:
            languages.append("teochew")
        if rng.random() < 0.03:
            languages.append("english")
        first = rng.choices(self.categories, self.category_weights)[0]
        categories = (
            [first] if rng.random() < 0.6 else list({first, rng.choices(self.categories, self.category_weights)[0]})
        )
        pool = [s for c in categories for s in self.ref.skills_by_category.get(c, [])]
        skills = rng.sample(pool, k=min(len(pool), rng.randint(2, 8)))
        low, high = WAGES[first]
        hourly = rng.random() < 0.1
        wage_min = rng.randint(30, 70) if hourly else rng.randrange(low, high, 100)
        wage_max = wage_min + (rng.randint(0, 20) if hourly else rng.randrange(0, 3000, 100))
        status = rng.choices(("active", "paused", "suspended"), (93, 5, 2))[0]
        consented = self.now - timedelta(days=rng.randint(1, 900)) if rng.random() < 0.8 else None
        blacklisted = self.today + timedelta(days=rng.randint(1, 1000)) if rng.random() < 0.003 else None
        available = self.today + timedelta(days=rng.randint(1, 60)) if rng.random() < 0.3 else None
        agency = rng.choice(self.agencies["housekeeping"]) if rng.random() < 0.6 else None
        worker = (
            worker_id,
            name,
            "female" if female else "male",
            born,
            self.cipher.encrypt(id_number),
            self.cipher.blind_index(id_number),
            mask_id_number(id_number),
            f"13{worker_id:09d}",
            languages,
            served,
            lat,
            lon,
            categories,
            skills,
            rng.randint(0, 20),
            wage_min,
            wage_max,
            "hour" if hourly else "month",
            rng.random() < 0.4,
            available,
            status,
            consented,
            blacklisted,
            rng.choices(("汉族", "壮族", "瑶族", "畲族", None), (80, 3, 2, 1, 14))[0],
            rng.choice((None, "广东" + home, "湖南", "广西", "四川")),
            rng.choice((None, "已婚", "未婚", "离异")),
            None,
            1,
            self.now,
            self.now,
            agency,
        )
        certificates, checks, trainings = [], [], []
        if rng.random() < 0.55:
            occupation = OCCUPATION_FOR[first]
            levels = self.ref.occupations.get(occupation, [5, 4, 3])
            level = rng.choices(levels, [35, 35, 22, 7, 1][: len(levels)])[0]
            work_type = WORK_TYPE_FOR.get(first) if occupation == "4-10-01-06" and level >= 3 else None
            status_c = rng.choices(("verified", "revoked", "pending"), (97, 1, 2))[0]
            certificates.append(
                (
                    worker_id,
                    occupation,
                    "",
                    work_type,
                    level,
                    f"S{worker_id:012d}",
                    rng.choice(self.agencies["evaluation"]),
                    self.today - timedelta(days=rng.randint(30, 2000)),
                    status_c,
                    "",
                    None,
                    self.now,
                )
            )
        if rng.random() < 0.75:
            checked = self.today - timedelta(days=rng.randint(0, 450))
            checks.append(
                (
                    worker_id,
                    "health",
                    HEALTH_TIER_FOR[first],
                    "passed",
                    None,
                    checked,
                    checked + timedelta(days=365),
                    "verified",
                    "",
                    None,
                    self.now,
                )
            )
        if rng.random() < 0.4:
            checked = self.today - timedelta(days=rng.randint(0, 700))
            checks.append(
                (
                    worker_id,
                    "background",
                    None,
                    "passed",
                    "公安违法犯罪记录",
                    checked,
                    add_years(checked, 3),
                    "verified",
                    "",
                    None,
                    self.now,
                )
            )
        for _ in range(rng.choices((0, 1, 2), (40, 45, 15))[0]):
            finished = self.today - timedelta(days=rng.randint(10, 1100))
            trainings.append(
                (
                    worker_id,
                    "nanyue_jiazheng",
                    "employment_skills",
                    COURSES[first],
                    OCCUPATION_FOR[first],
                    rng.choice(self.agencies["training"]),
                    rng.choice((40, 60, 80, 120)),
                    finished - timedelta(days=rng.randint(7, 40)),
                    finished,
                    "passed" if rng.random() < 0.9 else "failed",
                    "verified",
                    "",
                    self.now,
                )
            )
        return worker, certificates, checks, trainings

    def job_request(self, employer_id: int) -> tuple:
        rng = self.rng
        city = rng.choices(self.cities, self.city_weights)[0]
        district = rng.choice(self.ref.by_city[city])
        category = rng.choices(self.categories, self.category_weights)[0]
        skills = rng.sample(self.ref.skills_by_category[category], k=rng.randint(1, 4))
        low, high = WAGES[category]
        budget_max = rng.randrange(low + 1000, high, 500)
        start = self.today + timedelta(days=rng.randint(3, 45))
        centre = self.ref.districts[district]
        located = rng.random() < 0.5
        languages = ["cantonese"] if city in CANTONESE_CITIES and rng.random() < 0.4 else []
        return (
            employer_id,
            category,
            skills,
            "",
            '{"matched": [], "not_understood": []}',
            "",
            district,
            "district",
            centre["lat"] if located else None,
            centre["lon"] if located else None,
            rng.choice((10, 20, 30)) if located else None,
            start,
            start + timedelta(days=rng.choice((26, 42, 90, 365))),
            None,
            rng.random() < 0.4,
            budget_max - rng.randrange(1000, 3000, 500),
            budget_max,
            "month",
            None,
            None,
            languages,
            rng.random() < 0.2,
            1,
            "open",
            1,
            self.now,
            self.now,
        )


REQUEST_COLUMNS = [
    "employer",
    "category",
    "skills",
    "skills_text",
    "understood",
    "household_notes",
    "district_code",
    "search_scope",
    "lat",
    "lon",
    "radius_km",
    "start_date",
    "end_date",
    "hours_per_week",
    "live_in",
    "budget_min",
    "budget_max",
    "budget_unit",
    "required_occupation_code",
    "required_min_level",
    "languages",
    "background_check_required",
    "headcount",
    "status",
    "version",
    "created_at",
    "updated_at",
]
CERTIFICATE_COLUMNS = [
    "worker",
    "occupation_code",
    "occupation_name",
    "work_type",
    "level",
    "certificate_no",
    "issuer",
    "issued_on",
    "status",
    "status_reason",
    "revoked_at",
    "created_at",
]
CHECK_COLUMNS = [
    "worker",
    "kind",
    "tier",
    "result",
    "scope",
    "checked_on",
    "valid_until",
    "status",
    "status_reason",
    "recorded_by_agency",
    "created_at",
]
TRAINING_COLUMNS = [
    "worker",
    "programme_code",
    "training_type",
    "course",
    "occupation_code",
    "institution",
    "hours",
    "started_on",
    "finished_on",
    "result",
    "status",
    "status_reason",
    "created_at",
]
# Secondary indexes are dropped during the bulk load and built once afterwards.
BULK_INDEXES = {
    "worker_district_codes_gin": "CREATE INDEX worker_district_codes_gin ON worker USING gin (district_codes)",
    "worker_categories_gin": "CREATE INDEX worker_categories_gin ON worker USING gin (categories)",
    "worker_skills_gin": "CREATE INDEX worker_skills_gin ON worker USING gin (skills)",
    "worker_real_name_trgm": "CREATE INDEX worker_real_name_trgm ON worker USING gin (real_name gin_trgm_ops)",
}


async def fill(url: str, *, workers: int, seed: int, requests: int, data_key: bytes) -> None:
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT count(*) FROM worker"):
            raise SystemExit("the database already has workers; generate into a fresh one")
        ref = await reference(conn)
        rng = random.Random(seed)
        agencies: dict[str, list[int]] = {}
        now = datetime.now(timezone.utc)
        for kind, count in (("housekeeping", 300), ("training", 60), ("evaluation", 30)):
            rows = []
            for i in range(count):
                city = rng.choices(list(CITY_WEIGHTS), list(CITY_WEIGHTS.values()))[0]
                credit = f"91{ref.by_city[city][0]}{kind[0].upper()}{i:09d}"[:18].ljust(18, "0")
                rows.append((f"{kind}-{i:04d} 家政机构", kind, ref.by_city[city][0], credit, now))
            ids = await conn.fetch(
                "INSERT INTO agency (name, kind, district_code, credit_code, created_at) "
                "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) RETURNING id",
                *[list(col) for col in zip(*rows)],
            )
            agencies[kind] = [r["id"] for r in ids]
        employer_ids = [
            r["id"]
            for r in await conn.fetch(
                "INSERT INTO app_user (phone, password_hash, role, display_name, is_active, created_at) "
                "SELECT '15' || lpad(g::text, 9, '0'), 'not-a-login', 'employer', '雇主' || g, true, now() "
                "FROM generate_series(1, $1) g RETURNING id",
                max(1, requests),
            )
        ]

        for name in BULK_INDEXES:
            await conn.execute(f"DROP INDEX IF EXISTS {name}")
        generator = Generator(ref, IdNumberCipher(data_key), seed, agencies)
        bar = progress(workers, "workers")
        started = time.perf_counter()
        for first in range(1, workers + 1, BATCH):
            batch_w, batch_c, batch_h, batch_t = [], [], [], []
            for worker_id in range(first, min(first + BATCH, workers + 1)):
                w, c, h, t = generator.worker(worker_id)
                batch_w.append(w)
                batch_c.extend(c)
                batch_h.extend(h)
                batch_t.extend(t)
            await conn.copy_records_to_table("worker", records=batch_w, columns=WORKER_COLUMNS)
            await conn.copy_records_to_table("certificate", records=batch_c, columns=CERTIFICATE_COLUMNS)
            await conn.copy_records_to_table("worker_check", records=batch_h, columns=CHECK_COLUMNS)
            await conn.copy_records_to_table("training", records=batch_t, columns=TRAINING_COLUMNS)
            bar.update(len(batch_w))
        bar.close()
        await conn.execute(
            "UPDATE certificate c SET occupation_name = o.name_zh FROM occupation o WHERE o.code = c.occupation_code"
        )
        await conn.execute("SELECT setval(pg_get_serial_sequence('worker', 'id'), $1)", workers)
        for statement in BULK_INDEXES.values():
            await conn.execute(statement)
        await conn.copy_records_to_table(
            "job_request",
            records=[generator.job_request(rng.choice(employer_ids)) for _ in range(requests)],
            columns=REQUEST_COLUMNS,
        )
        await conn.execute("ANALYZE")
        print(
            f"generated {workers} workers and {requests} requests in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    finally:
        await conn.close()


async def fresh_database(name: str, server_url: str | None = None) -> str:
    """Create (or empty) database `name` and migrate it; returns its URL."""
    server_url = server_url or start_embedded_server(PROJECT_ROOT / "var" / "bench-pg")
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    url = await ensure_database(server_url, name)
    await run_migrations(make_engine(url))
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="nanyue_synthetic")
    args = parser.parse_args()
    settings = load_settings()
    exit_on_sigterm()  # the embedded server, if started here, stops when this script ends

    async def run() -> None:
        url = await fresh_database(args.database, settings.database_url)
        await fill(url, workers=args.workers, seed=args.seed, requests=args.requests, data_key=settings.data_key_bytes)
        print(url)

    asyncio.run(run())


if __name__ == "__main__":
    main()
