"""A synthetic city-year (or province-year) of training, certificates, jobs and subsidy claims,
with planted anomalies of every kind the subsidy-integrity check looks for.

    .venv/bin/python scripts/generate_bureau_data.py --scale 1 --database nanyue_bureau [--seed 5]

Scale 1 is a city-year like Qingyuan's (70,000 trainings, 22,000 certificates, 15,000
placements, 300 institutions); scale 10 a province-year. Natural records are made so that
no rule should fire on them (ages 20-50, one course at a time, certificates after the
course, claims within two months, unique phones, no two people of one birth date and
surname with names one character apart); every planted case is written to
`bench_planted (rule, fingerprint)` in the fingerprint format of `service.reports.flags`,
so a benchmark can count what the check found and what it flagged besides.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generate_data import GIVEN, GIVEN_MALE, SURNAMES, fresh_database  # noqa: E402

from service.settings import load_settings  # noqa: E402

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)
QINGYUAN = ["441802", "441803", "441821", "441823", "441825", "441826", "441881", "441882"]
PROGRAMMES = [("nanyue_jiazheng", 40), ("yuecai_shifu", 30), ("guangdong_jigong", 20), ("other", 10)]
TYPES = [
    ("skill_upgrade", 45),
    ("employment_skills", 35),
    ("job_adaptation", 10),
    ("apprenticeship", 5),
    ("entrepreneurship", 5),
]
OCCUPATIONS = {
    "4-10-01-06": ("家政服务员", [5, 4, 3, 2]),
    "4-10-01-05": ("养老护理员", [5, 4, 3, 2, 1]),
    "4-10-01-02": ("育婴员", [5, 4, 3]),
    "4-10-01-03": ("保育师", [5, 4, 3, 2, 1]),
    "4-14-01-02": ("医疗护理员", [5, 4, 3]),
}
BASE = {
    "employment_skills": 1200,
    "skill_upgrade": 1000,
    "job_adaptation": 600,
    "apprenticeship": 4000,
    "entrepreneurship": 1000,
}
SHORTAGE = {"4-10-01-06", "4-10-01-05", "4-10-01-02"}
HOURS = (24, 40, 64)


@dataclass
class Rows:
    agency: list = field(default_factory=list)
    registration: list = field(default_factory=list)
    worker: list = field(default_factory=list)
    training: list = field(default_factory=list)
    session: list = field(default_factory=list)
    certificate: list = field(default_factory=list)
    request: list = field(default_factory=list)
    offer: list = field(default_factory=list)
    placement: list = field(default_factory=list)
    review: list = field(default_factory=list)
    claim: list = field(default_factory=list)
    planted: list = field(default_factory=list)


class City:
    def __init__(self, scale: int, seed: int, districts: list[str]) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.districts = districts
        self.rows = Rows()
        self.ids = {k: 0 for k in ("agency", "worker", "training", "session", "certificate", "request", "claim")}
        self.names: dict[tuple, list[str]] = {}  # (birth date, gender, surname) -> given names
        self.trainings: dict[int, dict] = {}
        self.surnames = [s for s, _ in SURNAMES]
        self.surname_weights = [w for _, w in SURNAMES]

    def next_id(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def plant(self, rule: str, fingerprint: str) -> None:
        self.rows.planted.append((rule, fingerprint))

    # People --------------------------------------------------------------------------

    def _near(self, key: tuple, given: str) -> bool:
        return any(
            len(g) == len(given)
            and sum(a != b for a, b in zip(g, given)) <= 1
            or abs(len(g) - len(given)) == 1
            and (g in given or given in g)
            for g in self.names.get(key, [])
        )

    def person(
        self,
        *,
        born: date | None = None,
        female: bool | None = None,
        surname: str | None = None,
        given: str | None = None,
        phone: str | None = None,
        check: bool = True,
    ) -> int:
        rng = self.rng
        female = rng.random() < 0.9 if female is None else female
        while True:
            b = born or date(1976, 1, 1) + timedelta(days=rng.randint(0, 365 * 26))
            s = surname or rng.choices(self.surnames, self.surname_weights)[0]
            g = given or "".join(rng.choice(GIVEN if female else GIVEN_MALE) for _ in range(2))
            key = (b, female, s)
            if not check or not self._near(key, g):
                break
            if given is not None:
                raise ValueError("planted name collides")
        self.names.setdefault(key, []).append(g)
        worker_id = self.next_id("worker")
        self.rows.worker.append(
            (
                worker_id,
                s + g,
                "female" if female else "male",
                b,
                b"\x00",
                f"bench-{worker_id}",
                f"4418**********{worker_id % 10000:04d}",
                phone or f"1{3 + worker_id % 6}{worker_id:09d}"[:11],
                [],
                [rng.choice(self.districts)],
                ["household"],
                [],
                4000,
                8000,
                "month",
                NOW,
                NOW,
            )
        )
        return worker_id

    # Trainings -----------------------------------------------------------------------

    def training(
        self,
        worker: int,
        institution: tuple[int, str],
        *,
        started: date,
        occupation: str | None = None,
        level: int | None = None,
        programme: str | None = None,
        course: str | None = None,
        sessions: bool = True,
        status: str = "verified",
    ) -> dict:
        rng = self.rng
        occupation = occupation or rng.choice(list(OCCUPATIONS))
        name, levels = OCCUPATIONS[occupation]
        level = level or rng.choice(levels[:3])
        hours = rng.choice(HOURS)
        days = hours // 8
        finished = started + timedelta(days=days + rng.randint(2, 20))
        training = {
            "id": self.next_id("training"),
            "worker": worker,
            "institution": institution[0],
            "programme": programme or rng.choices([p for p, _ in PROGRAMMES], [w for _, w in PROGRAMMES])[0],
            "type": rng.choices([t for t, _ in TYPES], [w for _, w in TYPES])[0],
            "course": course or f"{name}（{'五四三二一'[5 - level]}级）培训",
            "occupation": occupation,
            "level": level,
            "hours": hours,
            "started": started,
            "finished": finished,
            "status": status,
            "sessions": [],
        }
        self.rows.training.append(
            (
                training["id"],
                worker,
                training["programme"],
                "",
                training["type"],
                training["course"],
                occupation,
                level,
                institution[0],
                hours,
                started,
                finished,
                "passed",
                status,
                NOW,
            )
        )
        self.trainings[training["id"]] = training
        if sessions:
            day = started
            for _ in range(days):
                self.session(training, day, "09:00", "17:00")
                day += timedelta(days=1)
        return training

    def session(self, training: dict, day: date, starts: str, ends: str) -> int:
        session_id = self.next_id("session")
        self.rows.session.append((session_id, training["id"], day, _clock(starts), _clock(ends)))
        training["sessions"].append((session_id, day))
        return session_id

    def certificate(
        self, training: dict, issued: date, *, issuer: int, status: str = "verified", occupation: str | None = None
    ) -> int:
        certificate_id = self.next_id("certificate")
        occupation = occupation or training["occupation"]
        self.rows.certificate.append(
            (
                certificate_id,
                training["worker"],
                "skill_level",
                occupation,
                OCCUPATIONS[occupation][0],
                training["level"] if occupation == training["occupation"] else OCCUPATIONS[occupation][1][0],
                f"B{certificate_id:010d}",
                issuer,
                issued,
                status,
                NOW,
            )
        )
        return certificate_id

    def claim(self, training: dict, claimed: date, *, certificate: int | None, status: str | None = None) -> int:
        rng = self.rng
        claim_id = self.next_id("claim")
        bonus = 30 if training["level"] <= 3 and training["occupation"] in SHORTAGE else 0
        amount = BASE[training["type"]] * (100 + bonus) // 100
        status = status or rng.choices(("claimed", "approved", "paid", "refused", "recovered"), (30, 30, 35, 4, 1))[0]
        pricing = json.dumps({"base_amount": BASE[training["type"]], "bonus_pct": bonus, "amount": amount})
        claimed_at = datetime.combine(claimed, datetime.min.time(), timezone.utc) + timedelta(seconds=claim_id)
        self.rows.claim.append(
            (
                claim_id,
                training["institution"],
                training["id"],
                training["worker"],
                training["programme"],
                certificate,
                amount,
                pricing,
                status,
                claimed,
                claimed_at,
            )
        )
        return claim_id

    def placement(self, worker: int, start: date, employer: int) -> None:
        rng = self.rng
        request_id = self.next_id("request")
        wage = rng.randrange(4000, 10000, 500)
        ended = start < TODAY - timedelta(days=30) and rng.random() < 0.45
        end = start + timedelta(days=rng.randint(26, 400)) if ended else None
        if end and end > TODAY:
            end = None
        self.rows.request.append(
            (
                request_id,
                employer,
                "household",
                [],
                rng.choice(self.districts),
                start,
                3000,
                12000,
                "month",
                [],
                "filled",
                NOW,
                NOW,
            )
        )
        self.rows.offer.append((request_id, request_id, worker, employer, wage, "month", "accepted", NOW))
        self.rows.placement.append(
            (
                request_id,
                request_id,
                request_id,
                worker,
                employer,
                start,
                end,
                wage,
                "month",
                "completed" if end else "active",
            )
        )
        if rng.random() < 0.6:
            self.rows.review.append((request_id, "employer", "{}", rng.choice((3.0, 3.5, 4.0, 4.5, 5.0, 5.0)), NOW))


def _clock(value: str):
    return datetime.strptime(value, "%H:%M").time()


def build(scale: int, seed: int, districts: list[str]) -> tuple[City, dict]:
    city = City(scale, seed, districts)
    rng = city.rng
    rows = city.rows
    n_training_inst, n_eval, n_housekeeping = 220 * scale, 30 * scale, 50 * scale
    institutions: list[tuple[int, str]] = []
    for kind, count in (("training", n_training_inst), ("evaluation", n_eval), ("housekeeping", n_housekeeping)):
        for _ in range(count):
            agency_id = city.next_id("agency")
            district = districts[agency_id % len(districts)]
            rows.agency.append((agency_id, f"{kind}-{agency_id}", kind, district, f"91BENCH{agency_id:011d}"))
            if kind == "training":
                institutions.append((agency_id, district))
    evaluators = [r[0] for r in rows.agency if r[2] == "evaluation"]
    for agency_id in evaluators:
        rows.registration.append(
            (agency_id, f"BA{agency_id:08d}", "active", date(2020, 1, 1), date(2030, 12, 31), list(OCCUPATIONS))
        )
    # Evaluators registered only for 保育师: their 家政服务员 certificates are out of scope.
    narrow = evaluators[:3]
    for r in range(len(rows.registration)):
        if rows.registration[r][0] in narrow:
            rows.registration[r] = rows.registration[r][:5] + (["4-10-01-03"],)
    broad = [e for e in evaluators if e not in narrow]
    ghosts = {institutions[i * 37 % len(institutions)][0] for i in range(5 * scale)}
    employer = 1

    # Natural trainings: 70,000 a city-year, one course at a time per person.
    target = 70_000 * scale
    natural: list[dict] = []
    while len(natural) < target:
        worker = city.person()
        started = date(2025, 12, 1) + timedelta(days=rng.randint(0, 300))
        first = city.training(worker, rng.choice(institutions), started=started)
        natural.append(first)
        if rng.random() < 0.15 and len(natural) < target:
            other = rng.choice([o for o in OCCUPATIONS if o != first["occupation"]])
            later = first["finished"] + timedelta(days=rng.randint(20, 120))
            if later < TODAY - timedelta(days=40):
                natural.append(city.training(worker, rng.choice(institutions), started=later, occupation=other))
    eligible = [t for t in natural if t["institution"] not in ghosts]
    # Certificates after the course; claims within two months.
    certified = rng.sample(eligible, 22_000 * scale)
    certificate_of: dict[int, tuple[int, date]] = {}
    for t in certified:
        issued = min(t["finished"] + timedelta(days=rng.randint(5, 60)), TODAY - timedelta(days=1))
        certificate_of[t["id"]] = (city.certificate(t, issued, issuer=rng.choice(broad)), issued)
    for t in natural:
        if rng.random() < 0.8:
            cert = certificate_of.get(t["id"])
            basis = cert[1] if cert else t["finished"]
            claimed = min(basis + timedelta(days=rng.randint(1, 60)), TODAY)
            city.claim(t, claimed, certificate=cert[0] if cert else None)
    # Placements: people after their (last) course.
    placed_people = rng.sample(sorted({t["worker"] for t in eligible}), 15_000 * scale)
    last_finish: dict[int, date] = {}
    for t in eligible:
        last_finish[t["worker"]] = max(last_finish.get(t["worker"], t["finished"]), t["finished"])
    for worker in placed_people:
        start = min(last_finish[worker] + timedelta(days=rng.randint(-20, 200)), TODAY)
        city.placement(worker, start, employer)

    planted = plant(city, institutions, broad, narrow, scale)
    for institution in sorted(ghosts):
        city.plant("ghost_trainees", f"a{institution}")
    budgets = over_budget(city, scale)
    return city, {"ghosts": len(ghosts), **planted, "budgets": budgets}


def plant(city: City, institutions: list, broad: list[int], narrow: list[int], scale: int) -> dict:
    rng = city.rng
    n = 30 * scale
    counts = {}

    def some_institution() -> tuple[int, str]:
        return rng.choice(institutions)

    def programme() -> str:
        return rng.choice(["nanyue_jiazheng", "yuecai_shifu", "other"])

    # Age: 57-59 (women) / 61-63 (men) / 15 when the course started.
    for i in range(n):
        started = date(2026, 3, 1) + timedelta(days=rng.randint(0, 150))
        female = i % 3 != 0
        age = 15 if i % 10 == 0 else (rng.randint(57, 59) if female else rng.randint(61, 63))
        worker = city.person(born=started.replace(year=started.year - age) - timedelta(days=30), female=female)
        t = city.training(worker, some_institution(), started=started, programme=programme())
        city.plant("age_out_of_range", f"t{t['id']}")
    counts["age_out_of_range"] = n
    # Repeat claims: the same course twice within a year, both claimed.
    for _ in range(n):
        worker = city.person()
        first = city.training(
            worker,
            some_institution(),
            started=date(2026, 1, 5) + timedelta(days=rng.randint(0, 60)),
            programme=programme(),
        )
        second = city.training(
            worker,
            some_institution(),
            started=first["finished"] + timedelta(days=rng.randint(30, 90)),
            occupation=first["occupation"],
            level=first["level"],
            course=first["course"],
            programme=first["programme"],
        )
        c1 = city.claim(first, first["finished"] + timedelta(days=10), certificate=None, status="paid")
        c2 = city.claim(second, min(second["finished"] + timedelta(days=10), TODAY), certificate=None, status="claimed")
        city.plant("repeat_claim", f"c{c1}-{c2}")
    counts["repeat_claim"] = n
    # Overlapping sessions at two institutions.
    for _ in range(n):
        worker = city.person()
        a, b = rng.sample(institutions, 2)
        started = date(2026, 4, 1) + timedelta(days=rng.randint(0, 120))
        t1 = city.training(worker, a, started=started, sessions=False, programme=programme())
        other = rng.choice([o for o in OCCUPATIONS if o != t1["occupation"]])
        t2 = city.training(worker, b, started=started, occupation=other, sessions=False, programme=programme())
        s1 = city.session(t1, started, "09:00", "12:00")
        s2 = city.session(t2, started, "10:00", "13:00")
        for k in range(1, 3):
            city.session(t1, started + timedelta(days=k), "09:00", "12:00")
            city.session(t2, started + timedelta(days=k), "14:00", "17:00")
        city.plant("overlapping_sessions", f"s{s1}-{s2}")
    counts["overlapping_sessions"] = n
    # Attendance after the certificate the course leads to (not claimed).
    for _ in range(n):
        worker = city.person()
        t = city.training(
            worker,
            some_institution(),
            started=date(2026, 2, 1) + timedelta(days=rng.randint(0, 150)),
            programme=programme(),
        )
        issued = t["started"] + timedelta(days=1)
        c = city.certificate(t, issued, issuer=rng.choice(broad))
        city.plant("attendance_after_certificate", f"t{t['id']}-c{c}")
    counts["attendance_after_certificate"] = n
    # Impossible attendance: after the course ended; fourteen hours in one day.
    for i in range(n):
        worker = city.person()
        t = city.training(
            worker,
            some_institution(),
            started=date(2026, 2, 1) + timedelta(days=rng.randint(0, 150)),
            programme=programme(),
            sessions=False,
        )
        if i % 2:
            city.session(t, t["started"], "09:00", "17:00")
            city.session(t, t["finished"] + timedelta(days=5), "09:00", "17:00")
            city.plant("impossible_attendance", f"t{t['id']}-outside")
        else:
            city.session(t, t["started"], "06:00", "13:00")
            city.session(t, t["started"], "13:00", "20:00")
            city.plant("impossible_attendance", f"w{worker}-{t['started'].isoformat()}")
    counts["impossible_attendance"] = n
    # Certificates from institutions not registered for the occupation.
    for _ in range(n):
        worker = city.person()
        t = city.training(
            worker,
            some_institution(),
            started=date(2026, 1, 10) + timedelta(days=rng.randint(0, 150)),
            occupation="4-10-01-06",
            programme=programme(),
        )
        c = city.certificate(t, t["finished"] + timedelta(days=10), issuer=rng.choice(narrow), status="pending")
        city.plant("certificate_out_of_scope", f"c{c}")
    counts["certificate_out_of_scope"] = n
    # A claimed course whose certificate came before it ended (no sessions after the certificate).
    for _ in range(n):
        worker = city.person()
        t = city.training(
            worker,
            some_institution(),
            started=date(2026, 1, 10) + timedelta(days=rng.randint(0, 150)),
            programme=programme(),
            sessions=False,
        )
        city.session(t, t["started"], "09:00", "17:00")
        issued = t["finished"] - timedelta(days=1)
        c = city.certificate(t, issued, issuer=rng.choice(broad))
        city.claim(t, t["finished"] + timedelta(days=7), certificate=c, status="claimed")
        city.plant("certificate_before_training_end", f"t{t['id']}-c{c}")
    counts["certificate_before_training_end"] = n
    # Claims more than twelve months after the certificate.
    for _ in range(n):
        worker = city.person()
        t = city.training(
            worker,
            some_institution(),
            started=date(2025, 1, 5) + timedelta(days=rng.randint(0, 120)),
            programme=programme(),
        )
        c = city.certificate(t, t["finished"] + timedelta(days=10), issuer=rng.choice(broad))
        claim = city.claim(t, date(2026, 10, 1) + timedelta(days=rng.randint(0, 50)), certificate=c, status="claimed")
        city.plant("late_claim", f"c{claim}")
    counts["late_claim"] = n
    # Probable duplicate people: a second ID number, a name one character off, the same birth date or phone.
    for i in range(n):
        born = date(1980, 1, 1) + timedelta(days=rng.randint(0, 365 * 15))
        surname = rng.choice(["欧阳", "司徒", "麦", "温", "莫"])
        given = rng.choice(GIVEN) + rng.choice(GIVEN)
        twin_given = given[0] + rng.choice([g for g in GIVEN if g != given[1]])
        same_phone = i % 2 == 1
        phone = f"186{city.ids['worker'] + 1:08d}"
        try:
            a = city.person(born=born, female=True, surname=surname, given=given, phone=phone)
            b = city.person(
                born=born if not same_phone else born + timedelta(days=400),
                female=True,
                surname=surname,
                given=twin_given,
                phone=phone if same_phone else None,
                check=False,
            )
        except ValueError:
            continue
        for worker in (a, b):
            city.training(
                worker,
                some_institution(),
                started=date(2026, 2, 1) + timedelta(days=rng.randint(0, 150)),
                programme=programme(),
            )
        city.plant("duplicate_person", f"w{a}-{b}")
    counts["duplicate_person"] = sum(1 for r, _ in city.rows.planted if r == "duplicate_person")
    # Phones shared by four trainees each.
    for i in range(max(1, n // 2)):
        phone = f"185{i:08d}"
        chars = rng.sample(GIVEN, 8)
        for k, surname in enumerate(("陈", "李", "黄", "张")):
            worker = city.person(surname=surname, given=chars[2 * k] + chars[2 * k + 1], phone=phone, check=False)
            city.training(
                worker,
                some_institution(),
                started=date(2026, 2, 1) + timedelta(days=rng.randint(0, 150)),
                programme=programme(),
            )
        city.plant("shared_phone", "p" + hashlib.md5(phone.encode()).hexdigest())
    counts["shared_phone"] = max(1, n // 2)
    return counts


def over_budget(city: City, scale: int) -> dict:
    """Budgets: generous for all programmes but 广东技工, whose budget ends 25 claims before its last."""
    by_programme: dict[str, int] = {}
    jigong = sorted(
        (c for c in city.rows.claim if c[4] == "guangdong_jigong" and c[8] != "refused" and c[9].year == 2026),
        key=lambda c: (c[10], c[0]),
    )
    for c in city.rows.claim:
        if c[9].year == 2026:
            by_programme[c[4]] = by_programme.get(c[4], 0) + c[6]
    over = 25 * scale
    budget = sum(c[6] for c in jigong[:-over])
    for c in jigong[-over:]:
        city.plant("over_budget", f"c{c[0]}")
    budgets = {p: total * 2 for p, total in by_programme.items()}
    budgets["guangdong_jigong"] = budget
    return budgets


COLUMNS = {
    "agency": ["id", "name", "kind", "district_code", "credit_code"],
    "evaluator_registration": ["agency", "registration_no", "status", "valid_from", "valid_until", "occupation_codes"],
    "worker": [
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
        "categories",
        "skills",
        "wage_min",
        "wage_max",
        "wage_unit",
        "created_at",
        "updated_at",
    ],
    "training": [
        "id",
        "worker",
        "programme_code",
        "programme_text",
        "training_type",
        "course",
        "occupation_code",
        "level",
        "institution",
        "hours",
        "started_on",
        "finished_on",
        "result",
        "status",
        "created_at",
    ],
    "training_session": ["id", "training", "on_date", "starts_at", "ends_at"],
    "certificate": [
        "id",
        "worker",
        "kind",
        "occupation_code",
        "occupation_name",
        "level",
        "certificate_no",
        "issuer",
        "issued_on",
        "status",
        "created_at",
    ],
    "job_request": [
        "id",
        "employer",
        "category",
        "skills",
        "district_code",
        "start_date",
        "budget_min",
        "budget_max",
        "budget_unit",
        "languages",
        "status",
        "created_at",
        "updated_at",
    ],
    "offer": ["id", "request", "worker", "made_by_user", "wage", "wage_unit", "status", "expires_at"],
    "placement": [
        "id",
        "offer",
        "request",
        "worker",
        "employer",
        "start_date",
        "end_date",
        "wage",
        "wage_unit",
        "status",
    ],
    "review": ["placement", "author_role", "ratings", "overall", "editable_until"],
    "subsidy_claim": [
        "id",
        "institution",
        "training",
        "worker",
        "programme_code",
        "certificate",
        "amount",
        "pricing",
        "status",
        "claimed_on",
        "claimed_at",
    ],
}


async def load(url: str, city: City, budgets: dict[str, int]) -> None:
    rows = city.rows
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO app_user (id, phone, password_hash, role, display_name) "
            "VALUES (1, '13700000000', 'x', 'employer', '林女士')"
        )
        await conn.execute("ALTER TABLE placement DROP CONSTRAINT placement_no_overlap")
        for table, records in (
            ("agency", rows.agency),
            ("evaluator_registration", rows.registration),
            ("worker", rows.worker),
            ("training", rows.training),
            ("training_session", rows.session),
            ("certificate", rows.certificate),
            ("job_request", rows.request),
            ("offer", rows.offer),
            ("placement", rows.placement),
            ("review", rows.review),
            ("subsidy_claim", rows.claim),
        ):
            started = time.perf_counter()
            await conn.copy_records_to_table(table, records=records, columns=COLUMNS[table])
            print(f"{table}: {len(records)} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        await conn.execute("""
            ALTER TABLE placement ADD CONSTRAINT placement_no_overlap EXCLUDE USING gist (
                worker WITH =, daterange(start_date, coalesce(end_date, 'infinity'::date), '[]') WITH &&
            ) WHERE (status = 'active')""")
        await conn.executemany(
            "INSERT INTO programme_budget (year, programme_code, amount) VALUES (2026, $1, $2)", list(budgets.items())
        )
        await conn.execute(
            "INSERT INTO subsidy_rule (name, base_amount, bonus_pct, bonus_occupations, valid_from) "
            "VALUES ('通用', 1000, 30, $1, '2020-01-01')",
            sorted(SHORTAGE),
        )
        await conn.execute("CREATE TABLE bench_planted (rule varchar(32), fingerprint varchar(128))")
        await conn.copy_records_to_table("bench_planted", records=rows.planted, columns=["rule", "fingerprint"])
        for table in (
            "agency",
            "worker",
            "training",
            "training_session",
            "certificate",
            "job_request",
            "offer",
            "placement",
            "subsidy_claim",
            "app_user",
        ):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def generate(url: str, *, scale: int, seed: int) -> dict:
    conn = await asyncpg.connect(url)
    try:
        if scale == 1:
            districts = QINGYUAN
        else:
            districts = [r["code"] for r in await conn.fetch("SELECT code FROM district ORDER BY code")]
    finally:
        await conn.close()
    started = time.perf_counter()
    city, info = build(scale, seed, districts)
    print(f"built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    await load(url, city, info.pop("budgets"))
    return {
        "trainings": len(city.rows.training),
        "sessions": len(city.rows.session),
        "certificates": len(city.rows.certificate),
        "placements": len(city.rows.placement),
        "claims": len(city.rows.claim),
        "institutions": len(city.rows.agency),
        "people": len(city.rows.worker),
        "planted": len(city.rows.planted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1, help="1 = a city-year, 10 = a province-year")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database", default="nanyue_bureau")
    args = parser.parse_args()
    settings = load_settings()

    async def run() -> None:
        url = await fresh_database(args.database, settings.database_url)
        print(json.dumps(await generate(url, scale=args.scale, seed=args.seed)))
        print(url)

    asyncio.run(run())


if __name__ == "__main__":
    main()
